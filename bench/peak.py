"""The peak memory a benchmark reports: its own process's, not its parent's."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_mb() -> float:
    """This process's own peak resident memory, VmHWM. ``ru_maxrss`` is not it on Linux:
    it keeps the high-water mark of the process that forked this one across exec (a
    bench's harness, the export writer)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
