"""SQL for the weekly summary: every figure is a query over stored facts and rollups.

Weeks are ISO weeks of local days ('YYYY-MM-DD' in the community's time zone), so the
queries compare day strings and never convert time zones; moments that are stored as
UTC seconds (joins and leaves) are compared with the week's UTC bounds the caller passes.
"Contributed" is the journey's word: posted a message that was not refused as farming
(``messages > farmed`` in the daily rollup, a row in ``member_weeks``).

Every query here is written to take the same plan with or without the planner's
statistics (a bot's database is rarely ANALYZEd): each reads one index range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from storage.book import BOOK
from storage.feature import FeatureStore, epoch

_sql = BOOK.section("summary")
#: Portable (SQLite and PostgreSQL): the first process to insert the week's row posts it.
CLAIM_WEEK = _sql.add("summary_claim_week", """
    INSERT INTO summary_claims (community_id, week, claim, claimed_by, claimed_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT DO NOTHING""")
RELEASE_WEEK = _sql.add("summary_release_week", """
    DELETE FROM summary_claims WHERE community_id = ? AND week = ? AND claim = ?""")
MARK_POSTED = _sql.add("summary_mark_posted", """
    UPDATE summary_claims SET posted_at = ? WHERE community_id = ? AND week = ? AND claim = ?""")


@dataclass(frozen=True, slots=True)
class Week:
    """A local ISO week: its days, and its bounds as UTC seconds."""

    first_day: str
    last_day: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Roster:
    """Who were members (not bots) at the end of a week, without listing everyone: how
    many had been seen by then, who of them first in that week, and the joins and leaves
    in order of those who ever left (everyone else stayed from when first seen)."""

    seen: int
    new: set[str]
    leavers: dict[str, list[tuple[int, str]]]

    def gone_at(self, member: str, moment: int) -> bool:
        """Their last join or leave before ``moment`` was a leave."""
        kind = "joined"
        for at, what in self.leavers.get(member, ()):
            if at >= moment:
                break
            kind = what
        return kind == "left"


class SummaryStore(FeatureStore):
    """The weekly summary's figures, each read from stored facts and rollups, and the
    claims that let exactly one process post each week's summary."""

    async def claim_week(self, community: str, week: str, *, claim: str, by: str,
                         at: datetime) -> bool:
        """Claim the summary of ``week`` and commit the claim; True when this claim won
        (no process, this one included, claimed that week before)."""
        self.db.submit(CLAIM_WEEK, (community, week, claim, by, epoch(at)))
        rows = await self.db.rows(
            "SELECT claim FROM summary_claims WHERE community_id = ? AND week = ?",
            (community, week))
        return bool(rows) and rows[0][0] == claim

    def release_week(self, community: str, week: str, *, claim: str) -> None:
        """Give a claim up (its send failed), so the next try may post the week."""
        self.db.submit(RELEASE_WEEK, (community, week, claim))

    def mark_posted(self, community: str, week: str, *, claim: str, at: datetime) -> None:
        self.db.submit(MARK_POSTED, (epoch(at), community, week, claim))

    async def release_interrupted(self, owns: Callable[[str], bool]
                                  ) -> list[tuple[str, str]]:
        """Give up the claims never marked posted of the communities ``owns`` accepts:
        their claimant (this process's previous run: a community lives in one process)
        stopped before or while sending, so the week may be posted again. Returns their
        (community, week)."""
        rows = [r for r in await self.db.rows(
            """SELECT community_id, week, claim FROM summary_claims
               WHERE posted_at IS NULL ORDER BY community_id, week""") if owns(r[0])]
        for community, week, claim in rows:
            self.db.submit(RELEASE_WEEK, (community, week, claim))
        if rows:
            await self.db.flush()
        return [(r[0], r[1]) for r in rows]

    async def _one(self, sql: str, params: tuple[object, ...]) -> int:
        rows = await self.db.rows(sql, params)
        return int(rows[0][0] or 0) if rows else 0

    async def has_table(self, name: str) -> bool:
        rows = await self.db.rows(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return bool(rows)

    async def names(self, community: str, members: set[str]) -> dict[str, str]:
        if not members:
            return {}
        wanted = sorted(members)
        marks = ",".join("?" * len(wanted))
        rows = await self.db.rows(
            f"SELECT member_id, name FROM members WHERE community_id = ? "
            f"AND member_id IN ({marks})", (community, *wanted))
        return {r[0]: r[1] for r in rows}

    async def joins_and_leaves(self, community: str, week: Week) -> tuple[int, int]:
        rows = await self.db.rows(
            """SELECT kind, count(DISTINCT member_id) FROM member_events
               WHERE community_id = ? AND day BETWEEN ? AND ? GROUP BY kind""",
            (community, week.first_day, week.last_day))
        counts = dict(rows)
        return int(counts.get("joined", 0)), int(counts.get("left", 0))

    async def joined_members(self, community: str, week: Week) -> set[str]:
        rows = await self.db.rows(
            """SELECT DISTINCT member_id FROM member_events WHERE community_id = ?
               AND kind = 'joined' AND day BETWEEN ? AND ?""",
            (community, week.first_day, week.last_day))
        return {r[0] for r in rows}

    async def weekly_active(self, community: str, week: Week) -> tuple[int, int]:
        """(members who posted in the week, of whom also the week before): two index counts
        on the weekly table the triggers keep, whatever the community's size."""
        rows = await self.db.rows(
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
                WHERE community_id = ? AND day BETWEEN ? AND ? AND messages > farmed
                AND member_id IN ({marks})""",
            (community, week.first_day, week.last_day, *wanted))

    async def lurkers(self, community: str, week: Week) -> int:
        """Members who reacted in the week but contributed no message."""
        return await self._one(
            """SELECT count(*) FROM (SELECT member_id FROM daily_activity
               WHERE community_id = ? AND day BETWEEN ? AND ? GROUP BY member_id
               HAVING sum(messages) <= sum(farmed) AND sum(reactions_given) > 0)""",
            (community, week.first_day, week.last_day))

    async def top_contributors(self, community: str, week: Week, limit: int
                               ) -> list[tuple[str, int, int]]:
        """(member, points, messages counted as contribution) with the most points."""
        rows = await self.db.rows(
            """SELECT member_id, sum(points) AS p, sum(messages - farmed) AS m
               FROM daily_activity
               WHERE community_id = ? AND day BETWEEN ? AND ? GROUP BY member_id
               HAVING p > 0 ORDER BY p DESC, m DESC, member_id LIMIT ?""",
            (community, week.first_day, week.last_day, limit))
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    async def rising(self, community: str, week: Week, before_first: str, limit: int
                     ) -> list[tuple[str, int, float]]:
        """(member, points this week, weekly average of the 4 weeks before), largest rise
        first; computed in one scan so a large community does not ship every member."""
        rows = await self.db.rows(
            """SELECT member_id,
                      sum(CASE WHEN day >= ?2 THEN points ELSE 0 END) AS now,
                      sum(CASE WHEN day < ?2 THEN points ELSE 0 END) / 4.0 AS average
               FROM daily_activity WHERE community_id = ?1 AND day BETWEEN ?3 AND ?4
               GROUP BY member_id HAVING now > average
               ORDER BY now - average DESC, member_id LIMIT ?5""",
            (community, week.first_day, before_first, week.last_day, limit))
        return [(r[0], int(r[1]), float(r[2])) for r in rows]

    async def roster(self, community: str, week: Week) -> Roster:
        """Members (not bots) seen by the end of ``week``: how many, who first in it, and
        the joins and leaves of those who ever left — who was present at each week's end."""
        [(seen, new)] = await self.db.rows(
            """SELECT count(*), group_concat(CASE WHEN first_seen_at >= ?3 THEN member_id END,
                                             char(10))
               FROM members WHERE community_id = ?1 AND is_bot = 0 AND first_seen_at < ?2""",
            (community, week.end, week.start))
        leavers: dict[str, list[tuple[int, str]]] = {}
        for member, at, kind in await self.db.rows(
            """SELECT member_id, at, kind FROM member_events
               WHERE community_id = ?1 AND at < ?2 AND member_id IN (
                   SELECT member_id FROM member_events
                   WHERE community_id = ?1 AND kind = 'left' AND at < ?2)
               ORDER BY member_id, at, kind""", (community, week.end)):
            leavers.setdefault(member, []).append((int(at), kind))
        return Roster(int(seen), set(new.split("\n")) if new else set(), leavers)

    async def contributed_weeks(self, community: str, *, recent: str, last: str
                                ) -> list[tuple[str, int, str | None, str, int | None]]:
        """Every member's contributed weeks up to the week of Monday ``last``, in one pass
        over ``member_weeks`` in member order (its index): (member, how many weeks before
        ``recent``, the Mondays from ``recent`` on joined by commas, the last Monday, when
        first seen — None for a bot)."""
        return await self.db.rows(
            """SELECT w.member_id, sum(w.week < :recent),
                      group_concat(w.week) FILTER (WHERE w.week >= :recent), max(w.week),
                      (SELECT m.first_seen_at FROM members m
                       WHERE m.community_id = :community AND m.member_id = w.member_id
                         AND m.is_bot = 0)
               FROM member_weeks AS w INDEXED BY member_weeks_by_member
               WHERE w.community_id = :community AND w.week <= :last
               GROUP BY w.member_id""",
            {"community": community, "recent": recent, "last": last})

    async def fans_before(self, community: str, moment: int) -> set[str]:
        """Members the journey had made a regular or champion before ``moment`` (its
        stored moves): how "drifting" knows a regular of long ago."""
        rows = await self.db.rows(
            """SELECT DISTINCT member_id FROM stage_history INDEXED BY stage_history_fans
               WHERE community_id = ? AND new_stage IN ('regular', 'champion') AND at < ?""",
            (community, moment))
        return {r[0] for r in rows}

    async def journey_signals(self, community: str, first_day: str, last_day: str
                              ) -> list[tuple[str, str, str]]:
        """(member, reason, day) of the ledger rows that make a champion: helpful answers
        and greetings from ``first_day``, referrals ever, all up to ``last_day``."""
        rows = await self.db.rows(
            """SELECT DISTINCT member_id, reason, day FROM ledger
               WHERE community_id = ?1
                 AND reason IN ('helpful_answer', 'welcomed_newcomer', 'referral')
                 AND (reason = 'referral' AND day <= ?3
                      OR reason IN ('helpful_answer', 'welcomed_newcomer')
                         AND day BETWEEN ?2 AND ?3)""",
            (community, first_day, last_day))
        return [(r[0], r[1], r[2]) for r in rows]

    async def last_active_days(self, community: str, last_weeks: dict[str, str]
                               ) -> dict[str, str]:
        """The last local day each member contributed, given the Monday of their last
        week contributed: key lookups in the day-first rollup, one query per such week
        (members who went quiet the same week share its seven days)."""
        by_week: dict[str, list[str]] = {}
        for member, week in sorted(last_weeks.items()):
            by_week.setdefault(week, []).append(member)
        found: dict[str, str] = {}
        for week, members in by_week.items():
            monday = date.fromisoformat(week)
            days = [(monday + timedelta(days=n)).isoformat() for n in range(7)]
            for start in range(0, len(members), 900):  # SQLite's variable limit
                chunk = members[start:start + 900]
                rows = await self.db.rows(
                    f"""SELECT member_id, max(day) FROM daily_activity
                        WHERE community_id = ? AND day IN ({",".join("?" * 7)})
                          AND member_id IN ({",".join("?" * len(chunk))})
                          AND messages > farmed
                        GROUP BY member_id""", (community, *days, *chunk))
                found.update((r[0], r[1]) for r in rows)
        return found

    async def first_responses(self, community: str, week: Week
                              ) -> tuple[int, int, float | None]:
        """Newcomers' first messages of the week: (count, never answered, median minutes)."""
        rows = await self.db.rows(
            """SELECT answered_at - at FROM first_messages
               WHERE community_id = ? AND day BETWEEN ? AND ?""",
            (community, week.first_day, week.last_day))
        waits = [r[0] for r in rows if r[0] is not None]
        never = sum(1 for r in rows if r[0] is None)
        return len(rows), never, (median(waits) / 60 if waits else None)
