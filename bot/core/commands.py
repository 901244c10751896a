"""Commands declared once by cogs; each adapter renders them for its platform.

A command knows its words (``points give``), typed options, whether only moderators may
run it, and its handler. Permission is checked here, by the bot, whatever the platform's
UI shows, so a member can never run a moderator command by typing it.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.attachments import Attachment, FileKind, FileRule, accepts, megabytes, safe_name
from bot.core.text import RichText, plain

if TYPE_CHECKING:
    from bot.i18n import Catalog

log = logging.getLogger(__name__)


class OptionKind(Enum):
    TEXT = "text"          # one word, or the rest of the line when it is the last option
    INTEGER = "integer"
    MEMBER = "member"
    CHANNEL = "channel"
    CHOICE = "choice"
    FILE = "file"          # an attachment of the command's message (an ``Attachment``)


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    kind: OptionKind
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    #: FILE options: what is accepted (type and size); None accepts nothing
    accepts: FileRule | None = None
    #: an INTEGER option must say which whole numbers it takes (every argument is hostile)
    minimum: int | None = None
    maximum: int | None = None

    def __post_init__(self) -> None:
        if self.kind is OptionKind.INTEGER and (self.minimum is None or self.maximum is None):
            raise ValueError(f"integer option {self.name!r} needs a minimum and a maximum")


@dataclass(frozen=True, slots=True)
class MemberRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ChannelRef:
    id: str
    name: str


MemberResolver = Callable[[str], MemberRef | None]
#: A channel as a moderator types it -> the channel, or None when there is none such here.
#: May raise CommandError for an ambiguous name.
ChannelResolver = Callable[[str], ChannelRef | None]


def no_channels(_word: str) -> ChannelRef | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    community: str
    channel: str
    invoker: MemberRef
    is_moderator: bool
    at: datetime
    args: Mapping[str, Any] = field(default_factory=dict)
    #: The adapter's channel resolver (``#general``, ``<#123>``, a name, an id, ``here``),
    #: for settings whose value is a list of channels typed as text.
    channels: ChannelResolver = field(default=no_channels, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Reply:
    text: RichText
    private: bool = False
    file: Path | None = None


Handler = Callable[[Invocation], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Command:
    path: tuple[str, ...]
    description: str
    handler: Handler
    options: tuple[Option, ...] = ()
    moderator: bool = False

    @property
    def name(self) -> str:
        return " ".join(self.path)


class CommandError(Exception):
    """Raised by a handler with a sentence for the user; nothing was changed."""

    def __init__(self, text: RichText | str) -> None:
        self.text = text if isinstance(text, RichText) else plain(text)
        super().__init__(self.text.plain())


class UsageError(CommandError):
    pass


Refusal = Callable[[Invocation, Command], RichText]
Failure = Callable[[Invocation], RichText]


class CommandRegistry:
    def __init__(self, refusal: Refusal, failure: Failure,
                 catalog: Callable[[Invocation], Catalog] | None = None) -> None:
        self._commands: dict[tuple[str, ...], Command] = {}
        self._refusal = refusal
        self._failure = failure
        self._catalog = catalog

    def register(self, command: Command) -> None:
        if command.path in self._commands:
            raise ValueError(f"command {command.name!r} is declared twice")
        self._commands[command.path] = command

    def all(self) -> list[Command]:
        return sorted(self._commands.values(), key=lambda c: c.path)

    def find(self, words: Sequence[str]) -> tuple[Command, list[str]] | None:
        """The longest command whose words start ``words``, and the words left over."""
        for size in range(min(len(words), 3), 0, -1):
            command = self._commands.get(tuple(w.lower() for w in words[:size]))
            if command is not None:
                return command, list(words[size:])
        return None

    async def invoke(self, command: Command, invocation: Invocation) -> Reply:
        if command.moderator and not invocation.is_moderator:
            return Reply(self._refusal(invocation, command), private=True)
        try:
            if self._catalog is not None:  # typed by a platform (a slash command): check too
                for option in command.options:
                    value = invocation.args.get(option.name)
                    if option.kind is OptionKind.INTEGER and value is not None:
                        check_bounds(command, option, value, self._catalog(invocation))
            return await command.handler(invocation)
        except CommandError as exc:
            return Reply(exc.text, private=True)
        except Exception:
            log.exception("command %s failed for %r", command.name, invocation)
            return Reply(self._failure(invocation), private=True)




def parse_text_arguments(
    command: Command, words: Sequence[str], members: MemberResolver, channels: ChannelResolver,
    tr: Catalog,
) -> dict[str, Any]:
    """Typed arguments from the words after a text command (console, Telegram).

    The last TEXT option takes the rest of the line, so ``welcome set Hi {member}!`` works.
    FILE options are never words (see ``attach_files``): a word where a file is expected is
    refused, so no command can name a file of the host. Raises UsageError naming the
    option that is wrong.
    """
    args: dict[str, Any] = {}
    rest = list(words)
    typed = [o for o in command.options if o.kind is not OptionKind.FILE]
    for index, option in enumerate(typed):
        is_last = index == len(typed) - 1
        if not rest:
            if option.required:
                raise UsageError(tr.gettext("/{command}: {option} is missing. {usage}",
                                            command=command.name, option=option.name,
                                            usage=usage(command)))
            continue
        if option.kind is OptionKind.TEXT and is_last:
            args[option.name] = " ".join(rest)
            rest = []
            continue
        word = rest.pop(0)
        args[option.name] = _convert(command, option, word, members, channels, tr)
    if rest and len(typed) < len(command.options):
        raise UsageError(_attach_hint(command, tr))
    if rest:
        raise UsageError(tr.gettext("/{command}: I did not expect “{extra}”. {usage}",
                                    command=command.name, extra=" ".join(rest),
                                    usage=usage(command)))
    return args


def file_options(command: Command) -> list[Option]:
    return [o for o in command.options if o.kind is OptionKind.FILE]


def check_declared_size(command: Command, option: Option, name: str, size: int | None,
                        tr: Catalog) -> None:
    """Refuse a file the platform says is too big, before downloading it."""
    limit = option.accepts.max_bytes if option.accepts is not None else 0
    if size is not None and size > limit:
        raise UsageError(tr.gettext(
            "/{command}: “{name}” is {size} MB; a file for this command can be at most "
            "{limit} MB.", command=command.name, name=safe_name(name), size=megabytes(size),
            limit=megabytes(limit)))


def attach_files(command: Command, args: dict[str, Any], files: Sequence[Attachment],
                 tr: Catalog) -> dict[str, Any]:
    """Fill the FILE options, in order, from the files attached to the command's message.

    Each is checked against its option's rule (size, and type by its bytes); a required
    one without a file is refused with a sentence saying how to attach it.
    """
    remaining = list(files)
    for option in file_options(command):
        if not remaining:
            if option.required:
                raise UsageError(_attach_hint(command, tr))
            continue
        file = remaining.pop(0)
        check_declared_size(command, option, file.name, file.size, tr)
        rule = option.accepts
        if rule is None or not accepts(rule, file):
            values = {"command": command.name, "name": safe_name(file.name)}
            if rule is not None and rule.kind is FileKind.CSV:
                raise UsageError(tr.gettext(
                    "/{command}: “{name}” is not a CSV file; attach a CSV (UTF-8 text) of "
                    "member id, points.", **values))
            raise UsageError(tr.gettext(
                "/{command}: “{name}” is not an image or a PDF; attach a PNG, JPEG, GIF or "
                "WebP image or a PDF.", **values))
        args[option.name] = file
    return args


def _attach_hint(command: Command, tr: Catalog) -> RichText:
    return tr.gettext("/{command}: attach the file to the command's message; I never open a "
                      "file named in a command.", command=command.name)


def check_bounds(command: Command, option: Option, value: Any, tr: Catalog) -> int:
    """``value`` if it is a whole number within the option's bounds, else UsageError."""
    low, high = option.minimum, option.maximum
    if (isinstance(value, bool) or not isinstance(value, int)
            or (low is not None and value < low) or (high is not None and value > high)):
        shown = str(value) if len(str(value)) <= 30 else str(value)[:29] + "…"
        raise UsageError(tr.gettext(
            "/{command}: {option} must be a whole number from {low} to {high}, not “{value}”.",
            command=command.name, option=option.name, low=low, high=high, value=shown))
    return value


def split_words(text: str) -> list[str]:
    """Split a command line, honouring quotes but forgiving unbalanced ones."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def usage(command: Command) -> str:
    parts = [f"/{command.name}"]
    for option in command.options:
        label = "|".join(option.choices) if option.choices else option.name
        parts.append(f"<{label}>" if option.required else f"[{label}]")
    return "usage: " + " ".join(parts)


def _convert(
    command: Command, option: Option, word: str, members: MemberResolver,
    channels: ChannelResolver, tr: Catalog,
) -> Any:
    values = {"command": command.name, "option": option.name, "value": word}
    if option.kind is OptionKind.INTEGER:
        try:
            number = int(word) if len(word) <= 30 else None
        except ValueError:
            number = None
        if number is None:
            raise UsageError(tr.gettext(
                "/{command}: {option} must be a whole number, not “{value}”.", **values)
            ) from None
        return check_bounds(command, option, number, tr)
    if option.kind is OptionKind.MEMBER:
        member = members(word)
        if member is None:
            raise UsageError(tr.gettext(
                "/{command}: I can't find the member “{value}” here; mention them as @name.",
                **values))
        return member
    if option.kind is OptionKind.CHANNEL:
        channel = channels(word)
        if channel is None:
            raise unknown_channel(command.name, word, tr)
        return channel
    if option.kind is OptionKind.CHOICE and word.lower() not in option.choices:
        raise UsageError(tr.gettext("/{command}: {option} must be one of {choices}, not “{value}”.",
                                    choices=", ".join(option.choices), **values))
    return word.lower() if option.kind is OptionKind.CHOICE else word


def unknown_channel(command: str, word: str, tr: Catalog) -> UsageError:
    """The refusal for a channel that is not in this community."""
    return UsageError(tr.gettext(
        "/{command}: I can't find the channel “{value}” here. Name one of this community's "
        "channels (#name, its name or its id), or write here for the channel you are in.",
        command=command, value=word))
