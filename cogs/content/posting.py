"""The content calendar's scheduling: items and queues, one job each, and the posting.

Items and queues live in memory and are written through to the store. A job (one per
scheduled item or queue) wakes up at its trigger's fire time; ``run_job`` then records
every slot that came due, claims the one to post (committed before sending), posts it
with retries, and DMs it to the topic's subscribers when the item asks for that.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.triggers.base import BaseTrigger

from bot.context import CogContext
from bot.core.actions import Delivery, DirectMessage, Post
from bot.core.attachments import Attachment, media_suffix, safe_name
from bot.core.settings import CommunitySettings
from bot.core.text import ChannelLink, plain
from cogs.content.rules import (
    ContentError,
    QueueEntry,
    fire_times,
    next_in_rotation,
    plan_slots,
    retry_delays,
    upcoming,
)
from cogs.content.rules import build_trigger as trigger_for
from cogs.content.scheduler import (
    APSchedulerDriver,
    JobDriver,
    TimerDriver,
    job_table,
    store_key,
)
from storage.content import ContentStore, ItemRow, QueueRow
from storage.files import FileStore

log = logging.getLogger(__name__)

OWNERS_CHANNEL = "owners_channel"
Owner = ItemRow | QueueRow


def label(owner: Owner) -> str:
    """How moderators name an item (7) or a queue (q2)."""
    return str(owner.id) if isinstance(owner, ItemRow) else f"q{owner.id}"


class Calendar:
    """The scheduling half of the content cog (its commands are in ``commands.py``)."""

    def __init__(self, ctx: CogContext, settings: CommunitySettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.store = ContentStore(ctx.repository)
        self.items: dict[int, ItemRow] = {}
        self.queues: dict[int, QueueRow] = {}
        self.last_item = 0
        self.last_queue = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self._dm_gate = asyncio.Semaphore(1)
        self._running: set[asyncio.Task[None]] = set()
        self._driver: JobDriver | None = None
        self.files: FileStore | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self, startup_delay: timedelta) -> None:
        repo = self.ctx.repository
        self.files = FileStore.beside(repo.path)
        self.items = {i.id: i for i in await self.store.load_items()}
        self.queues = {q.id: q for q in await self.store.load_queues()}
        self.last_item, self.last_queue = await self.store.highest_ids()
        for job, slot in await self.store.skip_interrupted(self.ctx.clock.now(),
                                                           self.ctx.communities.owns):
            log.warning("content %s: the bot stopped while posting its %s slot, which may or "
                        "may not have arrived; recorded as skipped (interrupted), not resent",
                        job, slot.isoformat())
        if self.ctx.timers.simulated or repo.path == ":memory:":
            self._driver = TimerDriver(self.ctx.timers, self.ctx.clock, self.run_job,
                                       self._trigger_of_job)
            delay = timedelta(0)
        else:
            self._driver = APSchedulerDriver(store_key(repo.path), repo.path, self,
                                             job_table(self.ctx.communities.ownership))
            delay = startup_delay
        self._driver.start()
        active = {o.job for o in self.owners() if o.state == "active"}
        for job in self._driver.planned() - active:
            self._driver.unplan(job)
        for owner in self.owners():
            self.arm(owner)
        self.ctx.timers.call_at(self.ctx.clock.now() + delay, "content:catch-up",
                                self._catch_up)

    async def _catch_up(self) -> None:
        """Slots that came due while the bot was down: post within grace, else skip."""
        for owner in list(self.owners()):
            if owner.state == "active" and self.ctx.communities.owns(owner.community):
                await self.run_job(owner.job)
        if self._driver is not None:
            self._driver.resume()

    async def stop(self) -> None:
        self.ctx.timers.cancel("content:catch-up")
        if self._running:  # let a post being sent finish, so its slot is settled
            await asyncio.wait(set(self._running), timeout=10)
        if self._driver is not None:
            self._driver.shutdown()

    def owners(self) -> list[Owner]:
        return [*self.items.values(), *self.queues.values()]

    def owner(self, job: str) -> Owner | None:
        kind, _, number = job.partition(":")
        table: dict[int, ItemRow] | dict[int, QueueRow] = (
            self.items if kind == "item" else self.queues)
        return table.get(int(number)) if number.isdigit() else None

    def trigger(self, owner: Owner) -> BaseTrigger | None:
        try:
            return trigger_for(owner.schedule, self.ctx.communities.timezone(owner.community))
        except (ContentError, ValueError):
            log.exception("content %s has a schedule I cannot read: %r", owner.job,
                          owner.schedule)
            return None

    def _trigger_of_job(self, job: str) -> BaseTrigger | None:
        owner = self.owner(job)
        return self.trigger(owner) if owner is not None and owner.state == "active" else None

    def rearm(self, community: str) -> None:
        """Plan every job of the community again (its time zone or grace changed)."""
        if self._driver is None:
            return  # not started: every job is planned at start
        for owner in self.owners():
            if owner.community == community:
                self.arm(owner)

    def arm(self, owner: Owner) -> None:
        assert self._driver is not None
        # another process posts the content of the communities it owns
        served = owner.state == "active" and self.ctx.communities.owns(owner.community)
        trigger = self.trigger(owner) if served else None
        if trigger is None:
            self._driver.unplan(owner.job)
        else:
            self._driver.plan(owner.job, trigger, self._grace(owner.community))

    def _setting(self, community: str, key: str) -> int:
        return int(self.settings.get(community, key))

    def _grace(self, community: str) -> timedelta:
        return timedelta(minutes=self._setting(community, "grace_minutes"))

    # -- posting -----------------------------------------------------------------------
    async def run_job(self, job: str) -> None:
        """Record every slot of ``job`` that came due and post the one within grace."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self._locks.setdefault(job, asyncio.Lock()):
                await self._run_job(job)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _run_job(self, job: str) -> None:
        owner = self.owner(job)
        if (owner is None or owner.state != "active"
                or not self.ctx.communities.owns(owner.community)):
            return
        trigger = self.trigger(owner)
        if trigger is None:
            return
        repo = self.ctx.repository
        now = self.ctx.clock.now()
        last = await self.store.last_slot(job)
        after = max(owner.since, last) if last is not None else owner.since
        due = fire_times(trigger, after, now)
        for decision in plan_slots(due, now, self._grace(owner.community)):
            if decision.send:
                await self._post_slot(owner, decision.slot)
            else:
                self.store.record_skipped(
                    job=job, slot=decision.slot, community=owner.community,
                    item=owner.id if isinstance(owner, ItemRow) else None,
                    topic=owner.topic, reason=decision.reason, at=now)
        await repo.flush()

    async def _post_slot(self, owner: Owner, slot: datetime) -> None:
        if not await self.ctx.outbox.until_connected(owner.community):
            return  # stopping before the platform connected: unclaimed, so posted next start
        now = self.ctx.clock.now()
        item = owner if isinstance(owner, ItemRow) else await self.pick(owner)
        if item is None:
            self.store.record_skipped(job=owner.job, slot=slot, community=owner.community,
                                 item=None, topic=owner.topic, reason="empty", at=now)
            return
        claim = uuid.uuid4().hex
        won = await self.store.claim_slot(
            job=owner.job, slot=slot, community=owner.community, item=item.id,
            topic=item.topic, channel=owner.channel, claim=claim, at=now)
        if not won:
            return  # posted (or being posted) already: at most once per slot
        post = Post(community=owner.community, channel=owner.channel, text=plain(item.body),
                    file=self.file_of(item), kind="content")
        tries = max(self._setting(owner.community, "tries"), 1)
        delivery = await self._send_with_retries(post, tries)
        if not delivery.ok:
            error = delivery.error or "unknown error"
            self.store.finish_slot(job=owner.job, slot=slot, claim=claim, status="failed",
                              reason=error, at=self.ctx.clock.now())
            await self._pause_after_failure(owner, error, tries)
            return
        direct = await self._send_direct(item) if item.direct else 0
        self.store.finish_slot(job=owner.job, slot=slot, claim=claim, status="sent",
                          message=delivery.message, direct_sent=direct,
                          at=self.ctx.clock.now())

    async def pick(self, queue: QueueRow) -> ItemRow | None:
        library = [i for i in self.items.values()
                   if i.community == queue.community and i.topic == queue.topic
                   and i.schedule == "queue" and i.state == "active"]
        counts = await self.store.rotation_counts(queue.job,
                                             [i.id for i in library])
        chosen = next_in_rotation([QueueEntry(i, n) for i, n in counts.items()])
        return self.items.get(chosen) if chosen is not None else None

    async def _send_with_retries(self, action: Post, tries: int) -> Delivery:
        base = self._setting(action.community, "retry_seconds")
        delivery = await self.ctx.outbox.send(action)
        for delay in retry_delays(tries, base):
            if delivery.ok:
                break
            log.warning("posting content to %s failed (%s); retrying in %ss", action.channel,
                        delivery.error, delay)
            await asyncio.sleep(delay)
            delivery = await self.ctx.outbox.send(action)
        return delivery

    async def _send_direct(self, item: ItemRow) -> int:
        """DM the item to its topic's subscribers who accept DMs; one at a time, spaced."""
        members = await self.store.direct_recipients(item.community,
                                                item.topic, item.stage)
        interval = self._setting(item.community, "dm_interval_ms") / 1000
        sent = 0
        for member in members:
            async with self._dm_gate:
                delivery = await self.ctx.outbox.send(DirectMessage(
                    community=item.community, member=member, text=plain(item.body),
                    file=self.file_of(item), kind="content"))
                if delivery.ok:
                    sent += 1
                else:
                    log.info("DM of content %s to %s failed: %s", item.id, member,
                             delivery.error)
                if interval:
                    await asyncio.sleep(interval)
        return sent

    async def _pause_after_failure(self, owner: Owner, error: str, tries: int) -> None:
        now = self.ctx.clock.now()
        self.set_state(owner, "paused", now, note=error)
        community = owner.community
        channel = self.ctx.communities.get(community, OWNERS_CHANNEL)
        if not channel:
            log.warning("content %s paused after failures (%s); no moderators' channel set",
                        owner.job, error)
            return
        tr = self.ctx.communities.catalog(community)
        await self.ctx.outbox.send(Post(
            community=community, channel=channel, kind="content_paused",
            text=tr.gettext(
                "I paused content {id} (topic {topic}): posting it in {channel} failed "
                "{tries} times ({error}). Fix the problem, then run /content resume {id}.",
                id=label(owner), topic=owner.topic, tries=tries, error=error,
                channel=ChannelLink(owner.channel, owner.channel.partition(":")[2]))))

    def set_state(self, owner: Owner, state: str, now: datetime, *, note: str = "") -> None:
        owner.state = state
        owner.note = note
        owner.updated_at = now
        if state == "active":
            owner.since = now  # slots missed while paused are not posted late
        self.save(owner)
        self.arm(owner)

    def save(self, owner: Owner) -> None:
        if isinstance(owner, ItemRow):
            self.store.save_item(owner)
        else:
            self.store.save_queue(owner)

    def next_time(self, owner: Owner, now: datetime) -> datetime | None:
        trigger = self.trigger(owner) if owner.state == "active" else None
        times = upcoming(trigger, now, 1) if trigger is not None else []
        return times[0] if times else None

    async def keep(self, upload: Attachment) -> str:
        """Keep an attached file's bytes in the bot's own folder; the item stores its name.
        The stored name ends as the bytes say (a PDF named .png is kept as .pdf)."""
        assert self.files is not None
        suffix = media_suffix(upload.data) or ""
        return await self.files.keep(upload.data, Path(safe_name(upload.name)).stem + suffix)

    def file_of(self, item: ItemRow) -> Path | None:
        """The item's kept file; an item whose file is gone posts its text alone."""
        if not item.file:
            return None
        assert self.files is not None
        path = self.files.path(item.file)
        if path is None:
            log.warning("content %s: its file %r is not in %s any more; posting the text "
                        "alone", item.id, item.file, self.files.folder)
        return path

    def queue_for(self, community: str, topic: str, *, removed: bool = False
                   ) -> QueueRow | None:
        return next((q for q in self.queues.values()
                     if q.community == community and q.topic == topic
                     and (removed or q.state != "removed")), None)

