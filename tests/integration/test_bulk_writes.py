"""The writer's bulk forms (one JSON array per statement group) must store exactly what
row-by-row ``executemany`` stores, conflicts and their order included; and a transaction
sent to SQLite's thread in one call exactly what one call per statement stores."""

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage.book import BOOK
from storage.database import connect, migrate
from storage.settings import UPSERT_SETTING
from storage.store import Repository
from storage.writer import BatchedWriter, SqliteBackend, StatementBook, bulk_form
from tests.conftest import COMMUNITY, GENERAL

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = "2026-11-02"


def write_everything(repo: Repository) -> None:
    """Every bulk-able write, each more than once, with the conflicts a busy batch meets."""
    later = AT + timedelta(minutes=5)
    repo.record_community(COMMUNITY, "console", "Tribe", AT)
    repo.record_community(COMMUNITY, "console", "", later)  # an empty name keeps the old one
    repo.record_channel(COMMUNITY, GENERAL, "general")
    repo.record_channel(COMMUNITY, GENERAL, "general-renamed")
    repo.record_member(COMMUNITY, "console:a", "Avi", False, AT, present=True)
    repo.record_member(COMMUNITY, "console:a", "", False, later)  # seen again, name kept
    repo.record_member(COMMUNITY, "console:b", "Bat", False, AT, present=False)
    repo.record_member(COMMUNITY, "console:b", "Batya", False, later, present=True)
    repo.record_member(COMMUNITY, "console:c", "Chen", False, AT)
    for kind in ("joined", "joined", "left"):
        repo.record_member_event(COMMUNITY, "console:b", kind, AT, DAY)
    repo.record_invite(COMMUNITY, "console:b", "console:a", "abc", AT)
    repo.record_invite(COMMUNITY, "console:b", None, "", AT)
    for i, text in enumerate(["שלום לכולם, hello", "it's \"quoted\"\n\ttabbed", None]):
        for _ in range(2):  # re-delivered: stored and counted once
            repo.record_message(
                COMMUNITY, f"console:m{i}", channel=GENERAL, thread=None, author="console:a",
                author_is_bot=False, reply_to="console:m0" if i else None,
                reply_to_author="console:a" if i else None, at=AT + timedelta(seconds=i),
                day=DAY, length=len(text or ""), has_media=i == 2, text=text)
    for step, active in enumerate((True, False, True, False)):  # the last change wins
        repo.record_reaction(COMMUNITY, "console:m0", "console:b", "👍", author="console:a",
                             reactor_is_bot=False, at=AT + timedelta(seconds=step), day=DAY,
                             active=active)
    repo.record_reaction(COMMUNITY, "console:m1", "console:c", "🔥", author=None,
                         reactor_is_bot=False, at=AT, day=DAY, active=True)
    for reason, delta in (("message", 20), ("message", 20), ("reply", 5), ("manual", -3)):
        repo.add_ledger(COMMUNITY, "console:a", season=1, delta=delta, reason=reason,
                        ref="console:m1", at=AT, day=DAY, actor=None, note="n'ote")
    repo.set_setting(COMMUNITY, "welcome_text", "ברוכים הבאים, {name}!")
    repo.set_setting(COMMUNITY, "welcome_text", {"he": "שלום", "en": "hi"})
    repo.set_setting(COMMUNITY, "time_zone", "Asia/Jerusalem")
    repo.record_reaction_counts(COMMUNITY, "console:m2", [("👍", 3)], later)
    repo.record_reaction_counts(COMMUNITY, "console:m2", [("👍", 1)], AT)  # older: ignored
    for i in (1, 2, 1):
        repo.record_seen(f"console:event{i}", AT)


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr) for t in tables}


async def test_bulk_row_by_row_and_one_call_writes_store_the_same(tmp_path: Path) -> None:
    stores = {}
    for bulk in (True, False):
        for one_hop in (True, False):
            path = tmp_path / f"bulk-{bulk}-{one_hop}.db"
            repo = Repository(f"sqlite:///{path}", max_batch=10_000, max_delay_ms=60_000,
                              bulk=bulk, one_hop=one_hop)
            await repo.open()
            assert repo.writer is not None
            backend = repo.writer.backend
            # the installed aiosqlite has the call one-call transactions need
            assert isinstance(backend, SqliteBackend) and backend.one_hop is one_hop
            write_everything(repo)
            await repo.close()  # everything above lands in one batch
            assert repo.writer.batches == 1
            stores[bulk, one_hop] = dump(path)
    stored = stores[True, True]
    assert all(other == stored for other in stores.values())
    assert ("console:a", "Avi") in {(r[1], r[2]) for r in stored["members"]}
    assert len(stored["messages"]) == 3 and len(stored["ledger"]) == 3
    assert [r[-1] for r in stored["reactions"] if r[2] == "console:b"] == [0]


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A bare store connection, closed even when the test fails.

    aiosqlite's worker thread is not a daemon: a connection left open would keep pytest
    from exiting after a failure instead of reporting it.
    """
    connection = await connect(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        yield connection
    finally:
        await connection.close()


async def test_values_without_a_json_form_are_written_row_by_row(
    conn: aiosqlite.Connection,
) -> None:
    book = StatementBook()
    insert = book.add("blob", "INSERT INTO blobs (data) VALUES (?)")
    assert insert.bulk_sql is not None
    await conn.execute("CREATE TABLE blobs (data BLOB)")
    writer = BatchedWriter(conn, max_batch=100, max_delay_ms=60_000)
    await writer.start()
    for data in (b"\x00\x01", b"\xff"):  # bytes have no JSON form
        writer.submit(insert, (data,))
    await writer.close()
    async with conn.execute("SELECT data FROM blobs ORDER BY rowid") as cur:
        assert [r[0] for r in await cur.fetchall()] == [b"\x00\x01", b"\xff"]
    assert writer.failed_rows == 0


async def test_a_bad_row_in_a_bulk_group_costs_only_that_row(tmp_path: Path) -> None:
    repo = Repository(f"sqlite:///{tmp_path / 'store.db'}", max_delay_ms=60_000)
    await repo.open()
    repo.record_community(COMMUNITY, "console", "Tribe", AT)
    repo.set_setting(COMMUNITY, "language", "he")
    repo.submit(UPSERT_SETTING, (COMMUNITY, "broken", None))  # value is NOT NULL
    repo.set_setting(COMMUNITY, "time_zone", "Asia/Jerusalem")
    await repo.flush()
    assert await repo.all_settings() == {
        COMMUNITY: {"language": "he", "time_zone": "Asia/Jerusalem"}}
    assert repo.writer is not None and repo.writer.failed_rows == 1
    await repo.close()


def test_bulk_form_rewrites_inserts_and_leaves_other_statements_alone() -> None:
    upsert = bulk_form("INSERT INTO t (a, b, c) VALUES (?, NULL, ?)\n"
                       "    ON CONFLICT (a) DO UPDATE SET c = excluded.c")
    assert upsert == (
        "INSERT INTO t (a, b, c) SELECT json_extract(j.value, '$[0]'), NULL, "
        "json_extract(j.value, '$[1]') FROM json_each(?) AS j WHERE true ORDER BY j.key "
        "ON CONFLICT (a) DO UPDATE SET c = excluded.c")
    assert bulk_form("UPDATE t SET a = ? WHERE b = ?") is None
    assert bulk_form("DELETE FROM t WHERE a = ?") is None
    # a parameter outside VALUES, or inside an expression, stays row by row
    assert bulk_form("INSERT INTO t (a) VALUES (?) ON CONFLICT DO UPDATE SET a = ?") is None
    assert bulk_form("INSERT INTO t (a, b) VALUES (?, coalesce(?, 1))") is None


def test_the_hot_statements_have_a_bulk_form() -> None:
    hot = {"insert_message", "insert_ledger", "insert_seen", "upsert_reaction",
           "upsert_member", "upsert_stage", "insert_stage_history"}
    assert hot <= {s.name for s in BOOK if s.bulk_sql}


async def test_without_json_functions_the_writer_goes_row_by_row(
    conn: aiosqlite.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    await migrate(conn)

    def no_json(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
        denied = action == sqlite3.SQLITE_FUNCTION and (arg2 or "").startswith("json")
        return sqlite3.SQLITE_DENY if denied else sqlite3.SQLITE_OK

    await conn.set_authorizer(no_json)  # an SQLite built without its JSON functions
    writer = BatchedWriter(conn, max_batch=100, max_delay_ms=60_000)
    await writer.start()
    insert_seen = next(s for s in BOOK if s.name == "insert_seen")
    for i in range(3):
        writer.submit(insert_seen, (f"console:event{i}", i))
    await writer.close()
    async with conn.execute("SELECT count(*) FROM seen_events") as cur:
        assert (await cur.fetchone()) == (3,)
    assert writer.batches == 1 and writer.failed_rows == 0
    # it knew from the start: no batch failed on the way
    assert "no JSON functions" in caplog.text and "failed" not in caplog.text
