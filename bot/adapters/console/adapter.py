"""The console adapter: a local 'platform' for the demo, replays and tests.

It plays the part a chat platform plays for the other adapters: it knows member names,
channels and who moderates; it turns records into events and renders the bot's actions
as text. Like every adapter it sees the bot only through ``BotPort``. Tests use it like
errbot's test backend: push events, run commands, pop what the bot sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, overload

from rich.console import Console
from rich.markup import escape

from bot.adapters.console.records import CommandLine, future_limit, qualify, read_lines
from bot.core.actions import (
    Action,
    CreateInvite,
    DeleteMessage,
    Delivery,
    DirectMessage,
    Post,
    SetRole,
)
from bot.core.attachments import Attachment
from bot.core.authors import with_authors
from bot.core.bounded import BoundedDict
from bot.core.commands import (
    ChannelRef,
    Command,
    CommandError,
    MemberRef,
    Reply,
    check_declared_size,
    file_options,
    split_words,
)
from bot.core.events import CommunityJoined, Event, MemberJoined, MessagePosted
from bot.core.port import BotPort
from bot.core.text_commands import TypedCommand, rights, run_text_command, unknown_command
from bot.i18n import Catalog


@dataclass(frozen=True, slots=True)
class Sent:
    action: Action
    text: str
    at: datetime
    #: the message id a post got, as a platform would return it
    message: str | None = None


@dataclass(slots=True)
class ReplayReport:
    lines: int = 0
    events: int = 0
    duplicates: int = 0
    commands: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    stopped_early: bool = False


#: Lines read ahead at a time: what the store is asked about (already handled? who wrote
#: the message a reply or reaction points to?) is asked once per chunk.
CHUNK = 1000
#: What the adapter remembers, like a platform's cache: member and channel names.
KNOWN_NAMES = 50_000
#: Actions kept in ``sent`` for ``pop_sent`` (tests); older ones are dropped.
KEEP_SENT = 10_000


class ConsoleAdapter:
    platform = "console"
    #: A replay has the bus handle events inline (``EventBus.inline``): it waits for
    #: every line anyway. False delivers them to the cogs' own tasks (tests compare both).
    inline_replay = True

    def __init__(
        self, port: BotPort, *, console: Console | None = None, echo: bool = True,
        moderators: Iterable[str] = (),
    ) -> None:
        self.port = port
        self.console = console or Console(highlight=False)
        self.echo = echo
        self.sent: list[Sent] = []
        #: posts delivered since the start (``sent`` keeps only the newest)
        self.posts = 0
        self._names: BoundedDict[tuple[str, str], str] = BoundedDict(KNOWN_NAMES)
        self._channels: BoundedDict[tuple[str, str], str] = BoundedDict(KNOWN_NAMES)
        self._moderators: set[str] = {qualify(m) for m in moderators}
        self._counter = 0
        #: where the files named by a replay's commands are looked up
        self._folder = Path.cwd()
        port.register_sender(self.platform, self)

    # -- platform side: actions from the bot -------------------------------------------
    async def deliver(self, action: Action) -> Delivery:
        now = self.port.clock.now()
        if isinstance(action, Post):
            self._counter += 1
            text = action.text.plain()
            where = "#" + self._channels.get((action.community, action.channel),
                                             action.channel.split(":", 1)[1])
            self._show(now, where, text, action.file)
            message = f"console:bot-{self._counter}"
            self._keep(Sent(action, text, now, message))
            self.posts += 1
            return Delivery(True, message=message)
        if isinstance(action, DirectMessage):
            text = action.text.plain()
            self._show(now, "DM @" + self.name_of(action.community, action.member), text,
                       action.file)
            self._keep(Sent(action, text, now))
            return Delivery(True)
        if isinstance(action, SetRole):
            verb = "grant" if action.grant else "remove"
            text = f"{verb} role {action.role} for @{self.name_of(action.community, action.member)}"
            self._show(now, "roles", text, None)
            self._keep(Sent(action, text, now))
            return Delivery(True)
        if isinstance(action, DeleteMessage):
            self._keep(Sent(action, f"delete {action.message}", now))
            return Delivery(True)
        if isinstance(action, CreateInvite):
            url = f"https://console.invalid/invite/{action.member.split(':', 1)[1]}"
            self._keep(Sent(action, url, now))
            return Delivery(True, message=url)
        return Delivery(False, error=f"console cannot send {type(action).__name__}")

    def _keep(self, sent: Sent) -> None:
        self.sent.append(sent)
        if len(self.sent) > 2 * KEEP_SENT:  # a long replay: keep the newest only
            del self.sent[:KEEP_SENT]

    def _show(self, now: datetime, where: str, text: str, file: Path | None) -> None:
        if not self.echo:
            return
        stamp = now.strftime("%Y-%m-%d %H:%M")
        self.console.print(f"[dim]{stamp}[/dim] [bold cyan]{escape(where)}[/] {escape(text)}")
        if file is not None:
            self.console.print(f"[dim]  attached: {file}[/dim]")

    # -- platform side: events into the bot --------------------------------------------
    def name_of(self, community: str, member: str) -> str:
        return self._names.get((community, member), member.split(":", 1)[1])

    def is_moderator(self, member: str) -> bool:
        return member in self._moderators

    def add_moderator(self, member: str) -> None:
        self._moderators.add(qualify(member))

    def _learn(self, event: Event) -> Event:
        """Remember names and channels, as a platform's cache would."""
        match event:
            case CommunityJoined():
                for channel in event.channels:
                    self._channels.put((event.community, channel.id), channel.name)
            case MemberJoined():
                if event.name:
                    self._names.put((event.community, event.member), event.name)
            case MessagePosted():
                if event.author_name:
                    self._names.put((event.community, event.author), event.author_name)
        return event

    async def push(self, event: Event) -> bool:
        """Publish one event and wait until every cog has handled it; False if it was a
        duplicate (already handled, here or before a restart)."""
        port = self.port
        event = self._learn(event)
        if port.is_duplicate(event.key):  # the clock does not move for a duplicate either
            port.publish(event)  # counted there (and the store's answer used up)
            return False
        await port.advance_to(event.at)  # timers due before this event fire first
        # who wrote the message reacted or replied to: the bot recorded it, as on Telegram
        return await port.handle(await with_authors(port, event))

    async def look_ahead(self, events: list[Event]) -> None:
        """Ask the store in one go what a chunk of events needs of it: which were handled
        already, and who wrote the messages they reply or react to (a real platform says;
        the bot knows from earlier lines, or from the store after a restart)."""
        await self.port.look_ahead(events)

    @overload
    async def command(
        self, community: str, member: str, text: str, *, channel: str | None = None,
        at: datetime | None = None, key: None = None,
        files: Sequence[Attachment | Path] = (),
    ) -> Reply: ...

    @overload
    async def command(
        self, community: str, member: str, text: str, *, channel: str | None = None,
        at: datetime | None = None, key: str,
        files: Sequence[Attachment | Path] = (),
    ) -> Reply | None: ...

    async def command(
        self, community: str, member: str, text: str, *, channel: str | None = None,
        at: datetime | None = None, key: str | None = None,
        files: Sequence[Attachment | Path] = (),
    ) -> Reply | None:
        """Run a text command as ``member`` would type it (``/points give @bob 5 thanks``).

        With a ``key`` (a replayed line), a command already run is not run again: None.
        ``files`` are attached to the command's message. This is the one adapter where a
        file may be given as a path: it runs on the operator's own machine.
        """
        community, member = qualify(community), qualify(member)
        channel = qualify(channel) if channel else f"{community}-general"
        when = at or self.port.clock.now()
        await self.port.advance_to(when)
        here = channel

        def channels(word: str) -> ChannelRef | None:
            return self._resolve_channel(community, word, here)

        async def attached(command: Command, tr: Catalog) -> list[Attachment]:
            return [await _load(command, f, tr) for f in files]

        outcome = await run_text_command(self.port, TypedCommand(
            community=community, channel=channel,
            invoker=MemberRef(member, self.name_of(community, member)), at=when,
            words=split_words(text.strip().removeprefix("/")),
            members=lambda word: self._resolve_member(community, word), channels=channels,
            is_moderator=rights(self.is_moderator(member)), files=attached, key=key,
        ))
        if outcome.command is None:
            return unknown_command(self.port.catalog(community), text)
        reply = outcome.reply
        if reply is None:
            return None
        self._show(when, f"reply to @{self.name_of(community, member)}", reply.text.plain(),
                   reply.file)
        return reply

    def _resolve_member(self, community: str, word: str) -> MemberRef | None:
        wanted = word.removeprefix("@")
        for (comm, member), name in self._names.items():
            if comm == community and (name.lower() == wanted.lower() or member == qualify(wanted)):
                return MemberRef(member, name)
        return None

    def _resolve_channel(self, community: str, word: str, here: str) -> ChannelRef | None:
        """``#general``, ``general`` (any case), ``console:general`` or ``here``; only the
        channels the community listed."""
        wanted = word.strip().removeprefix("#")
        if wanted.lower() == "here":
            return ChannelRef(here, self._channels.get((community, here),
                                                       here.split(":", 1)[1]))
        for (comm, channel), name in self._channels.items():
            if comm == community and (name.lower() == wanted.lower()
                                      or channel == qualify(wanted)):
                return ChannelRef(channel, name)
        return None

    # -- replay ------------------------------------------------------------------------
    async def feed(self, item: Event | CommandLine, report: ReplayReport) -> None:
        if isinstance(item, CommandLine):
            reply = await self.command(item.community, item.member, item.text,
                                       channel=item.channel, at=item.at, key=item.key,
                                       files=[self._folder / f for f in item.files])
            if reply is None:
                report.duplicates += 1
            else:
                report.commands += 1
        elif await self.push(item):
            report.events += 1
        else:
            report.duplicates += 1

    async def replay(self, path: Path, report: ReplayReport | None = None) -> ReplayReport:
        """Feed a JSON Lines file through the bot; bad lines are reported and skipped."""
        report = report or ReplayReport()
        self._folder = path.parent
        not_after = future_limit()
        # every line is waited for: the bot may handle them inline
        previous = self.port.deliver_inline(self.inline_replay)
        try:
            await self._replay(path, report, not_after)
        finally:
            self.port.deliver_inline(previous)  # the next drain handles what is left
        return report

    async def _replay(self, path: Path, report: ReplayReport, not_after: datetime) -> None:
        with path.open("rb") as handle:
            lines = read_lines(handle, path.name, not_after=not_after)
            while not report.stopped_early:
                chunk = list(itertools.islice(lines, CHUNK))
                if not chunk:
                    break
                await self.look_ahead([line.item for line in chunk
                                       if isinstance(line.item, Event)])
                for line in chunk:
                    if report.stopped_early:
                        break
                    report.lines += 1
                    if line.item is None:
                        report.errors.append(line.error or f"{line.where}: unreadable")
                        continue
                    self._learn_moderators(line.raw)
                    await self.feed(line.item, report)

    def pop_sent(self) -> list[Sent]:
        sent, self.sent = self.sent, []
        return sent

    def _learn_moderators(self, raw: Any) -> None:
        """Replay files mark moderators with ``"moderator": true`` or a ``moderators`` list."""
        if raw.get("moderator") is True and isinstance(raw.get("member"), str):
            self.add_moderator(str(raw["member"]))
        listed = raw.get("moderators")
        if isinstance(listed, list):
            for member in listed:
                if isinstance(member, str):
                    self.add_moderator(member)


async def _load(command: Command, file: Attachment | Path, tr: Catalog) -> Attachment:
    """A local file as an attachment, read up to one byte past the largest limit."""
    if isinstance(file, Attachment):
        return file
    options = [o for o in file_options(command) if o.accepts is not None]
    limit = max((o.accepts.max_bytes for o in options if o.accepts), default=0)

    def read() -> tuple[int, bytes]:
        with file.open("rb") as handle:
            return os.fstat(handle.fileno()).st_size, handle.read(limit + 1)

    try:
        size, data = await asyncio.to_thread(read)
        if options:
            check_declared_size(command, options[0], file.name, size, tr)
    except OSError as exc:
        raise CommandError(tr.gettext("I cannot read the attached file {file} ({problem}).",
                                      file=str(file), problem=exc.strerror or "")) from None
    return Attachment(file.name, data)
