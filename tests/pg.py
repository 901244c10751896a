"""A real PostgreSQL server for the tests that run on both stores.

``TRIBEBOT_TEST_POSTGRES_URL`` names a server and a database the tests may connect to
(CI: ``postgresql://root@127.0.0.1:5432/test``); without it those tests are skipped. Each
test store is a database of its own, ``tribebot_test_<session>_<n>``, cloned from one
migrated template, and all of them are dropped when the session ends.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV = "TRIBEBOT_TEST_POSTGRES_URL"
SKIP_REASON = (f"PostgreSQL tests need a server: set {ENV} (e.g. "
               "postgresql://root@127.0.0.1:5432/test; CI sets it)")

_SESSION = secrets.token_hex(4)
_lock = threading.Lock()
_by_path: dict[str, str] = {}
_created: list[str] = []
_template: str | None = None


def server_url() -> str | None:
    return os.environ.get(ENV) or None


def require_server() -> str:
    url = server_url()
    if url is None:
        pytest.skip(SKIP_REASON)
    return url


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _run(coro_factory):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion on a thread of its own (callers may be inside an
    event loop, and the settings are built synchronously)."""
    result: list[object] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro_factory()))
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0] if result else None


async def _execute(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _ensure_template(url: str) -> str:
    global _template
    if _template is None:
        name = f"tribebot_test_{_SESSION}_template"
        _run(lambda: _execute(url, f'CREATE DATABASE "{name}"'))
        _created.append(name)

        async def migrate() -> None:
            from storage import postgres

            conn = await postgres.connect(_with_database(url, name))
            try:
                await postgres.migrate(conn)
            finally:
                await conn.close()

        _run(migrate)
        _template = name
    return _template


def new_database(*, migrated: bool = True) -> str:
    """The URL of a new, empty database (with the schema, unless ``migrated=False``)."""
    url = require_server()
    with _lock:
        name = f"tribebot_test_{_SESSION}_{len(_created)}"
        template = f' TEMPLATE "{_ensure_template(url)}"' if migrated else ""
        _run(lambda: _execute(url, f'CREATE DATABASE "{name}"{template}'))
        _created.append(name)
    return _with_database(url, name)


def database_for(path: Path) -> str:
    """One database per test folder, as each folder would hold its own SQLite file."""
    key = str(path)
    with _lock:
        found = _by_path.get(key)
    if found is None:
        found = new_database()
        with _lock:
            _by_path[key] = found
    return found


def drop_all() -> None:
    url = server_url()
    if url is None or not _created:
        return
    names = list(reversed(_created))
    _run(lambda: _execute(url, *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'
                                 for n in names)))
    _created.clear()
    _by_path.clear()
