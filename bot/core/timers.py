"""Timers on the bot's clock: "in 4 hours, if nobody answered, tell the moderators".

In production a background task sleeps until the next timer is due on the system clock.
On a simulated clock (replay, demo, tests) nothing runs by itself: whoever moves the clock
calls ``run_due()``, so four hours pass in a replay as fast as the events do.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.core.clock import Clock, SimulatedClock

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]


class Timers:
    def __init__(self, clock: Clock, *, settle: Callable[[], Awaitable[None]] | None = None,
                 ) -> None:
        """``settle`` runs before due timers fire on the system clock: the runtime passes
        the bus's drain, so events that came before a timer are handled before it (a
        member who asked to be forgotten is not then named in a burst welcome)."""
        self._clock = clock
        self._settle = settle
        self._heap: list[tuple[datetime, int, str]] = []
        self._callbacks: dict[str, tuple[datetime, int, Callback]] = {}
        self._counter = itertools.count()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def simulated(self) -> bool:
        return isinstance(self._clock, SimulatedClock)

    def call_at(self, when: datetime, key: str, callback: Callback) -> None:
        """Run ``callback`` at ``when``; a timer with the same key is replaced."""
        number = next(self._counter)
        self._callbacks[key] = (when, number, callback)
        heapq.heappush(self._heap, (when, number, key))
        self._changed.set()

    def cancel(self, key: str) -> None:
        self._callbacks.pop(key, None)

    def next_due(self) -> datetime | None:
        while self._heap:
            when, number, key = self._heap[0]
            entry = self._callbacks.get(key)
            if entry is not None and entry[1] == number:
                return when
            heapq.heappop(self._heap)
        return None

    async def run_due(self) -> int:
        """Run every timer due at the clock's now; returns how many ran."""
        ran = 0
        now = self._clock.now()
        while self._heap and self._heap[0][0] <= now:
            _, number, key = heapq.heappop(self._heap)
            entry = self._callbacks.get(key)
            if entry is None or entry[1] != number:
                continue  # cancelled or replaced
            del self._callbacks[key]
            try:
                await entry[2]()
            except Exception:
                log.exception("timer %s failed", key)
            ran += 1
        return ran

    def start(self) -> None:
        if not self.simulated and self._task is None:
            self._task = asyncio.create_task(self._run(), name="timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            if self._settle is not None and self._heap and self._heap[0][0] <= self._clock.now():
                await self._settle()
            await self.run_due()
            self._changed.clear()
            delay = 3600.0
            if self._heap:
                delay = max((self._heap[0][0] - self._clock.now()).total_seconds(), 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(delay, 3600.0))
