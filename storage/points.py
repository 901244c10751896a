"""Points: the append-only ledger, seasons, level announcements and what is read back
from them (totals and ranks, the history of one member, a reaction's earlier points).

``point_totals`` is kept from the ledger by a trigger; ``AdminStore.recompute_totals``
rebuilds it if it ever drifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.book import BOOK
from storage.feature import FeatureStore, epoch, from_epoch

_sql = BOOK.section("points")
INSERT_LEDGER = _sql.add("insert_ledger", """
    INSERT OR IGNORE INTO ledger (community_id, member_id, season, delta, reason, ref, at, day,
        actor_id, note)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
SET_SEASON = _sql.add("set_season", "UPDATE communities SET season = ? WHERE id = ?")
UPSERT_ANNOUNCED = _sql.add("upsert_announced_level", """
    INSERT INTO level_announcements (community_id, season, member_id, level) VALUES (?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET level = max(level, excluded.level)""")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    member: str
    delta: int
    reason: str
    ref: str
    at: datetime
    season: int
    actor: str | None
    note: str


@dataclass(frozen=True, slots=True)
class RecentLedgerRow:
    member: str
    reason: str
    ref: str
    delta: int
    at: datetime
    day: str


@dataclass(slots=True)
class MessageFacts:
    """What a reaction needs of the message it reacts to, as the store has it."""

    author: str
    channel: str | None
    reply_to_author: str | None
    author_is_bot: bool
    #: (reactor, emoji) of every reaction recorded -> the points it still holds
    reactions: dict[tuple[str, str], int]
    #: reaction points the message earned in all (what the per-message cap counts)
    reaction_points: int
    #: the helpful-answer bonus was settled (given, or spent at the daily cap)
    helped: bool


@dataclass(frozen=True, slots=True)
class MemberStanding:
    """A member's points state as the store has it (for a member memory let go of)."""

    total: int
    announced: int
    last_award: datetime | None
    earned_on_day: int


@dataclass(frozen=True, slots=True)
class Standing:
    member: str
    name: str
    points: int
    rank: int


class PointsStore(FeatureStore):
    """The ledger and everything counted from it."""

    def add_ledger(
        self, community: str, member: str, *, season: int, delta: int, reason: str, ref: str,
        at: datetime, day: str, actor: str | None = None, note: str = "",
    ) -> None:
        """Append a points change; the same (member, reason, ref) is only ever counted once."""
        self.db.submit(INSERT_LEDGER, (
            community, member, season, delta, reason, ref, epoch(at), day, actor, note,
        ))

    def set_announced_level(self, community: str, season: int, member: str, level: int) -> None:
        self.db.submit(UPSERT_ANNOUNCED, (community, season, member, level))

    def set_season(self, community: str, season: int) -> None:
        self.db.submit(SET_SEASON, (season, community))

    async def season_of(self, community: str) -> int:
        rows = await self.db.rows("SELECT season FROM communities WHERE id = ?", (community,))
        return int(rows[0][0]) if rows else 1

    async def point_totals(self, community: str, season: int) -> dict[str, int]:
        rows = await self.db.rows(
            "SELECT member_id, points FROM point_totals WHERE community_id = ? AND season = ?",
            (community, season),
        )
        return {r[0]: int(r[1]) for r in rows}

    async def standing(self, community: str, season: int, member: str) -> Standing | None:
        rows = await self.db.rows(
            """SELECT t.member_id, COALESCE(m.name, ''), t.points,
                      (SELECT count(*) FROM point_totals o WHERE o.community_id = t.community_id
                         AND o.season = t.season AND o.points > t.points) + 1
               FROM point_totals t LEFT JOIN members m
                 ON m.community_id = t.community_id AND m.member_id = t.member_id
               WHERE t.community_id = ? AND t.season = ? AND t.member_id = ?""",
            (community, season, member),
        )
        return Standing(rows[0][0], rows[0][1], int(rows[0][2]), int(rows[0][3])) if rows else None

    async def leaderboard(
        self, community: str, season: int, *, since_day: str | None = None,
        limit: int = 10, offset: int = 0,
    ) -> list[Standing]:
        """Members by points: the season's totals, or points earned since a local day."""
        if since_day is None:
            rows = await self.db.rows(
                """SELECT t.member_id, COALESCE(m.name, ''), t.points FROM point_totals t
                   LEFT JOIN members m ON m.community_id = t.community_id
                                      AND m.member_id = t.member_id
                   WHERE t.community_id = ? AND t.season = ? AND t.points > 0
                   ORDER BY t.points DESC, t.member_id LIMIT ? OFFSET ?""",
                (community, season, limit, offset),
            )
        else:
            rows = await self.db.rows(
                """SELECT d.member_id, COALESCE(m.name, ''), sum(d.points) AS p
                   FROM daily_activity d LEFT JOIN members m
                     ON m.community_id = d.community_id AND m.member_id = d.member_id
                   WHERE d.community_id = ? AND d.day >= ?
                   GROUP BY d.member_id HAVING p > 0
                   ORDER BY p DESC, d.member_id LIMIT ? OFFSET ?""",
                (community, since_day, limit, offset),
            )
        return [Standing(r[0], r[1], int(r[2]), offset + i + 1) for i, r in enumerate(rows)]

    async def ledger_history(self, community: str, member: str, limit: int = 10) -> list[LedgerRow]:
        rows = await self.db.rows(
            """SELECT member_id, delta, reason, ref, at, season, actor_id, note FROM ledger
               WHERE community_id = ? AND member_id = ? ORDER BY id DESC LIMIT ?""",
            (community, member, limit),
        )
        return [LedgerRow(r[0], r[1], r[2], r[3], from_epoch(r[4]), r[5], r[6], r[7]) for r in rows]

    async def ledger_amount(self, community: str, member: str, reason: str, ref: str) -> int:
        rows = await self.db.rows(
            """SELECT delta FROM ledger WHERE community_id = ? AND member_id = ?
               AND reason = ? AND ref = ?""", (community, member, reason, ref),
        )
        return int(rows[0][0]) if rows else 0

    async def ledger_has(self, community: str, member: str, reason: str, ref: str) -> bool:
        """Whether the ledger holds this change (of any amount, 0 included). Not waiting
        for queued writes: callers remember what they wrote themselves."""
        rows = await self.db.rows(
            """SELECT 1 FROM ledger WHERE community_id = ? AND member_id = ? AND reason = ?
               AND ref = ?""", (community, member, reason, ref), consistent=False)
        return bool(rows)

    async def announced_levels(self, community: str, season: int) -> dict[str, int]:
        rows = await self.db.rows(
            "SELECT member_id, level FROM level_announcements WHERE community_id = ? "
            "AND season = ?", (community, season))
        return {r[0]: int(r[1]) for r in rows}

    async def recent_ledger(self, community: str, since: datetime, *, page: int = 20_000
                            ) -> list[RecentLedgerRow]:
        """Ledger rows dated ``since`` or later, read newest first by row id and stopping at
        the first page with none that recent (rows are appended roughly in time order), so
        a long history is not read at start."""
        out: list[RecentLedgerRow] = []
        below = None
        cutoff = epoch(since)
        while True:
            rows = await self.db.rows(
                "SELECT id, member_id, reason, ref, delta, at, day FROM ledger "
                "WHERE community_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                (community, below if below is not None else 2 ** 62, page))
            recent = [r for r in rows if r[5] >= cutoff]
            out.extend(RecentLedgerRow(r[1], r[2], r[3], int(r[4]), from_epoch(r[5]), r[6])
                       for r in recent)
            if len(rows) < page or not recent:
                return out
            below = rows[-1][0]

    async def message_facts(self, community: str, message: str, author: str | None
                            ) -> MessageFacts | None:
        """What the store knows about a message and its reactions; ``author`` stands in
        when the message itself was never recorded (posted before the bot was there)."""
        rows = await self.db.rows(
            "SELECT author_id, channel_id, reply_to_author_id, author_is_bot FROM messages "
            "WHERE community_id = ? AND message_id = ?", (community, message),
            consistent=False)
        if rows:
            author, channel, parent, is_bot = rows[0][0], rows[0][1], rows[0][2], bool(rows[0][3])
        elif author is None:
            return None
        else:
            channel, parent, is_bot = None, None, False
        facts = MessageFacts(author, channel, parent, is_bot, {}, 0, False)
        for reactor, emoji in await self.db.rows(
                "SELECT reactor_id, emoji FROM reactions WHERE community_id = ? "
                "AND message_id = ?", (community, message), consistent=False):
            facts.reactions[(reactor, emoji)] = 0
        prefix = message + "|"
        for reason, ref, delta in await self.db.rows(
                """SELECT reason, ref, delta FROM ledger WHERE community_id = ? AND member_id = ?
                   AND ((reason IN ('reaction_received', 'reaction_removed')
                         AND ref >= ? AND ref < ?)
                        OR (reason = 'helpful_answer' AND ref = ?))""",
                (community, author, prefix, message + "}", message), consistent=False):
            if reason == "helpful_answer":
                facts.helped = True
                continue
            reactor, _, emoji = ref[len(prefix):].partition("|")
            key = (reactor, emoji)
            facts.reactions[key] = facts.reactions.get(key, 0) + int(delta)
            if reason == "reaction_received":
                facts.reaction_points += int(delta)
        return facts

    async def member_standing(self, community: str, season: int, member: str, day: str,
                              earning: Sequence[str]) -> MemberStanding:
        """Total, announced level, last message award and points earned on ``day`` (the
        reasons in ``earning``) of one member."""
        marks = ",".join("?" * len(earning))
        rows = await self.db.rows(
            f"""SELECT
                 (SELECT points FROM point_totals WHERE community_id = ?1 AND season = ?2
                    AND member_id = ?3),
                 (SELECT level FROM level_announcements WHERE community_id = ?1
                    AND season = ?2 AND member_id = ?3),
                 (SELECT max(at) FROM ledger WHERE community_id = ?1 AND member_id = ?3
                    AND reason = 'message' AND delta > 0),
                 (SELECT sum(delta) FROM ledger WHERE community_id = ?1 AND member_id = ?3
                    AND day = ?4 AND reason IN ({marks}))""",
            (community, season, member, day, *earning), consistent=False)
        total, announced, last, earned = rows[0]
        return MemberStanding(int(total or 0), int(announced or 0),
                              from_epoch(last) if last is not None else None, int(earned or 0))

    async def active_days(self, community: str, member: str, days: Sequence[str]) -> list[str]:
        """Which of ``days`` the member posted or reacted on, oldest first.

        Asked as one primary-key seek per day: the rollup is keyed by day first, which is
        what the weekly reports scan, so a per-member index is not worth its write cost.
        """
        if not days:
            return []
        marks = ",".join("?" * len(days))
        rows = await self.db.rows(
            f"""SELECT day FROM daily_activity WHERE community_id = ? AND day IN ({marks})
                AND member_id = ? AND (messages > 0 OR reactions_given > 0) ORDER BY day""",
            (community, *days, member),
        )
        return [r[0] for r in rows]
