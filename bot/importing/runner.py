"""Feeding an export's records through the real runtime: same bus, same cogs, simulated
clock, nothing posted, one transaction per batch.

* **As if the bot had been there.** Every event goes through the bus to the cogs that
  derive facts from history (engagement, journey, welcome); the clock is set to each
  event's time and every timer fires at its own due time, as in a replay. The summary and
  content cogs are left out: they only post on their own schedules (the weekly summaries
  of imported weeks are read from the store by ``tribebot report``).
* **Nothing posted.** A muted sender stands in for every platform: it counts what would
  have been sent and sends nothing. At the end, what the history left waiting (a welcome
  burst, a welcome to delete, a newcomer's first message no alert went out for yet) is
  settled in the store, so the live bot never posts about the past.
* **Batches, resumable.** Records are taken in batches; the store is asked once per batch
  which facts it holds already (those are left out: a re-import adds nothing), the rest is
  published, handled and committed in one transaction, while the next batch is read. A
  mark in the store says up to when everything is committed whole: after a stop, a broken
  file or a killed process, the same command skips what is stored before the mark and
  publishes what comes after it again (the store's unique keys count nothing twice).
* **Fast enough.** The bus is not drained after every event (that costs the cogs a task
  switch per event): only before a due timer, around joins (whose welcome timers must
  exist before later events), and at least every ``first_response_hours`` of history, so
  a timer that a message arms is always armed before the clock passes its due time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.communities import Communities
from bot.config import Settings
from bot.core.actions import Action, Delivery, Post
from bot.core.clock import SimulatedClock
from bot.core.cog import Cog
from bot.core.events import (
    CommunityJoined,
    Event,
    InviteUsed,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
    ReactionsCounted,
)
from bot.core.history import ImportProblem, Record, Timeline
from bot.core.ids import PLATFORMS
from bot.importing.sources import Source
from bot.runtime import Runtime
from storage import open_repository
from storage.feature import epoch, from_epoch
from storage.importing import ImportStore
from storage.welcome import WelcomeStore

#: Events per batch: one store query per kind and one transaction each.
BATCH = 5_000
#: Records read between two turns of the event loop (the writer needs them to go on).
YIELD_EVERY = 200
#: Message ids a muted "post" gets back (a welcome post to delete later is recognised by it).
MUTED_POST = ":imported-post:"
#: A welcome burst is posted at most this long after its first newcomer (burst_seconds).
BURST_LIMIT = timedelta(hours=1)
#: The community setting that says an import was cut short, and from when (epoch seconds)
#: its events may be half in the store.
UNFINISHED = "import.unfinished_after"
#: Positions kept per reason, to name a few in the report.
EXAMPLES = 3



def import_cogs() -> list[type[Cog]]:
    """The cogs an import runs: the runtime's, in its order, but for the summary and content
    cogs, which only post on schedules of their own (and would load matplotlib and
    APScheduler for nothing: 65 MB)."""
    from cogs.engagement.cog import EngagementCog
    from cogs.journey.cog import JourneyCog
    from cogs.moderation.cog import ModerationCog
    from cogs.privacy.cog import PrivacyCog
    from cogs.welcome.cog import WelcomeCog

    return [ModerationCog, EngagementCog, JourneyCog, WelcomeCog, PrivacyCog]


def import_settings(settings: Settings) -> Settings:
    """The writer commits only when the import says so: once per batch."""
    storage = settings.storage.model_copy(update={"batch_size": 10**9,
                                                  "batch_interval_ms": 10**9})
    return settings.model_copy(update={"storage": storage})


class MutedSender:
    """Stands in for every platform while history is imported: sends nothing, and counts
    what would have been sent (by action and kind: ``Post:welcome``, ``SetRole``)."""

    def __init__(self) -> None:
        self.would_have_sent: Counter[str] = Counter()
        self._posts = 0

    async def deliver(self, action: Action) -> Delivery:
        kind = getattr(action, "kind", "")
        self.would_have_sent[f"{type(action).__name__}:{kind}" if kind
                             else type(action).__name__] += 1
        if isinstance(action, Post):
            self._posts += 1
            return Delivery(True, message=f"{action.community}{MUTED_POST}{self._posts}")
        return Delivery(True)


@dataclass
class ImportReport:
    community: str
    name: str
    language: str = "en"
    first: datetime | None = None
    last: datetime | None = None
    messages: int = 0
    reactions: int = 0
    #: reactions known only as a count per emoji (no reactor, no points)
    counted: int = 0
    joins: int = 0
    leaves: int = 0
    members: set[str] = field(default_factory=set)
    new_members: int = 0
    #: facts the store held already, by kind ("messages", "reactions", "joins")
    already: Counter[str] = field(default_factory=Counter)
    #: left out, by reason code, with a few positions of each
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    would_have_sent: Counter[str] = field(default_factory=Counter)
    #: timers the history left waiting, settled without posting
    settled: Counter[str] = field(default_factory=Counter)
    problem: ImportProblem | None = None
    stopped_early: bool = False

    def skip(self, record: Record) -> None:
        if record.skipped is None:
            return
        self.skipped[record.skipped] += 1
        shown = self.examples.setdefault(record.skipped, [])
        if len(shown) < EXAMPLES:
            shown.append(record.where)


Progress = Callable[[int, int, ImportReport], None]


class Importer:
    def __init__(self, settings: Settings, source: Source, *, batch: int = BATCH,
                 progress: Progress | None = None, timezone: str | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> None:
        self.settings = settings
        self.source = source
        self.batch = batch
        self.progress = progress
        self.timezone = timezone
        self.should_stop = should_stop
        self.report = ImportReport(source.community, source.name,
                                   language=settings.bot.language)
        self.muted = MutedSender()
        self._runtime: Runtime | None = None
        self._store: ImportStore | None = None
        self._settled_at: datetime | None = None
        self._gap = timedelta(hours=settings.welcome.first_response_hours)
        self._primed: set[str] = set()
        self._commit_task: asyncio.Future[None] | None = None
        self._timeline = Timeline()
        self._done = False
        #: events from here on are published even if stored (the last run was cut short)
        self._again_from: datetime | None = None

    @property
    def runtime(self) -> Runtime:
        assert self._runtime is not None, "the import has not started"
        return self._runtime

    async def run(self) -> ImportReport:
        """Import what the store does not hold yet. The runtime starts at the first new
        event (not at the export's first message): then its start-up (the journey's sweep,
        timers kept in the store) happens at a moment the stored history has reached, and
        a second import of the same export does not even start it."""
        report, community = self.report, self.source.community
        records = iter(self.source.records())
        probe = await open_repository(self.settings.storage.url)
        try:
            self._store = ImportStore(probe)
            communities = Communities(self.settings, probe)
            await communities.load()
            report.language = communities.language(community)
            self.source.learn_bots(await self._store.bots(community))
            members_before = await self._store.member_count(community)
            unfinished = communities.get(community, UNFINISHED)
            if isinstance(unfinished, int):
                self._again_from = from_epoch(unfinished)
            fresh: list[Event] = []
            while not fresh and not self._done and not self.should_stop():
                fresh = await self._new_only(await self._take(records))
        finally:
            await probe.close()
        if fresh:
            runtime = Runtime(import_settings(self.settings),
                              clock=SimulatedClock(fresh[0].at), cogs=import_cogs())
            for platform in PLATFORMS:  # before the cogs start: they may send at once
                runtime.register_sender(platform, self.muted)
            self._runtime = runtime
            await runtime.start()
            try:
                with _quiet_about_posting():
                    await self._import([self.source.opening(fresh[0].at), *fresh], records)
                    report.new_members = (await self._store_now().member_count(community)
                                          - members_before)
            finally:
                await runtime.stop()
        report.would_have_sent = self.muted.would_have_sent
        return report

    def _store_now(self) -> ImportStore:
        assert self._store is not None
        return self._store

    async def _import(self, first: list[Event], records: Iterator[Record]) -> None:
        runtime, community = self.runtime, self.source.community
        self._store = ImportStore(runtime.repository)
        if self.timezone is not None:
            runtime.communities.set_timezone(community, self.timezone)
        hours = runtime.communities.get(community, "welcome.first_response_hours",
                                        self.settings.welcome.first_response_hours)
        self._gap = timedelta(hours=float(hours))
        self._mark_unfinished(first[0].at)
        await self._publish(first)
        while not self._done:
            if self.should_stop():
                self.report.stopped_early = True
                break
            batch = await self._take(records)  # meanwhile, SQLite commits the last batch
            await self._publish(await self._new_only(batch))
        await self._committed()
        if self._done and self.report.problem is None:
            runtime.communities.clear(community, UNFINISHED)
        await self._settle()

    def _mark_unfinished(self, moment: datetime) -> None:
        """Everything before ``moment`` is committed whole. The mark is queued after the
        rows it vouches for, and the writer commits in order; rows after it may be half in
        (a transaction can close in the middle of a batch still being handled), so the
        next run publishes the events from the mark on again, stored or not, and the
        store's unique keys keep that from counting anything twice."""
        self.runtime.communities.set(self.source.community, UNFINISHED, epoch(moment))

    async def _take(self, records: Iterator[Record]) -> list[Event]:
        """The next batch of events in time order (all that is left at the end). Sets
        ``_done`` at the end of the export, or when it breaks off: what came before the
        break is whole, so it is imported."""
        report, timeline, batch = self.report, self._timeline, []
        try:
            for index, record in enumerate(records):
                report.skip(record)
                batch += timeline.add(record)
                if index % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # the writer goes on committing the last batch
                if len(batch) >= self.batch:
                    return batch
            batch += timeline.rest()
        except ImportProblem as exc:
            report.problem = exc
        self._done = True
        return batch

    async def _publish(self, events: Sequence[Event]) -> None:
        """Publish a batch's new events and start committing them; the next batch is read
        and handled meanwhile (SQLite works in its own thread)."""
        await self._feed(events)
        await self.runtime.bus.drain()
        if events:
            self._mark_unfinished(events[-1].at)
        await self._committed()  # one transaction in flight at a time
        self._commit_task = asyncio.ensure_future(self.runtime.repository.flush())
        if self.progress is not None:
            self.progress(self.source.bytes_read, self.source.size, self.report)

    async def _committed(self) -> None:
        """Wait for the last batch's transaction (and hear of its failure)."""
        task, self._commit_task = self._commit_task, None
        if task is not None:
            await task

    async def _new_only(self, events: Sequence[Event]) -> list[Event]:
        """The batch without the facts the store holds already; replies to messages of
        earlier batches get their author from the store."""
        store, community, already = self._store_now(), self.source.community, self.report.already
        messages = {e.message for e in events if isinstance(e, MessagePosted)}
        reacted = {e.message for e in events if isinstance(e, ReactionAdded | ReactionsCounted)}
        people = {e.member for e in events if isinstance(e, MemberJoined | MemberLeft
                                                         | InviteUsed)}
        asked = {e.reply_to for e in events if isinstance(e, MessagePosted)
                 and e.reply_to is not None and e.reply_to_author is None}
        stored = await store.messages(community, messages) if messages else set()
        reactions = await store.reactions(community, reacted) if reacted else set()
        totals = await store.reaction_totals(community, reacted) if reacted else {}
        moves = await store.member_events(community, people) if people else set()
        invites = await store.invites(community, people) if people else set()
        authors = await store.authors(community, asked) if asked else {}
        again = self._again_from
        fresh: list[Event] = []
        for event in events:
            if again is not None and event.at >= again:
                pass  # after the last run's mark: possibly half in, so published again
            elif isinstance(event, MessagePosted):
                if event.message in stored:
                    already["messages"] += 1
                    continue
            elif isinstance(event, ReactionAdded):
                if (event.message, event.reactor, event.emoji) in reactions:
                    already["reactions"] += 1
                    continue
            elif isinstance(event, ReactionsCounted):
                if totals.get(event.message) == sum(n for _, n in event.counts):
                    continue
            elif isinstance(event, MemberJoined | MemberLeft):
                kind = "joined" if isinstance(event, MemberJoined) else "left"
                if (event.member, kind, epoch(event.at)) in moves:
                    already["joins"] += 1
                    continue
            elif isinstance(event, InviteUsed) and (event.member, epoch(event.at)) in invites:
                continue
            if (isinstance(event, MessagePosted) and event.reply_to in authors
                    and event.reply_to_author is None):
                event = dataclasses.replace(event, reply_to_author=authors[event.reply_to])
            fresh.append(event)
        return fresh

    async def _feed(self, events: Sequence[Event]) -> None:
        runtime, clock, timers = self.runtime, self.runtime.clock, self.runtime.timers
        assert isinstance(clock, SimulatedClock)
        for event in events:
            at = event.at
            sync = isinstance(event, CommunityJoined | MemberJoined) or (
                event.community not in self._primed and isinstance(event, MessagePosted))
            due = timers.next_due()
            if (sync or self._settled_at is None or (due is not None and due <= at)
                    or at - self._settled_at >= self._gap):
                await runtime.advance_to(at)  # handles what came before, fires due timers
                self._settled_at = at
            else:
                clock.set(at)
            if runtime.publish(event):
                self._count(event)
            elif isinstance(event, MessagePosted):
                self.report.already["messages"] += 1  # twice in the export itself
            if sync:
                await runtime.bus.drain()  # its timers (a welcome burst) exist from now on
                if not isinstance(event, CommunityJoined):
                    self._primed.add(event.community)

    def _count(self, event: Event) -> None:
        report = self.report
        if report.first is None or event.at < report.first:
            report.first = event.at
        if report.last is None or event.at > report.last:
            report.last = event.at
        match event:
            case MessagePosted():
                report.messages += 1
                report.members.add(event.author)
            case ReactionAdded():
                report.reactions += 1
                report.members.add(event.reactor)
            case ReactionsCounted():
                report.counted += sum(n for _, n in event.counts)
            case MemberJoined():
                report.joins += 1
                report.members.add(event.member)
            case MemberLeft():
                report.leaves += 1
                report.members.add(event.member)

    # -- the end -----------------------------------------------------------------------
    async def _settle(self) -> None:
        """What the history left waiting is settled without posting, so the live bot does
        not welcome, delete or alert about the past."""
        runtime, community, settled = self.runtime, self.source.community, self.report.settled
        end = runtime.clock.now()
        journey = WelcomeStore(runtime.repository)
        for waiting in await journey.pending_welcomes(community):
            if waiting.due <= end + BURST_LIMIT:
                journey.done_pending_welcome(community, waiting.member, waiting.due)
                settled["welcomes"] += 1
        for deletion in await journey.welcome_deletions(community):
            if MUTED_POST in deletion.message:
                journey.done_welcome_deletion(community, deletion.message)
        for member, first in (await journey.first_messages(community)).items():
            if first.answered_at is None and not first.alerted and first.at <= end:
                journey.record_first_alert(community, member, end)
                settled["alerts"] += 1
        await runtime.repository.flush()


@contextlib.contextmanager
def _quiet_about_posting() -> Iterator[None]:
    """The welcome cog warns when an alert has no owners' channel to go to: about the past,
    during an import, that is noise (nothing is posted anyway)."""
    logger = logging.getLogger("cogs.welcome.cog")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)

