"""Pure journey rules: which stage a member is in, from the weeks they contributed.

Weeks are ISO weeks in the community's time zone, numbered consecutively (see
``week_number``). "Contributed" means posted at least one message that the engagement
rules did not refuse as farming (too short, a near-duplicate, an excluded channel; a
cooldown or the daily cap hold back points, not the contribution); members who only
react are lurkers, counted apart, because readers are part of a community too.
``stage_of`` is the one definition of the stages: the live journey (``classify``) and
the weekly summary (``cogs.summary.journey``) both apply it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from bot.core.events import AUDIENCE, CHAMPION, PARTICIPANT, REGULAR, STAGES, VISITOR
from cogs.journey.settings import JourneyPolicy

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


@dataclass(frozen=True, slots=True)
class Standing:
    """What decides a member's stage at the end of a week, as counts of stored facts."""

    weeks: int  # weeks contributed up to the end of that week
    in_window: int  # of those, weeks within the last ``regular_window`` weeks
    helps: bool  # helped or greeted within that window, or ever brought a member in


def stage_of(standing: Standing, policy: JourneyPolicy) -> str:
    """The one definition of the stages (the README's table), from counts."""
    if standing.weeks == 0:
        return VISITOR
    if standing.weeks < policy.participant_weeks:
        return AUDIENCE
    if standing.in_window < policy.regular_weeks:
        return PARTICIPANT
    return CHAMPION if standing.helps else REGULAR


def classify(weeks: Collection[int], current: int, signals: Signals,
             policy: JourneyPolicy) -> str:
    """The stage as of the end of week ``current``, counting only weeks up to it."""
    recent = current - policy.regular_window + 1
    counted = sum(1 for w in weeks if w <= current)
    in_window = sum(1 for w in range(recent, current + 1) if w in weeks)
    helps = (signals.helped_week is not None and signals.helped_week >= recent) or (
        signals.greeted_week is not None and signals.greeted_week >= recent
    ) or signals.referrals > 0
    return stage_of(Standing(counted, in_window, helps), policy)


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
