"""What the runtime hands a cog: the store, the outbox, the clock, the settings.

It names the store and the community settings, so it lives beside the runtime that
builds it, not in ``bot/core`` (which knows neither); the cog contract itself
(``bot.core.cog.Cog``) stays there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.clock import Clock
from bot.core.events import Event
from bot.core.timers import Timers

if TYPE_CHECKING:
    from bot.communities import Communities
    from bot.config import Settings
    from bot.core.outbox import Outbox
    from storage.store import Repository


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
