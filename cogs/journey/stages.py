"""Pure journey rules: which stage a member is in, from the weeks they contributed.

Weeks are ISO weeks in the community's time zone, numbered consecutively (see
``week_number``). "Contributed" means posted at least one message; members who only
react are lurkers, counted apart, because readers are part of a community too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from bot.config import JourneySection as JourneyPolicy
from bot.core.events import STAGES

__all__ = ["STAGES", "JourneyPolicy"]

RANK = {stage: index for index, stage in enumerate(STAGES)}


def week_number(day: date) -> int:
    """Consecutive number of the ISO week containing ``day`` (Mondays are 1 mod 7)."""
    monday = day - timedelta(days=day.weekday())
    return (monday.toordinal() - 1) // 7


@lru_cache(maxsize=4096)
def week_of_day(day: str) -> int:
    """``week_number`` of a local day string; cached because it runs for every message."""
    return week_number(date.fromisoformat(day))


def week_start(number: int) -> date:
    return date.fromordinal(number * 7 + 1)


@dataclass(frozen=True, slots=True)
class Signals:
    """What makes a regular a champion: weeks of helpful answers and greetings, referrals."""

    helped_week: int | None = None
    greeted_week: int | None = None
    referrals: int = 0


def classify(weeks: Collection[int], current: int, signals: Signals,
             policy: JourneyPolicy) -> str:
    """The stage as of the end of week ``current``, counting only weeks up to it."""
    counted = [w for w in weeks if w <= current]
    if not counted:
        return "visitor"
    if len(counted) < policy.participant_weeks:
        return "audience"
    window = range(current - policy.regular_window + 1, current + 1)
    if sum(1 for w in window if w in weeks) < policy.regular_weeks:
        return "participant"
    recent = current - policy.regular_window + 1
    helps = (signals.helped_week is not None and signals.helped_week >= recent) or (
        signals.greeted_week is not None and signals.greeted_week >= recent
    ) or signals.referrals > 0
    return "champion" if helps else "regular"


def stage_now(weeks: Collection[int], current: int, signals: Signals,
              policy: JourneyPolicy) -> str:
    """Promotion is immediate, demotion only at a week boundary.

    The stage is the better of "as of the end of last week" and "including this week so
    far", so a quiet Monday moves nobody down; the drop shows once a whole week has passed.
    """
    last_week = classify(weeks, current - 1, signals, policy)
    this_week = classify(weeks, current, signals, policy)
    return max(last_week, this_week, key=RANK.__getitem__)


def is_drifting(weeks: Collection[int], current: int, ever_regular: bool,
                policy: JourneyPolicy) -> bool:
    """Was a regular or champion and has not contributed in the last ``drift_weeks`` weeks
    (nor yet this week)."""
    if not ever_regular:
        return False
    return not any(w in weeks for w in range(current - policy.drift_weeks, current + 1))


def is_lurker(weeks: Collection[int], reacted: bool) -> bool:
    return reacted and not weeks
