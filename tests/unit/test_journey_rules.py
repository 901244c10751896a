"""The journey stages as pure functions of the weeks a member contributed."""

from datetime import date

from cogs.journey.stages import (
    JourneyPolicy,
    Signals,
    classify,
    is_drifting,
    is_lurker,
    stage_now,
    week_number,
    week_start,
)

P = JourneyPolicy()
NONE = Signals()
W = 100  # "this week"


def test_weeks_are_consecutive_iso_weeks() -> None:
    monday = date(2026, 11, 2)
    assert week_number(monday) == week_number(date(2026, 11, 8))  # same ISO week
    assert week_number(date(2026, 11, 9)) == week_number(monday) + 1
    assert week_start(week_number(date(2026, 11, 5))) == monday


def test_visitor_audience_participant_boundaries() -> None:
    assert classify(set(), W, NONE, P) == "visitor"
    assert classify({W}, W, NONE, P) == "audience"
    assert classify({W - 10}, W, NONE, P) == "audience"
    assert classify({W - 10, W}, W, NONE, P) == "participant"


def test_regular_needs_three_of_the_last_four_weeks() -> None:
    assert classify({W - 3, W - 2, W}, W, NONE, P) == "regular"
    assert classify({W - 4, W - 2, W}, W, NONE, P) == "participant"  # W-4 is outside
    assert classify({W - 1, W}, W, NONE, P) == "participant"


def test_champion_is_a_regular_who_helps_welcomes_or_refers() -> None:
    weeks = {W - 2, W - 1, W}
    assert classify(weeks, W, Signals(helped_week=W - 1), P) == "champion"
    assert classify(weeks, W, Signals(greeted_week=W), P) == "champion"
    assert classify(weeks, W, Signals(referrals=1), P) == "champion"
    assert classify(weeks, W, Signals(helped_week=W - 6), P) == "regular"  # long ago
    assert classify({W - 9, W}, W, Signals(helped_week=W), P) == "participant"


def test_demotion_waits_for_a_whole_week() -> None:
    weeks = {W - 3, W - 2, W - 1}  # a regular as of last week, quiet so far this week
    assert stage_now(weeks, W, NONE, P) == "regular"
    # after this quiet week ends, 3 of the last 4 weeks still holds; one more drops it
    assert stage_now(weeks, W + 1, NONE, P) == "regular"
    assert stage_now(weeks, W + 2, NONE, P) == "participant"


def test_drifting_is_a_former_regular_silent_for_two_weeks() -> None:
    weeks = {W - 5, W - 4, W - 3}
    assert is_drifting(weeks, W, ever_regular=True, policy=P)
    assert not is_drifting(weeks | {W - 1}, W, ever_regular=True, policy=P)
    assert not is_drifting(weeks, W, ever_regular=False, policy=P)


def test_lurkers_only_react() -> None:
    assert is_lurker(set(), reacted=True)
    assert not is_lurker({W}, reacted=True)
    assert not is_lurker(set(), reacted=False)


def test_thresholds_are_configurable() -> None:
    strict = JourneyPolicy(participant_weeks=3, regular_weeks=4, regular_window=4)
    assert classify({W - 1, W}, W, NONE, strict) == "audience"
    assert classify({W - 2, W - 1, W}, W, NONE, strict) == "participant"
