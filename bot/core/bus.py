"""The event bus: adapters publish, cogs subscribe, nobody waits for anybody.

Each subscriber owns a queue and a task, so a slow cog only delays itself and a failing
handler is logged with the event that broke it while every other cog carries on.
Duplicates (reconnects re-deliver) are dropped here, before any cog sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

from bot.core.bounded import BoundedDict
from bot.core.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]

#: A subscriber gives the event loop a turn after this many events in a row.
YIELD_EVERY = 32


class RecentKeys:
    """A bounded memory of event keys already handled (oldest forgotten first)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._keys: BoundedDict[str, None] = BoundedDict(capacity)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys.put(key, None)

    def discard(self, key: str) -> None:
        self._keys.pop(key, None)


class _Subscriber:
    """One cog's inbox: a deque and a wake-up event (lighter than asyncio.Queue, which
    matters at tens of thousands of events per second)."""

    __slots__ = (
        "failures",
        "handler",
        "idle",
        "inbox",
        "name",
        "pending",
        "task",
        "types",
        "wake",
    )

    def __init__(self, name: str, handler: Handler, types: tuple[type[Event], ...]) -> None:
        self.name = name
        self.handler = handler
        self.types = types
        self.inbox: deque[Event] = deque()
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.pending = 0
        self.task: asyncio.Task[None] | None = None
        self.failures = 0

    def put(self, event: Event) -> None:
        self.inbox.append(event)
        self.pending += 1
        if self.pending == 1:
            self.idle.clear()
            self.wake.set()


class EventBus:
    def __init__(
        self, *, remember: int = 100_000, tap: Callable[[Event], None] | None = None
    ) -> None:
        """``tap`` sees every new event synchronously, before any subscriber: the recorder,
        which only queues rows and never waits, so it needs no inbox of its own."""
        self._tap = tap
        self._subscribers: list[_Subscriber] = []
        self._routes: dict[type[Event], list[_Subscriber]] = {}
        self._seen = RecentKeys(remember)
        self._running = False
        self.published = 0
        self.duplicates = 0

    def subscribe(self, name: str, handler: Handler, types: Iterable[type[Event]]) -> None:
        sub = _Subscriber(name, handler, tuple(types))
        self._subscribers.append(sub)
        self._routes.clear()
        if self._running:
            sub.task = asyncio.create_task(self._consume(sub), name=f"bus:{name}")

    def remember(self, keys: Iterable[str]) -> None:
        """Preload keys handled before a restart, so re-delivered updates stay duplicates."""
        for key in keys:
            self._seen.add(key)

    def publish(self, event: Event) -> bool:
        """Queue an event for every interested subscriber; False if it was a duplicate."""
        key = event.key
        if key in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(key)
        undone = event.undoes()
        if undone is not None:
            self._seen.discard(undone)
        self.published += 1
        if self._tap is not None:
            self._tap(event)
        routes = self._routes.get(type(event))
        if routes is None:
            routes = [s for s in self._subscribers if isinstance(event, s.types)]
            self._routes[type(event)] = routes
        for sub in routes:
            sub.put(event)
        return True

    def start(self) -> None:
        self._running = True
        for sub in self._subscribers:
            if sub.task is None:
                sub.task = asyncio.create_task(self._consume(sub), name=f"bus:{sub.name}")

    async def drain(self) -> None:
        """Wait until every event published so far has been handled by every subscriber."""
        for sub in self._subscribers:
            while sub.pending:
                await sub.idle.wait()

    async def stop(self, *, within: float | None = None) -> int:
        """Finish queued events (waiting at most ``within`` seconds), then stop the consumer
        tasks; returns how many events were left unhandled (0 unless time ran out)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), within)
        left = sum(s.pending for s in self._subscribers)
        self._running = False
        for sub in self._subscribers:
            if sub.task is not None:
                sub.task.cancel()
        await asyncio.gather(
            *(s.task for s in self._subscribers if s.task is not None), return_exceptions=True
        )
        for sub in self._subscribers:
            sub.task = None
        return left

    def failures(self) -> dict[str, int]:
        return {s.name: s.failures for s in self._subscribers}

    async def _consume(self, sub: _Subscriber) -> None:
        inbox, handler = sub.inbox, sub.handler
        handled = 0
        while True:
            if not inbox:
                sub.wake.clear()
                await sub.wake.wait()
                continue
            handled += 1
            if handled % YIELD_EVERY == 0:
                # Let other tasks run: the writer needs the loop between its SQL calls,
                # and a busy cog must not starve it (or the platform connections).
                await asyncio.sleep(0)
            event = inbox.popleft()
            try:
                await handler(event)
            except Exception:
                sub.failures += 1
                log.exception("subscriber %s failed on %r", sub.name, event)
            finally:
                sub.pending -= 1
                if sub.pending == 0:
                    sub.idle.set()
