"""The bus: a failing or slow cog never stops the others."""

import asyncio
import gc
import logging
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from bot.core.cog import Cog
from bot.core.events import Event, MessagePosted
from bot.core.interpreter import GC_YOUNG_THRESHOLD, SWITCH_INTERVAL
from bot.runtime import Runtime
from tests.conftest import COMMUNITY, GENERAL, START, make_settings


class Exploding(Cog):
    name = "exploding"

    def listeners(self) -> Mapping[type[Event], Any]:
        return {MessagePosted: self.boom}

    async def boom(self, event: MessagePosted) -> None:
        raise RuntimeError("this cog is broken")


class Counting(Cog):
    name = "counting"
    seen: ClassVar[list[str]] = []

    def listeners(self) -> Mapping[type[Event], Any]:
        return {MessagePosted: self.count}

    async def count(self, event: MessagePosted) -> None:
        Counting.seen.append(event.message)


class Slow(Cog):
    name = "slow"
    release = asyncio.Event()

    def listeners(self) -> Mapping[type[Event], Any]:
        return {MessagePosted: self.wait}

    async def wait(self, event: MessagePosted) -> None:
        await Slow.release.wait()


def message(n: int) -> MessagePosted:
    return MessagePosted(community=COMMUNITY, at=START, message=f"console:m{n}",
                         author="console:a", channel=GENERAL, length=10)


async def test_failing_cog_does_not_stop_the_others(tmp_path, caplog) -> None:
    Counting.seen = []
    caplog.set_level(logging.ERROR)
    async with Runtime(make_settings(tmp_path), cogs=[Exploding, Counting]) as runtime:
        for n in range(3):
            runtime.publish(message(n))
        await runtime.bus.drain()
        assert Counting.seen == ["console:m0", "console:m1", "console:m2"]
        assert runtime.bus.failures()["exploding"] == 3
    assert "subscriber exploding failed on MessagePosted" in caplog.text
    assert "console:m0" in caplog.text  # the event that caused it is logged


async def test_slow_cog_does_not_block_the_others(tmp_path) -> None:
    Counting.seen = []
    Slow.release = asyncio.Event()
    async with Runtime(make_settings(tmp_path), cogs=[Slow, Counting]) as runtime:
        runtime.publish(message(1))
        for _ in range(50):
            await asyncio.sleep(0)
            if Counting.seen:
                break
        assert Counting.seen == ["console:m1"]
        Slow.release.set()


async def test_events_reach_subscribers_in_order(tmp_path) -> None:
    Counting.seen = []
    async with Runtime(make_settings(tmp_path), cogs=[Counting]) as runtime:
        for i in range(200):
            runtime.publish(message(i))
        await runtime.bus.drain()
    assert Counting.seen == [f"console:m{i}" for i in range(200)]


async def test_runtime_tunes_the_interpreter_only_while_it_runs(tmp_path) -> None:
    before = sys.getswitchinterval(), gc.get_threshold()
    async with Runtime(make_settings(tmp_path), cogs=[]):
        # Python stores the interval in whole microseconds
        assert sys.getswitchinterval() == pytest.approx(min(before[0], SWITCH_INTERVAL))
        assert sys.getswitchinterval() < 0.005
        assert gc.get_threshold() == (max(before[1][0], GC_YOUNG_THRESHOLD), *before[1][1:])
        assert gc.get_threshold()[0] > 700
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


async def test_a_host_that_turned_gc_off_keeps_it_off(tmp_path) -> None:
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        async with Runtime(make_settings(tmp_path), cogs=[]):
            assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)
