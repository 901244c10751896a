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

from bot.core.commands import Command
from bot.core.ids import native_part, platform_of
from bot.core.text import ChannelLink, Mention, MessageLink, RichText

#: Telegram's limits (characters after entity parsing; we count the HTML, which is longer,
#: in UTF-16 units like Telegram does, so a chunk is always accepted).
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
DESCRIPTION_LIMIT = 256
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_TOKENS = re.compile(r"\n|[^\S\n]+|\S+")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


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


def _atoms(text: RichText, limit: int) -> list[str]:
    """Indivisible rendered pieces: mentions, words, spaces and newlines."""
    atoms: list[str] = []
    for segment in text.segments:
        if isinstance(segment, Mention):
            atoms.append(render_mention(segment))
        elif isinstance(segment, MessageLink):
            atoms.append(render_message_link(segment))
        elif isinstance(segment, ChannelLink):
            atoms.append(html.escape(f"#{segment.name}", quote=False))
        else:
            for token in _TOKENS.findall(segment):
                atoms.extend(_hard_split(token, limit))
    return atoms


def _hard_split(token: str, limit: int) -> list[str]:
    """A word longer than a whole message is cut, never inside an HTML entity."""
    escaped = html.escape(token, quote=False)
    if utf16_length(escaped) <= limit:
        return [escaped]
    pieces, current = [], ""
    for char in token:
        piece = html.escape(char, quote=False)
        if utf16_length(current) + utf16_length(piece) > limit:
            pieces.append(current)
            current = ""
        current += piece
    return [*pieces, current] if current else pieces


def render_html(text: RichText) -> str:
    """One HTML string (no length limit)."""
    return "".join(_atoms(text, TEXT_LIMIT * 100))


def render_chunks(text: RichText, limit: int = TEXT_LIMIT) -> list[str]:
    """HTML messages of at most ``limit`` UTF-16 units, split at a line break when one is
    in the second half of a full chunk, else at a space."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for atom in _atoms(text, limit):
        length = utf16_length(atom)
        while size + length > limit and current:
            cut = _cut_point(current, limit)
            chunks.append("".join(current[:cut]))
            current = current[cut:]
            size = sum(utf16_length(a) for a in current)
        current.append(atom)
        size += length
    if current:
        chunks.append("".join(current))
    return [c.strip() for c in chunks if c.strip()]


def _cut_point(atoms: list[str], limit: int) -> int:
    position = 0
    best = len(atoms)
    for index, atom in enumerate(atoms):
        position += utf16_length(atom)
        if atom == "\n" and position >= limit // 2:
            best = index + 1
    return best


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
