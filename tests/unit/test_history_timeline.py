"""The timeline hands events out in time order while records arrive in export order."""

from __future__ import annotations

from datetime import timedelta

from bot.core.events import MessagePosted, ReactionAdded
from bot.core.history import Record, Timeline
from tests.export_builders import day

C = "console:tribe"


def post(n: int, minutes: float) -> MessagePosted:
    return MessagePosted(community=C, at=day(5) + timedelta(minutes=minutes),
                         message=f"console:m{n}", author="console:a", channel="console:c")


def react(n: int, minutes: float) -> ReactionAdded:
    return ReactionAdded(community=C, at=day(5) + timedelta(minutes=minutes),
                         message=f"console:m{n}", reactor="console:b", emoji="👍")


def record(event: MessagePosted, *later: ReactionAdded) -> Record:
    return Record(event.message, event.at, (event, *later))


def test_a_reaction_waits_until_the_export_reaches_its_time() -> None:
    timeline = Timeline()
    assert timeline.add(record(post(1, 0), react(1, 30))) == [post(1, 0)]
    assert timeline.add(record(post(2, 10))) == [post(2, 10)]
    assert timeline.add(record(post(3, 40))) == [react(1, 30), post(3, 40)]
    assert len(timeline) == 0


def test_what_is_still_held_at_the_end_comes_out_in_order() -> None:
    timeline = Timeline()
    timeline.add(record(post(1, 0), react(1, 90), react(1, 60)))
    assert timeline.rest() == [react(1, 60), react(1, 90)]


def test_past_the_hold_the_earliest_goes_out_early() -> None:
    timeline = Timeline(hold=1)
    out = timeline.add(record(post(1, 0), react(1, 90), react(1, 60)))
    assert out == [post(1, 0), react(1, 60)] and len(timeline) == 1
