"""Routes outbound actions to the adapter of their platform."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.core.actions import Action, Delivery
from bot.core.ids import platform_of

log = logging.getLogger(__name__)


class Sender(Protocol):
    async def deliver(self, action: Action) -> Delivery: ...


class Outbox:
    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}

    def register(self, platform: str, sender: Sender) -> None:
        self._senders[platform] = sender

    async def send(self, action: Action) -> Delivery:
        """Deliver an action; failures come back as a Delivery, never as an exception."""
        platform = platform_of(action.community)
        sender = self._senders.get(platform)
        if sender is None:
            log.warning("no adapter for %s; dropped %s", platform, type(action).__name__)
            return Delivery(False, error=f"no adapter for {platform}")
        try:
            return await sender.deliver(action)
        except Exception as exc:
            log.exception("sending %s failed", type(action).__name__)
            return Delivery(False, error=str(exc))
