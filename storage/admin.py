"""Maintenance for ``tribebot db``: row counts, the schema version, rebuilding totals."""

from __future__ import annotations

from storage.database import schema_version
from storage.feature import FeatureStore


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
        return await schema_version(self.db.read_connection())

    async def recompute_totals(self) -> int:
        """Rebuild point totals from the ledger; returns how many totals were wrong."""
        conn = await self.db.flushed_write_connection()
        drift_sql = """
            SELECT count(*) FROM (
              SELECT community_id, season, member_id, sum(delta) AS p FROM ledger
              GROUP BY community_id, season, member_id) l
            FULL OUTER JOIN point_totals t USING (community_id, season, member_id)
            WHERE COALESCE(l.p, 0) != COALESCE(t.points, 0)"""
        async with conn.execute(drift_sql) as cur:
            row = await cur.fetchone()
        drift = int(row[0]) if row else 0
        await conn.executescript("""
            BEGIN;
            DELETE FROM point_totals;
            INSERT INTO point_totals (community_id, season, member_id, points)
              SELECT community_id, season, member_id, sum(delta) FROM ledger
              GROUP BY community_id, season, member_id;
            COMMIT;""")
        return drift
