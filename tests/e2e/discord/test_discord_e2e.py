"""End to end: the real discord.py client <-> a fake Discord on 127.0.0.1, the real
runtime and engagement cog, a temporary SQLite database. No other network."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import discord
import pytest

from bot.adapters.discord.adapter import DM_CLOSED, DiscordAdapter
from bot.adapters.discord.translate import (
    channel_id,
    community_id,
    member_id,
    message_id,
    render_chunks,
)
from bot.core.actions import CreateInvite, DirectMessage, Post, SetRole
from bot.core.cog import Cog
from bot.core.commands import Command, Invocation, Reply
from bot.core.text import Mention, RichText, plain
from bot.runtime import Runtime
from tests.conftest import START
from tests.e2e.discord.conftest import COMMUNITY, Harness, discord_settings
from tests.e2e.discord.fake_discord import DM_CHANNEL_BASE, FakeDiscord
from tests.e2e.discord.payloads import (
    ALICE,
    APP_ID,
    BOB,
    CAROL,
    ELITE_ROLE,
    GENERAL,
    GUILD,
    HOOK,
    MANAGE_GUILD,
    MODS_ROLE,
    MONA,
    OWNERS,
    REGULAR_ROLE,
    THREAD,
    Json,
    attachment,
    guild,
    interaction,
    invite,
    member,
    member_add,
    member_option,
    message,
    reaction,
    reaction_removed,
    snowflake,
    user,
    without_user,
)

EPHEMERAL = 64


def msg_id(minutes: float, n: int = 0) -> int:
    """A message id issued ``minutes`` after START (cooldowns read the message time)."""
    return snowflake(START + timedelta(minutes=minutes), n)


def answer_text(call: Any) -> str:
    data = call.body["data"]
    if data.get("embeds"):
        return str(data["embeds"][0]["description"])
    return str(data.get("content") or "")


def is_ephemeral(call: Any) -> bool:
    return bool(int(call.body["data"].get("flags") or 0) & EPHEMERAL)


async def rows(bot: Harness, sql: str, *params: Any) -> list[Any]:
    return await bot.runtime.repository.rows(sql, params)


# -- connecting --------------------------------------------------------------------------
async def test_guild_present_on_ready_is_stored_with_its_channels(bot: Harness) -> None:
    await bot.runtime.bus.drain()
    communities = {c.id: c for c in await bot.runtime.repository.communities()}
    assert communities[COMMUNITY].name == "Tribe"
    channels = await bot.runtime.repository.channels(COMMUNITY)
    assert (channel_id(GENERAL), "general") in channels
    assert (channel_id(OWNERS), "owners") in channels


async def test_gateway_address_comes_from_the_api_and_intents_are_minimal(
    bot: Harness,
) -> None:
    assert bot.fake.gateway_queries == 1
    assert bot.fake.identify is not None
    intents = bot.fake.identify["intents"]
    members, messages, reactions, invites, content = 1 << 1, 1 << 9, 1 << 10, 1 << 6, 1 << 15
    assert intents & members and intents & messages and intents & reactions
    assert intents & invites
    assert not intents & content, "message content is privileged and off by default"


async def test_message_content_intent_follows_text_storage(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    settings = discord_settings(tmp_path, fake, privacy={"store_message_text": True})
    async with Runtime(settings, cogs=[]) as runtime, connected(runtime, settings.discord):
        pass
    assert fake.identify is not None and fake.identify["intents"] & (1 << 15)


async def test_auto_sharding_uses_the_sharded_client_on_the_api_gateway(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    settings = discord_settings(tmp_path, fake, discord={"shards": "auto"})
    async with Runtime(settings, cogs=[]) as runtime, connected(
            runtime, settings.discord) as adapter:
        assert isinstance(adapter.client, discord.AutoShardedClient)
        assert fake.identify is not None and fake.identify["shard"] == [0, 1]
        communities = {c.id for c in await runtime.repository.communities()}
        assert COMMUNITY in communities


async def test_a_shard_range_identifies_as_its_shards_and_gets_only_their_guilds(
    tmp_path: Path,
) -> None:
    theirs, ours = 10 << 22, 11 << 22  # shards 0 and 1 of two
    fake = FakeDiscord([guild(guild_id=theirs), guild(guild_id=ours, general=801, owners=802,
                                                      thread_id=803)], shard_count=2)
    await fake.start()
    settings = discord_settings(tmp_path, fake, discord={"shard_count": 2, "shard_ids": [1]})
    try:
        async with Runtime(settings, cogs=[]) as runtime, connected(
                runtime, settings.discord) as adapter:
            assert isinstance(adapter.client, discord.AutoShardedClient)
            assert list(fake.identified) == [1]
            assert fake.identified[1]["shard"] == [1, 2]
            communities = {c.id for c in await runtime.repository.communities()}
            assert communities == {community_id(ours)}
    finally:
        await fake.stop()


async def test_commands_sync_only_when_their_definitions_change(
    bot: Harness, runtime: Runtime
) -> None:
    sync = rf"/applications/{APP_ID}/commands"
    [synced] = bot.fake.sent("PUT", sync)
    names = {c["name"] for c in synced.body}  # type: ignore[union-attr]
    assert {"rank", "top", "points", "season", "engagement"} <= names
    points = next(c for c in synced.body if c["name"] == "points")  # type: ignore[union-attr]
    assert {o["name"] for o in points["options"]} >= {"give", "take", "history"}
    assert bot.adapter.synced
    await bot.adapter.stop()
    again = DiscordAdapter(runtime, runtime.settings.discord, guild_ready_timeout=0.05)
    await again.start()
    await again.until_ready()
    await again.stop()
    assert not again.synced
    assert len(bot.fake.sent("PUT", sync)) == 1, "unchanged definitions are not re-synced"


# -- guilds and members ------------------------------------------------------------------
async def test_bot_joining_a_new_guild_stores_the_community(bot: Harness) -> None:
    await bot.send("GUILD_CREATE", {**guild(guild_id=700, name="Second tribe"),
                                    "unavailable": None})
    communities = {c.id: c for c in await bot.runtime.repository.communities()}
    assert communities[community_id(700)].name == "Second tribe"
    assert communities[community_id(700)].left_at is None


async def test_bot_removed_from_a_guild_marks_it_left(bot: Harness) -> None:
    await bot.send("GUILD_DELETE", {"id": str(GUILD)})
    communities = {c.id: c for c in await bot.runtime.repository.communities()}
    assert communities[COMMUNITY].left_at is not None


async def test_member_join_reaches_the_store(bot: Harness) -> None:
    dana = user(4, "Dana")
    await bot.send("GUILD_MEMBER_ADD", member_add(dana, START + timedelta(minutes=3)))
    found = await rows(bot, "SELECT name, present FROM members WHERE community_id = ? AND "
                            "member_id = ?", COMMUNITY, member_id(4))
    assert [tuple(r) for r in found] == [("Dana", 1)]
    events = await rows(bot, "SELECT kind FROM member_events WHERE member_id = ?",
                        member_id(4))
    assert [r[0] for r in events] == ["joined"]


async def test_member_leaving_is_recorded(bot: Harness) -> None:
    await bot.send("GUILD_MEMBER_REMOVE", {"guild_id": str(GUILD), "user": BOB})
    events = await rows(bot, "SELECT kind FROM member_events WHERE member_id = ?",
                        member_id(2))
    assert [r[0] for r in events] == ["left"]


@pytest.fixture
def guilds_with_invites(fake: FakeDiscord) -> FakeDiscord:
    fake.invites[GUILD] = [invite("alice-link", ALICE, uses=3), invite("bob-link", BOB, 0)]
    return fake


async def test_invite_used_is_found_by_diffing_use_counts(
    guilds_with_invites: FakeDiscord, bot: Harness
) -> None:
    bot.fake.invites[GUILD] = [invite("alice-link", ALICE, uses=4), invite("bob-link", BOB, 0)]
    await bot.send("GUILD_MEMBER_ADD", member_add(user(4, "Dana")))
    found = await rows(bot, "SELECT member_id, inviter_id, code FROM invites")
    assert [tuple(r) for r in found] == [(member_id(4), member_id(1), "alice-link")]


async def test_single_use_invite_that_vanished_still_credits_its_inviter(
    guilds_with_invites: FakeDiscord, bot: Harness
) -> None:
    await bot.send("INVITE_CREATE", {**invite("once", BOB, 0, max_uses=1),
                                     "guild_id": str(GUILD), "channel_id": str(GENERAL)})
    await bot.send("INVITE_DELETE", {"code": "once", "guild_id": str(GUILD),
                                     "channel_id": str(GENERAL)})
    await bot.send("GUILD_MEMBER_ADD", member_add(user(4, "Dana")))
    found = await rows(bot, "SELECT member_id, inviter_id, code FROM invites")
    assert [tuple(r) for r in found] == [(member_id(4), member_id(2), "once")]


async def test_personal_invite_credits_the_member_it_was_made_for(
    guilds_with_invites: FakeDiscord, bot: Harness
) -> None:
    delivery = await bot.adapter.deliver(CreateInvite(community=COMMUNITY,
                                                      member=member_id(2)))
    assert delivery.ok and delivery.message is not None
    code = delivery.message.rsplit("/", 1)[1]
    made = next(i for i in bot.fake.invites[GUILD] if i["code"] == code)
    assert made["inviter"]["id"] == str(APP_ID)  # Discord says the bot made it...
    made["uses"] = 1
    await bot.send("GUILD_MEMBER_ADD", member_add(user(4, "Dana")))
    found = await rows(bot, "SELECT member_id, inviter_id, code FROM invites")
    assert [tuple(r) for r in found] == [(member_id(4), member_id(2), code)]  # ...Bob gets it


# -- messages, replies, reactions --------------------------------------------------------
async def test_messages_replies_and_reactions_earn_points(bot: Harness) -> None:
    question = message(msg_id(1), ALICE, "how do I join the meetup?")
    await bot.send("MESSAGE_CREATE", question)
    await bot.send("MESSAGE_CREATE", message(msg_id(2), BOB, "sign up in #events",
                                             reply_to=question))
    assert await bot.reasons(ALICE) == [("message", 20)]
    assert await bot.reasons(BOB) == [("message", 20), ("reply", 5)]
    await bot.send("MESSAGE_REACTION_ADD", reaction(msg_id(1), BOB, author=ALICE))
    assert await bot.points(ALICE) == 22
    await bot.send("MESSAGE_REACTION_REMOVE", reaction_removed(msg_id(1), BOB))
    assert await bot.points(ALICE) == 20


async def test_events_redelivered_after_a_resume_count_once(bot: Harness) -> None:
    said = message(msg_id(1), ALICE, "hello again everyone")
    liked = reaction(msg_id(1), BOB, author=ALICE)
    for _ in range(2):
        await bot.send("MESSAGE_CREATE", said)
        await bot.send("MESSAGE_REACTION_ADD", liked)
    assert await bot.reasons(ALICE) == [("message", 20), ("reaction_received", 2)]


async def test_reply_records_the_replied_to_author(bot: Harness) -> None:
    question = message(msg_id(1), ALICE, "anyone around?")
    await bot.send("MESSAGE_CREATE", question)
    await bot.send("MESSAGE_CREATE", message(msg_id(2), BOB, "yes, here", reply_to=question))
    found = await rows(bot, "SELECT reply_to_id, reply_to_author_id FROM messages "
                            "WHERE message_id = ?", message_id(msg_id(2)))
    assert [tuple(r) for r in found] == [(message_id(msg_id(1)), member_id(1))]


async def test_reaction_on_an_uncached_message_finds_the_author_in_the_store(
    bot: Harness,
) -> None:
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE, "a message from before"))
    bot.adapter.client._connection._messages.clear()  # type: ignore[union-attr]
    await bot.send("MESSAGE_REACTION_ADD", reaction(msg_id(1), BOB))  # no message_author_id
    assert await bot.reasons(ALICE) == [("message", 20), ("reaction_received", 2)]


async def test_thread_messages_record_the_thread_and_its_parent(bot: Harness) -> None:
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE, "in the thread",
                                             channel=THREAD))
    found = await rows(bot, "SELECT channel_id, thread_id FROM messages")
    assert [tuple(r) for r in found] == [(channel_id(GENERAL), channel_id(THREAD))]
    assert await bot.points(ALICE) == 20


async def test_bot_and_webhook_messages_are_recorded_as_bots_and_earn_nothing(
    bot: Harness,
) -> None:
    robot = user(800, "Robot", bot=True)
    await bot.send("MESSAGE_CREATE", message(msg_id(1), robot, "beep boop beep"))
    await bot.send("MESSAGE_CREATE", message(msg_id(2), HOOK, "news of the week",
                                             webhook_id=900))
    found = await rows(bot, "SELECT author_is_bot FROM messages ORDER BY message_id")
    assert [r[0] for r in found] == [1, 1]
    totals = await bot.runtime.repository.point_totals(COMMUNITY, 1)
    assert totals == {}


async def test_attachments_count_as_media(bot: Harness) -> None:
    photo = attachment(1, "cat.png", bot.fake.url("/attachments/cat.png"))
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE, "", attachments=(photo,)))
    found = await rows(bot, "SELECT has_media, length FROM messages")
    assert [tuple(r) for r in found] == [(1, 0)]


async def test_edits_and_deletes_are_recorded(bot: Harness) -> None:
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE, "frist post"))
    edited = {**message(msg_id(1), ALICE, "first post!!"),
              "edited_timestamp": (START + timedelta(minutes=5)).isoformat()}
    await bot.send("MESSAGE_UPDATE", edited)
    await bot.send("MESSAGE_DELETE", {"id": str(msg_id(1)), "channel_id": str(GENERAL),
                                      "guild_id": str(GUILD)})
    found = await rows(bot, "SELECT length, edited_at IS NOT NULL, deleted_at IS NOT NULL "
                            "FROM messages")
    assert [tuple(r) for r in found] == [(len("firstpost!!"), 1, 1)]


# -- slash commands ----------------------------------------------------------------------
async def test_rank_answers_with_level_and_points(bot: Harness) -> None:
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE))
    answer = await bot.run(interaction(1, ALICE, "rank"))
    [embed] = answer.body["data"]["embeds"]
    text = embed["description"]
    assert "<@1>" in text and "20 points" in text and "Rank #1" in text
    assert not is_ephemeral(answer)


async def test_top_lists_the_leaderboard(bot: Harness) -> None:
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE))
    await bot.send("MESSAGE_CREATE", message(msg_id(2), BOB))
    await bot.send("MESSAGE_REACTION_ADD", reaction(msg_id(2), ALICE, author=BOB))
    answer = await bot.run(interaction(
        2, CAROL, "top", options=({"type": 3, "name": "period", "value": "week"},)))
    text = answer_text(answer)
    assert text.index("Bob") < text.index("Alice"), text
    assert "1. Bob — 22" in text and "2. Alice — 20" in text


async def test_members_cannot_give_points_and_are_told_privately(bot: Harness) -> None:
    option, resolved = member_option("member", BOB)
    answer = await bot.run(interaction(
        3, ALICE, "points", sub="give", resolved=resolved,
        options=(option, {"type": 4, "name": "amount", "value": 50},
                 {"type": 3, "name": "reason", "value": "pls"})))
    assert is_ephemeral(answer)
    assert "only moderators" in answer_text(answer)
    assert await bot.points(BOB) == 0


async def test_moderators_give_points_and_only_the_member_is_pinged(bot: Harness) -> None:
    option, resolved = member_option("member", BOB)
    answer = await bot.run(interaction(
        4, MONA, "points", sub="give", resolved=resolved, permissions=MANAGE_GUILD,
        options=(option, {"type": 4, "name": "amount", "value": 50},
                 {"type": 3, "name": "reason", "value": "ran the *meetup* @everyone"})))
    assert answer_text(answer) == "Gave 50 points to <@2>."
    mentions = answer.body["data"]["allowed_mentions"]
    assert mentions["parse"] == [] and mentions["users"] == [2], "no @everyone, no roles"
    assert await bot.reasons(BOB) == [("moderator", 50)]


async def test_configured_moderator_role_may_run_moderator_commands(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    from tests.conftest import SeededEngagement

    settings = discord_settings(tmp_path, fake, discord={"moderator_role": "Mods"})
    async with Runtime(settings, cogs=[SeededEngagement]) as runtime:
        adapter = DiscordAdapter(runtime, settings.discord, guild_ready_timeout=0.05)
        await adapter.start()
        await adapter.until_ready()
        try:
            harness = Harness(fake, runtime, adapter)
            option, resolved = member_option("member", BOB)
            answer = await harness.run(interaction(
                5, ALICE, "points", sub="take", resolved=resolved, roles=(MODS_ROLE,),
                options=(option, {"type": 4, "name": "amount", "value": 5},
                         {"type": 3, "name": "reason", "value": "spam"})))
            assert answer_text(answer) == "Took 5 points from <@2>."
            assert await harness.reasons(BOB) == [("moderator", -5)]
        finally:
            await adapter.stop()


async def test_points_import_downloads_the_attached_csv(bot: Harness) -> None:
    bot.fake.attachments["points.csv"] = b"member,points\n1,40\n2,15\n"
    csv = attachment(77, "points.csv", bot.fake.url("/attachments/points.csv"))
    answer_path = f"/webhooks/{APP_ID}/token-6"
    await bot.fake.dispatch("INTERACTION_CREATE", interaction(
        6, MONA, "points", sub="import", permissions=MANAGE_GUILD,
        options=({"type": 11, "name": "file", "value": "77"},),
        resolved={"attachments": {"77": csv}}))
    [followup] = await bot.fake.wait_for("POST", answer_path)
    assert "Imported points for 2 members" in followup.body["content"]
    assert await bot.points(ALICE) == 40 and await bot.points(BOB) == 15


class SlowCog(Cog):
    """A cog whose command takes longer than Discord's answer window."""

    name = "slow"

    def commands(self) -> list[Command]:
        return [Command(("report",), "A slow report", self.report)]

    async def report(self, inv: Invocation) -> Reply:
        await asyncio.sleep(0.2)
        return Reply(plain("Report ready."))


@asynccontextmanager
async def connected(runtime: Runtime, section: Any, *, answer_within: float | None = None
                    ) -> AsyncIterator[DiscordAdapter]:
    """The Discord adapter of ``runtime``, started and ready, stopped on the way out."""
    adapter = DiscordAdapter(runtime, section, guild_ready_timeout=0.05)
    if answer_within is not None:
        adapter.answer_within = answer_within
    await adapter.start()
    await adapter.until_ready()
    try:
        yield adapter
    finally:
        await adapter.stop()


@asynccontextmanager
async def bot_with(tmp_path: Path, fake: FakeDiscord, cog: type[Cog], *,
                   answer_within: float | None = None) -> AsyncIterator[Harness]:
    """The Discord adapter on a runtime with only ``cog``."""
    settings = discord_settings(tmp_path, fake)
    async with Runtime(settings, cogs=[cog]) as runtime, connected(
            runtime, settings.discord, answer_within=answer_within) as adapter:
        yield Harness(fake, runtime, adapter)


async def test_slow_commands_are_deferred_then_answered(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    async with bot_with(tmp_path, fake, SlowCog, answer_within=0.02) as harness:
        deferral = await harness.run(interaction(8, ALICE, "report"))
        assert deferral.body["type"] == 5, "deferred: Discord shows 'thinking…'"
        [followup] = await fake.wait_for("POST", rf"/webhooks/{APP_ID}/token-8")
        assert followup.body["content"] == "Report ready."


class ListingCog(Cog):
    """A cog whose answer is longer than one Discord message."""

    name = "listing"
    LINES: ClassVar[list[str]] = [f"item {n:03d}: " + "x" * 60 for n in range(80)]

    def commands(self) -> list[Command]:
        return [Command(("listing",), "A long listing", self.listing)]

    async def listing(self, inv: Invocation) -> Reply:
        return Reply(plain("\n".join(self.LINES)))


async def test_a_long_answer_continues_in_follow_up_messages(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    async with bot_with(tmp_path, fake, ListingCog) as harness:
        answer = await harness.run(interaction(9, ALICE, "listing"))
        followups = await fake.wait_for("POST", rf"/webhooks/{APP_ID}/token-9", count=2)
        contents = [answer.body["data"]["content"], *(f.body["content"] for f in followups)]
        assert all(len(c) <= 2000 for c in contents)
        assert "\n".join(contents).split("\n") == ListingCog.LINES


# -- typed "!" commands ([discord] prefix_commands) ---------------------------------------
PREFIX = {"discord": {"prefix_commands": True}}


def typed(message_id: int, author: Json, content: str, *mentioned: Json) -> Json:
    data = message(message_id, author, content)
    data["mentions"] = [{**u, "member": without_user(member(u))} for u in mentioned]
    return data


@pytest.mark.parametrize("settings_sections", [PREFIX])
async def test_typed_commands_answer_in_the_channel_and_earn_nothing(bot: Harness) -> None:
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE))
    await bot.send("MESSAGE_CREATE", typed(msg_id(2), ALICE, "!rank"))
    [answer] = bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")
    assert "<@1>" in answer.body["content"] and "20 points" in answer.body["content"]
    assert int(answer.body["message_reference"]["message_id"]) == msg_id(2)
    assert await bot.reasons(ALICE) == [("message", 20)], "the command earned nothing"
    await bot.send("MESSAGE_CREATE", message(msg_id(3), BOB, "!!! that was great"))
    assert await bot.reasons(BOB) == [("message", 20)], "not a command: conversation"


@pytest.mark.parametrize("settings_sections", [PREFIX])
async def test_typed_moderator_commands_check_rights_and_resolve_mentions(
    bot: Harness,
) -> None:
    await bot.send("MESSAGE_CREATE", typed(msg_id(1), ALICE, "!points give <@2> 50 pls", BOB))
    await bot.send("MESSAGE_CREATE", typed(msg_id(2), MONA,
                                           "!points give <@!2> 50 ran the meetup", BOB))
    refusal, done = (p.body["content"] for p in
                     bot.fake.sent("POST", rf"/channels/{GENERAL}/messages"))
    assert "only moderators" in refusal
    assert done == "Gave 50 points to <@2>."
    assert await bot.points(BOB) == 50
    await bot.send("MESSAGE_CREATE", typed(msg_id(3), MONA, "!points give nobody 5 x"))
    assert "nobody" in bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")[-1].body[
        "content"], "a bad argument is explained, not ignored"


@pytest.mark.parametrize("settings_sections", [PREFIX])
async def test_a_typed_command_delivered_twice_runs_once(bot: Harness) -> None:
    """The same message again (a resumed gateway, two processes on one shard) must not
    give the points twice, nor answer twice."""
    grant = typed(msg_id(2), MONA, "!points give <@2> 50 ran the meetup", BOB)
    await bot.send("MESSAGE_CREATE", grant)
    await bot.send("MESSAGE_CREATE", grant)
    assert await bot.points(BOB) == 50
    assert [p.body["content"] for p in bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")
            ] == ["Gave 50 points to <@2>."]


@pytest.mark.parametrize("settings_sections", [PREFIX])
async def test_typed_points_import_takes_the_attached_csv(bot: Harness) -> None:
    bot.fake.attachments["points.csv"] = b"member,points\n1,40\n2,15\n"
    await bot.send("MESSAGE_CREATE", typed(msg_id(1), MONA, "!points import"))
    data = message(msg_id(2), MONA, "!points import", attachments=(
        attachment(78, "points.csv", bot.fake.url("/attachments/points.csv")),))
    await bot.send("MESSAGE_CREATE", data)
    missing, imported = (p.body["content"] for p in
                         bot.fake.sent("POST", rf"/channels/{GENERAL}/messages"))
    assert "attach the file" in missing
    assert "Imported points for 2 members" in imported
    assert await bot.points(ALICE) == 40 and await bot.points(BOB) == 15


async def test_typed_commands_are_off_unless_configured(bot: Harness) -> None:
    await bot.send("MESSAGE_CREATE", typed(msg_id(1), ALICE, "!rank"))
    assert bot.fake.sent("POST", rf"/channels/{GENERAL}/messages") == []
    assert await bot.reasons(ALICE) == [("message", 20)]


# -- level roles -------------------------------------------------------------------------
REWARDS: dict[str, Any] = {"engagement": {"level_rewards": {"1": "Regular"}}}


@pytest.mark.parametrize("settings_sections", [REWARDS])
async def test_level_up_grants_the_reward_role(bot: Harness) -> None:
    option, resolved = member_option("member", ALICE)
    await bot.run(interaction(
        7, MONA, "points", sub="give", resolved=resolved, permissions=MANAGE_GUILD,
        options=(option, {"type": 4, "name": "amount", "value": 100},
                 {"type": 3, "name": "reason", "value": "welcome"})))
    [grant] = await bot.fake.wait_for(
        "PUT", rf"/guilds/{GUILD}/members/1/roles/{REGULAR_ROLE}")
    assert grant.method == "PUT"
    [post] = await bot.fake.wait_for("POST", rf"/channels/{GENERAL}/messages")
    assert "<@1> reached level 1" in post.body["content"]


@pytest.mark.parametrize("settings_sections",
                         [{"engagement": {"level_rewards": {"1": "Elite"}}}])
async def test_role_above_the_bot_is_reported_to_moderators_once(bot: Harness) -> None:
    first = await bot.runtime.outbox.send(SetRole(community=COMMUNITY, member=member_id(1),
                                                  role="Elite"))
    second = await bot.runtime.outbox.send(SetRole(community=COMMUNITY, member=member_id(2),
                                                   role="Elite"))
    assert first.ok is False and first.error == "role_above_bot"
    assert second.ok is False
    assert not bot.fake.sent("PUT", rf"/guilds/{GUILD}/members/\d+/roles/{ELITE_ROLE}")
    [notice] = bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")
    assert "Elite" in notice.body["content"] and "above my own" in notice.body["content"]


@pytest.mark.parametrize("guilds", [[guild(bot_permissions=0)]])
async def test_missing_manage_roles_is_reported_in_the_owners_channel(bot: Harness) -> None:
    bot.runtime.communities.set(COMMUNITY, "owners_channel", channel_id(OWNERS))
    delivery = await bot.runtime.outbox.send(
        SetRole(community=COMMUNITY, member=member_id(1), role="Regular"))
    assert delivery.error == "no_manage_roles"
    [notice] = bot.fake.sent("POST", rf"/channels/{OWNERS}/messages")
    assert "Manage Roles" in notice.body["content"]


# -- sending -----------------------------------------------------------------------------
@pytest.mark.parametrize("refused_at", ["message", "channel"])
async def test_dm_to_a_member_with_closed_dms_fails_politely(
    bot: Harness, refused_at: str
) -> None:
    (bot.fake.closed_dms if refused_at == "message" else bot.fake.refused_dm_channels).add(3)
    closed = await bot.runtime.outbox.send(DirectMessage(
        community=COMMUNITY, member=member_id(3), text=plain("Welcome!")))
    assert closed.ok is False and closed.error == DM_CLOSED
    opened = await bot.runtime.outbox.send(DirectMessage(
        community=COMMUNITY, member=member_id(1), text=plain("Welcome!")))
    assert opened.ok
    assert bot.fake.sent("POST", rf"/channels/{DM_CHANNEL_BASE + 1}/messages")
    # the bot is still connected and handling events
    await bot.send("MESSAGE_CREATE", message(msg_id(1), ALICE))
    assert await bot.points(ALICE) == 20


async def test_posts_escape_markdown_and_ping_only_mentioned_members(bot: Harness) -> None:
    text = plain("**Hi** @everyone, ") + RichText((Mention(member_id(1), "Alice"),))
    delivery = await bot.runtime.outbox.send(Post(community=COMMUNITY,
                                                  channel=channel_id(GENERAL), text=text))
    assert delivery.ok and delivery.message is not None
    [post] = bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")
    assert post.body["content"] == "\\*\\*Hi\\*\\* @\u200beveryone, <@1>"
    mentions = post.body["allowed_mentions"]
    assert mentions["parse"] == [] and mentions["users"] == [1], "no @everyone, no roles"



async def test_a_long_post_arrives_whole_in_several_messages(
    bot: Harness, tmp_path: Path,
) -> None:
    lines = [f"{n:02d} שבוע טוב לקהילה, thanks for every answer ✨ " + "·" * 40
             for n in range(60)]  # about 5,400 characters
    text = plain("\n".join(lines) + "\n") + RichText((Mention(member_id(1), "Alice"),))
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n")
    delivery = await bot.runtime.outbox.send(Post(
        community=COMMUNITY, channel=channel_id(GENERAL), text=text, file=chart))
    posts = bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")
    contents = [p.body["content"] for p in posts]
    assert len(posts) == 3 and all(len(c.encode("utf-16-le")) // 2 <= 2000 for c in contents)
    assert "\n".join(contents).split("\n") == [*lines, "<@1>"], "in order, no line cut"
    assert [p.files for p in posts] == [("chart.png",), (), ()], "the chart opens the post"
    assert all(p.body["allowed_mentions"]["users"] == [1] for p in posts)
    assert delivery.ok and delivery.message is not None


def test_escapes_are_never_cut_in_two() -> None:
    chunks = render_chunks(plain("*" * 3000))
    assert all(len(c) <= 2000 for c in chunks)
    assert "".join(chunks) == "\\*" * 3000
