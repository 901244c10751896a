"""PostgreSQL through asyncpg: connecting, migrations, and the batched writer's backend.

Several bot processes may share one PostgreSQL database, so everything here is written
for concurrent writers: migrations run under an advisory lock, the rollups are kept by
row-level upserts in triggers (``storage/migrations/postgresql``), and an error that
blames the moment (a deadlock between two writers' batches, a lost connection, a server
restarting) keeps the batch for another try instead of dropping rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from storage.database import (
    AFTER_A_STOP,
    POSTGRESQL,
    DatabaseError,
    Migration,
    migrations,
    newer_schema,
)
from storage.dialect import postgres_form
from storage.writer import Groups, Statement

log = logging.getLogger(__name__)

#: The table that says which migrations a PostgreSQL store has (SQLite's user_version).
VERSION_TABLE = "tribebot_schema"
#: Any constant: two processes starting together migrate one after the other.
_MIGRATION_LOCK = 0x7472_6962  # "trib"
CONNECT_TIMEOUT_S = 10.0

#: SQLSTATE classes and codes that blame the store or the moment, not a row: the batch is
#: kept and retried. 08 connection, 53 out of resources (disk full), 57P0x shutting down,
#: 40001/40P01 a concurrent writer (serialization, deadlock), 55P03 a lock, 25006 a
#: read-only standby.
_UNAVAILABLE_CLASSES = ("08", "53", "58")
_UNAVAILABLE_CODES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01", "55P03",
                                "25006"})


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    user = f"{unquote(parts.username)}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{user}{host}{port}{parts.path}"


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name or "/" in name:
        raise DatabaseError(f"the storage url {describe_url(url)} names no database; write "
                            "postgresql://user@host/database")
    return unquote(name)


async def connect(url: str) -> asyncpg.Connection:
    """One connection, or a one-sentence ``DatabaseError`` saying what to fix."""
    database_name(url)
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:
        raise DatabaseError(unreachable(url, exc)) from exc


async def pool(url: str, size: int = 4) -> asyncpg.Pool:
    try:
        created = await asyncpg.create_pool(url, min_size=1, max_size=size,
                                            timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:
        raise DatabaseError(unreachable(url, exc)) from exc
    assert created is not None
    return created


def unreachable(url: str, exc: BaseException) -> str:
    where = describe_url(url)
    if isinstance(exc, asyncpg.InvalidPasswordError
                  | asyncpg.InvalidAuthorizationSpecificationError):
        return (f"PostgreSQL at {where} refused the login ({exc}); check the user and "
                "password in [storage] url")
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return (f"the database {database_name(url)!r} does not exist on {where}; create it "
                f"(createdb {database_name(url)}) or fix [storage] url")
    if isinstance(exc, OSError | TimeoutError | asyncio.TimeoutError):
        return (f"cannot reach PostgreSQL at {where} ({exc or type(exc).__name__}); start "
                "the server or fix the host and port in [storage] url")
    if isinstance(exc, ValueError):  # asyncpg's own check of the URL
        return f"the storage url {where} is not a PostgreSQL URL asyncpg understands: {exc}"
    return f"cannot open the PostgreSQL database {where}: {exc}"


#: SQLSTATE -> what it means for the user, where a plain wording helps.
_PROBLEM_HINTS = {
    "55P03": "another session holds a lock on a table it needs, longer than the server's "
             "lock_timeout (a long transaction left open, a running migration)",
    "57014": "the server cancelled it (its statement_timeout, or an administrator)",
    "57P01": "the server is shutting down",
    "57P02": "the server is restarting",
    "57P03": "the server is not accepting connections yet",
    "53100": "the server's disk is full",
    "40P01": "it deadlocked with another session",
}


def command_problem(exc: BaseException) -> str | None:
    """``storage.problems.store_problem`` for asyncpg's errors; SQL the server cannot run
    (class 42 but 42501, not allowed) is a bug: None."""
    code = getattr(exc, "sqlstate", None) or ""
    if code.startswith("42") and code != "42501":
        return None
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return (f"the connection to PostgreSQL was lost in the middle of the command ({exc}). "
                f"{AFTER_A_STOP}")
    if not isinstance(exc, asyncpg.PostgresError):
        return None
    why = _PROBLEM_HINTS.get(code)
    detail = f"{why} ({exc})" if why else str(exc)
    return f"PostgreSQL stopped the command: {detail}. {AFTER_A_STOP}"


def store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the store cannot take this batch now (as opposed to a bad row)."""
    if isinstance(exc, ValueError):  # asyncpg's check of a row's values: a bad row
        return False
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError
                  | asyncpg.PostgresConnectionError):
        return True
    code = getattr(exc, "sqlstate", None)
    return isinstance(code, str) and (code[:2] in _UNAVAILABLE_CLASSES
                                      or code in _UNAVAILABLE_CODES)


def plain(rows: Sequence[asyncpg.Record]) -> list[tuple[Any, ...]]:
    """Rows as SQLite returns them: tuples, whole numbers as ``int`` (PostgreSQL's sums
    of integers are ``numeric``)."""
    out = []
    for row in rows:
        values = tuple(row)
        if any(isinstance(v, Decimal) for v in values):
            values = tuple(_number(v) if isinstance(v, Decimal) else v for v in values)
        out.append(values)
    return out


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# -- migrations ----------------------------------------------------------------------------
async def schema_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", VERSION_TABLE)
    if not exists:
        return 0
    return int(await conn.fetchval(f"SELECT COALESCE(max(version), 0) FROM {VERSION_TABLE}"))


async def not_allowed(conn: asyncpg.Connection, exc: asyncpg.PostgresError) -> str:
    """The sentence for a login that may not create or read Tribebot's tables: who, where,
    and the grant that fixes it (an administrator runs it, or gives the database to it)."""
    user = conn.get_settings().session_authorization or "this user"
    try:
        database = str(await conn.fetchval("SELECT current_database()"))
    except asyncpg.PostgresError:
        database = "this database"
    return (f"PostgreSQL does not let the user {user} set up Tribebot's tables in the "
            f"database {database} ({exc}); as its owner or an administrator, run "
            f"GRANT CREATE, USAGE ON SCHEMA public TO {user}; or give {user} the database: "
            f"ALTER DATABASE {database} OWNER TO {user};")


async def migrate(conn: asyncpg.Connection, known: list[Migration] | None = None
                  ) -> list[str]:
    """Apply pending migrations, each in its own transaction, under a lock that makes a
    second process starting at the same moment wait and then find nothing to do."""
    known = known if known is not None else migrations(POSTGRESQL)
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        try:
            await conn.execute(f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())""")
            current = await schema_version(conn)
        except asyncpg.InsufficientPrivilegeError as exc:
            raise DatabaseError(await not_allowed(conn, exc)) from exc
        if current > known[-1].version:
            raise newer_schema(current, known[-1].version, "another database")
        applied = []
        for migration in known:
            if migration.version <= current:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        f"INSERT INTO {VERSION_TABLE} (version, name) VALUES ($1, $2)",
                        migration.version, migration.name)
            except asyncpg.InsufficientPrivilegeError as exc:
                raise DatabaseError(await not_allowed(conn, exc)) from exc
            except asyncpg.PostgresError as exc:
                raise DatabaseError(f"migration {migration.name} failed: {exc}") from exc
            applied.append(migration.name)
        return applied
    finally:
        with contextlib.suppress(Exception):
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


# -- the batched writer's backend ------------------------------------------------------------
_INSERT_VALUES = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<table>\w+)\s*\((?P<columns>[^)]*)\)"
    r"\s*VALUES\s*\((?P<values>[^)]*)\)\s*(?P<rest>(?:ON\s+CONFLICT\s*(?:\([^)]*\))?"
    r"\s*DO\s+NOTHING)?)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def unnest_form(sql: str, types: dict[str, dict[str, str]]) -> str | None:
    """A translated ``INSERT … VALUES ($1, …)`` [``ON CONFLICT DO NOTHING``] rewritten to
    insert a whole group from one array per column (``unnest``), in submission order.

    Upserts that update stay row by row: one multi-row ``DO UPDATE`` may not touch a row
    twice, and a batch may well hold two changes of one row.
    """
    match = _INSERT_VALUES.match(sql)
    if match is None or match["table"] not in types:
        return None
    columns = [c.strip() for c in match["columns"].split(",")]
    values = [v.strip() for v in match["values"].split(",")]
    if len(columns) != len(values):
        return None
    arrays, select = [], []
    for column, value in zip(columns, values, strict=True):
        if re.fullmatch(r"\$\d+", value):
            kind = types[match["table"]].get(column)
            if kind is None or int(value[1:]) != len(arrays) + 1:
                return None
            arrays.append(f"{value}::{kind}[]")
            select.append(f"u.c{len(arrays)}")
        elif "$" in value:
            return None
        else:
            select.append(value)
    names = ", ".join(f"c{i + 1}" for i in range(len(arrays)))
    return (f"INSERT INTO {match['table']} ({match['columns']}) SELECT {', '.join(select)} "
            f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS u({names}, n) "
            f"ORDER BY u.n {match['rest']}").rstrip()


class PostgresBackend:
    """The writer on one asyncpg connection (reconnected when lost)."""

    def __init__(self, url: str, conn: asyncpg.Connection, *, bulk: bool = True) -> None:
        self.url = url
        self.conn: asyncpg.Connection | None = conn
        self.bulk = bulk
        self._types: dict[str, dict[str, str]] = {}
        self._unnest: dict[Statement, str | None] = {}
        #: groups written as one multi-row statement (the rest went row by row)
        self.bulk_groups = 0

    async def start(self) -> None:
        conn = await self._connection()
        for table, column, kind in await conn.fetch(
                """SELECT table_name, column_name, udt_name FROM information_schema.columns
                   WHERE table_schema = current_schema()"""):
            self._types.setdefault(table, {})[column] = kind

    async def _connection(self) -> asyncpg.Connection:
        if self.conn is None or self.conn.is_closed():
            self.conn = None
            try:
                self.conn = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT_S)
            except asyncpg.PostgresError as exc:  # e.g. the server is starting
                raise ConnectionError(unreachable(self.url, exc)) from exc
        return self.conn

    async def transaction(self, groups: Groups) -> None:
        conn = await self._connection()
        async with conn.transaction():
            for stmt, group in groups:
                sql = postgres_form(stmt.source).sql
                bulk = self._bulk_sql(stmt, sql) if self.bulk and len(group) > 1 else None
                if bulk is not None:
                    await conn.execute(bulk, *map(list, zip(*group, strict=True)))
                    self.bulk_groups += 1
                else:
                    await conn.executemany(sql, group)

    def _bulk_sql(self, stmt: Statement, sql: str) -> str | None:
        if stmt not in self._unnest:
            self._unnest[stmt] = unnest_form(sql, self._types)
        return self._unnest[stmt]

    async def rollback(self) -> None:
        """``transaction`` rolls back itself; a connection left broken is dropped."""
        if self.conn is not None and self.conn.is_in_transaction():
            with contextlib.suppress(Exception):
                await self.conn.execute("ROLLBACK")

    async def interrupted(self) -> bool:
        """asyncpg cancels the query on the server and the transaction rolls back; only a
        cancel landing inside COMMIT itself could be wrong here (a stop cancels after
        the store refused writes for seconds, so hardly ever mid-commit)."""
        await self.rollback()
        return False

    def unavailable(self, exc: BaseException) -> bool:
        return store_unavailable(exc) or isinstance(exc, ConnectionError)

    async def optimize(self) -> None:
        """PostgreSQL's autovacuum keeps the statistics; nothing to do here."""

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.conn.close(), 5)
            self.conn = None
