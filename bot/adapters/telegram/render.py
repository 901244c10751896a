"""Rendering for Telegram: RichText -> HTML messages within the length limit, and the
command declarations -> the /command menu. Pure functions.

Owner- and user-supplied text is escaped, so a name like ``<b>Bob</b>`` shows as typed
and can never break the parse mode.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.chunks import atoms, pack
from bot.core.commands import Command
from bot.core.ids import native_part, platform_of
from bot.core.text import ChannelLink, Mention, MessageLink, RichText, Segment

#: Telegram's limits (characters after entity parsing; we count the HTML, which is longer,
#: in UTF-16 units like Telegram does, so a chunk is always accepted).
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DESCRIPTION_LIMIT = 256
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


def render_mention(mention: Mention) -> str:
    name = html.escape(mention.name, quote=False)
    if platform_of(mention.member) == "telegram" and native_part(mention.member).isdigit():
        return f'<a href="tg://user?id={native_part(mention.member)}">{name}</a>'
    return html.escape("@", quote=False) + name


def message_url(link: MessageLink) -> str | None:
    """``https://t.me/c/<chat>/[<topic>/]<message>`` for supergroups (ids -100…);
    basic groups have no message links."""
    if platform_of(link.message) != "telegram":
        return None
    chat, _, message = native_part(link.message).partition(":")
    if not chat.startswith("-100") or not message.isdigit():
        return None
    parts = native_part(link.channel).split(":")
    topic = f"{parts[2]}/" if len(parts) == 3 and parts[1] == "topic" else ""
    return f"https://t.me/c/{chat[4:]}/{topic}{message}"


def render_message_link(link: MessageLink) -> str:
    label = html.escape(link.label, quote=False)
    url = message_url(link)
    return f'<a href="{url}">{label}</a>' if url else label


def _render_segment(segment: Segment) -> str:
    if isinstance(segment, Mention):
        return render_mention(segment)
    if isinstance(segment, MessageLink):
        return render_message_link(segment)
    if isinstance(segment, ChannelLink):
        return html.escape(f"#{segment.name}", quote=False)
    return html.escape(segment, quote=False)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def render_html(text: RichText) -> str:
    """One HTML string (no length limit)."""
    return "".join(_render_segment(segment) for segment in text.segments)


def render_chunks(text: RichText, limit: int = TEXT_LIMIT) -> list[str]:
    """HTML messages of at most ``limit`` UTF-16 units (see ``bot.core.chunks``)."""
    return pack(atoms(text, render=_render_segment, escape=_escape, limit=limit), limit)


# -- the command menu ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MenuEntry:
    command: str
    description: str


def command_menu(commands: Iterable[Command], *, moderator: bool) -> list[MenuEntry]:
    """One /command per first word (``/points give`` -> ``/points``); moderator-only
    commands only in the moderators' menu. Names Telegram rejects are left out."""
    grouped: dict[str, list[Command]] = {}
    for command in commands:
        if command.moderator and not moderator:
            continue
        grouped.setdefault(command.path[0], []).append(command)
    entries = []
    for name, members in grouped.items():
        if not COMMAND_NAME.match(name):
            continue
        if len(members) == 1 and len(members[0].path) == 1:
            description = members[0].description
        else:
            description = ", ".join(" ".join(c.path[1:]) or c.description for c in members)
        entries.append(MenuEntry(name, _clip(description or name, DESCRIPTION_LIMIT)))
    return sorted(entries, key=lambda e: e.command)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
