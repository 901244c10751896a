"""A database the bot cannot use is refused at start in one sentence (exit 2, within
seconds), and SIGTERM always stops the bot: while it starts, and while the writer waits
for a store another program keeps locked. The real CLI in child processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.process import finish, start, until
from tests.e2e.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.e2e.telegram.updates import command, message, user

BAD_INPUT = 2
#: As root, permission bits do not stop writes; this drops the capability that ignores them.
AS_ORDINARY_USER = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


def read_only_prefix() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only file is writable")
    return AS_ORDINARY_USER


def bad_database(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "bot.db"
    if kind == "folder":
        path.mkdir()
    elif kind == "not a database":
        path.write_text("these are my notes, not a database\n" * 50, encoding="utf-8")
    elif kind == "read-only":
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE notes (x)")
        path.chmod(0o444)
    return path


SENTENCES = {
    "folder": "bot.db is a folder, not a database file; point [storage] url (or --db) at "
              "the bot's database file, or at a new one",
    "not a database": "bot.db is not a SQLite database; point [storage] url (or --db) at "
                      "the bot's database file, or at a new one",
    "read-only": "bot.db cannot be written (attempt to write a readonly database): make the "
                 "file and its folder writable for the bot's user, or point [storage] url "
                 "(or --db) at the bot's database file, or at a new one",
}


def telegram_config(tmp_path: Path, database: Path, fake: FakeBotApi, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{database}"\n{extra}[telegram]\n'
                    f'enabled = true\ntoken = "{TOKEN}"\napi_base_url = "{fake.api_base_url}"\n',
                    encoding="utf-8")
    return path


def one_sentence(stderr: str, expected: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].endswith(expected), stderr
    assert "Traceback" not in stderr


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


async def test_run_and_replay_refuse_an_unusable_database(tmp_path: Path,
                                                          fake: FakeBotApi) -> None:
    """Each kind of bad file, under ``run`` (Telegram enabled against the fake) and
    ``replay``: the processes run side by side to keep the test short."""
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "community_joined", "at": "2026-11-02T08:00:00Z", '
                      '"community": "tribe"}\n', encoding="utf-8")
    runs = []
    for kind in SENTENCES:
        prefix = read_only_prefix() if kind == "read-only" else ()
        for cli in ("run", "replay"):
            folder = tmp_path / f"{cli}-{kind.replace(' ', '-')}"
            folder.mkdir()
            database = bad_database(folder, kind)
            args = (("run", "--config", str(telegram_config(folder, database, fake)))
                    if cli == "run" else ("replay", str(events), "--db", str(database)))
            runs.append((kind, cli, await start(*args, prefix=prefix)))
    results = await asyncio.gather(*(finish(bot, stop=False, within=30) for *_, bot in runs))
    for (kind, cli, _), done in zip(runs, results, strict=True):
        assert done.code == BAD_INPUT, (kind, cli, done.stderr)
        one_sentence(done.stderr, SENTENCES[kind])
        assert done.seconds < 15, (kind, cli, done.seconds)  # 2-4 s each, run alone
    assert fake.calls_to("getMe") == [], "no platform is contacted with a bad store"


async def test_sigterm_stops_a_start_that_waits_on_the_network(tmp_path: Path) -> None:
    """Discord's REST answers never come (a proxy that hangs): the start would wait for
    minutes; SIGTERM ends it at once."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(60)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        config = tmp_path / "config.toml"
        config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "bot.db"}"\n[discord]\n'
                          f'enabled = true\ntoken = "x.y.z"\n'
                          f'api_base_url = "http://127.0.0.1:{port}/api/v10"\n',
                          encoding="utf-8")
        bot = await start("run", "--config", str(config))
        await until(lambda: (tmp_path / "bot.db").exists(), bot, what="the store to open")
        await asyncio.sleep(0.5)  # the login request is waiting for its answer
        done = await finish(bot, within=20)
    finally:
        server.close()
    assert done.code == 0, done.stderr
    assert done.seconds < 5
    assert "Traceback" not in done.stderr


@pytest.fixture
def lock_holder() -> Iterator[list[sqlite3.Connection]]:
    """A thread that keeps a database write-locked, as a database browser with unsaved
    changes does, until the test ends."""
    held: list[sqlite3.Connection] = []
    yield held
    for conn in held:
        conn.rollback()
        conn.close()


async def test_sigterm_stops_the_bot_while_the_writer_waits_for_a_locked_store(
        tmp_path: Path, fake: FakeBotApi, lock_holder: list[sqlite3.Connection]) -> None:
    database = tmp_path / "bot.db"
    config = telegram_config(tmp_path, database, fake,
                             extra='stop_timeout_seconds = 1\n[bot]\nlog_level = "warning"\n')
    bot = await start("run", "--config", str(config))
    await until(lambda: len(fake.calls_to("getUpdates")) >= 1, bot, what="polling")
    locked = threading.Event()

    def lock() -> None:
        conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN EXCLUSIVE")
        lock_holder.append(conn)
        locked.set()

    await asyncio.to_thread(lock)
    assert locked.is_set()
    now = datetime.now(UTC)
    fake.push({"message": message(user(1, "Alice"), 10, "hello there friends", now)})
    fake.push({"message": command(user(1, "Alice"), 11, "/rank", now)})  # reads: waits
    await until(lambda: len(fake.calls_to("getUpdates")) >= 3, bot, what="the updates")
    await asyncio.sleep(0.3)  # the writer has met the lock; /rank waits for it
    done = await finish(bot, within=30)
    assert done.code == 1, done.stderr
    assert done.seconds < 10, done.stderr
    assert "locked" in done.stderr and "unsaved.jsonl" in done.stderr
    assert Path(f"{database}.unsaved.jsonl").exists()  # noqa: ASYNC240 - after the exit
