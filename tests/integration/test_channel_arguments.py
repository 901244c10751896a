"""Channel arguments on the console (the replay and test backend), `--stage` on a channel
post, and the outbox holding actions for a platform that has not connected yet."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.actions import Post
from bot.core.events import Channel, CommunityJoined, MemberJoined
from bot.core.text import plain
from bot.runtime import Runtime
from tests.conftest import COMMUNITY, GENERAL, OWNERS, START, Community, make_settings


async def test_channels_by_mention_name_id_or_here(tribe: Community) -> None:
    await tribe.open("ann")
    stored = tribe.runtime.communities
    assert await tribe.command("mod", "/welcome channel #owners") == \
        "Welcomes will be posted in #owners."
    await tribe.command("mod", "/community owners General")
    await tribe.command("mod", "/summary channel console:owners")
    await tribe.command("mod", "/welcome rules here")
    assert await tribe.command("mod", "/engagement set excluded_channels general, #owners") \
        == "excluded_channels is now #general, #owners."
    await tribe.command("mod", "/engagement set level_up_channel owners")
    assert stored.get(COMMUNITY, "welcome.channel") == OWNERS
    assert stored.get(COMMUNITY, "owners_channel") == GENERAL
    assert stored.get(COMMUNITY, "summary.channel") == OWNERS
    assert stored.get(COMMUNITY, "welcome.rules_channel") == "console:tribe-general"
    assert stored.get(COMMUNITY, "engagement.excluded_channels") == [GENERAL, OWNERS]
    assert stored.get(COMMUNITY, "engagement.level_up_channel") == OWNERS
    shown = await tribe.command("mod", "/engagement show")
    assert "excluded_channels = #general, #owners" in shown
    assert "level_up_channel = #owners" in shown
    await tribe.command("mod", "/engagement set excluded_channels none")
    assert stored.get(COMMUNITY, "engagement.excluded_channels") == []


async def test_an_unknown_channel_is_refused_and_nothing_changes(tribe: Community) -> None:
    await tribe.open("ann")
    stored = tribe.runtime.communities
    refusal = await tribe.command("mod", "/welcome channel #memes")
    assert refusal.startswith("/welcome channel: I can't find the channel “#memes” here.")
    assert "#name" in refusal and "here" in refusal, "it says what to type instead"
    assert "“memes”" in await tribe.command(
        "mod", "/engagement set excluded_channels general, memes")
    assert "“#memes”" in await tribe.command("mod", "/engagement set level_up_channel #memes")
    assert stored.get(COMMUNITY, "welcome.channel") is None
    assert stored.get(COMMUNITY, "engagement.excluded_channels") is None
    assert stored.get(COMMUNITY, "engagement.level_up_channel") is None


async def test_level_ups_are_announced_in_the_channel_typed_by_name(tribe: Community) -> None:
    await tribe.open("ann")
    await tribe.command("mod", "/engagement set level_up_channel #owners")
    for _ in range(5):  # 5 x 20 points: level 1
        tribe.tick(minutes=2)
        await tribe.say("ann", f"message number {tribe.now.minute} with some words")
    [level_up] = [s.action for s in tribe.adapter.sent
                  if isinstance(s.action, Post) and s.action.kind == "level_up"]
    assert level_up.channel == OWNERS


async def test_no_welcome_channel_is_logged_once_per_community(
    tribe: Community, caplog: pytest.LogCaptureFixture,
) -> None:
    # a community the platform never described: no channel to welcome anyone in
    for member in ("ann", "ben", "cat"):
        tribe.tick(minutes=5)
        await tribe.adapter.push(MemberJoined(community="console:quiet", at=tribe.now,
                                              member=f"console:{member}", name=member))
    warnings = [r for r in caplog.records if "no channel to welcome" in r.getMessage()]
    assert len(warnings) == 1 and "console:quiet" in warnings[0].getMessage()
    assert not [s for s in tribe.adapter.sent if s.action.community == "console:quiet"]


async def test_stage_without_dm_is_refused(tribe: Community) -> None:
    await tribe.open("ann")
    refusal = await tribe.command(
        "mod", '/content add tips "once 2026-11-03 10:00" --stage regular For regulars')
    assert refusal.startswith("--stage regular only chooses which of the topic's subscribers")
    assert "needs --dm" in refusal
    assert "Scheduled" not in await tribe.command("mod", "/content list")
    accepted = await tribe.command(
        "mod", '/content add tips "once 2026-11-03 10:00" --dm --stage regular For regulars')
    assert accepted.startswith("Scheduled item 1")


async def test_a_send_for_a_platform_that_never_connected_waits_then_ends_at_stop(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, telegram={"enabled": True, "token": "1:x"})
    runtime = Runtime(settings, cogs=[])
    await runtime.start()
    group = "telegram:-1001"
    runtime.publish(CommunityJoined(community=group, at=START, name="Group",
                                    channels=(Channel(id=group, name="Group"),)))
    sending = asyncio.create_task(runtime.outbox.send(
        Post(community=group, channel=group, text=plain("weekly summary"))))
    await asyncio.sleep(0.1)
    assert not sending.done(), "held: the Telegram adapter has not connected"
    await asyncio.wait_for(runtime.stop(), 5)
    delivery = await asyncio.wait_for(sending, 1)
    assert not delivery.ok and delivery.error == "telegram was not connected"


async def test_a_platform_that_is_not_enabled_is_refused_at_once(tmp_path: Path) -> None:
    async with Runtime(make_settings(tmp_path), cogs=[]) as runtime:
        delivery = await asyncio.wait_for(runtime.outbox.send(Post(
            community="discord:1", channel="discord:2", text=plain("hi"))), 1)
    assert not delivery.ok and delivery.error == "no adapter for discord"
