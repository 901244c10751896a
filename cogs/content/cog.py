"""The content cog: a calendar of value posts, topic queues, subscriptions and DMs.

Three parts: the pure rules (``rules.py``: schedules, slots, rotation, flags), the
scheduling and posting (``posting.py``) and the commands (``commands.py``); this module
wires them to the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

from bot.context import CogContext
from bot.core.cog import EventHandler
from bot.core.events import Event, TimeZoneChanged
from cogs.content.commands import ContentCommands
from cogs.content.posting import Calendar
from cogs.content.settings import CONTENT


class ContentCog(ContentCommands):
    name = "content"
    declares = CONTENT
    #: How long after start, on the system clock, before the first post (adapters connect;
    #: the outbox holds a post for a platform that has not connected yet in any case).
    startup_delay: ClassVar[timedelta] = timedelta(seconds=10)

    def __init__(self, ctx: CogContext) -> None:
        super().__init__(ctx)
        self.calendar = Calendar(ctx, self.settings)

    async def start(self) -> None:
        await self.calendar.start(self.startup_delay)

    async def stop(self) -> None:
        await self.calendar.stop()

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {TimeZoneChanged: self.on_time_zone}

    async def on_time_zone(self, event: TimeZoneChanged) -> None:
        """Schedules are local times: plan every one of the community's jobs again."""
        self.calendar.rearm(event.community)
