"""What happened, as the platforms told it: communities, channels, members, their joins
and leaves, invites, messages and reactions.

Every write is one queued statement per fact, idempotent (a re-delivered event changes
nothing); the rollups that count them (``daily_activity``, ``member_weeks``) are kept by
triggers in the schema, not here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.book import BOOK
from storage.feature import FeatureStore, epoch, from_epoch

_sql = BOOK.section("facts")
# Declaration order is execution order inside a batch (see storage.book).
UPSERT_COMMUNITY = _sql.add("upsert_community", """
    INSERT INTO communities (id, platform, name, joined_at, left_at) VALUES (?, ?, ?, ?, NULL)
    ON CONFLICT (id) DO UPDATE SET
        name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END,
        left_at = NULL""")
UPSERT_CHANNEL = _sql.add("upsert_channel", """
    INSERT INTO channels (community_id, channel_id, name) VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET name = excluded.name""")
# A new member is present; presence changes only through SET_MEMBER_PRESENCE, which runs
# after every upsert of the batch, so joins and leaves keep their order.
UPSERT_MEMBER = _sql.add("upsert_member", """
    INSERT INTO members (community_id, member_id, name, is_bot, first_seen_at, present)
    VALUES (?, ?, ?, ?, ?, 1)
    ON CONFLICT DO UPDATE SET
        name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END,
        is_bot = excluded.is_bot""")
SET_MEMBER_PRESENCE = _sql.add("set_member_presence", """
    UPDATE members SET present = ? WHERE community_id = ? AND member_id = ?""")
INSERT_MEMBER_EVENT = _sql.add("insert_member_event", """
    INSERT OR IGNORE INTO member_events (community_id, member_id, kind, at, day)
    VALUES (?, ?, ?, ?, ?)""")
INSERT_INVITE = _sql.add("insert_invite", """
    INSERT OR IGNORE INTO invites (community_id, member_id, inviter_id, code, at)
    VALUES (?, ?, ?, ?, ?)""")
# Before the message in a batch: the day is then never counted as contribution at all
# (the other order is right too, the rollup's triggers take the day back).
INSERT_FARMED = _sql.add("insert_farmed", """
    INSERT OR IGNORE INTO farmed_messages (community_id, message_id, member_id, reason, at, day)
    VALUES (?, ?, ?, ?, ?, ?)""")
INSERT_MESSAGE = _sql.add("insert_message", """
    INSERT OR IGNORE INTO messages (community_id, message_id, channel_id, thread_id, author_id,
        author_is_bot, reply_to_id, reply_to_author_id, at, day, length, has_media, text)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
UPDATE_MESSAGE_EDIT = _sql.add("update_message_edit", """
    UPDATE messages SET edited_at = ?, length = ?, text = COALESCE(?, text)
    WHERE community_id = ? AND message_id = ?""")
UPDATE_MESSAGE_DELETE = _sql.add("update_message_delete", """
    UPDATE messages SET deleted_at = ? WHERE community_id = ? AND message_id = ?""")
UPSERT_REACTION = _sql.add("upsert_reaction", """
    INSERT INTO reactions (community_id, message_id, reactor_id, emoji, author_id,
        reactor_is_bot, day, first_at, changed_at, active)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET
        active = excluded.active, changed_at = excluded.changed_at,
        author_id = COALESCE(author_id, excluded.author_id)
    WHERE excluded.changed_at >= reactions.changed_at""")
MARK_COMMUNITY_LEFT = _sql.add("mark_community_left", """
    UPDATE communities SET left_at = ? WHERE id = ?""")
UPSERT_REACTION_COUNTS = _sql.add("upsert_reaction_counts", """
    INSERT INTO reaction_counts (community_id, message_id, counts, total, at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET counts = excluded.counts, total = excluded.total,
        at = excluded.at
    WHERE excluded.at >= reaction_counts.at""")


@dataclass(frozen=True, slots=True)
class CommunityRow:
    id: str
    platform: str
    name: str
    joined_at: datetime
    left_at: datetime | None
    season: int


class FactsStore(FeatureStore):
    """Recording facts and reading them back by id."""

    def record_community(self, community: str, platform: str, name: str, at: datetime) -> None:
        self.db.submit(UPSERT_COMMUNITY, (community, platform, name, epoch(at)))

    def record_community_left(self, community: str, at: datetime) -> None:
        self.db.submit(MARK_COMMUNITY_LEFT, (epoch(at), community))

    def record_channel(self, community: str, channel: str, name: str) -> None:
        self.db.submit(UPSERT_CHANNEL, (community, channel, name))

    def record_member(
        self, community: str, member: str, name: str, is_bot: bool, at: datetime,
        *, present: bool | None = None,
    ) -> None:
        """Create or refresh a member; ``present`` None leaves presence as it is."""
        self.db.submit(UPSERT_MEMBER, (community, member, name, int(is_bot), epoch(at)))
        if present is not None:
            self.db.submit(SET_MEMBER_PRESENCE, (int(present), community, member))

    def record_member_event(
        self, community: str, member: str, kind: str, at: datetime, day: str
    ) -> None:
        self.db.submit(INSERT_MEMBER_EVENT, (community, member, kind, epoch(at), day))

    def record_invite(
        self, community: str, member: str, inviter: str | None, code: str, at: datetime
    ) -> None:
        self.db.submit(INSERT_INVITE, (community, member, inviter, code, epoch(at)))

    def record_message(
        self, community: str, message: str, *, channel: str, thread: str | None, author: str,
        author_is_bot: bool, reply_to: str | None, reply_to_author: str | None, at: datetime,
        day: str, length: int, has_media: bool, text: str | None,
    ) -> None:
        self.db.submit(INSERT_MESSAGE, (
            community, message, channel, thread, author, int(author_is_bot), reply_to,
            reply_to_author, epoch(at), day, length, int(has_media), text,
        ))

    def record_farmed(
        self, community: str, message: str, member: str, reason: str, at: datetime, day: str
    ) -> None:
        """A message the engagement rules refused as farming: not contribution."""
        self.db.submit(INSERT_FARMED, (community, message, member, reason, epoch(at), day))

    def record_edit(
        self, community: str, message: str, at: datetime, length: int, text: str | None
    ) -> None:
        self.db.submit(UPDATE_MESSAGE_EDIT, (epoch(at), length, text, community, message))

    def record_delete(self, community: str, message: str, at: datetime) -> None:
        self.db.submit(UPDATE_MESSAGE_DELETE, (epoch(at), community, message))

    def record_reaction(
        self, community: str, message: str, reactor: str, emoji: str, *,
        author: str | None, reactor_is_bot: bool, at: datetime, day: str, active: bool,
    ) -> None:
        ts = epoch(at)
        self.db.submit(UPSERT_REACTION, (
            community, message, reactor, emoji, author, int(reactor_is_bot), day, ts, ts,
            int(active),
        ))

    def record_reaction_counts(
        self, community: str, message: str, counts: Sequence[tuple[str, int]], at: datetime
    ) -> None:
        """The latest anonymous totals of a message (the platform sends the whole set)."""
        self.db.submit(UPSERT_REACTION_COUNTS, (
            community, message, json.dumps(dict(counts), ensure_ascii=False),
            sum(n for _, n in counts), epoch(at),
        ))

    async def communities(self) -> list[CommunityRow]:
        rows = await self.db.rows(
            "SELECT id, platform, name, joined_at, left_at, season FROM communities ORDER BY id"
        )
        return [
            CommunityRow(r[0], r[1], r[2], from_epoch(r[3]),
                         from_epoch(r[4]) if r[4] is not None else None, r[5])
            for r in rows
        ]

    async def message_author(self, community: str, message: str, *, consistent: bool = True
                             ) -> str | None:
        """``consistent=False`` reads what is committed, without committing what is queued
        first (the recorder remembers the authors of the messages written lately)."""
        rows = await self.db.rows(
            "SELECT author_id FROM messages WHERE community_id = ? AND message_id = ?",
            (community, message), consistent=consistent,
        )
        return rows[0][0] if rows else None

    async def message_authors(self, community: str, messages: Sequence[str]
                              ) -> dict[str, str]:
        """Who wrote each of ``messages`` that the store knows (one question per 500)."""
        found: dict[str, str] = {}
        for start in range(0, len(messages), 500):
            part = list(messages[start:start + 500])
            marks = ",".join("?" * len(part))
            for message, author in await self.db.rows(
                f"SELECT message_id, author_id FROM messages WHERE community_id = ? "
                f"AND message_id IN ({marks})", (community, *part)):
                found[message] = author
        return found

    async def channels(self, community: str) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in await self.db.rows(
            "SELECT channel_id, name FROM channels WHERE community_id = ? ORDER BY channel_id",
            (community,))]

    async def member_names(self, community: str, members: Iterable[str]) -> dict[str, str]:
        ids = list(members)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self.db.rows(
            "SELECT member_id, name FROM members"
            f" WHERE community_id = ? AND member_id IN ({marks})",
            (community, *ids), consistent=False,
        )
        return {r[0]: r[1] for r in rows}

    async def bot_members(self, community: str) -> list[str]:
        rows = await self.db.rows(
            "SELECT member_id FROM members WHERE community_id = ? AND is_bot = 1", (community,))
        return [r[0] for r in rows]
