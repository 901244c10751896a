"""PostgreSQL as the store: the same totals as SQLite for the same history, exact rollups
under two concurrent writers, and the writer's failure semantics (skipped without a
server: see tests/pg.py)."""

from __future__ import annotations

import asyncio
import random
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.demo import export
from bot.replay import replay_file
from storage import Repository, WriterStopped, open_repository
from storage.spill import spill_path
from tests import pg
from tests.conftest import make_settings

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday

#: What "the same data" means: every rollup and every count a report reads.
CHECKS = {
    "counts": "SELECT 'rows', count(*) FROM messages UNION ALL "
              "SELECT 'reactions', count(*) FROM reactions UNION ALL "
              "SELECT 'ledger', count(*) FROM ledger UNION ALL "
              "SELECT 'members', count(*) FROM members UNION ALL "
              "SELECT 'stages', count(*) FROM member_stages UNION ALL "
              "SELECT 'seen', count(*) FROM seen_events",
    "point_totals": "SELECT community_id, season, member_id, points FROM point_totals",
    "daily_activity": "SELECT community_id, day, member_id, messages, replies, "
                      "reactions_given, reactions_received, points, farmed FROM daily_activity",
    "member_weeks": "SELECT community_id, week, member_id, also_last_week FROM member_weeks",
    "stages": "SELECT community_id, member_id, stage, since, drifting, lurker "
              "FROM member_stages",
    "ledger": "SELECT community_id, member_id, reason, ref, delta, day FROM ledger",
}


async def snapshot(repo: Repository) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(tuple(r) for r in await repo.rows(sql))
            for name, sql in CHECKS.items()}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server, and the test's folder as the working one: a PostgreSQL store keeps its
    local files (charts, attachments, rows kept at a stop) there."""
    monkeypatch.chdir(tmp_path)
    return pg.require_server()


async def test_a_replay_into_postgresql_gives_exactly_what_sqlite_gets(
        tmp_path: Path, server: str) -> None:
    stream = tmp_path / "makers.jsonl"
    records = export(stream)
    assert records > 2000  # eight weeks of a seventy-member community
    lite = make_settings(tmp_path / "lite")
    postgres = make_settings(tmp_path, storage={"url": pg.new_database()})
    (tmp_path / "lite").mkdir()
    for settings in (lite, postgres):
        report = await replay_file(settings, stream, echo=False)
        assert report.events > 2000
    sqlite_repo = await open_repository(lite.storage.url)
    postgres_repo = await open_repository(postgres.storage.url)
    try:
        expected, got = await snapshot(sqlite_repo), await snapshot(postgres_repo)
        for name in CHECKS:
            assert got[name] == expected[name], f"{name} differs between SQLite and PostgreSQL"
        assert sum(r[3] for r in got["point_totals"]) > 0
        assert got["member_weeks"]
    finally:
        await sqlite_repo.close()
        await postgres_repo.close()


def _message(repo: Repository, n: int, author: str, day: datetime, *, farmed: bool) -> None:
    local = day.date().isoformat()
    if farmed:
        repo.record_farmed("c", f"m{n}", author, "too short", day, local)
    repo.record_message("c", f"m{n}", channel="ch", thread=None, author=author,
                        author_is_bot=False, reply_to=None, reply_to_author=None, at=day,
                        day=local, length=5, has_media=False, text=None)
    repo.add_ledger("c", author, season=1, delta=3, reason="message", ref=f"m{n}", at=day,
                    day=local)


async def test_two_writers_on_one_database_lose_no_update(server: str) -> None:
    """Two stores (as two processes would) write messages, farming verdicts and points of
    the same members on the same days at the same time, in many small batches: every
    rollup matches what the facts say, to the unit."""
    url = pg.new_database()
    first = await open_repository(url, max_batch=7, max_delay_ms=1)
    second = await open_repository(url, max_batch=5, max_delay_ms=1)
    try:
        first.record_community("c", "discord", "C", AT)
        await first.flush()
        rng = random.Random(20)
        members = [f"u{i}" for i in range(6)]

        async def write(repo: Repository, start: int) -> None:
            for n in range(start, start + 1200):
                day = AT + timedelta(days=rng.randrange(21), hours=rng.randrange(12))
                _message(repo, n, rng.choice(members), day, farmed=rng.random() < 0.2)
                if n % 25 == 0:
                    await asyncio.sleep(0)  # let the other writer's batches interleave
            await repo.flush()

        await asyncio.gather(write(first, 0), write(second, 10_000))
        assert first.writer is not None and second.writer is not None
        assert first.writer.failed_rows == second.writer.failed_rows == 0
        rollup = {(r[0], r[1]): (r[2], r[3], r[4]) for r in await first.rows(
            "SELECT day, member_id, messages, farmed, points FROM daily_activity")}
        facts: dict[tuple[str, str], list[int]] = {}
        for day, member, count in await first.rows(
                "SELECT day, author_id, count(*) FROM messages GROUP BY day, author_id"):
            facts.setdefault((day, member), [0, 0, 0])[0] = count
            facts[(day, member)][2] = 3 * count
        for day, member, count in await first.rows(
                "SELECT day, member_id, count(*) FROM farmed_messages GROUP BY 1, 2"):
            facts.setdefault((day, member), [0, 0, 0])[1] = count
        assert rollup == {key: tuple(value) for key, value in facts.items()}
        assert sum(v[0] for v in rollup.values()) == 2400
        totals = await first.point_totals("c", 1)
        assert sum(totals.values()) == 3 * 2400
        # the weeks: a member's week counts when one of its days has more messages than
        # farmed ones; "also last week" when the week before counts too
        weeks: dict[tuple[str, str], bool] = {}
        for (day, member), (messages, farmed, _) in rollup.items():
            monday = datetime.fromisoformat(day).date()
            monday -= timedelta(days=monday.weekday())
            key = (monday.isoformat(), member)
            weeks[key] = weeks.get(key, False) or messages > farmed
        counted = {key for key, counts in weeks.items() if counts}
        expected = sorted(
            (week, member, int(((datetime.fromisoformat(week).date() - timedelta(days=7))
                                .isoformat(), member) in counted))
            for week, member in counted)
        got = sorted(tuple(r) for r in await first.rows(
            "SELECT week, member_id, also_last_week FROM member_weeks"))
        assert got == expected
    finally:
        await first.close()
        await second.close()


async def test_inserts_go_as_one_multi_row_statement_per_group(server: str) -> None:
    repo = await open_repository(pg.new_database(), max_delay_ms=1000)
    try:
        repo.record_community("c", "discord", "C", AT)
        for n in range(200):
            repo.add_ledger("c", f"u{n % 4}", season=1, delta=2, reason="message",
                            ref=f"m{n}", at=AT, day="2026-11-02")
            repo.add_ledger("c", f"u{n % 4}", season=1, delta=2, reason="message",
                            ref=f"m{n}", at=AT, day="2026-11-02")  # a duplicate: ignored
        await repo.flush()
        assert repo._backend is not None and repo._backend.bulk_groups >= 1
        assert await repo.point_totals("c", 1) == {f"u{i}": 100 for i in range(4)}
        ids = [r[0] for r in await repo.rows("SELECT id FROM ledger ORDER BY id")]
        refs = [r[0] for r in await repo.rows("SELECT ref FROM ledger ORDER BY id")]
        assert len(ids) == 200 and refs == [f"m{n}" for n in range(200)]  # in order
    finally:
        await repo.close()


async def test_a_bad_row_costs_only_that_row(server: str) -> None:
    repo = await open_repository(pg.new_database(), max_batch=1000, max_delay_ms=1000)
    try:
        repo.record_community("c", "discord", "C", AT)
        for n in range(50):
            repo.add_ledger("c", f"u{n % 3}", season=1, delta=1, reason="message",
                            ref=f"m{n}", at=AT, day="2026-11-02")
        # a row PostgreSQL refuses (no such community: the deferred foreign key)
        repo.add_ledger("nowhere", "u1", season=1, delta=100, reason="message", ref="x",
                        at=AT, day="2026-11-02")
        # and one asyncpg refuses before sending it (a text where a number goes)
        repo.add_ledger("c", "u1", season=1, delta="many", reason="message",  # type: ignore[arg-type]
                        ref="y", at=AT, day="2026-11-02")
        await repo.flush()
        assert repo.writer is not None and repo.writer.failed_rows == 2
        assert await repo.point_totals("c", 1) == {"u0": 17, "u1": 17, "u2": 16}
    finally:
        await repo.close()


async def _drop_writer_connection(url: str, repo: Repository) -> None:
    """Cut the writer's connection from the server side (a restart, a network blip)."""
    assert repo._backend is not None and repo._backend.conn is not None
    pid = repo._backend.conn.get_server_pid()
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_lost_connection_keeps_the_batch_and_retries(server: str) -> None:
    url = pg.new_database()
    repo = await open_repository(url, max_delay_ms=1)
    try:
        repo.record_community("c", "discord", "C", AT)
        await repo.flush()
        assert repo._backend is not None and repo._backend.conn is not None
        before = repo._backend.conn.get_server_pid()
        await _drop_writer_connection(url, repo)
        for n in range(30):
            repo.add_ledger("c", "u1", season=1, delta=2, reason="message", ref=f"m{n}",
                            at=AT, day="2026-11-02")
        await repo.flush()
        assert repo.writer is not None and repo.writer.failed_rows == 0
        assert await repo.point_totals("c", 1) == {"u1": 60}
        assert repo._backend.conn is not None
        assert repo._backend.conn.get_server_pid() != before  # on a new connection
    finally:
        await repo.close()


async def test_rows_a_stop_cannot_save_are_kept_and_written_at_the_next_start(
        tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = pg.new_database()
    repo = await open_repository(url, max_delay_ms=1)
    repo.record_community("c", "discord", "C", AT)
    await repo.flush()
    assert repo._backend is not None
    repo._backend.url = "postgresql://root@127.0.0.1:1/unreachable"  # the server is gone
    await _drop_writer_connection(url, repo)
    for n in range(10):
        repo.add_ledger("c", "u1", season=1, delta=5, reason="message", ref=f"m{n}", at=AT,
                        day="2026-11-02")
    with pytest.raises(WriterStopped, match="10 of them are kept"):
        await repo.close(give_up_after_s=1.5)
    kept = spill_path(repo.path)
    assert kept.exists()
    again = await open_repository(url)
    try:
        assert await again.point_totals("c", 1) == {"u1": 50}
        assert not kept.exists()
    finally:
        await again.close()


async def test_a_database_from_a_newer_version_is_refused(server: str) -> None:
    from storage import NewerSchemaError
    from storage.postgres import VERSION_TABLE

    url = pg.new_database()
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (999, 'x')")
    finally:
        await admin.close()
    with pytest.raises(NewerSchemaError, match="schema version 999"):
        await open_repository(url)


async def test_migrate_on_an_empty_database_applies_every_version(server: str) -> None:
    from storage.database import POSTGRESQL, migrations

    repo = await open_repository(pg.new_database(migrated=False))
    try:
        assert repo.migrations_applied == [m.name for m in migrations(POSTGRESQL)]
        assert await repo.schema_version() == len(migrations())
    finally:
        await repo.close()


# -- tribebot db copy -----------------------------------------------------------------------
def cli(*args: str) -> Any:
    from click.testing import CliRunner

    from bot.cli import main

    return CliRunner().invoke(main, list(args))


async def test_db_copy_moves_a_community_to_postgresql_and_back_without_loss(
        tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.copy import fingerprint

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("storage.copy.PAGE", 97)  # every big table takes many pages
    stream = tmp_path / "makers.jsonl"
    export(stream)
    lite = make_settings(tmp_path)
    await replay_file(lite, stream, echo=False)
    target, back = pg.new_database(migrated=False), f"sqlite:///{tmp_path / 'back.db'}"

    result = await asyncio.to_thread(cli, "db", "copy", lite.storage.url, target)
    assert result.exit_code == 0, result.output
    assert "copied" in result.output
    again = await asyncio.to_thread(cli, "db", "copy", lite.storage.url, target)
    assert again.exit_code == 0 and "same data already" in again.output
    home = await asyncio.to_thread(cli, "db", "copy", target, back)
    assert home.exit_code == 0, home.output

    stores = [await open_repository(url) for url in (lite.storage.url, target, back)]
    try:
        tables = sorted(await stores[0].tables())
        original = await fingerprint(stores[0], tables)
        assert original["(points)"] > 0 and original["messages"] > 1000
        expected = await snapshot(stores[0])
        ids = "SELECT id, member_id, ref FROM ledger ORDER BY id"
        keys = "SELECT rowid, key FROM seen_events ORDER BY rowid"
        for copy in stores[1:]:
            assert await fingerprint(copy, tables) == original
            assert await snapshot(copy) == expected
            assert await copy.rows(ids) == await stores[0].rows(ids)  # ids preserved
            assert await copy.rows(keys) == await stores[0].rows(keys)
        # the next ledger row on PostgreSQL follows the copied ones
        stores[1].add_ledger("console:makers", "console:new", season=1, delta=1,
                             reason="manual", ref="after-copy", at=AT, day="2026-11-02")
        newest = await stores[1].rows("SELECT max(id) FROM ledger")
        highest = await stores[0].rows("SELECT max(id) FROM ledger")
        assert newest[0][0] == highest[0][0] + 1
    finally:
        for store in stores:
            await store.close()


async def test_db_copy_refuses_a_destination_with_other_data(
        tmp_path: Path, server: str) -> None:
    source = f"sqlite:///{tmp_path / 'a.db'}"
    other = await open_repository(pg.new_database())
    try:
        other.record_community("c", "discord", "Other", AT)
        await other.flush()
        url = other.url
    finally:
        await other.close()
    result = await asyncio.to_thread(cli, "db", "copy", source, url)
    assert result.exit_code == 2
    assert "already holds other data" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("destination", "says"), [
    ("mysql://x/y", "is not a store Tribebot knows"),
    ("postgresql://root@127.0.0.1:1/nothing", "cannot reach PostgreSQL"),
    ("postgresql://root@127.0.0.1:5432/", "names no database"),
])
def test_db_copy_explains_a_bad_destination_in_one_sentence(
        tmp_path: Path, destination: str, says: str) -> None:
    result = cli("db", "copy", f"sqlite:///{tmp_path / 'a.db'}", destination)
    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 3


def test_db_migrate_with_a_url_applies_every_version_once(server: str) -> None:
    from storage.database import latest_version

    url = pg.new_database(migrated=False)
    first = cli("db", "migrate", "--url", url)
    assert first.exit_code == 0, first.output
    assert f"applied {latest_version()} migration(s)" in first.output
    again = cli("db", "migrate", "--url", url)
    assert again.exit_code == 0 and "up to date" in again.output
    stats = cli("db", "stats", "--url", url)
    assert stats.exit_code == 0 and f"(schema {latest_version()})" in stats.output


def test_a_database_that_does_not_exist_is_one_sentence(server: str) -> None:
    result = cli("db", "migrate", "--url",
                 pg._with_database(server, "no_such_database_here"))
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_a_login_the_server_refuses_is_one_sentence(server: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(server)
    url = f"postgresql://no_such_role:pw@{parts.hostname}:{parts.port or 5432}{parts.path}"
    result = cli("db", "stats", "--url", url)
    assert result.exit_code == 2
    assert "refused the login" in result.output and "Traceback" not in result.output
    assert "pw@" not in result.output  # the password is never shown


def test_a_login_that_may_not_create_tables_is_told_the_grant(server: str) -> None:
    """A database an administrator made for the bot, and a login that may not create
    tables in it (since PostgreSQL 15 only the owner may, by default)."""
    from urllib.parse import urlsplit, urlunsplit

    url = pg.new_database(migrated=False)
    role = f"tribebot_test_{secrets.token_hex(4)}"
    asyncio.run(pg._execute(url, f"CREATE ROLE {role} LOGIN",
                            "REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    try:
        parts = urlsplit(url)
        login = urlunsplit(parts._replace(
            netloc=f"{role}@{parts.hostname}:{parts.port or 5432}"))
        result = cli("db", "migrate", "--url", login)
        assert result.exit_code == 2, result.output
        assert f"GRANT CREATE, USAGE ON SCHEMA public TO {role}" in result.output
        assert "Traceback" not in result.output and len(result.output.splitlines()) <= 3
    finally:
        asyncio.run(pg._execute(url, f"DROP ROLE {role}"))


async def test_a_lock_timeout_in_the_middle_of_a_command_is_one_sentence(
        server: str) -> None:
    """Another session holds a table Tribebot reads (a transaction left open) and the
    server has a lock_timeout: the command stops with what happened, not asyncpg's
    traceback."""
    url = pg.new_database()
    holder = await asyncpg.connect(url)
    try:
        await holder.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET lock_timeout = 200")
        await holder.execute("BEGIN")
        await holder.execute("LOCK TABLE point_totals IN ACCESS EXCLUSIVE MODE")
        result = await asyncio.to_thread(cli, "db", "stats", "--url", url)
    finally:
        await holder.close()
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result
    assert "holds a lock on a table" in result.output and "lock timeout" in result.output
    assert len(result.output.strip().splitlines()) == 1
    again = await asyncio.to_thread(cli, "db", "stats", "--url", url)  # the lock is gone
    assert again.exit_code == 0, again.output


def _stream(path: Path, prefix: str, messages: int) -> Path:
    """One process's share of a community's traffic: the same members and days as the
    other's, messages of its own (``prefix``), replies and reactions among them."""
    import json

    at = AT
    lines: list[dict[str, Any]] = [
        {"type": "community_joined", "at": at.isoformat(), "community": "tribe",
         "name": "Tribe", "channels": [{"id": "general", "name": "general"}]}]
    lines += [{"type": "member_joined", "at": at.isoformat(), "community": "tribe",
               "member": f"u{n}", "name": f"U{n}"} for n in range(6)]
    for i in range(messages):
        at += timedelta(minutes=37)
        record: dict[str, Any] = {
            "type": "message_posted", "at": at.isoformat(), "community": "tribe",
            "message": f"{prefix}{i}", "author": f"u{i % 6}", "channel": "general",
            "text": f"message {i} from {prefix} about topic {i % 5}"}
        if i % 3 == 1:
            record["reply_to"] = f"{prefix}{i - 1}"
        lines.append(record)
        if i % 2 == 0 and i:
            lines.append({"type": "reaction_added", "at": at.isoformat(),
                          "community": "tribe", "message": f"{prefix}{i - 1}",
                          "reactor": f"u{(i + 1) % 6}", "emoji": "👍"})
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    return path


async def test_two_bot_processes_on_one_database_count_every_fact_once(
        tmp_path: Path, server: str) -> None:
    """Two ``tribebot replay`` processes write the same community's days at once: every
    rollup equals what the facts it counts say."""
    import os
    import sys

    url = pg.new_database()
    runs = []
    for prefix in ("a", "b"):
        folder = tmp_path / prefix
        folder.mkdir()
        stream = _stream(folder / "stream.jsonl", prefix, 600)
        runs.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "replay", str(stream), "--quiet", "--db", url,
            cwd=folder, env={**os.environ, "PYTHONPATH": str(Path.cwd())},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT))
    outputs = [await run.communicate() for run in runs]
    for run, (output, _) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output.decode()
    repo = await open_repository(url)
    try:
        messages = await repo.rows("SELECT count(*) FROM messages")
        assert messages[0][0] == 1200
        drift = await repo.rows(
            """SELECT d.day, d.member_id FROM daily_activity d
               LEFT JOIN (SELECT day, author_id, count(*) AS n,
                                 count(*) FILTER (WHERE reply_to_author_id IS NOT NULL
                                                  AND reply_to_author_id <> author_id) AS r
                          FROM messages WHERE author_is_bot = 0 GROUP BY 1, 2) m
                 ON m.day = d.day AND m.author_id = d.member_id
               WHERE d.messages <> COALESCE(m.n, 0) OR d.replies <> COALESCE(m.r, 0)""")
        assert drift == []
        given = await repo.rows(
            """SELECT d.day, d.member_id FROM daily_activity d
               LEFT JOIN (SELECT day, reactor_id, count(*) AS n FROM reactions
                          WHERE active = 1 GROUP BY 1, 2) r
                 ON r.day = d.day AND r.reactor_id = d.member_id
               WHERE d.reactions_given <> COALESCE(r.n, 0)""")
        assert given == []
        totals = await repo.rows(
            """SELECT t.member_id FROM point_totals t
               JOIN (SELECT member_id, season, sum(delta) AS p FROM ledger GROUP BY 1, 2) l
                 USING (member_id, season) WHERE t.points <> l.p""")
        assert totals == []
        assert await repo.recompute_totals() == 0
        points = await repo.rows("SELECT sum(points) FROM point_totals")
        assert points[0][0] > 0
    finally:
        await repo.close()
