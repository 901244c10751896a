"""Two real ``tribebot run`` processes on one store, each taking one of two Discord shards
of the fake gateway: every event is counted once, every content slot and every weekly
summary is posted once, by the process that owns the guild. Runs on a shared SQLite file
and, when a server is configured, on PostgreSQL (``tests/e2e/stores.py``)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.discord.translate import channel_id, community_id, member_id
from bot.config import Settings
from bot.core.events import Channel, CommunityJoined
from bot.ownership import discord_shard
from bot.runtime import Runtime
from cogs.summary.settings import DAYS
from storage.content import ContentStore, ItemRow
from storage.store import open_repository
from tests.conftest import FIXED_POINTS
from tests.e2e.discord.fake_discord import TOKEN, FakeDiscord
from tests.e2e.discord.payloads import ALICE, BOB, CAROL, guild, message, snowflake
from tests.e2e.process import ROOT, child_env, finish, start, until

SHARDS = 2
#: Snowflakes whose shard is 0 and 1 of two: ``(id >> 22) % 2``.
GUILDS = {0: 10 << 22, 1: 11 << 22}
#: general and owners channel of each guild
CHANNELS = {0: (5101, 5102), 1: (5201, 5202)}
#: who posts one message in which guild
POSTERS = {0: (ALICE, BOB), 1: (CAROL, ALICE)}
POINTS = FIXED_POINTS["message_points_max"]


def config(tmp_path: Path, url: str, fake: FakeDiscord, shard: int) -> Path:
    path = tmp_path / f"shard-{shard}.toml"
    points = "\n".join(f"{key} = {value}" for key, value in FIXED_POINTS.items())
    path.write_text(f'[storage]\nurl = "{url}"\n[discord]\nenabled = true\n'
                    f'token = "{TOKEN}"\napi_base_url = "{fake.api_base_url}"\n'
                    f"shard_count = {SHARDS}\nshard_ids = [{shard}]\n"
                    f"[engagement]\n{points}\n", encoding="utf-8")
    return path


async def seed(url: str, now: datetime) -> None:
    """What the bot knew before: both guilds, their owners' channels, a weekly summary
    whose slot passed half an hour ago, and in each guild a post due five minutes ago."""
    slot = now - timedelta(minutes=30)
    settings = Settings.model_validate({"storage": {"url": url}})
    async with Runtime(settings, cogs=[]) as runtime:
        for shard, guild_id in GUILDS.items():
            community = community_id(guild_id)
            general, owners = CHANNELS[shard]
            runtime.publish(CommunityJoined(
                community=community, at=now - timedelta(days=3), name=f"Tribe {shard}",
                channels=(Channel(id=channel_id(general), name="general"),
                          Channel(id=channel_id(owners), name="owners"))))
            runtime.communities.set(community, "owners_channel", channel_id(owners))
            runtime.communities.set(community, "summary.day", DAYS[slot.weekday()])
            runtime.communities.set(community, "summary.time", slot.strftime("%H:%M"))
            due = now - timedelta(minutes=5)
            ContentStore(runtime.repository).save_item(ItemRow(
                id=shard + 1, community=community, topic="tips",
                body=f"Tip of the day for tribe {shard}", file=None,
                channel=channel_id(general), direct=False, stage=None,
                schedule=f"once {due:%Y-%m-%d %H:%M}", since=now - timedelta(hours=1),
                state="active", note="", created_by=None, created_at=now - timedelta(hours=1),
                updated_at=now - timedelta(hours=1)))
        await runtime.bus.drain()


def names_in(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


async def test_two_processes_on_two_shards_count_and_post_everything_once(
    tmp_path: Path, store_url: str,
) -> None:
    assert {discord_shard(g, SHARDS) for g in GUILDS.values()} == {0, 1}
    now = datetime.now(UTC)
    await seed(store_url, now)
    fake = FakeDiscord([guild(guild_id=GUILDS[s], name=f"Tribe {s}", general=CHANNELS[s][0],
                              owners=CHANNELS[s][1], thread_id=CHANNELS[s][0] + 50)
                        for s in GUILDS], shard_count=SHARDS)
    await fake.start()
    bots = []
    try:
        bots = [await start("run", "--config", str(config(tmp_path, store_url, fake, s)),
                            cwd=tmp_path) for s in GUILDS]
        for shard, bot in zip(GUILDS, bots, strict=True):
            await until(lambda s=shard: s in fake.ready_shards, bot, within=30,
                        what=f"shard {shard} connected")
        for shard, guild_id in GUILDS.items():
            for n, author in enumerate(POSTERS[shard]):
                await fake.dispatch("MESSAGE_CREATE", message(
                    snowflake(datetime.now(UTC), shard * 10 + n), author,
                    "a thought worth sharing with everyone", channel=CHANNELS[shard][0],
                    guild_id=guild_id))

        def posts(channel: int, starts: str) -> int:
            return sum(1 for c in fake.sent("POST", rf"/channels/{channel}/messages")
                       if str(c.body.get("content") or "").startswith(starts))

        def all_posted() -> bool:
            return all(posts(owners, "Week ") and posts(general, "Tip of the day")
                       for general, owners in CHANNELS.values())

        # content waits for the 10 s start-up delay of the content cog
        await until(all_posted, bots[0], within=40, what="each guild's summary and post")
        await asyncio.sleep(1.5)  # a second post would come now
        done = [await finish(bot) for bot in bots]
    finally:
        for bot in bots:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        await fake.stop()
    for result in done:
        assert result.code == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
    assert {s: fake.identified[s]["shard"] for s in GUILDS} == {0: [0, 2], 1: [1, 2]}
    for shard, (general, owners) in CHANNELS.items():
        assert posts(owners, "Week ") == 1, f"tribe {shard}: one weekly summary"
        assert posts(general, "Tip of the day") == 1, f"tribe {shard}: one post of the slot"
    await check_store(store_url)
    # the local files (here the slash commands' hash) go beside a SQLite file or into the
    # working folder, never into a folder named after a PostgreSQL URL
    names = names_in(tmp_path)
    assert [n for n in names if n.startswith(".tribebot-discord-commands-")]
    assert not [n for n in names if n.startswith("postgres")]


async def check_store(url: str) -> None:
    repo = await open_repository(url)
    try:
        for shard, guild_id in GUILDS.items():
            community = community_id(guild_id)
            totals = await repo.point_totals(community, 1)
            assert totals == {member_id(int(u["id"])): POINTS for u in POSTERS[shard]}, (
                f"tribe {shard}: each message counted once")
            claims = await repo.rows(
                f"SELECT week, claimed_by FROM summary_claims "
                f"WHERE community_id = '{community}'")
            assert len(claims) == 1
            assert f"Discord shards {shard} of {SHARDS}" in claims[0][1], (
                "claimed by the process that owns the guild")
        slots = await repo.rows("SELECT job, status FROM content_slots ORDER BY job")
        assert [tuple(r) for r in slots] == [("item:1", "sent"), ("item:2", "sent")]
    finally:
        await repo.close()


CLAIMS = 40

#: One process racing another for the same claims; prints the ones it won.
CLAIMANT = """
import asyncio, json, sys, time
from datetime import UTC, datetime
from storage.content import ContentStore
from storage.store import open_repository
from storage.summary import SummaryStore

async def main(url, name, start_at, count):
    repo = await open_repository(url, max_delay_ms=1)
    at = datetime.now(UTC)
    await asyncio.sleep(max(start_at - time.time(), 0))
    weeks, slots = [], []
    for n in range(count):
        if await SummaryStore(repo).claim_week("discord:1", f"week-{n}", claim=name,
                                               by=name, at=at):
            weeks.append(n)
        if await ContentStore(repo).claim_slot(
                job="item:1", slot=datetime.fromtimestamp(1_800_000_000 + n, UTC),
                community="discord:1", item=1, topic="tips", channel="discord:2",
                claim=name, at=at):
            slots.append(n)
    await repo.close()
    print(json.dumps({"weeks": weeks, "slots": slots}))

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
"""


async def test_claims_hold_between_two_processes_racing_for_them(store_url: str) -> None:
    """The content slot and the summary week claims, taken at the same moments by two
    processes: each is won by exactly one of them."""
    repo = await open_repository(store_url)  # migrated once, before the race
    await repo.close()
    go = time.time() + 2.0  # both have opened the store by then: they claim together
    racers = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLAIMANT, store_url, name, str(go), str(CLAIMS), cwd=ROOT,
        env=child_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for name in ("first", "second")]
    results = []
    for racer in racers:
        out, err = await asyncio.wait_for(racer.communicate(), 60)
        assert racer.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    for kind in ("weeks", "slots"):
        first, second = (set(r[kind]) for r in results)
        assert not first & second, f"{kind} won by both processes: {sorted(first & second)}"
        assert first | second == set(range(CLAIMS)), f"{kind} won by neither"
