"""Timers on the system clock let queued events settle before a due timer fires."""

import asyncio
from datetime import timedelta

from bot.core.clock import SystemClock
from bot.core.timers import Timers


async def test_queued_work_settles_before_a_due_timer_fires() -> None:
    order: list[str] = []
    fired = asyncio.Event()

    async def settle() -> None:
        await asyncio.sleep(0.02)  # an inbox still being worked through
        order.append("settled")

    async def callback() -> None:
        order.append("fired")
        fired.set()

    clock = SystemClock()
    timers = Timers(clock, settle=settle)
    timers.call_at(clock.now() + timedelta(milliseconds=10), "greeting", callback)
    timers.start()
    try:
        await asyncio.wait_for(fired.wait(), 5)
    finally:
        await timers.stop()
    assert order == ["settled", "fired"]
