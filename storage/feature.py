"""What every feature store shares: the database it works on and how times are kept.

One shape for every feature of ``storage``: a module owns its tables' SQL (its write
statements in its own section of ``storage.book.BOOK``, its reads inline) and offers
them as one class built on the ``Database``: ``JourneyStore(database).stages(...)``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.lifecycle import Database

#: The last moment converted and its seconds: an event's rows (its fact, its handled key,
#: its ledger rows) carry the same datetime object, so the conversion runs once per event.
_last_epoch: tuple[datetime | None, int] = (None, 0)


def epoch(moment: datetime) -> int:
    """The store keeps moments as whole UTC seconds."""
    global _last_epoch
    last, seconds = _last_epoch
    if moment is last:
        return seconds
    seconds = int(moment.timestamp())
    _last_epoch = (moment, seconds)
    return seconds


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class FeatureStore:
    """One feature's queries and writes, on the shared database and batched writer."""

    def __init__(self, db: Database) -> None:
        self.db = db
