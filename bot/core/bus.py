"""The event bus: adapters publish, cogs subscribe, nobody waits for anybody.

Each subscriber owns a queue and a task, so a slow cog only delays itself and a failing
handler is logged with the event that broke it while every other cog carries on.
Duplicates (reconnects re-deliver) are dropped here, before any cog sees them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from bot.core.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]


class RecentKeys:
    """A bounded memory of event keys already handled (oldest forgotten first)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys[key] = None
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)

    def discard(self, key: str) -> None:
        self._keys.pop(key, None)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass(eq=False)
class _Subscriber:
    name: str
    handler: Handler
    types: tuple[type[Event], ...]
    queue: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    failures: int = 0


class EventBus:
    def __init__(self, *, remember: int = 100_000) -> None:
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
        routes = self._routes.get(type(event))
        if routes is None:
            routes = [s for s in self._subscribers if isinstance(event, s.types)]
            self._routes[type(event)] = routes
        for sub in routes:
            sub.queue.put_nowait(event)
        return True

    def start(self) -> None:
        self._running = True
        for sub in self._subscribers:
            if sub.task is None:
                sub.task = asyncio.create_task(self._consume(sub), name=f"bus:{sub.name}")

    async def drain(self) -> None:
        """Wait until every event published so far has been handled by every subscriber."""
        for sub in self._subscribers:
            await sub.queue.join()

    async def stop(self) -> None:
        """Finish queued events, then stop the consumer tasks."""
        await self.drain()
        self._running = False
        for sub in self._subscribers:
            if sub.task is not None:
                sub.task.cancel()
        await asyncio.gather(
            *(s.task for s in self._subscribers if s.task is not None), return_exceptions=True
        )
        for sub in self._subscribers:
            sub.task = None

    def failures(self) -> dict[str, int]:
        return {s.name: s.failures for s in self._subscribers}

    async def _consume(self, sub: _Subscriber) -> None:
        queue = sub.queue
        while True:
            event = await queue.get()
            try:
                await sub.handler(event)
            except asyncio.CancelledError:
                queue.task_done()
                raise
            except Exception:
                sub.failures += 1
                log.exception("subscriber %s failed on %r", sub.name, event)
            queue.task_done()
