"""Memory is bounded: no map the bot keeps grows with the number of events.

A million events take minutes here (``bench/memory.py`` measures the resident memory that
way); this test shrinks every capacity instead and checks, over a stream many times
bigger, that every container reachable from the runtime stays within them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.adapters.console.adapter as console_adapter
import bot.recorder as recorder
import cogs.engagement.cog as engagement
import cogs.welcome.cog as welcome
from bench.memory import START, stream
from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from tests.conftest import make_settings

CAPACITY = 500
EVENTS = 15_000


def containers(root: Any, name: str, depth: int = 0, seen: set[int] | None = None
               ) -> Iterator[tuple[str, int]]:
    """(path, size) of every dict, set, list or deque reachable from ``root``'s fields."""
    seen = seen if seen is not None else set()
    if id(root) in seen or depth > 4:
        return
    seen.add(id(root))
    fields = getattr(root, "__dict__", None) or {
        slot: getattr(root, slot) for slot in getattr(type(root), "__slots__", ())
        if hasattr(root, slot)}
    for field, value in fields.items():
        path = f"{name}.{field}"
        if isinstance(value, dict | set | list | tuple) or type(value).__name__ == "deque":
            if not isinstance(value, tuple):
                yield path, len(value)
            items = value.values() if isinstance(value, dict) else value
            for item in list(items)[:5]:  # the shape of the entries, not all of them
                if hasattr(item, "__dict__") or hasattr(type(item), "__slots__"):
                    yield from containers(item, f"{path}[]", depth + 1, seen)
        elif (hasattr(value, "__dict__") or hasattr(type(value), "__slots__")) and not callable(
                value) and type(value).__module__.split(".")[0] in ("bot", "cogs", "storage"):
            yield from containers(value, path, depth + 1, seen)


@pytest.fixture
def small_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, names in (
        (engagement, ("KNOWN_MESSAGES", "KNOWN_MEMBERS", "KNOWN_NAMES", "KNOWN_BOTS",
                      "KNOWN_AWARDS")),
        (welcome, ("KNOWN_MEMBERS", "KNOWN_NAMES", "KNOWN_BOTS")),
        (recorder, ("KNOWN_MEMBERS", "KNOWN_AUTHORS")),
        (console_adapter, ("KNOWN_NAMES", "KEEP_SENT")),
    ):
        for constant in names:
            monkeypatch.setattr(module, constant, CAPACITY)


async def test_no_map_grows_with_the_number_of_events(tmp_path: Path, small_memory: None,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    members, new_every = 200, 50  # and a new member every 50 events: 500 in all
    settings = make_settings(tmp_path)
    async with Runtime(settings, clock=SimulatedClock(START), window=CAPACITY) as rt:
        adapter = ConsoleAdapter(rt, echo=False)
        for count, event in enumerate(stream(EVENTS, members, new_every), start=1):
            rt.publish(event)
            if count % 500 == 0:
                await rt.advance_to(event.at)
        await rt.bus.drain()
        await rt.repository.flush()  # the writer holds at most a batch: not memory's concern
        roots = {cog.name: cog for cog in rt.cogs}
        roots.update(bus=rt.bus, recorder=rt._recorder, timers=rt.timers,
                     communities=rt.communities, writer=rt.repository.writer, console=adapter)
        sizes = dict(pair for name, root in roots.items() for pair in containers(root, name))
    members_seen = members + EVENTS // new_every + 1
    assert sizes["engagement._messages"] == CAPACITY  # full, and no fuller
    # (the console keeps up to twice KEEP_SENT posts between trims)
    too_big = {path: size for path, size in sizes.items() if size > 2 * CAPACITY}
    # the journey keeps each member's active weeks for the weekly sweep: it grows with
    # the members a community has, never with its events
    assert {path.rsplit(".", 1)[-1] for path in too_big} <= {"_members"}, too_big
    assert set(too_big.values()) <= {members_seen}, too_big
    assert set(rt.bus.failures().values()) == {0}


async def test_the_console_adapter_forgets_old_authors_and_posts(
    tmp_path: Path, small_memory: None,
) -> None:
    lines = [f'{{"type": "message_posted", "at": "2026-11-02T08:00:{n % 60:02d}Z", '
             f'"community": "c", "message": "m{n}", "author": "u{n % 700}", '
             f'"author_name": "User {n % 700}", "channel": "general", "text": "hi there {n}"}}'
             for n in range(2_000)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(START), cogs=[]) as rt:
        adapter = ConsoleAdapter(rt, echo=False)
        report = await adapter.replay(path)
        assert report.events == 2_000
        assert rt._recorder is not None
        assert len(rt._recorder._authors) == CAPACITY and len(adapter._names) == CAPACITY
