"""The real ``tribebot`` command in a child process, while a fake platform runs in the
test's own event loop (so the child's HTTP calls are answered while the test waits)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    #: seconds from start (or from the stop signal, if one was sent) to the exit
    seconds: float


def child_env(**extra: str) -> dict[str, str]:
    """Wide, plain output (no line is wrapped inside a token) and no tokens inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBEBOT_")}
    env.update({"COLUMNS": "1000", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}, **extra)
    return env


async def start(*args: str, cwd: Path | None = None, prefix: tuple[str, ...] = ()
                ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *prefix, sys.executable, "-m", "bot", *args, cwd=cwd or ROOT, env=child_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def until(condition: Callable[[], bool], process: asyncio.subprocess.Process,
                within: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if process.returncode is not None:
            _, err = await process.communicate()
            raise AssertionError(f"the bot exited ({process.returncode}) before {what}:\n"
                                 f"{err.decode()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def finish(process: asyncio.subprocess.Process, *, stop: bool = True,
                 within: float = 30.0) -> Finished:
    """SIGTERM (if ``stop``), then wait for the exit; kill it if it ignores the signal."""
    began = time.monotonic()
    if stop and process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(f"no exit within {within} s:\n{err.decode()}") from None
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode(), time.monotonic() - began)
