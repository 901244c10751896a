"""Replaying a JSON Lines file through the real runtime on a simulated clock."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from rich.console import Console

from bot.adapters.console.adapter import ConsoleAdapter, ReplayReport
from bot.adapters.console.records import future_limit, read_lines
from bot.config import Settings
from bot.core.clock import SimulatedClock
from bot.runtime import WINDOW_KEYS, Runtime


def first_moment(path: Path) -> datetime | None:
    """The first valid record's time, so the simulated clock starts where the file starts."""
    with path.open("rb") as handle:
        for line in read_lines(handle, path.name, not_after=future_limit()):
            if line.item is not None:
                return line.item.at
    return None


async def replay_file(
    settings: Settings, path: Path, *, echo: bool = True, console: Console | None = None,
    window: int = WINDOW_KEYS, adapter_type: type[ConsoleAdapter] = ConsoleAdapter,
) -> ReplayReport:
    """Replay ``path``; SIGINT/SIGTERM stop it cleanly with everything handled so far saved
    (or, when the store takes no writes, kept beside it for the next start).

    ``window``: handled-event keys kept in memory (see ``Runtime``); ``adapter_type``: the
    console adapter to use (``bench/drill.py`` records what is sent with its own).
    """
    from bot.service import unless_stopped
    from bot.signals import install_stop_signals

    start = first_moment(path) or datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    runtime = Runtime(settings, clock=SimulatedClock(start), window=window)
    report = ReplayReport()
    stopping = asyncio.Event()

    def stop() -> None:
        report.stopped_early = True
        stopping.set()
        runtime.request_stop()

    install_stop_signals(stop)
    try:
        if await unless_stopped(runtime.start(), stopping):
            adapter = adapter_type(runtime, console=console, echo=echo)
            # the loop ends at the next line on a stop; once a stop is requested
            # nothing waits on a store that takes no writes
            await adapter.replay(path, report)
    finally:
        await runtime.stop()
    return report
