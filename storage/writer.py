"""The batched writer: one task owns the write connection and commits in batches.

Committing once per event caps a bot at a few thousand events per second; committing a
batch of N events (or whatever arrived within T ms) in one transaction is what lets a
busy community be recorded without falling behind. Within a batch, rows are grouped by
statement and each group is sent in one call; statements run in the order they were declared,
which is why every statement is written to be correct in that order (inserts before the
updates that depend on them, state changes as one upsert so their order is kept).

An ``INSERT … VALUES (?, …)`` statement also gets a *bulk form* that reads the whole
group from one JSON array (``INSERT … SELECT … FROM json_each(?)``): one call into SQLite
per group instead of one per row. That matters beyond the saved bindings: SQLite runs in
aiosqlite's thread, which needs the GIL back after every row, and the event loop (busy
with the cogs) holds it; per-row statements spend most of a busy batch waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Params = Sequence[Any]
#: Runs only where the JSON functions the bulk forms use exist.
JSON_PROBE = "SELECT json_extract(value, '$[0]') FROM json_each('[[1]]')"


_INSERT_VALUES = re.compile(
    r"(?P<head>^\s*INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+\w+\s*\([^)]*\))"
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


class StatementBook:
    """Write statements in the order they must run inside one batch."""

    def __init__(self) -> None:
        self._statements: list[Statement] = []

    def add(self, name: str, sql: str) -> Statement:
        stmt = Statement(name, sql, len(self._statements), bulk_form(sql))
        self._statements.append(stmt)
        return stmt


class BatchedWriter:
    def __init__(
        self, conn: aiosqlite.Connection, *, max_batch: int = 1000, max_delay_ms: float = 50,
        bulk: bool = True,
    ) -> None:
        """``bulk=False`` runs every group row by row: the reference that the bulk forms
        are tested against, and the fallback when SQLite has no JSON functions."""
        self._conn = conn
        self._max_batch = max_batch
        self._max_delay = max_delay_ms / 1000
        self._pending: list[tuple[Statement, Params]] = []
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._committed_event = asyncio.Event()
        self._submitted = 0
        self._committed = 0
        self._urgent = False
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._json_ok = bulk
        self.batches = 0
        self.failed_rows = 0

    async def start(self) -> None:
        # SQLite's JSON functions are built in since 3.38 and in nearly every older build;
        # without them every group simply runs row by row.
        if self._json_ok:
            try:
                await self._conn.execute(JSON_PROBE)
            except aiosqlite.Error:
                self._json_ok = False
                log.warning("this SQLite has no JSON functions; writing row by row (slower)")
        self._task = asyncio.create_task(self._run(), name="storage-writer")

    def submit(self, statement: Statement, params: Params) -> None:
        """Queue one row; never waits (callers sit on the per-event hot path)."""
        if self._closing:
            raise RuntimeError("the writer is closed; nothing more can be written")
        self._pending.append((statement, params))
        self._submitted += 1
        if len(self._pending) == 1:
            self._wake.set()
        if len(self._pending) >= self._max_batch:
            self._full.set()

    async def flush(self) -> None:
        """Return once every row submitted before the call is committed."""
        target = self._submitted
        while self._committed < target:
            if self._task is None or self._task.done():
                raise RuntimeError("the writer is not running")
            self._urgent = True
            self._full.set()
            self._wake.set()
            self._committed_event.clear()
            await self._committed_event.wait()

    async def close(self) -> None:
        """Commit everything still queued, then stop."""
        if self._task is None:
            return
        await self.flush()
        self._closing = True
        self._wake.set()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
            if len(self._pending) < self._max_batch and not self._urgent:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._max_delay)
            self._urgent = False
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            if batch:
                await self._commit(batch)
                self._committed += len(batch)
            self._committed_event.set()

    async def _commit(self, batch: list[tuple[Statement, Params]]) -> None:
        groups: dict[Statement, list[Params]] = {}
        for stmt, params in batch:
            groups.setdefault(stmt, []).append(params)
        ordered = sorted(groups.items(), key=lambda item: item[0].order)
        started = time.perf_counter()
        try:
            await self._conn.execute("BEGIN")
            for stmt, rows in ordered:
                if (stmt.bulk_sql and self._json_ok and len(rows) > 1
                        and (bulk := _as_json(rows)) is not None):
                    await self._conn.execute(stmt.bulk_sql, (bulk,))
                else:
                    await self._conn.executemany(stmt.sql, rows)
            await self._conn.execute("COMMIT")
        except Exception:
            log.exception("batch of %d rows failed; retrying row by row", len(batch))
            await self._conn.execute("ROLLBACK")
            await self._commit_one_by_one(ordered)
        self.batches += 1
        log.debug("committed %d rows in %.1f ms", len(batch), (time.perf_counter() - started) * 1e3)

    async def _commit_one_by_one(self, ordered: list[tuple[Statement, list[Params]]]) -> None:
        """Keep every good row of a batch that one bad row broke; log the bad ones."""
        await self._conn.execute("BEGIN")
        for stmt, rows in ordered:
            for params in rows:
                try:
                    await self._conn.execute("SAVEPOINT row")
                    await self._conn.execute(stmt.sql, params)
                    await self._conn.execute("RELEASE row")
                except Exception:
                    await self._conn.execute("ROLLBACK TO row")
                    await self._conn.execute("RELEASE row")
                    self.failed_rows += 1
                    log.exception("dropped a row for %s: %r", stmt.name, params)
        await self._conn.execute("COMMIT")


def _as_json(rows: list[Params]) -> str | None:
    """A group's rows as one JSON array; None if a value has no JSON form."""
    try:
        return json.dumps(rows, ensure_ascii=False, check_circular=False, allow_nan=False)
    except (TypeError, ValueError):
        return None
