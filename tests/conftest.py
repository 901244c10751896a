"""Shared fixtures: a settings object on a temporary database, a runtime on a frozen
(simulated) clock, and the console adapter as the test backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console.adapter import ConsoleAdapter
from bot.config import Settings
from bot.core.clock import SimulatedClock
from bot.core.events import (
    Channel,
    CommunityJoined,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.runtime import Runtime, default_cogs
from cogs.engagement.cog import EngagementCog

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
COMMUNITY = "console:tribe"
GENERAL = "console:general"
OWNERS = "console:owners"


def make_settings(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    data: dict[str, Any] = {"storage": {"url": f"sqlite:///{tmp_path / 'test.db'}",
                                        "batch_interval_ms": 5}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Settings.model_validate(data)


#: The real cog. Message points are derived from each message's key, so amounts repeat
#: run to run without a seed; the name stays for the tests that use it.
SeededEngagement = EngagementCog


#: Message points fixed at 20 so tests can state exact totals.
FIXED_POINTS = {"message_points_min": 20, "message_points_max": 20}


#: The default cogs, with engagement on a fixed random seed.
ALL_COGS = [SeededEngagement if cog is EngagementCog else cog for cog in default_cogs()]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, engagement=FIXED_POINTS)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
async def runtime(settings: Settings, clock: SimulatedClock) -> AsyncIterator[Runtime]:
    rt = Runtime(settings, clock=clock, cogs=ALL_COGS)
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
def console(runtime: Runtime) -> ConsoleAdapter:
    return ConsoleAdapter(runtime, echo=False, moderators=["mod"])


class Community:
    """A small scripted community on the console adapter: say, react, run commands."""

    def __init__(self, adapter: ConsoleAdapter, community: str = COMMUNITY) -> None:
        self.adapter = adapter
        # the runtime behind the adapter's port: what the tests look at in the store
        assert isinstance(adapter.port, Runtime)
        self.runtime: Runtime = adapter.port
        self.community = community
        self.now = START
        self._n = 0

    def tick(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    async def open(self, *members: str) -> None:
        await self.adapter.push(CommunityJoined(
            community=self.community, at=self.now, name="Tribe",
            channels=(Channel(id=GENERAL, name="general"), Channel(id=OWNERS, name="owners"))))
        for member in dict.fromkeys(("mod", *members)):
            await self.join(member)

    async def join(self, member: str, **extra: Any) -> None:
        await self.adapter.push(MemberJoined(community=self.community, at=self.now,
                                             member=f"console:{member}", name=member.title(),
                                             **extra))

    async def say(self, member: str, text: str = "hello there friends", *,
                  reply_to: str | None = None, channel: str = GENERAL, **extra: Any) -> str:
        self._n += 1
        message = f"console:m{self._n}"
        await self.adapter.push(MessagePosted(
            community=self.community, at=self.now, message=message,
            author=f"console:{member}", channel=channel, text=text, length=len(text),
            reply_to=reply_to, **extra))
        return message

    async def react(self, member: str, message: str, emoji: str = "👍", **extra: Any) -> bool:
        return await self.adapter.push(ReactionAdded(
            community=self.community, at=self.now, message=message,
            reactor=f"console:{member}", emoji=emoji, **extra))

    async def unreact(self, member: str, message: str, emoji: str = "👍") -> bool:
        return await self.adapter.push(ReactionRemoved(
            community=self.community, at=self.now, message=message,
            reactor=f"console:{member}", emoji=emoji))

    async def points(self, member: str) -> int:
        repo = self.runtime.repository
        season = self.runtime.communities.season(self.community)
        return (await repo.point_totals(self.community, season)).get(f"console:{member}", 0)

    async def reasons(self, member: str) -> list[tuple[str, int]]:
        rows = await self.runtime.repository.ledger_history(
            self.community, f"console:{member}", limit=1000)
        return [(row.reason, row.delta) for row in reversed(rows)]

    async def command(self, member: str, text: str, *, files: Any = ()) -> str:
        reply = await self.adapter.command(self.community, member, text, at=self.now,
                                           files=files)
        return reply.text.plain()


@pytest.fixture
def tribe(console: ConsoleAdapter) -> Community:
    return Community(console)

