"""What the store counts as contribution, and keeping the planner's statistics fresh.

A message's farming verdict may reach the store in the same batch as the message (before
it, by statement order) or in a later one; either way the weekly table ends the same.
"""

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

import storage.lifecycle
from storage import open_repository
from storage.store import Repository
from tests.conftest import COMMUNITY, GENERAL

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # W45


def message(repo: Repository, member: str, number: int, at: datetime) -> str:
    message_id = f"console:m{number}"
    repo.record_message(COMMUNITY, message_id, channel=GENERAL, thread=None,
                        author=f"console:{member}", author_is_bot=False, reply_to=None,
                        reply_to_author=None, at=at, day=at.date().isoformat(), length=20,
                        has_media=False, text=None)
    return message_id


def farmed(repo: Repository, member: str, message_id: str, at: datetime) -> None:
    repo.record_farmed(COMMUNITY, message_id, f"console:{member}", "too short", at,
                       at.date().isoformat())


def weeks(path: str) -> dict[str, list[tuple[str, int]]]:
    with sqlite3.connect(path) as conn:
        found: dict[str, list[tuple[str, int]]] = {}
        for member, week, returning in conn.execute(
                "SELECT member_id, week, also_last_week FROM member_weeks ORDER BY 1, 2"):
            found.setdefault(member.split(":")[1], []).append((week, returning))
        return found


async def test_a_farmed_message_is_no_contribution_in_either_order(tmp_path: Path) -> None:
    repo = await open_repository(f"sqlite:///{tmp_path / 'store.db'}")
    repo.record_community(COMMUNITY, "console", "Tribe", MONDAY)
    # ann: W45 and W47 count; her only W46 message is judged farmed a batch later
    message(repo, "ann", 1, MONDAY)
    later = message(repo, "ann", 2, MONDAY + timedelta(weeks=1))
    message(repo, "ann", 3, MONDAY + timedelta(weeks=2))
    await repo.flush()
    assert weeks(repo.path)["ann"] == [("2026-11-02", 0), ("2026-11-09", 1),
                                       ("2026-11-16", 1)]
    farmed(repo, "ann", later, MONDAY + timedelta(weeks=1))
    # ben: the verdict comes in the same batch as the message
    farmed(repo, "ben", message(repo, "ben", 4, MONDAY), MONDAY)
    # cy: two days of one week, one of them farmed: the week still counts
    message(repo, "cy", 5, MONDAY)
    farmed(repo, "cy", message(repo, "cy", 6, MONDAY + timedelta(days=2)),
           MONDAY + timedelta(days=2))
    await repo.flush()
    found = weeks(repo.path)
    assert found["ann"] == [("2026-11-02", 0), ("2026-11-16", 0)]  # W46 gone, W47 no return
    assert "ben" not in found
    assert found["cy"] == [("2026-11-02", 0)]
    with sqlite3.connect(repo.path) as conn:
        assert conn.execute(
            "SELECT messages, farmed FROM daily_activity WHERE member_id = 'console:ben'"
        ).fetchall() == [(1, 1)]
    # the verdict delivered twice (a restart) is one fact
    farmed(repo, "ben", "console:m4", MONDAY)
    await repo.flush()
    with sqlite3.connect(repo.path) as conn:
        assert conn.execute("SELECT sum(farmed) FROM daily_activity").fetchone() == (3,)
    await repo.close()


async def test_the_store_refreshes_the_planners_statistics(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At open (after migrations), after many rows and before closing, as
    https://sqlite.org/lang_analyze.html recommends; the real connection is watched."""
    statements: list[str] = []
    connect = aiosqlite.connect

    async def watched(*args: object, **kwargs: object) -> aiosqlite.Connection:
        conn = await connect(*args, **kwargs)
        await conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(aiosqlite, "connect", watched)
    monkeypatch.setattr(storage.lifecycle, "OPTIMIZE_EVERY", 50)
    repo = await open_repository(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert statements.count("PRAGMA optimize=0x10002") == 1
        assert "PRAGMA analysis_limit=400" in statements  # an ANALYZE it runs stays quick
        repo.record_community(COMMUNITY, "console", "Tribe", MONDAY)
        for number in range(60):
            message(repo, "ann", number, MONDAY + timedelta(minutes=number))
        await repo.flush()
        message(repo, "ann", 60, MONDAY + timedelta(hours=2))
        await repo.flush()  # written after the writer's pause between batches
        assert statements.count("PRAGMA optimize") == 1  # after the big write
    finally:
        await repo.close()
    assert statements.count("PRAGMA optimize") == 2  # and before closing
