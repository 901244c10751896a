"""Replaying a JSON Lines file through the real runtime on a simulated clock."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

from rich.console import Console

from bot.adapters.console.adapter import ConsoleAdapter, ReplayReport
from bot.config import Settings
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime


def first_moment(path: Path) -> datetime | None:
    """The first record's time, so the simulated clock starts where the file starts."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                at = json.loads(line).get("at")
                return datetime.fromisoformat(at.replace("Z", "+00:00"))
            except (ValueError, AttributeError):
                continue
    return None


async def replay_file(
    settings: Settings, path: Path, *, echo: bool = True, console: Console | None = None
) -> ReplayReport:
    """Replay ``path``; SIGINT/SIGTERM stop it cleanly with everything handled so far saved."""
    from bot.cli import install_stop_signals
    from bot.service import unless_stopped

    start = first_moment(path) or datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    runtime = Runtime(settings, clock=SimulatedClock(start))
    report = ReplayReport()
    stopping = asyncio.Event()

    def stop() -> None:
        report.stopped_early = True
        stopping.set()

    install_stop_signals(stop)
    try:
        if await unless_stopped(runtime.start(), stopping):
            adapter = ConsoleAdapter(runtime, console=console, echo=echo)
            # the loop ends at the next line on a stop; a line that waits on a store that
            # does not take writes is given up
            await unless_stopped(adapter.replay(path, report), stopping)
    finally:
        await runtime.stop()
    return report
