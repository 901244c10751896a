"""Every number a command takes is bounded: out of range is a sentence, never a traceback,
and nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Community


@pytest.mark.parametrize(("command", "answer"), [
    ("/top all 99999999999999999999",
     "/top: page must be a whole number from 1 to 100000, not “99999999999999999999”."),
    ("/top all 0", "/top: page must be a whole number from 1 to 100000, not “0”."),
    ("/top all -3", "/top: page must be a whole number from 1 to 100000, not “-3”."),
    ("/top all 1e30", "/top: page must be a whole number, not “1e30”."),
    ("/points give @Ann 99999999999999999999 thanks",
     "/points give: amount must be a whole number from 1 to 1000000, not "
     "“99999999999999999999”."),
    ("/points take @Ann 1000001 oops",
     "/points take: amount must be a whole number from 1 to 1000000, not “1000001”."),
    ("/content set tries 99999999999999999999",
     "/content set: value must be a whole number from 0 to 100000, not "
     "“99999999999999999999”."),
])
async def test_out_of_range_numbers_are_refused_with_a_sentence(
    tribe: Community, command: str, answer: str, caplog: pytest.LogCaptureFixture,
) -> None:
    await tribe.open("ann")
    await tribe.say("ann", "some points to show")
    assert await tribe.command("mod", command) == answer
    assert await tribe.points("ann") == 20
    assert "Traceback" not in caplog.text and "failed" not in caplog.text


async def test_a_leaderboard_page_past_the_end_is_empty(tribe: Community) -> None:
    await tribe.open("ann")
    assert await tribe.command("ann", "/top all 100000") == (
        "Top members this season (page 100000): nobody has points yet.")


@pytest.mark.parametrize("points", ["1e30", "1000000000000000000000000000000", "1000000001",
                                    "-1000000001", "٣"])
async def test_points_import_refuses_numbers_out_of_range_by_line(
    tribe: Community, tmp_path: Path, points: str,
) -> None:
    await tribe.open("ann")
    csv_file = tmp_path / "other-bot.csv"
    csv_file.write_text(f"member,points\nben,300\nann,{points}\n", encoding="utf-8")
    reply = await tribe.command("mod", "/points import", files=[csv_file])
    assert reply.startswith("Nothing was imported: line 3: points must be "), reply
    assert await tribe.points("ben") == 0, "nothing applied"


async def test_points_import_of_a_big_but_valid_total_is_stored_whole(
    tribe: Community, tmp_path: Path,
) -> None:
    await tribe.open("ann")
    csv_file = tmp_path / "other-bot.csv"
    csv_file.write_text("ann,1000000000\n", encoding="utf-8")
    assert await tribe.command("mod", "/points import", files=[csv_file]) == \
        "Imported points for 1 member."
    assert await tribe.points("ann") == 1_000_000_000


@pytest.mark.parametrize(("curve", "problem"), [
    ("[0,0,0]", "with 0, 0, 0 level 1 costs 0 points; every level must cost at least 1 point"),
    ("[-5,-50,-100]", "level 1 costs -100 points"),
    ("[-1,0,100]", "level 11 costs 0 points"),
    ("[5,50,99999999999]", "each number of level_curve must be between"),
])
async def test_a_level_curve_that_makes_a_level_free_is_refused(
    tribe: Community, curve: str, problem: str,
) -> None:
    await tribe.open("ann")
    reply = await tribe.command("mod", f"/engagement set level_curve {curve}")
    assert reply.startswith("level_curve was not changed: "), reply
    assert problem in reply
    shown = await tribe.command("mod", "/engagement show")
    assert "level_curve = [5, 50, 100]" in shown


async def test_a_reward_for_an_unreachable_level_is_refused(tribe: Community) -> None:
    await tribe.open("ann")
    reply = await tribe.command("mod",
                                """/engagement set level_rewards '{"99999999999999999999": "x"}'""")
    assert "is not a whole number from 1 to 1000" in reply
