"""The engagement cog through the real runtime and console adapter."""

import asyncio
import random
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.actions import Post, SetRole
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from tests.conftest import (
    COMMUNITY,
    FIXED_POINTS,
    OWNERS,
    START,
    Community,
    SeededEngagement,
    make_settings,
)


async def test_message_earns_and_cooldown_blocks(tribe: Community) -> None:
    await tribe.open("ann")
    await tribe.say("ann", "good morning all")
    tribe.tick(seconds=20)
    await tribe.say("ann", "anyone around today?")
    assert await tribe.points("ann") == 20
    tribe.tick(seconds=60)
    await tribe.say("ann", "third message here")
    assert await tribe.points("ann") == 40


async def test_short_and_duplicate_messages_earn_nothing(tribe: Community) -> None:
    await tribe.open("ann")
    await tribe.say("ann", "ok")
    tribe.tick(minutes=2)
    await tribe.say("ann", "Check out my channel!")
    tribe.tick(minutes=2)
    await tribe.say("ann", "check out my CHANNEL!!!")
    assert await tribe.reasons("ann") == [("message", 20)]


async def test_bot_messages_are_recorded_but_earn_nothing(tribe: Community) -> None:
    await tribe.open()
    await tribe.say("helperbot", "I am a bot posting stuff", author_is_bot=True)
    assert await tribe.points("helperbot") == 0
    counts = await tribe.runtime.repository.counts()
    assert counts["messages"] == 1


async def test_reactions_from_others_earn_and_removal_takes_back(tribe: Community) -> None:
    await tribe.open("ann", "ben")
    msg = await tribe.say("ann", "look at my project")
    await tribe.react("ben", msg)
    assert await tribe.points("ann") == 22
    await tribe.unreact("ben", msg)
    assert await tribe.points("ann") == 20
    await tribe.react("ben", msg)  # toggling is not a way to farm
    assert await tribe.points("ann") == 20
    assert await tribe.reasons("ann") == [("message", 20), ("reaction_received", 2),
                                          ("reaction_removed", -2)]


async def test_self_reactions_and_bot_reactions_earn_nothing(tribe: Community) -> None:
    await tribe.open("ann")
    msg = await tribe.say("ann", "my own post here")
    await tribe.react("ann", msg)
    await tribe.react("somebot", msg, reactor_is_bot=True)
    assert await tribe.points("ann") == 20


async def test_reaction_caps_per_member_per_day_and_per_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, engagement={
        **FIXED_POINTS, "reaction_points": 2, "reaction_cap_per_member_per_day": 4,
        "reaction_cap_per_message": 6})
    async with Runtime(settings, clock=SimulatedClock(START), cogs=[SeededEngagement]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False))
        await tribe.open("ann", "ben", "cat", "dov")
        first = await tribe.say("ann", "first post today")
        for emoji in ("👍", "❤️", "🎉"):  # ben alone can give ann at most 4 a day
            await tribe.react("ben", first, emoji)
        assert await tribe.points("ann") == 24
        tribe.tick(minutes=5)
        second = await tribe.say("ann", "second post today")
        for member in ("cat", "dov"):
            for emoji in ("👍", "❤️"):
                await tribe.react(member, second, emoji)
        assert await tribe.points("ann") == 24 + 20 + 6  # capped at 6 for that message


async def test_replies_and_helpful_answers(tribe: Community) -> None:
    await tribe.open("ann", "ben", "cat")
    question = await tribe.say("ann", "how do I solder this?")
    tribe.tick(minutes=3)
    answer = await tribe.say("ben", "heat the pad, not the wire", reply_to=question)
    assert await tribe.reasons("ben") == [("message", 20), ("reply", 5)]
    tribe.tick(minutes=1)
    await tribe.react("ann", answer, "🙏")
    await tribe.react("cat", answer, "👍")
    assert await tribe.reasons("ben") == [("message", 20), ("reply", 5),
                                          ("reaction_received", 2), ("helpful_answer", 10),
                                          ("reaction_received", 2)]


async def test_replying_to_yourself_is_not_a_reply_bonus(tribe: Community) -> None:
    await tribe.open("ann")
    first = await tribe.say("ann", "thinking out loud")
    tribe.tick(minutes=2)
    await tribe.say("ann", "and another thought", reply_to=first)
    assert [r for r, _ in await tribe.reasons("ann")] == ["message", "message"]


async def test_excluded_channel_earns_nothing(tribe: Community) -> None:
    await tribe.open("ann", "mod")
    await tribe.command("mod", "/engagement set excluded_channels #owners")
    msg = await tribe.say("ann", "a funny meme here", channel=OWNERS)
    await tribe.react("mod", msg)
    assert await tribe.points("ann") == 0


async def test_level_up_is_announced_and_grants_the_reward(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, engagement={
        "message_points_min": 25, "message_points_max": 25, "cooldown_seconds": 0,
        "level_rewards": {"1": "Newbie", "2": "Regular"}, "level_up_channel": OWNERS})
    async with Runtime(settings, clock=SimulatedClock(START), cogs=[SeededEngagement]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False))
        await tribe.open("ann")
        tribe.adapter.pop_sent()
        for i in range(11):  # 275 points: level 1 at 100, level 2 at 255
            tribe.tick(seconds=1)
            await tribe.say("ann", f"message number {i}")
        sent = [s.action for s in tribe.adapter.pop_sent()]
    posts = [a for a in sent if isinstance(a, Post)]
    roles = [(a.role, a.grant) for a in sent if isinstance(a, SetRole)]
    assert [p.kind for p in posts] == ["level_up", "level_up"]
    assert all(p.channel == OWNERS for p in posts)
    assert posts[1].text.mentions() == ("console:ann",)
    assert "reached level 2" in posts[1].text.plain()
    assert "New reward: Regular" in posts[1].text.plain()
    assert roles == [("Newbie", True), ("Regular", True), ("Newbie", False)]


async def test_level_up_announcements_can_be_turned_off(tribe: Community) -> None:
    await tribe.open("ann", "mod")
    assert "is now false" in await tribe.command(
        "mod", "/engagement set level_up_announcements false")
    tribe.adapter.pop_sent()
    for i in range(6):
        tribe.tick(minutes=2)
        await tribe.say("ann", f"message number {i}")
    assert await tribe.points("ann") == 120
    assert [s for s in tribe.adapter.pop_sent()
            if isinstance(s.action, Post) and s.action.kind == "level_up"] == []


async def test_streak_follows_the_community_time_zone(tribe: Community) -> None:
    await tribe.open("ann", "mod")
    await tribe.command("mod", "/community timezone Asia/Jerusalem")
    tribe.now = START.replace(hour=21, minute=30)  # 23:30 in Jerusalem (UTC+2)
    await tribe.say("ann", "late night message")
    tribe.now = START.replace(hour=22, minute=30)  # 00:30 the next day in Jerusalem
    await tribe.say("ann", "after local midnight")
    reply = await tribe.command("ann", "/rank")
    assert "Streak: 2 days" in reply


async def test_rank_and_top(tribe: Community) -> None:
    await tribe.open("ann", "ben")
    await tribe.say("ann", "hello from ann")
    await tribe.say("ben", "hello from ben")
    tribe.tick(minutes=2)
    await tribe.say("ben", "again from ben")
    rank = await tribe.command("ann", "/rank")
    assert rank.startswith("@Ann: level 0, 20 points (20/100 to level 1). Rank #2.")
    top = await tribe.command("ann", "/top")
    assert top.splitlines()[1:] == ["1. Ben — 40", "2. Ann — 20"]
    assert "1. Ben — 40" in await tribe.command("ann", "/top week")
    assert "nobody has points yet" in await tribe.command("ann", "/top all 2")
    other = await tribe.command("ann", "/rank @Ben")
    assert other.startswith("@Ben: level 0, 40 points")


async def test_public_leaderboard_off_keeps_rank(tribe: Community) -> None:
    await tribe.open("ann", "mod")
    await tribe.say("ann", "hello everyone")
    await tribe.command("mod", "/engagement set public_leaderboard false")
    assert "turned off" in await tribe.command("ann", "/top")
    assert "20 points" in await tribe.command("ann", "/rank")


async def test_moderator_commands_are_refused_for_members(tribe: Community) -> None:
    await tribe.open("ann", "ben")
    for command in ("/points give @Ben 100 because", "/points take @Ben 5 x",
                    "/points reset @Ben", "/season close", "/engagement set daily_cap 1",
                    "/engagement show", "/community timezone UTC"):
        reply = await tribe.command("ann", command)
        assert reply.startswith("Sorry, only moderators can use"), command
    assert await tribe.points("ben") == 0
    assert tribe.runtime.communities.overrides(COMMUNITY, "engagement") == {}


async def test_moderator_give_take_reset_with_reasons(tribe: Community) -> None:
    await tribe.open("ann")
    assert await tribe.command("mod", "/points give @Ann 50 great workshop") == \
        "Gave 50 points to @Ann."
    await tribe.command("mod", "/points take @Ann 10 spam")
    assert await tribe.points("ann") == 40
    history = await tribe.command("ann", "/points history")
    assert "+50 by a moderator: great workshop" in history
    assert "-10 by a moderator: spam" in history
    await tribe.command("mod", "/points reset @Ann")
    assert await tribe.points("ann") == 0
    bad = await tribe.command("mod", "/points give @Ann lots thanks")
    assert bad == "/points give: amount must be a whole number, not “lots”."
    assert "from 1 to 1000000" in await tribe.command("mod", "/points give @Ann -5 x")


async def test_engagement_set_validates_and_changes_nothing_on_error(tribe: Community) -> None:
    await tribe.open()
    reply = await tribe.command("mod", "/engagement set cooldown_seconds -3")
    assert reply.startswith("cooldown_seconds was not changed:")
    assert "There is no setting “cooldwn”" in await tribe.command(
        "mod", "/engagement set cooldwn 5")
    reply = await tribe.command("mod", "/engagement set level_up_template Hi {membr}")
    assert "unknown placeholder {membr}" in reply
    assert tribe.runtime.communities.overrides(COMMUNITY, "engagement") == {}
    assert await tribe.command("mod", "/engagement set cooldown_seconds 5") == \
        "cooldown_seconds is now 5."
    assert "cooldown_seconds = 5" in await tribe.command("mod", "/engagement show")


async def test_season_close_archives_and_restarts(tribe: Community) -> None:
    await tribe.open("ann")
    await tribe.say("ann", "season one message")
    reply = await tribe.command("mod", "/season close")
    assert "Season 2 has started" in reply
    assert await tribe.points("ann") == 0
    assert "Last season: 20 points" in await tribe.command("ann", "/rank")
    tribe.tick(minutes=2)
    await tribe.say("ann", "season two message")
    assert await tribe.points("ann") == 20


async def test_points_import_from_csv(tribe: Community, tmp_path: Path) -> None:
    await tribe.open("ann")
    csv_file = tmp_path / "mee6.csv"
    csv_file.write_text("member,points\nann,1500\nben,300\n", encoding="utf-8")
    assert await tribe.command("mod", "/points import", files=[csv_file]) == \
        "Imported points for 2 members."
    await tribe.command("mod", "/points import", files=[csv_file])  # same file: no change
    assert await tribe.points("ann") == 1500
    assert await tribe.reasons("ben") == [("imported", 300)]
    bad = tmp_path / "bad.csv"
    bad.write_text("member,points\nann,lots\nben,\n", encoding="utf-8")
    reply = await tribe.command("mod", "/points import", files=[bad])
    assert reply == ("Nothing was imported: line 2: points must be a whole number, not “lots”; "
                     "line 3: points must be a whole number, not “”")
    assert await tribe.points("ann") == 1500
    empty = tmp_path / "empty.csv"
    empty.write_text("member,points\n", encoding="utf-8")
    assert await tribe.command("mod", "/points import", files=[empty]) == \
        "Nothing was imported: the file has no rows of member id, points."


async def test_points_import_never_opens_a_file_named_in_the_command(
        tribe: Community, tmp_path: Path) -> None:
    await tribe.open("ann")
    secret = tmp_path / "config.toml"
    secret.write_text("token,hunter2-secret\nann,5\n", encoding="utf-8")
    reply = await tribe.command("mod", f"/points import {secret}")
    assert reply == ("/points import: attach the file to the command's message; I never open "
                     "a file named in a command.")
    assert "hunter2" not in reply
    assert await tribe.points("ann") == 0
    assert await tribe.command("mod", "/points import") == reply  # and nothing attached


async def test_points_import_refuses_what_is_not_a_small_csv(tribe: Community,
                                                             tmp_path: Path) -> None:
    await tribe.open("ann")
    image = tmp_path / "points.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert await tribe.command("mod", "/points import", files=[image]) == (
        "/points import: “points.csv” is not a CSV file; attach a CSV (UTF-8 text) of "
        "member id, points.")
    big = tmp_path / "big.csv"
    big.write_text("ann,1\n" * 400_000, encoding="utf-8")  # 2.4 MB
    assert await tribe.command("mod", "/points import", files=[big]) == (
        "/points import: “big.csv” is 2.4 MB; a file for this command can be at most "
        "2.0 MB.")
    assert await tribe.points("ann") == 0


async def test_hebrew_community_replies_in_hebrew(tribe: Community) -> None:
    await tribe.open("ann")
    await tribe.command("mod", "/community language he")
    await tribe.say("ann", "שלום לכולם")
    reply = await tribe.command("ann", "/rank")
    assert "רמה" in reply and "נקודות" in reply


async def test_live_totals_stay_true_when_a_reaction_from_before_a_restart_comes_back(
    tmp_path: Path,
) -> None:
    config = make_settings(tmp_path, engagement=FIXED_POINTS)
    async with Runtime(config, clock=SimulatedClock(START), cogs=[SeededEngagement]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False))
        await tribe.open("ann", "ben")
        post = await tribe.say("ann", "a post worth a reaction")
        await tribe.react("ben", post)
        assert await tribe.points("ann") == 22
    later = START + timedelta(hours=1)
    async with Runtime(config, clock=SimulatedClock(later), cogs=[SeededEngagement]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False))
        tribe.now = later
        await tribe.unreact("ben", post)
        tribe.tick(minutes=1)
        await tribe.react("ben", post)  # back again: it already earned once
        assert await tribe.points("ann") == 20
        cog = next(c for c in rt.cogs if c.name == "engagement")
        assert cog._states[(COMMUNITY, "console:ann")].total == 20, "memory agrees"


# -- the ledger is the truth: a property test over long random streams -------------------

def _stream(seed: int, length: int) -> list[tuple[str, int, int, int]]:
    rng = random.Random(seed)
    return [(rng.choice(["say", "reply", "react", "unreact", "dup", "give"]),
             rng.randrange(6), rng.randrange(6), rng.randrange(40)) for _ in range(length)]


async def _replay_stream(folder: Path, ops: list[tuple[str, int, int, int]]) -> None:
    settings = make_settings(folder, engagement={"daily_cap": 300, "cooldown_seconds": 30})
    async with Runtime(settings, clock=SimulatedClock(START), cogs=[SeededEngagement]) as rt:
        tribe = Community(ConsoleAdapter(rt, echo=False))
        await tribe.open(*[f"m{i}" for i in range(6)])
        messages: list[str] = []
        for op, a, b, seconds in ops:
            tribe.tick(seconds=seconds * 97)
            if op in ("say", "reply", "dup") or not messages:
                reply_to = messages[-1 - b % len(messages)] if op == "reply" and messages else None
                text = "same text again" if op == "dup" else f"message {len(messages)} {a}"
                messages.append(await tribe.say(f"m{a}", text, reply_to=reply_to))
            elif op == "react":
                await tribe.react(f"m{a}", messages[-1 - b % len(messages)])
            elif op == "unreact":
                await tribe.unreact(f"m{a}", messages[-1 - b % len(messages)])
            else:
                await tribe.command("mod", f"/points give @M{a} {b + 1} bonus")
        cog = next(c for c in rt.cogs if c.name == "engagement")
        stored = await rt.repository.point_totals(COMMUNITY, 1)
        live = {m: s.total for (_, m), s in cog._states.items() if s.total}
        assert {m: p for m, p in stored.items() if p} == live
        assert await rt.repository.recompute_totals() == 0
        assert await rt.repository.point_totals(COMMUNITY, 1) == stored


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), length=st.integers(50, 250))
def test_recompute_equals_live_totals_after_random_streams(tmp_path: Path, seed: int,
                                                           length: int) -> None:
    folder = tmp_path / f"{seed}-{length}"
    folder.mkdir()
    asyncio.run(_replay_stream(folder, _stream(seed, length)))
