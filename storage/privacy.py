"""SQL for members' own data: everything stored about one member (``my data``), and
forgetting a member (``forget me``).

Forgetting runs as one statement per table, queued like any write; these statements
run last in a batch (``storage.book.FEATURES``), so they also remove what the same
batch wrote about the member.
"""

from __future__ import annotations

from typing import Any

from storage.book import BOOK
from storage.feature import FeatureStore

_sql = BOOK.section("privacy")
# -- forgetting a member: one statement per table, in this order ------------------------
# ?1 community, ?2 member, ?3 the anonymous id that replaces the member where others'
# numbers depend on the row (ledger, totals, replies to them, reactions to their posts).
FORGET = [_sql.add(f"forget_{i}", sql) for i, sql in enumerate([
    # ledger rows stay (others' totals depend on them) but no longer name the member
    "UPDATE ledger SET member_id = ?3 WHERE community_id = ?1 AND member_id = ?2",
    "UPDATE ledger SET ref = ?3 WHERE community_id = ?1 AND ref = ?2",
    """UPDATE ledger SET ref = replace(ref, '|' || ?2 || '|', '|' || ?3 || '|')
       WHERE community_id = ?1 AND instr(ref, '|' || ?2 || '|') > 0""",
    "UPDATE ledger SET actor_id = ?3 WHERE community_id = ?1 AND actor_id = ?2",
    """INSERT INTO point_totals (community_id, season, member_id, points)
       SELECT community_id, season, ?3, points FROM point_totals
       WHERE community_id = ?1 AND member_id = ?2
       ON CONFLICT DO UPDATE SET points = points + excluded.points""",
    "DELETE FROM point_totals WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM messages WHERE community_id = ?1 AND author_id = ?2",
    "UPDATE messages SET reply_to_author_id = ?3 WHERE community_id = ?1 "
    "AND reply_to_author_id = ?2",
    "DELETE FROM reactions WHERE community_id = ?1 AND reactor_id = ?2",
    "UPDATE reactions SET author_id = ?3 WHERE community_id = ?1 AND author_id = ?2",
    "DELETE FROM farmed_messages WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM daily_activity WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM member_weeks WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM member_events WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM invites WHERE community_id = ?1 AND member_id = ?2",
    "UPDATE invites SET inviter_id = ?3 WHERE community_id = ?1 AND inviter_id = ?2",
    "DELETE FROM first_messages WHERE community_id = ?1 AND member_id = ?2",
    "UPDATE first_messages SET answered_by = ?3 WHERE community_id = ?1 AND answered_by = ?2",
    "DELETE FROM member_stages WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM stage_history WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM members WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM content_subscriptions WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM content_dm_preferences WHERE community_id = ?1 AND member_id = ?2",
    "DELETE FROM welcome_pending WHERE community_id = ?1 AND member_id = ?2",
    # handled-event keys name members too ("MemberJoined:<community>:<member>:<time>")
    """DELETE FROM seen_events WHERE instr(key, ':' || ?2 || ':') > 0
       OR key LIKE '%:' || ?2""",
    "DELETE FROM level_announcements WHERE community_id = ?1 AND member_id = ?2",
    """UPDATE welcome_posts SET newcomers = replace(newcomers, '"' || ?2 || '"', '"' || ?3 || '"')
       WHERE community_id = ?1 AND instr(newcomers, '"' || ?2 || '"') > 0""",
])]


class PrivacyStore(FeatureStore):
    """A member's data: exported, or forgotten."""

    def forget(self, community: str, member: str, anonymous: str) -> None:
        for statement in FORGET:
            params = (community, member, anonymous) if "?3" in statement.sql else (
                community, member)
            self.db.submit(statement, params)

    async def export(self, community: str, member: str) -> dict[str, Any]:
        """Everything stored about one member in one community (for ``my data``)."""
        queries = {
            "profile": "SELECT * FROM members WHERE community_id = ? AND member_id = ?",
            "joins_and_leaves": "SELECT * FROM member_events WHERE community_id = ? "
                                "AND member_id = ?",
            "invited_by": "SELECT * FROM invites WHERE community_id = ? AND member_id = ?",
            "messages": "SELECT * FROM messages WHERE community_id = ? AND author_id = ?",
            "reactions": "SELECT * FROM reactions WHERE community_id = ? AND reactor_id = ?",
            "messages_refused_as_farming": "SELECT * FROM farmed_messages "
                                           "WHERE community_id = ? AND member_id = ?",
            "daily_activity": "SELECT * FROM daily_activity WHERE community_id = ? "
                              "AND member_id = ?",
            "points_ledger": "SELECT * FROM ledger WHERE community_id = ? AND member_id = ?",
            "point_totals": "SELECT * FROM point_totals WHERE community_id = ? "
                            "AND member_id = ?",
            "journey": "SELECT * FROM member_stages WHERE community_id = ? AND member_id = ?",
            "journey_history": "SELECT * FROM stage_history WHERE community_id = ? "
                               "AND member_id = ?",
            "first_message": "SELECT * FROM first_messages WHERE community_id = ? "
                             "AND member_id = ?",
            "topic_subscriptions": "SELECT * FROM content_subscriptions "
                                   "WHERE community_id = ? AND member_id = ?",
            "direct_message_choice": "SELECT * FROM content_dm_preferences "
                                     "WHERE community_id = ? AND member_id = ?",
            "welcome_waiting": "SELECT * FROM welcome_pending WHERE community_id = ? "
                               "AND member_id = ?",
            "levels_announced": "SELECT * FROM level_announcements WHERE community_id = ? "
                                "AND member_id = ?",
        }
        out: dict[str, Any] = {"community": community, "member": member}
        for name, sql in queries.items():
            out[name] = await self.db.dict_rows(sql, (community, member))
        return out
