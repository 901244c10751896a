"""The cog contract: a feature that reacts to events and calls the repository.

What a cog is given to do so (``bot.context.CogContext``) is the runtime's: core knows
neither the store nor the runtime.

A cog never learns which platform it serves: it sees neutral events, declares neutral
commands, and sends neutral actions through the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from bot.core.commands import Command
from bot.core.events import Event

if TYPE_CHECKING:
    from bot.context import CogContext

EventHandler = Callable[[Any], Awaitable[None]]


class Cog:
    name: ClassVar[str] = "cog"

    def __init__(self, ctx: CogContext) -> None:
        self.ctx = ctx

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {}

    def commands(self) -> Sequence[Command]:
        return []

    async def start(self) -> None:
        """Load what the cog keeps in memory (called once, before events flow)."""

    async def stop(self) -> None:
        """Release resources (called once, after the last event was handled)."""
