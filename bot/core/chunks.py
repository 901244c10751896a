"""Splitting rendered text into messages within a platform's length limit.

Every platform caps a message (Discord 2,000 characters, Telegram 4,096); a weekly summary
or a long content post must arrive whole, in several messages, never cut off. Adapters
render a text into *atoms* (a mention or link whole, a word, a space, a line break) and
this module packs the atoms into messages, breaking at a line break where it can.
Lengths are counted in UTF-16 units, as both platforms count, so an emoji counts twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from bot.core.text import RichText, Segment

_PIECES = re.compile(r"\n|[^\S\n]+|\S+")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def atoms(text: RichText, *, render: Callable[[Segment], str], escape: Callable[[str], str],
          limit: int) -> list[str]:
    """Rendered pieces that are never split; ``render`` takes mentions and links,
    ``escape`` the plain words. A word longer than a whole message is cut between
    characters, never inside an escape sequence."""
    out: list[str] = []
    for segment in text.segments:
        if not isinstance(segment, str):
            out.append(render(segment))
            continue
        for piece in _PIECES.findall(segment):
            out.extend(_hard_split(piece, escape, limit))
    return out


def _hard_split(word: str, escape: Callable[[str], str], limit: int) -> list[str]:
    escaped = escape(word)
    if utf16_length(escaped) <= limit:
        return [escaped]
    pieces, current = [], ""
    for char in word:
        piece = escape(char)
        if utf16_length(current) + utf16_length(piece) > limit:
            pieces.append(current)
            current = ""
        current += piece
    return [*pieces, current] if current else pieces


def pack(pieces: Iterable[str], limit: int) -> list[str]:
    """Messages of at most ``limit`` UTF-16 units, split at a line break when one is in
    the second half of a full message, else between words."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for atom in pieces:
        length = utf16_length(atom)
        while size + length > limit and current:
            cut = _cut_point(current, limit)
            messages.append("".join(current[:cut]))
            current = current[cut:]
            size = sum(utf16_length(a) for a in current)
        current.append(atom)
        size += length
    if current:
        messages.append("".join(current))
    return [m.strip() for m in messages if m.strip()]


def _cut_point(current: list[str], limit: int) -> int:
    position = 0
    best = len(current)
    for index, atom in enumerate(current):
        position += utf16_length(atom)
        if atom == "\n" and position >= limit // 2:
            best = index + 1
    return best
