"""The content cog through the real runtime, console adapter, SQLite and APScheduler."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.actions import Action, Delivery, DirectMessage, Post
from bot.core.clock import SimulatedClock, SystemClock
from bot.runtime import Runtime
from cogs.content.cog import ContentCog
from cogs.moderation.cog import ModerationCog
from storage.content import ContentStore
from tests.conftest import COMMUNITY, OWNERS, START, Community, make_settings

pytestmark = pytest.mark.both_backends  # and on PostgreSQL (tests/pg.py)

CHANNEL = f"{COMMUNITY}-general"  # where console commands are typed, so where items post


class QuickContent(ContentCog):
    """The real cog, posting right after start (no adapters to wait for in tests)."""

    startup_delay: ClassVar[timedelta] = timedelta(0)


async def _open(rt: Runtime, *members: str) -> Community:
    tribe = Community(ConsoleAdapter(rt, echo=False, moderators=["mod"]))
    tribe.now = rt.clock.now()
    await tribe.open(*members)
    for key in ("dm_interval_ms", "retry_seconds"):
        await tribe.command("mod", f"/content set {key} 0")
    return tribe


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = Runtime(make_settings(tmp_path), clock=SimulatedClock(START),
                      cogs=[ModerationCog, QuickContent])
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture
async def tribe(rt: Runtime) -> Community:
    return await _open(rt, "ann", "ben", "cat")


def posts(tribe: Community, kind: str = "content") -> list[Post]:
    return [s.action for s in tribe.adapter.sent
            if isinstance(s.action, Post) and s.action.kind == kind]


def dms(tribe: Community) -> list[str]:
    return [s.action.member for s in tribe.adapter.sent if isinstance(s.action, DirectMessage)]


async def advance(tribe: Community, moment: datetime) -> None:
    tribe.now = moment
    await tribe.runtime.advance_to(moment)


# -- schedules --------------------------------------------------------------------------

async def test_once_item_posts_at_local_time_exactly_once(tribe: Community) -> None:
    await tribe.command("mod", "/community timezone Asia/Jerusalem")
    reply = await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" Drink water')
    assert reply == ("Scheduled item 1 (tips): once 2026-11-03 10:00. "
                     "First post: 2026-11-03 10:00 Tue.")
    await advance(tribe, datetime(2026, 11, 3, 7, 59, tzinfo=UTC))
    assert posts(tribe) == []
    await advance(tribe, datetime(2026, 11, 5, tzinfo=UTC))
    sent = [s for s in tribe.adapter.sent if isinstance(s.action, Post)]
    assert [(s.text, s.at, s.action.channel) for s in sent] == [
        ("Drink water", datetime(2026, 11, 3, 8, 0, tzinfo=UTC), CHANNEL)]


async def test_weekly_cron_stays_at_ten_local_across_new_york_dst(tmp_path: Path) -> None:
    clock = SimulatedClock(datetime(2026, 10, 20, 12, tzinfo=UTC))
    async with Runtime(make_settings(tmp_path), clock=clock,
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = await _open(rt)
        await tribe.command("mod", "/community timezone America/New_York")
        await tribe.command("mod", '/content add news "cron 0 10 * * TUE" Weekly news')
        await tribe.command("mod", '/content add tips "every 2 weeks tue 10:00" Fortnightly')
        await advance(tribe, datetime(2026, 11, 12, tzinfo=UTC))
        sent = sorted((s.at, s.action.text.plain()) for s in tribe.adapter.sent
                      if isinstance(s.action, Post))
    times = [(text, at) for at, text in sent]
    # DST ends on 1 November 2026: 10:00 is 14:00 UTC before, 15:00 UTC after.
    assert times == [
        ("Fortnightly", datetime(2026, 10, 20, 14, tzinfo=UTC)),
        ("Weekly news", datetime(2026, 10, 20, 14, tzinfo=UTC)),
        ("Weekly news", datetime(2026, 10, 27, 14, tzinfo=UTC)),
        ("Fortnightly", datetime(2026, 11, 3, 15, tzinfo=UTC)),
        ("Weekly news", datetime(2026, 11, 3, 15, tzinfo=UTC)),
        ("Weekly news", datetime(2026, 11, 10, 15, tzinfo=UTC)),
    ]


async def test_content_next_lists_local_times(tribe: Community) -> None:
    await tribe.command("mod", "/community timezone Asia/Jerusalem")
    await tribe.command("mod", '/content add tips "every 3 days 10:00" Stretch')
    reply = await tribe.command("mod", "/content next")
    lines = reply.splitlines()
    assert lines[0] == "Coming posts (Asia/Jerusalem):"
    assert lines[1:4] == ["2026-11-03 10:00 Tue · 1 · tips · Stretch",
                          "2026-11-06 10:00 Fri · 1 · tips · Stretch",
                          "2026-11-09 10:00 Mon · 1 · tips · Stretch"]


# -- rotation ---------------------------------------------------------------------------

async def test_queue_rotates_without_repeats_until_exhausted(tribe: Community) -> None:
    for text in ("First tip", "Second tip", "Third tip"):
        await tribe.command("mod", f'/content add tips "queue" {text}')
    reply = await tribe.command("mod", '/content queue tips "every 1 days 10:00"')
    assert reply.startswith("Queue q1 posts the next “tips” item every 1 days 10:00")
    assert "3 items wait in it" in reply
    await advance(tribe, datetime(2026, 11, 4, 12, tzinfo=UTC))  # 2, 3, 4 Nov
    await tribe.command("mod", '/content add tips "queue" Fourth tip')
    await advance(tribe, datetime(2026, 11, 8, 12, tzinfo=UTC))  # 5, 6, 7, 8 Nov
    assert [p.text.plain() for p in posts(tribe)] == [
        "First tip", "Second tip", "Third tip", "Fourth tip", "First tip", "Second tip",
        "Third tip"]


async def test_reschedule_and_move_keep_the_item(tribe: Community) -> None:
    await tribe.command("mod", '/content add tips "every 1 days 10:00" Daily tip')
    reply = await tribe.command("mod", '/content reschedule 1 "every 1 days 18:00"')
    assert reply == ("Content 1 now follows every 1 days 18:00 from 2026-11-02. "
                     "Next post: 2026-11-02 18:00 Mon.")
    moved = await tribe.adapter.command(COMMUNITY, "mod", "/content move 1",
                                        channel=OWNERS, at=tribe.now)
    assert moved.text.plain() == "Content 1 will be posted in this channel from now on."
    await advance(tribe, datetime(2026, 11, 3, 12, tzinfo=UTC))
    assert [(s.at, s.action.channel) for s in tribe.adapter.sent
            if isinstance(s.action, Post) and s.action.kind == "content"] == [
        (datetime(2026, 11, 2, 18, tzinfo=UTC), OWNERS)]
    # a queue keeps recurring; an item does not slip into or out of its queue
    await tribe.command("mod", '/content queue tips "every 1 weeks mon 10:00"')
    assert "needs a recurring schedule" in await tribe.command(
        "mod", '/content reschedule q1 "once 2026-12-01 10:00"')
    assert "cannot move into or out of" in await tribe.command(
        "mod", '/content reschedule 1 "queue"')
    assert "don't understand the schedule" in await tribe.command(
        "mod", '/content reschedule 1 "sometimes"')


async def test_a_new_time_zone_moves_the_next_post_at_once(tribe: Community) -> None:
    await tribe.command("mod", '/content add tips "every 1 days 10:00" Daily tip')
    await tribe.command("mod", "/community timezone Asia/Jerusalem")  # UTC+2, no restart
    await advance(tribe, datetime(2026, 11, 3, 8, 30, tzinfo=UTC))
    assert [s.at for s in tribe.adapter.sent if isinstance(s.action, Post)
            and s.action.kind == "content"] == [datetime(2026, 11, 3, 8, tzinfo=UTC)]


# -- reliability ------------------------------------------------------------------------

async def _restart_at(tmp_path: Path, moment: datetime) -> tuple[list[str], list[str]]:
    """Start a fresh runtime on the same store at ``moment``; what it posts, and the
    slots it recorded as skipped."""
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(moment),
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False))
        tribe.now = moment
        await rt.advance_to(moment)
        sent = [p.text.plain() for p in posts(tribe)]
        skipped = [s.reason for s in await ContentStore(rt.repository).skipped_slots(
            COMMUNITY, START, START + timedelta(days=30))]
    return sent, skipped


async def test_missed_slot_within_grace_is_posted_once_after_restart(tmp_path: Path) -> None:
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(START),
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = await _open(rt)
        await tribe.command("mod", '/content add tips "every 1 days 10:00" Daily tip')
    slot = datetime(2026, 11, 2, 10, tzinfo=UTC)  # the first slot after adding it
    assert await _restart_at(tmp_path, slot + timedelta(minutes=30)) == (["Daily tip"], [])
    assert await _restart_at(tmp_path, slot + timedelta(minutes=40)) == ([], [])


async def test_missed_slot_beyond_grace_is_skipped_and_recorded(tmp_path: Path) -> None:
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(START),
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = await _open(rt)
        await tribe.command("mod", '/content add tips "every 1 days 10:00" Daily tip')
    late = datetime(2026, 11, 3, 10, 30, tzinfo=UTC)  # 2 Nov missed, 3 Nov within grace
    assert await _restart_at(tmp_path, late) == (["Daily tip"], ["missed"])


async def test_grace_time_is_configurable(tmp_path: Path) -> None:
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(START),
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = await _open(rt)
        assert await tribe.command("mod", "/content set grace_minutes 10") == \
            "grace_minutes is now 10."
        await tribe.command("mod", '/content add tips "every 1 days 10:00" Daily tip')
    late = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    assert await _restart_at(tmp_path, late) == ([], ["missed"])


class FlakyPlatform:
    """A platform that refuses the first ``failures`` posts (a network outage)."""

    def __init__(self, adapter: ConsoleAdapter, failures: int) -> None:
        self.adapter = adapter
        self.failures = failures
        self.attempts = 0

    async def deliver(self, action: Action) -> Delivery:
        if isinstance(action, Post) and action.kind == "content":
            self.attempts += 1
            if self.attempts <= self.failures:
                return Delivery(False, error="503 Service Unavailable")
        return await self.adapter.deliver(action)


async def test_failed_send_is_retried_then_succeeds(tribe: Community, rt: Runtime) -> None:
    flaky = FlakyPlatform(tribe.adapter, failures=2)
    rt.register_sender("console", flaky)
    await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" Hello')
    await advance(tribe, datetime(2026, 11, 3, 11, tzinfo=UTC))
    assert flaky.attempts == 3
    assert [p.text.plain() for p in posts(tribe)] == ["Hello"]


async def test_send_failing_every_try_pauses_and_tells_moderators(
    tribe: Community, rt: Runtime
) -> None:
    await tribe.command("mod", "/community owners #owners")
    flaky = FlakyPlatform(tribe.adapter, failures=99)
    rt.register_sender("console", flaky)
    await tribe.command("mod", '/content add tips "every 1 days 10:00" Hello')
    await advance(tribe, datetime(2026, 11, 5, 11, tzinfo=UTC))
    assert flaky.attempts == 3  # paused after the first slot's three tries
    [notice] = posts(tribe, "content_paused")
    assert notice.channel == "console:owners"
    assert notice.text.plain() == (
        "I paused content 1 (topic tips): posting it in #tribe-general failed 3 times "
        "(503 Service Unavailable). Fix the problem, then run /content resume 1.")
    assert "paused" in await tribe.command("mod", "/content show 1")


# -- permission, not spam ----------------------------------------------------------------

async def test_direct_item_is_dmed_only_to_subscribers(tribe: Community) -> None:
    assert (await tribe.command("ann", "/subscribe tips")).startswith(
        "You are subscribed to tips")
    await tribe.command("ben", "/subscribe news")
    await tribe.command("cat", "/subscribe tips")
    await tribe.command("cat", "/unsubscribe tips")
    await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" --dm Deep dive')
    await tribe.command("mod", '/content add tips "once 2026-11-03 11:00" Channel only')
    await advance(tribe, datetime(2026, 11, 3, 12, tzinfo=UTC))
    assert dms(tribe) == ["console:ann"]
    assert [p.text.plain() for p in posts(tribe)] == ["Deep dive", "Channel only"]
    assert await tribe.command("ann", "/subscriptions") == \
        "Your topics: tips. Topics here: tips."


async def test_dm_stop_means_never_again(tribe: Community) -> None:
    await tribe.command("ann", "/subscribe tips")
    await tribe.command("ben", "/subscribe tips")
    assert (await tribe.command("ann", "/dm stop")).startswith("I will not send you direct")
    await tribe.command("mod", '/content add tips "every 1 days 10:00" --dm Daily')
    await advance(tribe, datetime(2026, 11, 3, 12, tzinfo=UTC))  # 2 and 3 Nov
    assert dms(tribe) == ["console:ben", "console:ben"]
    assert "none will come until you run /dm start" in await tribe.command(
        "ann", "/subscribe more")
    await tribe.command("ann", "/dm start")
    await advance(tribe, datetime(2026, 11, 4, 12, tzinfo=UTC))
    assert sorted(dms(tribe)[2:]) == ["console:ann", "console:ben"]


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_item_aimed_at_a_stage_is_dmed_only_to_that_stage(tribe: Community,
                                                                 rt: Runtime) -> None:
    await rt.repository.flush()
    with sqlite3.connect(rt.repository.path) as conn:  # what the journey cog records
        conn.executemany("INSERT INTO member_stages (community_id, member_id, stage, since)"
                         " VALUES (?, ?, ?, 0)", [(COMMUNITY, "console:ann", "regular"),
                                                 (COMMUNITY, "console:ben", "visitor")])
    await tribe.command("ann", "/subscribe tips")
    await tribe.command("ben", "/subscribe tips")
    reply = await tribe.command(
        "mod", '/content add tips "once 2026-11-03 10:00" --dm --stage regular For regulars')
    assert reply.startswith("Scheduled item 1")
    assert "Stage: regular" in await tribe.command("mod", "/content show 1")
    await advance(tribe, datetime(2026, 11, 3, 12, tzinfo=UTC))
    assert dms(tribe) == ["console:ann"]
    assert [p.text.plain() for p in posts(tribe)] == ["For regulars"]  # the channel sees it


# -- commands ---------------------------------------------------------------------------

async def test_bad_input_gets_a_precise_error_and_changes_nothing(tribe: Community,
                                                                  rt: Runtime) -> None:
    cases = {
        '/content add tips "cron 0 25 * * TUE" Hi':
            "The cron expression “0 25 * * TUE” is not valid: Error validating expression "
            "'25': the last value (25) is higher than the maximum value (23).",
        '/content add tips "cron 0 10 * *" Hi':
            "The cron expression “0 10 * *” needs 5 fields (minute hour day month weekday), "
            "like \"0 10 * * TUE\"; it has 4.",
        '/content add tips "once 2026-11-01 10:00" Hi':
            "2026-11-01 10:00 (UTC) is already in the past; pick a future date and time.",
        '/content add tips "once 2026-13-01 10:00" Hi':
            "“2026-13-01” is not a date; write it as YYYY-MM-DD, like 2026-12-01.",
        '/content add tips "every 3 days 25:00" Hi':
            "“25:00” is not a time; write it as HH:MM on a 24-hour clock, like 10:00.",
        '/content add tips "every 2 weeks tuesdayish 10:00" Hi':
            "“tuesdayish” is not a weekday; write mon, tue, wed, thu, fri, sat or sun.",
        '/content add tips "sometimes" Hi': (
            "I don't understand the schedule “sometimes”. Write it in quotes as one of: "
            "\"once 2026-12-01 10:00\", \"every 3 days 10:00\", \"every 2 weeks tue 10:00\", "
            "\"cron 0 10 * * TUE\" or \"queue\"."),
        f'/content add tips "queue" {"x" * 4097}':
            "The text has 4097 characters; console allows at most 4096. Shorten it by 1.",
        '/content add tips "queue" --stage boss Hi':
            "There is no stage “boss”; stages are visitor, audience, participant, regular, "
            "champion.",
        '/content add "two words" "queue" Hi':
            "A topic is one word of letters, digits or dashes (up to 32), not “two words”.",
        '/content queue tips "once 2026-12-01 10:00"':
            "A queue needs a recurring schedule (every … or cron …), not "
            "“once 2026-12-01 10:00”.",
        "/content show 9": "There is no content 9 here; /content list shows the ids.",
        "/content pause x1": "“x1” is not a content id; ids look like 7 (an item) or q2 "
                             "(a queue). /content list shows them.",
    }
    for command, expected in cases.items():
        assert await tribe.command("mod", command) == expected, command
    assert await tribe.command("mod", "/community timezone Mars/Olympus") == (
        "The time zone was not changed: unknown time zone 'Mars/Olympus'; use an IANA name "
        "such as 'Asia/Jerusalem' or 'UTC'")
    assert await tribe.command("mod", "/content list") == (
        "The content calendar is empty; add a post with /content add.")
    assert await ContentStore(rt.repository).load_items() == []
    assert await ContentStore(rt.repository).load_queues() == []


async def test_daylight_gap_time_is_refused(tribe: Community) -> None:
    await tribe.command("mod", "/community timezone America/New_York")
    assert await tribe.command("mod", '/content add tips "once 2027-03-14 02:30" Hi') == (
        "2027-03-14 02:30 does not exist in America/New_York (the clocks jump forward "
        "then); pick another time.")


async def test_list_show_edit_pause_resume_remove_preview(tribe: Community) -> None:
    await tribe.command("mod", '/content add tips "every 1 days 10:00" Old text')
    await tribe.command("mod", '/content add tips "queue" Library item')
    await tribe.command("mod", '/content queue tips "every 1 weeks mon 09:00"')
    listing = (await tribe.command("mod", "/content list")).splitlines()
    assert listing == [
        "Content calendar:",
        "1 · tips · every 1 days 10:00 from 2026-11-02 · active · next 2026-11-02 10:00 Mon"
        " · Old text",
        "2 · tips · queue · active · next — · Library item",
        "q1 · queue of tips · every 1 weeks mon 09:00 from 2026-11-09 · active · "
        "next 2026-11-09 09:00 Mon"]
    assert await tribe.command("mod", "/content edit 1 New text") == \
        "Item 1 now reads: New text"
    preview = await tribe.adapter.command(COMMUNITY, "mod", "/content preview 1")
    assert (preview.text.plain(), preview.private) == ("New text", True)
    assert await tribe.command("mod", "/content pause 1") == \
        "Content 1 is paused; /content resume 1 starts it again."
    await advance(tribe, datetime(2026, 11, 3, 12, tzinfo=UTC))
    assert posts(tribe) == []
    assert await tribe.command("mod", "/content resume 1") == \
        "Content 1 is active again. Next post: 2026-11-04 10:00 Wed."
    await advance(tribe, datetime(2026, 11, 4, 12, tzinfo=UTC))
    assert [p.text.plain() for p in posts(tribe)] == ["New text"]
    assert await tribe.command("mod", "/content remove 1") == "Content 1 was removed."
    await advance(tribe, datetime(2026, 11, 6, 12, tzinfo=UTC))
    assert len(posts(tribe)) == 1
    assert "There is no content 1" in await tribe.command("mod", "/content show 1")


async def test_members_cannot_run_moderator_content_commands(tribe: Community) -> None:
    for command in ('/content add tips "queue" Hi', "/content list", "/content next",
                    '/content queue tips "every 1 days 10:00"', "/content preview 1"):
        assert (await tribe.command("ann", command)).startswith(
            "Sorry, only moderators can use"), command


# -- measuring value --------------------------------------------------------------------

async def test_replies_and_reactions_to_a_post_are_counted(tribe: Community,
                                                           rt: Runtime) -> None:
    await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" Share your setup')
    await advance(tribe, datetime(2026, 11, 3, 10, 5, tzinfo=UTC))
    [sent] = [s for s in tribe.adapter.sent if isinstance(s.action, Post)]
    message = "console:bot-1"
    tribe.now = datetime(2026, 11, 3, 11, tzinfo=UTC)
    await tribe.say("ann", "here is mine", reply_to=message)
    await tribe.say("ben", "and mine", reply_to=message)
    await tribe.react("cat", message, "🔥")
    await tribe.react("ann", message, "👍")
    await tribe.unreact("ann", message, "👍")
    start, end = START, START + timedelta(days=7)
    [item] = await ContentStore(rt.repository).item_engagement(COMMUNITY, start, end)
    assert (item.key, item.topic, item.posts, item.replies, item.reactions) == \
        (1, "tips", 1, 2, 1)
    [topic] = await ContentStore(rt.repository).topic_engagement(COMMUNITY, start, end)
    assert (topic.key, topic.posts, topic.replies, topic.reactions) == ("tips", 1, 2, 1)
    assert sent.text == "Share your setup"


# -- the real APScheduler with its SQLite job store ------------------------------------------

def _jobs(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM apscheduler_jobs ORDER BY id")]


def _slots(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT job, status FROM content_slots ORDER BY slot"))


async def _wait_for(condition: Callable[[], object], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline and not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.05)


class SlowPlatform:
    """A platform whose posts take a while, so a stop can land in the middle of one."""

    def __init__(self, adapter: ConsoleAdapter) -> None:
        self.adapter = adapter

    async def deliver(self, action: Action) -> Delivery:
        await asyncio.sleep(0.6)
        return await self.adapter.deliver(action)


async def _real_runtime(tmp_path: Path) -> tuple[Runtime, ConsoleAdapter]:
    rt = Runtime(make_settings(tmp_path), clock=SystemClock(), cogs=[QuickContent])
    await rt.start()
    return rt, ConsoleAdapter(rt, echo=False, moderators=["mod"])


def _slot_in(seconds: float) -> tuple[datetime, str]:
    slot = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    return slot, slot.strftime("once %Y-%m-%d %H:%M:%S")


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_restart_while_the_slot_is_due_neither_loses_nor_duplicates(
    tmp_path: Path,
) -> None:
    db = tmp_path / "test.db"
    rt, console = await _real_runtime(tmp_path)
    slot, schedule = _slot_in(1.5)
    reply = await console.command(COMMUNITY, "mod", f'/content add tips "{schedule}" Hello')
    assert reply.text.plain().startswith("Scheduled item 1")
    assert _jobs(db) == ["content:item:1"]  # persisted in the job store
    await rt.stop()  # down while the slot comes due
    await asyncio.sleep(max((slot - datetime.now(UTC)).total_seconds(), 0) + 0.3)
    rt, console = await _real_runtime(tmp_path)
    await _wait_for(lambda: console.sent, 3)
    await asyncio.sleep(0.3)
    await rt.stop()
    assert [s.text for s in console.sent] == ["Hello"]
    assert _slots(db) == [("item:1", "sent")]
    assert _jobs(db) == []  # a date job is done once it ran
    rt, console = await _real_runtime(tmp_path)  # and once more: nothing is posted again
    await asyncio.sleep(0.5)
    await rt.stop()
    assert console.sent == []


def _next_local(clock: str, zone: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    local = datetime.now(ZoneInfo(zone))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (slot if slot > local else slot + timedelta(days=1)).astimezone(UTC)


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_a_new_time_zone_replans_the_stored_apscheduler_job(tmp_path: Path) -> None:
    """The item is anchored on today in UTC, where its slot is half an hour ahead; in Tokyo
    that day's slot was hours ago, and the stored job must wait for the next one (APScheduler
    alone would store the past one, and skip or fire it at once)."""
    clock = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%H:%M")
    db = tmp_path / "test.db"
    rt = Runtime(make_settings(tmp_path), clock=SystemClock(), cogs=[ModerationCog, QuickContent])
    await rt.start()
    console = ConsoleAdapter(rt, echo=False, moderators=["mod"])
    try:
        await console.command(COMMUNITY, "mod", f'/content add tips "every 1 days {clock}" Tip')
        await console.command(COMMUNITY, "mod", "/community timezone Asia/Tokyo")
        await rt.bus.drain()
        with sqlite3.connect(db) as conn:
            [(next_run,)] = conn.execute("SELECT next_run_time FROM apscheduler_jobs")
        assert datetime.fromtimestamp(next_run, UTC) == _next_local(clock, "Asia/Tokyo")
        assert datetime.fromtimestamp(next_run, UTC) > datetime.now(UTC)
    finally:
        await rt.stop()


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_a_slot_a_crash_interrupted_is_reported_as_skipped_not_resent(
    tmp_path: Path,
) -> None:
    slot = START + timedelta(minutes=30)
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(START),
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = await _open(rt)
        await tribe.command("mod", f'/content add tips "once {slot:%Y-%m-%d %H:%M}" Hello')
    with sqlite3.connect(tmp_path / "test.db") as conn:  # what a crash mid-send leaves
        conn.execute("INSERT INTO content_slots (job, slot, community_id, item_id, topic, "
                     "status, claim, recorded_at, updated_at) VALUES ('item:1', ?, ?, 1, "
                     "'tips', 'claimed', 'c1', ?, ?)", (int(slot.timestamp()), COMMUNITY,
                                                         int(slot.timestamp()),
                                                         int(slot.timestamp())))
    later = slot + timedelta(minutes=5)
    sent, skipped = await _restart_at(tmp_path, later)
    assert sent == [] and skipped == ["interrupted"]


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_stop_in_the_middle_of_a_send_settles_the_slot_once(tmp_path: Path) -> None:
    db = tmp_path / "test.db"
    rt, console = await _real_runtime(tmp_path)
    rt.register_sender("console", SlowPlatform(console))
    _, schedule = _slot_in(1.2)
    await console.command(COMMUNITY, "mod", f'/content add tips "{schedule}" Hello')
    await _wait_for(lambda: _slots(db), 3)  # claimed: the send is under way
    assert _slots(db) == [("item:1", "claimed")]
    await rt.stop()
    assert [s.text for s in console.sent] == ["Hello"]
    assert _slots(db) == [("item:1", "sent")]
    rt, console = await _real_runtime(tmp_path)
    await asyncio.sleep(0.5)
    await rt.stop()
    assert console.sent == []


# -- files: attached to the command, kept by the bot, never read from a named path -------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_attached_image_is_kept_by_the_bot_and_posted(tribe: Community,
                                                           tmp_path: Path) -> None:
    upload = tmp_path / "uploads" / "poster.png"
    upload.parent.mkdir()
    upload.write_bytes(PNG)
    reply = await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" See this',
                                files=[upload])
    assert reply.startswith("Scheduled item 1")
    upload.unlink()  # the bot kept its own copy; the moderator's file does not matter now
    await advance(tribe, datetime(2026, 11, 4, tzinfo=UTC))
    [post] = posts(tribe)
    assert post.file is not None and post.file.read_bytes() == PNG
    assert post.file.name == "poster.png"
    assert post.file.parent.parent == tmp_path / "test.db.files"
    with sqlite3.connect(tmp_path / "test.db") as conn:
        [(stored,)] = conn.execute("SELECT file FROM content_items").fetchall()
    assert not Path(stored).is_absolute() and stored.endswith("/poster.png")


async def test_a_file_is_kept_under_the_type_its_bytes_say(tribe: Community,
                                                          tmp_path: Path) -> None:
    pdf = tmp_path / "guide.png"
    pdf.write_bytes(b"%PDF-1.7\n" + b"x" * 20)
    await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" Guide', files=[pdf])
    await advance(tribe, datetime(2026, 11, 4, tzinfo=UTC))
    [post] = posts(tribe)
    assert post.file is not None and post.file.name == "guide.pdf"


async def test_content_add_never_reads_a_named_file(tribe: Community, tmp_path: Path) -> None:
    secret = tmp_path / "config.toml"
    secret.write_text("token = 'hunter2'\n", encoding="utf-8")
    reply = await tribe.command(
        "mod", f'/content add tips "once 2026-11-03 10:00" --file {secret} Read this')
    assert reply == ("Attach the file to the command's message instead of naming it; I never "
                     "open a file named in a command.")
    assert "/content list" not in reply and "Scheduled" not in reply
    text = tmp_path / "notes.txt"
    text.write_text("just text", encoding="utf-8")
    assert await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" Hi',
                               files=[text]) == (
        "/content add: “notes.txt” is not an image or a PDF; attach a PNG, JPEG, GIF or WebP "
        "image or a PDF.")
    assert "empty" in await tribe.command("mod", "/content list")


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_a_stored_host_path_is_never_posted(tmp_path: Path) -> None:
    """An item saved by an older version with a moderator's path posts its text alone."""
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(START),
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = await _open(rt)
        await tribe.command("mod", '/content add tips "once 2026-11-03 10:00" Hello')
    secret = tmp_path / "config.toml"
    secret.write_text("token = 'hunter2'\n", encoding="utf-8")
    with sqlite3.connect(tmp_path / "test.db") as conn:
        conn.execute("UPDATE content_items SET file = ?", (str(secret),))
    async with Runtime(make_settings(tmp_path), clock=SimulatedClock(START),
                       cogs=[ModerationCog, QuickContent]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False, moderators=["mod"]))
        await advance(tribe, datetime(2026, 11, 4, tzinfo=UTC))
        [post] = posts(tribe)
        assert post.text.plain() == "Hello" and post.file is None
