"""Ingest benchmark: events/s of the path users run, against the SQLite ceiling and a naive bot.

Two pipelines, each run in a child process of its own (its CPU time and peak memory are
its own, not the harness's), several times:

  replay     a JSON Lines file through ``tribebot replay``'s code (``replay_file``): the
             console adapter parses every line, then bus, recorder, every cog, writer;
  platforms  Discord gateway and Telegram Bot API payloads (dicts, as they arrive) built
             into discord.py / python-telegram-bot objects, turned into events by the
             adapters' translate layers and published to the same runtime, live (tasks);

and, for the rows each pipeline wrote (captured in one more child run, not timed):

  raw        sqlite3.executemany of exactly those rows, same batch size (the ceiling: no
             Python per event, no bus, no cogs);
  naive      the same rows, each awaited through aiosqlite, one commit per event's worth
             of rows (what most bots do: write, commit, next event).

With ``--store postgresql://user@host/db`` every run writes to PostgreSQL instead: the
bench creates databases of its own on that server (``tribebot_bench_<random>_<n>``, each
cloned from one migrated template, all dropped at the end), the raw reference is asyncpg
with the fastest plain path per group (one ``unnest`` insert of the group's arrays where
the statement is a plain insert, ``executemany`` for the upserts), and the naive writer
awaits each row through asyncpg, one commit per event's worth of rows.

Each repetition runs the pipeline, then the raw insert, then the naive writer, and the
ratios are taken per repetition (their median is the headline): on a shared machine the
load drifts between runs, and a ratio of two runs minutes apart would measure the drift.
On Linux the share of CPU time the hypervisor took during the pipeline runs is printed too.

The streams are a community's month: about 1% joins, 20% reactions (a few removed),
80% messages of which a quarter are replies, and a few moderator commands (replay).

    python bench/ingest.py [--events 20000] [--members 500] [--repeat 3]
                           [--store postgresql://root@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import pickle
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402

from bench.peak import peak_mb  # noqa: E402
from bot.config import Settings, StorageSection  # noqa: E402
from bot.core.actions import Action, Delivery  # noqa: E402
from storage import postgres  # noqa: E402
from storage.database import POSTGRESQL, PRAGMAS, dialect_of, migrations  # noqa: E402
from storage.dialect import postgres_form  # noqa: E402
from storage.writer import Statement  # noqa: E402

Rows = list[tuple[Statement, Any]]


def settings_for(url: str, batch: int) -> Settings:
    return Settings.model_validate({"storage": {"url": url, "batch_size": batch,
                                                "batch_interval_ms": 50}})


class Sink:
    """Accepts the bot's posts without sending them anywhere."""

    async def deliver(self, action: Action) -> Delivery:
        return Delivery(True, message=f"sink:{id(action)}")


def capture_rows(runtime: Any, rows: Rows) -> None:
    """Keep every committed row (once per batch, in commit order) in ``rows``."""
    writer = runtime.repository.writer
    commit = writer._commit

    async def capture(batch: Rows, done: set[int]) -> None:
        rows.extend(batch)
        await commit(batch, done)

    writer._commit = capture


# -- the replay pipeline ---------------------------------------------------------------

async def run_replay(stream: Path, url: str, batch: int, rows: Rows | None) -> int:
    """``tribebot replay`` of ``stream``; returns the lines handled (events and commands)."""
    from bot.adapters.console.adapter import ConsoleAdapter
    from bot.replay import replay_file

    class Adapter(ConsoleAdapter):
        def __init__(self, runtime: Any, **kwargs: Any) -> None:
            super().__init__(runtime, **kwargs)
            if rows is not None:
                capture_rows(runtime, rows)

    report = await replay_file(settings_for(url, batch), stream, echo=False,
                               adapter_type=Adapter)
    if report.errors:
        raise SystemExit(f"the stream has bad lines: {report.errors[:3]}")
    return report.events + report.commands


# -- the platform pipeline -------------------------------------------------------------

GUILD, GENERAL, HELP = 500, 501, 502
CHAT = -1001234
EMOJI = ("👍", "🙏", "🔥", "❤️", "😂")
WORDS = ("the", "workshop", "meetup", "code", "bug", "idea", "docs", "release", "question",
         "answer", "שאלה", "פגישה", "רעיון", "tomorrow", "today", "slides", "demo", "help")


def write_payloads(path: Path, n: int, members: int, seed: int = 1) -> None:
    """One JSON array a line: [platform, kind, payload] as the gateway / the Bot API send
    them, half each (the child reads them as it goes, as a bot reads its connection)."""
    with path.open("w", encoding="utf-8") as handle:
        for item in platform_payloads(n, members, seed):
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")


def platform_payloads(n: int, members: int, seed: int = 1) -> list[tuple[str, str, Any]]:
    """(platform, kind, payload), in the order they arrive."""
    import discord

    rng = random.Random(seed)
    end = datetime.now(UTC) - timedelta(minutes=5)
    start = end - timedelta(days=28)
    step = (end - start) / max(n, 1)
    out: list[tuple[str, str, Any]] = []
    present: dict[str, list[int]] = {"discord": [], "telegram": []}
    recent: dict[str, list[tuple[int, int, dict[str, Any]]]] = {"discord": [], "telegram": []}
    next_member = [1000]

    def duser(uid: int) -> dict[str, Any]:
        return {"id": str(uid), "username": f"u{uid}", "global_name": f"Member {uid}",
                "discriminator": "0", "avatar": None, "bot": False}

    def dmember(uid: int, at: datetime) -> dict[str, Any]:
        return {"user": duser(uid), "roles": [], "joined_at": at.isoformat(), "deaf": False,
                "mute": False, "flags": 0, "nick": None}

    def tuser(uid: int) -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": f"Member {uid}"}

    chat = {"id": CHAT, "type": "supergroup", "title": "Tribe"}

    def join(platform: str, at: datetime) -> None:
        uid = next_member[0]
        next_member[0] += 1
        present[platform].append(uid)
        if platform == "discord":
            out.append((platform, "join", {**dmember(uid, at), "guild_id": str(GUILD)}))
        else:
            out.append((platform, "join", {"update_id": len(out), "chat_member": {
                "chat": chat, "from": tuser(uid), "date": int(at.timestamp()),
                "old_chat_member": {"status": "left", "user": tuser(uid)},
                "new_chat_member": {"status": "member", "user": tuser(uid)}}}))

    at = start
    for platform in present:
        for _ in range(max(members // 10, 1)):
            join(platform, at)
    for i in range(n):
        at += step
        platform = "discord" if i % 2 else "telegram"
        roll = rng.random()
        people, messages = present[platform], recent[platform]
        if roll < 0.01 and next_member[0] < 1000 + members:
            join(platform, at)
        elif roll < 0.21 and messages:
            target, author, _ = rng.choice(messages[-300:])
            reactor, emoji = rng.choice(people), rng.choice(EMOJI)
            if platform == "discord":
                out.append((platform, "reaction", {
                    "user_id": str(reactor), "channel_id": str(GENERAL),
                    "message_id": str(target), "guild_id": str(GUILD),
                    "emoji": {"id": None, "name": emoji}, "member": dmember(reactor, start),
                    "burst": False, "type": 0, "message_author_id": str(author)}))
            else:
                out.append((platform, "reaction", ({"update_id": len(out),
                    "message_reaction": {
                        "chat": chat, "message_id": target, "user": tuser(reactor),
                        "date": int(at.timestamp()), "old_reaction": [],
                        "new_reaction": [{"type": "emoji", "emoji": emoji}]}}, author)))
        else:
            author = rng.choice(people)
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12))) + f" {i}"
            reply = rng.choice(messages[-200:]) if messages and rng.random() < 0.25 else None
            if platform == "discord":
                mid = discord.utils.time_snowflake(at) + i % 4096
                data: dict[str, Any] = {
                    "id": str(mid), "channel_id": str(rng.choice((GENERAL, HELP))),
                    "guild_id": str(GUILD), "author": duser(author), "content": text,
                    "timestamp": at.isoformat(), "edited_timestamp": None, "tts": False,
                    "mention_everyone": False, "mentions": [], "mention_roles": [],
                    "attachments": [], "embeds": [], "pinned": False,
                    "type": 19 if reply else 0,
                    "member": {k: v for k, v in dmember(author, start).items() if k != "user"}}
                if reply:
                    data["message_reference"] = {"type": 0, "message_id": str(reply[0]),
                                                 "channel_id": reply[2]["channel_id"],
                                                 "guild_id": str(GUILD)}
                    data["referenced_message"] = reply[2]
                out.append((platform, "message", data))
            else:
                mid = i
                data = {"message_id": mid, "date": int(at.timestamp()), "chat": chat,
                        "from": tuser(author), "text": text}
                if reply:
                    data["reply_to_message"] = reply[2]
                out.append((platform, "message", {"update_id": len(out), "message": data}))
            messages.append((mid, author, data if platform == "discord" else {
                "message_id": mid, "date": data["date"], "chat": chat, "from": tuser(author),
                "text": text}))
            if len(messages) > 1000:
                del messages[:500]
    return out


async def run_platforms(stream: Path, members: int, url: str, batch: int,
                        rows: Rows | None) -> int:
    """Build, translate and publish the payloads live (each cog in its own task), then
    wait until every row is committed; returns the events published."""
    import discord
    from discord.state import ConnectionState
    from telegram import Update

    from bot.adapters.discord import translate as dt
    from bot.adapters.telegram import translate as tt
    from bot.adapters.telegram.ids import community_id as tg_community
    from bot.core.events import CommunityJoined, Event
    from bot.runtime import Runtime

    runtime = Runtime(settings_for(url, batch))
    await runtime.start()
    for platform in ("discord", "telegram"):
        runtime.register_sender(platform, Sink())
    if rows is not None:
        capture_rows(runtime, rows)
    state = ConnectionState(dispatch=lambda *a, **k: None, handlers={}, hooks={}, http=None,
                            intents=discord.Intents.all(), chunk_guilds_at_startup=False)
    channels = [{"id": str(c), "type": 0, "guild_id": str(GUILD), "name": name,
                 "position": p, "permission_overwrites": [], "nsfw": False, "parent_id": None,
                 "topic": None, "last_message_id": None}
                for p, (c, name) in enumerate(((GENERAL, "general"), (HELP, "help")))]
    guild = discord.Guild(data={
        "id": str(GUILD), "name": "Tribe", "icon": None, "owner_id": "7", "roles": [
            {"id": str(GUILD), "name": "@everyone", "color": 0, "hoist": False,
             "position": 0, "permissions": "0", "managed": False, "mentionable": False}],
        "emojis": [], "stickers": [], "features": [], "channels": channels,
        "member_count": members, "members": []}, state=state)
    state._add_guild(guild)
    started = datetime.now(UTC) - timedelta(days=29)
    published = 0

    def publish(event: Event | None) -> None:
        nonlocal published
        if event is not None and runtime.publish(event):
            published += 1

    publish(dt.community_joined(guild, started))
    publish(CommunityJoined(community=tg_community(CHAT), at=started, name="Tribe"))
    handle = stream.open("rb")
    for index, line in enumerate(handle):
        platform, kind, data = json.loads(line)
        if platform == "discord":
            if kind == "message":
                channel = guild.get_channel_or_thread(int(data["channel_id"]))
                publish(dt.message_posted(discord.Message(state=state, channel=channel,
                                                          data=data)))
            elif kind == "reaction":
                raw = discord.RawReactionActionEvent(
                    data, discord.PartialEmoji.from_dict(data["emoji"]), "REACTION_ADD")
                raw.member = None
                publish(dt.reaction_event(raw, datetime.now(UTC), dt.reaction_author(raw)))
            else:
                publish(dt.member_joined(discord.Member(data=data, guild=guild, state=state),
                                         started))
        elif kind == "message":
            update = Update.de_json(data, None)
            assert update.message is not None
            publish(tt.message_event(update.update_id, update.message))
        elif kind == "reaction":
            body, author = data
            update = Update.de_json(body, None)
            assert update.message_reaction is not None
            for event in tt.reaction_events(update.update_id, update.message_reaction,
                                            f"telegram:{author}"):
                publish(event)
        else:
            update = Update.de_json(data, None)
            assert update.chat_member is not None
            for event in tt.member_update_events(update.update_id, update.chat_member):
                publish(event)
        if index % 100 == 99:
            await asyncio.sleep(0)  # updates arrive in reads of a socket, not all at once
    handle.close()
    await runtime.bus.drain()
    await runtime.stop()
    return published


# -- children --------------------------------------------------------------------------

def child(args: argparse.Namespace) -> None:
    """One measured (or capturing) run; prints a JSON line for the parent."""
    from bot.runtime import default_cogs

    default_cogs()  # imported before the clock starts: a bot has them loaded already
    if args.child == "replay":
        import bot.replay
    else:
        import discord  # noqa: F401
        import telegram  # noqa: F401

        import bot.adapters.discord.translate
        import bot.adapters.telegram.translate  # noqa: F401
    rows: Rows | None = [] if args.capture else None
    stolen = cpu_ticks()
    wall, cpu = time.perf_counter(), time.process_time()
    if args.pipeline == "replay":
        events = asyncio.run(run_replay(Path(args.stream), args.url, args.batch, rows))
    else:
        events = asyncio.run(run_platforms(Path(args.stream), args.members, args.url,
                                           args.batch, rows))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"events": events, "wall": wall, "cpu": cpu, "peak_mb": peak_mb(),
                      "stolen": stolen_share(stolen, cpu_ticks())}))
    if rows is not None:
        with open(args.capture, "wb") as handle:
            pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)



def cpu_ticks() -> tuple[int, int] | None:
    """The machine's (stolen, all) CPU ticks so far, from Linux's /proc/stat; None elsewhere.

    On a shared virtual machine the hypervisor lends the cores to others now and then:
    a run that lost a fifth of its CPU time that way is slower for no fault of its own.
    """
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks[:8])


def stolen_share(before: tuple[int, int] | None, after: tuple[int, int] | None
                 ) -> float | None:
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def spawn(pipeline: str, args: argparse.Namespace, store: Store, name: str, stream: Path,
          capture: Path | None = None) -> dict[str, Any]:
    url = store.fresh(name)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", pipeline,
               "--url", url, "--stream", str(stream), "--events", str(args.events),
               "--members", str(args.members), "--batch", str(args.batch)]
    if capture is not None:
        command += ["--capture", str(capture)]
    # in the bench's folder: a PostgreSQL store keeps its local files in the working folder
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          cwd=store.folder)
    store.done(url)
    if done.returncode != 0:
        raise SystemExit(f"the {pipeline} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the stores ------------------------------------------------------------------------

class Store:
    """Fresh, migrated databases for the runs: SQLite files in the bench's folder."""

    label = "sqlite3"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def fresh(self, name: str) -> str:
        """An empty file (the pipeline migrates it; the references create the schema)."""
        db = self.folder / f"{name}.db"
        for old in db.parent.glob(db.name + "*"):
            old.unlink()
        return f"sqlite:///{db}"

    def describe(self) -> str:
        return "SQLite"

    def done(self, url: str) -> None:
        """A run's database is not needed any more."""

    def close(self) -> None:
        """Nothing outlives the bench's folder."""

    def raw(self, rows: Rows, url: str, batch: int) -> float:
        return run_raw(rows, Path(url.removeprefix("sqlite:///")), batch)

    def naive(self, rows: Rows, per_event: float, url: str) -> float:
        return asyncio.run(run_naive(rows, per_event, Path(url.removeprefix("sqlite:///"))))


class PostgresStore(Store):
    """Databases of the bench's own on a PostgreSQL server: one migrated template, a clone
    of it per run (``CREATE DATABASE … TEMPLATE``), every one dropped at the end."""

    label = "asyncpg"

    def __init__(self, folder: Path, server: str) -> None:
        super().__init__(folder)
        self.server = server
        self.prefix = f"tribebot_bench_{uuid.uuid4().hex[:8]}"
        self.template = f"{self.prefix}_template"
        self.count = 0
        self.created: list[str] = []
        asyncio.run(self._create_template())

    def url(self, database: str) -> str:
        parts = urlsplit(self.server)
        return urlunsplit(parts._replace(path=f"/{database}"))

    async def _admin(self, *statements: str) -> None:
        conn = await postgres.connect(self.server)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def _create_template(self) -> None:
        await self._admin(f"CREATE DATABASE {self.template}")
        self.created.append(self.template)
        conn = await postgres.connect(self.url(self.template))
        try:
            await postgres.migrate(conn)
        finally:
            await conn.close()

    def fresh(self, name: str) -> str:
        self.count += 1
        database = f"{self.prefix}_{self.count}"
        asyncio.run(self._admin(f"CREATE DATABASE {database} TEMPLATE {self.template}"))
        self.created.append(database)
        return self.url(database)

    def describe(self) -> str:
        return f"PostgreSQL, {postgres.describe_url(self.url(self.prefix + '_<n>'))}"

    def done(self, url: str) -> None:
        database = urlsplit(url).path.lstrip("/")
        asyncio.run(self._admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        self.created.remove(database)

    def close(self) -> None:
        drops = [f"DROP DATABASE IF EXISTS {d} WITH (FORCE)" for d in reversed(self.created)]
        asyncio.run(self._admin(*drops))
        self.created.clear()

    def raw(self, rows: Rows, url: str, batch: int) -> float:
        return asyncio.run(run_raw_postgres(rows, url, batch))

    def naive(self, rows: Rows, per_event: float, url: str) -> float:
        return asyncio.run(run_naive_postgres(rows, per_event, url))


@contextlib.contextmanager
def open_store(folder: Path, url: str | None) -> Iterator[Store]:
    store = Store(folder) if url is None else PostgresStore(folder, url)
    try:
        yield store
    finally:
        store.close()


# -- the references --------------------------------------------------------------------

def fresh_schema(db: Path) -> sqlite3.Connection:
    """The store's schema, on a connection with the store's own pragmas."""
    for old in db.parent.glob(db.name + "*"):
        old.unlink()
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    for migration in migrations():
        conn.executescript(migration.sql)
    return conn


def batches(rows: Rows, batch: int) -> list[list[tuple[Statement, list[Any]]]]:
    """The rows in transactions of ``batch`` rows, each grouped by statement, groups in
    the order the writer runs them."""
    out = []
    for i in range(0, len(rows), batch):
        groups: dict[Statement, list[Any]] = {}
        for statement, params in rows[i:i + batch]:
            groups.setdefault(statement, []).append(params)
        out.append([(s, groups[s]) for s in sorted(groups, key=lambda s: s.order)])
    return out


def run_raw(rows: Rows, db: Path, batch: int) -> float:
    conn = fresh_schema(db)
    work = batches(rows, batch)
    started = time.perf_counter()
    for groups in work:
        conn.execute("BEGIN")
        for statement, group in groups:
            conn.executemany(statement.sql, group)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def run_naive(rows: Rows, per_event: float, db: Path) -> float:
    """The same rows, each awaited through aiosqlite, one commit per event's worth of rows."""
    fresh_schema(db).close()
    conn = await aiosqlite.connect(db)
    for pragma in PRAGMAS:
        await conn.execute(f"PRAGMA {pragma}")
    started = time.perf_counter()
    due = per_event
    for index, (statement, params) in enumerate(rows, start=1):
        await conn.execute(statement.sql, params)
        if index >= due:
            await conn.commit()
            due += per_event
    await conn.commit()
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed


@contextlib.asynccontextmanager
async def pg_connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await postgres.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def column_types(conn: asyncpg.Connection) -> dict[str, dict[str, str]]:
    types: dict[str, dict[str, str]] = {}
    for table, column, kind in await conn.fetch(
            """SELECT table_name, column_name, udt_name FROM information_schema.columns
               WHERE table_schema = current_schema()"""):
        types.setdefault(table, {})[column] = kind
    return types


async def run_raw_postgres(rows: Rows, url: str, batch: int) -> float:
    """The rows in transactions of ``batch`` rows: a plain insert's group as one ``unnest``
    of one array per column, an upsert's group through ``executemany``."""
    async with pg_connection(url) as conn:
        types = await column_types(conn)
        forms: dict[Statement, tuple[str, str | None]] = {}
        for statement, _ in rows:
            if statement not in forms:
                sql = postgres_form(statement.source).sql
                forms[statement] = (sql, postgres.unnest_form(sql, types))
        work = batches(rows, batch)
        started = time.perf_counter()
        for groups in work:
            async with conn.transaction():
                for statement, group in groups:
                    sql, unnest = forms[statement]
                    if unnest is not None and len(group) > 1:
                        await conn.execute(unnest, *map(list, zip(*group, strict=True)))
                    else:
                        await conn.executemany(sql, group)
        return time.perf_counter() - started


async def run_naive_postgres(rows: Rows, per_event: float, url: str) -> float:
    """The same rows, each awaited through asyncpg, one commit per event's worth of rows."""
    async with pg_connection(url) as conn:
        started = time.perf_counter()
        due = per_event
        transaction = conn.transaction()
        await transaction.start()
        for index, (statement, params) in enumerate(rows, start=1):
            await conn.execute(postgres_form(statement.source).sql, *params)
            if index >= due:
                await transaction.commit()
                transaction = conn.transaction()
                await transaction.start()
                due += per_event
        await transaction.commit()
        return time.perf_counter() - started


def spread(values: Sequence[float], unit: str = "", fmt: str = ",.0f") -> str:
    """min / median / max."""
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values),
                                                max(values))) + unit


def measure(pipeline: str, args: argparse.Namespace, store: Store, stream: Path) -> None:
    folder = store.folder
    if pipeline == "platforms":
        stream = folder / "payloads.jsonl"
        write_payloads(stream, args.events, args.members)
    capture = folder / f"{pipeline}.rows"
    spawn(pipeline, args, store, f"{pipeline}-capture", stream, capture)
    with capture.open("rb") as handle:
        rows: Rows = pickle.load(handle)
    per_event, naive_n = 0.0, 0
    runs, raw, naive = [], [], []
    # each repetition measures the pipeline, the raw insert and the naive writer one after
    # the other, so the ratios compare runs made under the same load on the machine
    for _ in range(args.repeat):
        run = spawn(pipeline, args, store, pipeline, stream)
        runs.append(run)
        events = run["events"]
        url = store.fresh("raw")
        raw.append(events / store.raw(rows, url, args.batch))
        store.done(url)
        per_event = len(rows) / max(events, 1)
        naive_n = min(args.naive_events, events)
        url = store.fresh("naive")
        naive.append(naive_n / store.naive(rows[: round(naive_n * per_event)], per_event,
                                           url))
        store.done(url)
    events = runs[0]["events"]
    rates = [r["events"] / r["wall"] for r in runs]
    cpu_us = [r["cpu"] / r["events"] * 1e6 for r in runs]
    peaks = [r["peak_mb"] for r in runs]
    to_raw = [rate / ceiling for rate, ceiling in zip(rates, raw, strict=True)]
    to_naive = [rate / slow for rate, slow in zip(rates, naive, strict=True)]
    print(f"{pipeline}: {events:,} events, {len(rows):,} rows ({per_event:.2f} per event), "
          f"{args.repeat} runs, min / median / max")
    print(f"  pipeline           {spread(rates, ' events/s')}")
    print(f"  CPU per event      {spread(cpu_us, ' µs', ',.1f')} (all threads)")
    print(f"  peak RSS           {spread(peaks, ' MB', ',.1f')}")
    print(f"  raw {store.label:<14} {spread(raw, ' events/s')}")
    print(f"  naive commit/event {spread(naive, ' events/s')} (on {naive_n:,} events)")
    stolen = [r["stolen"] for r in runs if r.get("stolen") is not None]
    if stolen:
        print(f"  CPU stolen         {spread([100 * x for x in stolen], '%', ',.1f')} "
              "(by the hypervisor, during the pipeline runs)")
    print(f"  {pipeline} / raw ceiling: {statistics.median(to_raw):6.1%}   (target >= 50%)"
          f"   runs: {' / '.join(f'{x:.1%}' for x in sorted(to_raw))}")
    print(f"  {pipeline} / naive:       {statistics.median(to_naive):6.1f}x  (target >= 10x)"
          f"   runs: {' / '.join(f'{x:.1f}x' for x in sorted(to_naive))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=StorageSection().batch_size,
                        help="writer batch size in rows (default: the config default)")
    parser.add_argument("--naive-events", type=int, default=5_000,
                        help="the naive writer is slow: measure it on this many events")
    parser.add_argument("--only", choices=("replay", "platforms"),
                        help="measure one pipeline only")
    parser.add_argument("--store", metavar="URL",
                        help="a PostgreSQL server (postgresql://user@host/db) to measure on "
                        "instead of SQLite; the bench creates and drops databases of its own")
    parser.add_argument("--child", choices=("replay", "platforms"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--stream", help=argparse.SUPPRESS)
    parser.add_argument("--capture", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.pipeline = args.child
        child(args)
        return
    if args.store is not None and dialect_of(args.store) != POSTGRESQL:
        parser.error("--store takes a postgresql:// URL (SQLite is the default)")
    from drill import write_stream

    with tempfile.TemporaryDirectory() as name, open_store(Path(name), args.store) as store:
        folder = Path(name)
        stream = folder / "stream.jsonl"
        lines = write_stream(stream, args.events, args.members, seed=1)
        print(f"events: {args.events:,}  members: {args.members:,}  stream lines: {lines:,}  "
              f"batch: {args.batch}  repeat: {args.repeat}  store: {store.describe()}")
        for pipeline in ("replay", "platforms"):
            if args.only in (None, pipeline):
                measure(pipeline, args, store, stream)


if __name__ == "__main__":
    main()
