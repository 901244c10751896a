"""SQL for the weekly summary: every figure is a query over stored facts and rollups.

Weeks are ISO weeks of local days ('YYYY-MM-DD' in the community's time zone), so the
queries compare day strings and never convert time zones; moments that are stored as
UTC seconds (member stages) are compared with the week's UTC bounds the caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from storage.repository import Repository

STAGE_NAMES = ("visitor", "audience", "participant", "regular", "champion")


@dataclass(frozen=True, slots=True)
class Week:
    """A local ISO week: its days, and its bounds as UTC seconds."""

    first_day: str
    last_day: str
    start: int
    end: int


class SummaryStore:
    def __init__(self, repository: Repository) -> None:
        self.repo = repository

    async def _one(self, sql: str, params: tuple[object, ...]) -> int:
        rows = await self.repo.rows(sql, params)
        return int(rows[0][0] or 0) if rows else 0

    async def has_table(self, name: str) -> bool:
        rows = await self.repo.rows(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return bool(rows)

    async def names(self, community: str, members: set[str]) -> dict[str, str]:
        if not members:
            return {}
        wanted = sorted(members)
        marks = ",".join("?" * len(wanted))
        rows = await self.repo.rows(
            f"SELECT member_id, name FROM members WHERE community_id = ? "
            f"AND member_id IN ({marks})", (community, *wanted))
        return {r[0]: r[1] for r in rows}

    async def present_members(self, community: str, end: int) -> set[str]:
        """Members (not bots) present at ``end``: seen before it, and not gone at it."""
        rows = await self.repo.rows(
            """SELECT m.member_id FROM members m
               WHERE m.community_id = ?1 AND m.is_bot = 0 AND m.first_seen_at < ?2
                 AND COALESCE((SELECT e.kind FROM member_events e
                               WHERE e.community_id = m.community_id
                                 AND e.member_id = m.member_id AND e.at < ?2
                               ORDER BY e.at DESC LIMIT 1), 'joined') = 'joined'""",
            (community, end))
        return {r[0] for r in rows}

    async def joins_and_leaves(self, community: str, week: Week) -> tuple[int, int]:
        rows = await self.repo.rows(
            """SELECT kind, count(DISTINCT member_id) FROM member_events
               WHERE community_id = ? AND day BETWEEN ? AND ? GROUP BY kind""",
            (community, week.first_day, week.last_day))
        counts = dict(rows)
        return int(counts.get("joined", 0)), int(counts.get("left", 0))

    async def joined_members(self, community: str, week: Week) -> set[str]:
        rows = await self.repo.rows(
            """SELECT DISTINCT member_id FROM member_events WHERE community_id = ?
               AND kind = 'joined' AND day BETWEEN ? AND ?""",
            (community, week.first_day, week.last_day))
        return {r[0] for r in rows}

    async def weekly_active(self, community: str, week: Week) -> tuple[int, int]:
        """(members who posted in the week, of whom also the week before): two index counts
        on the weekly table the triggers keep, whatever the community's size."""
        rows = await self.repo.rows(
            """SELECT count(*), COALESCE(sum(also_last_week), 0) FROM member_weeks
               WHERE community_id = ? AND week = ?""", (community, week.first_day))
        return int(rows[0][0]), int(rows[0][1])

    async def active_among(self, community: str, week: Week, members: set[str]) -> int:
        """How many of ``members`` (a small set) posted in the week."""
        if not members:
            return 0
        wanted = sorted(members)
        marks = ",".join("?" * len(wanted))
        return await self._one(
            f"""SELECT count(DISTINCT member_id) FROM daily_activity
                WHERE community_id = ? AND day BETWEEN ? AND ? AND messages > 0
                AND member_id IN ({marks})""",
            (community, week.first_day, week.last_day, *wanted))

    async def lurkers(self, community: str, week: Week) -> int:
        """Members who reacted in the week but posted nothing."""
        return await self._one(
            """SELECT count(*) FROM (SELECT member_id FROM daily_activity
               WHERE community_id = ? AND day BETWEEN ? AND ?
               GROUP BY member_id HAVING sum(messages) = 0 AND sum(reactions_given) > 0)""",
            (community, week.first_day, week.last_day))

    async def top_contributors(self, community: str, week: Week, limit: int
                               ) -> list[tuple[str, int, int]]:
        """(member, points, messages) with the most points in the week."""
        rows = await self.repo.rows(
            """SELECT member_id, sum(points) AS p, sum(messages) AS m FROM daily_activity
               WHERE community_id = ? AND day BETWEEN ? AND ? GROUP BY member_id
               HAVING p > 0 ORDER BY p DESC, m DESC, member_id LIMIT ?""",
            (community, week.first_day, week.last_day, limit))
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    async def rising(self, community: str, week: Week, before_first: str, limit: int
                     ) -> list[tuple[str, int, float]]:
        """(member, points this week, weekly average of the 4 weeks before), largest rise
        first; computed in one scan so a large community does not ship every member."""
        rows = await self.repo.rows(
            """SELECT member_id,
                      sum(CASE WHEN day >= ?2 THEN points ELSE 0 END) AS now,
                      sum(CASE WHEN day < ?2 THEN points ELSE 0 END) / 4.0 AS average
               FROM daily_activity WHERE community_id = ?1 AND day BETWEEN ?3 AND ?4
               GROUP BY member_id HAVING now > average
               ORDER BY now - average DESC, member_id LIMIT ?5""",
            (community, week.first_day, before_first, week.last_day, limit))
        return [(r[0], int(r[1]), float(r[2])) for r in rows]

    async def stages_over_time(self, community: str, ends: list[int]
                               ) -> tuple[dict[str, str], list[int]]:
        """One pass over the journey moves: every member's stage at the last of ``ends``,
        and the number of true fans (regulars + champions) at each of ``ends``."""
        rows = await self.repo.rows(
            """SELECT member_id, new_stage, at FROM stage_history
               WHERE community_id = ? AND at < ? ORDER BY at, rowid""",
            (community, max(ends)))
        stages: dict[str, str] = {}
        fans, counts = 0, []
        marks = sorted(ends)
        index = 0
        for member, stage, at in rows:
            while index < len(marks) and at >= marks[index]:
                counts.append(fans)
                index += 1
            was = stages.get(member) in ("regular", "champion")
            now = stage in ("regular", "champion")
            fans += now - was
            stages[member] = stage
        counts.extend([fans] * (len(marks) - index))
        return stages, counts

    async def moves(self, community: str, week: Week) -> list[tuple[str, str, int]]:
        """(from, to, how many members) for the week's stage moves, net per member."""
        rows = await self.repo.rows(
            """SELECT member_id, old_stage, new_stage FROM stage_history
               WHERE community_id = ? AND day BETWEEN ? AND ? ORDER BY at, rowid""",
            (community, week.first_day, week.last_day))
        first_old: dict[str, str | None] = {}
        last_new: dict[str, str] = {}
        for member, old, new in rows:
            first_old.setdefault(member, old)
            last_new[member] = new
        counts: dict[tuple[str, str], int] = {}
        for member, new in last_new.items():
            old = first_old[member] or "new"
            if old != new:
                counts[(old, new)] = counts.get((old, new), 0) + 1
        return sorted(((o, n, c) for (o, n), c in counts.items()), key=lambda m: (-m[2], m))

    async def drifting(self, community: str) -> list[tuple[str, str | None]]:
        """Drifting members and the last local day they posted."""
        rows = await self.repo.rows(
            """SELECT s.member_id, (SELECT max(day) FROM daily_activity d
                 WHERE d.community_id = s.community_id AND d.member_id = s.member_id
                   AND d.messages > 0)
               FROM member_stages s WHERE s.community_id = ? AND s.drifting = 1
               ORDER BY 2 DESC""", (community,))
        return [(r[0], r[1]) for r in rows]

    async def first_responses(self, community: str, week: Week
                              ) -> tuple[int, int, float | None]:
        """Newcomers' first messages of the week: (count, never answered, median minutes)."""
        rows = await self.repo.rows(
            """SELECT answered_at - at FROM first_messages
               WHERE community_id = ? AND day BETWEEN ? AND ?""",
            (community, week.first_day, week.last_day))
        waits = [r[0] for r in rows if r[0] is not None]
        never = sum(1 for r in rows if r[0] is None)
        return len(rows), never, (median(waits) / 60 if waits else None)
