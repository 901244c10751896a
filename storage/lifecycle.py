"""The database every feature store works on: connections, the batched writer, a stop.

Writes are queued on the batched writer and return immediately (they sit on the
per-event path); reads are awaited on a separate read connection after the writer has
flushed, so a reader always sees what was written before it asked. The feature modules
(``storage.facts``, ``storage.points``, …) hold the SQL; this module holds none of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Self

import aiosqlite

from storage import spill
from storage.book import BOOK, Book
from storage.database import OPTIMIZE_AT_OPEN, connect, migrate, optimize, sqlite_path
from storage.writer import BatchedWriter, Params, Statement, WriterStopped

log = logging.getLogger(__name__)

#: Rows written between two ``PRAGMA optimize`` (SQLite's statistics go stale as tables
#: grow; a community writes this many rows in hours to days).
OPTIMIZE_EVERY = 250_000

#: How long one write waits for another program's lock before the writer's own retries.
WRITER_BUSY_TIMEOUT_MS = 1000


class Database:
    """SQLite implementation. A PostgreSQL one would offer the same methods."""

    def __init__(
        self, url: str, *, max_batch: int = 1000, max_delay_ms: float = 50, bulk: bool = True,
        book: Book = BOOK,
    ) -> None:
        """``book`` names the statements rows kept by the last stop may use (every
        feature's, once ``storage`` is imported)."""
        self.url = url
        self._bulk = bulk
        self._book = book
        self.path = sqlite_path(url)
        self._max_batch = max_batch
        self._max_delay_ms = max_delay_ms
        self._write: aiosqlite.Connection | None = None
        self._read: aiosqlite.Connection | None = None
        self.writer: BatchedWriter | None = None
        self.migrations_applied: list[str] = []
        #: where a row written now belongs, if not straight to the writer (the bus's
        #: unit of the event being handled; see ``bot.core.bus``)
        self.collect: Callable[[], list[Any] | None] | None = None

    async def open(self, *, writable: bool = True) -> list[str]:
        """Check the file, connect, apply pending migrations, start the writer; returns
        the migrations applied. ``writable=False`` accepts a read-only database (reports)."""
        self._write = await connect(self.url, check=True, writable=writable)
        # the writer retries a locked store by itself (see storage.writer): one try waits
        # a second, not five, so a stop is never stuck behind a statement waiting for a lock
        await self._write.execute(f"PRAGMA busy_timeout={WRITER_BUSY_TIMEOUT_MS}")
        try:
            applied = await migrate(self._write)
            self.migrations_applied = applied
        except Exception:
            await self._write.close()
            raise
        if self.path == ":memory:":
            self._read = self._write  # one in-memory database cannot be opened twice
        else:
            self._read = await connect(self.url)
            await self._read.execute("PRAGMA query_only=ON")
        self.writer = BatchedWriter(
            self._write, max_batch=self._max_batch, max_delay_ms=self._max_delay_ms,
            bulk=self._bulk, optimize_every=OPTIMIZE_EVERY,
        )
        await self.writer.start()
        await self._write_kept_rows()
        await optimize(self._write, OPTIMIZE_AT_OPEN)  # after migrations and kept rows
        return applied

    async def _write_kept_rows(self) -> None:
        """Rows the last stop could not commit (see ``storage.spill``) go in first."""
        path = spill.spill_path(self.path)
        if self.path == ":memory:" or not path.exists():
            return
        rows, unknown = await asyncio.to_thread(spill.load, path, self._book)
        for statement, params in rows:
            self.submit(statement, params)
        await self.flush()
        if unknown:
            kept = path.with_suffix(".unreadable")
            path.rename(kept)
            log.error("%d rows kept from the last stop name statements this version does "
                      "not have; they stay in %s", unknown, kept)
        else:
            path.unlink()
        log.warning("wrote %d rows the last stop could not save (kept in %s)", len(rows),
                    path)

    async def close(self, *, give_up_after_s: float = 15.0) -> None:
        """Commit what is queued and close; ``WriterStopped`` if rows could not be saved
        (they are kept in a file beside the database for the next start, if possible)."""
        try:
            if self.writer is not None:
                await self.writer.close(give_up_after_s=give_up_after_s)
        except WriterStopped as exc:
            assert self.writer is not None
            unsaved = self.writer.unsaved_rows()
            if not unsaved or self.path == ":memory:":
                raise
            path = spill.spill_path(self.path)
            try:
                kept = await asyncio.to_thread(spill.keep, path, unsaved)
            except OSError as error:  # the disk that is full, say
                raise WriterStopped(f"{exc}; keeping them in {path} failed too ({error})"
                                    ) from exc
            raise WriterStopped(f"{exc}. {kept} of them are kept in {path}; the next start "
                                "writes them") from exc
        finally:
            if self._read is not None and self._read is not self._write:
                await self._read.close()
            if self._write is not None:
                if self.writer is not None and not self.writer.unsaved:  # the store is fine
                    await optimize(self._write)
                await self._write.close()
            self._write = self._read = None

    async def until_writes_fail(self) -> BaseException:
        """Wait until the writer stops on an error it cannot get past; return that error."""
        assert self.writer is not None, "repository is not open"
        await self.writer.failed.wait()
        assert self.writer.failure is not None
        return self.writer.failure

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- what the feature stores use ---------------------------------------------------
    def submit(self, stmt: Statement, params: Sequence[Any]) -> None:
        """Queue a write on the one batched writer (or on the event being handled)."""
        rows = self.collect() if self.collect is not None else None
        if rows is not None:  # part of the event being handled: saved with it
            rows.append((stmt, params))
            return
        assert self.writer is not None, "repository is not open"
        self.writer.submit(stmt, params)

    def submit_unit(self, rows: list[tuple[Statement, Params]]) -> None:
        """Queue rows that are committed together or not at all (one event's)."""
        assert self.writer is not None, "repository is not open"
        self.writer.submit_unit(rows)

    async def rows(
        self, sql: str, params: Sequence[Any] = (), *, consistent: bool = True
    ) -> list[Any]:
        """Run a read. ``consistent`` first commits queued writes so the read sees them;
        reads that tolerate a slightly old answer skip that and leave batching alone."""
        assert self.writer is not None and self._read is not None, "repository is not open"
        if consistent:
            await self.writer.flush()
        async with self._read.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def dict_rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as column -> value dicts (for exports)."""
        assert self.writer is not None and self._read is not None, "repository is not open"
        await self.writer.flush()
        async with self._read.execute(sql, params) as cur:
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]

    async def flush(self) -> None:
        assert self.writer is not None
        await self.writer.flush()

    def read_connection(self) -> aiosqlite.Connection:
        """The read connection, for questions about the file itself (its schema)."""
        assert self._read is not None, "repository is not open"
        return self._read

    async def flushed_write_connection(self) -> aiosqlite.Connection:
        """The write connection once everything queued is committed: for maintenance that
        rewrites tables in one script (``db recompute``), between two batches."""
        assert self._write is not None and self.writer is not None, "repository is not open"
        await self.writer.flush()
        return self._write
