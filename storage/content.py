"""All SQL of the content calendar: write statements on the shared writer, and reads.

Items, queues, subscriptions and DM preferences are written as whole-row upserts, so two
changes to one row in the same batch keep their order. Slots are claimed with a token
and read back after a flush: the claim is committed before anything is sent, and only
the claimant sends.

The reads at the end (``item_engagement``, ``topic_engagement``, ``skipped_slots``) are
what the weekly summary calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.book import BOOK
from storage.feature import FeatureStore, epoch, from_epoch

_sql = BOOK.section("content")
UPSERT_ITEM = _sql.add("content_upsert_item", """
    INSERT INTO content_items (id, community_id, topic, body, file, channel_id, direct, stage,
        schedule, since, state, note, created_by, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        topic = excluded.topic, body = excluded.body, file = excluded.file,
        channel_id = excluded.channel_id, direct = excluded.direct, stage = excluded.stage,
        schedule = excluded.schedule, since = excluded.since, state = excluded.state,
        note = excluded.note, updated_at = excluded.updated_at""")
UPSERT_QUEUE = _sql.add("content_upsert_queue", """
    INSERT INTO content_queues (id, community_id, topic, schedule, channel_id, since, state,
        note, created_by, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        schedule = excluded.schedule, channel_id = excluded.channel_id,
        since = excluded.since, state = excluded.state, note = excluded.note,
        updated_at = excluded.updated_at""")
CLAIM_SLOT = _sql.add("content_claim_slot", """
    INSERT OR IGNORE INTO content_slots (job, slot, community_id, item_id, topic, status,
        reason, claim, channel_id, recorded_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
FINISH_SLOT = _sql.add("content_finish_slot", """
    UPDATE content_slots SET status = ?, reason = ?, message_id = ?, direct_sent = ?,
        updated_at = ?
    WHERE job = ? AND slot = ? AND claim = ?""")
#: At start, a slot still 'claimed' was being sent when the bot stopped (a crash: a clean
#: stop settles it). Whether the platform got it is unknown; it is never sent again.
SKIP_INTERRUPTED = _sql.add("content_skip_interrupted", """
    UPDATE content_slots SET status = 'skipped', reason = 'interrupted', updated_at = ?
    WHERE job = ? AND slot = ? AND status = 'claimed'""")
UPSERT_SUBSCRIPTION = _sql.add("content_upsert_subscription", """
    INSERT INTO content_subscriptions (community_id, member_id, topic, active, changed_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at""")
UPSERT_DM_PREFERENCE = _sql.add("content_upsert_dm_preference", """
    INSERT INTO content_dm_preferences (community_id, member_id, stopped, changed_at)
    VALUES (?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET stopped = excluded.stopped, changed_at = excluded.changed_at""")


@dataclass(slots=True)
class ItemRow:
    id: int
    community: str
    topic: str
    body: str
    file: str | None
    channel: str
    direct: bool
    stage: str | None
    schedule: str
    since: datetime
    state: str
    note: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def job(self) -> str:
        return f"item:{self.id}"


@dataclass(slots=True)
class QueueRow:
    id: int
    community: str
    topic: str
    schedule: str
    channel: str
    since: datetime
    state: str
    note: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def job(self) -> str:
        return f"queue:{self.id}"


@dataclass(frozen=True, slots=True)
class SlotRow:
    job: str
    slot: datetime
    item: int | None
    topic: str
    status: str
    reason: str
    message: str | None
    direct_sent: int


@dataclass(frozen=True, slots=True)
class Engagement:
    """Value of content posted in a period: ``key`` is an item id or a topic."""

    key: int | str
    topic: str
    posts: int
    replies: int
    reactions: int


@dataclass(frozen=True, slots=True)
class SkippedSlot:
    job: str
    item: int | None
    topic: str
    slot: datetime
    reason: str  # missed (beyond the grace time), coalesced, empty (queue had no items)


_ITEM_COLUMNS = """id, community_id, topic, body, file, channel_id, direct, stage, schedule,
    since, state, note, created_by, created_at, updated_at"""
_QUEUE_COLUMNS = """id, community_id, topic, schedule, channel_id, since, state, note,
    created_by, created_at, updated_at"""

# Replies are counted through their own index: without the planner's statistics (a bot's
# database is rarely ANALYZEd) SQLite would rather scan the community's every message.
_ENGAGEMENT = """
    SELECT {key}, s.topic, count(*),
        COALESCE(sum((SELECT count(*) FROM messages m INDEXED BY messages_by_reply_to
             WHERE m.community_id = s.community_id AND m.reply_to_id = s.message_id
               AND m.author_is_bot = 0 AND m.deleted_at IS NULL)), 0),
        COALESCE(sum((SELECT count(*) FROM reactions r
             WHERE r.community_id = s.community_id AND r.message_id = s.message_id
               AND r.active = 1 AND r.reactor_is_bot = 0)), 0)
    FROM content_slots s
    WHERE s.community_id = ? AND s.status = 'sent' AND s.message_id IS NOT NULL
      AND s.slot >= ? AND s.slot < ?
    GROUP BY {key} ORDER BY {key}"""


class ContentStore(FeatureStore):
    """Items, queues, their slots, and members' subscriptions."""

    def save_item(self, item: ItemRow) -> None:
        self.db.submit(UPSERT_ITEM, (
            item.id, item.community, item.topic, item.body, item.file, item.channel,
            int(item.direct), item.stage, item.schedule, epoch(item.since), item.state, item.note,
            item.created_by, epoch(item.created_at), epoch(item.updated_at),
        ))

    def save_queue(self, queue: QueueRow) -> None:
        self.db.submit(UPSERT_QUEUE, (
            queue.id, queue.community, queue.topic, queue.schedule, queue.channel,
            epoch(queue.since), queue.state, queue.note, queue.created_by,
            epoch(queue.created_at), epoch(queue.updated_at),
        ))

    async def claim_slot(
        self, *, job: str, slot: datetime, community: str, item: int | None, topic: str,
        channel: str | None, claim: str, at: datetime, status: str = "claimed",
        reason: str = "",
    ) -> bool:
        """Record a slot and commit it; True when this claim won (nobody recorded it before)."""
        self.db.submit(CLAIM_SLOT, (
            job, epoch(slot), community, item, topic, status, reason, claim, channel, epoch(at),
            epoch(at),
        ))
        rows = await self.db.rows(
            "SELECT claim FROM content_slots WHERE job = ? AND slot = ?", (job, epoch(slot)))
        return bool(rows) and rows[0][0] == claim

    def record_skipped(
        self, *, job: str, slot: datetime, community: str, item: int | None, topic: str,
        reason: str, at: datetime,
    ) -> None:
        """Record a slot that will not be posted (unless a row for it exists already)."""
        self.db.submit(CLAIM_SLOT, (
            job, epoch(slot), community, item, topic, "skipped", reason, "", None, epoch(at),
            epoch(at),
        ))

    def finish_slot(
        self, *, job: str, slot: datetime, claim: str, status: str, at: datetime,
        reason: str = "", message: str | None = None, direct_sent: int = 0,
    ) -> None:
        self.db.submit(FINISH_SLOT, (
            status, reason, message, direct_sent, epoch(at), job, epoch(slot), claim,
        ))

    async def skip_interrupted(self, at: datetime, owns: Callable[[str], bool]
                               ) -> list[tuple[str, datetime]]:
        """Record the slots a crash interrupted as skipped, of the communities ``owns``
        accepts (another process may be sending its own right now); returns their
        (job, slot)."""
        rows = [r for r in await self.db.rows(
            """SELECT job, slot, community_id FROM content_slots WHERE status = 'claimed'
               ORDER BY slot""") if owns(r[2])]
        for job, slot, _ in rows:
            self.db.submit(SKIP_INTERRUPTED, (epoch(at), job, slot))
        if rows:
            await self.db.flush()  # before any new claim: a batch runs claims first
        return [(r[0], from_epoch(r[1])) for r in rows]

    def set_subscription(
        self, community: str, member: str, topic: str, active: bool, at: datetime
    ) -> None:
        self.db.submit(UPSERT_SUBSCRIPTION, (community, member, topic, int(active), epoch(at)))

    def set_dm_stopped(self, community: str, member: str, stopped: bool, at: datetime
                       ) -> None:
        self.db.submit(UPSERT_DM_PREFERENCE, (community, member, int(stopped), epoch(at)))

    # -- reads ------------------------------------------------------------------------
    async def load_items(self) -> list[ItemRow]:
        rows = await self.db.rows(
            f"SELECT {_ITEM_COLUMNS} FROM content_items WHERE state != 'removed' ORDER BY id")
        return [ItemRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8],
                        from_epoch(r[9]), r[10], r[11], r[12], from_epoch(r[13]),
                        from_epoch(r[14]))
                for r in rows]

    async def load_queues(self) -> list[QueueRow]:
        rows = await self.db.rows(
            f"SELECT {_QUEUE_COLUMNS} FROM content_queues ORDER BY id")
        return [QueueRow(r[0], r[1], r[2], r[3], r[4], from_epoch(r[5]), r[6], r[7], r[8],
                         from_epoch(r[9]), from_epoch(r[10])) for r in rows]

    async def highest_ids(self) -> tuple[int, int]:
        """The largest item id and queue id ever used (removed ones included)."""
        rows = await self.db.rows(
            "SELECT (SELECT COALESCE(max(id), 0) FROM content_items),"
            " (SELECT COALESCE(max(id), 0) FROM content_queues)")
        return int(rows[0][0]), int(rows[0][1])

    async def last_slot(self, job: str) -> datetime | None:
        rows = await self.db.rows("SELECT max(slot) FROM content_slots WHERE job = ?", (job,))
        return from_epoch(rows[0][0]) if rows and rows[0][0] is not None else None

    async def slots(self, job: str, limit: int = 20) -> list[SlotRow]:
        rows = await self.db.rows(
            """SELECT job, slot, item_id, topic, status, reason, message_id, direct_sent
               FROM content_slots WHERE job = ? ORDER BY slot DESC LIMIT ?""", (job, limit))
        return [SlotRow(r[0], from_epoch(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    async def item_slots(self, item: int, limit: int = 20) -> list[SlotRow]:
        rows = await self.db.rows(
            """SELECT job, slot, item_id, topic, status, reason, message_id, direct_sent
               FROM content_slots WHERE item_id = ? ORDER BY slot DESC LIMIT ?""", (item, limit))
        return [SlotRow(r[0], from_epoch(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    async def rotation_counts(self, job: str, items: Iterable[int]) -> dict[int, int]:
        """How many times a queue has posted (or claimed) each of ``items``."""
        counts = {item: 0 for item in items}
        rows = await self.db.rows(
            """SELECT item_id, count(*) FROM content_slots
               WHERE job = ? AND status IN ('claimed', 'sent') AND item_id IS NOT NULL
               GROUP BY item_id""", (job,))
        for item, count in rows:
            if item in counts:
                counts[item] = int(count)
        return counts

    async def subscriptions(self, community: str, member: str) -> list[str]:
        rows = await self.db.rows(
            """SELECT topic FROM content_subscriptions
               WHERE community_id = ? AND member_id = ? AND active = 1 ORDER BY topic""",
            (community, member))
        return [r[0] for r in rows]

    async def direct_recipients(self, community: str, topic: str, stage: str | None
                                ) -> list[str]:
        """Members to DM an item of ``topic``: subscribed, not stopped, and (for an item
        aimed at a stage) currently in that journey stage (``member_stages``, schema 0002)."""
        sql = """SELECT s.member_id FROM content_subscriptions s
                 WHERE s.community_id = ? AND s.topic = ? AND s.active = 1
                   AND NOT EXISTS (SELECT 1 FROM content_dm_preferences p
                                   WHERE p.community_id = s.community_id
                                     AND p.member_id = s.member_id AND p.stopped = 1)"""
        params: list[object] = [community, topic]
        if stage is not None:
            sql += """ AND EXISTS (SELECT 1 FROM member_stages g
                         WHERE g.community_id = s.community_id AND g.member_id = s.member_id
                           AND g.stage = ?)"""
            params.append(stage)
        rows = await self.db.rows(sql + " ORDER BY s.member_id", params)
        return [r[0] for r in rows]

    async def dm_stopped(self, community: str, member: str) -> bool:
        rows = await self.db.rows(
            """SELECT stopped FROM content_dm_preferences
               WHERE community_id = ? AND member_id = ?""", (community, member))
        return bool(rows and rows[0][0])


    # -- measuring value (weekly summary) ------------------------------------------------
    async def item_engagement(self, community: str, start: datetime, end: datetime
                              ) -> list[Engagement]:
        """Per item: posts whose slot is in [start, end), and the replies (by members, not
        deleted) and active member reactions those posts have received so far."""
        rows = await self.db.rows(_ENGAGEMENT.format(key="s.item_id"),
                                  (community, epoch(start), epoch(end)))
        return [Engagement(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]

    async def topic_engagement(self, community: str, start: datetime, end: datetime
                               ) -> list[Engagement]:
        """The same as ``item_engagement``, summed per topic."""
        rows = await self.db.rows(_ENGAGEMENT.format(key="s.topic"),
                                  (community, epoch(start), epoch(end)))
        return [Engagement(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]

    async def skipped_slots(self, community: str, start: datetime, end: datetime
                            ) -> list[SkippedSlot]:
        """Slots in [start, end) that were not posted, oldest first, with why."""
        rows = await self.db.rows(
            """SELECT job, item_id, topic, slot, reason FROM content_slots
               WHERE community_id = ? AND status = 'skipped' AND slot >= ? AND slot < ?
               ORDER BY slot, job""", (community, epoch(start), epoch(end)))
        return [SkippedSlot(r[0], r[1], r[2], from_epoch(r[3]), r[4]) for r in rows]
