"""The batched writer: one task owns the write connection and commits in batches.

Committing once per event caps a bot at a few thousand events per second; committing a
batch of N events (or whatever arrived within T ms) in one transaction is what lets a
busy community be recorded without falling behind. Within a batch, rows are grouped by
statement and each group is sent in one call; statements run in the order they were declared,
which is why every statement is written to be correct in that order (inserts before the
updates that depend on them, state changes as one upsert so their order is kept).

Two kinds of failure are told apart. A *bad row* (a constraint it breaks, a value SQLite
refuses) costs only that row: failing halves of the batch are retried until the bad rows
are found, logged and dropped. An *unavailable store* (locked by another program, disk
full or failing, file turned read-only) is no fault of any row: the batch is kept and
retried with growing pauses until the store takes it, so a busy database or a full disk
loses nothing.

An ``INSERT … VALUES (?, …)`` statement also gets a *bulk form* that reads the whole
group from one JSON array (``INSERT … SELECT … FROM json_each(?)``): one call into SQLite
per group instead of one per row. That matters beyond the saved bindings: SQLite runs in
aiosqlite's thread, which needs the GIL back after every row, and the event loop (busy
with the cogs) holds it; per-row statements spend most of a busy batch waiting for it.

A whole transaction also goes to aiosqlite's thread as *one* call (BEGIN, every group,
COMMIT), not one call per statement: each call waits for the event loop to come back to
the writer, and a busy loop (cogs handling a replay) comes back after milliseconds. A
stop that cancels the writer while SQLite has a transaction waits for it to end, so the
writer knows whether those rows were committed and never keeps them twice.

What differs per database is a small ``Backend``: ``SqliteBackend`` here, and
``storage.postgres.PostgresBackend`` (its fast path is one ``unnest`` insert per group).
The batching, the search for bad rows and the retries are the same for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite
import orjson

from storage.database import optimize
from storage.dialect import Sql, Variant

log = logging.getLogger(__name__)

Params = Sequence[Any]
#: Runs only where the JSON functions the bulk forms use exist.
JSON_PROBE = "SELECT json_extract(value, '$[0]') FROM json_each('[[1]]')"

#: SQLite result codes that blame the store, not the row: wait and retry, drop nothing.
_UNAVAILABLE = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
})


def store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the store cannot take writes right now (as opposed to a bad row)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in _UNAVAILABLE


class WriterStopped(RuntimeError):
    """The writer cannot go on; the message says why and how many rows were not saved."""


_INSERT_VALUES = re.compile(
    r"(?P<head>^\s*INSERT\s+(?:OR\s+(?:IGNORE|REPLACE)\s+)?INTO\s+\w+\s*\([^)]*\))"
    r"\s*VALUES\s*\((?P<values>[^)]*)\)(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)


def bulk_form(sql: str) -> str | None:
    """The statement rewritten to insert every row of a JSON array in one execution.

    Only for ``INSERT … VALUES (…)`` whose parameters are all inside ``VALUES``; what
    follows (``ON CONFLICT …``) is kept. ``ORDER BY j.key`` keeps the rows in submission
    order, so a later upsert of the same key still wins; ``WHERE true`` is what SQLite's
    grammar asks of a SELECT followed by an upsert clause.
    """
    match = _INSERT_VALUES.match(sql)
    if match is None or sql.count("?") != match["values"].count("?"):
        return None
    columns, index = [], 0
    for item in (part.strip() for part in match["values"].split(",")):
        if item == "?":
            columns.append(f"json_extract(j.value, '$[{index}]')")
            index += 1
        elif "?" in item or "(" in item:
            return None  # an expression around a parameter: keep it row by row
        else:
            columns.append(item)
    return (f"{match['head']} SELECT {', '.join(columns)} FROM json_each(?) AS j"
            f" WHERE true ORDER BY j.key {match['rest'].strip()}").rstrip()


@dataclass(frozen=True, slots=True)
class Statement:
    """A write statement; ``order`` fixes where its group runs inside a batch."""

    name: str
    sql: str
    order: int
    #: the same insert fed by one JSON array of rows (see ``bulk_form``), if it has one
    bulk_sql: str | None = None
    #: PostgreSQL's own form, where translating ``sql`` would not say the same
    #: (``storage.dialect``)
    postgres: str | None = None

    @property
    def source(self) -> Sql:
        """The statement as ``storage.dialect`` translates it."""
        return Variant(self.sql, self.postgres) if self.postgres is not None else self.sql


class StatementBook:
    """Write statements in the order they must run inside one batch."""

    def __init__(self) -> None:
        self._statements: list[Statement] = []

    def add(self, name: str, sql: str) -> Statement:
        stmt = Statement(name, sql, len(self._statements), bulk_form(sql))
        self._statements.append(stmt)
        return stmt

    def named(self, name: str) -> Statement | None:
        return next((s for s in self._statements if s.name == name), None)


Groups = list[tuple[Statement, list[Params]]]


class Backend(Protocol):
    """What the writer needs of a database: one transaction per batch, a way back out of
    a failed one, and which errors blame the store rather than a row."""

    async def start(self) -> None: ...

    async def transaction(self, groups: Groups) -> None:
        """Run every group (in the order given) and commit, or raise."""

    async def rollback(self) -> None: ...

    async def interrupted(self) -> bool:
        """After a cancelled ``transaction``: end what it left open; True if it
        committed all the same (the rows are saved and must not be kept again)."""

    def unavailable(self, exc: BaseException) -> bool: ...

    async def optimize(self) -> None: ...


class SqliteBackend:
    """The writer on one aiosqlite connection; groups of inserts go as one JSON array,
    and a whole transaction runs in one call on the connection's thread."""

    def __init__(self, conn: aiosqlite.Connection, *, bulk: bool = True,
                 one_hop: bool = True) -> None:
        """``one_hop=False`` sends each statement as its own call: the reference the
        one-call transaction is tested against, and the way on an aiosqlite without
        the call it needs."""
        self.conn = conn
        self.bulk = bulk
        self.one_hop = one_hop and _runs_functions(conn)
        #: the one-call transaction in the connection's thread, until it is settled
        self._running: asyncio.Future[None] | None = None
        #: the multi-call transaction has sent its COMMIT
        self._committing = False

    async def start(self) -> None:
        # SQLite's JSON functions are built in since 3.38 and in nearly every older build;
        # without them every group simply runs row by row.
        if self.bulk:
            try:
                # read to the end: a SELECT left unfinished keeps a read transaction open,
                # and SQLite then refuses this connection's next write at once when another
                # program holds the lock, instead of waiting ``busy_timeout`` for it
                await self.conn.execute_fetchall(JSON_PROBE)
            except aiosqlite.Error:
                self.bulk = False
                log.warning("this SQLite has no JSON functions; writing row by row (slower)")

    async def transaction(self, groups: Groups) -> None:
        steps = [self._step(stmt, group) for stmt, group in groups]
        if not self.one_hop:
            await self._step_by_step(steps)
            return
        conn = self.conn
        # aiosqlite has no public call for running a function in its thread; ``_execute``
        # is what its every public method goes through (checked at start, see
        # ``_runs_functions``). The task lives on if this call is cancelled: see
        # ``interrupted``.
        running = self._running = asyncio.ensure_future(
            conn._execute(_commit_in_thread, conn._conn, steps))
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            raise  # still ``_running``: ``interrupted`` waits for it
        except BaseException:
            self._running = None
            raise
        self._running = None

    def _step(self, stmt: Statement, group: list[Params]) -> _Step:
        if (stmt.bulk_sql and self.bulk and len(group) > 1
                and (bulk := _as_json(group)) is not None):
            return stmt.bulk_sql, (bulk,), False
        return stmt.sql, group, True

    async def _step_by_step(self, steps: list[_Step]) -> None:
        self._committing = False
        await self.conn.execute("BEGIN")
        for sql, params, many in steps:
            if many:
                await self.conn.executemany(sql, params)
            else:
                await self.conn.execute(sql, params)
        self._committing = True
        await self.conn.execute("COMMIT")
        self._committing = False

    async def rollback(self) -> None:
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def interrupted(self) -> bool:
        """Cancelling does not stop what SQLite's thread is running: wait for it (a lock
        is waited for ``busy_timeout`` at most), then see where the transaction is."""
        running, self._running = self._running, None
        if running is not None:
            try:
                await running
            except Exception:
                return False  # failed, and rolled back in the thread
            return True
        await self.conn.execute("SELECT 1")  # queued behind the statement in the thread
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")
            return False
        committed, self._committing = self._committing, False
        return committed

    def unavailable(self, exc: BaseException) -> bool:
        return store_unavailable(exc)

    async def optimize(self) -> None:
        await optimize(self.conn)


#: One statement of a transaction: SQL, its parameters, and whether they are many rows.
_Step = tuple[str, Params, bool]


def _runs_functions(conn: aiosqlite.Connection) -> bool:
    """Whether this aiosqlite has the (private) call the one-call transaction uses."""
    return callable(getattr(conn, "_execute", None)) and hasattr(type(conn), "_conn")


def _commit_in_thread(conn: sqlite3.Connection, steps: list[_Step]) -> None:
    """One transaction, run in aiosqlite's thread; a failure rolls back before it is raised,
    so the connection is never left inside a transaction."""
    conn.execute("BEGIN")
    try:
        for sql, params, many in steps:
            if many:
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to tell
                conn.execute("ROLLBACK")
        raise


class BatchedWriter:
    def __init__(
        self, conn: aiosqlite.Connection | Backend, *, max_batch: int = 1000,
        max_delay_ms: float = 50, bulk: bool = True, one_hop: bool = True,
        retry_first_s: float = 0.5, retry_max_s: float = 30.0,
        optimize_every: int | None = None,
    ) -> None:
        """``bulk=False`` runs every group row by row: the reference that the bulk forms
        are tested against, and the fallback when SQLite has no JSON functions.
        ``one_hop=False`` sends a transaction's statements one call at a time (see
        ``SqliteBackend``).

        While the store is unavailable a batch is retried after ``retry_first_s``, the
        pause doubling up to ``retry_max_s``. After every ``optimize_every`` rows the
        planner's statistics are refreshed (``PRAGMA optimize``), between two batches.
        """
        self._backend: Backend = (SqliteBackend(conn, bulk=bulk, one_hop=one_hop)
                                  if isinstance(conn, aiosqlite.Connection) else conn)
        self._max_batch = max_batch
        self._max_delay = max_delay_ms / 1000
        self._retry_first = retry_first_s
        self._retry_max = retry_max_s
        self._pending: list[tuple[Statement, Params]] = []
        #: where units of rows end (absolute row numbers): a batch never splits a unit
        self._ends: deque[int] = deque()
        #: called before each batch is taken (the bus hands over units a hung cog holds)
        self.before_batch: Callable[[], None] | None = None
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._committed_event = asyncio.Event()
        self._submitted = 0
        self._committed = 0
        self._urgent = False
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._optimize_every = optimize_every
        self._since_optimize = 0
        self.batches = 0
        self.failed_rows = 0
        #: batches that met an unavailable store and were kept for another try
        self.retries = 0
        #: set, with ``failure``, when the writer stopped on an error it cannot get past
        self.failed = asyncio.Event()
        self.failure: BaseException | None = None
        self._last_error: BaseException | None = None
        #: the store refused the last try (locked, full): writes are waiting for it
        self.waiting_for_store = False
        #: a stop was asked for: reads no longer wait for a store that takes no writes
        self.stopping = False
        #: the batch being committed, and which of its rows are settled already
        self._in_flight: tuple[list[tuple[Statement, Params]], set[int]] | None = None

    @property
    def backend(self) -> Backend:
        """What the writer writes through (for reports and tests)."""
        return self._backend

    async def start(self) -> None:
        await self._backend.start()
        self._task = asyncio.create_task(self._run(), name="storage-writer")

    def submit(self, statement: Statement, params: Params) -> None:
        """Queue one row; never waits (callers sit on the per-event hot path)."""
        self.submit_unit([(statement, params)])

    def submit_unit(self, rows: list[tuple[Statement, Params]]) -> None:
        """Queue rows that must be committed together (one event and its consequences):
        a batch ends only between units, so a crash never keeps half of one."""
        if self._closing:
            raise RuntimeError("the writer is closed; nothing more can be written")
        if not rows:
            return
        was_empty = not self._pending
        self._pending.extend(rows)
        self._submitted += len(rows)
        self._ends.append(self._submitted)
        if was_empty:
            self._wake.set()
        if len(self._pending) >= self._max_batch:
            self._full.set()

    def _take_batch(self) -> list[tuple[Statement, Params]]:
        """The next batch: whole units, up to ``max_batch`` rows (one unit if it is bigger)."""
        base = self._submitted - len(self._pending)
        limit = base + self._max_batch
        ends = self._ends
        cut = 0
        while ends and (ends[0] <= limit or cut == 0):
            cut = ends.popleft() - base
        batch = self._pending[:cut]
        del self._pending[:cut]
        return batch

    @property
    def unsaved(self) -> int:
        """Rows submitted and not committed yet (nor dropped as bad rows)."""
        settled = len(self._in_flight[1]) if self._in_flight is not None else 0
        return self._submitted - self._committed - settled

    def unsaved_rows(self) -> list[tuple[Statement, Params]]:
        """Rows submitted and not committed, in order: for keeping them elsewhere once
        the writer has stopped without writing them."""
        rows: list[tuple[Statement, Params]] = []
        if self._in_flight is not None:
            batch, done = self._in_flight
            rows.extend(row for index, row in enumerate(batch) if index not in done)
        return rows + self._pending

    def request_stop(self) -> None:
        """A stop is coming: from now on ``flush`` does not wait for a store that is
        unavailable (a read then sees the store as it is), so nothing hangs on the way out;
        ``close`` still gives the store its time and keeps what it cannot write."""
        self.stopping = True
        self._committed_event.set()  # waiters look again

    async def flush(self, *, all_the_way: bool = False) -> None:
        """Return once every row submitted before the call is committed.

        Raises ``WriterStopped`` if the writer stopped instead of committing them. After
        ``request_stop`` it returns at once while the store is unavailable, unless
        ``all_the_way`` (what ``close`` asks).
        """
        target = self._submitted
        while self._committed < target:
            if self.failure is not None:
                raise WriterStopped(
                    f"the store stopped taking writes ({_describe(self.failure)}); "
                    f"{self.unsaved} rows were not saved")
            if self._task is None or self._task.done():
                raise WriterStopped("the writer is not running")
            if self.stopping and self.waiting_for_store and not all_the_way:
                return
            self._urgent = True
            self._full.set()
            self._wake.set()
            self._committed_event.clear()
            await self._committed_event.wait()

    async def close(self, *, give_up_after_s: float = 15.0) -> None:
        """Commit everything still queued, then stop.

        A store that stays unavailable gets ``give_up_after_s`` to come back (a service
        manager kills a process that takes too long to stop); then ``WriterStopped``
        says how many rows were not saved, and ``unsaved_rows`` has them (the repository
        keeps them for the next start).
        """
        if self._task is None:
            return
        waiting_for = None
        try:
            await asyncio.wait_for(self.flush(all_the_way=True), give_up_after_s)
        except TimeoutError:
            waiting_for = self._waiting_for()
        finally:
            self._closing = True
            self._task.cancel()  # a transaction the store has is waited for (see _transaction)
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
            self._committed_event.set()  # whoever still waits in flush() hears it stopped
        if waiting_for is not None and self.unsaved:
            raise WriterStopped(
                f"the store did not take writes for {give_up_after_s:.3g} s while stopping "
                f"({waiting_for}); {self.unsaved} rows were not saved. "
                "Check the free disk space and that no other program holds the database "
                "open (a database browser with unsaved changes does)")

    def _waiting_for(self) -> str:
        if self._last_error is not None:
            return _describe(self._last_error)
        if self._in_flight is not None:  # inside SQLite's busy wait: another writer holds it
            return "a write is still waiting for the database, which another program keeps locked"
        return "no error recorded"

    async def _run(self) -> None:
        try:
            while True:
                if not self._pending:
                    self._wake.clear()
                    await self._wake.wait()
                if len(self._pending) < self._max_batch and not self._urgent:
                    self._full.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full.wait(), self._max_delay)
                self._urgent = False
                if self.before_batch is not None:
                    self.before_batch()
                batch = self._take_batch()
                if batch:
                    done: set[int] = set()  # rows settled: committed, or dropped as bad
                    self._in_flight = (batch, done)
                    await self._commit_when_possible(batch, done)
                    self._in_flight = None
                    self._committed += len(batch)
                    self._since_optimize += len(batch)
                self._committed_event.set()
                if self._optimize_every and self._since_optimize >= self._optimize_every:
                    self._since_optimize = 0
                    await self._backend.optimize()
        except Exception as exc:
            # Not a bad row and not a busy store: a lost connection or a bug. Stop
            # loudly (flush raises, ``failed`` tells the runtime) instead of hanging.
            self.failure = exc
            log.critical("the store writer stopped; %d rows are not saved", self.unsaved,
                         exc_info=exc)
            self.failed.set()
            self._committed_event.set()

    async def _commit_when_possible(self, batch: list[tuple[Statement, Params]],
                                    done: set[int]) -> None:
        """Commit ``batch``, waiting out an unavailable store as long as it takes."""
        pause = self._retry_first
        while True:
            try:
                await self._commit(batch, done)
            except Exception as exc:
                if not self._backend.unavailable(exc):
                    raise
                self._last_error = exc
                self.retries += 1
                self.waiting_for_store = True
                self._committed_event.set()  # a stopping reader stops waiting
                log.warning("cannot write to the store (%s); %d rows are waiting, trying "
                            "again in %g s", _describe(exc), self.unsaved, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._retry_max)
                continue
            self.waiting_for_store = False
            if pause > self._retry_first:
                log.warning("the store takes writes again; %d waiting rows saved", len(batch))
            return

    async def _commit(self, batch: list[tuple[Statement, Params]], done: set[int]) -> None:
        started = time.perf_counter()
        if not done:  # else a search for bad rows was interrupted: finish it
            try:
                await self._transaction(batch, range(len(batch)), done)
            except Exception as exc:
                await self._rollback()
                if self._backend.unavailable(exc):
                    raise
                log.warning("a batch of %d rows failed (%s); looking for the bad rows",
                            len(batch), _describe(exc))
            else:
                self.batches += 1
                log.debug("committed %d rows in %.1f ms", len(batch),
                          (time.perf_counter() - started) * 1e3)
                return
        # the order a whole batch runs in: by statement, then as submitted
        order = sorted(range(len(batch)), key=lambda i: batch[i][0].order)
        await self._without_bad_rows(batch, [i for i in order if i not in done], done)
        self.batches += 1

    async def _transaction(self, batch: list[tuple[Statement, Params]],
                           indexes: Sequence[int], done: set[int]) -> None:
        """Commit the ``indexes`` rows of ``batch`` in one transaction, each statement's
        group in one call, and count them in ``done``.

        A stop that cancels this first learns how the transaction ended: rows it
        committed anyway are saved, and must not be kept for the next start as well.
        """
        groups: dict[Statement, list[Params]] = {}
        for i in indexes:
            stmt, params = batch[i]
            groups.setdefault(stmt, []).append(params)
        try:
            await self._backend.transaction(
                sorted(groups.items(), key=lambda item: item[0].order))
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                if await self._backend.interrupted():
                    done.update(indexes)
            raise
        done.update(indexes)

    async def _without_bad_rows(self, batch: list[tuple[Statement, Params]],
                                indexes: list[int], done: set[int]) -> None:
        """Commit every good row of a batch that bad rows broke; log and drop the bad ones.

        Halves that fail are halved again, so one bad row among 20,000 costs about 30
        transactions, not 20,000. A transaction, not a savepoint, per try: a foreign key
        declared DEFERRABLE is only checked at COMMIT. ``indexes`` are in the order the
        whole batch would have run, and each half keeps it.
        """
        if not indexes:
            return
        try:
            await self._transaction(batch, indexes, done)
        except Exception as exc:
            await self._rollback()
            if self._backend.unavailable(exc):
                raise  # the store's fault, not a row's: ``done`` says where to resume
            if len(indexes) == 1:
                stmt, params = batch[indexes[0]]
                self.failed_rows += 1
                log.error("dropped a row for %s (%s): %r", stmt.name, _describe(exc), params)
                done.add(indexes[0])
                return
            middle = len(indexes) // 2
            await self._without_bad_rows(batch, indexes[:middle], done)
            await self._without_bad_rows(batch, indexes[middle:], done)

    async def _rollback(self) -> None:
        await self._backend.rollback()


def _describe(exc: BaseException | None) -> str:
    return f"{type(exc).__name__}: {exc}" if exc is not None else "no error recorded"


def _as_json(rows: list[Params]) -> str | None:
    """A group's rows as one JSON array; None if a value has no JSON form.

    orjson because this runs on the event loop for every row: it is about nine times
    faster than ``json`` here. Text, not bytes: SQLite reads a BLOB argument as JSONB.
    It writes NaN and infinities as null; no column of the store holds a float.
    """
    try:
        return orjson.dumps(rows).decode()
    except orjson.JSONEncodeError:  # bytes, integers beyond 64 bits
        return None
