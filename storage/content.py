"""All SQL of the content calendar: write statements on the shared writer, and reads.

Items, queues, subscriptions and DM preferences are written as whole-row upserts, so two
changes to one row in the same batch keep their order. Slots are claimed with a token
and read back after a flush: the claim is committed before anything is sent, and only
the claimant sends.

The reads at the end (``item_engagement``, ``topic_engagement``, ``skipped_slots``) are
what the weekly summary calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.repository import BOOK, Repository, epoch, from_epoch

#: The schema of migration 0003_content.sql (kept identical; a test compares them).
SCHEMA = """\
-- Tribebot schema version 3: the content calendar (cogs/content).
-- Times are UTC unix seconds. Ids of items and queues are global integers; a moderator
-- sees an item as 7 and a queue as q2. Every statement is idempotent (IF NOT EXISTS) so a
-- store that created these tables before the migration existed migrates cleanly.

CREATE TABLE IF NOT EXISTS content_items (
    id           INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL,
    topic        TEXT NOT NULL,
    body         TEXT NOT NULL,
    file         TEXT,                    -- a local attachment path, where the platform allows
    channel_id   TEXT NOT NULL,
    direct       INTEGER NOT NULL DEFAULT 0, -- also DM it to the topic's subscribers
    stage        TEXT,                    -- journey stage it is aimed at (filters DMs)
    schedule     TEXT NOT NULL,           -- normal form (cogs.content.rules); 'queue' = library
    since        INTEGER NOT NULL,        -- slots at or before this are never posted
    state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'removed')),
    note         TEXT NOT NULL DEFAULT '', -- why it was paused
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS content_items_by_topic ON content_items (community_id, topic);

-- A topic's rotation: at each slot the next library item of the topic is posted.
CREATE TABLE IF NOT EXISTS content_queues (
    id           INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL,
    topic        TEXT NOT NULL,
    schedule     TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    since        INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'removed')),
    note         TEXT NOT NULL DEFAULT '',
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (community_id, topic)
);

-- One row per (job, slot): claimed before sending, so a slot is posted at most once.
-- job is 'item:7' or 'queue:2'; status is claimed -> sent | failed, or skipped.
CREATE TABLE IF NOT EXISTS content_slots (
    job          TEXT NOT NULL,
    slot         INTEGER NOT NULL,
    community_id TEXT NOT NULL,
    item_id      INTEGER,
    topic        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'failed', 'skipped')),
    reason       TEXT NOT NULL DEFAULT '',
    claim        TEXT NOT NULL DEFAULT '',
    channel_id   TEXT,
    message_id   TEXT,
    direct_sent  INTEGER NOT NULL DEFAULT 0,
    recorded_at  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (job, slot)
);
CREATE INDEX IF NOT EXISTS content_slots_by_time ON content_slots (community_id, slot);
CREATE INDEX IF NOT EXISTS content_slots_by_message ON content_slots (community_id, message_id)
    WHERE message_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS content_subscriptions (
    community_id TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    topic        TEXT NOT NULL,
    active       INTEGER NOT NULL,
    changed_at   INTEGER NOT NULL,
    PRIMARY KEY (community_id, topic, member_id)
) WITHOUT ROWID;

-- Members who stopped all direct messages from the bot.
CREATE TABLE IF NOT EXISTS content_dm_preferences (
    community_id TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    stopped      INTEGER NOT NULL,
    changed_at   INTEGER NOT NULL,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;

-- Replies to a content post are counted by reply_to_id; only replies are indexed.
CREATE INDEX IF NOT EXISTS messages_by_reply_to ON messages (community_id, reply_to_id)
    WHERE reply_to_id IS NOT NULL;
"""

UPSERT_ITEM = BOOK.add("content_upsert_item", """
    INSERT INTO content_items (id, community_id, topic, body, file, channel_id, direct, stage,
        schedule, since, state, note, created_by, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        topic = excluded.topic, body = excluded.body, file = excluded.file,
        channel_id = excluded.channel_id, direct = excluded.direct, stage = excluded.stage,
        schedule = excluded.schedule, since = excluded.since, state = excluded.state,
        note = excluded.note, updated_at = excluded.updated_at""")
UPSERT_QUEUE = BOOK.add("content_upsert_queue", """
    INSERT INTO content_queues (id, community_id, topic, schedule, channel_id, since, state,
        note, created_by, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        schedule = excluded.schedule, channel_id = excluded.channel_id,
        since = excluded.since, state = excluded.state, note = excluded.note,
        updated_at = excluded.updated_at""")
CLAIM_SLOT = BOOK.add("content_claim_slot", """
    INSERT OR IGNORE INTO content_slots (job, slot, community_id, item_id, topic, status,
        reason, claim, channel_id, recorded_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
FINISH_SLOT = BOOK.add("content_finish_slot", """
    UPDATE content_slots SET status = ?, reason = ?, message_id = ?, direct_sent = ?,
        updated_at = ?
    WHERE job = ? AND slot = ? AND claim = ?""")
UPSERT_SUBSCRIPTION = BOOK.add("content_upsert_subscription", """
    INSERT INTO content_subscriptions (community_id, member_id, topic, active, changed_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at""")
UPSERT_DM_PREFERENCE = BOOK.add("content_upsert_dm_preference", """
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


# -- schema ----------------------------------------------------------------------------

async def ensure_schema(repository: Repository) -> None:
    """Create the content tables if migration 0003 has not (idempotent).

    A bridge for stores opened before the migration is bundled; once it is, this
    finds every table in place and changes nothing.
    """
    present = await repository.rows(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
        "('content_items', 'content_queues', 'content_slots', 'content_subscriptions', "
        "'content_dm_preferences')")
    if int(present[0][0]) == 5:
        return
    await repository.flush()
    connection = repository._write  # the writer is idle right after a flush
    assert connection is not None, "repository is not open"
    await connection.executescript(SCHEMA)


# -- writes (queued) -------------------------------------------------------------------

def save_item(repository: Repository, item: ItemRow) -> None:
    repository.submit(UPSERT_ITEM, (
        item.id, item.community, item.topic, item.body, item.file, item.channel,
        int(item.direct), item.stage, item.schedule, epoch(item.since), item.state, item.note,
        item.created_by, epoch(item.created_at), epoch(item.updated_at),
    ))


def save_queue(repository: Repository, queue: QueueRow) -> None:
    repository.submit(UPSERT_QUEUE, (
        queue.id, queue.community, queue.topic, queue.schedule, queue.channel,
        epoch(queue.since), queue.state, queue.note, queue.created_by,
        epoch(queue.created_at), epoch(queue.updated_at),
    ))


async def claim_slot(
    repository: Repository, *, job: str, slot: datetime, community: str, item: int | None,
    topic: str, channel: str | None, claim: str, at: datetime, status: str = "claimed",
    reason: str = "",
) -> bool:
    """Record a slot and commit it; True when this claim won (nobody recorded it before)."""
    repository.submit(CLAIM_SLOT, (
        job, epoch(slot), community, item, topic, status, reason, claim, channel, epoch(at),
        epoch(at),
    ))
    rows = await repository.rows(
        "SELECT claim FROM content_slots WHERE job = ? AND slot = ?", (job, epoch(slot)))
    return bool(rows) and rows[0][0] == claim


def record_skipped(
    repository: Repository, *, job: str, slot: datetime, community: str, item: int | None,
    topic: str, reason: str, at: datetime,
) -> None:
    """Record a slot that will not be posted (unless a row for it exists already)."""
    repository.submit(CLAIM_SLOT, (
        job, epoch(slot), community, item, topic, "skipped", reason, "", None, epoch(at),
        epoch(at),
    ))


def finish_slot(
    repository: Repository, *, job: str, slot: datetime, claim: str, status: str,
    at: datetime, reason: str = "", message: str | None = None, direct_sent: int = 0,
) -> None:
    repository.submit(FINISH_SLOT, (
        status, reason, message, direct_sent, epoch(at), job, epoch(slot), claim,
    ))


def set_subscription(
    repository: Repository, community: str, member: str, topic: str, active: bool,
    at: datetime,
) -> None:
    repository.submit(UPSERT_SUBSCRIPTION, (community, member, topic, int(active), epoch(at)))


def set_dm_stopped(
    repository: Repository, community: str, member: str, stopped: bool, at: datetime
) -> None:
    repository.submit(UPSERT_DM_PREFERENCE, (community, member, int(stopped), epoch(at)))


# -- reads -----------------------------------------------------------------------------

_ITEM_COLUMNS = """id, community_id, topic, body, file, channel_id, direct, stage, schedule,
    since, state, note, created_by, created_at, updated_at"""
_QUEUE_COLUMNS = """id, community_id, topic, schedule, channel_id, since, state, note,
    created_by, created_at, updated_at"""


async def load_items(repository: Repository) -> list[ItemRow]:
    rows = await repository.rows(
        f"SELECT {_ITEM_COLUMNS} FROM content_items WHERE state != 'removed' ORDER BY id")
    return [ItemRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8],
                    from_epoch(r[9]), r[10], r[11], r[12], from_epoch(r[13]), from_epoch(r[14]))
            for r in rows]


async def load_queues(repository: Repository) -> list[QueueRow]:
    rows = await repository.rows(
        f"SELECT {_QUEUE_COLUMNS} FROM content_queues ORDER BY id")
    return [QueueRow(r[0], r[1], r[2], r[3], r[4], from_epoch(r[5]), r[6], r[7], r[8],
                     from_epoch(r[9]), from_epoch(r[10])) for r in rows]


async def highest_ids(repository: Repository) -> tuple[int, int]:
    """The largest item id and queue id ever used (removed ones included)."""
    rows = await repository.rows(
        "SELECT (SELECT COALESCE(max(id), 0) FROM content_items),"
        " (SELECT COALESCE(max(id), 0) FROM content_queues)")
    return int(rows[0][0]), int(rows[0][1])


async def last_slot(repository: Repository, job: str) -> datetime | None:
    rows = await repository.rows("SELECT max(slot) FROM content_slots WHERE job = ?", (job,))
    return from_epoch(rows[0][0]) if rows and rows[0][0] is not None else None


async def slots(repository: Repository, job: str, limit: int = 20) -> list[SlotRow]:
    rows = await repository.rows(
        """SELECT job, slot, item_id, topic, status, reason, message_id, direct_sent
           FROM content_slots WHERE job = ? ORDER BY slot DESC LIMIT ?""", (job, limit))
    return [SlotRow(r[0], from_epoch(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]


async def item_slots(repository: Repository, item: int, limit: int = 20) -> list[SlotRow]:
    rows = await repository.rows(
        """SELECT job, slot, item_id, topic, status, reason, message_id, direct_sent
           FROM content_slots WHERE item_id = ? ORDER BY slot DESC LIMIT ?""", (item, limit))
    return [SlotRow(r[0], from_epoch(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]


async def rotation_counts(repository: Repository, job: str, items: Iterable[int]
                          ) -> dict[int, int]:
    """How many times a queue has posted (or claimed) each of ``items``."""
    counts = {item: 0 for item in items}
    rows = await repository.rows(
        """SELECT item_id, count(*) FROM content_slots
           WHERE job = ? AND status IN ('claimed', 'sent') AND item_id IS NOT NULL
           GROUP BY item_id""", (job,))
    for item, count in rows:
        if item in counts:
            counts[item] = int(count)
    return counts


async def subscriptions(repository: Repository, community: str, member: str) -> list[str]:
    rows = await repository.rows(
        """SELECT topic FROM content_subscriptions
           WHERE community_id = ? AND member_id = ? AND active = 1 ORDER BY topic""",
        (community, member))
    return [r[0] for r in rows]


async def direct_recipients(
    repository: Repository, community: str, topic: str, stage: str | None
) -> list[str]:
    """Members to DM an item of ``topic``: subscribed, not stopped, and in ``stage``.

    The stage filter applies only once the journey's ``member_stages`` table exists; a
    member's stage is their latest row there.
    """
    sql = """SELECT s.member_id FROM content_subscriptions s
             WHERE s.community_id = ? AND s.topic = ? AND s.active = 1
               AND NOT EXISTS (SELECT 1 FROM content_dm_preferences p
                               WHERE p.community_id = s.community_id
                                 AND p.member_id = s.member_id AND p.stopped = 1)"""
    params: list[object] = [community, topic]
    if stage is not None and await has_table(repository, "member_stages"):
        sql += """ AND EXISTS (SELECT 1 FROM member_stages g
                     WHERE g.community_id = s.community_id AND g.member_id = s.member_id
                       AND g.stage = ? AND g.since = (
                         SELECT max(since) FROM member_stages h
                         WHERE h.community_id = g.community_id
                           AND h.member_id = g.member_id))"""
        params.append(stage)
    rows = await repository.rows(sql + " ORDER BY s.member_id", params)
    return [r[0] for r in rows]


async def dm_stopped(repository: Repository, community: str, member: str) -> bool:
    rows = await repository.rows(
        """SELECT stopped FROM content_dm_preferences
           WHERE community_id = ? AND member_id = ?""", (community, member))
    return bool(rows and rows[0][0])


async def has_table(repository: Repository, name: str) -> bool:
    rows = await repository.rows(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,),
        consistent=False)
    return bool(rows)


# -- measuring value (weekly summary) ----------------------------------------------------

_ENGAGEMENT = """
    SELECT {key}, s.topic, count(*),
        COALESCE(sum((SELECT count(*) FROM messages m
             WHERE m.community_id = s.community_id AND m.reply_to_id = s.message_id
               AND m.author_is_bot = 0 AND m.deleted_at IS NULL)), 0),
        COALESCE(sum((SELECT count(*) FROM reactions r
             WHERE r.community_id = s.community_id AND r.message_id = s.message_id
               AND r.active = 1 AND r.reactor_is_bot = 0)), 0)
    FROM content_slots s
    WHERE s.community_id = ? AND s.status = 'sent' AND s.message_id IS NOT NULL
      AND s.slot >= ? AND s.slot < ?
    GROUP BY {key} ORDER BY {key}"""


async def item_engagement(
    repository: Repository, community: str, start: datetime, end: datetime
) -> list[Engagement]:
    """Per item: posts whose slot is in [start, end), and the replies (by members, not
    deleted) and active member reactions those posts have received so far."""
    rows = await repository.rows(_ENGAGEMENT.format(key="s.item_id"),
                                 (community, epoch(start), epoch(end)))
    return [Engagement(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]


async def topic_engagement(
    repository: Repository, community: str, start: datetime, end: datetime
) -> list[Engagement]:
    """The same as ``item_engagement``, summed per topic."""
    rows = await repository.rows(_ENGAGEMENT.format(key="s.topic"),
                                 (community, epoch(start), epoch(end)))
    return [Engagement(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]


async def skipped_slots(
    repository: Repository, community: str, start: datetime, end: datetime
) -> list[SkippedSlot]:
    """Slots in [start, end) that were not posted, oldest first, with why."""
    rows = await repository.rows(
        """SELECT job, item_id, topic, slot, reason FROM content_slots
           WHERE community_id = ? AND status = 'skipped' AND slot >= ? AND slot < ?
           ORDER BY slot, job""", (community, epoch(start), epoch(end)))
    return [SkippedSlot(r[0], r[1], r[2], from_epoch(r[3]), r[4]) for r in rows]
