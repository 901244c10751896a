"""Hostile replay lines: each is reported with its file and line and a sentence that says
what to fix, and skipped; nothing raises."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from bot.adapters.console.records import MAX_LINE_BYTES, future_limit, read_lines

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GOOD = {"type": "message_posted", "at": "2026-11-02T08:00:00Z", "community": "tribe",
        "message": "m1", "author": "ann", "channel": "general", "text": "hello there"}


def line(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode() + b"\n"


def raw(text: str) -> bytes:
    return text.encode() + b"\n"


BAD_LINES = {
    "id is a number": (line(author=5), '"author" must be an id in quotes, such as "5"'),
    "id is an object": (line(channel={"id": 1}), '"channel" must be text, not an object'),
    "id is empty": (line(author=""), '"author" is empty'),
    "id is blank": (line(message="   "), '"message" is empty'),
    "id with NUL": (line(author="an\x00n"), '"author" contains a NUL character'),
    "id with a control character": (line(author="an\nn"), '"author" contains a control'),
    "id of 100k characters": (line(author="a" * 100_000),
                              '"author" is 100,000 characters long; at most 200'),
    "platform prefix only": (line(author="discord:"), '"author" names a platform but no id'),
    "Infinity": (raw(json.dumps(GOOD)[:-1] + ', "length": Infinity}'),
                 "Infinity is not a number JSON allows"),
    "-Infinity": (raw(json.dumps(GOOD)[:-1] + ', "length": -Infinity}'),
                  "-Infinity is not a number JSON allows"),
    "NaN": (raw(json.dumps(GOOD)[:-1] + ', "length": NaN}'), "NaN is not a number JSON allows"),
    "negative number": (line(length=-5), '"length" must be between 0 and 1,000,000,000, not '
                                         "the number -5"),
    "1e30": (line(length=1e30), '"length" must be between 0 and 1,000,000,000, not the '
                                "number 1e+30"),
    "huge integer": (line(length=10**30), '"length" must be between 0 and 1,000,000,000'),
    "fraction": (line(length=2.5), '"length" must be a whole number, not the number 2.5'),
    "true as a number": (line(length=True), '"length" must be a whole number, not true'),
    "count of 1e30": (raw(json.dumps({"type": "reactions_counted", "at": "2026-11-02T08:00:00Z",
                                      "community": "tribe", "message": "m1",
                                      "counts": {"🔥": 1e30}})),
                      '"counts.🔥" must be between 0 and 1,000,000,000'),
    "invalid UTF-8": (b'{"type": "message_posted", "text": "\xff\xfe"}\n',
                      "the line is not UTF-8 text (byte 37); save the file as UTF-8"),
    "naive time": (line(at="2026-11-02T08:00:00"), '"at" needs a time zone, e.g. '
                                                   "2026-11-02T08:00:00Z"),
    "year 1": (line(at="0001-01-01T00:00:00Z"), '"at" is 0001-01-01T00:00:00Z, before 1970'),
    "year 9999": (line(at="9999-12-31T23:59:59Z"), '"at" is 9999-12-31T23:59:59Z, more than a '
                                                   "day ahead of the current time"),
    "year 9999 west of UTC": (line(at="9999-12-31T23:59:59-05:00"), '"at" is out of range'),
    "not a time": (line(at="yesterday"), '"at" is not an ISO 8601 time'),
    "time as a number": (line(at=1_700_000_000), '"at" must be text, not the number'),
    "type as a number": (line(type=5), '"type" must be text, not the number 5'),
    "unknown type": (line(type="message_sent"), "unknown type 'message_sent'; expected one of"),
    "no type": (raw('{"at": "2026-11-02T08:00:00Z"}'), 'a record needs "type"'),
    "a list": (raw("[1, 2, 3]"), "expected a JSON object"),
    "not JSON": (raw("hello"), "not valid JSON (Expecting value at character 1)"),
    "nested too deeply": (raw("[" * 100_000 + "]" * 100_000), "nested too deeply"),
    "channels not a list": (raw(json.dumps({"type": "community_joined",
                                            "at": "2026-11-02T08:00:00Z",
                                            "community": "tribe", "channels": "general"})),
                            '"channels" must be a list'),
    "emoji empty": (raw(json.dumps({"type": "reaction_added", "at": "2026-11-02T08:00:00Z",
                                    "community": "tribe", "message": "m1", "reactor": "b",
                                    "emoji": ""})), '"emoji" is empty'),
    "flag not a boolean": (line(has_media="yes"), '"has_media" must be true or false'),
    "line too long": (b'{"text": "' + b"x" * MAX_LINE_BYTES + b'"}\n',
                      "the line is longer than 1,000,000 bytes; it was skipped"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_bad_line_is_reported_with_its_place_and_skipped(case: str) -> None:
    data, expected = BAD_LINES[case]
    handle = io.BytesIO(raw("# a comment") + data + line(message="m2"))
    lines = list(read_lines(handle, "events.jsonl", not_after=future_limit(NOW)))
    bad, good = lines
    assert bad.item is None and bad.error is not None
    assert bad.error.startswith("events.jsonl:2: "), bad.error
    assert expected in bad.error, bad.error
    assert "Error" not in bad.error and "Traceback" not in bad.error
    assert good.item is not None and good.number == 3, "the next line still goes through"


def test_times_are_kept_in_utc() -> None:
    [item] = list(read_lines(io.BytesIO(line(at="2026-11-02T10:00:00+02:00")), "x"))
    assert item.item is not None and item.item.at == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_ids_checked_before_are_not_trusted_blindly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids are checked once and remembered (they repeat on every line): a remembered id
    reads as before in any field, a bad one is refused however many good ones came first,
    and the memory stays within its bound."""
    from bot.adapters.console import records

    monkeypatch.setattr(records, "CHECKED_IDS", 5)
    monkeypatch.setattr(records, "_CHECKED_IDS", {})
    data = b"".join([line(message=f"m{n}", author="ann", channel="ann") for n in range(12)]
                    + [line(author="ann|bob"), line(author="discord:"), line(author="ann")])
    items = list(read_lines(io.BytesIO(data), "f.jsonl", not_after=future_limit(NOW)))
    assert [(i.item.author, i.item.channel) for i in items[:12]] == [  # type: ignore[union-attr]
        ("console:ann", "console:ann")] * 12
    assert items[12].error is not None and 'contains "|"' in items[12].error
    assert items[13].error is not None and "names a platform but no id" in items[13].error
    assert items[14].item.author == "console:ann"  # type: ignore[union-attr]
    assert len(records._CHECKED_IDS) <= 5
