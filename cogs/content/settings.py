"""The content settings, per community only (``content set KEY VALUE``)."""

from __future__ import annotations

from bot.core.settings import Declaration, Setting
from cogs.content.rules import DEFAULT_GRACE

#: The largest value of any content setting (the `content set` option's bound).
MAX_VALUE = 100_000


def _number(default: int, minimum: int) -> Setting[int]:
    return Setting(default=default, minimum=minimum, maximum=MAX_VALUE, in_file=False)


CONTENT = Declaration("content", {
    # late slots are still posted within this many minutes
    "grace_minutes": _number(int(DEFAULT_GRACE.total_seconds() // 60), 1),
    "tries": _number(3, 1),  # attempts to post before the item is paused
    "retry_seconds": _number(2, 0),  # first wait between attempts; doubles each time
    "dm_interval_ms": _number(250, 0),  # pause between two direct messages
})
