"""The event bus: adapters publish, cogs subscribe, nobody waits for anybody.

Each subscriber owns a queue and a task, so a slow cog only delays itself and a failing
handler is logged with the event that broke it while every other cog carries on.
Duplicates (reconnects and restarts re-deliver) are dropped here, before any cog sees them.

Two guarantees make a restart exact (see the README, "Exactly once"):

* **Duplicates are known beyond memory.** The bus remembers the newest keys (a count), and
  the *horizon*: the latest time of any key it forgot or never loaded. An event newer than
  the horizon is a duplicate only if memory has its key. An older one may have been
  forgotten, so it waits, with everything published after it (order is kept), until the
  store has been asked about it; those questions are asked in batches, never one event at
  a time. The replay asks ahead for a whole chunk of its file (``check_ahead``).
* **An event's rows are committed together.** Everything written while handling an event
  (the recorder's facts, every cog's rows, the rows of the derived events it causes) is
  collected in a *unit* and handed to the writer only when every subscriber is done with
  it, units in the order their events were published. A crash therefore leaves the store
  with whole events: an event is either recorded with all its consequences, or not at all
  and handled again when it is re-delivered.

A replay waits for every event before the next line, so there the bus can handle events
*inline* (``inline``): in the task that drains, one subscriber after the other, each
event's consequences before the next event. The order every cog sees is that of per-task
delivery; what goes is a wake-up and a wait per subscriber and event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from bot.core.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]
#: Asks the store which of these keys it has handled already.
KeyLookup = Callable[[Sequence[str]], Awaitable[set[str]]]
#: Takes the rows of a finished unit (opaque to the bus), in publish order.
UnitSink = Callable[[list[Any]], None]

#: A subscriber gives the event loop a turn after this many events in a row.
YIELD_EVERY = 32
#: At most this many keys per question to the store.
LOOKUP_BATCH = 500
#: A unit some subscriber has held this long is handed to the writer unfinished: a hung
#: cog must not stop everything from being saved (it only costs that event's atomicity).
STALE_UNIT_S = 5.0


class RecentKeys:
    """A bounded memory of event keys already handled (oldest forgotten first).

    ``horizon`` is the latest event time among the keys forgotten (or never loaded): an
    event at or before it may be a duplicate that memory no longer knows.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, datetime] = OrderedDict()
        self.horizon: datetime | None = None

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str, at: datetime) -> None:
        keys = self._keys
        keys[key] = at
        if len(keys) > self.capacity:
            _, old = keys.popitem(last=False)
            self.forgot(old)

    def forgot(self, at: datetime) -> None:
        """Widen the horizon to a key that memory does not hold."""
        if self.horizon is None or at > self.horizon:
            self.horizon = at

    def discard(self, key: str) -> bool:
        """Forget ``key``; True if memory had it."""
        return self._keys.pop(key, None) is not None

    def maybe_forgotten(self, at: datetime) -> bool:
        return self.horizon is not None and at <= self.horizon


class _Unit:
    """The rows written while handling one event and the events it caused."""

    __slots__ = ("closed", "pending", "rows")

    def __init__(self) -> None:
        self.pending = 0
        self.rows: list[Any] = []
        self.closed = False


#: The unit of the event the current subscriber task is handling.
_HANDLING: ContextVar[_Unit | None] = ContextVar("tribebot_unit", default=None)


class _Subscriber:
    """One cog's inbox: a deque and a wake-up event (lighter than asyncio.Queue, which
    matters at tens of thousands of events per second)."""

    __slots__ = (
        "by_type",
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

    def __init__(self, name: str, handler: Handler, types: tuple[type[Event], ...],
                 by_type: Mapping[type[Event], Handler] | None = None) -> None:
        self.name = name
        self.handler = handler
        self.types = types
        self.by_type = dict(by_type) if by_type is not None else None
        self.inbox: deque[tuple[Event, _Unit, Handler]] = deque()
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.pending = 0
        self.task: asyncio.Task[None] | None = None
        self.failures = 0

    def handler_for(self, kind: type[Event]) -> Handler | None:
        """What handles events of exactly ``kind`` (None: nothing, though it matches)."""
        return self.handler if self.by_type is None else self.by_type.get(kind)

    def put(self, event: Event, unit: _Unit, handler: Handler) -> None:
        self.inbox.append((event, unit, handler))
        self.pending += 1
        if self.pending == 1:
            self.idle.clear()
            self.wake.set()


class EventBus:
    def __init__(
        self, *, remember: int = 100_000, tap: Callable[[Event, str], None] | None = None
    ) -> None:
        """``tap`` sees every new event (and its key) synchronously, before any subscriber:
        the recorder, which only queues rows and never waits, so it needs no inbox of its
        own."""
        self._tap = tap
        self._subscribers: list[_Subscriber] = []
        #: event type -> (subscriber, its handler) of everyone who handles that type
        self._routes: dict[type[Event], list[tuple[_Subscriber, Handler]]] = {}
        self._seen = RecentKeys(remember)
        self._running = False
        #: events in subscribers' inboxes, all together (what ``drain`` looks at first)
        self._queued = 0
        self.published = 0
        self.duplicates = 0
        self.undone: str | None = None
        # -- duplicates the store knows ---------------------------------------------
        self._lookup: KeyLookup | None = None
        self._held: deque[Event] = deque()  # waiting for the store's answer, in order
        self._held_done = asyncio.Event()
        self._held_done.set()
        self._checker: asyncio.Task[None] | None = None
        self._checked_new: set[str] = set()  # asked already: the store does not have them
        self._checked_seen: set[str] = set()  # asked already: the store has them
        # -- units ------------------------------------------------------------------
        self._sink: UnitSink | None = None
        self._units: deque[_Unit] = deque()
        self._tapping: _Unit | None = None
        self._front: _Unit | None = None
        self._front_since = 0.0
        # -- inline delivery ----------------------------------------------------------
        #: Handle events in the task that drains, one subscriber after the other, instead
        #: of in each subscriber's own task (see ``drain``).
        self.inline = False
        self._ready: deque[tuple[Event, _Unit, list[tuple[_Subscriber, Handler]]]] = deque()
        self._derived: deque[tuple[Event, _Unit, list[tuple[_Subscriber, Handler]]]] = deque()
        self._dispatching = False
        self._dispatched = asyncio.Event()
        self._dispatched.set()
        self._since_yield = 0

    # -- wiring ------------------------------------------------------------------------
    def subscribe(self, name: str, handler: Handler, types: Iterable[type[Event]], *,
                  by_type: Mapping[type[Event], Handler] | None = None) -> None:
        """``by_type``: the handler of each exact event type, called directly instead of
        ``handler`` (a cog's listeners: one call per event and cog, not two)."""
        sub = _Subscriber(name, handler, tuple(types), by_type)
        self._subscribers.append(sub)
        self._routes.clear()
        if self._running:
            sub.task = asyncio.create_task(self._consume(sub), name=f"bus:{name}")

    def use_store(self, lookup: KeyLookup, sink: UnitSink) -> None:
        """Ask ``lookup`` about events memory may have forgotten; hand finished units'
        rows to ``sink``. Without a store the bus dedups in memory and keeps no units."""
        self._lookup = lookup
        self._sink = sink

    def remember(self, keys: Iterable[tuple[str, datetime]],
                 horizon: datetime | None = None) -> None:
        """Preload keys handled before a restart, so re-delivered updates stay duplicates;
        ``horizon`` is the latest time of a handled key that was not preloaded."""
        for key, at in keys:
            self._seen.add(key, at)
        if horizon is not None:
            self._seen.forgot(horizon)

    @property
    def window(self) -> RecentKeys:
        return self._seen

    def known(self, key: str) -> bool:
        """Whether ``key`` is a duplicate as far as memory and the answers so far go."""
        return key in self._seen or key in self._checked_seen

    def _was_seen(self, key: str) -> bool:
        """A key the store said it has (asked ahead); the answer is used once."""
        if key in self._checked_seen:
            self._checked_seen.discard(key)
            return True
        return False

    # -- publishing --------------------------------------------------------------------
    def publish(self, event: Event) -> bool:
        """Queue an event for every interested subscriber; False if it is a known duplicate.

        An event memory may have forgotten is held (with everything after it) until the
        store has answered; True then only means it was taken.
        """
        key = event.key
        if key in self._seen or (self._checked_seen and self._was_seen(key)):
            self.duplicates += 1
            return False
        unit = self._tapping or _HANDLING.get()
        if unit is not None and not unit.closed:
            # derived inside a handler: part of that event's unit, handled in line
            self._accept(event, unit, key)
            return True
        horizon = self._seen.horizon
        if self._held or (horizon is not None and event.at <= horizon
                          and self._lookup is not None and key not in self._checked_new):
            self._hold(event)
            return True
        self._accept(event, None, key)
        return True

    def _accept(self, event: Event, unit: _Unit | None, key: str) -> None:
        if self._checked_new:
            self._checked_new.discard(key)
        self._seen.add(key, event.at)
        undone = event.undoes()
        #: the handled key this event frees again (for the recorder to store as undone)
        self.undone = undone if undone is not None and self._seen.discard(undone) else None
        self.published += 1
        root = unit is None and self._sink is not None
        if root:
            unit = _Unit()
            self._units.append(unit)
        if self._tap is not None:
            previous, self._tapping = self._tapping, unit
            try:
                self._tap(event, key)
            finally:
                self._tapping = previous
        kind = type(event)
        routes = self._routes.get(kind)
        if routes is None:
            routes = [(s, h) for s in self._subscribers if isinstance(event, s.types)
                      and (h := s.handler_for(kind)) is not None]
            self._routes[kind] = routes
        if unit is None:
            unit = _NO_UNIT
        if self.inline:
            if routes:
                if unit is not _NO_UNIT:
                    unit.pending += len(routes)
                (self._ready if root or (unit is _NO_UNIT and _HANDLING.get() is None)
                 else self._derived).append((event, unit, routes))
        else:
            for sub, handler in routes:
                unit.pending += 1
                sub.put(event, unit, handler)
            self._queued += len(routes)
        if root and unit.pending == 0:
            self._settle()

    # -- rows of units -----------------------------------------------------------------
    def collector(self) -> list[Any] | None:
        """Where a row written now belongs: the unit being tapped or handled, else None
        (write it directly: a command, a timer, start-up)."""
        unit = self._tapping or _HANDLING.get()
        if unit is None or unit.closed or unit is _NO_UNIT:
            return None
        return unit.rows

    def _settle(self) -> None:
        """Hand finished units at the front to the writer, in publish order."""
        units = self._units
        while units and units[0].pending <= 0:
            self._close(units.popleft())

    def _close(self, unit: _Unit) -> None:
        unit.closed = True
        if unit.rows and self._sink is not None:
            self._sink(unit.rows)
        unit.rows = []

    def release_stale(self) -> None:
        """Called by the writer before each batch: if the same unfinished unit has been
        first in line for ``STALE_UNIT_S``, hand every waiting unit over unfinished."""
        units = self._units
        if not units:
            self._front = None
            return
        now = time.monotonic()
        if units[0] is not self._front:
            self._front, self._front_since = units[0], now
            return
        if now - self._front_since < STALE_UNIT_S:
            return
        log.warning("a cog has been busy with one event for %.0f s; saving %d events' rows "
                    "without waiting for it", now - self._front_since, len(units))
        while units:
            self._close(units.popleft())
        self._front = None

    # -- duplicates the store knows ----------------------------------------------------
    def _hold(self, event: Event) -> None:
        self._held.append(event)
        self._held_done.clear()
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(
                self._check_held(), name="bus:duplicates")

    async def _check_held(self) -> None:
        held = self._held
        try:
            while held:
                batch = [held[i] for i in range(min(len(held), LOOKUP_BATCH))]
                await self.check_ahead(batch)
                for _ in batch:
                    event = held.popleft()
                    key = event.key
                    if key in self._seen or self._was_seen(key):
                        self.duplicates += 1
                    else:
                        self._accept(event, None, key)
        except Exception:
            log.exception("could not ask the store about %d possibly re-delivered events; "
                          "handling them as new", len(held))
            while held:
                event = held.popleft()
                key = event.key
                if key in self._seen or self._was_seen(key):
                    self.duplicates += 1
                else:
                    self._accept(event, None, key)
        finally:
            self._held_done.set()

    async def check_ahead(self, events: Sequence[Event]) -> None:
        """Ask the store, in one question per ``LOOKUP_BATCH``, about the events among
        ``events`` that memory may have forgotten; the answers are remembered, so
        publishing them afterwards needs no further question."""
        if self._lookup is None:
            return
        seen, new, old = self._seen, self._checked_new, self._checked_seen
        keys = list(dict.fromkeys(
            e.key for e in events if seen.maybe_forgotten(e.at) and e.key not in seen
            and e.key not in new and e.key not in old))
        for start in range(0, len(keys), LOOKUP_BATCH):
            part = keys[start:start + LOOKUP_BATCH]
            found = await self._lookup(part)
            for key in part:
                (old if key in found else new).add(key)

    # -- running -----------------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        for sub in self._subscribers:
            if sub.task is None:
                sub.task = asyncio.create_task(self._consume(sub), name=f"bus:{sub.name}")

    async def drain(self) -> None:
        """Wait until every event published so far has been handled by every subscriber.

        With ``inline`` set, this is where events are handled: in the draining task, each
        event by one subscriber after the other (in the order they subscribed), and the
        events an event causes right after it. A replay waits for every event anyway, so
        waking up to seven tasks per event (and waiting for each) buys it nothing; a handler
        that does not suspend then costs a call, not a turn of the event loop.
        """
        if not (self._ready or self._derived or self._held or self._dispatching
                or self._queued):
            return  # nothing to wait for (twice per line of a replay)
        if self._dispatching and _HANDLING.get() is not None:
            return  # called from a handler: the drain that runs it goes on with the rest
        while True:
            await self._held_done.wait()
            if self._dispatching:  # another task is handling them: wait for it
                await self._dispatched.wait()
                continue
            if self._ready or self._derived:
                await self._dispatch()
            waited = False
            for sub in self._subscribers:
                while sub.pending:
                    waited = True
                    await sub.idle.wait()
            # one whole pass with nothing to wait for: a subscriber checked early in the
            # pass may have been given a derived event by one checked later
            if not waited and not self._held and not self._ready:
                return

    async def _dispatch(self) -> None:
        """Handle the ready events inline (see ``drain``), giving the loop a turn (the
        writer's commits) every ``YIELD_EVERY`` events."""
        ready, derived = self._ready, self._derived
        self._dispatching = True
        self._dispatched.clear()
        try:
            while derived or ready:
                event, unit, routes = (derived or ready).popleft()
                token = _HANDLING.set(unit)
                try:
                    for sub, handler in routes:
                        try:
                            await handler(event)
                        except Exception:
                            sub.failures += 1
                            log.exception("subscriber %s failed on %r", sub.name, event)
                        finally:
                            if unit is not _NO_UNIT:
                                unit.pending -= 1
                finally:
                    _HANDLING.reset(token)
                if not unit.pending and unit is not _NO_UNIT and not unit.closed:
                    self._settle()
                self._since_yield += 1
                if self._since_yield >= YIELD_EVERY:
                    self._since_yield = 0
                    await asyncio.sleep(0)
        finally:
            self._dispatching = False
            self._dispatched.set()

    async def stop(self, *, within: float | None = None) -> int:
        """Finish queued events (waiting at most ``within`` seconds), then stop the consumer
        tasks; returns how many events were left unhandled (0 unless time ran out)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), within)
        left = sum(s.pending for s in self._subscribers) + len(self._ready) + len(
            self._derived)
        self._running = False
        for sub in self._subscribers:
            if sub.task is not None:
                sub.task.cancel()
        await asyncio.gather(
            *(s.task for s in self._subscribers if s.task is not None), return_exceptions=True
        )
        for sub in self._subscribers:
            sub.task = None
        while self._units:  # nothing is pending any more; hand over what is left
            self._close(self._units.popleft())
        return left

    def failures(self) -> dict[str, int]:
        return {s.name: s.failures for s in self._subscribers}

    async def _consume(self, sub: _Subscriber) -> None:
        inbox = sub.inbox
        handling = _HANDLING.set  # the task's own context: set per event, never reset
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
            event, unit, handler = inbox.popleft()
            handling(unit)  # a stale unit is closed: rows written later go straight on
            try:
                await handler(event)
            except Exception:
                sub.failures += 1
                log.exception("subscriber %s failed on %r", sub.name, event)
            finally:
                sub.pending -= 1
                self._queued -= 1
                if sub.pending == 0:
                    sub.idle.set()
                unit.pending -= 1
                if not unit.pending and unit is not _NO_UNIT and not unit.closed:
                    self._settle()


#: Stands in for a unit when the bus keeps none (no store wired): counts nothing useful.
_NO_UNIT = _Unit()
