"""`forget me`: the anonymous id that keeps others' totals right names nobody."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from storage.privacy import FORGET
from tests.conftest import ALL_COGS, COMMUNITY, FIXED_POINTS, START, Community, make_settings
from tests.integration.test_welcome_journey import dump_every_table

DONE = "Done: your data in this community is erased."


def anonymous_ids(path: str | Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute(
            "SELECT member_id FROM ledger WHERE member_id LIKE 'forgotten:%'")}


async def forget_ann_in_a_new_installation(folder: Path) -> str:
    folder.mkdir()  # noqa: ASYNC240 - test set-up
    async with Runtime(make_settings(folder, engagement=FIXED_POINTS),
                       clock=SimulatedClock(START), cogs=ALL_COGS) as runtime:
        tribe = Community(ConsoleAdapter(runtime, echo=False, moderators=["mod"]))
        await tribe.open("ann", "ben")
        post = await tribe.say("ben", "a post ann liked")
        await tribe.react("ann", post)
        tribe.tick(minutes=2)
        await tribe.say("ann", "ann says something")
        assert await tribe.command("ann", "/forget me confirm") == DONE
        await runtime.repository.flush()
        path = runtime.repository.path
    [anonymous] = anonymous_ids(path)
    return anonymous


async def test_the_anonymous_id_cannot_be_recomputed_from_community_and_member(
        tmp_path: Path) -> None:
    first = await forget_ann_in_a_new_installation(tmp_path / "one")
    second = await forget_ann_in_a_new_installation(tmp_path / "two")
    unsalted = "forgotten:" + hashlib.sha256(
        f"{COMMUNITY}|console:ann".encode()).hexdigest()[:16]
    assert first != unsalted and second != unsalted
    assert first != second, "the same member and community, yet nothing links the two ids"
    assert first.startswith("forgotten:") and len(first) == len("forgotten:") + 32


async def test_forgetting_twice_leaves_no_trace_and_keeps_totals(tribe: Community,
                                                               tmp_path: Path) -> None:
    """Forget, come back, get the same import again, forget again: the second set of rows
    must not collide with the first anonymous id (a deterministic id would, and the
    member's rows would stay under their name)."""
    await tribe.open("ann", "ben")
    points = tmp_path / "points.csv"
    points.write_text("ann,100\nben,10\n", encoding="utf-8")
    await tribe.command("mod", "/points import", files=[points])
    await tribe.say("ann", "first life")
    assert await tribe.command("ann", "/forget me confirm") == DONE
    assert await tribe.command("ann", "/forget me confirm") == DONE  # nothing left: fine
    tribe.tick(minutes=5)
    await tribe.join("ann")
    await tribe.say("ann", "second life")
    await tribe.command("mod", "/points import", files=[points])
    assert await tribe.points("ann") == 120
    assert await tribe.command("ann", "/forget me confirm") == DONE
    runtime = tribe.runtime
    await runtime.repository.flush()
    assert runtime.repository.writer is not None
    assert runtime.repository.writer.failed_rows == 0
    assert await tribe.points("ann") == 0 and await tribe.points("ben") == 10
    assert await runtime.repository.recompute_totals() == 0
    with sqlite3.connect(runtime.repository.path) as conn:
        assert "console:ann" not in dump_every_table(conn)
    assert len(anonymous_ids(runtime.repository.path)) == 2


async def test_ids_forgotten_by_an_older_version_become_random(tmp_path: Path) -> None:
    """Stores written before this version hold recomputable ids (and content items may
    name a file of the host): the migration replaces both."""
    from storage import open_repository
    from storage.database import migrations

    path = tmp_path / "old.db"
    old = "forgotten:" + hashlib.sha256(f"{COMMUNITY}|console:ann".encode()).hexdigest()[:16]
    [anonymous] = [m for m in migrations() if m.name.endswith("_anonymous_ids_and_files.sql")]
    older = [m for m in migrations() if m.version < anonymous.version]
    with sqlite3.connect(path) as conn:
        for migration in older:
            conn.executescript(migration.sql)
        conn.execute(f"PRAGMA user_version = {older[-1].version}")
        conn.execute("INSERT INTO communities (id, platform, joined_at) VALUES (?, 'console', 0)",
                     (COMMUNITY,))
        ledger = ("INSERT INTO ledger (community_id, member_id, season, delta, reason, ref, at,"
                  " day, actor_id) VALUES (?, ?, 1, ?, ?, ?, 0, '2026-11-02', ?)")
        ann = "console:ann"
        conn.execute(ledger, (COMMUNITY, ann, 25, "message", "MessagePosted:x", None))
        conn.execute(ledger, (COMMUNITY, "console:ben", 2, "reaction_received",
                              f"console:m1|{ann}|👍", None))
        conn.execute(ledger, (COMMUNITY, "console:ben", 5, "moderator", "give:1", ann))
        conn.execute("INSERT INTO reactions (community_id, message_id, reactor_id, emoji, "
                     "author_id, day, first_at, changed_at, active) VALUES (?, 'console:m2', "
                     "'console:ben', '👍', ?, '2026-11-02', 0, 0, 1)", (COMMUNITY, ann))
        conn.execute("INSERT INTO content_items (community_id, topic, body, file, channel_id, "
                     "schedule, since, created_at, updated_at) VALUES (?, 'tips', 'Hi', "
                     "'/etc/passwd', 'console:general', 'queue', 0, 0, 0)", (COMMUNITY,))
        for statement in FORGET:  # what `forget me` did before this version
            params = (COMMUNITY, ann, old) if "?3" in statement.sql else (COMMUNITY, ann)
            try:
                conn.execute(statement.sql, params)
            except sqlite3.OperationalError as exc:  # a table of a later version
                assert "no such table" in str(exc)
        assert old in dump_every_table(conn)
    repo = await open_repository(f"sqlite:///{path}")
    await repo.close()
    with sqlite3.connect(path) as conn:
        everything = dump_every_table(conn)
        assert old not in everything and "/etc/passwd" not in everything
        [new] = {r[0] for r in conn.execute(
            "SELECT member_id FROM point_totals WHERE member_id LIKE 'forgotten:%'")}
        assert conn.execute("SELECT points FROM point_totals WHERE member_id = ?",
                            (new,)).fetchone() == (25,)
        refs = {r[0] for r in conn.execute("SELECT ref FROM ledger")}
        assert f"console:m1|{new}|👍" in refs
        assert conn.execute("SELECT actor_id FROM ledger WHERE reason = 'moderator'"
                            ).fetchone() == (new,)
        assert conn.execute("SELECT author_id FROM reactions").fetchone() == (new,)


async def test_forget_also_removes_what_the_same_batch_wrote(tmp_path: Path) -> None:
    """Every feature's rows about a member, queued in the same batch as ``forget``: the
    book runs privacy last, so none of them is written after the member is forgotten."""
    from storage import open_repository
    from storage.content import ContentStore
    from storage.journey import JourneyStore
    from storage.privacy import PrivacyStore
    from storage.welcome import WelcomeStore

    repo = await open_repository(f"sqlite:///{tmp_path / 'tribe.db'}", max_delay_ms=10_000)
    try:
        ann, day = "console:ann", START.date().isoformat()
        repo.record_community(COMMUNITY, "console", "tribe", START)
        repo.record_member(COMMUNITY, ann, "ann", False, START, present=True)
        repo.record_member_event(COMMUNITY, ann, "joined", START, day)
        repo.record_message(COMMUNITY, "m1", channel="general", thread=None, author=ann,
                            author_is_bot=False, reply_to=None, reply_to_author=None,
                            at=START, day=day, length=5, has_media=False, text="hello")
        repo.record_seen(f"MemberJoined:{COMMUNITY}:{ann}:1", START)
        ContentStore(repo).set_subscription(COMMUNITY, ann, "tips", True, START)
        JourneyStore(repo).set_stage(COMMUNITY, ann, "visitor", START, False, False)
        WelcomeStore(repo).add_pending_welcome(COMMUNITY, ann, "ann", START, START)
        WelcomeStore(repo).record_first_message(COMMUNITY, ann, "m1", "general", START, day)
        PrivacyStore(repo).forget(COMMUNITY, ann, "forgotten:x")
        assert repo.writer is not None and repo.writer.unsaved  # all still in one batch
        await repo.flush()
        assert repo.writer.failed_rows == 0
        with sqlite3.connect(repo.path) as conn:
            assert ann not in dump_every_table(conn)
            assert conn.execute("SELECT count(*) FROM messages").fetchone() == (0,)
    finally:
        await repo.close()
