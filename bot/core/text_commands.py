"""Typed commands, one pipeline for every platform: find -> parse -> invocation -> reply.

Discord's ``!rank``, Telegram's ``/rank@bot`` and a console line all become a
``TypedCommand``: the words after the prefix, plus what only the platform knows (who
typed it, how a mention or a channel name resolves, the rights, the attached files).
The rules are the same everywhere: a mistake in the words is answered privately, rights
are asked only once the words parsed, and a member's file for a moderator command is
refused unread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.attachments import Attachment
from bot.core.commands import (
    ChannelResolver,
    Command,
    CommandError,
    Invocation,
    MemberRef,
    MemberResolver,
    Reply,
    attach_files,
    parse_text_arguments,
)
from bot.core.port import BotPort

if TYPE_CHECKING:
    from bot.i18n import Catalog

#: Whether the invoker moderates here, asked once the words parsed (on Telegram it costs
#: a call, which a platform may skip for commands whose answer does not depend on it).
RightsCheck = Callable[[Command], Awaitable[bool]]
#: The files attached to the command's message (read only once the invoker may run it).
FileReader = Callable[[Command, "Catalog"], Awaitable[Sequence[Attachment]]]
#: The platform's own reading of the words after the command (Telegram: a reply names
#: the member).
WordsRewrite = Callable[[Command, list[str]], list[str]]


async def no_files(_command: Command, _tr: Catalog) -> Sequence[Attachment]:
    return ()


def rights(is_moderator: bool) -> RightsCheck:
    """A rights check for platforms that know the rights up front."""

    async def check(_command: Command) -> bool:
        return is_moderator

    return check


@dataclass(frozen=True, slots=True, kw_only=True)
class TypedCommand:
    community: str
    channel: str
    invoker: MemberRef
    at: datetime
    #: the words after the prefix: ``["points", "give", "@bob", "5"]``
    words: Sequence[str]
    members: MemberResolver
    channels: ChannelResolver
    is_moderator: RightsCheck
    files: FileReader = no_files
    rewrite: WordsRewrite | None = None
    #: a command that can be delivered again (a replayed line) runs once per key
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    #: None: the words name no command of the bot's (conversation, or another bot's)
    command: Command | None
    #: None: nothing to answer (no such command, or run already under the same key)
    reply: Reply | None


async def run_text_command(port: BotPort, typed: TypedCommand) -> Outcome:
    """Find the command the words start with, parse its arguments, run it, and return
    the reply to show; a mistake in the words comes back as a private reply."""
    found = port.find_command(typed.words)
    if found is None:
        return Outcome(None, None)
    command, words = found
    tr = port.catalog(typed.community)
    if typed.rewrite is not None:
        words = typed.rewrite(command, words)
    try:
        args = parse_text_arguments(command, words, typed.members, typed.channels, tr)
        is_moderator = await typed.is_moderator(command)
        if not command.moderator or is_moderator:  # else refused, nothing read
            attach_files(command, args, await typed.files(command, tr), tr)
    except CommandError as exc:
        return Outcome(command, Reply(exc.text, private=True))
    invocation = Invocation(
        community=typed.community, channel=typed.channel, invoker=typed.invoker,
        is_moderator=is_moderator, at=typed.at, args=args, channels=typed.channels,
    )
    if typed.key is None:
        return Outcome(command, await port.invoke(command, invocation))
    return Outcome(command, await port.invoke(command, invocation, key=typed.key))


def unknown_command(tr: Catalog, typed: str) -> Reply:
    """The answer to a command the bot does not have, quoting what was typed."""
    return Reply(tr.gettext("I don't know the command “{command}”.", command=typed),
                 private=True)
