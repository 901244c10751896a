"""What a platform's history export becomes: records of events, placed in time order.

The translators (``bot/adapters/<platform>/history.py``) turn each exported message into a
``Record``: the events it stands for (a message, its reactions, a join), or why it stands
for none. Reactions happen after their message, sometimes days later, and the simulated
clock only moves forward, so ``Timeline`` holds each event back until the export reaches
its moment. No platform library here, and no file is opened: ``ByteCounter`` wraps a file
the caller opened, so a progress bar can follow the bytes the parser has read.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from bot.core.events import Event


class ImportProblem(Exception):
    """The export cannot be read (further): ``code`` names the problem, ``values`` fill the
    sentence that tells the user what to fix (the importer words it in their language)."""

    def __init__(self, code: str, **values: str | int) -> None:
        super().__init__(code, values)
        self.code = code
        self.values = values

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.code} ({details})" if details else self.code


@dataclass(frozen=True, slots=True)
class Record:
    """One exported message: the events it stands for, and why (part of) it stands for none."""

    #: where it is in the export, for messages to the user ("1234": a message id)
    where: str
    at: datetime
    events: tuple[Event, ...] = ()
    #: a reason code when (part of) the message was left out: a service notice, a command
    skipped: str | None = None


#: Events held back for later at most; past it the earliest go out early (a clock that
#: jumps a little ahead beats unbounded memory).
HOLD = 100_000


@dataclass
class Timeline:
    """Hands events out in time order while records arrive in export order."""

    hold: int = HOLD
    _held: list[tuple[float, int, Event]] = field(default_factory=list)
    _order: Iterator[int] = field(default_factory=itertools.count)

    def add(self, record: Record) -> list[Event]:
        """The events due at the record's moment: held ones first, then the record's own;
        those of the record that lie later (reactions) are held until their moment."""
        now = record.at.timestamp()
        due = self._due(now)
        for event in record.events:
            moment = event.at.timestamp()
            if moment <= now:
                due.append(event)
            else:
                heapq.heappush(self._held, (moment, next(self._order), event))
        while len(self._held) > self.hold:
            due.append(heapq.heappop(self._held)[2])
        return due

    def rest(self) -> list[Event]:
        """Everything still held, in time order (the export has ended)."""
        return self._due(float("inf"))

    def _due(self, now: float) -> list[Event]:
        due = []
        held = self._held
        while held and held[0][0] <= now:
            due.append(heapq.heappop(held)[2])
        return due

    def __len__(self) -> int:
        return len(self._held)


class ByteCounter:
    """A binary file that counts what was read from it (the parser reads in chunks)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.position += len(data)
        return data


UTF8_BOM = b"\xef\xbb\xbf"


def skip_bom(handle: BinaryIO) -> BinaryIO:
    """Some Windows tools write a byte-order mark that JSON parsers refuse: step over it."""
    if handle.read(3) != UTF8_BOM:
        handle.seek(0)
    return handle
