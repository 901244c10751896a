"""The history import through the real runtime and store: as if the bot had been there,
nothing twice, nothing half-written, nothing posted."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.clock import SimulatedClock
from bot.core.events import Event
from bot.core.history import Timeline
from bot.core.ids import PLATFORMS
from bot.importing.runner import Importer, ImportReport, MutedSender, import_cogs
from bot.importing.sources import DiscordSource, TelegramSource
from bot.runtime import Runtime, default_cogs
from tests.conftest import FIXED_POINTS, make_settings
from tests.export_builders import (
    COMMUNITY,
    FIXTURES,
    busy_group,
    day,
    tg_export,
    tg_message,
    tg_service,
    write,
)

FIXTURE = FIXTURES / "telegram_result.json"


def settings_for(tmp_path: Path, name: str = "test", **sections: dict[str, Any]) -> Settings:
    base = make_settings(tmp_path, engagement=FIXED_POINTS, **sections)
    url = f"sqlite:///{tmp_path / (name + '.db')}"
    return base.model_copy(update={"storage": base.storage.model_copy(update={"url": url})})


async def run_import(settings: Settings, path: Path, **extra: Any) -> ImportReport:
    return await Importer(settings, TelegramSource(path, bots=(999,)), **extra).run()


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    db = settings.storage.url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(sql).fetchall(), key=repr)


FACTS = {
    "messages": "SELECT message_id, author_id, reply_to_id, reply_to_author_id, day, length "
                "FROM messages",
    "reactions": "SELECT message_id, reactor_id, emoji, author_id, first_at FROM reactions",
    "ledger": "SELECT member_id, reason, ref, delta, day FROM ledger",
    "totals": "SELECT member_id, points FROM point_totals",
    "daily": "SELECT day, member_id, messages, replies, reactions_given, reactions_received, "
             "points FROM daily_activity",
    "moves": "SELECT member_id, kind, at FROM member_events",
    "stages": "SELECT member_id, old_stage, new_stage, at FROM stage_history",
    "first": "SELECT member_id, message_id, at, answered_at, answered_by FROM first_messages",
}


def facts(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    return {name: rows(settings, sql) for name, sql in FACTS.items()}


def test_the_import_runs_the_runtimes_cogs_but_those_that_only_post() -> None:
    names = [c.name for c in import_cogs()]
    assert names == [c.name for c in default_cogs() if c.name not in ("summary", "content")]


async def test_the_fixture_comes_in_with_its_counts(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    report = await run_import(settings, FIXTURE)
    assert (report.messages, report.reactions, report.counted) == (9, 3, 4)
    assert (report.joins, report.leaves) == (2, 1)
    assert dict(report.skipped) == {"command": 1, "service": 1, "joined_by_name": 1,
                                    "empty": 1}
    assert report.new_members == 5 and report.problem is None
    authors = dict(rows(settings, "SELECT message_id, author_id FROM messages"))
    assert authors["telegram:-1001234567:13"] == "telegram:-1001234567"  # sent as the group
    bots = rows(settings, "SELECT member_id FROM members WHERE is_bot = 1")
    assert ("telegram:999",) in bots


def late_answer(after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A newcomer's first message answered only after the first-response alert went out
    (an hour, in these settings): live, the alert comes first and the late answer does not
    count. No other timer is due in between (the daily pruning runs in the morning)."""
    number, at = after[-1]["id"], day(27, 14)
    return [tg_service(number + 1, at, "invite_members", 300, "Yael", members=["Yael"]),
            tg_message(number + 2, at.replace(minute=10), 300, "Yael", "hello, anyone?"),
            tg_message(number + 3, at.replace(hour=15, minute=40), 10, "חברה 0",
                       "welcome Yael!", reply_to_message_id=number + 2)]


async def test_points_and_stages_are_those_of_the_bot_replaying_event_by_event(
        tmp_path: Path) -> None:
    """The import skips the per-event wait for the cogs; it must change nothing."""
    history = busy_group(day(5), messages=500)
    export = write(tmp_path / "result.json", tg_export(history + late_answer(history)))
    quick = {"first_response_hours": 1}
    imported = settings_for(tmp_path, "imported", welcome=quick)
    importer = Importer(imported, TelegramSource(export, bots=(999,)))
    await importer.run()

    replayed = settings_for(tmp_path, "replayed", welcome=quick)
    source = TelegramSource(export, bots=(999,))
    timeline, events = Timeline(), []
    for record in source.records():
        events += timeline.add(record)
    events += timeline.rest()
    runtime = Runtime(replayed, clock=SimulatedClock(events[0].at), cogs=import_cogs())
    await runtime.start()
    muted = MutedSender()
    for platform in PLATFORMS:
        runtime.register_sender(platform, muted)
    one_by_one: list[Event] = [source.opening(events[0].at), *events]
    for event in one_by_one:
        await runtime.advance_to(event.at)
        runtime.publish(event)
        await runtime.bus.drain()
    await runtime.stop()

    got, expected = facts(imported), facts(replayed)
    for name in FACTS:
        assert got[name] == expected[name], name
    assert importer.muted.would_have_sent == muted.would_have_sent
    assert len(got["ledger"]) > 300 and got["stages"] and got["first"]
    yael = [r for r in got["first"] if r[0] == "telegram:300"]
    assert yael and yael[0][3] is None, "the answer after the alert does not count"


async def test_importing_the_same_export_again_adds_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    await run_import(settings, FIXTURE)
    before = facts(settings)
    again = await run_import(settings, FIXTURE)
    assert facts(settings) == before
    assert (again.messages, again.reactions, again.joins, again.leaves) == (0, 0, 0, 0)
    assert dict(again.already) == {"messages": 9, "reactions": 3, "joins": 3}


async def test_overlapping_exports_add_each_fact_once_and_match_one_whole_import(
        tmp_path: Path) -> None:
    messages = busy_group(day(5), messages=300)
    early = write(tmp_path / "early.json", tg_export(messages[:200]))
    late = write(tmp_path / "late.json", tg_export(messages[120:]))
    whole = write(tmp_path / "whole.json", tg_export(messages))
    in_two = settings_for(tmp_path, "in_two")
    await run_import(in_two, early)
    second = await run_import(in_two, late)
    at_once = settings_for(tmp_path, "at_once")
    await run_import(at_once, whole)
    assert second.already["messages"] > 50
    two, one = facts(in_two), facts(at_once)
    for name in ("messages", "reactions", "ledger", "totals", "daily", "moves", "first"):
        assert two[name] == one[name], name


async def test_a_truncated_file_keeps_whole_batches_and_a_rerun_resumes(
        tmp_path: Path) -> None:
    messages = busy_group(day(5), messages=300)
    whole = write(tmp_path / "whole.json", tg_export(messages))
    text = whole.read_text(encoding="utf-8")
    cut = write(tmp_path / "cut.json", tg_export([]))
    cut.write_text(text[:text.index('"id": 201,')], encoding="utf-8")

    settings = settings_for(tmp_path, "resumed")
    broken = await run_import(settings, cut, batch=50)
    assert broken.problem is not None and broken.problem.code == "broken_json"
    assert broken.problem.values["after"] == "200"
    stored = {m for (m, *_) in rows(settings, FACTS["messages"])}
    assert max(int(m.rsplit(":", 1)[1]) for m in stored) <= 200
    # every stored message has its points: nothing half-written
    ledger_refs = {r[2] for r in rows(settings, FACTS["ledger"]) if r[1] == "message"}
    assert ledger_refs <= stored and len(ledger_refs) > 100

    resumed = await run_import(settings, whole, batch=50)
    assert resumed.problem is None and resumed.already["messages"] == len(stored)
    at_once = settings_for(tmp_path, "at_once")
    await run_import(at_once, whole, batch=50)
    for name in ("messages", "reactions", "ledger", "totals", "moves"):
        assert facts(settings)[name] == facts(at_once)[name], name


async def test_nothing_is_posted_and_what_the_history_left_waiting_is_settled(
        tmp_path: Path) -> None:
    end = day(20, 18)
    messages = [
        tg_message(1, day(20, 9), 100, "Mona", "welcome all"),
        # a newcomer's first message that nobody answered before the export ended
        tg_service(2, day(20, 16), "invite_members", 101, "Dana", members=["Dana"]),
        tg_message(3, day(20, 16, 30), 101, "Dana", "hi, anyone here?"),
        # a burst of joins in the last minute: one welcome for both was still due
        tg_service(4, end, "invite_members", 102, "Eli", members=["Eli"]),
        tg_service(5, end.replace(second=20), "invite_members", 103, "Noa", members=["Noa"]),
    ]
    settings = settings_for(tmp_path)
    report = await run_import(settings, write(tmp_path / "r.json", tg_export(messages)))
    assert report.would_have_sent["Post:welcome"] == 2  # Dana alone, then Eli (Noa waits)
    assert report.settled == {"welcomes": 1, "alerts": 1}
    assert rows(settings, "SELECT * FROM welcome_pending") == []
    [(alerted,)] = rows(settings, "SELECT alerted_at FROM first_messages "
                                  "WHERE member_id = 'telegram:101'")
    assert alerted is not None


async def test_discord_channel_files_of_one_server_become_one_community(
        tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    source = DiscordSource([FIXTURES / "discord_general.json",
                            FIXTURES / "discord_thread.json"])
    report = await Importer(settings, source).run()
    assert (report.messages, report.reactions, report.counted, report.joins) == (6, 3, 3, 2)
    threads = rows(settings, "SELECT message_id, channel_id, thread_id FROM messages "
                             "WHERE thread_id IS NOT NULL")
    assert threads == [("discord:9009", "discord:700", "discord:800"),
                       ("discord:9010", "discord:700", "discord:800")]
    [(name,)] = rows(settings, "SELECT name FROM communities")
    assert name == "Makers"
    # which channel welcomes go to is the live adapter's to say (the system channel)
    assert rows(settings, "SELECT * FROM community_settings WHERE key = 'default_channel'") == []
    assert COMMUNITY not in {r[0] for r in rows(settings, "SELECT id FROM communities")}


KILLABLE = """
import asyncio, sys
sys.path.insert(0, {root!r})
from bot.config import Settings
from bot.importing.runner import Importer
from bot.importing.sources import TelegramSource
settings = Settings.model_validate({{"storage": {{"url": {url!r}}},
    "engagement": {{"message_points_min": 20, "message_points_max": 20}}}})
asyncio.run(Importer(settings, TelegramSource(__import__("pathlib").Path({path!r})),
                     batch=100).run())
"""


ROOT = Path(__file__).resolve().parents[2]


def kill_mid_import(settings: Settings, export: Path, *, after: int) -> None:
    """Import in a child process and SIGKILL it once ``after`` messages are committed."""
    db = settings.storage.url.removeprefix("sqlite:///")
    script = KILLABLE.format(root=str(ROOT), url=settings.storage.url, path=str(export))
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(1000):
            time.sleep(0.02)
            if Path(db).exists():
                with contextlib.suppress(sqlite3.Error), sqlite3.connect(db) as conn:
                    if conn.execute("SELECT count(*) FROM messages").fetchone()[0] > after:
                        break
    finally:
        child.kill()
        child.wait()


async def test_an_import_killed_at_any_moment_and_run_again_is_one_whole_import(
        tmp_path: Path) -> None:
    """SIGKILL: no clean stop, the transaction in flight is lost; the next run still ends
    with every fact once and every message's points."""
    export = write(tmp_path / "result.json", tg_export(busy_group(day(5), messages=1500)))
    killed = settings_for(tmp_path, "killed")
    kill_mid_import(killed, export, after=400)
    half = len(rows(killed, FACTS["messages"]))
    await Importer(killed, TelegramSource(export), batch=100).run()
    whole = settings_for(tmp_path, "whole")
    await Importer(whole, TelegramSource(export), batch=100).run()
    assert 0 < half < len(rows(whole, FACTS["messages"])), "killed in the middle"
    for name in ("messages", "reactions", "ledger", "totals", "daily", "moves", "first",
                 "stages"):
        assert facts(killed)[name] == facts(whole)[name], name
