"""The cog contract: a feature that reacts to events and calls the repository.

A cog never learns which platform it serves: it sees neutral events, declares neutral
commands, and sends neutral actions through the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bot.core.clock import Clock
from bot.core.commands import Command
from bot.core.events import Event
from bot.core.settings import CommunitySettings, Declaration
from bot.core.timers import Timers

if TYPE_CHECKING:
    from bot.communities import Communities
    from bot.config import Settings
    from bot.core.outbox import Outbox
    from storage.repository import Repository

EventHandler = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CogContext:
    repository: Repository
    outbox: Outbox
    clock: Clock
    communities: Communities
    settings: Settings
    #: Publish a derived event (a stage change, a greeting) for other cogs.
    publish: Callable[[Event], bool]
    timers: Timers


class Cog:
    name: ClassVar[str] = "cog"
    #: The cog's per-community settings, declared once (``cogs/<name>/settings.py``);
    #: read and changed through ``self.settings``.
    declares: ClassVar[Declaration | None] = None

    def __init__(self, ctx: CogContext) -> None:
        self.ctx = ctx
        if self.declares is not None:
            file_defaults = getattr(ctx.settings, self.declares.section, None)
            self.settings = CommunitySettings(self.declares, ctx.communities, file_defaults)

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {}

    def commands(self) -> Sequence[Command]:
        return []

    async def start(self) -> None:
        """Load what the cog keeps in memory (called once, before events flow)."""

    async def stop(self) -> None:
        """Release resources (called once, after the last event was handled)."""
