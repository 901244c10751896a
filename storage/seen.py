"""Handled-event keys: what makes handling exactly once across re-deliveries and restarts.

A key is written in the same unit as the event's own rows (see ``bot.core.bus``); the
newest keys are read back at start, older ones are asked for in batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.book import BOOK
from storage.feature import FeatureStore, epoch, from_epoch

_sql = BOOK.section("seen")
PRUNE_SEEN = _sql.add("prune_seen", """
    DELETE FROM seen_events WHERE rowid <= (SELECT max(rowid) FROM seen_events) - ?""")
INSERT_SEEN = _sql.add("insert_seen", "INSERT OR IGNORE INTO seen_events (key, at) VALUES (?, ?)")
# What records a key now (INSERT_SEEN stays for rows an older version kept at a stop): a
# handled key (live = 1) and the key it undoes (live = 0), in one statement so that the
# batch keeps their order; REPLACE gives a key seen again a new rowid (the newest last).
SET_SEEN = _sql.add("set_seen", """
    INSERT OR REPLACE INTO seen_events (key, at, live) VALUES (?, ?, ?)""")


class SeenStore(FeatureStore):
    """Which events were handled already."""

    def prune_seen(self, keep: int) -> None:
        """Forget all but the newest ``keep`` handled-event keys (they only guard against
        re-deliveries, which come within minutes; without pruning the table grows forever)."""
        self.db.submit(PRUNE_SEEN, (keep,))

    def record_seen(self, key: str, at: datetime, *, undoes: str | None = None) -> None:
        """Remember a handled event's key (and that the key it undoes is free again)."""
        ts = epoch(at)
        self.db.submit(SET_SEEN, (key, ts, 1))
        if undoes is not None:
            self.db.submit(SET_SEEN, (undoes, ts, 0))

    async def recent_event_keys(
        self, limit: int
    ) -> tuple[list[tuple[str, datetime]], datetime | None]:
        """The newest ``limit`` handled-event keys with their times, oldest first, and the
        latest time among the keys left out (None when none are): an event at or before
        it may be a re-delivery that only the store recognises. Times are rounded up to
        the next second (the store keeps whole seconds), which errs on the side of asking."""
        rows = await self.db.rows(
            "SELECT rowid, key, at, live FROM seen_events ORDER BY rowid DESC LIMIT ?", (limit,)
        )
        horizon = None
        if len(rows) == limit:
            older = await self.db.rows(
                "SELECT max(at) FROM seen_events WHERE rowid < ?", (rows[-1][0],))
            if older and older[0][0] is not None:
                # stored in whole seconds: the next second covers the fraction cut off
                horizon = from_epoch(int(older[0][0]) + 1)
        return [(r[1], from_epoch(r[2] + 1)) for r in reversed(rows) if r[3]], horizon

    async def seen_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` were handled already (one question for a whole batch)."""
        if not keys:
            return set()
        marks = ",".join("?" * len(keys))
        rows = await self.db.rows(
            f"SELECT key FROM seen_events WHERE key IN ({marks}) AND live = 1", list(keys),
            consistent=False)
        return {r[0] for r in rows}

    async def latest_event_time(self) -> datetime | None:
        """When the newest handled event happened (where a replay's clock resumes)."""
        rows = await self.db.rows("SELECT max(at) FROM seen_events")
        return from_epoch(int(rows[0][0])) if rows and rows[0][0] is not None else None
