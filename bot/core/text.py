"""Outgoing text as segments, so adapters can render mentions and escape safely.

A template is owner-supplied; values are names, numbers and mentions. Keeping them as
separate segments lets Discord restrict mentions, Telegram escape HTML, and both wrap
values in Unicode isolates so Hebrew around English names and numbers stays readable.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

#: FIRST STRONG ISOLATE / POP DIRECTIONAL ISOLATE (Unicode bidi algorithm, UAX #9).
FSI = "\u2068"
PDI = "\u2069"

RTL_LANGUAGES = frozenset({"he", "ar", "fa", "ur", "yi"})
#: Characters in one message, per platform: a post, and every owner template, fits one.
TEXT_LIMITS = {"discord": 2000, "telegram": 4096, "console": 4096}


def text_limit(community: str) -> int:
    """The message length limit of the community's platform (the smallest if unknown)."""
    platform = community.partition(":")[0]
    return TEXT_LIMITS.get(platform, min(TEXT_LIMITS.values()))


@dataclass(frozen=True, slots=True)
class Mention:
    member: str
    name: str


@dataclass(frozen=True, slots=True)
class ChannelLink:
    channel: str
    name: str


@dataclass(frozen=True, slots=True)
class MessageLink:
    """A link to a message; adapters render a platform URL, consoles the label."""

    community: str
    channel: str
    message: str
    label: str


Segment = str | Mention | ChannelLink | MessageLink
Value = str | int | float | Mention | ChannelLink | MessageLink


class TemplateError(ValueError):
    """A template names a placeholder that does not exist, or is malformed.

    ``message`` is an untranslated sentence (a template itself) and ``values`` fill it, so
    a cog can say it in the community's language: ``tr.gettext(exc.message, **exc.values)``.
    """

    def __init__(self, message: str, **values: str | int) -> None:
        self.message = message
        self.values = values
        super().__init__(message.format(**values))


@dataclass(frozen=True, slots=True)
class RichText:
    segments: tuple[Segment, ...]

    def plain(self) -> str:
        """Readable text for consoles and logs: mentions become @name."""
        out = []
        for seg in self.segments:
            if isinstance(seg, Mention):
                out.append(f"@{seg.name}")
            elif isinstance(seg, ChannelLink):
                out.append(f"#{seg.name}")
            elif isinstance(seg, MessageLink):
                out.append(seg.label)
            else:
                out.append(seg)
        return "".join(out)

    def mentions(self) -> tuple[str, ...]:
        return tuple(s.member for s in self.segments if isinstance(s, Mention))

    def __add__(self, other: RichText) -> RichText:
        return RichText(self.segments + other.segments)


def plain(text: str) -> RichText:
    return RichText((text,))


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def visible_length(text: str) -> int:
    """Characters a reader sees: combining marks, joiners and variation selectors don't count.

    A Hebrew letter with niqqud or a family emoji built from joiners counts once. Every
    message of every platform and import is measured, so the usual cases avoid a Python
    loop per character: ASCII text (only its spaces are invisible) and text without a
    joiner (deleting the invisible characters in C is the whole rule). Commonest of all is
    text whose only invisible character is the space (one regex scan finds out).
    """
    if text.isascii():
        if text.isprintable():  # no ASCII white space but the space
            return len(text) - text.count(" ")
        return len(text) - sum(map(text.count, _ASCII_SPACES))
    if _unusual().search(text) is None:
        return len(text) - text.count(" ")
    if "\u200d" not in text:
        return len(text.translate(_invisible()))
    return _visible_length_by_character(text)


def _is_invisible(ch: str) -> bool:
    code = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Me", "Cf") or ch.isspace()
            or 0xFE00 <= code <= 0xFE0F  # variation selectors
            or 0x1F3FB <= code <= 0x1F3FF)  # skin-tone modifiers attach to the emoji before


#: What ``str.isspace`` calls white space among the ASCII characters.
_ASCII_SPACES = tuple(chr(code) for code in range(128) if chr(code).isspace())
_INVISIBLE: dict[int, None] = {}


def _invisible() -> dict[int, None]:
    """Every code point a reader does not see, as a table for ``str.translate`` (built once,
    on first use: about 2,700 entries). Planes 4 to 13 hold no character yet and 15 and 16
    only private-use ones, which are visible; skipping them makes the build 4× quicker."""
    if not _INVISIBLE:
        for code in (*range(0x40000), *range(0xE0000, 0xE1000)):
            if _is_invisible(chr(code)):
                _INVISIBLE[code] = None
    return _INVISIBLE


@cache
def _unusual() -> re.Pattern[str]:
    """Any invisible character but the space, or any beyond the BMP (emoji, rare scripts):
    text without one is measured by its spaces alone. Beyond the BMP is one range because
    the regex engine tests such ranges one by one for every character, and emoji are
    measured by the table anyway. Built from the BMP alone (a quarter of the table's
    build), so text that never needs the table never builds it."""
    codes = [code for code in range(0x10000) if code != 0x20 and _is_invisible(chr(code))]
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    spans = "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return re.compile(f"[{spans}\\U00010000-\\U0010ffff]")


def _visible_length_by_character(text: str) -> int:
    """The rule itself: a character after a zero-width joiner is part of the one before."""
    count = 0
    joined = False
    for ch in text:
        if ch == "\u200d":
            joined = True
            continue
        if _is_invisible(ch):
            continue
        if joined:
            joined = False
            continue
        count += 1
    return count


def template_fields(template: str) -> list[str]:
    """Placeholder names in a template; raises TemplateError on broken braces."""
    return [name for _, name, _, _ in _parse(template) if name is not None]


def check_template(template: str, allowed: set[str] | frozenset[str], *,
                   community: str | None = None) -> None:
    """Validate an owner's template: only bare placeholders a feature offers (``{name}``,
    never ``{name:>9999}``, ``{name!r}`` or ``{name.attr}``) and, given the community, no
    longer than one message of its platform."""
    limit = text_limit(community) if community is not None else None
    if limit is not None and len(template) > limit:
        raise TemplateError("The text has {length} characters; {platform} allows at most "
                            "{limit}. Shorten it by {over}.", length=len(template),
                            platform=str(community).partition(":")[0], limit=limit,
                            over=len(template) - limit)
    for _, name, spec, conversion in _parse(template):
        if name is None:
            continue
        bare = name.split(".")[0].split("[")[0]
        if spec or conversion is not None or bare != name:
            raise TemplateError(
                "{placeholder} is not a bare placeholder; write it as {bare}, without a "
                "format, conversion, attribute or index.",
                placeholder=_shown(name, spec, conversion), bare="{" + (bare or "name") + "}")
        if name == "" or name not in allowed:
            offered = ", ".join("{" + a + "}" for a in sorted(allowed))
            raise TemplateError("unknown placeholder {placeholder}; you can use {offered}",
                                placeholder="{" + name + "}", offered=offered)


def compose(template: str, values: Mapping[str, Value], *, isolate: bool = False) -> RichText:
    """Fill a template, keeping mentions and channel links as segments.

    With ``isolate`` (right-to-left languages, or any value in another direction) every
    value is wrapped in FSI/PDI so a Latin name or a number cannot reorder the sentence.
    A format spec or conversion is never applied (``{name:>50000000}`` would build a
    50 MB text): a value is always written as itself.
    """
    segments: list[Segment] = []
    for literal, name, _spec, _conversion in _parse(template):
        if literal:
            segments.append(literal)
        if name is None:
            continue
        if name not in values:
            check_template(template, set(values))
        value = values[name]
        if isinstance(value, Mention | ChannelLink | MessageLink):
            piece: Segment = value
            label = value.label if isinstance(value, MessageLink) else value.name
            needs_isolation = isolate or has_rtl(label)
        else:
            piece = str(value)
            needs_isolation = isolate or has_rtl(piece)
        if needs_isolation:
            segments.extend((FSI, piece, PDI))
        else:
            segments.append(piece)
    return RichText(_merge_strings(segments))


def _parse(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(
            "the template has a broken placeholder ({problem}); write placeholders like "
            "{{name}} and double the braces {{{{ }}}} for literal ones", problem=str(exc)
        ) from exc


def _shown(name: str, spec: str | None, conversion: str | None) -> str:
    """A placeholder as the owner wrote it (near enough), to quote it back."""
    return ("{" + name + (f"!{conversion}" if conversion else "")
            + (f":{spec}" if spec else "") + "}")


def _merge_strings(segments: list[Segment]) -> tuple[Segment, ...]:
    merged: list[Segment] = []
    for seg in segments:
        if isinstance(seg, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + seg
        elif seg != "":
            merged.append(seg)
    return tuple(merged)
