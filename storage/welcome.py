"""SQL for welcoming newcomers: their first messages, the bursts waiting to be welcomed,
welcome posts and the posts to delete later; and what the welcome cog reads at start.

The welcome cog also reads the journey (who is a regular, who is present), so its store
is the journey's with welcome's own rows added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.book import BOOK
from storage.feature import epoch, from_epoch
from storage.journey import JourneyStore

_sql = BOOK.section("welcome")
INSERT_FIRST_MESSAGE = _sql.add("insert_first_message", """
    INSERT OR IGNORE INTO first_messages (community_id, member_id, message_id, channel_id, at,
        day) VALUES (?, ?, ?, ?, ?, ?)""")
ANSWER_FIRST_MESSAGE = _sql.add("answer_first_message", """
    UPDATE first_messages SET answered_at = ?, answered_by = ?
    WHERE community_id = ? AND member_id = ? AND answered_at IS NULL""")
ALERT_FIRST_MESSAGE = _sql.add("alert_first_message", """
    UPDATE first_messages SET alerted_at = ?
    WHERE community_id = ? AND member_id = ? AND alerted_at IS NULL""")
# A burst's newcomers are inserted, then deleted once posted. The delete names the due
# time it was written with, so a newer burst's row for the same member (a replace, later in
# the same batch or not) is never taken for the older one.
UPSERT_PENDING_WELCOME = _sql.add("upsert_pending_welcome", """
    INSERT INTO welcome_pending (community_id, member_id, name, joined_at, due)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET name = excluded.name, joined_at = excluded.joined_at,
        due = excluded.due""")
DELETE_PENDING_WELCOME = _sql.add("delete_pending_welcome", """
    DELETE FROM welcome_pending WHERE community_id = ? AND member_id = ? AND due = ?""")
INSERT_WELCOME_DELETION = _sql.add("insert_welcome_deletion", """
    INSERT OR REPLACE INTO welcome_deletions (community_id, message_id, channel_id, due)
    VALUES (?, ?, ?, ?)""")
DELETE_WELCOME_DELETION = _sql.add("delete_welcome_deletion", """
    DELETE FROM welcome_deletions WHERE community_id = ? AND message_id = ?""")
INSERT_WELCOME_POST = _sql.add("insert_welcome_post", """
    INSERT INTO welcome_posts (community_id, at, message_id, newcomers) VALUES (?, ?, ?, ?)""")


@dataclass(frozen=True, slots=True)
class FirstMessage:
    member: str
    message: str
    channel: str
    at: datetime
    answered_at: datetime | None
    alerted: bool


@dataclass(frozen=True, slots=True)
class PendingWelcome:
    member: str
    name: str
    due: datetime


@dataclass(frozen=True, slots=True)
class WelcomeDeletion:
    message: str
    channel: str
    due: datetime


class WelcomeStore(JourneyStore):
    """Newcomers' first messages and the welcome posts."""

    def record_first_message(self, community: str, member: str, message: str, channel: str,
                             at: datetime, day: str) -> None:
        self.db.submit(INSERT_FIRST_MESSAGE,
                         (community, member, message, channel, epoch(at), day))

    def record_first_answer(self, community: str, member: str, by: str, at: datetime) -> None:
        self.db.submit(ANSWER_FIRST_MESSAGE, (epoch(at), by, community, member))

    def record_first_alert(self, community: str, member: str, at: datetime) -> None:
        self.db.submit(ALERT_FIRST_MESSAGE, (epoch(at), community, member))

    def add_pending_welcome(self, community: str, member: str, name: str, joined: datetime,
                            due: datetime) -> None:
        self.db.submit(UPSERT_PENDING_WELCOME,
                         (community, member, name, epoch(joined), epoch(due)))

    def done_pending_welcome(self, community: str, member: str, due: datetime) -> None:
        self.db.submit(DELETE_PENDING_WELCOME, (community, member, epoch(due)))

    def add_welcome_deletion(self, community: str, message: str, channel: str,
                             due: datetime) -> None:
        self.db.submit(INSERT_WELCOME_DELETION, (community, message, channel, epoch(due)))

    def done_welcome_deletion(self, community: str, message: str) -> None:
        self.db.submit(DELETE_WELCOME_DELETION, (community, message))

    def add_welcome_post(self, community: str, at: datetime, message: str | None,
                         newcomers: list[str]) -> None:
        self.db.submit(INSERT_WELCOME_POST, (community, epoch(at), message,
                                               json.dumps(newcomers)))

    async def recent_joins(self, community: str, since: datetime) -> dict[str, datetime]:
        rows = await self.db.rows(
            """SELECT member_id, max(at) FROM member_events WHERE community_id = ?
               AND kind = 'joined' AND at >= ? GROUP BY member_id""", (community, epoch(since)))
        return {r[0]: from_epoch(r[1]) for r in rows}

    async def welcome_posts(self, community: str, since: datetime
                            ) -> list[tuple[datetime, str | None, list[str]]]:
        """Welcome posts since ``since`` (time, message id, newcomers named), oldest first."""
        rows = await self.db.rows(
            "SELECT at, message_id, newcomers FROM welcome_posts WHERE community_id = ? "
            "AND at >= ? ORDER BY at", (community, epoch(since)))
        return [(from_epoch(r[0]), r[1], json.loads(r[2])) for r in rows]

    async def last_welcome(self, community: str) -> datetime | None:
        rows = await self.db.rows(
            "SELECT max(at) FROM welcome_posts WHERE community_id = ?", (community,))
        return from_epoch(rows[0][0]) if rows and rows[0][0] is not None else None

    async def first_message_of(self, community: str, member: str) -> str | None:
        """The member's first message, if they ever posted one as a newcomer."""
        rows = await self.db.rows(
            "SELECT message_id FROM first_messages WHERE community_id = ? AND member_id = ?",
            (community, member), consistent=False)
        return rows[0][0] if rows else None

    async def presence(self, community: str, member: str) -> bool | None:
        """Whether the store has the member present (True), gone (False) or unknown."""
        rows = await self.db.rows(
            "SELECT present FROM members WHERE community_id = ? AND member_id = ?",
            (community, member), consistent=False)
        return bool(rows[0][0]) if rows else None

    async def pending_welcomes(self, community: str) -> list[PendingWelcome]:
        rows = await self.db.rows(
            """SELECT member_id, name, due FROM welcome_pending WHERE community_id = ?
               ORDER BY joined_at, member_id""", (community,))
        return [PendingWelcome(r[0], r[1], from_epoch(r[2])) for r in rows]

    async def welcome_deletions(self, community: str) -> list[WelcomeDeletion]:
        rows = await self.db.rows(
            "SELECT message_id, channel_id, due FROM welcome_deletions WHERE community_id = ?",
            (community,))
        return [WelcomeDeletion(r[0], r[1], from_epoch(r[2])) for r in rows]

    async def first_messages(self, community: str) -> dict[str, FirstMessage]:
        rows = await self.db.rows(
            """SELECT member_id, message_id, channel_id, at, answered_at, alerted_at
               FROM first_messages WHERE community_id = ?""", (community,))
        return {r[0]: FirstMessage(r[0], r[1], r[2], from_epoch(r[3]),
                                   from_epoch(r[4]) if r[4] is not None else None,
                                   r[5] is not None) for r in rows}
