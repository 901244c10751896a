"""JSON Lines records <-> platform-neutral events (the replay file format).

One JSON object per line with ``type``, ``at`` (ISO 8601 with a zone) and ``community``.
Ids without a platform prefix are taken as console ids (``alice`` -> ``console:alice``).

A replay file is input from anywhere, so every field is checked before it becomes an
event: a bad line is refused with a sentence naming the line and the field, never with a
traceback, and the rest of the file still runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import orjson

from bot.core.events import (
    Channel,
    CommunityJoined,
    CommunityLeft,
    Event,
    InviteUsed,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    ReactionsCounted,
)
from bot.core.ids import PLATFORMS
from bot.core.text import visible_length

#: Longest id accepted (platform ids are 20 digits or so; console ids are names).
MAX_ID = 200
#: Longest member or community name accepted.
MAX_NAME = 200
#: Longest emoji accepted (a custom emoji's name and id, or a joined emoji sequence).
MAX_EMOJI = 100
#: Largest message length and reaction count accepted.
MAX_NUMBER = 1_000_000_000
#: Longest line read; longer ones are skipped unread.
MAX_LINE_BYTES = 1_000_000
#: Events before this are refused (the store keeps Unix seconds; no platform is older).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: Events more than this after the current time are refused: they cannot have happened.
FUTURE_SLACK = timedelta(days=1)


class RecordError(ValueError):
    """A replay line that cannot be understood; the message names the line and field."""


@dataclass(frozen=True, slots=True)
class CommandLine:
    """A member typing a command (``/rank``) in a channel; ``files`` are paths of files
    attached to it, on the operator's machine (relative to the replay file)."""

    community: str
    channel: str
    member: str
    text: str
    at: datetime
    files: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The same command line replayed twice is run once (see ``Runtime.invoke``)."""
        digest = hashlib.sha256(self.text.encode()).hexdigest()[:16]
        return f"Command:{self.community}:{self.member}:{int(self.at.timestamp())}:{digest}"


def qualify(identifier: str) -> str:
    prefix = identifier.split(":", 1)[0]
    return identifier if prefix in PLATFORMS and ":" in identifier else f"console:{identifier}"


def describe(value: Any) -> str:
    """A JSON value as a person would name it in a sentence."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    if isinstance(value, str):
        return f'the text "{value[:40]}…"' if len(value) > 40 else f'the text "{value}"'
    return "a list" if isinstance(value, list) else "an object"


def _reject_constant(name: str) -> float:
    raise RecordError(f"{name} is not a number JSON allows; write a plain number")


def loads(line: str) -> Any:
    """``json.loads`` without the NaN and Infinity that Python's json accepts.

    orjson first (several times faster; it refuses those constants too); whatever it
    refuses (also huge integers, lone surrogates) goes to ``json`` for the same result,
    or the same error, as before.
    """
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line, parse_constant=_reject_constant)


_CONTROL = re.compile("[\x00-\x1f\x7f]")
#: Ids that passed ``_Fields.ident`` (as written -> qualified); the check is a function
#: of the text alone, and the same members, channels and communities fill every line.
CHECKED_IDS = 100_000
_CHECKED_IDS: dict[str, str] = {}


class _Fields:
    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def fail(self, sentence: str) -> RecordError:
        return RecordError(f"{self.where}: {sentence}")

    def text(self, name: str, default: str | None = None, *, limit: int | None = None) -> str:
        value = self.raw.get(name, default)
        if value is None:
            kind = self.raw.get("type")
            raise self.fail(f"{kind if isinstance(kind, str) else 'a record'} needs \"{name}\"")
        if not isinstance(value, str):
            raise self.fail(f"\"{name}\" must be text, not {describe(value)}")
        if limit is not None and len(value) > limit:
            raise self.fail(f"\"{name}\" is {len(value):,} characters long; at most {limit} "
                            "are accepted")
        if "\x00" in value:
            raise self.fail(f"\"{name}\" contains a NUL character; remove it")
        return value

    def ident(self, name: str) -> str:
        value = self.raw.get(name)
        if type(value) is str:
            known = _CHECKED_IDS.get(value)
            if known is not None:  # checked before: ids repeat on nearly every line
                return known
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise self.fail(f"\"{name}\" must be an id in quotes, such as \"{value}\", not "
                            f"{describe(value)}")
        return self._checked_id(name, self.text(name, limit=MAX_ID))

    def optional_ident(self, name: str) -> str | None:
        return None if self.raw.get(name) is None else self.ident(name)

    def _checked_id(self, name: str, value: str) -> str:
        if not value.strip():
            raise self.fail(f"\"{name}\" is empty; give an id such as \"dana\"")
        if _CONTROL.search(value):
            raise self.fail(f"\"{name}\" contains a control character; ids are plain text")
        if "|" in value:
            raise self.fail(f"\"{name}\" contains \"|\", which ids cannot contain")
        qualified = qualify(value)
        if not qualified.split(":", 1)[1]:
            raise self.fail(f"\"{name}\" names a platform but no id, such as \"{value}123\"")
        if len(_CHECKED_IDS) >= CHECKED_IDS:
            _CHECKED_IDS.clear()
        _CHECKED_IDS[value] = qualified
        return qualified

    def name(self, name: str) -> str:
        return self.text(name, "", limit=MAX_NAME)

    def flag(self, name: str) -> bool:
        value = self.raw.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(f"\"{name}\" must be true or false, not {describe(value)}")
        return value

    def count(self, name: str, value: Any) -> int:
        """A whole number from 0 to ``MAX_NUMBER`` (a length, a number of reactions)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"\"{name}\" must be a whole number, not {describe(value)}")
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            raise self.fail(f"\"{name}\" must be a whole number, not {describe(value)}")
        if not 0 <= value <= MAX_NUMBER:
            raise self.fail(f"\"{name}\" must be between 0 and {MAX_NUMBER:,}, not "
                            f"{describe(value)}")
        return int(value)

    def moment(self, not_after: datetime | None) -> datetime:
        value = self.text("at", limit=64)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(f"\"at\" is not an ISO 8601 time such as "
                            f"2026-11-02T08:00:00Z: {describe(value)}") from None
        if moment.tzinfo is None:
            raise self.fail(f"\"at\" needs a time zone, e.g. {value}Z")
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise self.fail(f"\"at\" is out of range: {value}") from None
        if moment < EARLIEST:
            raise self.fail(f"\"at\" is {value}, before 1970; check the year")
        if not_after is not None and moment > not_after:
            raise self.fail(f"\"at\" is {value}, more than a day ahead of the current time "
                            f"({(not_after - FUTURE_SLACK):%Y-%m-%d %H:%M} UTC); an event "
                            "cannot come from the future, so check the year")
        return moment


def _length(f: _Fields, text: str | None) -> int:
    if f.raw.get("length") is None:
        return visible_length(text or "")
    return f.count("length", f.raw["length"])


def _optional_text(f: _Fields) -> str | None:
    return None if f.raw.get("text") is None else f.text("text")


def _message(f: _Fields, base: dict[str, Any]) -> MessagePosted:
    text = _optional_text(f)
    return MessagePosted(
        **base, message=f.ident("message"), author=f.ident("author"),
        author_name=f.name("author_name"), author_is_bot=f.flag("author_is_bot"),
        channel=f.ident("channel"), thread=f.optional_ident("thread"),
        reply_to=f.optional_ident("reply_to"), reply_to_author=f.optional_ident("reply_to_author"),
        length=_length(f, text), has_media=f.flag("has_media"), text=text,
    )


def _edit(f: _Fields, base: dict[str, Any]) -> MessageEdited:
    text = _optional_text(f)
    return MessageEdited(**base, message=f.ident("message"), text=text, length=_length(f, text))


def _timed(event: Event) -> Event:
    """The event with its time in its key. A platform's reaction or leave carries no id of
    its own, so its key names only what it is about (the same reaction re-delivered stays a
    duplicate); a replay line has its time, which tells the same line delivered again from
    the same reaction added again later, also across a restart."""
    # the event was built a line above and nobody else holds it yet: set its key in place
    # rather than copy it (``dataclasses.replace`` costs more than building it did)
    object.__setattr__(event, "platform_key", f"{event.key}@{event.at.timestamp():.6f}")
    return event


def _reaction(kind: type[ReactionAdded] | type[ReactionRemoved]) -> Callable[..., Event]:
    def build(f: _Fields, base: dict[str, Any]) -> Event:
        emoji = f.text("emoji", limit=MAX_EMOJI)
        if not emoji.strip():
            raise f.fail("\"emoji\" is empty")
        return _timed(kind(**base, message=f.ident("message"), reactor=f.ident("reactor"),
                           emoji=emoji, message_author=f.optional_ident("author"),
                           reactor_is_bot=f.flag("reactor_is_bot")))
    return build


def _channels(f: _Fields) -> tuple[Channel, ...]:
    listed = f.raw.get("channels", [])
    if not isinstance(listed, list):
        raise f.fail(f"\"channels\" must be a list of {{\"id\": …, \"name\": …}}, not "
                     f"{describe(listed)}")
    channels = []
    for index, item in enumerate(listed, start=1):
        if not isinstance(item, dict):
            raise f.fail(f"channel {index} must be an object like {{\"id\": \"general\"}}, "
                         f"not {describe(item)}")
        entry = _Fields(item, f.where)
        entry.raw = {"type": f"channel {index}", **item}
        channels.append(Channel(id=entry.ident("id"), name=entry.name("name")))
    return tuple(channels)


def _counts(f: _Fields) -> tuple[tuple[str, int], ...]:
    counts = f.raw.get("counts", {})
    if not isinstance(counts, dict):
        raise f.fail(f"\"counts\" must be an object like {{\"🔥\": 3}}, not {describe(counts)}")
    return tuple((emoji[:MAX_EMOJI], f.count(f"counts.{emoji}", n)) for emoji, n in counts.items())


_BUILDERS: dict[str, Callable[[_Fields, dict[str, Any]], Event]] = {
    "community_joined": lambda f, b: CommunityJoined(**b, name=f.name("name"),
                                                     channels=_channels(f)),
    "community_left": lambda f, b: CommunityLeft(**b),
    "member_joined": lambda f, b: MemberJoined(
        **b, member=f.ident("member"), name=f.name("name"), is_bot=f.flag("is_bot")),
    "member_left": lambda f, b: _timed(MemberLeft(**b, member=f.ident("member"))),
    "invite_used": lambda f, b: InviteUsed(
        **b, member=f.ident("member"), inviter=f.optional_ident("inviter"),
        code=f.text("code", "", limit=MAX_ID)),
    "message_posted": _message,
    "message_edited": _edit,
    "message_deleted": lambda f, b: MessageDeleted(**b, message=f.ident("message")),
    "reactions_counted": lambda f, b: ReactionsCounted(**b, message=f.ident("message"),
                                                       counts=_counts(f)),
    "reaction_added": _reaction(ReactionAdded),
    "reaction_removed": _reaction(ReactionRemoved),
}

RECORD_TYPES = (*_BUILDERS, "command")


# -- the fast path -------------------------------------------------------------------
# Nearly every line of a replay is a well-formed post, reaction or join, and checking it
# field by field (a method call, a lookup and an error sentence ready per field) cost more
# than the rest of its parsing. ``fast_record`` checks such a line in one go; it accepts
# only what ``_parse_record`` accepts, builds the very same event, and answers None for
# anything unusual (a missing, mistyped or suspicious field, another type) so the slow path
# decides, and words the error. tests/unit/test_replay_fast_path.py holds them equal.


def _fresh_id(value: Any) -> str | None:
    """``_Fields.ident`` of a valid id, worked out afresh; None for anything it would
    refuse, and for some it would accept (white space but the space, a NUL) to be safe."""
    if type(value) is not str or len(value) > MAX_ID:
        return None
    if value.isalnum():  # no space, control character, "|" or ":": a console id
        return "console:" + value
    # printable: no control character nor NUL, and no white space but the space
    if not value.isprintable() or "|" in value or not value.strip():
        return None
    prefix, colon, rest = value.partition(":")
    if colon and prefix in PLATFORMS:
        return value if rest else None
    return "console:" + value


def _fast_id(value: Any) -> str | None:
    """``_fresh_id`` remembered as ``_Fields.ident`` remembers it: for the ids that fill
    every line (members, channels, communities)."""
    if type(value) is not str:
        return None
    known = _CHECKED_IDS.get(value)
    if known is not None:
        return known
    qualified = _fresh_id(value)
    if qualified is not None:
        if len(_CHECKED_IDS) >= CHECKED_IDS:
            _CHECKED_IDS.clear()
        _CHECKED_IDS[value] = qualified
    return qualified


# A message id is new on its post and seldom seen again: remembering each filled the memory
# with them, and a lookup in that much memory cost more than checking the id afresh.
_message_id = _fresh_id


def _fast_moment(value: Any, not_after: datetime | None) -> datetime | None:
    """``_Fields.moment`` of a valid time; None for anything it would refuse."""
    if type(value) is not str or len(value) > 64 or "\x00" in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return None
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if moment < EARLIEST or (not_after is not None and moment > not_after):
        return None
    return moment


def _fast_name(value: Any) -> bool:
    """Whether ``_Fields.name`` accepts ``value`` as it is."""
    return type(value) is str and len(value) <= MAX_NAME and "\x00" not in value


def _fast_message(raw: dict[str, Any], not_after: datetime | None) -> Event | None:
    get = raw.get
    community = _fast_id(get("community"))
    at = _fast_moment(get("at"), not_after)
    message = _message_id(get("message"))
    author = _fast_id(get("author"))
    channel = _fast_id(get("channel"))
    if community is None or at is None or message is None or author is None \
            or channel is None:
        return None
    thread = get("thread")
    if thread is not None and (thread := _fast_id(thread)) is None:
        return None
    reply_to = get("reply_to")
    if reply_to is not None and (reply_to := _message_id(reply_to)) is None:
        return None
    reply_to_author = get("reply_to_author")
    if reply_to_author is not None and (reply_to_author := _fast_id(reply_to_author)) is None:
        return None
    author_name = get("author_name", "")
    author_is_bot = get("author_is_bot", False)
    has_media = get("has_media", False)
    text = get("text")
    if not _fast_name(author_name) or type(author_is_bot) is not bool \
            or type(has_media) is not bool \
            or (text is not None and (type(text) is not str or "\x00" in text)):
        return None
    length = get("length")
    if length is None:
        length = visible_length(text or "")
    elif type(length) is not int or not 0 <= length <= MAX_NUMBER:
        return None
    return MessagePosted(
        community=community, at=at, message=message, author=author, author_name=author_name,
        author_is_bot=author_is_bot, channel=channel, thread=thread, reply_to=reply_to,
        reply_to_author=reply_to_author, length=length, has_media=has_media, text=text)


def _fast_reaction(kind: type[ReactionAdded] | type[ReactionRemoved]
                   ) -> Callable[[dict[str, Any], datetime | None], Event | None]:
    def build(raw: dict[str, Any], not_after: datetime | None) -> Event | None:
        get = raw.get
        community = _fast_id(get("community"))
        at = _fast_moment(get("at"), not_after)
        emoji = get("emoji")
        message = _message_id(get("message"))
        reactor = _fast_id(get("reactor"))
        author = get("author")
        reactor_is_bot = get("reactor_is_bot", False)
        if community is None or at is None or message is None or reactor is None \
                or type(emoji) is not str or len(emoji) > MAX_EMOJI or "\x00" in emoji \
                or not emoji.strip() or type(reactor_is_bot) is not bool \
                or (author is not None and (author := _fast_id(author)) is None):
            return None
        return _timed(kind(community=community, at=at, message=message, reactor=reactor,
                           emoji=emoji, message_author=author,
                           reactor_is_bot=reactor_is_bot))
    return build


def _fast_member_joined(raw: dict[str, Any], not_after: datetime | None) -> Event | None:
    get = raw.get
    community = _fast_id(get("community"))
    at = _fast_moment(get("at"), not_after)
    member = _fast_id(get("member"))
    name = get("name", "")
    is_bot = get("is_bot", False)
    if community is None or at is None or member is None or not _fast_name(name) \
            or type(is_bot) is not bool:
        return None
    return MemberJoined(community=community, at=at, member=member, name=name, is_bot=is_bot)


def _fast_member_left(raw: dict[str, Any], not_after: datetime | None) -> Event | None:
    get = raw.get
    community = _fast_id(get("community"))
    at = _fast_moment(get("at"), not_after)
    member = _fast_id(get("member"))
    if community is None or at is None or member is None:
        return None
    return _timed(MemberLeft(community=community, at=at, member=member))


_FAST_BUILDERS: dict[str, Callable[[dict[str, Any], datetime | None], Event | None]] = {
    "message_posted": _fast_message,
    "reaction_added": _fast_reaction(ReactionAdded),
    "reaction_removed": _fast_reaction(ReactionRemoved),
    "member_joined": _fast_member_joined,
    "member_left": _fast_member_left,
}


def fast_record(raw: Any, not_after: datetime | None = None) -> Event | None:
    """The event of a well-formed record of a common type, exactly as ``parse_record``
    builds it; None when the record needs the full check (it may be wrong)."""
    if type(raw) is not dict:
        return None
    kind = raw.get("type")
    if type(kind) is not str:
        return None
    build = _FAST_BUILDERS.get(kind)
    return None if build is None else build(raw, not_after)


def future_limit(now: datetime | None = None) -> datetime:
    """The latest event time a replay accepts (the current time plus a day)."""
    return (now or datetime.now(UTC)) + FUTURE_SLACK


def parse_record(raw: Any, where: str, *, not_after: datetime | None = None
                 ) -> Event | CommandLine:
    """One record as an event (or a command line); ``RecordError`` says what is wrong.

    ``not_after`` refuses events later than it (``future_limit()`` for a replay file).
    """
    item = fast_record(raw, not_after)
    return item if item is not None else _parse_record(raw, where, not_after)


def _parse_record(raw: Any, where: str, not_after: datetime | None) -> Event | CommandLine:
    """Every field checked one by one, so the first wrong one is named in the error."""
    if not isinstance(raw, dict):
        raise RecordError(f"{where}: expected a JSON object like {{\"type\": …}}, "
                          f"not {describe(raw)}")
    f = _Fields(raw, where)
    kind = f.text("type", limit=64)
    builder = _BUILDERS.get(kind)
    if builder is None and kind != "command":
        raise RecordError(f"{where}: unknown type {kind!r}; expected one of "
                          + ", ".join(RECORD_TYPES))
    base = {"community": f.ident("community"), "at": f.moment(not_after)}
    if kind == "command":
        files = raw.get("files", [])
        if not isinstance(files, list) or not all(
                isinstance(x, str) and x and len(x) <= 4096 and "\x00" not in x for x in files):
            raise RecordError(f'{where}: "files" must be a list of file paths')
        return CommandLine(community=base["community"], channel=f.ident("channel"),
                           member=f.ident("member"), text=f.text("text", limit=4000),
                           at=base["at"], files=tuple(files))
    assert builder is not None
    try:
        return builder(f, base)
    except RecordError:
        raise
    except (TypeError, KeyError, ValueError, OverflowError) as exc:  # pragma: no cover
        raise RecordError(f"{where}: this {kind} line cannot be read ({exc})") from None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a replay file that is neither blank nor a comment."""

    number: int
    where: str
    raw: Any = None
    item: Event | CommandLine | None = None
    error: str | None = None


def read_lines(handle: IO[bytes], name: str, *, not_after: datetime | None = None
               ) -> Iterator[Line]:
    """The records of a replay file, read as bytes one line at a time so that a line that
    is not UTF-8, not JSON or far too long is reported by its number and skipped."""
    number = 0
    while True:
        data = handle.readline(MAX_LINE_BYTES + 1)
        if not data:
            return
        number += 1
        where = f"{name}:{number}"
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            while data and not data.endswith(b"\n"):  # skip the rest of that line
                data = handle.readline(MAX_LINE_BYTES)
            yield Line(number, where, error=f"{where}: the line is longer than "
                                            f"{MAX_LINE_BYTES:,} bytes; it was skipped")
            continue
        try:  # the usual line: UTF-8 JSON with at most JSON's white space around it
            raw = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # or not: read it step by step below, for the same result or error
        else:
            yield _record_line(number, where, raw, not_after)
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Line(number, where, error=f"{where}: the line is not UTF-8 text (byte "
                                            f"{exc.start + 1}); save the file as UTF-8")
            continue
        stripped = text.strip().lstrip("\ufeff")
        if not stripped or stripped.startswith("#"):
            continue
        try:
            raw = loads(stripped)
        except RecordError as exc:
            yield Line(number, where, error=f"{where}: {exc}")
            continue
        except json.JSONDecodeError as exc:
            yield Line(number, where, error=f"{where}: not valid JSON ({exc.msg} at "
                                            f"character {exc.pos + 1})")
            continue
        except RecursionError:
            yield Line(number, where, error=f"{where}: the JSON is nested too deeply")
            continue
        yield _record_line(number, where, raw, not_after)


def _record_line(number: int, where: str, raw: Any, not_after: datetime | None) -> Line:
    """The line of a JSON value: its event (the fast path first, in ``parse_record``) or
    what is wrong with it."""
    try:
        return Line(number, where, raw, parse_record(raw, where, not_after=not_after))
    except RecordError as exc:
        return Line(number, where, raw=raw, error=str(exc))
