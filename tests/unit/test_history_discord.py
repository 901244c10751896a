"""DiscordChatExporter JSON -> core events, with plain asserts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord import ids, translate
from bot.adapters.discord.history import ChannelInfo, DiscordExport, DiscordHistory
from bot.core.events import MemberJoined, MessagePosted, ReactionAdded, ReactionsCounted
from bot.core.history import ImportProblem
from bot.importing.sources import DiscordSource
from tests.export_builders import FIXTURES, day, dce_time

GENERAL = ChannelInfo("discord:700", "general")
COMMUNITY = "discord:555000111"


def user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "name": name, "discriminator": "0000", "nickname": name.title(),
            "color": None, "isBot": bot, "avatarUrl": "a.png"}


def message(mid: int, kind: str = "Default", content: str = "hello there", *,
            author: dict[str, Any] | None = None, at: Any = None, **extra: Any
            ) -> dict[str, Any]:
    return {"id": str(mid), "type": kind, "timestamp": dce_time(at or day(5)),
            "timestampEdited": None, "callEndedTimestamp": None, "isPinned": False,
            "content": content, "author": author or user(100, "mona"), "attachments": [],
            "embeds": [], "stickers": [], "reactions": [], "mentions": [], "inlineEmojis": [],
            **extra}


def test_ids_and_emoji_keys_are_the_live_adapters() -> None:
    assert ids.community_id("555") == translate.community_id(555)
    assert ids.member_id("42") == translate.member_id(42)
    assert ids.channel_id("7") == translate.channel_id(7)
    assert ids.message_id("9") == translate.message_id(9)
    assert ids.emoji_key("👍", None) == translate.emoji_key(discord.PartialEmoji(name="👍"))
    custom = discord.PartialEmoji(name="blobcat", id=123456789)
    assert ids.emoji_key("blobcat", "123456789") == translate.emoji_key(custom)


def test_default_and_reply_messages_are_posts_with_their_parent() -> None:
    tr = DiscordHistory("555000111")
    tr.translate(message(1, content="question?"), GENERAL)
    record = tr.translate(message(2, "Reply", "answer", author=user(101, "dana"),
                                  reference={"type": "Default", "messageId": "1",
                                             "channelId": "700", "guildId": "555000111"}),
                          GENERAL)
    [reply] = record.events
    assert isinstance(reply, MessagePosted)
    assert (reply.community, reply.message, reply.author, reply.channel) == (
        COMMUNITY, "discord:2", "discord:101", "discord:700")
    assert (reply.reply_to, reply.reply_to_author) == ("discord:1", "discord:100")
    assert reply.author_name == "Dana"


def test_a_forward_is_no_reply() -> None:
    record = DiscordHistory("555000111").translate(message(
        3, reference={"type": "Forward", "messageId": "1", "channelId": "9"}), GENERAL)
    assert isinstance(record.events[0], MessagePosted) and record.events[0].reply_to is None


def test_member_join_notice_is_a_join_and_other_notices_are_left_out() -> None:
    tr = DiscordHistory("555000111")
    joined = tr.translate(message(4, "GuildMemberJoin", "", author=user(102, "eli")), GENERAL)
    assert joined.events == (MemberJoined(community=COMMUNITY, at=day(5),
                                          member="discord:102", name="Eli"),)
    assert tr.translate(message(5, "ChannelPinnedMessage"), GENERAL).skipped == "system"


def test_reactions_with_users_earn_and_counts_only_are_recorded() -> None:
    reactions = [
        {"emoji": {"id": "", "name": "👍", "code": "thumbsup", "isAnimated": False},
         "count": 3, "users": [user(101, "dana"), user(999, "helper", bot=True)]},
        {"emoji": {"id": "123", "name": "blobcat", "code": "blobcat", "isAnimated": False},
         "count": 2, "users": []},
    ]
    record = DiscordHistory("555000111").translate(message(6, reactions=reactions), GENERAL)
    added = [e for e in record.events if isinstance(e, ReactionAdded)]
    assert [(r.reactor, r.emoji, r.reactor_is_bot, r.message_author) for r in added] == [
        ("discord:101", "👍", False, "discord:100"), ("discord:999", "👍", True, "discord:100")]
    [counted] = [e for e in record.events if isinstance(e, ReactionsCounted)]
    assert counted.counts == (("👍", 1), ("blobcat:123", 2))


def test_bots_and_attachments_as_the_export_says() -> None:
    record = DiscordHistory("555000111").translate(
        message(7, content="", author=user(999, "helper", bot=True),
                attachments=[{"id": "1", "url": "x.png", "fileName": "x.png"}]), GENERAL)
    [post] = record.events
    assert isinstance(post, MessagePosted) and post.author_is_bot and post.has_media


def test_thread_file_counts_in_its_parent_channel() -> None:
    export = DiscordExport(FIXTURES / "discord_thread.json")
    assert export.channel == ChannelInfo("discord:700", "general", thread="discord:800")
    assert export.community == COMMUNITY


def test_newest_first_export_is_refused_with_the_message() -> None:
    tr = DiscordHistory("555000111")
    tr.translate(message(10, at=day(9)), GENERAL)
    with pytest.raises(ImportProblem) as caught:
        tr.translate(message(9, at=day(7)), GENERAL)
    assert caught.value.code == "newest_first" and caught.value.values["message"] == "9"


def test_channel_files_of_one_server_merge_in_time_order() -> None:
    source = DiscordSource([FIXTURES / "discord_general.json", FIXTURES / "discord_thread.json"])
    moments = [r.at for r in source.records()]
    assert moments == sorted(moments) and len(moments) == 10
    assert source.bytes_read == source.size


def test_files_of_two_servers_are_refused(tmp_path: Path) -> None:
    other = json.loads((FIXTURES / "discord_thread.json").read_text(encoding="utf-8"))
    other["guild"] = {"id": "999", "name": "Elsewhere"}
    path = tmp_path / "other.json"
    path.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(ImportProblem) as caught:
        DiscordSource([FIXTURES / "discord_general.json", path])
    assert caught.value.code == "mixed_servers"


def test_a_telegram_file_is_not_a_discord_export() -> None:
    with pytest.raises(ImportProblem) as caught:
        DiscordExport(FIXTURES / "telegram_result.json")
    assert caught.value.code == "not_a_discord_export"
