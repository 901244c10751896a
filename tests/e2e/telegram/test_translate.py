"""translate.py and ids.py: Telegram payloads -> core events, with plain asserts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import Message, ReactionTypeCustomEmoji, ReactionTypeEmoji, Update

from bot.adapters.telegram.adapter import file_base_url
from bot.adapters.telegram.ids import parse_channel, parse_message
from bot.adapters.telegram.translate import (
    bot_membership,
    command_call,
    member_update_events,
    message_event,
    reaction_diff,
    reaction_events,
    service_member_events,
    with_replied_member,
)
from bot.core.commands import Command, MemberRef, Option, OptionKind, Reply
from bot.core.events import (
    CommunityJoined,
    CommunityLeft,
    InviteUsed,
    MemberJoined,
    MemberLeft,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.text import plain
from tests.conftest import START
from tests.e2e.telegram.fake_bot_api import BOT_USER
from tests.e2e.telegram.updates import (
    GROUP,
    bot_change,
    command,
    invite_link,
    member_change,
    message,
    reaction,
    user,
)

ALICE = user(1, "Alice", "alice")
BOB = user(2, "Bob")


def parse(data: dict[str, Any]) -> Update:
    return Update.de_json({"update_id": 7, **data}, None)


def msg(data: dict[str, Any]) -> Message:
    update = parse({"message": data})
    assert update.message is not None
    return update.message


def test_message_ids_carry_their_chat_and_key_the_update() -> None:
    event = message_event(7, msg(message(ALICE, 10, "hello", START)))
    assert event is not None
    assert (event.community, event.message) == (f"telegram:{GROUP}", f"telegram:{GROUP}:10")
    assert (event.author, event.author_name, event.channel) == (
        "telegram:1", "Alice", f"telegram:{GROUP}")
    assert event.key == "telegram:update:7"
    assert event.at == START and event.length == 5


def test_reply_names_the_parent_and_its_author() -> None:
    parent = message(BOB, 9, "question", START)
    event = message_event(7, msg(message(ALICE, 10, "answer", START, reply_to=parent)))
    assert event is not None
    assert (event.reply_to, event.reply_to_author) == (f"telegram:{GROUP}:9", "telegram:2")


def test_topic_message_is_in_the_topic_and_the_topic_root_is_no_parent() -> None:
    root = message(BOB, 42, "", START, forum_topic_created={"name": "Ideas", "icon_color": 1})
    event = message_event(7, msg(message(ALICE, 43, "idea", START, thread=42, reply_to=root)))
    assert event is not None
    assert event.channel == f"telegram:{GROUP}:topic:42"
    assert event.reply_to is None


def test_service_message_is_no_post_but_tells_joins_except_the_bot() -> None:
    data = message(ALICE, 10, "", START, new_chat_members=[BOB, BOT_USER])
    del data["text"]
    service = msg(data)
    assert message_event(7, service) is None
    [joined] = service_member_events(service, bot_id=BOT_USER["id"])
    assert isinstance(joined, MemberJoined) and joined.member == "telegram:2"


def test_message_sent_as_the_group_counts_as_a_bot() -> None:
    data = message(user(1087968824, "Group", "GroupAnonymousBot", is_bot=True), 10, "hi",
                   START, sender_chat={"id": GROUP, "type": "supergroup", "title": "Tribe"})
    event = message_event(7, msg(data))
    assert event is not None and event.author_is_bot


def test_invite_link_join_names_the_links_creator() -> None:
    update = parse({"chat_member": member_change(BOB, "left", "member", START,
                                                 invite_link=invite_link(ALICE))})
    assert update.chat_member is not None
    joined, invite = member_update_events(7, update.chat_member)
    assert isinstance(joined, MemberJoined) and joined.name == "Bob"
    assert isinstance(invite, InviteUsed)
    assert (invite.member, invite.inviter, invite.code) == (
        "telegram:2", "telegram:1", "https://t.me/+AbCdEf")


def test_leaving_and_promotion() -> None:
    left = parse({"chat_member": member_change(BOB, "member", "left", START)})
    promoted = parse({"chat_member": member_change(BOB, "member", "administrator", START)})
    assert left.chat_member is not None and promoted.chat_member is not None
    assert [type(e) for e in member_update_events(7, left.chat_member)] == [MemberLeft]
    assert member_update_events(7, promoted.chat_member) == []


def test_bot_membership_changes() -> None:
    def change(old: str, new: str) -> Any:
        update = parse(bot_change(old, new, START, ALICE))
        assert update.my_chat_member is not None
        return bot_membership(7, update.my_chat_member)

    as_admin, as_member = change("left", "administrator"), change("left", "member")
    assert isinstance(as_admin.event, CommunityJoined) and not as_admin.needs_admin
    assert as_admin.event.name == "Tribe"
    assert isinstance(as_member.event, CommunityJoined) and as_member.needs_admin
    assert isinstance(change("member", "kicked").event, CommunityLeft)
    demoted = change("administrator", "member")
    assert demoted.event is None and demoted.needs_admin


def test_reaction_diff_is_per_emoji() -> None:
    thumbs, heart = ReactionTypeEmoji("👍"), ReactionTypeEmoji("❤")
    custom = ReactionTypeCustomEmoji("5368")
    assert reaction_diff([thumbs], [heart, custom]) == (["❤", "custom:5368"], ["👍"])
    assert reaction_diff([thumbs], [thumbs]) == ([], [])


def test_reaction_events_carry_the_author_and_distinct_keys() -> None:
    update = parse(reaction(ALICE, 10, START + timedelta(seconds=5), ["👍"], ["🔥", "❤"]))
    assert update.message_reaction is not None
    events = reaction_events(7, update.message_reaction, "telegram:2")
    assert [(type(e), e.emoji) for e in events] == [  # type: ignore[attr-defined]
        (ReactionRemoved, "👍"), (ReactionAdded, "🔥"), (ReactionAdded, "❤")]
    assert all(e.message_author == "telegram:2" for e in events)  # type: ignore[attr-defined]
    assert len({e.key for e in events}) == 3


def test_command_with_bot_name_and_arguments() -> None:
    call = command_call(msg(command(ALICE, 10, "/Points@TribeBot give @bob 5 thanks", START)))
    assert call is not None
    assert (call.name, call.bot, call.arguments) == ("points", "TribeBot", "give @bob 5 thanks")
    assert call.addressed_to("tribebot") and not call.addressed_to("OtherBot")
    assert command_call(msg(message(ALICE, 11, "no /command here", START))) is None


def test_text_mention_after_emoji_becomes_one_token() -> None:
    # "🎉" is two UTF-16 units: entity offsets count those, not Python characters.
    text = "/points give 🎉 Bob Smith 5"
    mention = {"type": "text_mention", "offset": 16, "length": 9, "user": BOB}
    call = command_call(msg(command(ALICE, 10, text, START, entities=[mention])))
    assert call is not None
    assert call.arguments == "give 🎉  @#2  5"
    assert call.mentions == {"@#2": MemberRef("telegram:2", "Bob")}


def test_replying_names_the_member_unless_written_out() -> None:
    async def handler(_: Any) -> Reply:
        return Reply(plain(""))

    give = Command(("points", "give"), "", handler, (
        Option("member", OptionKind.MEMBER, ""),
        Option("amount", OptionKind.INTEGER, "", minimum=1, maximum=100),
        Option("reason", OptionKind.TEXT, "")))
    parent = message(BOB, 9, "fixed it", START)
    call = command_call(msg(command(ALICE, 10, "/points give 5 thanks", START, reply_to=parent)))
    assert call is not None
    known = {"@carol": MemberRef("telegram:3", "Carol")}
    assert with_replied_member(give, ["5", "thanks"], call, known.get) == ["@#2", "5", "thanks"]
    assert with_replied_member(give, ["@carol", "5"], call, known.get) == ["@carol", "5"]


def test_id_round_trips_and_file_url() -> None:
    assert parse_channel(f"telegram:{GROUP}:topic:42") == (GROUP, 42)
    assert parse_channel(f"telegram:{GROUP}") == (GROUP, None)
    assert parse_message(f"telegram:{GROUP}:10") == (GROUP, 10)
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
