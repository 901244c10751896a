"""The stores a multi-process test runs against: a shared SQLite file always, and a real
PostgreSQL server when ``TRIBEBOT_TEST_POSTGRES_URL`` names one and this build's store
takes ``postgresql://`` URLs (checked, not guessed: the PostgreSQL backend arrives on its
own branch of issue 20).

``store_url`` is a parametrised fixture: a test that takes it runs once per store, and
the PostgreSQL run gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from pydantic import ValidationError

from bot.config import StorageSection

POSTGRES_ENV = "TRIBEBOT_TEST_POSTGRES_URL"


def store_accepts(url: str) -> bool:
    """This build's configuration takes ``url`` as the bot's store."""
    try:
        StorageSection(url=url)
    except ValidationError:
        return False
    return True


def postgres_unavailable() -> str | None:
    """Why the PostgreSQL case cannot run here, or None when it can."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return (f"{POSTGRES_ENV} is not set: the PostgreSQL case needs a server "
                "(postgresql://user@127.0.0.1:5432/test)")
    if not store_accepts(url):
        return "this build's store does not accept postgresql:// URLs yet ([storage] url)"
    if importlib.util.find_spec("asyncpg") is None:
        return "asyncpg is not installed: the PostgreSQL store needs it"
    return None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    why = postgres_unavailable()
    if why is not None:
        pytest.skip(why)
    import asyncpg  # type: ignore[import-not-found]  # only with the PostgreSQL backend

    server = os.environ[POSTGRES_ENV]
    name = f"tribebot_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(server, name)
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
