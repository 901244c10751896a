"""The one handle the runtime and the cogs hold: the database and its core features.

``Repository`` is the ``Database`` that is also the facts, points, settings, seen-keys
and admin stores (the methods every part of the bot calls), so callers keep one object.
It adds no SQL of its own. The other features are built on it where they are needed:
``JourneyStore(repository)``, ``ContentStore(repository)``, …

Importing this module imports every feature module that has write statements, so every
one is in ``storage.book.BOOK`` before a store opens (rows kept by a stop name them).
"""

from __future__ import annotations

import asyncio

# The features with statements that the handle does not group: imported so that the book
# is complete (see the module docstring; a test checks every section is there).
import storage.content
import storage.privacy
import storage.summary
import storage.welcome  # noqa: F401
from storage.admin import AdminStore
from storage.database import SQLITE, check_database, dialect_of, sqlite_path
from storage.facts import FactsStore
from storage.lifecycle import Database
from storage.points import PointsStore
from storage.seen import SeenStore
from storage.settings import SettingsStore


class Repository(Database, FactsStore, PointsStore, SettingsStore, SeenStore, AdminStore):
    """The database, with the core features' methods on it."""

    def __init__(
        self, url: str, *, max_batch: int = 1000, max_delay_ms: float = 50, bulk: bool = True,
        one_hop: bool = True,
    ) -> None:
        Database.__init__(self, url, max_batch=max_batch, max_delay_ms=max_delay_ms,
                          bulk=bulk, one_hop=one_hop)
        self.db = self  # the feature stores reach their database through ``db``


async def open_repository(url: str, *, max_batch: int = 1000, max_delay_ms: float = 50,
                          writable: bool = True) -> Repository:
    """Open the store named by a URL: ``sqlite:///file.db`` or ``postgresql://…``."""
    repo = Repository(url, max_batch=max_batch, max_delay_ms=max_delay_ms)
    await repo.open(writable=writable)
    return repo


def check_store(url: str) -> None:
    """Refuse, in one sentence (``DatabaseError``), a store the bot cannot use: see
    ``storage.database.check_database`` for a SQLite file; a PostgreSQL server is asked
    for one connection. Runs before the event loop starts."""
    if dialect_of(url) == SQLITE:
        check_database(sqlite_path(url))
        return

    async def probe() -> None:
        from storage import postgres

        conn = await postgres.connect(url)
        await conn.close()

    asyncio.run(probe())
