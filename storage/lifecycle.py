"""The database every feature store works on: connections, the batched writer, a stop.

Writes are queued on the batched writer and return immediately (they sit on the
per-event path); reads are awaited on a separate read connection after the writer has
flushed, so a reader always sees what was written before it asked. The feature modules
(``storage.facts``, ``storage.points``, …) hold the SQL; this module holds none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import aiosqlite

from storage import spill
from storage.book import BOOK, Book
from storage.database import (
    OPTIMIZE_AT_OPEN,
    POSTGRESQL,
    SQLITE,
    connect,
    dialect_of,
    migrate,
    optimize,
    schema_version,
    sqlite_path,
)
from storage.dialect import Sql, postgres_form, sqlite_form
from storage.writer import BatchedWriter, Params, Statement, WriterStopped

if TYPE_CHECKING:
    import asyncpg

    from storage.postgres import PostgresBackend

log = logging.getLogger(__name__)

#: Rows written between two ``PRAGMA optimize`` (SQLite's statistics go stale as tables
#: grow; a community writes this many rows in hours to days).
OPTIMIZE_EVERY = 250_000

#: How long one write waits for another program's lock before the writer's own retries.
WRITER_BUSY_TIMEOUT_MS = 1000


class Database:
    """The store on SQLite (``sqlite:///file.db``) or PostgreSQL (``postgresql://…``):
    the same methods, the same statements (``storage.dialect`` translates them)."""

    def __init__(
        self, url: str, *, max_batch: int = 1000, max_delay_ms: float = 50, bulk: bool = True,
        one_hop: bool = True, book: Book = BOOK,
    ) -> None:
        """``book`` names the statements rows kept by the last stop may use (every
        feature's, once ``storage`` is imported); ``bulk`` and ``one_hop`` are the
        writer's (``storage.writer``)."""
        self.url = url
        self._bulk = bulk
        self._one_hop = one_hop
        self._book = book
        self.dialect = dialect_of(url)
        #: the SQLite file; on PostgreSQL a local name in the working folder, beside
        #: which the files the bot keeps (attachments, rows kept at a stop) live
        self.path = local_path(url)
        self._max_batch = max_batch
        self._max_delay_ms = max_delay_ms
        self._write: aiosqlite.Connection | None = None
        self._read: aiosqlite.Connection | None = None
        self.writer: BatchedWriter | None = None
        self._backend: PostgresBackend | None = None
        self._pool: asyncpg.Pool | None = None
        self.migrations_applied: list[str] = []
        #: where a row written now belongs, if not straight to the writer (the bus's
        #: unit of the event being handled; see ``bot.core.bus``)
        self.collect: Callable[[], list[Any] | None] | None = None

    async def open(self, *, writable: bool = True) -> list[str]:
        """Check the file, connect, apply pending migrations, start the writer; returns
        the migrations applied. ``writable=False`` accepts a read-only database (reports)."""
        if self.dialect == POSTGRESQL:
            return await self._open_postgres()
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
            bulk=self._bulk, one_hop=self._one_hop, optimize_every=OPTIMIZE_EVERY,
        )
        await self.writer.start()
        await self._write_kept_rows()
        await optimize(self._write, OPTIMIZE_AT_OPEN)  # after migrations and kept rows
        return applied

    async def _open_postgres(self) -> list[str]:
        from storage import postgres

        conn = await postgres.connect(self.url)
        try:
            self.migrations_applied = applied = await postgres.migrate(conn)
            self._pool = await postgres.pool(self.url)
        except BaseException:
            await conn.close()
            raise
        self._backend = postgres.PostgresBackend(self.url, conn, bulk=self._bulk)
        self.writer = BatchedWriter(self._backend, max_batch=self._max_batch,
                                    max_delay_ms=self._max_delay_ms)
        await self.writer.start()
        await self._write_kept_rows()
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
            if self._backend is not None:
                await self._backend.close()
                self._backend = None
            if self._pool is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._pool.close(), 5)
                self._pool = None
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
        self, sql: Sql, params: Sequence[Any] | Mapping[str, Any] = (), *,
        consistent: bool = True,
    ) -> list[Any]:
        """Run a read. ``consistent`` first commits queued writes so the read sees them;
        reads that tolerate a slightly old answer skip that and leave batching alone."""
        assert self.writer is not None, "repository is not open"
        if consistent:
            await self.writer.flush()
        if self._pool is not None:
            from storage.postgres import plain

            query = postgres_form(sql)
            return plain(await self._pool.fetch(query.sql, *query.args(params)))
        assert self._read is not None, "repository is not open"
        # one trip to the reader's thread, not three (execute, fetch, close): a read the
        # event path waits for costs the thread hand-overs, not the query
        return list(await self._read.execute_fetchall(sqlite_form(sql), params))

    async def pages(self, sql: Sql, size: int) -> AsyncIterator[list[Any]]:
        """A whole table's read in pages of ``size`` rows, from one query (``db copy``):
        one pass over the table, where pages of LIMIT and OFFSET each read (and sort) it
        again up to where they start."""
        assert self.writer is not None, "repository is not open"
        await self.writer.flush()
        if self._pool is not None:
            from storage.postgres import plain

            async with self._pool.acquire() as conn, conn.transaction():
                cursor = await conn.cursor(postgres_form(sql).sql)
                while rows := await cursor.fetch(size):
                    yield plain(rows)
            return
        assert self._read is not None, "repository is not open"
        async with self._read.execute(sqlite_form(sql)) as cur:
            while rows := await cur.fetchmany(size):
                yield list(rows)

    async def dict_rows(self, sql: Sql, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as column -> value dicts (for exports)."""
        assert self.writer is not None, "repository is not open"
        await self.writer.flush()
        if self._pool is not None:
            query = postgres_form(sql)
            return [dict(r) for r in await self._pool.fetch(query.sql, *query.args(params))]
        assert self._read is not None, "repository is not open"
        async with self._read.execute(sqlite_form(sql), params) as cur:
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]

    async def schema_version(self) -> int:
        """The highest migration the store has."""
        if self._pool is not None:
            from storage import postgres

            async with self._pool.acquire() as conn:
                return await postgres.schema_version(conn)
        return await schema_version(self.read_connection())

    async def run_script(self, statements: Sequence[Sql]) -> None:
        """Run maintenance statements in one transaction, once everything queued is
        committed (``db recompute``)."""
        assert self.writer is not None, "repository is not open"
        await self.writer.flush()
        if self._pool is not None:
            async with self._pool.acquire() as conn, conn.transaction():
                for statement in statements:
                    await conn.execute(postgres_form(statement).sql)
            return
        conn = await self.flushed_write_connection()
        await conn.executescript(
            "BEGIN;\n" + ";\n".join(sqlite_form(s) for s in statements) + ";\nCOMMIT;")

    async def flush(self) -> None:
        assert self.writer is not None
        await self.writer.flush()

    @contextlib.asynccontextmanager
    async def maintenance(self) -> AsyncIterator[Maintenance]:
        """One transaction for bulk maintenance (``db copy``) beside the batched writer,
        committed when the block ends, rolled back if it raises."""
        assert self.writer is not None, "repository is not open"
        await self.writer.flush()
        if self._pool is not None:
            async with self._pool.acquire() as conn, conn.transaction():
                yield Maintenance(self.dialect, conn)
            return
        conn = await self.flushed_write_connection()
        await conn.execute("BEGIN")
        try:
            yield Maintenance(self.dialect, conn)
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")

    async def tables(self) -> dict[str, list[str]]:
        """Every table of the store (not the bookkeeping of the schema or the scheduler)
        with its columns, SQLite's ``rowid`` first where the order of rows is kept by it."""
        if self._pool is not None:
            rows = await self.rows(
                """SELECT c.table_name, c.column_name FROM information_schema.columns c
                   JOIN information_schema.tables t ON t.table_name = c.table_name
                    AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE'
                   WHERE c.table_schema = current_schema() ORDER BY c.table_name,
                         c.ordinal_position""")
        else:
            rows = await self.rows(
                """SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                   WHERE m.type = 'table' ORDER BY m.name, p.cid""")
        found: dict[str, list[str]] = {}
        for table, column in rows:
            if table.startswith(("sqlite_", "tribebot_", "_tribebot", "apscheduler_")):
                continue
            found.setdefault(table, []).append(column)
        if self.dialect == SQLITE and "seen_events" in found:
            found["seen_events"].insert(0, "rowid")
        return found

    def read_connection(self) -> aiosqlite.Connection:
        """The read connection (SQLite), for questions about the file itself."""
        assert self._read is not None, "repository is not open"
        return self._read

    async def flushed_write_connection(self) -> aiosqlite.Connection:
        """The write connection once everything queued is committed: for maintenance that
        rewrites tables in one script (``db recompute``), between two batches."""
        assert self._write is not None and self.writer is not None, "repository is not open"
        await self.writer.flush()
        return self._write


class Maintenance:
    """Statements inside ``Database.maintenance``'s transaction, in either dialect."""

    def __init__(self, dialect: str, conn: Any) -> None:
        self._dialect = dialect
        self._conn = conn

    async def execute(self, sql: Sql) -> None:
        if self._dialect == POSTGRESQL:
            await self._conn.execute(postgres_form(sql).sql)
        else:
            await self._conn.execute(sqlite_form(sql))

    async def executemany(self, sql: Sql, rows: Sequence[Params]) -> None:
        if not rows:
            return
        if self._dialect == POSTGRESQL:
            await self._conn.executemany(postgres_form(sql).sql, rows)
        else:
            await self._conn.executemany(sqlite_form(sql), rows)


def local_path(url: str) -> str:
    """The name a store's local files are kept beside: the SQLite file itself, or
    ``<database>.postgresql`` in the working folder for PostgreSQL."""
    return sqlite_path(url) if dialect_of(url) == SQLITE else _local_name(url)


def _local_name(url: str) -> str:
    """Where a PostgreSQL store's local files go: ``<database>.postgresql`` in the working
    folder (``<database>.postgresql.files/``, ``….unsaved.jsonl``)."""
    from storage.postgres import database_name

    return str(Path(f"{database_name(url)}.postgresql"))
