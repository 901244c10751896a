"""The bus: a failing or slow cog never stops the others."""

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

from bot.core.cog import Cog
from bot.core.events import Event, MessagePosted
from bot.runtime import SWITCH_INTERVAL, Runtime
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


async def test_runtime_shortens_the_thread_switch_interval_only_while_it_runs(tmp_path) -> None:
    before = sys.getswitchinterval()
    async with Runtime(make_settings(tmp_path), cogs=[]):
        assert sys.getswitchinterval() == min(before, SWITCH_INTERVAL) < 0.005
    assert sys.getswitchinterval() == before
