"""When the store cannot take writes: a locked or full database must cost time, not rows;
a store that is gone must stop the bot loudly, never leave it hanging or running blind."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiosqlite
import pytest

from bot.cli import _run
from bot.core.events import MessagePosted
from bot.runtime import Runtime
from bot.service import serve
from storage import WriterStopped
from storage.book import BOOK
from storage.database import connect, migrate
from storage.settings import UPSERT_SETTING
from storage.spill import spill_path
from storage.store import Repository
from storage.writer import BatchedWriter, StatementBook, store_unavailable
from tests.conftest import COMMUNITY, GENERAL, START, make_settings

INSERT_SEEN = next(s for s in BOOK if s.name == "insert_seen")


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """The writer's connection, quick to report a lock (the bot waits 5 s per attempt)."""
    connection = await connect(f"sqlite:///{tmp_path / 'store.db'}")
    await migrate(connection)
    await connection.execute("PRAGMA busy_timeout = 20")
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def other_program(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another program with the same database open (a database browser, say)."""
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def quick_writer(conn: aiosqlite.Connection, *, one_hop: bool = True) -> BatchedWriter:
    return BatchedWriter(conn, max_batch=100, max_delay_ms=5, retry_first_s=0.01,
                         retry_max_s=0.04, one_hop=one_hop)


async def stored_keys(conn: aiosqlite.Connection) -> list[str]:
    async with conn.execute("SELECT key FROM seen_events ORDER BY key") as cur:
        return [row[0] for row in await cur.fetchall()]


async def until(condition: Callable[[], object], seconds: float = 5.0) -> None:
    """Poll: the states waited for here (a retry counted, a runtime started) have no event."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_a_locked_store_delays_writes_and_loses_no_row(
    conn: aiosqlite.Connection, other_program: sqlite3.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await conn.execute("CREATE TABLE notes (body TEXT NOT NULL)")
    insert_note = StatementBook().add("insert_note", "INSERT INTO notes (body) VALUES (?)")
    other_program.execute("BEGIN IMMEDIATE")  # holds the write lock
    writer = quick_writer(conn)
    await writer.start()
    for i in range(5):
        writer.submit(INSERT_SEEN, (f"console:e{i}", i))
    writer.submit(insert_note, (None,))  # a bad row: the only one that may be dropped
    await until(lambda: writer.retries >= 3)
    assert await stored_keys(conn) == [] and writer.failed_rows == 0
    other_program.execute("COMMIT")  # the other program lets go
    await writer.flush()
    assert await stored_keys(conn) == [f"console:e{i}" for i in range(5)]
    assert writer.failed_rows == 1
    assert "database is locked" in caplog.text and "takes writes again" in caplog.text
    await writer.close()


@pytest.mark.parametrize("one_hop", [True, False], ids=["one call", "call by call"])
async def test_a_stop_while_the_store_stays_locked_says_what_was_lost(
    conn: aiosqlite.Connection, other_program: sqlite3.Connection, one_hop: bool,
) -> None:
    await conn.execute("PRAGMA busy_timeout = 300")  # the stop comes mid-statement
    other_program.execute("BEGIN IMMEDIATE")
    writer = quick_writer(conn, one_hop=one_hop)
    await writer.start()
    for i in range(4):
        writer.submit(INSERT_SEEN, (f"console:e{i}", i))
    with pytest.raises(WriterStopped, match=r"4 rows were not saved.*no other program"):
        await writer.close(give_up_after_s=0.1)
    other_program.execute("COMMIT")
    assert not conn.in_transaction  # the abandoned batch was rolled back, not left open
    assert await stored_keys(conn) == []  # said so, rather than claiming a clean stop
    assert [params for _, params in writer.unsaved_rows()] == [
        (f"console:e{i}", i) for i in range(4)]  # what the repository keeps for next time


async def test_the_first_write_after_start_waits_for_a_lock_like_every_other(
    conn: aiosqlite.Connection, other_program: sqlite3.Connection,
) -> None:
    """The writer's start-up probe once left a read open, and SQLite then refused the
    first write at once instead of waiting ``busy_timeout`` for the lock."""
    await conn.execute("PRAGMA busy_timeout = 2000")
    other_program.execute("BEGIN IMMEDIATE")
    writer = quick_writer(conn)
    await writer.start()
    writer.submit(INSERT_SEEN, ("console:e0", 0))
    asyncio.get_running_loop().call_later(0.3, other_program.execute, "COMMIT")
    await writer.flush()
    assert writer.retries == 0  # the first try waited for the lock and got it
    assert await stored_keys(conn) == ["console:e0"]
    await writer.close()


@pytest.mark.parametrize("one_hop", [True, False], ids=["one call", "call by call"])
async def test_a_stop_knows_whether_the_batch_it_gave_up_on_was_committed(
    conn: aiosqlite.Connection, other_program: sqlite3.Connection, one_hop: bool,
) -> None:
    """The store takes the batch just after the stop gave up waiting for it. In one call,
    the transaction goes on in SQLite's thread: the stop waits for it and counts its rows
    as saved. Call by call, the stop rolls it back and keeps the rows. Either way no row
    is both in the store and kept to be written again at the next start."""
    await conn.execute("PRAGMA busy_timeout = 2000")
    other_program.execute("BEGIN IMMEDIATE")
    writer = quick_writer(conn, one_hop=one_hop)
    await writer.start()
    for i in range(4):
        writer.submit(INSERT_SEEN, (f"console:e{i}", i))
    asyncio.get_running_loop().call_later(0.4, other_program.execute, "COMMIT")
    keys = [f"console:e{i}" for i in range(4)]
    if one_hop:
        await writer.close(give_up_after_s=0.1)  # no error: nothing was lost
        assert await stored_keys(conn) == keys
        assert writer.unsaved == 0 and writer.unsaved_rows() == []
    else:
        with pytest.raises(WriterStopped, match="4 rows were not saved"):
            await writer.close(give_up_after_s=0.1)
        assert await stored_keys(conn) == []
        assert [params[0] for _, params in writer.unsaved_rows()] == keys
    assert not conn.in_transaction


async def test_a_lost_connection_stops_the_writer_instead_of_hanging(tmp_path: Path) -> None:
    conn = await connect(f"sqlite:///{tmp_path / 'store.db'}")
    await migrate(conn)
    writer = quick_writer(conn)
    await writer.start()
    await conn.close()  # gone under the writer
    writer.submit(INSERT_SEEN, ("console:e1", 1))
    await asyncio.wait_for(writer.failed.wait(), 5)
    assert not store_unavailable(writer.failure)  # nothing to wait for: stop
    with pytest.raises(WriterStopped, match="1 rows were not saved"):
        await asyncio.wait_for(writer.flush(), 5)
    with pytest.raises(WriterStopped):
        await asyncio.wait_for(writer.close(), 5)


async def test_the_bot_exits_with_1_when_its_store_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(tmp_path)
    runtime = Runtime(settings)
    stop = asyncio.Event()  # never set: the store failure alone must end the bot
    bot = asyncio.create_task(serve(settings, stop, runtime))
    await asyncio.wait_for(runtime.started.wait(), 10)
    await runtime.repository._write.close()  # type: ignore[union-attr]
    runtime.publish(MessagePosted(community=COMMUNITY, at=START, message="console:m1",
                                  author="console:a", channel=GENERAL, length=5))
    assert await asyncio.wait_for(bot, 10) == 1
    assert "rows were not saved" in caplog.text
    assert "every queued write was committed" not in caplog.text


def test_the_command_line_reports_lost_rows_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def stopping() -> None:
        raise WriterStopped("the store did not take writes; 3 rows were not saved")

    with pytest.raises(SystemExit) as exited:
        _run(stopping)
    assert exited.value.code == 1
    assert "3 rows were not saved" in capsys.readouterr().err


async def test_a_row_breaking_a_deferred_foreign_key_costs_only_that_row(
    conn: aiosqlite.Connection, caplog: pytest.LogCaptureFixture,
) -> None:
    # foreign keys to communities are DEFERRABLE: SQLite checks them only at COMMIT
    await conn.execute("INSERT INTO communities (id, platform, name, joined_at) "
                       "VALUES ('console:tribe', 'console', 'Tribe', 0)")
    writer = quick_writer(conn)
    await writer.start()
    writer.submit(INSERT_SEEN, ("console:e1", 1))
    writer.submit(UPSERT_SETTING, ("console:tribe", "language", '"he"'))
    writer.submit(UPSERT_SETTING, ("console:nowhere", "language", '"he"'))  # no such community
    writer.submit(INSERT_SEEN, ("console:e2", 2))
    await writer.flush()
    assert await stored_keys(conn) == ["console:e1", "console:e2"]
    async with conn.execute("SELECT community_id FROM community_settings") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["console:tribe"]
    assert writer.failed_rows == 1 and writer.failure is None
    assert "dropped a row for upsert_setting" in caplog.text
    writer.submit(INSERT_SEEN, ("console:e3", 3))  # and the writer goes on
    await writer.flush()
    assert "console:e3" in await stored_keys(conn)
    await writer.close()


async def test_rows_a_stop_could_not_save_are_written_at_the_next_start(
    tmp_path: Path, other_program: sqlite3.Connection,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    repo = Repository(url)
    await repo.open()
    await repo._write.execute("PRAGMA busy_timeout = 20")  # type: ignore[union-attr]
    other_program.execute("BEGIN IMMEDIATE")  # locked for the whole stop
    for i in range(3):
        repo.submit(INSERT_SEEN, (f"console:e{i}", i))
    with pytest.raises(WriterStopped, match=r"3 of them are kept in .*store\.db\.unsaved"):
        await repo.close(give_up_after_s=0.2)
    kept = spill_path(str(tmp_path / "store.db"))
    assert len(kept.read_text().splitlines()) == 3
    other_program.execute("COMMIT")
    async with Repository(url) as again:  # the next start writes them first
        stored = await again.rows("SELECT key FROM seen_events ORDER BY key")
    assert [r[0] for r in stored] == ["console:e0", "console:e1", "console:e2"]
    assert not kept.exists()


async def test_a_batch_never_ends_inside_a_unit(conn: aiosqlite.Connection) -> None:
    writer = BatchedWriter(conn, max_batch=4, max_delay_ms=5)
    sizes: list[int] = []
    commit = writer._commit

    async def counted(batch: list, done: set[int]) -> None:  # type: ignore[type-arg]
        sizes.append(len(batch))
        await commit(batch, done)

    writer._commit = counted  # type: ignore[method-assign]
    await writer.start()
    for unit in range(5):  # units of 3 rows: a batch of 4 would split the second
        writer.submit_unit([(INSERT_SEEN, (f"u{unit}-{row}", 1)) for row in range(3)])
    await writer.flush()
    await writer.close()
    assert sizes and all(size % 3 == 0 for size in sizes), sizes
    assert len(await stored_keys(conn)) == 15


async def test_after_a_stop_request_a_read_no_longer_waits_for_a_locked_store(
    conn: aiosqlite.Connection, other_program: sqlite3.Connection,
) -> None:
    writer = quick_writer(conn)
    await writer.start()
    other_program.execute("BEGIN IMMEDIATE")
    writer.submit(INSERT_SEEN, ("waiting", 1))
    await until(lambda: writer.waiting_for_store)
    waiting = asyncio.create_task(writer.flush())
    await asyncio.sleep(0.1)
    assert not waiting.done(), "a read waits while the bot runs"
    writer.request_stop()
    await asyncio.wait_for(waiting, 2)  # ...but not once it is stopping
    with pytest.raises(WriterStopped):
        await writer.close(give_up_after_s=0.2)  # the final commit still tries, then gives up
    assert [row[1] for row in writer.unsaved_rows()] == [("waiting", 1)]
