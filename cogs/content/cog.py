"""The content cog: a calendar of value posts, topic queues, subscriptions and DMs.

Items and queues live in memory and are written through to the store. A job (one per
scheduled item or queue) wakes up at its trigger's fire time; ``run_job`` then records
every slot that came due, claims the one to post (committed before sending), posts it
with retries, and DMs it to the topic's subscribers when the item asks for that.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from apscheduler.triggers.base import BaseTrigger

from bot.context import CogContext
from bot.core.actions import Delivery, DirectMessage, Post
from bot.core.attachments import MEDIA_FILE, Attachment, media_suffix, safe_name
from bot.core.cog import Cog, EventHandler
from bot.core.commands import Command, CommandError, Invocation, Option, OptionKind, Reply
from bot.core.events import Event, TimeZoneChanged
from bot.core.text import ChannelLink, RichText, plain
from bot.i18n import Catalog
from cogs.content.rules import (
    DEFAULT_GRACE,
    ContentError,
    QueueEntry,
    check_text,
    check_topic,
    fire_times,
    next_in_rotation,
    parse_content_id,
    parse_flags,
    parse_schedule,
    plan_slots,
    retry_delays,
    upcoming,
)
from cogs.content.rules import build_trigger as trigger_for
from cogs.content.scheduler import APSchedulerDriver, JobDriver, TimerDriver, store_key
from storage.content import ContentStore, ItemRow, QueueRow
from storage.files import FileStore

log = logging.getLogger(__name__)

OWNERS_CHANNEL = "owners_channel"
#: Per-community settings (``content set KEY VALUE``) and their defaults.
SETTINGS = {
    "grace_minutes": int(DEFAULT_GRACE.total_seconds() // 60),  # late slots still posted
    "tries": 3,                  # attempts to post before the item is paused
    "retry_seconds": 2,          # first wait between attempts; doubles each time
    "dm_interval_ms": 250,       # pause between two direct messages
}
Owner = ItemRow | QueueRow


class ContentCog(Cog):
    name = "content"
    #: How long after start, on the system clock, before the first post (adapters connect;
    #: the outbox holds a post for a platform that has not connected yet in any case).
    startup_delay: ClassVar[timedelta] = timedelta(seconds=10)

    def __init__(self, ctx: CogContext) -> None:
        super().__init__(ctx)
        self.store = ContentStore(ctx.repository)
        self._items: dict[int, ItemRow] = {}
        self._queues: dict[int, QueueRow] = {}
        self._last_item = 0
        self._last_queue = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self._dm_gate = asyncio.Semaphore(1)
        self._running: set[asyncio.Task[None]] = set()
        self._driver: JobDriver | None = None
        self._files: FileStore | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        repo = self.ctx.repository
        self._files = FileStore.beside(repo.path)
        self._items = {i.id: i for i in await self.store.load_items()}
        self._queues = {q.id: q for q in await self.store.load_queues()}
        self._last_item, self._last_queue = await self.store.highest_ids()
        for job, slot in await self.store.skip_interrupted(self.ctx.clock.now()):
            log.warning("content %s: the bot stopped while posting its %s slot, which may or "
                        "may not have arrived; recorded as skipped (interrupted), not resent",
                        job, slot.isoformat())
        if self.ctx.timers.simulated or repo.path == ":memory:":
            self._driver = TimerDriver(self.ctx.timers, self.ctx.clock, self.run_job,
                                       self._trigger_of_job)
            delay = timedelta(0)
        else:
            self._driver = APSchedulerDriver(store_key(repo.path), repo.path, self)
            delay = self.startup_delay
        self._driver.start()
        active = {o.job for o in self._owners() if o.state == "active"}
        for job in self._driver.planned() - active:
            self._driver.unplan(job)
        for owner in self._owners():
            self._arm(owner)
        self.ctx.timers.call_at(self.ctx.clock.now() + delay, "content:catch-up",
                                self._catch_up)

    async def _catch_up(self) -> None:
        """Slots that came due while the bot was down: post within grace, else skip."""
        for owner in list(self._owners()):
            if owner.state == "active":
                await self.run_job(owner.job)
        if self._driver is not None:
            self._driver.resume()

    async def stop(self) -> None:
        self.ctx.timers.cancel("content:catch-up")
        if self._running:  # let a post being sent finish, so its slot is settled
            await asyncio.wait(set(self._running), timeout=10)
        if self._driver is not None:
            self._driver.shutdown()

    def _owners(self) -> list[Owner]:
        return [*self._items.values(), *self._queues.values()]

    def _owner(self, job: str) -> Owner | None:
        kind, _, number = job.partition(":")
        table: dict[int, ItemRow] | dict[int, QueueRow] = (
            self._items if kind == "item" else self._queues)
        return table.get(int(number)) if number.isdigit() else None

    def _trigger(self, owner: Owner) -> BaseTrigger | None:
        try:
            return trigger_for(owner.schedule, self.ctx.communities.timezone(owner.community))
        except (ContentError, ValueError):
            log.exception("content %s has a schedule I cannot read: %r", owner.job,
                          owner.schedule)
            return None

    def _trigger_of_job(self, job: str) -> BaseTrigger | None:
        owner = self._owner(job)
        return self._trigger(owner) if owner is not None and owner.state == "active" else None

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {TimeZoneChanged: self.on_time_zone}

    async def on_time_zone(self, event: TimeZoneChanged) -> None:
        """Schedules are local times: plan every one of the community's jobs again."""
        if self._driver is None:
            return
        for owner in self._owners():
            if owner.community == event.community:
                self._arm(owner)

    def _arm(self, owner: Owner) -> None:
        assert self._driver is not None
        trigger = self._trigger(owner) if owner.state == "active" else None
        if trigger is None:
            self._driver.unplan(owner.job)
        else:
            self._driver.plan(owner.job, trigger, self._grace(owner.community))

    def _setting(self, community: str, key: str) -> int:
        return int(self.ctx.communities.get(community, f"content.{key}", SETTINGS[key]))

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
        owner = self._owner(job)
        if owner is None or owner.state != "active":
            return
        trigger = self._trigger(owner)
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
        item = owner if isinstance(owner, ItemRow) else await self._pick(owner)
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
                    file=self._file_of(item), kind="content")
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

    async def _pick(self, queue: QueueRow) -> ItemRow | None:
        library = [i for i in self._items.values()
                   if i.community == queue.community and i.topic == queue.topic
                   and i.schedule == "queue" and i.state == "active"]
        counts = await self.store.rotation_counts(queue.job,
                                             [i.id for i in library])
        chosen = next_in_rotation([QueueEntry(i, n) for i, n in counts.items()])
        return self._items.get(chosen) if chosen is not None else None

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
                    file=self._file_of(item), kind="content"))
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
        self._set_state(owner, "paused", now, note=error)
        community = owner.community
        channel = self.ctx.communities.get(community, OWNERS_CHANNEL)
        if not channel:
            log.warning("content %s paused after failures (%s); no moderators' channel set",
                        owner.job, error)
            return
        tr = self._tr(community)
        await self.ctx.outbox.send(Post(
            community=community, channel=channel, kind="content_paused",
            text=tr.gettext(
                "I paused content {id} (topic {topic}): posting it in {channel} failed "
                "{tries} times ({error}). Fix the problem, then run /content resume {id}.",
                id=_label(owner), topic=owner.topic, tries=tries, error=error,
                channel=ChannelLink(owner.channel, owner.channel.partition(":")[2]))))

    def _set_state(self, owner: Owner, state: str, now: datetime, *, note: str = "") -> None:
        owner.state = state
        owner.note = note
        owner.updated_at = now
        if state == "active":
            owner.since = now  # slots missed while paused are not posted late
        self._save(owner)
        self._arm(owner)

    def _save(self, owner: Owner) -> None:
        if isinstance(owner, ItemRow):
            self.store.save_item(owner)
        else:
            self.store.save_queue(owner)

    # -- commands ----------------------------------------------------------------------
    def commands(self) -> Sequence[Command]:
        ident = Option("id", OptionKind.TEXT, "An item id (7) or a queue id (q2)")
        topic = Option("topic", OptionKind.TEXT, "A topic tag, one word")
        schedule = Option("schedule", OptionKind.TEXT,
                          "In quotes: \"once 2026-12-01 10:00\", \"every 3 days 10:00\", "
                          "\"every 2 weeks tue 10:00\", \"cron 0 10 * * TUE\" or \"queue\"")
        return [
            Command(("content", "add"), "Schedule a post (text may start with --dm or "
                    "--stage STAGE; attach an image or a PDF to post it too)", self.cmd_add,
                    (topic, schedule, Option("text", OptionKind.TEXT, "What to post"),
                     Option("file", OptionKind.FILE, "An image or a PDF posted with the text",
                            required=False, accepts=MEDIA_FILE)),
                    moderator=True),
            Command(("content", "queue"), "Post a topic's queued items in rotation",
                    self.cmd_queue, (topic, schedule), moderator=True),
            Command(("content", "list"), "The content calendar", self.cmd_list,
                    moderator=True),
            Command(("content", "show"), "One item or queue in detail", self.cmd_show,
                    (ident,), moderator=True),
            Command(("content", "edit"), "Change an item's text", self.cmd_edit,
                    (ident, Option("text", OptionKind.TEXT, "The new text")), moderator=True),
            Command(("content", "reschedule"), "Give an item or queue a new schedule",
                    self.cmd_reschedule, (ident, schedule), moderator=True),
            Command(("content", "move"), "Post an item or queue in this channel from now on",
                    self.cmd_move, (ident,), moderator=True),
            Command(("content", "pause"), "Stop posting an item or queue for now",
                    self.cmd_pause, (ident,), moderator=True),
            Command(("content", "resume"), "Post a paused item or queue again",
                    self.cmd_resume, (ident,), moderator=True),
            Command(("content", "remove"), "Delete an item or queue from the calendar",
                    self.cmd_remove, (ident,), moderator=True),
            Command(("content", "preview"), "See an item as members will (only you)",
                    self.cmd_preview, (ident,), moderator=True),
            Command(("content", "next"), "The coming posts, in local time", self.cmd_next,
                    moderator=True),
            Command(("content", "set"), "Content settings: " + ", ".join(SETTINGS),
                    self.cmd_set, (Option("key", OptionKind.CHOICE, "Which setting",
                                          choices=tuple(SETTINGS)),
                                   Option("value", OptionKind.INTEGER, "The new value",
                                          minimum=0, maximum=100_000)),
                    moderator=True),
            Command(("subscribe",), "Get a topic's direct posts by DM", self.cmd_subscribe,
                    (topic,)),
            Command(("unsubscribe",), "Stop a topic's DMs", self.cmd_unsubscribe, (topic,)),
            Command(("subscriptions",), "Your topics", self.cmd_subscriptions),
            Command(("dm", "stop"), "Never get a direct message from the bot",
                    self.cmd_dm_stop),
            Command(("dm", "start"), "Allow direct messages from the bot again",
                    self.cmd_dm_start),
        ]

    def _tr(self, community: str) -> Catalog:
        return self.ctx.communities.catalog(community)

    def _fail(self, community: str, exc: ContentError) -> CommandError:
        return CommandError(self._tr(community).gettext(exc.message, **exc.values))

    def _local(self, community: str, moment: datetime) -> str:
        return moment.astimezone(self.ctx.communities.timezone(community)).strftime(
            "%Y-%m-%d %H:%M %a")

    def _next_time(self, owner: Owner, now: datetime) -> datetime | None:
        trigger = self._trigger(owner) if owner.state == "active" else None
        times = upcoming(trigger, now, 1) if trigger is not None else []
        return times[0] if times else None

    async def cmd_add(self, inv: Invocation) -> Reply:
        community, tr = inv.community, self._tr(inv.community)
        try:
            topic = check_topic(str(inv.args["topic"]))
            flags = parse_flags(str(inv.args["text"]))
            body = check_text(flags.body, community)
            schedule = parse_schedule(str(inv.args["schedule"]),
                                      self.ctx.communities.timezone(community), inv.at)
        except ContentError as exc:
            raise self._fail(community, exc) from None
        upload: Attachment | None = inv.args.get("file")
        stored = await self._keep(upload) if upload is not None else None
        self._last_item += 1
        item = ItemRow(
            id=self._last_item, community=community, topic=topic, body=body,
            file=stored,
            channel=inv.channel, direct=flags.direct, stage=flags.stage,
            schedule=schedule.spec, since=inv.at, state="active", note="",
            created_by=inv.invoker.id, created_at=inv.at, updated_at=inv.at)
        self._items[item.id] = item
        self._save(item)
        self._arm(item)
        if schedule.kind == "library":
            queue = self._queue_for(community, topic)
            if queue is None:
                return Reply(tr.gettext(
                    "Added item {id} to the “{topic}” queue. No queue posts this topic yet: "
                    "start one with /content queue {topic} \"every 1 weeks mon 10:00\".",
                    id=item.id, topic=topic))
            return Reply(tr.gettext("Added item {id} to the “{topic}” queue ({queue}).",
                                    id=item.id, topic=topic, queue=_label(queue)))
        when = self._next_time(item, inv.at)
        return Reply(tr.gettext("Scheduled item {id} ({topic}): {schedule}. First post: {when}.",
                                id=item.id, topic=topic, schedule=schedule.spec,
                                when=self._local(community, when) if when else "—"))

    async def _keep(self, upload: Attachment) -> str:
        """Keep an attached file's bytes in the bot's own folder; the item stores its name.
        The stored name ends as the bytes say (a PDF named .png is kept as .pdf)."""
        assert self._files is not None
        suffix = media_suffix(upload.data) or ""
        return await self._files.keep(upload.data, Path(safe_name(upload.name)).stem + suffix)

    def _file_of(self, item: ItemRow) -> Path | None:
        """The item's kept file; an item whose file is gone posts its text alone."""
        if not item.file:
            return None
        assert self._files is not None
        path = self._files.path(item.file)
        if path is None:
            log.warning("content %s: its file %r is not in %s any more; posting the text "
                        "alone", item.id, item.file, self._files.folder)
        return path

    def _queue_for(self, community: str, topic: str, *, removed: bool = False
                   ) -> QueueRow | None:
        return next((q for q in self._queues.values()
                     if q.community == community and q.topic == topic
                     and (removed or q.state != "removed")), None)

    async def cmd_queue(self, inv: Invocation) -> Reply:
        community, tr = inv.community, self._tr(inv.community)
        try:
            topic = check_topic(str(inv.args["topic"]))
            schedule = parse_schedule(str(inv.args["schedule"]),
                                      self.ctx.communities.timezone(community), inv.at)
        except ContentError as exc:
            raise self._fail(community, exc) from None
        if not schedule.recurring:
            raise CommandError(tr.gettext(
                "A queue needs a recurring schedule (every … or cron …), not “{schedule}”.",
                schedule=str(inv.args["schedule"])))
        queue = self._queue_for(community, topic, removed=True)
        if queue is None:
            self._last_queue += 1
            queue = QueueRow(id=self._last_queue, community=community, topic=topic,
                             schedule=schedule.spec, channel=inv.channel, since=inv.at,
                             state="active", note="", created_by=inv.invoker.id,
                             created_at=inv.at, updated_at=inv.at)
            self._queues[queue.id] = queue
        else:
            queue.schedule, queue.channel, queue.since = schedule.spec, inv.channel, inv.at
            queue.state, queue.note, queue.updated_at = "active", "", inv.at
        self._save(queue)
        self._arm(queue)
        waiting = sum(1 for i in self._items.values() if i.community == community
                      and i.topic == topic and i.schedule == "queue" and i.state == "active")
        when = self._next_time(queue, inv.at)
        return Reply(tr.gettext(
            "Queue {id} posts the next “{topic}” item {schedule}; {count} items wait in it. "
            "First post: {when}.", id=_label(queue), topic=topic, schedule=schedule.spec,
            count=waiting, when=self._local(community, when) if when else "—"))

    def _find(self, inv: Invocation) -> Owner:
        community = inv.community
        try:
            kind, number = parse_content_id(str(inv.args["id"]))
        except ContentError as exc:
            raise self._fail(community, exc) from None
        table: dict[int, ItemRow] | dict[int, QueueRow] = (
            self._items if kind == "item" else self._queues)
        owner = table.get(number)
        if owner is None or owner.community != community or owner.state == "removed":
            raise CommandError(self._tr(community).gettext(
                "There is no content {id} here; /content list shows the ids.",
                id=str(inv.args["id"])))
        return owner

    def _describe(self, owner: Owner, now: datetime) -> RichText:
        tr = self._tr(owner.community)
        state = {"active": tr.phrase("active"), "paused": tr.phrase("paused")}.get(owner.state,
                                                                              owner.state)
        when = self._next_time(owner, now)
        if isinstance(owner, ItemRow):
            return tr.gettext("{id} · {topic} · {schedule} · {state} · next {when} · {text}",
                              id=owner.id, topic=owner.topic, schedule=owner.schedule,
                              state=state, text=_excerpt(owner.body),
                              when=self._local(owner.community, when) if when else "—")
        return tr.gettext("{id} · queue of {topic} · {schedule} · {state} · next {when}",
                          id=_label(owner), topic=owner.topic, schedule=owner.schedule,
                          state=state,
                          when=self._local(owner.community, when) if when else "—")

    async def cmd_list(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        owners = [o for o in self._owners()
                  if o.community == inv.community and o.state != "removed"]
        if not owners:
            return Reply(tr.gettext("The content calendar is empty; add a post with "
                                    "/content add."), private=True)
        text = tr.gettext("Content calendar:")
        for owner in owners:
            text = text + plain("\n") + self._describe(owner, inv.at)
        return Reply(text, private=True)

    async def cmd_show(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        tr = self._tr(inv.community)
        text = self._describe(owner, inv.at)
        if isinstance(owner, ItemRow):
            text = text + tr.gettext(
                "\nDirect to subscribers: {direct}. Stage: {stage}. Channel: {channel}.",
                direct=tr.phrase("yes") if owner.direct else tr.phrase("no"),
                stage=owner.stage or "—",
                channel=ChannelLink(owner.channel, owner.channel.partition(":")[2]))
            history = await self.store.item_slots(owner.id, limit=5)
        else:
            history = await self.store.slots(owner.job, limit=5)
        if owner.note:
            text = text + tr.gettext("\nPaused because: {note}", note=owner.note)
        for row in history:
            text = text + tr.gettext("\n{when}: {status} {reason}", status=row.status,
                                     when=self._local(owner.community, row.slot),
                                     reason=row.reason)
        return Reply(text, private=True)

    async def cmd_edit(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        tr = self._tr(inv.community)
        if not isinstance(owner, ItemRow):
            raise CommandError(tr.gettext("A queue has no text of its own; edit its items."))
        try:
            body = check_text(str(inv.args["text"]), inv.community)
        except ContentError as exc:
            raise self._fail(inv.community, exc) from None
        owner.body, owner.updated_at = body, inv.at
        self._save(owner)
        return Reply(tr.gettext("Item {id} now reads: {text}", id=owner.id,
                                text=_excerpt(body)), private=True)

    async def cmd_reschedule(self, inv: Invocation) -> Reply:
        """A new time without removing the item (which would lose its engagement record)."""
        owner = self._find(inv)
        community, tr = inv.community, self._tr(inv.community)
        try:
            schedule = parse_schedule(str(inv.args["schedule"]),
                                      self.ctx.communities.timezone(community), inv.at)
        except ContentError as exc:
            raise self._fail(community, exc) from None
        if isinstance(owner, QueueRow) and not schedule.recurring:
            raise CommandError(tr.gettext(
                "A queue needs a recurring schedule (every … or cron …), not “{schedule}”.",
                schedule=str(inv.args["schedule"])))
        if isinstance(owner, ItemRow) and (schedule.kind == "library") != (
                owner.schedule == "queue"):
            raise CommandError(tr.gettext(
                "Item {id} cannot move into or out of its topic's queue; add it again "
                "instead.", id=owner.id))
        # since = now: the new schedule's earlier slots are not posted late
        owner.schedule, owner.since, owner.updated_at = schedule.spec, inv.at, inv.at
        self._save(owner)
        self._arm(owner)
        when = self._next_time(owner, inv.at)
        return Reply(tr.gettext("Content {id} now follows {schedule}. Next post: {when}.",
                                id=_label(owner), schedule=schedule.spec,
                                when=self._local(community, when) if when else "—"))

    async def cmd_move(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        owner.channel, owner.updated_at = inv.channel, inv.at
        self._save(owner)
        return Reply(self._tr(inv.community).gettext(
            "Content {id} will be posted in this channel from now on.", id=_label(owner)))

    async def cmd_pause(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        self._set_state(owner, "paused", inv.at, note=self._tr(inv.community).phrase(
            "paused by a moderator"))
        return Reply(self._tr(inv.community).gettext(
            "Content {id} is paused; /content resume {id} starts it again.", id=_label(owner)))

    async def cmd_resume(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        self._set_state(owner, "active", inv.at)
        when = self._next_time(owner, inv.at)
        tr = self._tr(inv.community)
        if when is None and owner.schedule != "queue":
            return Reply(tr.gettext("Content {id} is active again, but its schedule has no "
                                    "future post.", id=_label(owner)))
        return Reply(tr.gettext("Content {id} is active again. Next post: {when}.",
                                id=_label(owner),
                                when=self._local(inv.community, when) if when else "—"))

    async def cmd_remove(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        self._set_state(owner, "removed", inv.at)
        if isinstance(owner, ItemRow):
            del self._items[owner.id]
        return Reply(self._tr(inv.community).gettext("Content {id} was removed.",
                                                     id=_label(owner)))

    async def cmd_preview(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        tr = self._tr(inv.community)
        if not isinstance(owner, ItemRow):
            item = await self._pick(owner)
            if item is None:
                raise CommandError(tr.gettext("The queue {id} has no items yet.",
                                              id=_label(owner)))
            owner = item
        return Reply(plain(owner.body), private=True, file=self._file_of(owner))

    async def cmd_next(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        coming: list[tuple[datetime, Owner]] = []
        for owner in self._owners():
            if owner.community != inv.community or owner.state != "active":
                continue
            trigger = self._trigger(owner)
            if trigger is not None:
                coming.extend((when, owner) for when in upcoming(trigger, inv.at, 5))
        coming.sort(key=lambda pair: (pair[0], pair[1].job))
        if not coming:
            return Reply(tr.gettext("Nothing is scheduled."), private=True)
        text = tr.gettext("Coming posts ({zone}):",
                          zone=self.ctx.communities.timezone(inv.community).key)
        for when, owner in coming[:10]:
            what = (_excerpt(owner.body, 40) if isinstance(owner, ItemRow)
                    else tr.phrase("next in the queue"))
            text = text + tr.gettext("\n{when} · {id} · {topic} · {what}",
                                     when=self._local(inv.community, when), id=_label(owner),
                                     topic=owner.topic, what=what)
        return Reply(text, private=True)

    async def cmd_set(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        key, value = str(inv.args["key"]), int(inv.args["value"])
        low = 1 if key in ("tries", "grace_minutes") else 0
        if not low <= value <= 100_000:
            raise CommandError(tr.gettext("{key} must be between {low} and 100000.", key=key,
                                          low=low))
        self.ctx.communities.set(inv.community, f"content.{key}", value)
        if key == "grace_minutes":
            for owner in self._owners():
                if owner.community == inv.community:
                    self._arm(owner)
        return Reply(tr.gettext("{key} is now {value}.", key=key, value=value))

    # -- member commands ---------------------------------------------------------------
    def _topic(self, inv: Invocation) -> str:
        try:
            return check_topic(str(inv.args["topic"]))
        except ContentError as exc:
            raise self._fail(inv.community, exc) from None

    async def cmd_subscribe(self, inv: Invocation) -> Reply:
        topic = self._topic(inv)
        tr = self._tr(inv.community)
        self.store.set_subscription(inv.community, inv.invoker.id, topic,
                               True, inv.at)
        text = tr.gettext("You are subscribed to {topic}: its direct posts will come to you "
                          "by DM. /unsubscribe {topic} stops them.", topic=topic)
        if await self.store.dm_stopped(inv.community, inv.invoker.id):
            text = text + tr.gettext(" You have stopped all DMs, so none will come until "
                                     "you run /dm start.")
        return Reply(text, private=True)

    async def cmd_unsubscribe(self, inv: Invocation) -> Reply:
        topic = self._topic(inv)
        self.store.set_subscription(inv.community, inv.invoker.id, topic,
                               False, inv.at)
        return Reply(self._tr(inv.community).gettext(
            "You will get no more DMs about {topic}.", topic=topic), private=True)

    async def cmd_subscriptions(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        topics = await self.store.subscriptions(inv.community, inv.invoker.id)
        offered = sorted({i.topic for i in self._items.values()
                          if i.community == inv.community and i.state != "removed"})
        if topics:
            text = tr.gettext("Your topics: {topics}.", topics=", ".join(topics))
        else:
            text = tr.gettext("You are not subscribed to any topic.")
        if offered:
            text = text + tr.gettext(" Topics here: {topics}.", topics=", ".join(offered))
        if await self.store.dm_stopped(inv.community, inv.invoker.id):
            text = text + tr.gettext(" All DMs are stopped (/dm start allows them again).")
        return Reply(text, private=True)

    async def cmd_dm_stop(self, inv: Invocation) -> Reply:
        self.store.set_dm_stopped(inv.community, inv.invoker.id, True, inv.at)
        await self.ctx.repository.flush()
        return Reply(self._tr(inv.community).gettext(
            "I will not send you direct messages any more. /dm start allows them again."),
            private=True)

    async def cmd_dm_start(self, inv: Invocation) -> Reply:
        self.store.set_dm_stopped(inv.community, inv.invoker.id, False,
                             inv.at)
        return Reply(self._tr(inv.community).gettext(
            "Direct messages are allowed again: you get the topics you subscribed to."),
            private=True)


def _label(owner: Owner) -> str:
    return str(owner.id) if isinstance(owner, ItemRow) else f"q{owner.id}"


def _excerpt(text: str, size: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"

