"""Wires store, bus, cogs and adapters together in one event loop.

Start order: store (migrated) -> per-community settings -> bus (with the keys handled
before a restart) -> recorder -> cogs. Stop order is the reverse, and the last step
commits everything still queued, so a clean stop loses nothing. Timers that came due
while the bot was down fire at once, but what they send waits in the outbox until the
platform's adapter is connected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, overload

from bot.communities import Communities
from bot.config import Settings
from bot.context import CogContext
from bot.core.bus import EventBus
from bot.core.clock import Clock, SimulatedClock, SystemClock
from bot.core.cog import Cog, EventHandler
from bot.core.commands import Command, CommandRegistry, Invocation, Reply
from bot.core.events import Event, MessagePosted, ReactionAdded, ReactionRemoved
from bot.core.ids import platform_of
from bot.core.interpreter import InterpreterTuning
from bot.core.outbox import Outbox, Sender
from bot.core.text import RichText
from bot.core.timers import Timers
from bot.i18n import Catalog
from bot.ownership import Ownership
from bot.recorder import Recorder
from storage.lifecycle import local_path
from storage.store import Repository, open_repository

log = logging.getLogger(__name__)

#: How many handled event keys the bus keeps in memory (older ones are asked of the store).
WINDOW_KEYS = 100_000
#: How many handled event keys the store keeps (pruned at every start and once a day).
KEPT_KEYS = 200_000
#: A simulated clock jumping further than this fires the timers due in the gap only once.
MAX_CATCH_UP = timedelta(days=400)
#: Community settings the adapters need (they belong to the cogs that set them).
WELCOME_CHANNEL = "welcome.channel"
DEFAULT_CHANNEL = "default_channel"
OWNERS_CHANNEL = "owners_channel"
#: Live events dated further ahead of the system clock are refused.
MAX_AHEAD = timedelta(days=1)


def enabled_platforms(settings: Settings) -> list[str]:
    return [name for name in ("discord", "telegram") if getattr(settings, name).enabled]


def default_cogs() -> list[type[Cog]]:
    from cogs.content.cog import ContentCog
    from cogs.engagement.cog import EngagementCog
    from cogs.journey.cog import JourneyCog
    from cogs.moderation.cog import ModerationCog
    from cogs.privacy.cog import PrivacyCog
    from cogs.summary.cog import SummaryCog
    from cogs.welcome.cog import WelcomeCog

    return [ModerationCog, EngagementCog, JourneyCog, WelcomeCog, PrivacyCog, SummaryCog,
            ContentCog]


class Runtime:
    """The bot in one process; adapters see it only as a ``bot.core.port.BotPort``."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None,
        cogs: Sequence[type[Cog]] | None = None, window: int = WINDOW_KEYS,
        ownership: Ownership | None = None,
    ) -> None:
        """``window``: how many handled-event keys the bus keeps in memory (half of them
        reloaded at start); duplicates beyond it are recognised by asking the store.
        ``ownership``: the communities this process serves (``tribebot run`` passes its
        shards and platforms); every community when left out (replay, import, tests)."""
        self.settings = settings
        self.ownership = ownership or Ownership()
        self.clock: Clock = clock or SystemClock()
        self._cog_types = list(default_cogs() if cogs is None else cogs)
        self.cogs: list[Cog] = []
        self.bus = EventBus(remember=window, tap=self._record)
        self._recorder: Recorder | None = None
        # actions for an enabled platform wait until its adapter is connected
        self.outbox = Outbox(awaited=enabled_platforms(settings))
        self.commands = CommandRegistry(
            self._refusal, self._failure,
            lambda invocation: self.communities.catalog(invocation.community))
        self.timers = Timers(self.clock, settle=self.bus.drain)
        self._repository: Repository | None = None
        self._communities: Communities | None = None
        self.migrations_applied: list[str] = []
        self._interpreter = InterpreterTuning()
        #: set once ``start`` has finished (store open, cogs started, bus running)
        self.started = asyncio.Event()
        self._stop_requested = False

    @property
    def repository(self) -> Repository:
        assert self._repository is not None, "runtime is not started"
        return self._repository

    @property
    def local_files(self) -> str:
        return local_path(self.settings.storage.url)

    @property
    def communities(self) -> Communities:
        assert self._communities is not None, "runtime is not started"
        return self._communities

    def register_sender(self, platform: str, sender: Sender, *, connected: bool = True
                        ) -> None:
        """An adapter that connects later registers with ``connected=False`` and calls
        ``adapter_connected`` once its platform takes actions; until then they are held."""
        self.outbox.register(platform, sender, connected=connected)

    def adapter_connected(self, platform: str) -> None:
        self.outbox.connected(platform)

    async def start(self) -> None:
        storage = self.settings.storage
        self._repository = await open_repository(
            storage.url, max_batch=storage.batch_size, max_delay_ms=storage.batch_interval_ms
        )
        if self._stop_requested:  # asked while the store was being opened
            self.request_stop()
        self._interpreter.apply()  # after the one step that fails on a bad store
        self.migrations_applied = self._repository.migrations_applied
        self._communities = Communities(self.settings, self._repository, self.ownership)
        await self._communities.load()
        if self._communities.ownership.shards is not None:
            log.info("this process serves %s: %d of the store's %d communities",
                     self._communities.ownership.describe(),
                     len(self._communities.owned()), len(self._communities.all()))
        if isinstance(self.clock, SimulatedClock):
            # a replay resumes where the store left off: re-delivered events lie behind
            # it, and timers must not fire a second time for a past already handled
            latest = await self._repository.latest_event_time()
            if latest is not None:
                self.clock.set(latest)
        repo = self._repository
        keys, horizon = await repo.recent_event_keys(max(self.bus.window.capacity // 2, 1))
        self.bus.remember(keys, horizon)
        self.bus.use_store(repo.seen_keys, repo.submit_unit)
        repo.collect = self.bus.collector
        assert repo.writer is not None
        repo.writer.before_batch = self.bus.release_stale
        repo.prune_seen(keep=KEPT_KEYS)
        recorder = Recorder(
            self._repository, self._communities,
            store_text=self.settings.privacy.store_message_text,
        )
        self._recorder = recorder
        ctx = CogContext(
            repository=self._repository, outbox=self.outbox, clock=self.clock,
            communities=self._communities, settings=self.settings, publish=self.publish,
            timers=self.timers,
        )
        for cog_type in self._cog_types:
            cog = cog_type(ctx)
            await cog.start()
            self.cogs.append(cog)
            listeners = dict(cog.listeners())
            if listeners:
                self.bus.subscribe(cog.name, _dispatcher(listeners), listeners,
                                   by_type=listeners)
            for command in cog.commands():
                self.commands.register(command)
        self.bus.start()
        self._schedule_pruning()
        self.timers.start()
        self.started.set()

    def _schedule_pruning(self) -> None:
        """Prune the handled-event keys once a day, so a bot that never restarts does not
        grow that table forever."""

        async def prune() -> None:
            self.repository.prune_seen(keep=KEPT_KEYS)
            self._schedule_pruning()

        self.timers.call_at(self.clock.now() + timedelta(days=1), "prune-seen-events", prune)

    def _record(self, event: Event, key: str) -> None:
        if self._recorder is None:
            raise RuntimeError("events were published before the runtime started")
        self._recorder.record(event, key=key, undone=self.bus.undone)

    def publish(self, event: Event) -> bool:
        """Hand an event to every subscriber; False when it is a duplicate (or refused: an
        event dated more than a day ahead of the system clock cannot be real)."""
        if not isinstance(self.clock, SimulatedClock) and event.at > (
                self.clock.now() + MAX_AHEAD):
            log.warning("refused %s dated %s, more than a day ahead of this machine's clock",
                        type(event).__name__, event.at.isoformat())
            return False
        return self.bus.publish(event)

    # -- the port adapters use (bot.core.port.BotPort) ---------------------------------
    def catalog(self, community: str) -> Catalog:
        return self.communities.catalog(community)

    async def handle(self, event: Event) -> bool:
        duplicates = self.bus.duplicates
        self.publish(event)
        await self.bus.drain()
        return self.bus.duplicates == duplicates

    def deliver_inline(self, inline: bool) -> bool:
        previous, self.bus.inline = self.bus.inline, inline
        return previous

    def is_duplicate(self, key: str) -> bool:
        return self.bus.known(key)

    async def look_ahead(self, events: Sequence[Event]) -> None:
        await self.bus.check_ahead(events)
        recorder = self._recorder
        if recorder is None:
            return
        posted: set[str] = set()
        wanted: dict[str, set[str]] = {}
        for event in events:
            if isinstance(event, MessagePosted):
                posted.add(event.message)
                target, known = event.reply_to, event.reply_to_author
            elif isinstance(event, ReactionAdded | ReactionRemoved):
                target, known = event.message, event.message_author
            else:
                continue
            if (target and known is None and target not in posted
                    and recorder.author_of(event.community, target) is None
                    and not self.bus.known(event.key)):
                wanted.setdefault(event.community, set()).add(target)
        for community, messages in wanted.items():
            found = await self.repository.message_authors(community, sorted(messages))
            for message, author in found.items():
                recorder.remember_author(community, message, author)

    async def message_author(self, community: str, message: str) -> str | None:
        """Who wrote a recorded message: the recorder remembers the recent ones; an older
        one is read from what the store committed (no commit is forced for it)."""
        recorder = self._recorder
        if recorder is not None:
            author = recorder.author_of(community, message)
            if author is not None:
                return author
        author = await self.repository.message_author(community, message, consistent=False)
        if author is not None and recorder is not None:
            recorder.remember_author(community, message, author)
        return author

    async def member_names(self, community: str, members: Sequence[str]) -> dict[str, str]:
        return await self.repository.member_names(community, members)

    def command_catalog(self) -> list[Command]:
        return self.commands.all()

    def find_command(self, words: Sequence[str]) -> tuple[Command, list[str]] | None:
        return self.commands.find(words)

    def invite_channel(self, community: str) -> str | None:
        communities = self.communities
        return (communities.get(community, WELCOME_CHANNEL)
                or communities.get(community, DEFAULT_CHANNEL))

    def owners_channel(self, community: str) -> str | None:
        return self.communities.get(community, OWNERS_CHANNEL)

    def personal_invites(self, community: str) -> Mapping[str, str]:
        return dict(self.communities.get(community, _personal_invites_key(community), {}))

    def remember_personal_invite(self, community: str, code: str, member: str) -> None:
        invites = {**self.personal_invites(community), code: member}
        self.communities.set(community, _personal_invites_key(community), invites)

    @overload
    async def invoke(self, command: Command, invocation: Invocation,
                     key: None = None) -> Reply: ...

    @overload
    async def invoke(self, command: Command, invocation: Invocation,
                     key: str) -> Reply | None: ...

    async def invoke(self, command: Command, invocation: Invocation,
                     key: str | None = None) -> Reply | None:
        """Run a command. With a ``key`` (a command that can be delivered again: a replayed
        line, a re-sent update), one already run is not run again and None is returned."""
        await self.bus.drain()  # a command sees every event that came before it
        if key is not None:
            window = self.bus.window
            # the store is asked only when memory may have forgotten the key (as for events)
            if key in window or (window.maybe_forgotten(invocation.at)
                                 and await self.repository.seen_keys([key])):
                self.bus.duplicates += 1
                return None
            window.add(key, invocation.at)
            self.repository.record_seen(key, invocation.at)
        if self._recorder is not None:  # a command can be the first sign of a community
            self._recorder.ensure_community(invocation.community, invocation.at)
        return await self.commands.invoke(command, invocation)

    async def advance_to(self, moment: datetime) -> None:
        """Move a simulated clock to ``moment``, firing each timer at its own due time.

        A jump longer than ``MAX_CATCH_UP`` (a file from 1970 followed by this year's
        events) fires what fell due in the gap once, as a bot coming back after being down
        would, instead of every daily and weekly timer of the whole gap.
        """
        clock = self.clock
        if not isinstance(clock, SimulatedClock):
            return
        while True:
            await self.bus.drain()  # what happened before a timer is due is handled first
            due = self.timers.next_due()
            if due is None or due > moment:
                break
            clock.set(max(due, moment - MAX_CATCH_UP))
            await self.timers.run_due()
        clock.set(moment)

    def request_stop(self) -> None:
        """A stop is coming (SIGINT/SIGTERM): nothing waits any more for a store that takes
        no writes, so the stop itself cannot hang on one; ``stop`` keeps what it cannot
        write beside the database."""
        self._stop_requested = True
        if self._repository is not None and self._repository.writer is not None:
            self._repository.writer.request_stop()

    async def stop(self) -> None:
        """Stop within ``[storage] stop_timeout_seconds`` (plus a statement already in
        SQLite's hands), even when the store does not take writes: cogs waiting on it are
        cancelled, and the rows it did not take are kept beside it."""
        self.started.clear()
        self.request_stop()
        self.outbox.close()  # a send held for a platform that never connected returns now
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.storage.stop_timeout_seconds
        try:
            await self.timers.stop()
            left = await self.bus.stop(within=max(deadline - loop.time(), 0.5))
            if left:
                log.warning("stopping: %d events were still being handled (the store is not "
                            "taking writes); their facts are kept, what cogs would have "
                            "added is not", left)
            for cog in reversed(self.cogs):
                try:
                    await cog.stop()
                except Exception:
                    log.exception("cog %s failed to stop cleanly", cog.name)
            if self._repository is not None:
                await self._repository.close(
                    give_up_after_s=max(deadline - loop.time(), 1.0))
        finally:
            self._interpreter.restore()

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _refusal(self, invocation: Invocation, command: Command) -> RichText:
        return self.communities.catalog(invocation.community).gettext(
            "Sorry, only moderators can use /{command}.", command=command.name
        )

    def _failure(self, invocation: Invocation) -> RichText:
        return self.communities.catalog(invocation.community).gettext(
            "Something went wrong on my side; nothing was changed. "
            "The bot's log has the details for the owner."
        )


def _personal_invites_key(community: str) -> str:
    """Stored per platform (``discord.personal_invites``): each makes its own codes."""
    return f"{platform_of(community)}.personal_invites"


def _dispatcher(listeners: Mapping[type[Event], EventHandler]) -> Any:
    table = dict(listeners)

    async def dispatch(event: Event) -> None:
        handler = table.get(type(event))
        if handler is not None:
            await handler(event)

    return dispatch
