"""A process's start-up touches only the communities it owns: another process on the same
store may be sending one of its own posts at that very moment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage.content import ContentStore
from storage.store import open_repository
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
