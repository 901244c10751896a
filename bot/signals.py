"""SIGINT/SIGTERM as a clean stop, for every long-running entry (run, replay, import).

Kept apart from ``bot/cli.py`` so the modules that run the bot need not import the
command line (which imports them): the CLI is the entry point, never a dependency.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any


def install_stop_signals(stop: Callable[[], Any]) -> None:
    """SIGINT/SIGTERM request a clean stop (queued writes are committed first)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on Windows
            signal.signal(sig, lambda *_: stop())
