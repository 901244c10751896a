"""Interpreter settings for a busy bot: applied while the runtime runs, then restored.

SQLite works in the store's threads and every call into it ends by taking the GIL back
from the event loop. Two defaults make that wait long under load, and the writer then
spends more time waiting than writing (the first bench/ingest.py, which published
pre-built events, on the development machine: about 21,000 events/s with the defaults,
28,000 with these):

* the thread switch interval (5 ms): a waiting thread gets the GIL only after a whole
  interval (the "convoy effect"); 0.2 ms still lets the loop run thousands of bytecodes;
* the young-generation GC threshold (700 allocations): each event allocates dozens of
  short-lived objects, so a collection, which holds the GIL, ran every few events, and
  the older generations' collections with it. Measured (CPU time in the collector) on a
  replay of 100,000 events: 700, 1.8 s (1,330 young, 121 middle and 11 full
  collections); 10,000, 0.6 s (67 young, 6 middle); 50,000, 0.4 s (9 young, none
  older), each then a pause of 10–40 ms on the loop, which a gateway heartbeat (seconds)
  does not notice.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass, field

SWITCH_INTERVAL = 0.0002
GC_YOUNG_THRESHOLD = 50_000


@dataclass
class InterpreterTuning:
    """Only ever tightens a setting (a host that set its own stricter value keeps it)."""

    _saved: tuple[float, tuple[int, int, int]] | None = field(default=None, init=False)

    def apply(self) -> None:
        if self._saved is not None:
            return
        interval, threshold = sys.getswitchinterval(), gc.get_threshold()
        self._saved = (interval, threshold)
        sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
        young, *older = threshold
        if young:  # 0 means the host turned automatic collection off: leave it off
            gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)

    def restore(self) -> None:
        if self._saved is None:
            return
        interval, threshold = self._saved
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        self._saved = None
