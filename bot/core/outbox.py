"""Routes outbound actions to the adapter of their platform.

An action for a platform whose adapter is not connected yet (the bot is starting, Discord
is still sending its guilds) is held until it is: a weekly summary or a burst welcome that
came due while the bot was down is sent once the platform can take it, never dropped
because its timer fired first. Only a stop before the platform connected releases the
held actions unsent (the cogs that keep state retry them at the next start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

from bot.core.actions import Action, Delivery
from bot.core.ids import platform_of

log = logging.getLogger(__name__)


class Sender(Protocol):
    async def deliver(self, action: Action) -> Delivery: ...


class Outbox:
    def __init__(self, awaited: Iterable[str] = ()) -> None:
        """``awaited``: platforms that will connect (enabled in the config); their actions
        wait for them even before their adapter exists."""
        self._senders: dict[str, Sender] = {}
        self._gates: dict[str, asyncio.Event] = {}
        self._connected: set[str] = set()
        self._held: set[str] = set()
        self._closed = False
        for platform in awaited:
            self._gate(platform)

    def _gate(self, platform: str) -> asyncio.Event:
        gate = self._gates.get(platform)
        if gate is None:
            gate = self._gates[platform] = asyncio.Event()
            if self._closed:
                gate.set()
        return gate

    def register(self, platform: str, sender: Sender, *, connected: bool = True) -> None:
        """An adapter that connects later passes ``connected=False`` and calls
        ``connected(platform)`` once the platform takes actions."""
        self._senders[platform] = sender
        self._gate(platform)
        if connected:
            self.connected(platform)

    def connected(self, platform: str) -> None:
        if platform not in self._connected:
            self._connected.add(platform)
            self._gate(platform).set()
            if platform in self._held:
                log.info("%s is connected: sending what was held for it", platform)

    def is_connected(self, platform: str) -> bool:
        return platform in self._connected

    async def until_connected(self, community: str) -> bool:
        """Wait until the community's platform can take actions; False if the bot stops
        first. A platform nobody expects answers at once (``send`` then says why)."""
        platform = platform_of(community)
        gate = self._gates.get(platform)
        if gate is None:
            return True
        if not gate.is_set():
            if platform not in self._held:
                self._held.add(platform)
                log.info("%s is not connected yet: holding what the bot sends there", platform)
            await gate.wait()
        return platform in self._connected

    def close(self) -> None:
        """The bot is stopping: release every held action unsent, hold nothing more."""
        self._closed = True
        for gate in self._gates.values():
            gate.set()

    async def send(self, action: Action) -> Delivery:
        """Deliver an action; failures come back as a Delivery, never as an exception."""
        platform = platform_of(action.community)
        if not await self.until_connected(action.community):
            log.warning("stopping before %s connected: %s not sent", platform,
                        type(action).__name__)
            return Delivery(False, error=f"{platform} was not connected")
        sender = self._senders.get(platform)
        if sender is None:
            log.warning("no adapter for %s; dropped %s", platform, type(action).__name__)
            return Delivery(False, error=f"no adapter for {platform}")
        try:
            return await sender.deliver(action)
        except Exception as exc:
            log.exception("sending %s failed", type(action).__name__)
            return Delivery(False, error=str(exc))
