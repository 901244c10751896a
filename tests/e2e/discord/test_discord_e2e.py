"""End to end: the real discord.py client <-> a fake Discord on 127.0.0.1, the real
runtime and engagement cog, a temporary SQLite database. No other network."""

from __future__ import annotations

from bot.adapters.discord.translate import channel_id
from tests.e2e.discord.conftest import COMMUNITY, Harness
from tests.e2e.discord.payloads import GENERAL, OWNERS


async def test_guild_present_on_ready_is_stored_with_its_channels(bot: Harness) -> None:
    await bot.runtime.bus.drain()
    rows = {c.id: c for c in await bot.runtime.repository.communities()}
    assert rows[COMMUNITY].name == "Tribe"
    channels = await bot.runtime.repository.channels(COMMUNITY)
    assert (channel_id(GENERAL), "general") in channels
    assert (channel_id(OWNERS), "owners") in channels
