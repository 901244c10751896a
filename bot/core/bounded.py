"""A dict that forgets its oldest entries past a capacity.

Everything the bot remembers per message or per event in memory (keys already handled,
recent message facts, reaction awards, usernames seen) must stay bounded on a bot that
runs for months; this is the one place that rule lives.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedDict(OrderedDict[K, V]):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        #: whether anything was ever forgotten: until then a missing key was never put,
        #: which lets a cache filled completely at start skip asking the store on a miss
        self.evicted = False

    def put(self, key: K, value: V) -> None:
        """Set ``key`` as the newest entry, forgetting the oldest past the capacity."""
        if key in self:
            self[key] = value
            self.move_to_end(key)
            return
        self[key] = value  # a new key goes last by itself
        if len(self) > self.capacity:
            self.popitem(last=False)
            self.evicted = True

    def touch(self, key: K) -> V | None:
        """The value of ``key``, now counted as the newest (least recently used goes first)."""
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value
