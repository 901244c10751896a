"""Opening the SQLite file: URL parsing, pragmas and versioned migrations."""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseError(Exception):
    """A problem with the store that the user can act on (message says what to do)."""


class NewerSchemaError(DatabaseError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def sqlite_path(url: str) -> str:
    """Path of a ``sqlite:///relative.db`` / ``sqlite:////abs.db`` / ``sqlite:///:memory:`` URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise DatabaseError(
            f"unsupported storage url {url!r}; only sqlite:///path/to/file.db is available now"
        )
    path = url[len(prefix):]
    if not path:
        raise DatabaseError("the storage url names no file; write sqlite:///tribebot.db")
    return path


def migrations() -> list[Migration]:
    """Migrations bundled with this version, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {migration.name} is out of sequence")
    return found


def latest_version() -> int:
    return migrations()[-1].version


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


async def connect(url: str) -> aiosqlite.Connection:
    """Open a connection with the pragmas every Tribebot connection needs."""
    path = sqlite_path(url)
    if path != ":memory:":
        parent = Path(path).expanduser().resolve().parent  # noqa: ASYNC240 - once, at start
        if not parent.is_dir():
            raise DatabaseError(f"the folder for the database does not exist: {parent}")
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except Exception as exc:  # sqlite3.OperationalError and friends, with the path
        raise DatabaseError(f"cannot open the database {path}: {exc}") from exc
    for pragma in PRAGMAS:
        await conn.execute(f"PRAGMA {pragma}")
    return conn


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied.

    A database written by a newer Tribebot is refused rather than guessed at.
    """
    current = await schema_version(conn)
    known = migrations()
    if current > known[-1].version:
        raise NewerSchemaError(
            f"this database has schema version {current}, written by a newer Tribebot; "
            f"this version understands up to {known[-1].version}. Upgrade Tribebot "
            "(pip install -U tribebot) or point [storage] url at another file."
        )
    applied = []
    for migration in known:
        if migration.version <= current:
            continue
        try:
            await conn.executescript(
                f"BEGIN;\n{migration.sql}\nPRAGMA user_version = {migration.version};\nCOMMIT;"
            )
        except Exception as exc:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise DatabaseError(f"migration {migration.name} failed: {exc}") from exc
        applied.append(migration.name)
    return applied


async def optimize(conn: aiosqlite.Connection, statement: str = OPTIMIZE) -> None:
    """Refresh the planner's statistics where SQLite thinks it helps (usually nothing
    to do). A failure only costs speed, so it is logged, never raised."""
    try:
        await conn.execute(statement)
    except (aiosqlite.Error, sqlite3.Error) as exc:
        log.warning("could not refresh the database statistics (%s); queries may be slower",
                    exc)
