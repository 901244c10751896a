"""`tribebot run`: the runtime plus the platform adapters enabled in the config.

Both platforms run in the same event loop, each through its library's explicit
lifecycle (never ``run()``/``run_polling()``, which would take the loop away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Protocol

from bot.config import Settings
from bot.ownership import Ownership
from bot.runtime import Runtime
from storage import WriterStopped

log = logging.getLogger(__name__)

#: How long one platform gets to disconnect at a stop (at most a third of the stop
#: timeout): a command still waiting for a store that does not take writes must not keep
#: the process alive.
ADAPTER_STOP_S = 5.0


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


async def serve(
    settings: Settings, stop: asyncio.Event | None = None, runtime: Runtime | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set); returns the process exit code.

    The bot also stops, with exit code 1, if the store stops taking writes for good:
    running on without recording anything would only look like it works.
    """
    from bot.signals import install_stop_signals

    stop = stop or asyncio.Event()
    install_stop_signals(stop.set)
    # live: of several processes on one store, this one serves its shards and platforms
    runtime = runtime or Runtime(settings, ownership=Ownership.of(settings))
    try:
        if not await unless_stopped(runtime.start(), stop):
            log.info("stopped while starting")
    except BaseException:
        await runtime.stop()  # what did start (the store, some cogs) is closed again
        raise
    started: list[PlatformAdapter] = []
    code = 0
    try:
        for adapter in build_adapters(runtime, settings) if not stop.is_set() else []:
            try:
                if not await unless_stopped(adapter.start(), stop):
                    started.append(adapter)  # partly started: its stop closes what is open
                    log.info("stopped while %s was starting", adapter.platform)
                    break
            except Exception as exc:
                # a wrong token or an unreachable server is the usual cause: say so in one
                # line; the traceback is for the debug log
                log.error("%s could not start (%s: %s). Check the token, the network and "
                          "[%s] api_base_url.", adapter.platform, type(exc).__name__, exc,
                          adapter.platform)
                log.debug("start failure of %s", adapter.platform, exc_info=True)
                code = 1
                break
            started.append(adapter)
            log.info("%s adapter started", adapter.platform)
        else:
            if not stop.is_set() and await _stop_or_store_failure(stop, runtime):
                code = 1
    except Exception:
        log.exception("an adapter failed; stopping")
        code = 1
    finally:
        within = min(ADAPTER_STOP_S, settings.storage.stop_timeout_seconds / 3)
        for adapter in reversed(started):
            try:
                await asyncio.wait_for(adapter.stop(), within)
            except TimeoutError:
                log.warning("%s did not disconnect within %.3g s (a command was still "
                            "waiting for the store); stopping anyway", adapter.platform, within)
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.platform)
        try:
            await runtime.stop()
        except WriterStopped as exc:
            log.error("%s", exc)
            code = 1
        else:
            log.info("stopped; every queued write was committed")
    return code


async def unless_stopped(work: Awaitable[object], stop: asyncio.Event) -> bool:
    """Await ``work`` unless a stop is requested first, which cancels it: SIGTERM is
    honoured while a start waits on the network or on a store that does not answer.
    True if the work finished."""
    task = asyncio.ensure_future(work)
    if stop.is_set():
        task.cancel()
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    if task.cancelled():
        return False
    task.result()  # the start's own error, if it failed
    return True


async def _stop_or_store_failure(stop: asyncio.Event, runtime: Runtime) -> bool:
    """Wait for a stop request or a store failure; True if the store failed."""
    requested = asyncio.create_task(stop.wait())
    failed = asyncio.create_task(runtime.repository.until_writes_fail())
    done, pending = await asyncio.wait({requested, failed},
                                       return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return failed in done
