"""Maintenance for ``tribebot db``: row counts, the schema version, rebuilding totals."""

from __future__ import annotations

from storage.feature import FeatureStore

_DRIFT = """
    SELECT count(*) FROM (
      SELECT community_id, season, member_id, sum(delta) AS p FROM ledger
      GROUP BY community_id, season, member_id) l
    FULL OUTER JOIN point_totals t USING (community_id, season, member_id)
    WHERE COALESCE(l.p, 0) != COALESCE(t.points, 0)"""
_REBUILD = ("DELETE FROM point_totals",
            """INSERT INTO point_totals (community_id, season, member_id, points)
               SELECT community_id, season, member_id, sum(delta) FROM ledger
               GROUP BY community_id, season, member_id""")


class AdminStore(FeatureStore):
    """What an operator asks of the store as a whole."""

    async def counts(self) -> dict[str, int]:
        """Row counts per table, for ``tribebot db stats``."""
        tables = ["communities", "members", "member_events", "messages", "reactions",
                  "ledger", "point_totals", "daily_activity", "seen_events"]
        out = {}
        for table in tables:
            rows = await self.db.rows(f"SELECT count(*) FROM {table}")
            out[table] = int(rows[0][0])
        return out

    async def schema_version(self) -> int:
        return await self.db.schema_version()

    async def recompute_totals(self) -> int:
        """Rebuild point totals from the ledger; returns how many totals were wrong."""
        rows = await self.db.rows(_DRIFT)
        drift = int(rows[0][0]) if rows else 0
        await self.db.run_script(_REBUILD)
        return drift
