"""The store: migrations, idempotency by unique keys, batching and flush-on-stop."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.clock import SimulatedClock
from bot.core.events import MessagePosted, ReactionAdded, ReactionRemoved
from bot.runtime import Runtime
from cogs.moderation.cog import ModerationCog
from storage import NewerSchemaError, open_repository
from storage.database import latest_version, migrations
from tests.conftest import COMMUNITY, GENERAL, START, make_settings

pytestmark = pytest.mark.both_backends  # and on PostgreSQL (tests/pg.py)

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_migrations_from_empty_and_rerun(tmp_path: Path) -> None:
    repo = await open_repository(url(tmp_path))
    assert repo.migrations_applied == [m.name for m in migrations()]
    assert repo.migrations_applied[:2] == ["0001_initial.sql", "0002_journey.sql"]
    await repo.close()
    again = await open_repository(url(tmp_path))
    assert again.migrations_applied == []
    assert await again.schema_version() == latest_version()
    await again.close()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.sqlite_only  # SQLite's own lock; PostgreSQL's advisory lock is tested there
async def test_two_starts_on_a_new_file_migrate_it_once(tmp_path: Path) -> None:
    """Two processes started at the same moment on a file that does not exist yet (two
    shard ranges): both read version 0, and the second must wait for the first and find
    nothing to do, not fail on tables that already exist."""
    from storage.database import connect, migrate

    path = tmp_path / "new.db"
    first = await connect(f"sqlite:///{path}")
    second = await connect(f"sqlite:///{path}")
    try:
        results = await asyncio.gather(migrate(first), migrate(second),
                                       return_exceptions=True)
        assert not [r for r in results if isinstance(r, BaseException)], results
        assert sorted(results, key=len) == [[], [m.name for m in migrations()]]
        assert count(path, "PRAGMA user_version") == latest_version()
    finally:
        await first.close()
        await second.close()


@pytest.mark.sqlite_only  # SQLite's own lock
async def test_a_migration_waits_for_a_lock_held_elsewhere_then_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A program holds the new file's write lock: the start keeps trying (one busy_timeout
    after another) and migrates once it is free, or says what blocks it at the deadline."""
    from storage import DatabaseError
    from storage.database import connect, migrate

    path = tmp_path / "held.db"
    conn = await connect(f"sqlite:///{path}")  # the file exists, in WAL mode
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute("PRAGMA busy_timeout=50")
        monkeypatch.setattr("storage.database.MIGRATION_WAIT_S", 0.3)
        with pytest.raises(DatabaseError, match="stayed locked"):
            await migrate(conn)
        monkeypatch.setattr("storage.database.MIGRATION_WAIT_S", 10.0)
        asyncio.get_running_loop().call_later(0.3, holder.rollback)
        assert await migrate(conn) == [m.name for m in migrations()]
    finally:
        await conn.close()
        holder.close()


async def test_database_from_newer_version_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(NewerSchemaError, match=r"schema version 999.*newer Tribebot"):
        await open_repository(url(tmp_path))


async def test_same_message_written_twice_is_stored_and_counted_once(tmp_path: Path) -> None:
    repo = await open_repository(url(tmp_path))
    repo.record_community(COMMUNITY, "console", "Tribe", AT)
    for _ in range(2):  # bypasses the bus: the unique key alone must hold
        repo.record_message(COMMUNITY, "console:m1", channel=GENERAL, thread=None,
                            author="console:a", author_is_bot=False, reply_to=None,
                            reply_to_author=None, at=AT, day="2026-11-02", length=10,
                            has_media=False, text=None)
        repo.add_ledger(COMMUNITY, "console:a", season=1, delta=20, reason="message",
                        ref="console:m1", at=AT, day="2026-11-02")
    await repo.close()
    db = tmp_path / "store.db"
    assert count(db, "SELECT count(*) FROM messages") == 1
    assert count(db, "SELECT messages FROM daily_activity") == 1
    assert count(db, "SELECT points FROM point_totals") == 20
    assert count(db, "SELECT points FROM daily_activity") == 20


async def test_duplicate_events_through_the_bot_count_once(runtime: Runtime, console) -> None:
    event = MessagePosted(community=COMMUNITY, at=START, message="console:m1",
                          author="console:a", channel=GENERAL, text="hello everyone", length=14)
    assert await console.push(event) is True
    assert await console.push(event) is False
    totals = await runtime.repository.point_totals(COMMUNITY, 1)
    assert len(totals) == 1 and 15 <= totals["console:a"] <= 25
    assert runtime.bus.duplicates == 1


async def test_duplicate_after_restart_is_still_a_duplicate(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    event = MessagePosted(community=COMMUNITY, at=START, message="console:m1",
                          author="console:a", channel=GENERAL, text="hello everyone", length=14)
    first = Runtime(settings)
    await first.start()
    assert first.publish(event)
    await first.stop()
    second = Runtime(settings)
    await second.start()
    assert second.publish(event) is False  # re-delivered after a restart
    await second.stop()


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_reaction_add_remove_add_is_not_swallowed_as_duplicate(runtime, console) -> None:
    base = dict(community=COMMUNITY, message="console:m1", reactor="console:b", emoji="👍",
                message_author="console:a")
    assert await console.push(ReactionAdded(at=START, **base))
    assert await console.push(ReactionRemoved(at=START + timedelta(seconds=1), **base))
    assert await console.push(ReactionAdded(at=START + timedelta(seconds=2), **base))
    assert not await console.push(ReactionAdded(at=START + timedelta(seconds=3), **base))
    await runtime.repository.flush()
    db = Path(runtime.repository.path)
    assert count(db, "SELECT active FROM reactions") == 1
    assert count(db, "SELECT reactions_received FROM daily_activity "
                     "WHERE member_id = 'console:a'") == 1


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_stop_mid_stream_loses_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, storage={"batch_size": 10_000,
                                                "batch_interval_ms": 60_000})
    runtime = Runtime(settings)
    await runtime.start()
    accepted = 0
    for i in range(5_000):
        accepted += runtime.publish(MessagePosted(
            community=COMMUNITY, at=START + timedelta(seconds=i), message=f"console:m{i}",
            author=f"console:u{i % 50}", channel=GENERAL, length=12))
    # nothing has been committed yet: the batch is neither full nor due
    await runtime.stop()
    assert accepted == 5_000
    assert count(tmp_path / "test.db", "SELECT count(*) FROM messages") == 5_000
    assert count(tmp_path / "test.db", "SELECT sum(messages) FROM daily_activity") == 5_000


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_message_text_is_stored_only_when_enabled(tmp_path: Path) -> None:
    for enabled in (False, True):
        folder = tmp_path / str(enabled)
        folder.mkdir()
        settings = make_settings(folder, privacy={"store_message_text": enabled})
        async with Runtime(settings) as runtime:
            runtime.publish(MessagePosted(community=COMMUNITY, at=START, message="console:m1",
                                          author="console:a", channel=GENERAL,
                                          text="secret plans", length=12))
        stored = count(folder / "test.db",
                       "SELECT count(*) FROM messages WHERE text = 'secret plans'")
        assert stored == int(enabled)


async def test_writer_batches_many_rows_into_few_commits(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, storage={"batch_size": 1000, "batch_interval_ms": 50})
    async with Runtime(settings, cogs=[]) as runtime:
        for i in range(3_000):
            runtime.publish(MessagePosted(
                community=COMMUNITY, at=START, message=f"console:m{i}", author="console:a",
                channel=GENERAL, length=5))
        await runtime.bus.drain()
        await runtime.repository.flush()
        writer = runtime.repository.writer
        assert writer is not None
        # 3,000 events write ~6,000 rows (message + seen key): a handful of transactions
        assert 6 <= writer.batches <= 20


async def test_weekly_returning_flags_hold_in_any_order_of_arrival(tmp_path: Path) -> None:
    repo = await open_repository(url(tmp_path))
    repo.record_community(COMMUNITY, "console", "Tribe", AT)
    # week of Nov 9 arrives after the week of Nov 16 (a late replay), then Nov 16 again
    for n, (member, day) in enumerate([("console:a", "2026-11-17"), ("console:a", "2026-11-10"),
                                       ("console:b", "2026-11-16"), ("console:a", "2026-11-18"),
                                       ("console:b", "2026-11-02")]):
        repo.record_message(COMMUNITY, f"console:m{n}", channel=GENERAL, thread=None,
                            author=member, author_is_bot=False, reply_to=None,
                            reply_to_author=None, at=AT, day=day, length=10,
                            has_media=False, text=None)
    await repo.close()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        rows = conn.execute("SELECT week, member_id, also_last_week FROM member_weeks "
                            "ORDER BY week, member_id").fetchall()
    assert rows == [("2026-11-02", "console:b", 0), ("2026-11-09", "console:a", 0),
                    ("2026-11-16", "console:a", 1), ("2026-11-16", "console:b", 0)]


async def test_weekly_table_survives_reactions_before_messages(tmp_path: Path) -> None:
    """A day that starts with a reaction and then gets a message, twice in one week."""
    repo = await open_repository(url(tmp_path))
    repo.record_community(COMMUNITY, "console", "Tribe", AT)
    for n, day in enumerate(["2026-11-16", "2026-11-17"]):
        repo.record_reaction(COMMUNITY, f"console:x{n}", "console:a", "👍",
                             author="console:b", reactor_is_bot=False, at=AT, day=day,
                             active=True)
        await repo.flush()  # the reaction's rollup row exists before the message
        repo.record_message(COMMUNITY, f"console:m{n}", channel=GENERAL, thread=None,
                            author="console:a", author_is_bot=False, reply_to=None,
                            reply_to_author=None, at=AT, day=day, length=10,
                            has_media=False, text=None)
        await repo.flush()
    await repo.close()
    assert repo.writer is None or repo.writer.failed_rows == 0
    db = tmp_path / "store.db"
    assert count(db, "SELECT count(*) FROM messages") == 2
    assert count(db, "SELECT count(*) FROM member_weeks WHERE member_id = 'console:a'") == 1


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_handled_event_keys_are_pruned_at_start(tmp_path: Path, monkeypatch) -> None:
    import bot.runtime

    monkeypatch.setattr(bot.runtime, "KEPT_KEYS", 10)
    settings = make_settings(tmp_path)
    async with Runtime(settings, cogs=[]) as runtime:
        for i in range(25):
            runtime.publish(MessagePosted(community=COMMUNITY, at=START,
                                          message=f"console:m{i}", author="console:a",
                                          channel=GENERAL, length=5))
    async with Runtime(settings, cogs=[]):
        pass  # a restart prunes
    db = tmp_path / "test.db"
    assert count(db, "SELECT count(*) FROM seen_events") == 10
    assert count(db, "SELECT count(*) FROM messages") == 25  # only the keys go


def test_upgrading_to_the_weekly_table_back_fills_it() -> None:
    from storage.database import migrations

    conn = sqlite3.connect(":memory:")
    known = migrations()
    for migration in known[:4]:  # a database from before schema 5, with some activity
        conn.executescript(migration.sql)
    conn.execute("INSERT INTO communities (id, platform, joined_at) VALUES ('c', 'console', 0)")
    for day, member in [("2026-11-10", "a"), ("2026-11-17", "a"), ("2026-11-18", "b")]:
        conn.execute("INSERT INTO daily_activity (community_id, day, member_id, messages) "
                     "VALUES ('c', ?, ?, 1)", (day, member))
    conn.executescript(known[4].sql)
    rows = conn.execute("SELECT week, member_id, also_last_week FROM member_weeks "
                        "ORDER BY week, member_id").fetchall()
    assert rows == [("2026-11-09", "a", 0), ("2026-11-16", "a", 1), ("2026-11-16", "b", 0)]


async def test_a_command_before_any_event_still_stores_its_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with Runtime(settings, clock=SimulatedClock(START),
                       cogs=[ModerationCog]) as runtime:
        console = ConsoleAdapter(runtime, echo=False, moderators=["mod"])
        reply = await console.command(COMMUNITY, "mod", "/community timezone Asia/Jerusalem")
        assert reply.text.plain().startswith("Time zone set to Asia/Jerusalem")
        writer = runtime.repository.writer
        await runtime.repository.flush()
        assert writer is not None and writer.failed_rows == 0
    async with Runtime(settings, clock=SimulatedClock(START), cogs=[]) as runtime:
        assert str(runtime.communities.timezone(COMMUNITY)) == "Asia/Jerusalem"


async def test_a_table_read_in_pages_gives_every_row_once(tmp_path: Path) -> None:
    """``db copy`` reads each table in pages of one query; the pages hold every row once,
    the last one the rest."""
    repo = await open_repository(make_settings(tmp_path).storage.url)
    try:
        repo.record_community(COMMUNITY, "console", "Tribe", AT)
        for n in range(250):
            repo.add_ledger(COMMUNITY, "console:ann", season=1, delta=1, reason="manual",
                            ref=f"r{n}", at=AT, day="2026-11-02")
        pages = [page async for page in repo.pages("SELECT ref FROM ledger", 100)]
        assert [len(page) for page in pages] == [100, 100, 50]
        assert sorted(ref for page in pages for (ref,) in page) == sorted(
            f"r{n}" for n in range(250))
        # the read left nothing open: the store still reads and writes as before
        repo.add_ledger(COMMUNITY, "console:ann", season=1, delta=1, reason="manual",
                        ref="after", at=AT, day="2026-11-02")
        assert (await repo.rows("SELECT count(*) FROM ledger"))[0][0] == 251
    finally:
        await repo.close()
