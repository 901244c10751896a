"""Weekly-summary benchmark: a year of a large community, one summary, time and memory.

Builds a synthetic community (default 100,000 members and 10,000,000 messages over one
year) straight into a Tribebot database — bulk-loaded, then rolled up exactly as the
triggers would — and then, in a fresh process, times one weekly summary and reports the
peak memory of that process.

    python bench/summary.py [--members 100000] [--messages 10000000] [--keep DB]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage.database import migrations  # noqa: E402

COMMUNITY = "console:big"
FIRST_DAY = date(2025, 11, 24)  # a Monday; the year ends on Sunday 2026-11-22
DAYS = 364
STAGE_ORDER = ("visitor", "audience", "participant", "regular", "champion")


def build(db: Path, members: int, messages: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    for migration in migrations():
        conn.executescript(f"{migration.sql}\nPRAGMA user_version = {migration.version};")
    for trigger in ("messages_rollup", "reactions_rollup", "ledger_rollup",
                    "member_weeks_on_insert", "member_weeks_on_first_message"):
        conn.execute(f"DROP TRIGGER {trigger}")
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
    conn.execute("INSERT INTO communities (id, platform, name, joined_at) VALUES (?, ?, ?, ?)",
                 (COMMUNITY, "console", "Big Community", int(start.timestamp())))
    # members join across the year; activity is heavy-tailed like real groups
    join_day = rng.integers(0, DAYS, members)
    weight = rng.pareto(1.2, members) + 0.05
    ids = [f"console:u{i}" for i in range(members)]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO members (community_id, member_id, name, first_seen_at) VALUES (?,?,?,?)",
        ((COMMUNITY, ids[i], f"Member {i}", int(start.timestamp()) + int(join_day[i]) * 86400)
         for i in range(members)))
    conn.executemany(
        "INSERT INTO member_events (community_id, member_id, kind, at, day) "
        "VALUES (?, ?, 'joined', ?, ?)",
        ((COMMUNITY, ids[i], int(start.timestamp()) + int(join_day[i]) * 86400 + 3600,
          (FIRST_DAY + timedelta(days=int(join_day[i]))).isoformat()) for i in range(members)))
    conn.execute("COMMIT")
    # messages: authors by weight, days uniformly after the author's join
    authors = rng.choice(members, size=messages, p=weight / weight.sum())
    offsets = rng.random(messages)
    days = (join_day[authors] + offsets * (DAYS - join_day[authors])).astype(np.int64)
    seconds = rng.integers(0, 86400, messages)
    day_names = [(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(DAYS + 1)]
    base = int(start.timestamp())
    chunk = 500_000
    for offset in range(0, messages, chunk):
        end = min(offset + chunk, messages)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO messages (community_id, message_id, channel_id, author_id, at, day, "
            "length) VALUES (?, ?, 'console:general', ?, ?, ?, 20)",
            ((COMMUNITY, f"console:m{i}", ids[authors[i]], base + int(days[i]) * 86400
              + int(seconds[i]), day_names[days[i]]) for i in range(offset, end)))
        conn.execute("COMMIT")
    # the rollup the messages trigger maintains, in one pass
    conn.execute("BEGIN")
    conn.execute("""INSERT INTO daily_activity (community_id, day, member_id, messages, points)
                    SELECT community_id, day, author_id, count(*), 20 * count(*)
                    FROM messages GROUP BY community_id, day, author_id""")
    conn.execute("""INSERT INTO member_day_contributions   -- the weekly table's own logic
                    SELECT community_id, day, member_id FROM daily_activity""")
    conn.execute("COMMIT")
    # journey moves, as the journey cog would have recorded them
    conn.execute("BEGIN")
    moves = []
    for member, first_week, weeks in conn.execute(
            """SELECT member_id, min(date(day, '-6 days', 'weekday 1')),
                      count(DISTINCT date(day, '-6 days', 'weekday 1'))
               FROM daily_activity GROUP BY member_id""").fetchall():
        at = int(datetime.fromisoformat(first_week).replace(tzinfo=UTC).timestamp())
        reached = 1 + (weeks >= 2) + (weeks >= 20) + (weeks >= 40)
        for index in range(1, reached + 1):
            moves.append((COMMUNITY, member, STAGE_ORDER[index - 1], STAGE_ORDER[index],
                          at + index * 7 * 86400, first_week))
    conn.executemany("INSERT INTO stage_history (community_id, member_id, old_stage, "
                     "new_stage, at, day) VALUES (?, ?, ?, ?, ?, ?)", moves)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def measure(db: str, week: str) -> None:
    """Runs in a fresh process: one summary, its time and the process's peak memory."""
    from bot.config import Settings
    from bot.reporting import render_report

    settings = Settings.model_validate({"storage": {"url": f"sqlite:///{db}"}})
    started = time.perf_counter()
    out = asyncio.run(render_report(settings, COMMUNITY, week, "json", None))
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary = json.loads(out)
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_kb / 1024,
                      "active": summary["active"]["count"],
                      "members": summary["members"]["total"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--week", default="2026-W47")
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.week)
        return
    folder = tempfile.mkdtemp(prefix="tribebot-bench-")
    db = args.keep or Path(folder) / "big.db"
    started = time.perf_counter()
    build(db, args.members, args.messages)
    built = time.perf_counter() - started
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(db), "--week", args.week],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"members: {args.members:,}  messages: {args.messages:,}  built in {built:.0f} s")
    print(f"database size: {size / 1e6:,.0f} MB")
    print(f"one weekly summary ({args.week}): {numbers['seconds']:.2f} s   (target < 2 s)")
    print(f"peak memory of that process: {numbers['peak_mb']:.0f} MB   (target < 500 MB)")
    print(f"(the week had {numbers['active']:,} active of {numbers['members']:,} members)")


if __name__ == "__main__":
    main()
