"""Telegram Desktop export -> core events, with plain asserts (no event loop, no store)."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from telegram import Update

from bot.adapters.telegram.history import ChatInfo, TelegramExport, TelegramHistory, bots_from
from bot.adapters.telegram.translate import message_event
from bot.core.events import (
    InviteUsed,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
    ReactionsCounted,
)
from bot.core.history import ImportProblem
from tests.e2e.telegram import updates as live
from tests.export_builders import (
    COMMUNITY,
    FIXTURES,
    day,
    tg_export,
    tg_message,
    tg_reaction,
    tg_service,
    write,
)

CHAT = ChatInfo(1234567, "Tribe", "private_supergroup")
MONA, DANA = 100, 101


def history(**extra: object) -> TelegramHistory:
    return TelegramHistory(CHAT, **extra)  # type: ignore[arg-type]


def posted(record_events: tuple[object, ...]) -> MessagePosted:
    first = record_events[0]
    assert isinstance(first, MessagePosted)
    return first


def test_supergroup_is_the_community_bots_know_as_minus_100() -> None:
    assert CHAT.community == COMMUNITY
    assert ChatInfo(42, "Old", "private_group").community == "telegram:-42"
    assert not ChatInfo(7, "Dana", "personal_chat").is_group


def test_text_as_string_and_as_entity_list_count_the_same() -> None:
    tr = history()
    plain = posted(tr.translate(tg_message(1, day(5), MONA, "Mona", "Hi @mona, thanks")).events)
    parts = ["Hi ", {"type": "mention", "text": "@mona"}, ", thanks"]
    listed = posted(tr.translate(tg_message(2, day(5), MONA, "Mona", parts)).events)
    assert plain.text == listed.text == "Hi @mona, thanks"
    assert plain.length == listed.length == 14


def test_hebrew_text_keeps_its_letters_and_length() -> None:
    event = posted(history().translate(
        tg_message(1, day(5), DANA, "דנה", "שָׁלוֹם לכולם")).events)
    assert event.text == "שָׁלוֹם לכולם"
    assert event.length == 9  # niqqud does not count, as live
    assert event.author_name == "דנה"


def test_ids_are_the_ones_the_live_adapter_makes() -> None:
    imported = posted(history().translate(tg_message(55, day(5), MONA, "Mona")).events)
    update = Update.de_json({"update_id": 9, "message": live.message(
        live.user(MONA, "Mona"), 55, "hello there", day(5),
        chat=live.group(-1001234567))}, None)
    assert update.message is not None
    live_event = message_event(9, update.message)
    assert live_event is not None
    for name in ("community", "message", "author", "channel", "at", "length"):
        assert getattr(imported, name) == getattr(live_event, name), name


def test_reply_names_the_parent_and_its_author() -> None:
    tr = history()
    tr.translate(tg_message(1, day(5), MONA, "Mona", "question?"))
    reply = posted(tr.translate(tg_message(2, day(5, 10), DANA, "Dana", "answer",
                                           reply_to_message_id=1)).events)
    assert reply.reply_to == "telegram:-1001234567:1"
    assert reply.reply_to_author == "telegram:100"


def test_reply_to_a_message_before_the_window_leaves_the_author_to_the_store() -> None:
    tr = history(recent=2)
    for n in range(1, 5):
        tr.translate(tg_message(n, day(5), MONA, "Mona"))
    reply = posted(tr.translate(tg_message(9, day(5), DANA, "Dana", reply_to_message_id=1))
                   .events)
    assert reply.reply_to == "telegram:-1001234567:1" and reply.reply_to_author is None


def test_forum_topic_root_is_the_channel_not_a_parent() -> None:
    tr = history()
    tr.translate(tg_service(3, day(5), "topic_created", MONA, "Mona", title="Help"))
    first = posted(tr.translate(tg_message(4, day(5), DANA, "Dana", "in the topic",
                                           reply_to_message_id=3)).events)
    assert first.channel == "telegram:-1001234567:topic:3"
    assert first.reply_to is None
    answer = posted(tr.translate(tg_message(5, day(5), MONA, "Mona", "yes",
                                            reply_to_message_id=4)).events)
    assert answer.channel == "telegram:-1001234567:topic:3"
    assert answer.reply_to_author == "telegram:101"


def test_joins_by_themselves_and_by_link() -> None:
    tr = history()
    tr.translate(tg_message(1, day(5), MONA, "Mona"))
    self_join = tr.translate(tg_service(2, day(5), "invite_members", DANA, "Dana",
                                        members=["Dana"]))
    assert self_join.events == (MemberJoined(community=COMMUNITY, at=day(5),
                                             member="telegram:101", name="Dana"),)
    by_link = tr.translate(tg_service(3, day(6), "join_group_by_link", 102, "Eli",
                                      inviter="Mona"))
    joined, invite = by_link.events
    assert isinstance(joined, MemberJoined) and joined.member == "telegram:102"
    assert isinstance(invite, InviteUsed) and invite.inviter == "telegram:100"


def test_members_added_by_name_only_are_matched_or_left_out() -> None:
    tr = history()
    tr.translate(tg_message(1, day(5), DANA, "Dana"))
    record = tr.translate(tg_service(2, day(6), "invite_members", MONA, "Mona",
                                     members=["Dana", "Carol Cohen"]))
    assert [e.member for e in record.events if isinstance(e, MemberJoined)] == ["telegram:101"]
    assert record.skipped == "joined_by_name"


def test_a_name_two_members_share_is_not_guessed() -> None:
    tr = history()
    tr.translate(tg_message(1, day(5), 201, "Noa"))
    tr.translate(tg_message(2, day(5), 202, "Noa"))
    record = tr.translate(tg_service(3, day(6), "remove_members", MONA, "Mona",
                                     members=["Noa"]))
    assert record.events == () and record.skipped == "left_by_name"


def test_leaving_by_themselves_and_being_removed() -> None:
    tr = history()
    tr.translate(tg_message(1, day(5), DANA, "Dana"))
    left = tr.translate(tg_service(2, day(6), "remove_members", 102, "Eli", members=["Eli"]))
    removed = tr.translate(tg_service(3, day(6), "remove_members", MONA, "Mona",
                                      members=["Dana"]))
    assert [(type(e), e.member) for e in (*left.events, *removed.events)] == [
        (MemberLeft, "telegram:102"), (MemberLeft, "telegram:101")]


def test_reactions_with_reactors_are_reactions_at_their_own_time() -> None:
    reacted = day(5, 11, 30)
    record = history().translate(tg_message(
        7, day(5), MONA, "Mona", reactions=[tg_reaction("👍", 1, (DANA, "Dana", reacted))]))
    _, reaction = record.events
    assert reaction == ReactionAdded(community=COMMUNITY, at=reacted,
                                     message="telegram:-1001234567:7", reactor="telegram:101",
                                     emoji="👍", message_author="telegram:100")


def test_reactions_without_reactors_are_counted_only() -> None:
    record = history().translate(tg_message(
        7, day(5), MONA, "Mona", reactions=[tg_reaction("❤️", 3, (DANA, "Dana", day(6))),
                                            tg_reaction("🔥", 2)]))
    reactions = [e for e in record.events if isinstance(e, ReactionAdded)]
    [counted] = [e for e in record.events if isinstance(e, ReactionsCounted)]
    assert [r.emoji for r in reactions] == ["❤️"]
    assert counted.counts == (("❤️", 2), ("🔥", 2))


def test_custom_emoji_and_reactions_sent_as_a_channel() -> None:
    custom = {"type": "custom_emoji", "count": 2, "document_id": "5368",
              "recent": [{"from": "Dana", "from_id": "user101", "date": "2026-10-05T13:00:00"},
                         {"from": "News", "from_id": "channel77", "date": "2026-10-05T13:00:00"}]}
    record = history().translate(tg_message(7, day(5), MONA, "Mona", reactions=[custom]))
    [reaction] = [e for e in record.events if isinstance(e, ReactionAdded)]
    assert reaction.emoji == "custom:5368"
    [counted] = [e for e in record.events if isinstance(e, ReactionsCounted)]
    assert counted.counts == (("custom:5368", 1),)  # the channel's reaction is anonymous


def test_bots_the_caller_knows_and_posts_sent_as_a_chat_are_bots() -> None:
    tr = history(bots=frozenset({999}))
    assert posted(tr.translate(tg_message(1, day(5), 999, "Helper")).events).author_is_bot
    as_group = tg_message(2, day(5), 0, "Tribe", from_id="channel1234567")
    event = posted(tr.translate(as_group).events)
    assert event.author == "telegram:-1001234567" and event.author_is_bot
    assert not posted(tr.translate(tg_message(3, day(5), MONA, "Mona")).events).author_is_bot


def test_the_bots_own_posts_and_commands_and_empty_messages_are_left_out() -> None:
    tr = history(own_bot=555)
    assert tr.translate(tg_message(1, day(5), 555, "Tribebot")).skipped == "own_post"
    command = [{"type": "bot_command", "text": "/rank"}, " please"]
    assert tr.translate(tg_message(2, day(5), MONA, "Mona", command)).skipped == "command"
    assert tr.translate(tg_message(3, day(5), MONA, "Mona", "")).skipped == "empty"
    photo = posted(tr.translate(tg_message(4, day(5), MONA, "Mona", "", photo="p.jpg")).events)
    assert photo.has_media and photo.length == 0
    pin = tr.translate(tg_service(5, day(5), "pin_message", MONA, "Mona", message_id=4))
    assert pin.skipped == "service"


def test_older_exports_without_unixtime_read_the_date_as_utc() -> None:
    data = tg_message(1, day(5), MONA, "Mona")
    del data["date_unixtime"]
    event = posted(history().translate(data).events)
    assert event.at == day(5) + timedelta(hours=3)  # the exporter's local time, read as UTC


def test_an_unreadable_message_is_left_out_with_its_id() -> None:
    record = history().translate({"id": 8, "type": "message", "from_id": "user1"})
    assert (record.where, record.skipped) == ("8", "unreadable")


# -- reading files -----------------------------------------------------------------------
def test_the_hand_written_fixture_reads_in_order() -> None:
    export = TelegramExport(FIXTURES / "telegram_result.json")
    assert export.info == ChatInfo(1234567, "Tribe", "private_supergroup")
    ids = [m["id"] for m in export.messages()]
    assert ids == list(range(1, 17))
    assert export.bytes_read == export.size


def test_a_community_id_that_is_not_this_chat_is_refused_with_the_right_one(
        tmp_path: Path) -> None:
    path = write(tmp_path / "result.json", tg_export([]))
    with pytest.raises(ImportProblem) as caught:
        TelegramExport(path, community="telegram:1234567")
    assert caught.value.code == "wrong_community"
    assert caught.value.values["expected"] == COMMUNITY


def test_a_truncated_file_names_the_last_whole_message(tmp_path: Path) -> None:
    text = (FIXTURES / "telegram_result.json").read_text(encoding="utf-8")
    cut = text.index('"id": 9,')
    path = tmp_path / "result.json"
    path.write_text(text[:cut], encoding="utf-8")
    export = TelegramExport(path)
    read: list[int] = []
    with pytest.raises(ImportProblem) as caught:
        read.extend(m["id"] for m in export.messages())
    assert read == list(range(1, 9))
    assert caught.value.code == "broken_json" and caught.value.values["after"] == "8"


def test_a_byte_order_mark_is_stepped_over(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "telegram_result.json").read_bytes())
    assert len(list(TelegramExport(path).messages())) == 16


def test_not_an_export_says_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text('["just", "a", "list"]', encoding="utf-8")
    with pytest.raises(ImportProblem) as caught:
        TelegramExport(path)
    assert caught.value.code == "not_an_export"


def whole_account(tmp_path: Path) -> Path:
    chats = [tg_export([tg_message(1, day(5), MONA, "Mona", "in tribe")]),
             tg_export([tg_message(1, day(5), DANA, "Dana", "dm")], chat=42, name="Dana",
                       kind="personal_chat"),
             tg_export([tg_message(1, day(5), DANA, "Dana", "makers")], chat=777,
                       name="Makers")]
    return write(tmp_path / "result.json", {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": MONA, "first_name": "Mona"},
        "chats": {"about": "", "list": chats},
        "left_chats": {"about": "", "list": [tg_export(
            [tg_message(5, day(6), MONA, "Mona", "old group")], chat=31, name="Old",
            kind="private_group")]}})


def test_whole_account_export_picks_the_chat_by_name_id_or_community(tmp_path: Path) -> None:
    path = whole_account(tmp_path)
    by_name = TelegramExport(path, chat="makers")
    assert [m["text"] for m in by_name.messages()] == ["makers"]
    by_id = TelegramExport(path, chat="-1001234567")
    assert [m["text"] for m in by_id.messages()] == ["in tribe"]
    by_community = TelegramExport(path, community="telegram:-31")
    assert [m["text"] for m in by_community.messages()] == ["old group"]


def test_whole_account_export_without_a_choice_lists_the_groups(tmp_path: Path) -> None:
    with pytest.raises(ImportProblem) as caught:
        TelegramExport(whole_account(tmp_path))
    assert caught.value.code == "choose_chat" and caught.value.values["count"] == 3
    assert "“Makers” (telegram:-100777)" in str(caught.value.values["chats"])
    assert "Dana" not in str(caught.value.values["chats"])  # not a group


def test_a_private_chat_is_not_a_group(tmp_path: Path) -> None:
    with pytest.raises(ImportProblem) as caught:
        TelegramExport(whole_account(tmp_path), chat="Dana")
    assert caught.value.code == "not_a_group"


def test_history_modules_import_no_platform_library() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in ("bot/adapters/telegram/history.py", "bot/adapters/discord/history.py",
                 "bot/adapters/discord/ids.py", "bot/core/history.py"):
        tree = ast.parse((root / path).read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"telegram", "discord"}, path


def test_bot_ids_are_read_in_every_form_a_user_may_type() -> None:
    assert bots_from(["123", "user456", "telegram:789", "@helper", ""]) == {123, 456, 789}


def test_a_whole_account_export_that_breaks_before_the_chat_says_so(tmp_path: Path) -> None:
    path = whole_account(tmp_path)
    text = path.read_text(encoding="utf-8")
    export = TelegramExport(path, chat="Makers")
    path.write_text(text[:text.index('"Makers"') + 30], encoding="utf-8")
    with pytest.raises(ImportProblem) as caught:
        list(export.messages())
    assert caught.value.code == "broken_json"


def test_choosing_by_id_reads_no_further_than_the_chat(tmp_path: Path) -> None:
    """A whole account can be gigabytes: past the chosen chat nothing is read (here, the
    file even breaks off after it)."""
    path = whole_account(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index('"Dana"')], encoding="utf-8")
    export = TelegramExport(path, community=COMMUNITY)
    assert [m["text"] for m in export.messages()] == ["in tribe"]
