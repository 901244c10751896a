"""Event keys: what makes a re-delivered event a duplicate, and what a removal frees."""

from datetime import UTC, datetime, timedelta

from bot.core.events import MemberJoined, MemberLeft, ReactionAdded, ReactionRemoved

AT = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_a_reaction_undoes_the_key_of_its_opposite_built_in_full() -> None:
    fields = {"community": "console:tribe", "message": "console:m1", "reactor": "console:bo",
              "emoji": "🔥"}
    added = ReactionAdded(**fields, at=AT, message_author="console:dana")
    removed = ReactionRemoved(**fields, at=AT + timedelta(minutes=5))
    assert added.undoes() == ReactionRemoved(**fields, at=AT).key
    assert removed.undoes() == ReactionAdded(**fields, at=AT).key
    assert added.undoes() != removed.undoes()
    # the key names the reaction, not when it came nor who wrote the message
    assert removed.undoes() == added.key


def test_a_join_undoes_the_key_of_the_members_leave() -> None:
    joined = MemberJoined(community="console:tribe", at=AT, member="console:dana")
    left = MemberLeft(community="console:tribe", at=AT - timedelta(days=3),
                      member="console:dana")
    assert joined.undoes() == left.key == "MemberLeft:console:tribe:console:dana"
    other = MemberLeft(community="console:tribe", at=AT, member="console:bo")
    assert joined.undoes() != other.key
