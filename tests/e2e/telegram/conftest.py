"""Fixtures: the fake Bot API, a runtime on a temporary database, and the real
TelegramAdapter (python-telegram-bot Application) polling the fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.ids import community_id, member_id
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from tests.conftest import FIXED_POINTS, START, SeededEngagement, make_settings
from tests.e2e.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.e2e.telegram.updates import GROUP

COMMUNITY = community_id(GROUP)


async def until(condition: Callable[[], bool], within: float = 5.0, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.01)


class Harness:
    """The bot as Telegram sees it: push updates into the fake, read what it sent."""

    def __init__(self, fake: FakeBotApi, runtime: Runtime, adapter: TelegramAdapter) -> None:
        self.fake = fake
        self.runtime = runtime
        self.adapter = adapter
        self._pushed = 0

    async def send(self, *updates: Mapping[str, Any]) -> None:
        """Deliver updates through getUpdates and wait until the bot handled them all."""
        for update in updates:
            self.fake.push(update)
            self._pushed += 1
        await until(lambda: self.adapter.handled_updates >= self._pushed,
                    what=f"{self._pushed} updates to be handled")
        await self.runtime.bus.drain()

    async def points(self, user_id: int) -> int:
        totals = await self.runtime.repository.point_totals(COMMUNITY, 1)
        return totals.get(member_id(user_id), 0)

    async def reasons(self, user_id: int) -> list[tuple[str, int]]:
        rows = await self.runtime.repository.ledger_history(COMMUNITY, member_id(user_id),
                                                            limit=100)
        return [(row.reason, row.delta) for row in reversed(rows)]

    def texts(self) -> list[str]:
        return [str(p.get("text") or p.get("caption") or "") for p in self.fake.sent()]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


def telegram_settings(tmp_path: Path, fake: FakeBotApi, **extra: Any) -> Any:
    return make_settings(tmp_path, engagement=FIXED_POINTS, telegram={
        "enabled": True, "token": TOKEN, "api_base_url": fake.api_base_url, **extra})


@pytest.fixture
async def runtime(tmp_path: Path, fake: FakeBotApi) -> AsyncIterator[Runtime]:
    rt = Runtime(telegram_settings(tmp_path, fake), clock=SimulatedClock(START),
                 cogs=[SeededEngagement])
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
async def bot(fake: FakeBotApi, runtime: Runtime) -> AsyncIterator[Harness]:
    adapter = TelegramAdapter(runtime, runtime.settings.telegram, poll_timeout=1)
    await adapter.start()
    try:
        yield Harness(fake, runtime, adapter)
    finally:
        await adapter.stop()
