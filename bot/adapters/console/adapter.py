"""The console adapter: a local 'platform' for the demo, replays and tests.

It plays the part a chat platform plays for the other adapters: it knows member names,
who moderates, and who wrote which message; it turns records into events and renders
the bot's actions as text. Tests use it like errbot's test backend: push events, run
commands, pop what the bot sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot.adapters.console.records import CommandLine, RecordError, parse_record, qualify
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
from bot.core.commands import (
    ChannelRef,
    Command,
    CommandError,
    Invocation,
    MemberRef,
    Reply,
    attach_files,
    check_declared_size,
    file_options,
    parse_text_arguments,
    split_words,
)
from bot.core.events import (
    CommunityJoined,
    Event,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.i18n import Catalog
from bot.runtime import Runtime


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


class ConsoleAdapter:
    platform = "console"

    def __init__(
        self, runtime: Runtime, *, console: Console | None = None, echo: bool = True,
        moderators: Iterable[str] = (),
    ) -> None:
        self.runtime = runtime
        self.console = console or Console(highlight=False)
        self.echo = echo
        self.sent: list[Sent] = []
        self._names: dict[tuple[str, str], str] = {}
        self._channels: dict[tuple[str, str], str] = {}
        self._authors: dict[str, str] = {}
        self._moderators: set[str] = {qualify(m) for m in moderators}
        self._counter = 0
        #: where the files named by a replay's commands are looked up
        self._folder = Path.cwd()
        runtime.register_sender(self.platform, self)

    # -- platform side: actions from the bot -------------------------------------------
    async def deliver(self, action: Action) -> Delivery:
        now = self.runtime.clock.now()
        if isinstance(action, Post):
            self._counter += 1
            text = action.text.plain()
            where = "#" + self._channels.get((action.community, action.channel),
                                             action.channel.split(":", 1)[1])
            self._show(now, where, text, action.file)
            message = f"console:bot-{self._counter}"
            self.sent.append(Sent(action, text, now, message))
            return Delivery(True, message=message)
        if isinstance(action, DirectMessage):
            text = action.text.plain()
            self._show(now, "DM @" + self.name_of(action.community, action.member), text,
                       action.file)
            self.sent.append(Sent(action, text, now))
            return Delivery(True)
        if isinstance(action, SetRole):
            verb = "grant" if action.grant else "remove"
            text = f"{verb} role {action.role} for @{self.name_of(action.community, action.member)}"
            self._show(now, "roles", text, None)
            self.sent.append(Sent(action, text, now))
            return Delivery(True)
        if isinstance(action, DeleteMessage):
            self.sent.append(Sent(action, f"delete {action.message}", now))
            return Delivery(True)
        if isinstance(action, CreateInvite):
            url = f"https://console.invalid/invite/{action.member.split(':', 1)[1]}"
            self.sent.append(Sent(action, url, now))
            return Delivery(True, message=url)
        return Delivery(False, error=f"console cannot send {type(action).__name__}")

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
        """Remember names and authors, and fill in what a real platform would tell."""
        match event:
            case CommunityJoined():
                for channel in event.channels:
                    self._channels[(event.community, channel.id)] = channel.name
            case MemberJoined():
                if event.name:
                    self._names[(event.community, event.member)] = event.name
            case MessagePosted():
                if event.author_name:
                    self._names[(event.community, event.author)] = event.author_name
                self._authors[event.message] = event.author
                if event.reply_to and event.reply_to_author is None:
                    author = self._authors.get(event.reply_to)
                    if author is not None:
                        event = dataclasses.replace(event, reply_to_author=author)
            case ReactionAdded() | ReactionRemoved():
                if event.message_author is None and event.message in self._authors:
                    event = dataclasses.replace(event, message_author=self._authors[event.message])
        return event

    async def push(self, event: Event) -> bool:
        """Publish one event and wait until every cog has handled it."""
        await self.runtime.advance_to(event.at)  # timers due before this event fire first
        event = self._learn(event)
        if isinstance(event, ReactionAdded | ReactionRemoved) and event.message_author is None:
            # a message from before a restart: the store knows its author, as on Telegram
            author = await self.runtime.message_author(event.community, event.message)
            if author is not None:
                event = dataclasses.replace(event, message_author=author)
        accepted = self.runtime.publish(event)
        await self.runtime.bus.drain()
        return accepted

    async def command(
        self, community: str, member: str, text: str, *, channel: str | None = None,
        at: datetime | None = None, files: Sequence[Attachment | Path] = (),
    ) -> Reply:
        """Run a text command as ``member`` would type it (``/points give @bob 5 thanks``).

        ``files`` are attached to the command's message. This is the one adapter where a
        file may be given as a path: it runs on the operator's own machine.
        """
        community, member = qualify(community), qualify(member)
        channel = qualify(channel) if channel else f"{community}-general"
        when = at or self.runtime.clock.now()
        await self.runtime.advance_to(when)
        tr = self.runtime.communities.catalog(community)
        words = split_words(text.strip().removeprefix("/"))
        found = self.runtime.commands.find(words)
        if found is None:
            return Reply(tr.gettext("I don't know the command “{command}”.", command=text),
                         private=True)
        command, rest = found
        here = channel

        def channels(word: str) -> ChannelRef | None:
            return self._resolve_channel(community, word, here)

        try:
            args = parse_text_arguments(
                command, rest, lambda word: self._resolve_member(community, word), channels,
                tr,
            )
            attach_files(command, args, [await _load(command, f, tr) for f in files], tr)
        except CommandError as exc:
            return Reply(exc.text, private=True)
        invocation = Invocation(
            community=community, channel=channel,
            invoker=MemberRef(member, self.name_of(community, member)),
            is_moderator=self.is_moderator(member), at=when, args=args, channels=channels,
        )
        reply = await self.runtime.invoke(command, invocation)
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
            report.commands += 1
            await self.command(item.community, item.member, item.text, channel=item.channel,
                               at=item.at, files=[self._folder / f for f in item.files])
        elif await self.push(item):
            report.events += 1
        else:
            report.duplicates += 1

    async def replay(self, path: Path, report: ReplayReport | None = None) -> ReplayReport:
        """Feed a JSON Lines file through the bot; bad lines are reported and skipped."""
        report = report or ReplayReport()
        self._folder = path.parent
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if report.stopped_early:
                    break
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                report.lines += 1
                where = f"{path.name}:{number}"
                try:
                    raw = json.loads(line)
                    item = parse_record(raw, where)
                except json.JSONDecodeError as exc:
                    report.errors.append(f"{where}: not valid JSON ({exc.msg})")
                    continue
                except RecordError as exc:
                    report.errors.append(str(exc))
                    continue
                self._learn_moderators(raw)
                await self.feed(item, report)
        return report

    def pop_sent(self) -> list[Sent]:
        sent, self.sent = self.sent, []
        return sent

    def _learn_moderators(self, raw: dict[str, object]) -> None:
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
