"""Start-up as a big bot sees it: READY, then guilds streamed in for minutes, and
``on_ready`` only after the last. The real discord.py client against the fake gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.translate import channel_id, community_id, member_id
from bot.core.clock import SimulatedClock
from bot.core.events import Channel, CommunityJoined
from bot.runtime import Runtime
from cogs.summary.cog import SummaryCog
from cogs.welcome.cog import WelcomeCog
from tests.conftest import START, SeededEngagement
from tests.e2e.discord.conftest import COMMUNITY, discord_settings, until
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.e2e.discord.payloads import (
    GENERAL,
    OWNERS,
    guild,
    member_add,
    message,
    snowflake,
    user,
)

NEWCOMER = user(40, "Nadia")
#: Long enough that on_ready never comes during a test: the window a big bot lives in.
NEVER_READY = 60.0


async def community_ids(runtime: Runtime) -> set[str]:
    await runtime.bus.drain()
    return {c.id for c in await runtime.repository.communities()}


@contextlib.asynccontextmanager
async def starting(adapter: DiscordAdapter) -> AsyncIterator[asyncio.Task[None]]:
    """``adapter.start()`` running in the background; stopped and awaited at the end."""
    task = asyncio.create_task(adapter.start())
    try:
        yield task
    finally:
        await adapter.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_a_member_who_joins_before_on_ready_is_welcomed_and_counts(
    tmp_path: Path,
) -> None:
    fake = FakeDiscord([guild(member_count=4321)])
    await fake.start()
    settings = discord_settings(tmp_path, fake)
    try:
        async with Runtime(settings, clock=SimulatedClock(START),
                           cogs=[SeededEngagement, WelcomeCog]) as runtime:
            adapter = DiscordAdapter(runtime, settings.discord, guild_ready_timeout=NEVER_READY)
            async with starting(adapter):
                await asyncio.wait_for(fake.started.wait(), 5)
                await fake.dispatch("GUILD_MEMBER_ADD", member_add(NEWCOMER))
                first = snowflake(START + timedelta(minutes=1))
                await fake.dispatch("MESSAGE_CREATE", message(first, NEWCOMER,
                                                              "hello everyone, glad to be here"))
                [welcome] = await fake.wait_for("POST", rf"/channels/{GENERAL}/messages")
                assert "<@40>" in welcome.body["content"]
                assert "4322" in welcome.body["content"], "the guild's count, not the seen one"
                await until(lambda: adapter.handled_events >= 3, what="join and message")
                await runtime.bus.drain()
                totals = await runtime.repository.point_totals(COMMUNITY, 1)
                assert totals.get(member_id(40), 0) > 0, "their first message counts"
                assert not adapter.bridge.ready.is_set(), "all of this before on_ready"
    finally:
        await fake.stop()


async def test_guilds_become_communities_as_they_arrive_not_at_on_ready(
    tmp_path: Path,
) -> None:
    second = 700
    fake = FakeDiscord([guild(), guild(guild_id=second, name="Big tribe", member_count=90_000)],
                       lazy=(second,))
    await fake.start()
    settings = discord_settings(tmp_path, fake)
    try:
        async with Runtime(settings, clock=SimulatedClock(START), cogs=[]) as runtime:
            adapter = DiscordAdapter(runtime, settings.discord, guild_ready_timeout=NEVER_READY)
            async with starting(adapter) as start:
                await asyncio.wait_for(start, 5)  # start() returns at READY
                await until_community(runtime, COMMUNITY)
                assert community_id(second) not in await community_ids(runtime)
                await fake.make_available(second)
                await until_community(runtime, community_id(second))
                channels = await runtime.repository.channels(community_id(second))
                assert (channel_id(GENERAL), "general") in channels
                assert not adapter.bridge.ready.is_set()
    finally:
        await fake.stop()


async def until_community(runtime: Runtime, community: str, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while community not in await community_ids(runtime):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{community} was never stored")
        await asyncio.sleep(0.02)


async def test_a_summary_due_at_restart_waits_for_ready_and_arrives_once(
    tmp_path: Path,
) -> None:
    fake = FakeDiscord([guild()], hold_ready=True)
    await fake.start()
    settings = discord_settings(tmp_path, fake)
    try:
        # the bot knew the community and its owners' channel; it was down at Monday 09:00
        async with Runtime(settings, clock=SimulatedClock(START - timedelta(days=2)),
                           cogs=[SummaryCog]) as before:
            before.publish(CommunityJoined(
                community=COMMUNITY, at=START - timedelta(days=2), name="Tribe",
                channels=(Channel(id=channel_id(GENERAL), name="general"),)))
            before.communities.set(COMMUNITY, "owners_channel", channel_id(OWNERS))
        clock = SimulatedClock(START + timedelta(minutes=30))
        async with Runtime(settings, clock=clock, cogs=[SummaryCog]) as runtime:
            adapter = DiscordAdapter(runtime, settings.discord, guild_ready_timeout=0.05)
            async with starting(adapter):
                due = asyncio.create_task(runtime.advance_to(clock.now()))  # timers fire
                await asyncio.sleep(0.3)
                assert not due.done(), "the summary waits for the platform"
                assert fake.sent("POST", rf"/channels/{OWNERS}/messages") == []
                fake.release_ready()
                await asyncio.wait_for(due, 10)
                [summary] = fake.sent("POST", rf"/channels/{OWNERS}/messages")
                assert summary.body["content"].startswith("Week 2026-W44 in Tribe")
                assert fake.timeline.index("> READY") < fake.timeline.index(
                    f"POST /channels/{OWNERS}/messages")
                await runtime.advance_to(clock.now() + timedelta(hours=1))
                assert len(fake.sent("POST", rf"/channels/{OWNERS}/messages")) == 1
    finally:
        await fake.stop()


async def test_welcome_counts_the_guilds_members_not_the_ones_seen(tmp_path: Path) -> None:
    count = 4321
    fake = FakeDiscord([guild(member_count=count)])
    await fake.start()
    settings = discord_settings(tmp_path, fake)
    try:
        async with Runtime(settings, clock=SimulatedClock(START),
                           cogs=[WelcomeCog]) as runtime:
            adapter = DiscordAdapter(runtime, settings.discord, guild_ready_timeout=0.05)
            async with starting(adapter):
                await adapter.until_ready()
                await fake.dispatch("GUILD_MEMBER_ADD", member_add(NEWCOMER))
                [welcome] = await fake.wait_for("POST", rf"/channels/{GENERAL}/messages")
                assert f"member number {count + 1}" in welcome.body["content"]
    finally:
        await fake.stop()
