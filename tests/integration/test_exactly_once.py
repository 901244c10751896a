"""Exactly once: a restart loses nothing, a re-delivered event changes and posts nothing.

Each test stops the runtime where a crash or a deploy would and starts a new one on the
same database, or feeds the same events twice, and compares with what one uninterrupted
run gives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console.adapter import ConsoleAdapter
from bot.config import Settings
from bot.core.actions import Post
from bot.core.clock import SimulatedClock
from bot.core.events import MemberJoined, MessagePosted
from bot.replay import replay_file
from bot.runtime import Runtime
from cogs.engagement.cog import EngagementCog
from tests.conftest import (
    ALL_COGS,
    COMMUNITY,
    FIXED_POINTS,
    GENERAL,
    START,
    Community,
    make_settings,
)

pytestmark = pytest.mark.both_backends  # and on PostgreSQL (tests/pg.py)


@asynccontextmanager
async def running(settings: Settings, at: datetime, *, window: int = 100_000
                  ) -> AsyncIterator[Community]:
    """A runtime on ``settings`` whose simulated clock starts at ``at`` (``window``: the
    handled-event keys it keeps in memory)."""
    async with Runtime(settings, clock=SimulatedClock(at), cogs=ALL_COGS,
                       window=window) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False, moderators=["mod"]))
        tribe.now = at
        tribe._n = int((at - START).total_seconds())  # new message ids after a restart
        yield tribe


def posts(tribe: Community, kind: str | None = None) -> list[str]:
    return [s.text for s in tribe.adapter.pop_sent()
            if isinstance(s.action, Post) and (kind is None or s.action.kind == kind)]


# -- restarts lose nothing -------------------------------------------------------------

async def test_a_reply_from_before_a_restart_still_earns_the_helpful_bonus(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    async with running(settings, START) as tribe:
        await tribe.open("ann", "ben", "cat")
        question = await tribe.say("ann", "how do I get started here?")
        tribe.tick(minutes=2)
        answer = await tribe.say("ben", "read the pinned guide first", reply_to=question)
    later = START + timedelta(minutes=30)
    async with running(settings, later) as tribe:
        await tribe.react("cat", answer)
        assert await tribe.reasons("ben") == [("message", 20), ("reply", 5),
                                              ("reaction_received", 2), ("helpful_answer", 10)]


async def test_cooldown_and_daily_cap_hold_across_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, engagement={**FIXED_POINTS, "daily_cap": 50})
    async with running(settings, START) as tribe:
        await tribe.open("ann")
        for n in range(3):
            await tribe.say("ann", f"message number {n} of the day")
            tribe.tick(minutes=2)
        assert await tribe.points("ann") == 50  # 20 + 20 + 10: the cap
        tribe.tick(hours=1)
        await tribe.say("ann", "a message that starts a cooldown? no: capped")
    async with running(settings, START + timedelta(hours=2)) as tribe:
        await tribe.say("ann", "after the restart, the same day")
        assert await tribe.points("ann") == 50, "the daily cap survived the restart"
    settings = make_settings(tmp_path / "cooldown", engagement=FIXED_POINTS)
    (tmp_path / "cooldown").mkdir()
    async with running(settings, START) as tribe:
        await tribe.open("ann")
        await tribe.say("ann", "first message of the day")
    async with running(settings, START + timedelta(seconds=30)) as tribe:
        await tribe.say("ann", "thirty seconds later, after a restart")
        assert await tribe.reasons("ann") == [("message", 20)], "the cooldown survived"


async def test_reaction_caps_hold_across_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, engagement={
        **FIXED_POINTS, "reaction_cap_per_member_per_day": 4, "reaction_cap_per_message": 4})
    async with running(settings, START) as tribe:
        await tribe.open("ann", "ben", "cat", "dan")
        first = await tribe.say("ann", "a post people like")
        tribe.tick(minutes=5)
        second = await tribe.say("ann", "another post people like")
        await tribe.react("ben", first)
        await tribe.react("ben", second)  # ben has given ann 4 today: his cap
        await tribe.react("cat", first)  # first has earned 4: its cap
        assert await tribe.points("ann") == 40 + 6
    async with running(settings, START + timedelta(hours=1)) as tribe:
        third = await tribe.say("ann", "and a third one")
        await tribe.react("ben", third)  # still ben's cap today
        await tribe.react("dan", first)  # still the first post's cap
        await tribe.react("cat", first, "🔥")
        assert await tribe.points("ann") == 40 + 6 + 20, "no cap was forgotten"


async def test_a_reaction_removed_before_a_restart_and_added_after_earns_nothing(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    async with running(settings, START) as tribe:
        await tribe.open("ann", "ben")
        post = await tribe.say("ann", "a post worth a reaction")
        await tribe.react("ben", post)
        tribe.tick(minutes=1)
        await tribe.unreact("ben", post)
        assert await tribe.points("ann") == 20
    async with running(settings, START + timedelta(hours=1)) as tribe:
        await tribe.react("ben", post)
        assert await tribe.points("ann") == 20
        engagement = next(c for c in tribe.runtime.cogs if c.name == "engagement")
        assert engagement._states[(COMMUNITY, "console:ann")].total == 20, "memory agrees"


# -- reproducible points ---------------------------------------------------------------

def _stream_file(path: Path, messages: int) -> Path:
    """A replay file: a community, members, messages with replies and reactions."""
    at = START
    lines: list[dict[str, Any]] = [
        {"type": "community_joined", "at": at.isoformat(), "community": "tribe",
         "name": "Tribe", "channels": [{"id": "general", "name": "general"}],
         "moderators": ["mod"]}]
    for n in range(8):
        lines.append({"type": "member_joined", "at": at.isoformat(), "community": "tribe",
                      "member": f"u{n}", "name": f"U{n}"})
    for i in range(messages):
        at += timedelta(seconds=50 + i % 7 * 13)
        record: dict[str, Any] = {
            "type": "message_posted", "at": at.isoformat(), "community": "tribe",
            "message": f"m{i}", "author": f"u{i % 8}", "channel": "general",
            "text": f"message {i} about topic {i % 5}"}
        if i % 3 == 1:
            record["reply_to"] = f"m{i - 1}"
        lines.append(record)
        if i % 4 == 2:
            lines.append({"type": "reaction_added", "at": at.isoformat(), "community": "tribe",
                          "message": f"m{i - 1}", "reactor": f"u{(i + 3) % 8}",
                          "emoji": "👍"})
    if path.parent != path:
        path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    return path


async def _totals(settings: Settings) -> dict[str, int]:
    async with Runtime(settings, clock=SimulatedClock(START), cogs=[]) as rt:
        return await rt.repository.point_totals("console:tribe", 1)


async def test_the_same_stream_gives_the_same_totals_every_run(tmp_path: Path) -> None:
    stream = _stream_file(tmp_path / "stream.jsonl", 120)
    totals = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        settings = make_settings(tmp_path / run)  # the default range: 15-25 per message
        await replay_file(settings, stream, echo=False)
        totals.append(await _totals(settings))
    assert totals[0] == totals[1]
    assert len(set(totals[0].values())) > 1  # not trivially equal


async def test_a_restart_midway_gives_the_same_totals_as_one_run(tmp_path: Path) -> None:
    whole = _stream_file(tmp_path / "whole.jsonl", 120)
    lines = whole.read_text("utf-8").splitlines(keepends=True)
    half = tmp_path / "half.jsonl"
    half.write_text("".join(lines[:70]), encoding="utf-8")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, two = make_settings(tmp_path / "one"), make_settings(tmp_path / "two")
    await replay_file(one, whole, echo=False)
    await replay_file(two, half, echo=False)
    report = await replay_file(two, whole, echo=False)  # re-delivered from the start
    assert report.duplicates == 70 and report.events == len(lines) - 70
    assert await _totals(two) == await _totals(one)


# -- re-delivery posts nothing twice ---------------------------------------------------

async def test_replaying_a_file_bigger_than_the_memory_window_again_changes_and_posts_nothing(
    tmp_path: Path,
) -> None:
    stream = _stream_file(tmp_path / "stream.jsonl", 400)
    with stream.open("a", encoding="utf-8") as handle:  # someone leaves and comes back
        for record in (
            {"type": "member_left", "at": "2026-11-03T12:00:00+00:00", "member": "u3"},
            {"type": "member_joined", "at": "2026-11-03T12:05:00+00:00", "member": "u3",
             "name": "U3"},
            {"type": "command", "at": "2026-11-03T12:06:00+00:00", "member": "mod",
             "channel": "general", "text": "/points give u1 30 thanks for the guide"},
        ):
            handle.write(json.dumps({**record, "community": "tribe"}) + "\n")
    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    first = await replay_file(settings, stream, echo=False, window=50)
    before = await _totals(settings)
    assert first.events > 400 and first.errors == []
    sent: list[str] = []
    async with Runtime(settings, clock=SimulatedClock(START), cogs=ALL_COGS,
                       window=50) as rt:
        asked: list[int] = []
        lookup = rt.bus._lookup
        assert lookup is not None

        async def counting(keys: Any) -> set[str]:
            asked.append(len(keys))
            return await lookup(keys)

        rt.bus._lookup = counting
        adapter = ConsoleAdapter(rt, echo=False)
        report = await adapter.replay(stream)
        sent = [s.text for s in adapter.sent]
    assert 0 < len(asked) <= 3, f"the store is asked per chunk, not per event: {asked}"
    assert sent == [], "nothing is posted twice: no welcome, no welcome back, no level-up"
    assert report.events == 0 and report.commands == 0
    assert report.duplicates == first.events + first.commands
    assert await _totals(settings) == before


async def _credit(tribe: Community, member: str) -> list[int]:
    """The welcome points in the member's ledger, once the ledger, the stored total and
    the engagement cog's total are seen to agree."""
    await tribe.runtime.repository.flush()
    reasons = await tribe.reasons(member)
    cog = next(c for c in tribe.runtime.cogs if isinstance(c, EngagementCog))
    state = cog._states.get((COMMUNITY, f"console:{member}"))
    assert sum(delta for _, delta in reasons) == await tribe.points(member) == (
        state.total if state else 0)
    return [delta for reason, delta in reasons if reason == "welcomed_newcomer"]


@pytest.mark.parametrize("window", [100_000, 1])
async def test_a_greeting_is_credited_once_across_a_restart(tmp_path: Path,
                                                            window: int) -> None:
    """Only the welcome cog asks the ledger whether a greeting was credited; engagement
    trusts its NewcomerGreeted. Greeting the same newcomer again (before and after a
    restart, with the greeting's key remembered by the bus or long forgotten) and the
    greeting itself re-delivered credit nothing more, in the store or in memory."""
    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    async with running(settings, START) as tribe:
        await tribe.open("ann")
        for _ in range(3):  # a regular: three weeks in a row of posting
            await tribe.say("ann", f"weekly note {tribe.now.isoformat()}")
            tribe.tick(weeks=1)
        await tribe.join("newbie")
        tribe.tick(minutes=20)
        first = await tribe.say("newbie", "hello everyone, glad to be here")
        tribe.tick(minutes=5)
        greeting = await tribe.say("ann", "welcome newbie!", reply_to=first)
        tribe.tick(minutes=5)
        await tribe.say("ann", "really, make yourself at home", reply_to=first)
        assert await _credit(tribe, "ann") == [10]
        at, count = tribe.now, tribe._n
    async with running(settings, at + timedelta(minutes=5), window=window) as tribe:
        tribe._n = count
        again = MessagePosted(community=COMMUNITY, at=at - timedelta(minutes=5),
                              message=greeting, author="console:ann", channel=GENERAL,
                              text="welcome newbie!", length=15, reply_to=first)
        await tribe.adapter.push(again)  # re-delivered by the platform
        tribe.tick(minutes=5)
        await tribe.say("ann", "newbie, ask me anything", reply_to=first)
        await tribe.say("ann", "see you around", reply_to=first)
        assert await _credit(tribe, "ann") == [10]


async def test_welcome_back_only_for_a_member_the_store_says_left(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    async with running(settings, START) as tribe:
        await tribe.open("ann")
        await tribe.runtime.advance_to(tribe.tick(minutes=5))  # the burst's post
        assert any("@Ann" in text for text in posts(tribe, "welcome"))
    async with running(settings, START + timedelta(hours=1)) as tribe:
        # the platform sends ann's join again after the restart, with a new time
        await tribe.adapter.push(MemberJoined(community=COMMUNITY, at=tribe.now,
                                              member="console:ann", name="Ann"))
        assert posts(tribe, "welcome") == [], "ann never left: no welcome back"
        await tribe.adapter.push(MemberJoined(community=COMMUNITY, at=tribe.now,
                                              member="console:new", name="New"))
        assert len(posts(tribe, "welcome")) == 1  # a real newcomer still is welcomed


async def test_a_level_is_announced_once_whatever_the_total_does_after(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    async with running(settings, START) as tribe:
        await tribe.open("ann")
        for n in range(5):
            await tribe.say("ann", f"message number {n}")
            tribe.tick(minutes=2)
        assert posts(tribe, "level_up") == ["🎉 @Ann reached level 1!"]
    async with running(settings, START + timedelta(hours=1)) as tribe:
        await tribe.say("ann", "back after the restart", author_name="Ann")
        await tribe.command("mod", "/points take @Ann 30 a test")
        await tribe.command("mod", "/points give @Ann 30 and back")
        assert posts(tribe, "level_up") == [], "level 1 was announced before the restart"
        assert await tribe.points("ann") == 120


# -- clock jumps -----------------------------------------------------------------------

async def test_a_jump_of_decades_fires_each_timer_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    import asyncio

    long_ago = datetime(1971, 1, 4, 9, 0, tzinfo=START.tzinfo)
    async with running(make_settings(tmp_path), long_ago) as tribe:
        await tribe.open("ann")  # a community: daily pruning, weekly sweeps and summaries
        timers = tribe.runtime.timers
        fired = 0
        run_due = timers.run_due

        async def counting() -> int:
            nonlocal fired
            ran = await run_due()
            fired += ran
            return ran

        timers.run_due = counting  # type: ignore[method-assign]
        tribe.now = START
        await asyncio.wait_for(tribe.say("ann", "fifty-five years later"), timeout=20)
        # 400 days of daily and weekly timers at most, not 55 years of them
        assert 0 < fired < 700, fired
        assert await tribe.points("ann") > 0


async def test_a_live_event_from_the_future_is_refused(tmp_path: Path) -> None:
    from datetime import UTC

    from bot.core.events import MessagePosted

    async with Runtime(make_settings(tmp_path), cogs=ALL_COGS) as rt:  # the system clock
        now = datetime.now(UTC)
        ahead = MessagePosted(community=COMMUNITY, at=now + timedelta(days=2),
                              message="console:m1", author="console:ann",
                              channel="console:general", length=20)
        assert rt.publish(ahead) is False
        assert rt.publish(MessagePosted(community=COMMUNITY, at=now, message="console:m2",
                                        author="console:ann", channel="console:general",
                                        length=20)) is True
        await rt.bus.drain()
        assert await rt.repository.message_author(COMMUNITY, "console:m1") is None
        assert await rt.repository.message_author(COMMUNITY, "console:m2") == "console:ann"


async def test_a_member_who_comes_back_has_no_second_first_message(tmp_path: Path) -> None:
    from bot.core.events import MemberLeft

    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    async with running(settings, START) as tribe:
        await tribe.open("ann", "ben")
        await tribe.command("mod", "/community owners #owners")
        first = await tribe.say("ann", "hello, I am new here")
        tribe.tick(minutes=5)
        await tribe.say("ben", "welcome ann!", reply_to=first)
        tribe.tick(days=20)  # ann is no newcomer any more; memory lets her go...
        await tribe.join("cat")  # ...when the next newcomer comes
        await tribe.adapter.push(MemberLeft(community=COMMUNITY, at=tribe.now,
                                            member="console:ann"))
        tribe.tick(hours=1)
        await tribe.join("ann")
        tribe.tick(minutes=5)
        await tribe.say("ann", "I am back after a while")
        tribe.tick(hours=5)
        await tribe.say("ben", "a later message moves the clock past the alert time")
        assert [text for text in posts(tribe, "first_response_alert") if "@Ann" in text] == []


async def test_live_re_deliveries_past_the_window_are_asked_of_the_store_in_batches(
    tmp_path: Path,
) -> None:
    from bot.core.events import MessagePosted

    settings = make_settings(tmp_path, engagement=FIXED_POINTS)
    messages = [MessagePosted(community=COMMUNITY, at=START + timedelta(minutes=n),
                              message=f"console:m{n}", author=f"console:u{n % 7}",
                              channel="console:general", text=f"message {n}", length=12)
                for n in range(300)]
    async with Runtime(settings, clock=SimulatedClock(START), cogs=ALL_COGS,
                       window=20) as rt:
        for event in messages:
            rt.publish(event)
        await rt.bus.drain()
        before = await _totals_in(rt)
    async with Runtime(settings, clock=SimulatedClock(START), cogs=ALL_COGS,
                       window=20) as rt:
        asked: list[int] = []
        lookup = rt.bus._lookup
        assert lookup is not None

        async def counting(keys: Any) -> set[str]:
            asked.append(len(keys))
            return await lookup(keys)

        rt.bus._lookup = counting
        for event in messages:  # a platform sends them all again, as fast as it can
            rt.publish(event)
        await rt.bus.drain()
        assert rt.bus.duplicates == 300 and rt.bus.published == 0
        assert sum(asked) >= 280 and len(asked) <= 3, asked  # batches, not one per event
        assert await _totals_in(rt) == before


async def _totals_in(rt: Runtime) -> dict[str, int]:
    return await rt.repository.point_totals(COMMUNITY, 1)
