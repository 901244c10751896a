"""Welcomes, first responses, the journey and privacy through the real runtime."""

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.actions import DeleteMessage, DirectMessage, Post
from bot.core.clock import SimulatedClock
from bot.core.events import InviteUsed, MemberLeft
from bot.core.text import FSI, PDI, MessageLink
from bot.runtime import Runtime
from storage.journey import JourneyStore, StageRow
from tests.conftest import ALL_COGS, COMMUNITY, OWNERS, START, Community, make_settings

pytestmark = pytest.mark.both_backends  # and on PostgreSQL (tests/pg.py)


def posts(tribe: Community, kind: str, about: str | None = None) -> list[Post]:
    return [s.action for s in tribe.adapter.pop_sent()
            if isinstance(s.action, Post) and s.action.kind == kind
            and (about is None or f"console:{about}" in s.action.text.mentions())]


async def journey(tribe: Community, member: str) -> StageRow:
    row = await JourneyStore(tribe.runtime.repository).stage_of(
        COMMUNITY, f"console:{member}")
    assert row is not None, f"{member} has no stage"
    return row


async def stage(tribe: Community, member: str) -> str:
    return (await journey(tribe, member)).stage


async def make_regular(tribe: Community, member: str) -> None:
    """Three weeks in a row of posting: a regular (3 of the last 4 weeks)."""
    for _ in range(3):
        await tribe.say(member, f"weekly note {tribe.now.isoformat()}")
        tribe.tick(weeks=1)
    assert await stage(tribe, member) == "regular"


# -- welcome ------------------------------------------------------------------------------

async def test_welcome_uses_every_placeholder(tribe: Community) -> None:
    await tribe.open()
    await tribe.command("mod", "/welcome rules #owners")
    await tribe.command("mod", "/welcome set Hi {member} ({name}) — {community} has "
                               "{member_count} members; rules: {rules_channel}{buddy}")
    tribe.adapter.pop_sent()
    tribe.tick(minutes=5)
    await tribe.join("ann")
    [post] = posts(tribe, "welcome")
    assert post.text.plain() == "Hi @Ann (Ann) — Tribe has 2 members; rules: #owners"
    assert post.text.mentions() == ("console:ann",)


async def test_unknown_placeholder_is_refused_at_welcome_set(tribe: Community) -> None:
    await tribe.open()
    reply = await tribe.command("mod", "/welcome set Hello {usr}!")
    assert reply.startswith("The welcome text was not changed: unknown placeholder {usr}")
    assert "{member}" in reply
    assert "Welcome to Tribe" in await tribe.command("mod", "/welcome test")


async def test_hebrew_welcome_isolates_names_and_numbers(tribe: Community) -> None:
    await tribe.open()
    await tribe.command("mod", "/community language he")
    tribe.adapter.pop_sent()
    tribe.tick(minutes=5)
    await tribe.join("ann")
    [post] = posts(tribe, "welcome")
    text = post.text.plain()
    assert text.startswith("ברוכים הבאים ל־")
    assert f"{FSI}@Ann{PDI}" in text and f"{FSI}2{PDI}" in text


async def test_burst_of_joins_is_one_post(tribe: Community) -> None:
    await tribe.open()
    tribe.adapter.pop_sent()
    tribe.tick(minutes=10)
    await tribe.join("first")
    for index in range(14):
        tribe.tick(seconds=2)
        await tribe.join(f"raider{index}")
    tribe.tick(minutes=5)
    await tribe.say("mod", "calm again")  # time passes: the batch is flushed
    welcomes = posts(tribe, "welcome")
    assert len(welcomes) == 2
    assert welcomes[0].text.mentions() == ("console:first",)
    batch = welcomes[1].text
    assert len(batch.mentions()) == 10
    assert batch.plain().endswith("…and 4 more newcomers!")


async def test_member_who_left_and_rejoins_is_welcomed_back(tribe: Community) -> None:
    await tribe.open("ann")
    tribe.tick(days=1)
    await tribe.adapter.push(MemberLeft(community=COMMUNITY, at=tribe.now, member="console:ann"))
    tribe.tick(days=3)
    tribe.adapter.pop_sent()
    await tribe.join("ann")
    [post] = posts(tribe, "welcome")
    assert post.text.plain() == "Welcome back, @Ann! Good to see you again."


async def test_welcome_off_dm_only_and_delete_after(tribe: Community) -> None:
    await tribe.open()
    tribe.adapter.pop_sent()
    await tribe.command("mod", "/welcome off")
    tribe.tick(minutes=5)
    await tribe.join("quiet")
    assert posts(tribe, "welcome") == []
    await tribe.command("mod", "/welcome on")
    await tribe.command("mod", "/welcome dm only")
    tribe.tick(minutes=5)
    await tribe.join("ann")
    sent = [s.action for s in tribe.adapter.pop_sent()]
    assert [type(a) for a in sent if getattr(a, "kind", "") == "welcome"] == [DirectMessage]
    await tribe.command("mod", "/welcome dm off")
    tribe.runtime.communities.set(COMMUNITY, "welcome.delete_after_minutes", 30)
    tribe.tick(minutes=5)
    await tribe.join("ben")
    tribe.tick(minutes=31)
    await tribe.say("mod", "half an hour later")
    sent = [s.action for s in tribe.adapter.pop_sent()]
    assert any(isinstance(a, Post) and a.kind == "welcome" for a in sent)
    assert any(isinstance(a, DeleteMessage) for a in sent)


@asynccontextmanager
async def bot_session(tmp_path: Path, at: datetime) -> AsyncIterator[Community]:
    """One run of the bot on the store in ``tmp_path``, its clock at ``at``: the previous
    run's timers that are due by then fire first."""
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(at),
                       cogs=ALL_COGS) as runtime:
        tribe = Community(ConsoleAdapter(runtime, echo=False, moderators=["mod"]))
        tribe.now = at
        await runtime.advance_to(at)
        yield tribe


async def test_a_restart_still_welcomes_the_burst_it_was_gathering(tmp_path: Path) -> None:
    async with bot_session(tmp_path, START) as tribe:
        await tribe.open()
        tribe.adapter.pop_sent()
        tribe.tick(minutes=10)
        await tribe.join("first")  # posted at once; the next minute gathers a burst
        tribe.tick(seconds=5)
        await tribe.join("second")
        tribe.tick(seconds=5)
        await tribe.join("third")
        assert [p.text.mentions() for p in posts(tribe, "welcome")] == [("console:first",)]
        stopped = tribe.now  # stops before the burst is due
    async with bot_session(tmp_path, stopped + timedelta(minutes=5)) as tribe:
        [burst] = posts(tribe, "welcome")
        assert burst.text.mentions() == ("console:second", "console:third")
    async with bot_session(tmp_path, stopped + timedelta(minutes=10)) as tribe:
        assert posts(tribe, "welcome") == []  # welcomed once, not at every start


async def test_a_restart_still_deletes_welcome_posts_when_due(tmp_path: Path) -> None:
    async with bot_session(tmp_path, START) as tribe:
        await tribe.open()
        tribe.adapter.pop_sent()
        tribe.runtime.communities.set(COMMUNITY, "welcome.delete_after_minutes", 30)
        tribe.tick(minutes=10)
        await tribe.join("ann")
        [welcome] = [s for s in tribe.adapter.pop_sent()
                     if isinstance(s.action, Post) and s.action.kind == "welcome"]
        joined = tribe.now
    async with bot_session(tmp_path, joined + timedelta(minutes=20)) as tribe:
        assert not any(isinstance(s.action, DeleteMessage) for s in tribe.adapter.pop_sent())
    async with bot_session(tmp_path, joined + timedelta(minutes=31)) as tribe:
        deletes = [s.action for s in tribe.adapter.pop_sent()
                   if isinstance(s.action, DeleteMessage)]
        assert [d.message for d in deletes] == [welcome.message]
    async with bot_session(tmp_path, joined + timedelta(minutes=40)) as tribe:
        assert not any(isinstance(s.action, DeleteMessage) for s in tribe.adapter.pop_sent())


async def test_welcome_channel_moves_the_welcome(tribe: Community) -> None:
    await tribe.open()
    reply = await tribe.command("mod", "/welcome channel #owners")
    assert reply == "Welcomes will be posted in #owners."
    tribe.adapter.pop_sent()
    tribe.tick(minutes=5)
    await tribe.join("ann")
    [post] = posts(tribe, "welcome")
    assert post.channel == OWNERS


async def test_welcome_commands_are_for_moderators(tribe: Community) -> None:
    await tribe.open("ann")
    assert (await tribe.command("ann", "/welcome set hi")).startswith("Sorry, only moderators")
    assert (await tribe.command("ann", "/welcome off")).startswith("Sorry, only moderators")


# -- first response -----------------------------------------------------------------------

async def _newcomer_asks(tribe: Community) -> str:
    await tribe.open("ann")
    await tribe.command("mod", "/community owners #owners")
    tribe.tick(days=1)
    await tribe.join("newbie")
    tribe.tick(minutes=10)
    return await tribe.say("newbie", "hi, how do I start?")


async def test_unanswered_first_message_alerts_moderators_once(tribe: Community) -> None:
    first = await _newcomer_asks(tribe)
    tribe.adapter.pop_sent()
    tribe.tick(hours=5)
    await tribe.say("ann", "an unrelated message")
    tribe.tick(hours=5)
    await tribe.say("ann", "another unrelated one")
    [alert] = posts(tribe, "first_response_alert", about="newbie")
    assert alert.channel == OWNERS
    assert "Nobody has answered @Newbie's first message yet (4 hours)" in alert.text.plain()
    links = [s for s in alert.text.segments if isinstance(s, MessageLink)]
    assert links[0].message == first


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_answered_first_message_sends_no_alert_and_is_timed(tribe: Community) -> None:
    first = await _newcomer_asks(tribe)
    tribe.tick(minutes=30)
    await tribe.say("ann", "welcome! start with the guide", reply_to=first)
    tribe.tick(hours=6)
    await tribe.say("ann", "later")
    assert posts(tribe, "first_response_alert", about="newbie") == []
    await tribe.runtime.repository.flush()
    with sqlite3.connect(tribe.runtime.repository.path) as conn:
        answered = conn.execute("SELECT answered_at - at, answered_by FROM first_messages "
                                "WHERE member_id = 'console:newbie'").fetchone()
    assert answered == (30 * 60, "console:ann")


async def test_a_reaction_also_answers(tribe: Community) -> None:
    first = await _newcomer_asks(tribe)
    tribe.tick(minutes=5)
    await tribe.react("ann", first, "👋")
    tribe.tick(hours=6)
    await tribe.say("ann", "later")
    assert posts(tribe, "first_response_alert", about="newbie") == []


# -- the journey ----------------------------------------------------------------------------

async def test_stages_move_up_with_weekly_contribution(tribe: Community) -> None:
    await tribe.open("ann")
    assert await stage(tribe, "ann") == "visitor"
    await tribe.say("ann", "my first words")
    assert await stage(tribe, "ann") == "audience"
    tribe.tick(weeks=1)
    await tribe.say("ann", "back a week later")
    assert await stage(tribe, "ann") == "participant"
    tribe.tick(weeks=1)
    await tribe.say("ann", "and again")
    assert await stage(tribe, "ann") == "regular"
    reply = await tribe.command("ann", "/rank")
    assert "Stage: regular." in reply


async def test_demotion_and_drifting_follow_whole_weeks(tribe: Community) -> None:
    await tribe.open("ann")
    await make_regular(tribe, "ann")
    tribe.tick(days=1)
    await tribe.say("mod", "a day of quiet for ann")
    assert await stage(tribe, "ann") == "regular"  # one quiet day moves nobody down
    tribe.tick(weeks=3)
    await tribe.say("mod", "three weeks later")  # the weekly sweeps have run
    assert await stage(tribe, "ann") == "participant"
    assert (await journey(tribe, "ann")).drifting


async def test_lurkers_are_counted_apart(tribe: Community) -> None:
    await tribe.open("ann", "lurk")
    message = await tribe.say("ann", "a post to react to")
    await tribe.react("lurk", message)
    row = await journey(tribe, "lurk")
    assert row.stage == "visitor" and row.lurker


async def test_referral_credit_only_after_participation(tribe: Community) -> None:
    await tribe.open("ann")
    tribe.tick(days=1)
    await tribe.join("friend")
    await tribe.adapter.push(InviteUsed(community=COMMUNITY, at=tribe.now,
                                        member="console:friend", inviter="console:ann"))
    assert [r for r, _ in await tribe.reasons("ann")] == []  # nothing for the join itself
    await tribe.say("friend", "hello, ann invited me")
    assert [r for r, _ in await tribe.reasons("ann")] == []  # audience is not enough
    tribe.tick(weeks=1)
    await tribe.say("friend", "I came back!")
    assert ("referral", 50) in await tribe.reasons("ann")


async def test_buddy_is_named_and_greeting_earns_welcome_points(tribe: Community) -> None:
    await tribe.open("ann")
    await make_regular(tribe, "ann")
    await tribe.command("ann", "/welcome buddy on")
    await tribe.say("ann", "still around this week")
    tribe.tick(hours=1)
    tribe.adapter.pop_sent()
    await tribe.join("newbie")
    [welcome] = posts(tribe, "welcome")
    assert welcome.text.mentions() == ("console:newbie", "console:ann")
    assert "@Ann is around to help you find your way." in welcome.text.plain()
    tribe.tick(minutes=20)
    first = await tribe.say("newbie", "hello everyone, glad to be here")
    tribe.tick(minutes=5)
    await tribe.say("ann", "welcome newbie!", reply_to=first)
    assert ("welcomed_newcomer", 10) in await tribe.reasons("ann")
    assert await stage(tribe, "ann") == "champion"


async def test_invite_command_gives_a_personal_link(tribe: Community) -> None:
    await tribe.open("ann")
    reply = await tribe.command("ann", "/invite")
    assert "https://console.invalid/invite/ann" in reply


# -- privacy --------------------------------------------------------------------------------

@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_forget_me_keeps_others_totals(tribe: Community) -> None:
    await tribe.open("ann", "ben")
    await tribe.command("ann", "/subscribe meetups")
    post = await tribe.say("ben", "ben's great post")
    await tribe.react("ann", post)
    tribe.tick(minutes=2)
    await tribe.say("ann", "ann says something")
    await tribe.say("ann", "ok")  # refused as farming: stored as such, and forgotten too
    ben_before = await tribe.points("ben")
    assert "/forget me confirm" in await tribe.command("ann", "/forget me")
    assert await tribe.points("ann") == 20  # asking alone erases nothing
    assert await tribe.command("ann", "/forget me confirm") == \
        "Done: your data in this community is erased."
    assert await tribe.points("ben") == ben_before
    assert await tribe.points("ann") == 0
    runtime = tribe.runtime
    assert await runtime.repository.recompute_totals() == 0
    await runtime.repository.flush()
    with sqlite3.connect(runtime.repository.path) as conn:
        assert "console:ann" not in dump_every_table(conn)


def dump_every_table(conn: sqlite3.Connection) -> str:
    """Every row of every table, so that a table added later is checked too."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "welcome_pending" in tables
    return "\n".join(str(row) for table in tables
                     for row in conn.execute(f'SELECT * FROM "{table}"'))


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_forget_me_also_drops_a_welcome_still_waiting(tribe: Community) -> None:
    await tribe.open()
    tribe.tick(minutes=10)
    await tribe.join("first")
    tribe.tick(seconds=5)
    await tribe.join("ann")  # gathered for the next burst post
    tribe.adapter.pop_sent()
    assert await tribe.command("ann", "/forget me confirm") == \
        "Done: your data in this community is erased."
    tribe.tick(minutes=5)
    await tribe.say("mod", "later")  # the burst is due: nobody is left in it
    assert posts(tribe, "welcome") == []
    runtime = tribe.runtime
    await runtime.repository.flush()
    with sqlite3.connect(runtime.repository.path) as conn:
        assert "console:ann" not in dump_every_table(conn)


async def test_my_data_arrives_as_a_json_file_by_dm(tribe: Community) -> None:
    await tribe.open("ann")
    await tribe.say("ann", "something to export")
    tribe.adapter.pop_sent()
    assert await tribe.command("ann", "/my data") == "Sent: check your direct messages."
    [dm] = [s.action for s in tribe.adapter.pop_sent() if isinstance(s.action, DirectMessage)]
    assert dm.member == "console:ann" and dm.file is not None
    data = json.loads(Path(dm.file).read_bytes())  # noqa: ASYNC240 - a test reading its file
    assert data["member"] == "console:ann" and data["profile"][0]["name"] == "Ann"
    assert len(data["messages"]) == 1 and data["messages"][0]["text"] is None
    assert data["points_ledger"][0]["reason"] == "message"


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_activity_read_at_start_matches_the_daily_rollup(tribe: Community) -> None:
    await tribe.open("ann", "ben", "cy")
    post = await tribe.say("ann", "week one")
    await tribe.react("cy", post)  # cy only reacts
    tribe.tick(days=8)
    await tribe.say("ben", "week two")
    await tribe.say("ann", "week two as well")
    tribe.tick(days=15)
    await tribe.say("ann", "week four")
    runtime = tribe.runtime
    activity = await JourneyStore(runtime.repository).activity(COMMUNITY)
    with sqlite3.connect(runtime.repository.path) as conn:
        expected: dict[str, tuple[set[str], bool]] = {}
        for member, week, messages, reactions in conn.execute(
            """SELECT member_id, date(day, '-6 days', 'weekday 1'), sum(messages > farmed),
                      sum(reactions_given) FROM daily_activity WHERE community_id = ?
               GROUP BY 1, 2""", (COMMUNITY,)):
            weeks, reacted = expected.get(member, (set(), False))
            expected[member] = (weeks | ({week} if messages else set()),
                                reacted or bool(reactions))
    expected = {m: found for m, found in expected.items() if found != (set(), False)}
    assert {m: (h.weeks, h.reacted) for m, h in activity.items()} == expected
    assert len(activity["console:ann"].weeks) == 3 and activity["console:cy"].reacted


@pytest.mark.sqlite_only  # the writer's timing is the point, not the dialect
async def test_a_member_back_before_the_store_committed_has_had_their_first_message(
        tmp_path: Path) -> None:
    """Memory, not a read of what is committed, says a returning member has posted their
    first message: a replay outruns the writer's commits (here nothing is committed at
    all), and its output must not depend on when they come."""
    settings = make_settings(tmp_path, storage={"batch_interval_ms": 60_000,
                                                "batch_size": 100_000},
                             welcome={"newcomer_days": 1})
    runtime = Runtime(settings, clock=SimulatedClock(START), cogs=ALL_COGS)
    await runtime.start()
    try:
        tribe = Community(ConsoleAdapter(runtime, echo=False, moderators=["mod"]))
        await tribe.open("ann")
        await tribe.command("mod", "/community owners #owners")
        tribe.tick(hours=1)
        await tribe.join("newbie")
        await tribe.say("newbie", "hi, how do I start?")
        tribe.tick(days=2)
        await tribe.join("other")  # the bot lets newcomers of over a day ago go
        await tribe.adapter.push(MemberLeft(community=COMMUNITY, at=tribe.now,
                                            member="console:newbie"))
        tribe.tick(hours=1)
        await tribe.join("newbie")
        await tribe.say("newbie", "back again, hello everyone")
        assert runtime.repository.writer is not None
        assert runtime.repository.writer.unsaved > 0, "the store has not committed yet"
        tribe.adapter.pop_sent()
        tribe.tick(hours=5)
        await tribe.say("ann", "an unrelated message")
        # the first message's alert went out two days ago; the second is no first message
        assert posts(tribe, "first_response_alert", about="newbie") == []
    finally:
        await runtime.stop()
