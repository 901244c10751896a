"""`tribebot run`: the runtime plus the platform adapters enabled in the config.

Both platforms run in the same event loop, each through its library's explicit
lifecycle (never ``run()``/``run_polling()``, which would take the loop away).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.config import Settings
from bot.runtime import Runtime

log = logging.getLogger(__name__)


class PlatformAdapter(Protocol):
    platform: str

    async def start(self) -> None:
        """Connect and begin publishing events; return once running."""

    async def stop(self) -> None:
        """Disconnect; events already published are still handled by the runtime."""


def build_adapters(runtime: Runtime, settings: Settings) -> list[PlatformAdapter]:
    adapters: list[PlatformAdapter] = []
    if settings.discord.enabled:
        from bot.adapters.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(runtime, settings.discord))
    if settings.telegram.enabled:
        from bot.adapters.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(runtime, settings.telegram))
    return adapters


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set); returns the process exit code."""
    from bot.cli import install_stop_signals

    stop = stop or asyncio.Event()
    install_stop_signals(stop.set)
    runtime = Runtime(settings)
    await runtime.start()
    adapters = build_adapters(runtime, settings)
    started: list[PlatformAdapter] = []
    code = 0
    try:
        for adapter in adapters:
            try:
                await adapter.start()
            except Exception as exc:
                # a wrong token or an unreachable server is the usual cause: say so in one
                # line; the traceback is for the debug log
                log.error("%s could not start (%s: %s). Check the token, the network and "
                          "[%s] api_base_url.", adapter.platform, type(exc).__name__, exc,
                          adapter.platform)
                log.debug("start failure of %s", adapter.platform, exc_info=True)
                code = 1
                return code
            started.append(adapter)
            log.info("%s adapter started", adapter.platform)
        await stop.wait()
    except Exception:
        log.exception("an adapter failed; stopping")
        code = 1
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.platform)
        await runtime.stop()
        log.info("stopped; every queued write was committed")
    return code
