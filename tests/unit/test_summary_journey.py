"""The summary's journey at a week's end is the live journey's rule, whatever the history.

``cogs.summary.journey`` gets only what the store hands it (weeks since a start, a count
before it, help and referral weeks, whether the journey ever made the member a regular
before); here it is held equal to ``classify``/``stage_now``/``is_drifting`` run on the
member's whole history, on random histories and policies.
"""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cogs.journey.stages import (
    RANK,
    JourneyPolicy,
    Signals,
    classify,
    is_drifting,
    stage_now,
)
from cogs.summary.journey import MemberWeeks, journey, recent_start

W = 60  # the summary's week
ENDS = list(range(W - 8, W + 1))


def signals_at(end: int, helps: set[int], referred: int | None) -> Signals:
    helped = max((h for h in helps if h <= end), default=None)
    return Signals(helped_week=helped, referrals=int(referred is not None and referred <= end))


def ever_regular(weeks: set[int], end: int, helps: set[int], referred: int | None,
                 policy: JourneyPolicy) -> bool:
    return any(RANK[classify(weeks, x, signals_at(x, helps, referred), policy)]
               >= RANK["regular"] for x in range(0, end + 1))


policies = st.builds(
    lambda pw, window, rw, drift: JourneyPolicy(participant_weeks=pw, regular_window=window,
                                                regular_weeks=min(rw, window),
                                                drift_weeks=drift),
    st.integers(2, 5), st.integers(1, 6), st.integers(1, 6), st.integers(1, 5))


@settings(max_examples=300, deadline=None)
@given(weeks=st.sets(st.integers(0, W)), helps=st.sets(st.integers(0, W), max_size=4),
       referred=st.none() | st.integers(0, W), policy=policies, complete=st.booleans())
# a regular last week whose help this week (a reaction to last week's answer) makes them a
# champion at once in the week so far, as the live journey says
@example(weeks={0, 1, 2, 3, W - 1}, helps={W}, referred=None, complete=False,
         policy=JourneyPolicy(participant_weeks=2, regular_weeks=1, regular_window=1,
                              drift_weeks=1))
def test_the_summary_applies_the_journeys_rule(weeks: set[int], helps: set[int],
                                               referred: int | None, policy: JourneyPolicy,
                                               complete: bool) -> None:
    start = recent_start(ENDS, policy)
    member = MemberWeeks(
        before=min(sum(1 for w in weeks if w < start), policy.participant_weeks),
        recent=sorted(w for w in weeks if w >= start),
        regular_before=ever_regular(weeks, ENDS[0] - 1, helps, referred, policy),
        helps=sorted(h for h in helps if h >= start), referred=referred)
    found = journey(member, ENDS, policy, complete=complete)

    stages = [classify(weeks, end, signals_at(end, helps, referred), policy) for end in ENDS]
    if not complete:  # the week so far, as the live journey shows it
        stages[-1] = stage_now(weeks, W, signals_at(W, helps, referred), policy)
    assert found.fan_at == tuple(s in ("regular", "champion") for s in stages)
    assert found.previous == stages[-2]
    previous_weeks = {w for w in weeks if w <= W - 1}
    assert found.was_drifting == is_drifting(
        previous_weeks, W, ever_regular(weeks, W - 1, helps, referred, policy), policy)
    ever = ever_regular(weeks, W, helps, referred, policy)
    if complete:  # what was true at the week's last second (the next sweep's verdict)
        assert found.stage == stages[-1]
        assert found.drifting == is_drifting(weeks, W + 1, ever, policy)
    else:
        assert found.stage == stages[-1]
        assert found.drifting == is_drifting(weeks, W, ever, policy)


def test_a_regular_who_went_quiet_is_not_a_fan_once_drifting() -> None:
    policy = JourneyPolicy()
    member = MemberWeeks(before=0, recent=[W - 4, W - 3, W - 2])  # quiet for W-1 and W
    found = journey(member, ENDS, policy)
    assert (found.previous, found.stage) == ("regular", "participant")
    assert found.drifting and not found.was_drifting
    assert found.fan_at[-2:] == (True, False)
