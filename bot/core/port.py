"""The port: all an adapter may ask of the bot, and nothing more.

An adapter (Discord, Telegram, the console) turns platform updates into events and
typed commands, and the bot's actions back into platform calls. It reaches the bot only
through this Protocol, which the runtime implements, so an adapter never sees the store,
the bus or a cog's settings, and a test or another runtime can stand in for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, overload, runtime_checkable

from bot.core.clock import Clock
from bot.core.commands import Command, Invocation, Reply
from bot.core.events import Event
from bot.core.outbox import Sender

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.i18n import Catalog


@runtime_checkable
class BotPort(Protocol):
    # -- what the bot is configured with and what time it is ---------------------------
    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def local_files(self) -> str:
        """The name the bot's local files are kept beside: the SQLite database, or
        ``<database>.postgresql`` in the working folder for a PostgreSQL store."""
        ...

    def catalog(self, community: str) -> Catalog:
        """The translations in the community's language."""
        ...

    # -- outbound: the adapter as the sender of its platform's actions ----------------
    def register_sender(self, platform: str, sender: Sender, *, connected: bool = True
                        ) -> None:
        """Until ``adapter_connected`` (when registered with ``connected=False``) the
        platform's actions wait in the outbox."""
        ...

    def adapter_connected(self, platform: str) -> None: ...

    # -- inbound: events ---------------------------------------------------------------
    def publish(self, event: Event) -> bool:
        """Hand an event to the bot; never waits. False for a duplicate or a refusal."""
        ...

    async def handle(self, event: Event) -> bool:
        """Publish and wait until every cog has handled it (and what it caused); False
        for a duplicate, also one only the store recognised."""
        ...

    def deliver_inline(self, inline: bool) -> bool:
        """Have ``handle`` run each event through the cogs in the calling task, one cog
        after the other, instead of waking every cog's task (for an adapter that waits
        for every event anyway: a replay); returns the previous setting, to put back."""
        ...

    def is_duplicate(self, key: str) -> bool:
        """Whether an event key is known as handled, as far as memory and the store's
        answers so far go (``look_ahead`` asks the store)."""
        ...

    async def look_ahead(self, events: Sequence[Event]) -> None:
        """Ask the store once for a chunk of events about to come (already handled? who
        wrote the messages they react or reply to?), so each needs no question of its own."""
        ...

    async def advance_to(self, moment: datetime) -> None:
        """A simulated clock moves to ``moment``, firing the timers due on the way."""
        ...

    # -- who is who --------------------------------------------------------------------
    async def message_author(self, community: str, message: str) -> str | None:
        """Who wrote a message the bot recorded (for platforms whose updates do not say)."""
        ...

    async def member_names(self, community: str, members: Sequence[str]) -> dict[str, str]:
        """The names the bot recorded for members (those it knows)."""
        ...

    # -- commands ----------------------------------------------------------------------
    def command_catalog(self) -> list[Command]:
        """Every command, to render as slash commands or a /command menu."""
        ...

    def find_command(self, words: Sequence[str]) -> tuple[Command, list[str]] | None:
        """The command typed words start with, and the words left over."""
        ...

    @overload
    async def invoke(self, command: Command, invocation: Invocation,
                     key: None = None) -> Reply: ...

    @overload
    async def invoke(self, command: Command, invocation: Invocation,
                     key: str) -> Reply | None: ...

    async def invoke(self, command: Command, invocation: Invocation,
                     key: str | None = None) -> Reply | None:
        """Run a command; with a ``key``, one already run is not run again (None)."""
        ...

    # -- community state an adapter keeps or needs ------------------------------------
    def invite_channel(self, community: str) -> str | None:
        """Where a personal invite leads (the welcome channel, else the default one)."""
        ...

    def owners_channel(self, community: str) -> str | None:
        """Where the bot tells the moderators about a problem, if they chose a channel."""
        ...

    def personal_invites(self, community: str) -> Mapping[str, str]:
        """Invite codes the bot made for members: code -> the member it was made for."""
        ...

    def remember_personal_invite(self, community: str, code: str, member: str) -> None: ...
