"""Ingest benchmark: events/s through the whole pipeline vs. the SQLite ceiling and a naive bot.

Three writers, same synthetic events, one run:
  pipeline  bus + recorder + engagement cog + batched writer, everything committed;
  raw       sqlite3.executemany of exactly the rows the pipeline wrote, same batch size
            (the ceiling: no Python per event, no bus, no cogs);
  naive     the same rows, each awaited through aiosqlite, with one commit per event's
            worth of rows (what most bots do: write, commit, next event).

    python bench/ingest.py [--events 200000] [--members 2000] [--naive-events 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402

from bot.config import Settings, StorageSection  # noqa: E402
from bot.core.actions import Action, Delivery  # noqa: E402
from bot.core.events import Event, MessagePosted, ReactionAdded  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from storage.database import PRAGMAS, migrations  # noqa: E402
from storage.writer import Statement  # noqa: E402

COMMUNITY = "console:bench"
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
WORDS = ("hello", "thanks", "שלום", "great idea", "how do I", "todah", "see the docs", "🙂")


def synthetic_events(n: int, members: int, seed: int = 1) -> list[Event]:
    """80% messages (a quarter of them replies), 20% reactions, over about a month."""
    rng = random.Random(seed)
    events: list[Event] = []
    messages: list[tuple[str, str]] = []
    step = timedelta(seconds=30 * 24 * 3600 / n)
    at = START
    for i in range(n):
        at += step
        if messages and rng.random() < 0.2:
            target, author = rng.choice(messages[-500:])
            reactor = f"console:u{rng.randrange(members)}"
            events.append(ReactionAdded(community=COMMUNITY, at=at, message=target,
                                        reactor=reactor, emoji="👍", message_author=author))
            continue
        author = f"console:u{rng.randrange(members)}"
        message = f"console:m{i}"
        reply = rng.choice(messages[-200:]) if messages and rng.random() < 0.25 else None
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
        events.append(MessagePosted(
            community=COMMUNITY, at=at, message=message, author=author,
            channel=f"console:c{rng.randrange(5)}", text=text, length=len(text),
            reply_to=reply[0] if reply else None, reply_to_author=reply[1] if reply else None))
        messages.append((message, author))
    return events


class Sink:
    """Accepts the bot's posts (level-ups) without printing them."""

    async def deliver(self, action: Action) -> Delivery:
        return Delivery(True)


def settings_for(db: Path, batch: int) -> Settings:
    return Settings.model_validate({"storage": {"url": f"sqlite:///{db}", "batch_size": batch,
                                                "batch_interval_ms": 50}})


async def run_pipeline(events: Sequence[Event], db: Path, batch: int, pace: int = 0
                       ) -> tuple[float, list[tuple[Statement, Any]]]:
    """``pace``: wait for the cogs every ``pace`` events (0: publish as fast as possible,
    a burst far ahead of the cogs; an event's rows are written once the cogs are done
    with it, so a burst leaves them for the end)."""
    runtime = Runtime(settings_for(db, batch))
    await runtime.start()
    runtime.register_sender("console", Sink())
    writer = runtime.repository.writer
    assert writer is not None
    captured: list[tuple[Statement, Any]] = []
    commit = writer._commit

    async def capture(batch: list[tuple[Statement, Any]], done: set[int]) -> None:
        captured.extend(batch)  # once per batch: keeps the measurement honest
        await commit(batch, done)

    writer._commit = capture  # type: ignore[method-assign]
    started = time.perf_counter()
    for i in range(0, len(events), 500):
        for event in events[i:i + 500]:
            runtime.publish(event)
        if pace and (i + 500) % pace < 500:
            await runtime.bus.drain()
        await asyncio.sleep(0)
    await runtime.bus.drain()
    await runtime.repository.flush()
    elapsed = time.perf_counter() - started
    await runtime.stop()
    return elapsed, captured


def fresh_schema(db: Path) -> sqlite3.Connection:
    """The store's schema, on a connection with the store's own pragmas."""
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    for migration in migrations():
        conn.executescript(migration.sql)
    return conn


def run_raw(rows: list[tuple[Statement, Any]], db: Path, batch: int) -> float:
    conn = fresh_schema(db)
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        groups: dict[Statement, list[Any]] = {}
        for statement, params in rows[i:i + batch]:
            groups.setdefault(statement, []).append(params)
        conn.execute("BEGIN")
        for statement in sorted(groups, key=lambda s: s.order):
            conn.executemany(statement.sql, groups[statement])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def run_naive(rows: list[tuple[Statement, Any]], per_event: float, db: Path) -> float:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=StorageSection().batch_size,
                        help="writer batch size in rows (default: the config default)")
    parser.add_argument("--pace", type=int, default=0,
                        help="let the cogs catch up every N events, as live traffic does "
                             "(default 0: one burst)")
    parser.add_argument("--naive-events", type=int, default=20_000,
                        help="the naive writer is slow: measure it on this many events")
    args = parser.parse_args()

    events = synthetic_events(args.events, args.members)
    gc.collect()
    gc.freeze()  # the pre-built events are the harness's, not the bot's: keep them out of GC
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        pipeline_s, rows = asyncio.run(run_pipeline(events, tmp / "pipeline.db", args.batch,
                                                    args.pace))
        raw_s = run_raw(rows, tmp / "raw.db", args.batch)
        naive_n = min(args.naive_events, len(events))
        per_event = len(rows) / len(events)
        naive_rows = rows[: round(naive_n * per_event)]
        naive_s = asyncio.run(run_naive(naive_rows, per_event, tmp / "naive.db"))

    pipeline_rate = len(events) / pipeline_s
    raw_rate = len(events) / raw_s
    naive_rate = naive_n / naive_s
    print(f"events: {len(events):,}  members: {args.members:,}  rows written: {len(rows):,} "
          f"({len(rows) / len(events):.2f} per event)  batch: {args.batch}")
    print(f"pipeline (bus + cogs + batched writer): {pipeline_rate:>10,.0f} events/s")
    print(f"raw sqlite3.executemany, same rows:     {raw_rate:>10,.0f} events/s")
    print(f"naive commit per event (aiosqlite):     {naive_rate:>10,.0f} events/s "
          f"(on {naive_n:,} events)")
    print(f"pipeline / raw ceiling: {pipeline_rate / raw_rate:6.1%}   (target >= 25%)")
    print(f"pipeline / naive:       {pipeline_rate / naive_rate:6.1f}x  (target >= 10x)")


if __name__ == "__main__":
    main()
