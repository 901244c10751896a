"""The engagement settings: defaults for every community, changed with `engagement set`.

Declared once: the config file's ``[engagement]`` section, ``engagement set`` and
``engagement show`` all read this list.
"""

from __future__ import annotations

from typing import Any

from bot.core.settings import Declaration, Setting
from bot.core.text import check_template

#: Levels a member can reach.
LEVELS = 1000
#: What a level-up template may name (``{member} reached level {level}!``).
LEVEL_UP_FIELDS = frozenset({"member", "name", "level", "reward"})


def _points(default: int, maximum: int = 1000) -> Setting[int]:
    return Setting(default=default, minimum=0, maximum=maximum)


def _levels_are_numbers(rewards: dict[str, str]) -> None:
    for level in rewards:
        if not level.isdigit() or not 1 <= int(level) <= LEVELS:
            raise ValueError(f"level {level!r} is not a whole number from 1 to {LEVELS}")


def _every_level_costs_points(curve: tuple[int, int, int]) -> None:
    a, b, c = curve
    if any(abs(k) > 1_000_000 for k in curve):
        raise ValueError("each number of level_curve must be between -1000000 and 1000000")
    for level in range(LEVELS):
        cost = a * level * level + b * level + c
        if cost < 1:
            raise ValueError(
                f"with {a}, {b}, {c} level {level + 1} costs {cost} points; every level "
                "must cost at least 1 point (the default curve is 5, 50, 100)")


def _level_up_template(template: str, community: str) -> None:
    check_template(template, LEVEL_UP_FIELDS, community=community)


def _range_ordered(values: Any) -> None:
    if values.message_points_min > values.message_points_max:
        raise ValueError("message_points_min must not exceed message_points_max")


ENGAGEMENT = Declaration("engagement", {
    "message_points_min": _points(15),
    "message_points_max": _points(25),
    "cooldown_seconds": _points(60, 86_400),
    "min_length": _points(3, 4000),
    "reply_bonus": _points(5),
    "helpful_answer_bonus": _points(10),
    "reaction_points": _points(2),
    "reaction_cap_per_message": _points(20, 100_000),
    "reaction_cap_per_member_per_day": _points(10, 100_000),
    "duplicate_window_seconds": _points(600, 604_800),
    "daily_cap": _points(500, 1_000_000),
    "excluded_channels": Setting(default=(), kind=tuple[str, ...], channels=True),
    "level_up_announcements": Setting(default=True),
    "level_up_channel": Setting(default="", channels=False),
    "level_up_template": Setting(default="🎉 {member} reached level {level}!",
                                 check_in=_level_up_template),
    "level_curve": Setting(default=(5, 50, 100), kind=tuple[int, int, int],
                           check=_every_level_costs_points),
    "level_rewards": Setting(default={}, kind=dict[str, str], check=_levels_are_numbers,
                             example={"5": "Regular", "10": "Veteran"}),
    "remove_lower_rewards": Setting(default=True),
    "public_leaderboard": Setting(default=True),
    "welcome_points": _points(10),
    "referral_points": _points(50, 10_000),
}, rules=(_range_ordered,))

#: What the engagement rules read (every setting, checked).
Policy = ENGAGEMENT.model
