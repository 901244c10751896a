"""Which store a URL names, the bundled migrations of both dialects, and opening the
SQLite file (pragmas, checks, ``PRAGMA user_version``); PostgreSQL's side is
``storage.postgres``."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


#: What a command the store stopped midway may tell the user (``storage.problems``).
AFTER_A_STOP = ("Run it again once that is resolved: nothing it committed is lost, and no "
                "command counts a fact twice.")


class DatabaseError(Exception):
    """A problem with the store that the user can act on (message says what to do)."""


class NewerSchemaError(DatabaseError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def dialect_of(url: str) -> str:
    """Which database a storage URL names: ``sqlite:///…`` or ``postgresql://…``."""
    if url.startswith(_POSTGRES_SCHEMES):
        return POSTGRESQL
    if url.startswith("sqlite:///"):
        return SQLITE
    raise DatabaseError(
        f"unsupported storage url {url!r}; write sqlite:///path/to/file.db or "
        "postgresql://user@host/database"
    )


def sqlite_path(url: str) -> str:
    """Path of a ``sqlite:///relative.db`` / ``sqlite:////abs.db`` / ``sqlite:///:memory:`` URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise DatabaseError(
            f"unsupported storage url {url!r}; write sqlite:///path/to/file.db or "
            "postgresql://user@host/database"
        )
    path = url[len(prefix):]
    if not path:
        raise DatabaseError("the storage url names no file; write sqlite:///tribebot.db")
    return path


def migrations(dialect: str = SQLITE) -> list[Migration]:
    """Migrations bundled with this version, in order, as ``dialect`` runs them.

    ``storage/migrations/NNNN_*.sql`` are SQLite's, and PostgreSQL's too unless
    ``storage/migrations/postgresql/`` has its own file of the same number (written where
    the dialects differ: types, triggers, date functions). Both have the same versions.
    """
    found = _bundled(resources.files("storage.migrations"))
    if dialect == POSTGRESQL:
        own = {m.version: m for m in _bundled(resources.files("storage.migrations")
                                              / "postgresql")}
        found = [own.get(m.version, m) for m in found]
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {migration.name} is out of sequence")
    return found


def _bundled(folder: Traversable) -> list[Migration]:
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    return found


def latest_version() -> int:
    return migrations()[-1].version


def newer_schema(current: int, known: int, where: str) -> NewerSchemaError:
    return NewerSchemaError(
        f"this database has schema version {current}, written by a newer Tribebot; "
        f"this version understands up to {known}. Upgrade Tribebot "
        f"(pip install -U tribebot) or point [storage] url at {where}."
    )


#: Every Tribebot connection runs with these (the benchmark gives its baselines the same).
PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",  # in WAL mode: durable at checkpoints, never corrupt
    "foreign_keys=ON",
    "busy_timeout=5000",
    "temp_store=MEMORY",  # sorts and GROUP BYs of the weekly reports in memory...
    "cache_size=-32000",  # ...and a 32 MB page cache
    "analysis_limit=400",  # an ANALYZE that PRAGMA optimize runs stays quick on any size
)

#: The planner's statistics, as https://sqlite.org/lang_analyze.html recommends for a
#: long-lived connection: at open, ANALYZE every table that needs it (0x10002: all
#: tables, not only those this connection used; SQLite before 3.46 ignores the 0x10000
#: bit), then plain ``PRAGMA optimize`` after big writes and before closing.
OPTIMIZE_AT_OPEN = "PRAGMA optimize=0x10002"
OPTIMIZE = "PRAGMA optimize"


#: How long the start-up check waits for a database another program holds locked.
LOCK_WAIT_S = 5.0
_FIX = "point [storage] url (or --db) at the bot's database file, or at a new one"


def check_database(path: str, *, writable: bool = True) -> None:
    """Refuse, in one sentence, a file that cannot be the bot's database: a folder, a file
    that is not SQLite, a damaged one, one that cannot be written (a read-only file or
    folder), or one another program keeps locked. Runs before the store's connections
    open, so a bad file never gets as far as the writer, which would wait on it forever."""
    if path == ":memory:":
        return
    file = Path(path).expanduser()
    if not file.resolve().parent.is_dir():
        raise DatabaseError(f"the folder for the database does not exist: "
                            f"{file.resolve().parent}")
    if file.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file; {_FIX}")
    if file.exists() and not file.is_file():
        raise DatabaseError(f"{path} is not a regular file; {_FIX}")
    try:
        conn = sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseError(_unusable(path, exc)) from exc
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if writable:  # a write in a transaction that is rolled back: nothing changes
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE _tribebot_write_check (x)")
            conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise DatabaseError(_unusable(path, exc)) from exc
    finally:
        conn.close()


def _busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock (SQLite's primary code, not the message)."""
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _unusable(path: str, exc: sqlite3.Error) -> str:
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if code == sqlite3.SQLITE_NOTADB:
        return f"{path} is not a SQLite database; {_FIX}"
    if code == sqlite3.SQLITE_CORRUPT:
        return (f"{path} is damaged (SQLite reports: {exc}); restore it from a backup or "
                f"{_FIX}")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        return (f"the database {path} cannot be written ({exc}): make the file and its "
                "folder writable for the bot's user, or " + _FIX)
    if _busy(exc):
        return (f"the database {path} is locked by another program (a database browser "
                "with unsaved changes holds it); close that program and start again")
    return f"cannot open the database {path}: {exc}"


async def connect(url: str, *, check: bool = False, writable: bool = True
                  ) -> aiosqlite.Connection:
    """Open a connection with the pragmas every Tribebot connection needs; with ``check``
    the file is checked first (``check_database``)."""
    path = sqlite_path(url)
    if check:
        await asyncio.to_thread(check_database, path, writable=writable)
    elif path != ":memory:":
        parent = Path(path).expanduser().resolve().parent  # noqa: ASYNC240 - once, at start
        if not parent.is_dir():
            raise DatabaseError(f"the folder for the database does not exist: {parent}")
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except Exception as exc:  # sqlite3.OperationalError and friends, with the path
        raise DatabaseError(f"cannot open the database {path}: {exc}") from exc
    try:
        for pragma in PRAGMAS:
            await conn.execute(f"PRAGMA {pragma}")
    except sqlite3.Error as exc:
        await conn.close()  # else its thread keeps the process alive after the error
        raise DatabaseError(_unusable(path, exc)) from exc
    return conn


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


#: How long a start waits for another process that is migrating the same file.
MIGRATION_WAIT_S = 300.0


def statements(script: str) -> list[str]:
    """A migration's statements one by one (``executescript`` would commit the
    transaction that holds the lock first); ``sqlite3.complete_statement`` keeps a
    trigger's body, a string or a comment with semicolons in one piece."""
    found, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                found.append(pending.strip())
            pending = ""
    return found


def _has_code(statement: str) -> bool:
    lines = (line.split("--", 1)[0].strip() for line in statement.splitlines())
    return any(line.strip(";") for line in lines)


async def migrate(conn: aiosqlite.Connection) -> list[str]:
    """Apply pending migrations; return the names applied.

    They run under SQLite's write lock (``BEGIN IMMEDIATE``), with the version read again
    once it is held: two processes starting on a new file at once then migrate it once,
    the second waiting for the first and finding nothing left to do. A database written
    by a newer Tribebot is refused rather than guessed at.
    """
    known = migrations()
    if await _refuse_newer(conn, known) == known[-1].version:
        return []  # up to date, as at every start but the first: no lock taken
    await _lock_for_migration(conn)
    applied = []
    try:
        current = await _refuse_newer(conn, known)  # another process may have migrated
        for migration in known:
            if migration.version <= current:
                continue
            try:
                for statement in statements(migration.sql):
                    await conn.execute(statement)
            except Exception as exc:
                raise DatabaseError(f"migration {migration.name} failed: {exc}") from exc
            await conn.execute(f"PRAGMA user_version = {migration.version}")
            applied.append(migration.name)
        await conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise
    return applied


async def _refuse_newer(conn: aiosqlite.Connection, known: list[Migration]) -> int:
    current = await schema_version(conn)
    if current > known[-1].version:
        raise newer_schema(current, known[-1].version, "another file")
    return current


async def _lock_for_migration(conn: aiosqlite.Connection) -> None:
    """Take the write lock, waiting (``busy_timeout`` at a time) for another process
    that holds it, up to ``MIGRATION_WAIT_S``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MIGRATION_WAIT_S
    while True:
        try:
            await conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or loop.time() >= deadline:
                raise DatabaseError(
                    f"cannot migrate the database: it stayed locked for "
                    f"{MIGRATION_WAIT_S:.0f} s ({exc}); is another program writing to "
                    "it? Stop it, or try again when it is done") from exc
            await asyncio.sleep(0.05)  # busy_timeout waited already (unless it is 0)


async def optimize(conn: aiosqlite.Connection, statement: str = OPTIMIZE) -> None:
    """Refresh the planner's statistics where SQLite thinks it helps (usually nothing
    to do). A failure only costs speed, so it is logged, never raised."""
    try:
        await conn.execute(statement)
    except (aiosqlite.Error, sqlite3.Error) as exc:
        log.warning("could not refresh the database statistics (%s); queries may be slower",
                    exc)
