"""A replay has the bus handle events inline (issue 17): the same stream must give the same
output and the same store as delivering each event to the cogs' own tasks, and timers,
derived events and failures keep their place in the order."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sqlite3
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.bus import EventBus
from bot.core.clock import SimulatedClock
from bot.core.cog import Cog
from bot.core.events import (
    ContributionCounted,
    Event,
    MemberJoined,
    MessagePosted,
)
from bot.runtime import Runtime, default_cogs
from tests.conftest import COMMUNITY, GENERAL, START, make_settings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from drill import write_stream  # noqa: E402

#: Command ledger rows are keyed by a fresh id per run; everything else must be equal.
_RUN_ID = re.compile(r"cmd:[0-9a-f]{32}")


def store_dump(db: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(db)
    try:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: sorted(_RUN_ID.sub("cmd:*", repr(row))
                              for row in conn.execute(f"SELECT * FROM {table}"))
                for table in tables}
    finally:
        conn.close()


def by_channel(output: str) -> dict[str, list[str]]:
    """The posts of a replay's output, channel by channel (a post's line names its
    ``#channel`` after the time; continuation lines stay with the post above)."""
    channels: dict[str, list[str]] = {}
    current: list[str] = channels.setdefault("", [])
    for line in output.splitlines():
        found = re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d (#\S+|@\S+)", line)
        if found:
            current = channels.setdefault(found[1], [])
        current.append(line)
    return channels


async def replay(stream: Path, folder: Path, *, inline: bool) -> tuple[str, Any, dict]:
    runtime = Runtime(make_settings(folder), clock=SimulatedClock(START))
    await runtime.start()
    out = io.StringIO()
    adapter = ConsoleAdapter(runtime, console=Console(file=out, width=200), echo=True)
    adapter.inline_replay = inline
    try:
        report = await adapter.replay(stream)
    finally:
        await runtime.stop()
    return out.getvalue(), report, store_dump(folder / "test.db")


async def test_inline_replay_gives_the_output_and_store_of_per_task_delivery(tmp_path) -> None:
    """Joins, leaves, replies, reactions (some removed), commands and the timers they set
    (welcome bursts, first-response alerts, weekly sweeps and summaries over four weeks)."""
    stream = tmp_path / "stream.jsonl"
    write_stream(stream, 4000, 150, seed=5)
    text = stream.read_text(encoding="utf-8").replace("2026-01-05", "2026-11-02")
    stream.write_text(text, encoding="utf-8")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "inline").mkdir()
    tasks_out, tasks_report, tasks_store = await replay(stream, tmp_path / "tasks", inline=False)
    inline_out, inline_report, inline_store = await replay(stream, tmp_path / "inline",
                                                           inline=True)
    assert tasks_report.events > 3900 and tasks_report.commands > 0
    assert not tasks_report.errors
    assert (inline_report.events, inline_report.commands, inline_report.duplicates) == (
        tasks_report.events, tasks_report.commands, tasks_report.duplicates)
    assert tasks_out.count("\n") > 20, "the stream makes the bot post"
    # what each channel shows, in its order; between channels the per-task run has no
    # fixed order (two cogs' tasks posting at the same simulated minute, e.g. a level-up
    # and an owners' alert, interleave as the loop schedules them)
    channels = by_channel(tasks_out)
    assert len(channels) > 2 and not channels[""], "every post names its channel"
    assert by_channel(inline_out) == channels
    assert inline_store.keys() == tasks_store.keys()
    for table, rows in tasks_store.items():
        assert inline_store[table] == rows, table
    assert len(tasks_store["ledger"]) > 1000 and len(tasks_store["seen_events"]) > 3900


class Timeline(Cog):
    """Sets a timer a minute after each join, and notes what it sees, in order."""

    name = "timeline"
    seen: ClassVar[list[tuple[str, str]]] = []

    def listeners(self) -> Mapping[type[Event], Any]:
        return {MemberJoined: self.joined, MessagePosted: self.posted,
                ContributionCounted: self.counted}

    tasks: ClassVar[set[str]] = set()

    def note(self, what: str) -> None:
        Timeline.seen.append((what, self.ctx.clock.now().strftime("%H:%M:%S")))
        task = asyncio.current_task()
        Timeline.tasks.add(task.get_name() if task is not None else "")

    async def joined(self, event: MemberJoined) -> None:
        self.note(f"join {event.member}")

        async def fire() -> None:
            self.note(f"timer {event.member}")

        self.ctx.timers.call_at(event.at + timedelta(minutes=1), f"t:{event.member}", fire)

    async def posted(self, event: MessagePosted) -> None:
        self.note(f"message {event.message}")

    async def counted(self, event: ContributionCounted) -> None:
        self.note(f"counted {event.message}")


def record(kind: str, seconds: int, **fields: Any) -> str:
    at = (START + timedelta(seconds=seconds)).isoformat()
    return json.dumps({"type": kind, "at": at, "community": "tribe", **fields})


async def test_a_timer_due_between_two_lines_fires_before_the_later_one(tmp_path) -> None:
    """The join at 0 s sets a timer for 60 s: it fires after the message at 30 s and
    before the one at 90 s, though all lines are read (and asked about) in one chunk; the
    engagement cog's derived event for a message comes before the next line."""
    stream = tmp_path / "s.jsonl"
    stream.write_text("\n".join([
        record("community_joined", 0, name="Tribe", channels=[{"id": "general"}]),
        record("member_joined", 0, member="ann"),
        record("message_posted", 30, message="m1", author="ann", channel="general",
               text="hello there everyone"),
        record("member_joined", 45, member="bob"),
        record("message_posted", 90, message="m2", author="bob", channel="general",
               text="good morning to you all"),
        record("message_posted", 200, message="m3", author="ann", channel="general",
               text="see you all tomorrow then"),
    ]) + "\n", encoding="utf-8")
    orders, tasks = [], []
    for inline in (True, False):
        Timeline.seen, Timeline.tasks = [], set()
        folder = tmp_path / f"inline-{inline}"
        folder.mkdir()
        runtime = Runtime(make_settings(folder), clock=SimulatedClock(START),
                          cogs=[*default_cogs(), Timeline])
        await runtime.start()
        adapter = ConsoleAdapter(runtime, echo=False)
        adapter.inline_replay = inline
        replaying = asyncio.current_task()
        assert replaying is not None
        try:
            await adapter.replay(stream)
        finally:
            await runtime.stop()
        orders.append(list(Timeline.seen))
        tasks.append(Timeline.tasks - {replaying.get_name()})
    assert tasks == [set(), {"bus:timeline"}], "inline: handled in the replay's own task"
    assert orders[0] == orders[1]
    assert orders[0] == [
        ("join console:ann", "09:00:00"),
        ("message console:m1", "09:00:30"),
        ("counted console:m1", "09:00:30"),
        ("join console:bob", "09:00:45"),
        ("timer console:ann", "09:01:00"),
        ("message console:m2", "09:01:30"),
        ("counted console:m2", "09:01:30"),
        ("timer console:bob", "09:01:45"),
        ("message console:m3", "09:03:20"),
    ]


def posted(n: int) -> MessagePosted:
    return MessagePosted(community=COMMUNITY, at=START + timedelta(seconds=n),
                         message=f"console:m{n}", author="console:a", channel=GENERAL,
                         length=10)


async def test_inline_bus_hands_derived_events_on_before_the_next_event(caplog) -> None:
    """Every subscriber sees an event's consequences before the next event, in the order
    the subscribers came; a failing handler costs only its own call."""
    caplog.set_level(logging.ERROR)
    bus = EventBus()
    bus.inline = True
    seen: list[str] = []

    async def first(event: Event) -> None:
        if isinstance(event, MessagePosted):
            seen.append(f"first {event.message}")
            bus.publish(ContributionCounted(community=COMMUNITY, at=event.at,
                                            member=event.author, message=event.message))
            if event.message == "console:m2":
                raise RuntimeError("broken on m2")
        else:
            seen.append(f"first counted {event.message}")

    async def second(event: Event) -> None:
        await asyncio.sleep(0)  # a handler that does suspend keeps its place too
        seen.append(f"second {type(event).__name__} {event.message}")  # type: ignore[attr-defined]

    bus.subscribe("first", first, [MessagePosted, ContributionCounted])
    bus.subscribe("second", second, [MessagePosted, ContributionCounted])
    bus.start()
    for n in (1, 2, 3):
        assert bus.publish(posted(n))
    assert not seen, "inline: nothing is handled until someone drains"
    await bus.drain()
    assert seen == [
        "first console:m1", "second MessagePosted console:m1",
        "first counted console:m1", "second ContributionCounted console:m1",
        "first console:m2", "second MessagePosted console:m2",
        "first counted console:m2", "second ContributionCounted console:m2",
        "first console:m3", "second MessagePosted console:m3",
        "first counted console:m3", "second ContributionCounted console:m3",
    ]
    assert bus.failures() == {"first": 1, "second": 0}
    assert "broken on m2" in caplog.text
    assert not bus.publish(posted(2)), "a duplicate is still dropped"
    assert await bus.stop() == 0


async def test_a_drain_from_another_task_waits_for_the_inline_handling() -> None:
    """While a handler suspends, a second drain (a command from another task) does not
    return early, nor handle the next events itself, out of order."""
    bus = EventBus()
    bus.inline = True
    release = asyncio.Event()
    seen: list[str] = []

    async def slow(event: Event) -> None:
        if event.message == "console:m1":  # type: ignore[attr-defined]
            await release.wait()
        seen.append(event.message)  # type: ignore[attr-defined]

    bus.subscribe("slow", slow, [MessagePosted])
    bus.start()
    bus.publish(posted(1))
    bus.publish(posted(2))
    first = asyncio.create_task(bus.drain())
    await asyncio.sleep(0)
    second = asyncio.create_task(bus.drain())
    await asyncio.sleep(0.01)
    assert not second.done() and seen == []
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 1)
    assert seen == ["console:m1", "console:m2"]
    await bus.stop()


@pytest.mark.parametrize("inline", [True, False])
async def test_handlers_by_type_are_called_directly_both_ways(inline: bool) -> None:
    """A subscriber with a handler per event type (a cog's listeners) gets each event in
    that handler, inline and in its own task alike; an event of a type it lists only as a
    parent class is not handled (as the runtime's dispatcher never did), and a slow
    subscriber still delays only itself in its own task."""

    class Posted(MessagePosted):
        pass

    bus = EventBus()
    bus.inline = inline
    seen: list[str] = []
    release = asyncio.Event()

    async def message(event: Event) -> None:
        seen.append(f"message {event.message}")  # type: ignore[attr-defined]

    async def counted(event: Event) -> None:
        seen.append(f"counted {event.message}")  # type: ignore[attr-defined]

    async def fallback(event: Event) -> None:
        raise AssertionError("by_type replaces the handler")

    async def slow(event: Event) -> None:
        await release.wait()

    bus.subscribe("cog", fallback, [MessagePosted, ContributionCounted],
                  by_type={MessagePosted: message, ContributionCounted: counted})
    if not inline:
        bus.subscribe("slow", slow, [MessagePosted])
    bus.start()
    bus.publish(posted(1))
    bus.publish(ContributionCounted(community=COMMUNITY, at=START, member="console:a",
                                    message="console:m1"))
    bus.publish(Posted(community=COMMUNITY, at=START, message="console:sub",
                       author="console:a", channel=GENERAL, length=10))
    if inline:
        await bus.drain()
    else:
        for _ in range(5):
            await asyncio.sleep(0)  # the cog's task runs while "slow" waits
    assert seen == ["message console:m1", "counted console:m1"], inline
    release.set()
    await asyncio.wait_for(bus.drain(), 1)
    assert await bus.stop() == 0


async def test_the_replay_turns_inline_delivery_on_through_the_port(tmp_path) -> None:
    """``BotPort.deliver_inline``: the replay turns it on for the file and puts back what
    it was; live delivery (each cog in its own task) is what a runtime starts with."""
    runtime = Runtime(make_settings(tmp_path), clock=SimulatedClock(START))
    await runtime.start()
    try:
        assert runtime.bus.inline is False
        assert runtime.deliver_inline(True) is False
        assert runtime.bus.inline is True
        assert runtime.deliver_inline(False) is True
        stream = tmp_path / "s.jsonl"
        stream.write_text(json.dumps({
            "type": "message_posted", "at": (START + timedelta(seconds=5)).isoformat(),
            "community": COMMUNITY.split(":", 1)[1], "message": "m1", "author": "ann",
            "channel": "general", "text": "hello there everyone"}) + "\n", encoding="utf-8")
        adapter = ConsoleAdapter(runtime, echo=False)
        states: list[bool] = []
        push = adapter.push

        async def watched(event: Event) -> bool:
            states.append(runtime.bus.inline)
            return await push(event)

        adapter.push = watched  # type: ignore[method-assign]
        report = await adapter.replay(stream)
        assert report.events == 1 and states == [True]
        assert runtime.bus.inline is False, "put back after the file"
        adapter.inline_replay = False
        await adapter.replay(stream)  # a duplicate now, but delivered live
        assert states == [True, False]
    finally:
        await runtime.stop()
