"""The replay fast path (``fast_record``, and orjson reading a line as bytes) gives exactly
what the field-by-field path gives: the same event for a good line, the same sentence for
a bad one, whichever path remembered an id first."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.adapters.console import records
from bot.adapters.console.records import (
    RecordError,
    fast_record,
    future_limit,
    loads,
    parse_record,
    read_lines,
)
from tests.unit.test_replay_records import BAD_LINES

NOW = future_limit(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
FAST_TYPES = ("message_posted", "reaction_added", "reaction_removed", "member_joined",
              "member_left")


def slow(raw: Any, where: str = "f:1") -> str:
    """The field-by-field path's answer, as text: the event's repr and key, or the error."""
    try:
        item = records._parse_record(raw, where, NOW)
    except RecordError as exc:
        return f"error: {exc}"
    return f"{item!r} {getattr(item, 'key', '')}"


def shown(item: Any) -> str:
    return f"{item!r} {getattr(item, 'key', '')}"


def check(raw: Any) -> None:
    records._CHECKED_IDS.clear()
    expected = slow(raw)  # with nothing remembered: every id checked
    for warm in (True, False):  # with what the slow path remembered, then with nothing
        if not warm:
            records._CHECKED_IDS.clear()
        fast = fast_record(raw, NOW)
        if fast is not None:
            assert shown(fast) == expected
        try:
            answer = shown(parse_record(raw, "f:1", not_after=NOW))
        except RecordError as exc:
            answer = f"error: {exc}"
        assert answer == expected
    records._CHECKED_IDS.clear()


GOOD = {
    "message_posted": {"message": "m1", "author": "ann", "channel": "general",
                       "text": "hello there", "reply_to": "m0", "reply_to_author": "bob",
                       "thread": "t1", "author_name": "Ann", "author_is_bot": False,
                       "has_media": True},
    "reaction_added": {"message": "m1", "reactor": "bob", "emoji": "🔥", "author": "ann",
                       "reactor_is_bot": True},
    "reaction_removed": {"message": "m1", "reactor": "bob", "emoji": "🔥"},
    "member_joined": {"member": "ann", "name": "Ann", "is_bot": False},
    "member_left": {"member": "ann"},
}
FIELDS = sorted({name for fields in GOOD.values() for name in fields}
                | {"community", "at", "type", "length"})
ODD_VALUES: list[Any] = [
    None, True, False, 0, 5, -1, 2.0, 2.5, 1e30, 10**30, "", " ", "  a ", "a b", "ann",
    "ANN", "דנה", "m-1", "m_1", "a|b", "a\x00b", "a\nb", "a\x7fb", "a\x85b", "a\xa0b",
    "\u3000", "a\u200db", ":", "discord:", "discord:1", "discord:1:2", "telegram:-100:5",
    "console:x", "slack:x", "x:", "x" * 200, "x" * 201, "x" * 5000, "🔥", "👍🏽", "\ufe0f",
    "2026-11-02T08:00:00Z", "2026-11-02T08:00:00+02:00", "2026-11-02T08:00:00",
    "2026-11-02T08:00:00.123456+00:00", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-05:00", "2026-11-02", "yesterday", "2026-11-02T08:00:00ZZ",
    "2026-11-02T08:00:00z", "2026-11-02 08:00:00+00:00", "2026-12-02T12:00:00+00:00",
    "2026-12-02T11:00:00+00:00", "message_posted", "reaction_added", "command", [], ["a"],
    {}, {"a": 1},
]


def record(kind: str, **changes: Any) -> dict[str, Any]:
    raw = {"type": kind, "at": "2026-11-02T08:00:00Z", "community": "tribe", **GOOD[kind]}
    for name, value in changes.items():
        if value is _ABSENT:
            raw.pop(name, None)
        else:
            raw[name] = value
    return raw


_ABSENT = object()


@pytest.mark.parametrize("kind", FAST_TYPES)
def test_good_lines_of_each_fast_type_take_the_fast_path(kind: str) -> None:
    for raw in (record(kind), {"type": kind, "at": "2026-11-02T08:00:00Z",
                               "community": "tribe",
                               **{k: v for k, v in GOOD[kind].items()
                                  if k in ("message", "author", "channel", "reactor",
                                           "emoji", "member")}}):
        assert fast_record(raw, NOW) is not None, raw
        check(raw)


@pytest.mark.parametrize("kind", FAST_TYPES)
@pytest.mark.parametrize("name", FIELDS)
def test_every_field_with_every_odd_value_reads_as_the_slow_path_reads_it(
        kind: str, name: str) -> None:
    for value in [*ODD_VALUES, _ABSENT]:
        check(record(kind, **{name: value}))


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_the_hostile_lines_read_the_same_both_ways(case: str) -> None:
    data, _ = BAD_LINES[case]
    try:
        raw = loads(data.decode("utf-8").strip())
    except (RecordError, ValueError, RecursionError):
        return  # refused before it is a record: see the bytes test below
    check(raw)


ids = st.one_of(st.sampled_from(["ann", "m1", "discord:7", "telegram:-100:5", "a|b", ""]),
                st.text(max_size=12))
values = st.one_of(ids, st.none(), st.booleans(), st.integers(-5, 10**10),
                   st.floats(allow_nan=False), st.lists(st.integers(), max_size=2))
times = st.one_of(st.sampled_from([v for v in ODD_VALUES if isinstance(v, str)]),
                  st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2030, 1, 1),
                               timezones=st.sampled_from([UTC, None])).map(
                      lambda d: d.isoformat()))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([*FAST_TYPES, "message_edited", "command", "x"]),
       changes=st.dictionaries(st.sampled_from(FIELDS), values, max_size=4),
       at=times)
@example(kind="message_posted", changes={"author": "a\x85b"}, at="2026-11-02T08:00:00Z")
def test_random_records_read_the_same_both_ways(kind: str, changes: dict[str, Any],
                                                at: str) -> None:
    base = GOOD.get(kind, GOOD["message_posted"])
    check({"type": kind, "community": "tribe", **base, **changes, "at": at})


@settings(max_examples=300)
@given(value=st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                                  max_size=3), max_leaves=8),
       before=st.text(" \t\r\x0b\x0c\xa0\u3000\ufeff", max_size=3),
       after=st.text(" \t\r\x0b\x0c\xa0\u3000\x1c", max_size=3))
def test_a_line_read_as_bytes_is_what_its_decoded_text_reads_as(
        value: Any, before: str, after: str) -> None:
    data = (before + json.dumps(value, ensure_ascii=False) + after + "\n").encode(
        "utf-8", "surrogatepass")
    try:
        fast = orjson.loads(data)
    except orjson.JSONDecodeError:
        return  # read step by step, as before
    assert fast == loads(data.decode("utf-8").strip().lstrip("\ufeff"))


def test_a_file_reads_the_same_through_both_paths() -> None:
    """A whole file: every line's item, error and place as read_lines gives them equal what
    the field-by-field path gives, good lines and hostile ones mixed."""
    lines = [json.dumps(record(kind, **{name: value})).encode() + b"\n"
             for kind in FAST_TYPES for name in ("author", "at", "emoji", "member")
             for value in ("ann", "a|b", 5, "2026-11-02T08:00:00+02:00")]
    lines += [data for data, _ in BAD_LINES.values()]
    read = list(read_lines(io.BytesIO(b"".join(lines)), "f", not_after=NOW))
    for line in read:
        expected = slow(line.raw, line.where) if line.raw is not None else None
        if line.item is not None:
            assert shown(line.item) == expected
        elif expected is not None:
            assert f"error: {line.error}" == expected
