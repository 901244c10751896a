"""The weekly summary on a scripted history whose figures were worked out by hand.

The community lives in Asia/Jerusalem (UTC+2 in November), so a message at 22:30 UTC
on a Sunday belongs to the next local week: the boundaries are tested, not assumed.
"""

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from bot.cli import main
from bot.core.actions import Delivery, Post
from bot.core.events import MemberLeft
from bot.reporting import render_report
from bot.runtime import Runtime
from cogs.summary.cog import SummaryCog
from cogs.summary.report import SCHEMA, parse_week
from storage.journey import JourneyStore
from tests.conftest import COMMUNITY, GENERAL, OWNERS, START, Community

pytestmark = pytest.mark.both_backends  # and on PostgreSQL (tests/pg.py)

UTC = START.tzinfo


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026, UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def scripted_history(tribe: Community) -> dict[str, str]:
    await tribe.open()  # mod joins at START (Mon Nov 2, W45)
    await tribe.command("mod", "/community timezone Asia/Jerusalem")
    ids: dict[str, str] = {}
    # W45 -- ann and fay join; ann asks, mod answers
    tribe.now = at(2, 10)
    await tribe.join("ann")
    await tribe.join("fay")
    tribe.now = at(2, 10, 5)
    ids["ann1"] = await tribe.say("ann", "hi all, first time here")
    tribe.now = at(2, 10, 10)
    await tribe.say("mod", "welcome ann, glad you came", reply_to=ids["ann1"])
    tribe.now = at(2, 10, 20)
    await tribe.say("fay", "hello from fay")
    # W46 -- ben and cat join; ben asks, mod answers; ann comes back
    tribe.now = at(9, 10)
    await tribe.join("ben")
    await tribe.join("cat")
    tribe.now = at(9, 10, 5)
    ids["ben1"] = await tribe.say("ben", "what is this group about?")
    tribe.now = at(9, 10, 15)
    await tribe.say("mod", "makers helping makers", reply_to=ids["ben1"])
    tribe.now = at(9, 11)
    await tribe.say("ann", "back for week two")
    # Sunday Nov 15, 22:30 UTC = Monday Nov 16, 00:30 in Jerusalem: week 47 locally
    tribe.now = at(15, 22, 30)
    await tribe.say("mod", "good night, new week")
    # W47 -- dan, eve, gus join; dan is answered after 30 min, eve and cat never
    tribe.now = at(16, 10)
    await tribe.join("dan")
    await tribe.join("eve")
    await tribe.join("gus")
    tribe.now = at(16, 10, 5)
    ids["dan1"] = await tribe.say("dan", "hi, I build robots")
    tribe.now = at(16, 10, 10)
    await tribe.say("eve", "anyone into knitting?")
    tribe.now = at(16, 10, 35)
    await tribe.say("ann", "welcome dan, robots rock", reply_to=ids["dan1"])
    tribe.now = at(16, 11)
    await tribe.say("cat", "cat here, finally saying hi")
    tribe.now = at(16, 12)
    await tribe.say("mod", "lots of newcomers today")
    tribe.now = at(16, 12, 5)
    await tribe.react("ben", ids["dan1"])
    tribe.now = at(18, 10)
    await tribe.adapter.push(MemberLeft(community=COMMUNITY, at=tribe.now, member="console:fay"))
    # Sunday Nov 22, 22:30 UTC = Monday Nov 23 locally: week 48, not counted in 47
    tribe.now = at(22, 22, 30)
    await tribe.say("ann", "already next week here")
    return ids


def names(rows: list[dict[str, object]]) -> list[str]:
    return [str(row["name"]) for row in rows]


async def test_weekly_figures_match_the_hand_count(tribe: Community, settings) -> None:
    await scripted_history(tribe)
    await tribe.runtime.repository.flush()
    report = json.loads(await render_report(settings, COMMUNITY, "2026-W47", "json", None))
    assert report["schema"] == SCHEMA
    assert (report["week"], report["first_day"], report["last_day"]) == \
        ("2026-W47", "2026-11-16", "2026-11-22")
    assert report["members"] == {"total": 7, "joined": 3, "left": 1, "net": 2}
    assert report["active"] == {"count": 5, "previous": 3, "change": 2}
    assert report["returning"] == {"count": 2, "newcomers_last_week": 2,
                                   "newcomers_retained": 1}
    assert report["journey"]["stages"] == {"visitor": 1, "audience": 4, "participant": 0,
                                           "regular": 2, "champion": 0}
    assert report["journey"]["true_fans"] == 2
    assert report["journey"]["moves"] == [
        {"from": "participant", "to": "regular", "drifting": False, "count": 2},
        {"from": "visitor", "to": "audience", "drifting": False, "count": 1},
        {"from": "new", "to": "audience", "drifting": False, "count": 2},
        {"from": "new", "to": "visitor", "drifting": False, "count": 1},
    ]
    assert [(p["name"], p["points"]) for p in report["top_contributors"]] == [
        ("Mod", 40), ("Ann", 25), ("Dan", 22), ("Cat", 20), ("Eve", 20)]
    assert [(p["name"], p["points"], p["average"]) for p in report["rising"]] == [
        ("Mod", 40, 12.5), ("Dan", 22, 0.0), ("Cat", 20, 0.0)]
    assert report["first_messages"] == {"count": 3, "answered": 1, "never_answered": 2,
                                        "median_minutes_to_first_response": 30.0}
    assert report["lurkers"] == 1
    assert report["champions"] == [] and report["drifting"] == []
    assert [h["week"] for h in report["history"]] == ["2026-W45", "2026-W46", "2026-W47"]
    assert [(h["active"], h["new"], h["returning"], h["true_fans"])
            for h in report["history"]] == [(3, 3, 0, 0), (3, 2, 2, 0), (5, 3, 2, 2)]


async def test_text_and_markdown_say_the_same_numbers(tribe: Community, settings) -> None:
    await scripted_history(tribe)
    await tribe.runtime.repository.flush()
    text = await render_report(settings, COMMUNITY, "2026-W47", "text", None)
    assert text.startswith("Week 2026-W47 in Tribe")
    assert "👥 Members: 7 (3 joined, 1 left, net +2)." in text
    assert "💬 Active: 5 members contributed (+2 vs. last week)." in text
    assert "\n   2 moved up from participant to regular.\n" in text
    assert "\n   1 joined and has not posted yet.\n" in text
    assert "median first response 30 min; 2 never answered" in text
    markdown = await render_report(settings, COMMUNITY, "2026-W47", "markdown", None)
    assert markdown.startswith("# Week 2026-W47 in Tribe")
    assert "- 🧭 Journey: 1 visitors, 4 audience, 0 participants, 2 regulars, 0 champions — " \
           "2 true fans.\n  - 2 moved up from participant to regular.\n" in markdown
    assert "| 2026-W47 | 5 | 3 | 2 | 2 |" in markdown


async def test_weekly_post_goes_to_the_owners_with_a_chart(tribe: Community) -> None:
    await scripted_history(tribe)
    await tribe.command("mod", "/community owners #owners")
    tribe.adapter.pop_sent()
    # the default slot is Monday 09:00 local: 07:00 UTC on Nov 23
    await tribe.runtime.advance_to(at(23, 7, 1))
    await tribe.runtime.bus.drain()
    [post] = [s.action for s in tribe.adapter.pop_sent()
              if isinstance(s.action, Post) and s.action.kind == "weekly_summary"]
    assert post.channel == OWNERS
    assert post.text.plain().startswith("Week 2026-W47 in Tribe")
    assert post.text.mentions() == ()  # names only: nobody is pinged by the report
    assert post.file is not None
    assert post.file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_new_time_zone_moves_the_next_summary_at_once(tribe: Community) -> None:
    await tribe.open()
    await tribe.command("mod", "/community owners #owners")
    await tribe.command("mod", "/community timezone Asia/Jerusalem")
    tribe.adapter.pop_sent()
    # Monday 09:00 in Jerusalem is 07:00 UTC: the slot planned in UTC must have moved
    await tribe.runtime.advance_to(at(9, 7, 1))
    assert [s.at for s in tribe.adapter.pop_sent() if isinstance(s.action, Post)
            and s.action.kind == "weekly_summary"] == [at(9, 7)]


async def test_summary_commands(tribe: Community) -> None:
    await scripted_history(tribe)
    reply = await tribe.command("mod", "/summary time fri 18:30")
    assert reply == "Next weekly summary: Fri 2026-11-27 18:30 (Asia/Jerusalem)."
    assert "not a time like 09:00" in await tribe.command("mod", "/summary time fri 25:00")
    assert (await tribe.command("mod", "/summary now")).startswith(
        "Week 2026-W48 so far in Tribe")
    assert (await tribe.command("ann", "/summary now")).startswith("Sorry, only moderators")
    await tribe.command("mod", "/summary off")
    await tribe.command("mod", "/community owners #owners")
    tribe.adapter.pop_sent()
    await tribe.runtime.advance_to(at(30, 12))
    assert not [s for s in tribe.adapter.pop_sent()
                if isinstance(s.action, Post) and s.action.kind == "weekly_summary"]
    # choosing a channel turns it back on, there (Friday 18:30 local = 16:30 UTC)
    await tribe.command("mod", "/summary channel #general")
    await tribe.runtime.advance_to(datetime(2026, 12, 4, 16, 31, tzinfo=UTC))
    [post] = [s.action for s in tribe.adapter.pop_sent()
              if isinstance(s.action, Post) and s.action.kind == "weekly_summary"]
    assert post.channel == GENERAL and post.text.plain().startswith("Week 2026-W48 in Tribe")


def test_report_cli_errors_are_sentences(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    result = CliRunner().invoke(main, ["report", "--community", "console:nope", "--db", db])
    assert result.exit_code == 2 and "no community 'console:nope'" in result.output
    result = CliRunner().invoke(main, ["report", "--community", "console:nope", "--db", db,
                                       "--week", "2026-47"])
    assert result.exit_code == 2
    with pytest.raises(ValueError, match="2026 has no week 54"):
        parse_week("2026-W54")


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_report_cli_writes_json_and_chart(tribe: Community, tmp_path: Path,
                                                 runtime: Runtime) -> None:
    await scripted_history(tribe)
    await runtime.repository.flush()
    chart = tmp_path / "chart.png"
    result = await asyncio.to_thread(CliRunner().invoke, main, [  # the CLI runs its own loop
        "report", "--community", COMMUNITY, "--db", runtime.repository.path,
        "--week", "2026-W47", "--format", "json", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["members"]["total"] == 7
    assert chart.read_bytes()[:4] == b"\x89PNG"


async def test_content_that_resonated_is_in_the_summary(tribe: Community, settings) -> None:
    await tribe.open("ann", "ben")
    tribe.now = at(16, 8)  # Monday of week 47
    reply = await tribe.command("mod", '/content add tips "once 2026-11-17 10:00" Label your '
                                       "wires before soldering.")
    assert reply.startswith("Scheduled item 1 (tips)")
    tribe.now = at(17, 12)
    await tribe.say("mod", "noon")  # the clock passes the slot: the tip is posted
    [tip] = [s for s in tribe.adapter.pop_sent()
             if isinstance(s.action, Post) and s.action.kind == "content"]
    assert tip.message is not None
    tribe.now = at(17, 12, 5)
    await tribe.say("ann", "great tip, thanks!", reply_to=tip.message)
    await tribe.react("ben", tip.message, "🔥")
    await tribe.runtime.repository.flush()
    report = json.loads(await render_report(settings, COMMUNITY, "2026-W47", "json", None))
    assert report["content"] == {
        "posts": [{"item": 1, "topic": "tips", "posts": 1, "replies": 1, "reactions": 1}],
        "best_topic": "tips", "skipped_slots": 0}
    text = await render_report(settings, COMMUNITY, "2026-W47", "text", None)
    assert "📣 Content: 1 posts, 1 replies, 1 reactions; best topic: tips; 0 slots skipped." \
        in text


# -- as of the week's end -------------------------------------------------------------------

def dec(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def a_regular_goes_quiet(tribe: Community) -> None:
    """Ann and Ben post every week of W45-W47 (regulars); in W48 and W49 only Ben does.
    Cy posted once in W47 and comes back in W49; Dee and Eli join in W49, Eli posts. The
    history stops on Sunday night, before the Monday sweep (as a replay that ends there)."""
    await tribe.open("ann", "ben", "cy")
    await tribe.command("mod", "/community owners #owners")
    for week in range(3):  # Mondays Nov 2, 9, 16
        tribe.now = at(2 + 7 * week, 10)
        await tribe.say("ann", f"ann in week {week}")
        tribe.tick(minutes=2)
        await tribe.say("ben", f"ben in week {week}")
    tribe.now = at(18, 12)
    await tribe.say("cy", "cy says hi once")
    for day in (23, 30):
        tribe.now = at(day, 10)
        await tribe.say("ben", f"ben on the {day}th")
    tribe.now = dec(2, 10)
    await tribe.say("cy", "cy is back this week")
    await tribe.join("dee")
    await tribe.join("eli")
    tribe.tick(minutes=1)
    await tribe.say("eli", "eli's first words")
    tribe.now = dec(6, 22)  # Sunday night of W49
    await tribe.say("ben", "ben late on sunday")
    await tribe.runtime.repository.flush()


async def json_report(settings, week: str) -> dict[str, Any]:
    return json.loads(await render_report(settings, COMMUNITY, week, "json", None))


async def test_a_week_is_reported_as_it_stood_at_its_end_whenever_asked(
        tribe: Community, settings) -> None:
    await a_regular_goes_quiet(tribe)
    ann = await JourneyStore(tribe.runtime.repository).stage_of(COMMUNITY,
                                                                        "console:ann")
    assert ann is not None and (ann.stage, ann.drifting) == ("regular", False)  # no sweep yet
    on_sunday_night = await json_report(settings, "2026-W49")

    journey = on_sunday_night["journey"]
    assert journey["stages"] == {"visitor": 2, "audience": 1, "participant": 2, "regular": 1,
                                 "champion": 0}
    assert journey["true_fans"] == 1  # Ben; Ann went quiet: drifting, not a fan
    assert [(p["name"], p["last_active"]) for p in on_sunday_night["drifting"]] == \
        [("Ann", "2026-11-16")]
    assert journey["moves"] == [
        {"from": "audience", "to": "participant", "drifting": False, "count": 1},
        {"from": "regular", "to": "participant", "drifting": True, "count": 1},
        {"from": "new", "to": "audience", "drifting": False, "count": 1},
        {"from": "new", "to": "visitor", "drifting": False, "count": 1},
    ]
    assert [h["true_fans"] for h in on_sunday_night["history"]] == [0, 0, 2, 2, 1]

    # that Monday: the sweep has run and the summary is posted, saying the same
    tribe.adapter.pop_sent()
    await tribe.runtime.advance_to(dec(7, 9, 1))
    [post] = [s.action for s in tribe.adapter.pop_sent()
              if isinstance(s.action, Post) and s.action.kind == "weekly_summary"]
    assert on_sunday_night == await json_report(settings, "2026-W49")
    assert post.text.plain() + "\n" == await render_report(settings, COMMUNITY, "2026-W49",
                                                           "text", None)
    # an older week, asked now, says what was true then: Ann was a regular, not drifting
    older = await json_report(settings, "2026-W47")
    assert older["drifting"] == [] and older["journey"]["true_fans"] == 2

    # a month later, with Ann back and others around, the week still reads the same
    for day in (15, 22, 29):
        tribe.now = dec(day, 11)
        await tribe.say("ann", f"ann is back, {day}")
        await tribe.say("ben", f"ben as ever, {day}")
    await tribe.join("fay")
    await tribe.runtime.advance_to(datetime(2027, 1, 5, 12, tzinfo=UTC))
    await tribe.runtime.repository.flush()
    assert on_sunday_night == await json_report(settings, "2026-W49")


async def test_every_move_is_in_the_text_most_meaningful_first(tribe: Community,
                                                                settings) -> None:
    await a_regular_goes_quiet(tribe)
    text = await render_report(settings, COMMUNITY, "2026-W49", "text", None)
    assert [row for row in text.splitlines() if row.startswith("   ")] == [
        "   1 moved up from audience to participant.",
        "   1 moved from regular to drifting (stopped posting).",
        "   1 joined and posted in their first week.",
        "   1 joined and has not posted yet.",
    ]
    assert "🌫️ Drifting, worth a personal message: Ann (2026-11-16)." in text
    markdown = await render_report(settings, COMMUNITY, "2026-W49", "markdown", None)
    assert "true fans.\n  - 1 moved up from audience to participant.\n  - 1 moved from " \
           "regular to drifting (stopped posting).\n" in markdown


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_farming_is_not_contribution(tribe: Community, settings) -> None:
    await tribe.open("ann", "gm", "off")
    await tribe.command("mod", "/engagement set excluded_channels #owners")
    for week in range(3):  # W45-W47
        monday = START + timedelta(weeks=week)
        for day in range(5):
            tribe.now = monday + timedelta(days=day)
            await tribe.say("gm", "gm")  # too short, every day
        tribe.now = monday + timedelta(hours=3)
        await tribe.say("off", f"a long message where nothing counts, week {week}",
                        channel=OWNERS)
        tribe.now = monday + timedelta(hours=4)
        await tribe.say("ann", f"a real contribution in week {week}")
        tribe.tick(minutes=5)
        await tribe.say("ann", f"a real contribution in week {week}")  # near-duplicate
    runtime = tribe.runtime
    await runtime.repository.flush()
    report = await json_report(settings, "2026-W47")
    assert report["active"]["count"] == 1  # only Ann contributed
    assert report["journey"]["stages"]["regular"] == 1
    assert report["journey"]["stages"]["visitor"] == 3  # mod, gm, off
    assert report["journey"]["true_fans"] == 1
    assert [(p["name"], p["messages"]) for p in report["top_contributors"]] == [("Ann", 1)]
    for member in ("gm", "off"):  # the live journey agrees
        row = await JourneyStore(runtime.repository).stage_of(COMMUNITY, f"console:{member}")
        assert row is not None and row.stage == "visitor"
    with sqlite3.connect(runtime.repository.path) as conn:
        refused = dict(conn.execute("SELECT reason, count(*) FROM farmed_messages GROUP BY 1"))
        assert refused == {"too short": 15, "excluded channel": 3, "duplicate": 3}
        assert conn.execute("SELECT DISTINCT member_id FROM member_weeks").fetchall() == \
            [("console:ann",)]


@pytest.mark.sqlite_only  # reads the SQLite file itself
async def test_a_cooldown_or_the_daily_cap_hold_back_points_not_the_contribution(
        tribe: Community, settings) -> None:
    await tribe.open("ann", "ben")
    tribe.now = at(8, 23, 59) + timedelta(seconds=30)  # Sunday night of W45...
    await tribe.say("ann", "just before midnight")
    tribe.now = at(9, 0, 0) + timedelta(seconds=10)  # ...and 40 s later, in W46: cooling
    await tribe.say("ann", "just after midnight")
    await tribe.command("mod", "/engagement set daily_cap 0")
    tribe.now = at(16, 10)
    await tribe.say("ben", "nothing earned: the cap is zero")
    tribe.now = at(23, 10)
    await tribe.say("ben", "still nothing earned, still here")
    runtime = tribe.runtime
    await runtime.repository.flush()
    assert await tribe.points("ben") == 0
    for member in ("ann", "ben"):
        row = await JourneyStore(runtime.repository).stage_of(COMMUNITY, f"console:{member}")
        assert row is not None and row.stage == "participant"  # two weeks each
    assert (await json_report(settings, "2026-W46"))["active"]["count"] == 1  # Ann
    assert (await json_report(settings, "2026-W48"))["active"]["count"] == 1  # Ben
    with sqlite3.connect(runtime.repository.path) as conn:
        assert conn.execute("SELECT count(*) FROM farmed_messages").fetchone() == (0,)


# -- the JSON schema ------------------------------------------------------------------------

def strict(schema: Any) -> Any:
    """The shipped schema with every described object closed: a field the report writes
    and the schema does not describe fails the test (the file itself stays open to
    fields added later under the same name, as the README promises)."""
    if isinstance(schema, dict):
        closed = {key: strict(value) for key, value in schema.items()}
        if "properties" in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


async def test_the_json_report_follows_the_shipped_schema(tribe: Community, settings) -> None:
    shipped = json.loads(resources.files("cogs.summary").joinpath(
        "weekly-summary.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(shipped)
    assert shipped["properties"]["schema"]["const"] == SCHEMA
    validator = Draft202012Validator(strict(shipped))
    await a_regular_goes_quiet(tribe)
    reports = [await json_report(settings, week) for week in ("2026-W47", "2026-W49")]
    [cog] = [c for c in tribe.runtime.cogs if isinstance(c, SummaryCog)]
    so_far = await cog.summary(COMMUNITY, tribe.now.date(), until=tribe.now)
    assert so_far.week_to_date
    for report in [*reports, so_far.to_json()]:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(report)]
        assert errors == []
    broken = {**reports[1], "journey": {**reports[1]["journey"], "true_fans": "1"}}
    assert not validator.is_valid(broken)


def summary_cog(tribe: Community) -> SummaryCog:
    return next(c for c in tribe.runtime.cogs if isinstance(c, SummaryCog))


async def summary_with_owners(tribe: Community) -> SummaryCog:
    """The summary cog of an open community whose owners' channel is set."""
    await tribe.open()
    await tribe.command("mod", "/community owners #owners")
    tribe.adapter.pop_sent()
    return summary_cog(tribe)


def weekly_posts(tribe: Community) -> list[Post]:
    return [s.action for s in tribe.adapter.pop_sent()
            if isinstance(s.action, Post) and s.action.kind == "weekly_summary"]


async def test_a_claimed_week_is_posted_once_however_often_it_is_asked_for(
    tribe: Community,
) -> None:
    cog = await summary_with_owners(tribe)
    first = await cog.post_weekly(COMMUNITY)
    assert first is not None and await cog.post_weekly(COMMUNITY) is None
    assert len(weekly_posts(tribe)) == 1
    rows = await tribe.runtime.repository.rows(
        "SELECT community_id, week, claimed_by FROM summary_claims")
    assert [(r[0], r[1]) for r in rows] == [(COMMUNITY, first.week)]
    assert "every community" in rows[0][2], "the claimant names what it serves"


class RefusingPlatform:
    """A platform that takes no post (the channel is gone, the bot was kicked)."""

    async def deliver(self, action: object) -> Delivery:
        return Delivery(False, error="the platform refused")


async def test_a_summary_that_could_not_be_sent_gives_its_claim_up(
    tribe: Community,
) -> None:
    cog = await summary_with_owners(tribe)
    tribe.runtime.register_sender("console", RefusingPlatform())
    await cog.post_weekly(COMMUNITY)
    assert await tribe.runtime.repository.rows("SELECT week FROM summary_claims") == []
    tribe.runtime.register_sender("console", tribe.adapter)
    assert await cog.post_weekly(COMMUNITY) is not None, "the next try may post it"
    assert len(weekly_posts(tribe)) == 1
