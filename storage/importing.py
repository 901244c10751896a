"""SQL for the history import: which facts of a batch the store holds already.

The import asks once per batch (never per event) and leaves those facts out, so a second
import of the same export, or of one that overlaps it or the bot's own live record, adds
nothing twice. Ids travel as one JSON array (``json_each``), whatever the batch size. The
checks read what is committed, without waiting for the batch being committed meanwhile:
they are about earlier imports and live records, long committed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from storage.feature import FeatureStore


def _ids(values: Iterable[str]) -> str:
    return json.dumps(sorted(set(values)), ensure_ascii=False)


class ImportStore(FeatureStore):
    """What an import asks before it writes a batch."""

    async def messages(self, community: str, messages: Iterable[str]) -> set[str]:
        """Which of ``messages`` are stored."""
        rows = await self.db.rows(
            """SELECT message_id FROM messages WHERE community_id = ?
               AND message_id IN (SELECT value FROM json_each(?))""",
            (community, _ids(messages)), consistent=False)
        return {r[0] for r in rows}

    async def authors(self, community: str, messages: Iterable[str]) -> dict[str, str]:
        """Who wrote the stored ones of ``messages`` (replies to older messages)."""
        rows = await self.db.rows(
            """SELECT message_id, author_id FROM messages WHERE community_id = ?
               AND message_id IN (SELECT value FROM json_each(?))""",
            (community, _ids(messages)), consistent=False)
        return {r[0]: r[1] for r in rows}

    async def reactions(self, community: str, messages: Iterable[str]
                        ) -> set[tuple[str, str, str]]:
        """(message, reactor, emoji) of every stored reaction to ``messages``."""
        rows = await self.db.rows(
            """SELECT message_id, reactor_id, emoji FROM reactions WHERE community_id = ?
               AND message_id IN (SELECT value FROM json_each(?))""",
            (community, _ids(messages)), consistent=False)
        return {(r[0], r[1], r[2]) for r in rows}

    async def reaction_totals(self, community: str, messages: Iterable[str]
                              ) -> dict[str, int]:
        rows = await self.db.rows(
            """SELECT message_id, total FROM reaction_counts WHERE community_id = ?
               AND message_id IN (SELECT value FROM json_each(?))""",
            (community, _ids(messages)), consistent=False)
        return {r[0]: int(r[1]) for r in rows}

    async def member_events(self, community: str, members: Iterable[str]
                            ) -> set[tuple[str, str, int]]:
        """(member, 'joined' or 'left', at) of the stored joins and leaves of ``members``."""
        rows = await self.db.rows(
            """SELECT member_id, kind, at FROM member_events WHERE community_id = ?
               AND member_id IN (SELECT value FROM json_each(?))""",
            (community, _ids(members)), consistent=False)
        return {(r[0], r[1], int(r[2])) for r in rows}

    async def invites(self, community: str, members: Iterable[str]) -> set[tuple[str, int]]:
        rows = await self.db.rows(
            """SELECT member_id, at FROM invites WHERE community_id = ?
               AND member_id IN (SELECT value FROM json_each(?))""",
            (community, _ids(members)), consistent=False)
        return {(r[0], int(r[1])) for r in rows}

    async def bots(self, community: str) -> set[str]:
        """Members the live bot has seen to be bots (Telegram's export does not say)."""
        rows = await self.db.rows(
            "SELECT member_id FROM members WHERE community_id = ? AND is_bot = 1",
            (community,))
        return {r[0] for r in rows}

    async def member_count(self, community: str) -> int:
        rows = await self.db.rows(
            "SELECT count(*) FROM members WHERE community_id = ?", (community,))
        return int(rows[0][0])
