"""translate.py with plain asserts: discord.py builds its objects from the same payloads
the fake gateway sends; no event loop, no network."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest
from discord.state import ConnectionState

from bot.adapters.discord import translate
from bot.adapters.discord.translate import InviteCount, used_invite
from bot.core.events import MessagePosted, ReactionAdded, ReactionRemoved
from bot.core.text import ChannelLink, Mention, RichText, plain
from tests.conftest import START
from tests.e2e.discord import payloads as p

COMMUNITY = "discord:500"


@pytest.fixture
def state() -> ConnectionState:
    st: ConnectionState = ConnectionState(
        dispatch=lambda *a, **k: None, handlers={}, hooks={}, http=None,  # type: ignore[arg-type]
        intents=discord.Intents.all(), chunk_guilds_at_startup=False)
    st.user = discord.ClientUser(state=st, data=p.BOT)  # type: ignore[arg-type]
    return st


@pytest.fixture
def guild(state: ConnectionState) -> discord.Guild:
    built = discord.Guild(data=p.guild(), state=state)  # type: ignore[arg-type]
    state._add_guild(built)
    return built


def build(state: ConnectionState, guild: discord.Guild, data: p.Json) -> discord.Message:
    channel = guild.get_channel_or_thread(int(data["channel_id"]))
    return discord.Message(state=state, channel=channel, data=data)  # type: ignore[arg-type]


def posted(state: ConnectionState, guild: discord.Guild, data: p.Json) -> MessagePosted:
    event = translate.message_posted(build(state, guild, data))
    assert event is not None
    return event


MESSAGE = p.snowflake(START + timedelta(minutes=1))
REPLY = p.snowflake(START + timedelta(minutes=2))


def test_ids_are_namespaced_and_round_trip() -> None:
    assert translate.member_id(42) == "discord:42"
    assert translate.snowflake("discord:42") == 42
    with pytest.raises(ValueError):
        translate.snowflake("telegram:42")


def test_guild_lists_text_channels_with_the_system_channel_first(guild: discord.Guild) -> None:
    event = translate.community_joined(guild, START)
    assert event.community == COMMUNITY and event.name == "Tribe"
    assert [c.name for c in event.channels] == ["general", "owners"]
    assert event.channels[0].id == "discord:501"


def test_message_carries_author_channel_time_and_visible_length(
    state: ConnectionState, guild: discord.Guild
) -> None:
    event = posted(state, guild, p.message(MESSAGE, p.ALICE, "שָׁלוֹם 👍🏽"))
    assert event.author == "discord:1" and event.author_name == "Alice"
    assert event.channel == "discord:501" and event.thread is None
    assert event.at == START + timedelta(minutes=1)
    assert event.length == 5, "niqqud and the skin tone do not count"
    assert event.text == "שָׁלוֹם 👍🏽" and not event.author_is_bot


def test_message_without_content_has_no_text(
    state: ConnectionState, guild: discord.Guild
) -> None:
    event = posted(state, guild, p.message(MESSAGE, p.ALICE, ""))
    assert event.text is None and event.length == 0


def test_reply_names_the_replied_message_and_its_author(
    state: ConnectionState, guild: discord.Guild
) -> None:
    question = p.message(MESSAGE, p.ALICE, "where?")
    event = posted(state, guild, p.message(REPLY, p.BOB, "here", reply_to=question))
    assert event.reply_to == f"discord:{MESSAGE}" and event.reply_to_author == "discord:1"


def test_thread_message_names_thread_and_parent(
    state: ConnectionState, guild: discord.Guild
) -> None:
    event = posted(state, guild, p.message(MESSAGE, p.ALICE, "hi", channel=p.THREAD))
    assert event.thread == f"discord:{p.THREAD}" and event.channel == f"discord:{p.GENERAL}"


def test_webhook_messages_count_as_bots(state: ConnectionState, guild: discord.Guild) -> None:
    event = posted(state, guild, p.message(MESSAGE, p.HOOK, "news", webhook_id=900))
    assert event.author_is_bot


def test_system_messages_and_dms_are_not_events(
    state: ConnectionState, guild: discord.Guild
) -> None:
    pinned = {**p.message(MESSAGE, p.ALICE, ""), "type": 6}
    assert translate.message_posted(build(state, guild, pinned)) is None


def test_reaction_add_and_remove_keep_the_same_identity() -> None:
    add = p.reaction(MESSAGE, p.BOB, "🔥", author=p.ALICE)
    raw_add = discord.RawReactionActionEvent(
        add, discord.PartialEmoji.from_dict(add["emoji"]), "REACTION_ADD")  # type: ignore[arg-type]
    raw_add.member = None
    event = translate.reaction_event(raw_add, START, translate.reaction_author(raw_add))
    assert isinstance(event, ReactionAdded)
    assert event.message_author == "discord:1" and event.reactor == "discord:2"
    removed = p.reaction_removed(MESSAGE, p.BOB, "🔥")
    raw_removed = discord.RawReactionActionEvent(
        removed, discord.PartialEmoji.from_dict(removed["emoji"]),  # type: ignore[arg-type]
        "REACTION_REMOVE")
    raw_removed.member = None
    undo = translate.reaction_event(raw_removed, START, None)
    assert isinstance(undo, ReactionRemoved)
    assert event.undoes() == undo.key


def test_custom_emoji_are_keyed_by_name_and_id() -> None:
    emoji = discord.PartialEmoji(name="party", id=1234)
    assert translate.emoji_key(emoji) == "party:1234"
    assert translate.emoji_key(discord.PartialEmoji(name="👍")) == "👍"


def test_edit_without_edited_timestamp_is_an_embed_update_not_an_edit(
    state: ConnectionState, guild: discord.Guild
) -> None:
    data = p.message(MESSAGE, p.ALICE, "see https://example.org")
    raw = discord.RawMessageUpdateEvent(data, build(state, guild, data))  # type: ignore[arg-type]
    assert translate.message_edited(raw) is None
    data = {**data, "content": "see https://example.org !!",
            "edited_timestamp": (START + timedelta(minutes=3)).isoformat()}
    raw = discord.RawMessageUpdateEvent(data, build(state, guild, data))  # type: ignore[arg-type]
    event = translate.message_edited(raw)
    assert event is not None and event.at == START + timedelta(minutes=3)
    assert event.length == len("seehttps://example.org!!")


# -- invites -----------------------------------------------------------------------------
def test_the_invite_whose_count_grew_was_used() -> None:
    before = {"a": InviteCount(3, 1), "b": InviteCount(0, 2)}
    after = {"a": InviteCount(4, 1), "b": InviteCount(0, 2)}
    assert used_invite(before, after) == ("a", 1)


def test_a_new_invite_used_at_once_is_found() -> None:
    assert used_invite({}, {"fresh": InviteCount(1, 5)}) == ("fresh", 5)


def test_a_single_use_invite_that_vanished_was_used() -> None:
    before = {"a": InviteCount(3, 1), "once": InviteCount(0, 2)}
    assert used_invite(before, {"a": InviteCount(3, 1)}) == ("once", 2)
    assert used_invite({"a": InviteCount(3, 1)}, {"a": InviteCount(3, 1)},
                       vanished={"once": InviteCount(0, 2)}) == ("once", 2)


def test_ambiguous_invite_diffs_credit_nobody() -> None:
    before = {"a": InviteCount(0, 1), "b": InviteCount(0, 2)}
    assert used_invite(before, {"a": InviteCount(1, 1), "b": InviteCount(1, 2)}) is None
    assert used_invite(before, {}) is None
    assert used_invite(before, dict(before)) is None


# -- rendering and permissions -----------------------------------------------------------
def test_render_escapes_text_and_renders_mentions_and_channels() -> None:
    text = RichText(("*bold* @everyone ", Mention("discord:1", "Alice"), " in ",
                     ChannelLink("discord:501", "general")))
    assert translate.render(text) == "\\*bold\\* @\u200beveryone <@1> in <#501>"


def test_allowed_mentions_are_only_the_mentioned_members() -> None:
    text = RichText((Mention("discord:1", "A"), " & ", Mention("discord:1", "A"),
                     Mention("discord:2", "B")))
    allowed = translate.allowed_mentions(text).to_dict()
    assert allowed["parse"] == [] and allowed["users"] == [1, 2]
    assert translate.allowed_mentions(plain("@everyone")).to_dict()["users"] == []


def test_moderators_have_manage_server_or_the_configured_role() -> None:
    member_perms = discord.Permissions(send_messages=True)
    assert translate.is_moderator(discord.Permissions(manage_guild=True), [], "")
    assert not translate.is_moderator(member_perms, ["Mods"], "")
    assert translate.is_moderator(member_perms, ["Mods"], "Mods")
    assert not translate.is_moderator(member_perms, ["Members"], "Mods")


def test_role_problems(guild: discord.Guild) -> None:
    regular, elite = guild.get_role(p.REGULAR_ROLE), guild.get_role(p.ELITE_ROLE)
    me = guild.me
    assert translate.role_problem(regular, me.guild_permissions, me.top_role) is None
    assert translate.role_problem(elite, me.guild_permissions, me.top_role) == "role_above_bot"
    assert translate.role_problem(None, me.guild_permissions, me.top_role) == "role_missing"
    assert translate.role_problem(regular, discord.Permissions.none(),
                                  me.top_role) == "no_manage_roles"
