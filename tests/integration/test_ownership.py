"""A process's start-up touches only the communities it owns: another process on the same
store may be sending one of its own posts at that very moment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage.content import ContentStore
from storage.store import open_repository
from storage.summary import SummaryStore
from tests.conftest import START

OURS, THEIRS = "discord:ours", "discord:theirs"


async def test_only_our_interrupted_slots_are_marked_skipped(tmp_path: Path) -> None:
    repo = await open_repository(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        store = ContentStore(repo)
        for n, community in enumerate((OURS, THEIRS)):
            assert await store.claim_slot(
                job=f"item:{n + 1}", slot=START, community=community, item=n + 1,
                topic="tips", channel=f"{community}-general", claim=f"claim-{n}",
                at=START)
        skipped = await store.skip_interrupted(START + timedelta(minutes=1),
                                               lambda community: community == OURS)
        assert skipped == [("item:1", START)]
        rows = await repo.rows("SELECT job, status, reason FROM content_slots ORDER BY job")
        assert [tuple(r) for r in rows] == [("item:1", "skipped", "interrupted"),
                                            ("item:2", "claimed", "")]
    finally:
        await repo.close()


async def test_only_our_unposted_summary_claims_are_given_up_at_start(tmp_path: Path) -> None:
    """A claim never marked posted belonged to this process's previous run (it died before
    or while sending), so the week may be posted again; another process's claim stays."""
    repo = await open_repository(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        claims = SummaryStore(repo)
        for community in (OURS, THEIRS):
            for week in ("2026-W44", "2026-W45"):
                assert await claims.claim_week(community, week, claim=f"{community}{week}",
                                               by="a process", at=START)
        claims.mark_posted(OURS, "2026-W44", claim=f"{OURS}2026-W44", at=START)
        released = await claims.release_interrupted(lambda community: community == OURS)
        assert released == [(OURS, "2026-W45")]
        rows = await repo.rows("SELECT community_id, week FROM summary_claims "
                               "ORDER BY community_id, week")
        assert [tuple(r) for r in rows] == [(OURS, "2026-W44"), (THEIRS, "2026-W44"),
                                            (THEIRS, "2026-W45")]
        assert await claims.claim_week(OURS, "2026-W45", claim="again", by="a process",
                                       at=START), "the given-up week can be claimed again"
    finally:
        await repo.close()
