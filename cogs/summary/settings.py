"""When and where the weekly summary is posted, per community (`summary …` commands)."""

from __future__ import annotations

from datetime import datetime

from bot.core.settings import Declaration, Setting

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock_time(text: str) -> None:
    try:
        datetime.strptime(text, "%H:%M")
    except ValueError:
        raise ValueError(f"{text!r} is not a time like 09:00 (24-hour, HH:MM)") from None


SUMMARY = Declaration("summary", {
    "day": Setting(default="mon", choices=DAYS, in_file=False),
    "time": Setting(default="09:00", check=_clock_time, in_file=False),
    "off": Setting(default=False, in_file=False),
    "channel": Setting(default="", in_file=False),
})
