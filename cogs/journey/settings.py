"""The journey's thresholds (documented in the README), from the config file's
``[journey]`` section."""

from __future__ import annotations

from typing import Any

from bot.core.settings import Declaration, Setting


def _weeks(default: int, minimum: int = 1) -> Setting[int]:
    return Setting(default=default, minimum=minimum, maximum=52)


def _window_holds_weeks(values: Any) -> None:
    if values.regular_weeks > values.regular_window:
        raise ValueError("regular_weeks must not exceed regular_window")


JOURNEY = Declaration("journey", {
    "participant_weeks": _weeks(2, minimum=2),
    "regular_weeks": _weeks(3),
    "regular_window": _weeks(4),
    "drift_weeks": _weeks(2),
}, rules=(_window_holds_weeks,))

#: What the journey rules read.
JourneyPolicy = JOURNEY.model
