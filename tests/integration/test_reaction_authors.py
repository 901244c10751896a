"""Who wrote a reacted message: the recorder remembers recent authors; a forgotten one is
read from what the store committed, and no reaction makes the writer commit."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.recorder as recorder
from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from tests.conftest import ALL_COGS, COMMUNITY, FIXED_POINTS, START, Community, make_settings


async def test_a_reaction_on_a_forgotten_message_asks_the_store_without_a_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recorder, "KNOWN_AUTHORS", 1)
    settings = make_settings(tmp_path, engagement=FIXED_POINTS,
                             storage={"batch_interval_ms": 60_000})
    async with Runtime(settings, clock=SimulatedClock(START), cogs=ALL_COGS) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False, moderators=["mod"]))
        await tribe.open("ann", "bob")
        first = await tribe.say("ann")
        await rt.repository.flush()
        tribe.tick(minutes=2)
        await tribe.say("bob")  # the recorder keeps one author: ann's is forgotten
        writer = rt.repository.writer
        assert writer is not None and writer.unsaved > 0
        before = writer.batches
        assert await rt.message_author(COMMUNITY, first) == "console:ann"
        tribe.tick(minutes=1)
        assert await tribe.react("bob", first)
        assert writer.batches == before, "a reaction made the writer commit"
        assert ("reaction_received", 2) in await tribe.reasons("ann")


async def test_the_author_of_a_message_just_recorded_needs_no_store(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, storage={"batch_interval_ms": 60_000})
    async with Runtime(settings, clock=SimulatedClock(START), cogs=[]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False))
        await tribe.open("ann")
        message = await tribe.say("ann")
        writer = rt.repository.writer
        assert writer is not None and writer.unsaved > 0, "nothing is committed yet"
        assert await rt.message_author(COMMUNITY, message) == "console:ann"
        assert await rt.message_author(COMMUNITY, "console:never-posted") is None
        assert writer.unsaved > 0, "asking committed nothing"
