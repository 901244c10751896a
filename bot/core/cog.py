"""The cog contract: a feature that reacts to events and calls the repository.

What a cog is given to do so (``bot.context.CogContext``) is the runtime's: core knows
neither the store nor the runtime.

A cog never learns which platform it serves: it sees neutral events, declares neutral
commands (``@command`` on their handlers) and its per-community settings (``declares``,
read through ``self.settings``), and sends neutral actions through the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from bot.core.commands import Command, Handler, Option
from bot.core.events import Event
from bot.core.settings import CommunitySettings, Declaration

if TYPE_CHECKING:
    from bot.context import CogContext

EventHandler = Callable[[Any], Awaitable[None]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class _Declared:
    path: tuple[str, ...]
    description: str
    options: tuple[Option, ...]
    moderator: bool


def command(words: str, description: str, *options: Option,
            moderator: bool = False) -> Callable[[H], H]:
    """Declare the method below as the handler of a command (``words`` like
    ``points give``), so a command is written once, where it is handled."""
    def declare(handler: H) -> H:
        handler.__command__ = _Declared(  # type: ignore[attr-defined]
            tuple(words.split()), description, options, moderator)
        return handler
    return declare


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
        """The commands declared with ``@command`` on this cog's methods, in the order
        they are written (a base class's first; an override keeps its place)."""
        found: dict[str, Command] = {}
        for cls in reversed(type(self).__mro__):
            for name, attr in vars(cls).items():
                declared = getattr(attr, "__command__", None)
                if isinstance(declared, _Declared):
                    found[name] = Command(declared.path, declared.description,
                                          getattr(self, name), declared.options,
                                          declared.moderator)
        return list(found.values())

    async def start(self) -> None:
        """Load what the cog keeps in memory (called once, before events flow)."""

    async def stop(self) -> None:
        """Release resources (called once, after the last event was handled)."""
