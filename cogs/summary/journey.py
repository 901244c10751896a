"""The journey as it stood at the end of each of the summary's weeks, from stored weeks.

The live journey demotes only at the Monday sweep, and a report may be made that Monday,
a month later, or from a replay that stopped on Sunday night. So the summary does not
read the stages the journey stored: it applies the journey's own rule (``stage_of``) to
the weeks each member contributed up to each week's last local second. Then a regular
who went quiet is not a "true fan" and "drifting" in one report, and an older week's
report says what was true in that week.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.events import CHAMPION, REGULAR
from cogs.journey.stages import (
    RANK,
    JourneyPolicy,
    Standing,
    is_drifting,
    stage_of,
)

FANS = frozenset({REGULAR, CHAMPION})


@dataclass(slots=True)
class MemberWeeks:
    """What decides one member's stage at the summary's week ends (week numbers)."""

    before: int = 0  # weeks contributed before the first of ``recent``'s range
    recent: list[int] = field(default_factory=list)  # weeks contributed since, in order
    regular_before: bool = False  # a regular at the end of a week before the first end
    helps: list[int] = field(default_factory=list)  # weeks with a helpful answer or greeting
    referred: int | None = None  # first week one of their invitees became a participant


@dataclass(frozen=True, slots=True)
class Journey:
    """One member at the last two week ends, and when they were a true fan."""

    stage: str  # at the end of the summary's week
    previous: str  # at the end of the week before
    drifting: bool
    was_drifting: bool  # at the end of the week before
    fan_at: tuple[bool, ...]  # for each end


def recent_start(ends: Sequence[int], policy: JourneyPolicy) -> int:
    """The first week whose contribution can change a stage or the drifting flag at one of
    ``ends`` other than by its count."""
    return min(ends[0] - policy.regular_window + 1, ends[-1] - policy.drift_weeks - 1)


def standing(member: MemberWeeks, end: int, policy: JourneyPolicy) -> Standing:
    start = end - policy.regular_window + 1
    upto = bisect_right(member.recent, end)
    helps = (bisect_right(member.helps, end) > bisect_left(member.helps, start)
             or (member.referred is not None and member.referred <= end))
    return Standing(member.before + upto, upto - bisect_left(member.recent, start), helps)


def journey(member: MemberWeeks, ends: Sequence[int], policy: JourneyPolicy, *,
            complete: bool = True) -> Journey:
    """The member at every end of ``ends`` (consecutive weeks, the summary's last).

    A week not ``complete`` (a summary of the week so far) is judged as the live journey
    judges it: promotions count at once, demotions and drifting wait for the week's end.
    """
    if not member.recent:  # nothing recent: the same stage at every end, never a fan
        stage = stage_of(standing(member, ends[-1], policy), policy)
        drifting = member.regular_before  # and quiet since before the first end
        return Journey(stage, stage, drifting, drifting, (False,) * len(ends))
    stages = [stage_of(standing(member, end, policy), policy) for end in ends]
    ever = [member.regular_before]
    for stage in stages:
        ever.append(ever[-1] or RANK[stage] >= RANK[REGULAR])
    now, before = ends[-1], ends[-2]
    upto_before = member.recent[:bisect_right(member.recent, before)]
    was_drifting = is_drifting(upto_before, before + 1, ever[-2], policy)
    if complete:
        drifting = is_drifting(member.recent, now + 1, ever[-1], policy)
    else:
        # as ``stage_now`` does: last week's standing, with the signals up to now (a help
        # or a referral this week promotes at once), or this week's, whichever is better
        last = standing(member, before, policy)
        start = before - policy.regular_window + 1
        helps = (bisect_right(member.helps, now) > bisect_left(member.helps, start)
                 or (member.referred is not None and member.referred <= now))
        last_now = stage_of(Standing(last.weeks, last.in_window, helps), policy)
        stages[-1] = max(last_now, stages[-1], key=RANK.__getitem__)
        drifting = is_drifting(member.recent, now, ever[-1], policy)
    return Journey(stages[-1], stages[-2], drifting, was_drifting,
                   tuple(stage in FANS for stage in stages))
