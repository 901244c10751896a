"""Fixtures: the fake Discord, a runtime on a temporary database, and the real
DiscordAdapter (discord.py client) connected to the fake through ``api_base_url``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.translate import community_id, member_id
from bot.config import Settings
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from tests.conftest import FIXED_POINTS, START, SeededEngagement, make_settings
from tests.e2e.discord.fake_discord import TOKEN, Call, FakeDiscord
from tests.e2e.discord.payloads import GUILD, Json, guild

COMMUNITY = community_id(GUILD)


async def until(condition: Callable[[], bool], within: float = 5.0, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.005)


class Harness:
    """The bot as Discord sees it: dispatch gateway events, read the REST calls it made."""

    def __init__(self, fake: FakeDiscord, runtime: Runtime, adapter: DiscordAdapter) -> None:
        self.fake = fake
        self.runtime = runtime
        self.adapter = adapter
        self._interactions = 0

    async def send(self, event: str, data: Json, handled: int = 1) -> None:
        """Dispatch one gateway event and wait until the bot handled it."""
        expected = self.adapter.handled_events + handled
        await self.fake.dispatch(event, data)
        await until(lambda: self.adapter.handled_events >= expected, what=f"{event} handled")
        await self.runtime.bus.drain()

    async def run(self, payload: Json) -> Call:
        """Dispatch an INTERACTION_CREATE and return the bot's answer to it."""
        path = f"/interactions/{payload['id']}/{payload['token']}/callback"
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        [answer] = await self.fake.wait_for("POST", path)
        await self.runtime.bus.drain()
        return answer

    async def points(self, user: Json) -> int:
        totals = await self.runtime.repository.point_totals(COMMUNITY, 1)
        return totals.get(member_id(int(user["id"])), 0)

    async def reasons(self, user: Json) -> list[tuple[str, int]]:
        rows = await self.runtime.repository.ledger_history(
            COMMUNITY, member_id(int(user["id"])), limit=100)
        return [(row.reason, row.delta) for row in reversed(rows)]


def discord_settings(tmp_path: Path, fake: FakeDiscord, **sections: Any) -> Settings:
    engagement = {**FIXED_POINTS, **sections.pop("engagement", {})}
    discord_section = {"enabled": True, "token": TOKEN, "api_base_url": fake.api_base_url,
                       **sections.pop("discord", {})}
    return make_settings(tmp_path, engagement=engagement, discord=discord_section, **sections)


@pytest.fixture(autouse=True)
def _restore_discord_globals() -> Any:
    """The adapter points discord.py's process-wide REST base and gateway at the fake."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest.fixture
def guilds() -> list[Json]:
    return [guild()]


@pytest.fixture
async def fake(guilds: list[Json]) -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(guilds)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings_sections() -> dict[str, Any]:
    """Extra settings for a test module (override to change engagement or discord)."""
    return {}


@pytest.fixture
async def runtime(tmp_path: Path, fake: FakeDiscord,
                  settings_sections: dict[str, Any]) -> AsyncIterator[Runtime]:
    rt = Runtime(discord_settings(tmp_path, fake, **settings_sections),
                 clock=SimulatedClock(START), cogs=[SeededEngagement])
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
async def bot(fake: FakeDiscord, runtime: Runtime) -> AsyncIterator[Harness]:
    adapter = DiscordAdapter(runtime, runtime.settings.discord, guild_ready_timeout=0.05)
    await adapter.start()
    await adapter.until_ready()
    try:
        yield Harness(fake, runtime, adapter)
    finally:
        await adapter.stop()
