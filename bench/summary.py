"""Weekly-summary benchmark: a year of a large community, one summary, time and memory.

Builds a synthetic community (default 100,000 members and 10,000,000 messages over one
year) straight into a Tribebot database, bulk-loaded and rolled up exactly as the
triggers would: members who join all year, half of them never posting, a core that
posts all year and others who post for some weeks and go quiet (some also leave), "gm"
farmers whose every message is refused, a points ledger row per rewarded message,
helpful answers and referrals, and the journey's stages and moves computed with the
journey's own rule — so there are drifting members, as in a bot's database. Like a
bot's database, it is never ANALYZEd.

Then, each in a fresh process, it builds one weekly summary twice: on the database as
built (no statistics; whatever the store's own ``PRAGMA optimize`` at open does), and
after a full ``ANALYZE``. Peak memory is that process's own high-water mark (VmHWM).

    python bench/summary.py [--members 100000] [--messages 10000000] [--keep DB]
    python bench/summary.py --reuse /tmp/big.db      # measure an existing bench database
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peak import peak_mb  # noqa: E402
from cogs.journey.settings import JourneyPolicy as JourneySection  # noqa: E402
from cogs.journey.stages import RANK, Standing, stage_of, week_number  # noqa: E402
from storage.database import migrations  # noqa: E402

COMMUNITY = "console:big"
FIRST_DAY = date(2025, 11, 24)  # a Monday; the year ends on Sunday 2026-11-22
DAYS = 364
#: Triggers the bulk load does the work of (each rollup is written directly).
TRIGGERS = ("messages_rollup", "reactions_rollup", "ledger_rollup", "farmed_rollup",
            "member_weeks_on_insert", "member_weeks_on_contribution", "member_weeks_on_farmed")
POSTERS = 0.55  # members who ever post ...
CORE = 0.15  # ... of whom this share keep posting to the end of the year; the others
SPAN_WEEKS = 2  # post for this many weeks on average, then go quiet ...
LEAVERS = 0.4  # ... and this share of those also leave the group
FARMERS = 0.006  # members (of those who never post otherwise) who only ever post "gm"
FARMED = 0.03  # other messages refused (too short, near-duplicates)
HELPFUL = 0.01  # rewarded messages that became a helpful answer


def _day(index: int) -> str:
    return (FIRST_DAY + timedelta(days=int(index))).isoformat()


def build(db: Path, members: int, messages: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")  # the build's own; the bot uses its pragmas
    for migration in migrations():
        conn.executescript(f"{migration.sql}\nPRAGMA user_version = {migration.version};")
    for trigger in TRIGGERS:
        conn.execute(f"DROP TRIGGER {trigger}")
    base = int(datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC).timestamp())
    day_names = [_day(d) for d in range(DAYS + 1)]
    conn.execute("INSERT INTO communities (id, platform, name, joined_at) VALUES (?, ?, ?, ?)",
                 (COMMUNITY, "console", "Big Community", base))

    # who: members join across the year. Like real groups, about half never post, a
    # core keeps posting to the end, and the rest post for a few weeks and go quiet (some
    # of those also leave); a few only ever post "gm" (every message refused as farming)
    join = rng.integers(0, DAYS, members)
    poster = rng.random(members) < POSTERS
    core = poster & (rng.random(members) < CORE)
    start = np.minimum(join + rng.exponential(7, members).astype(np.int64), DAYS - 1)
    quiet = np.where(core, DAYS, np.minimum(
        start + 1 + rng.exponential(7 * SPAN_WEEKS, members).astype(np.int64), DAYS))
    leave = np.where((quiet < DAYS) & (rng.random(members) < LEAVERS),
                     quiet + rng.integers(0, 28, members), DAYS)
    farmer = ~poster & (rng.random(members) < FARMERS)
    quiet[farmer], start[farmer] = DAYS, join[farmer]
    ids = [f"console:u{i}" for i in range(members)]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO members (community_id, member_id, name, first_seen_at, present) "
        "VALUES (?, ?, ?, ?, ?)",
        ((COMMUNITY, ids[i], f"Member {i}", base + int(join[i]) * 86400,
          int(leave[i] >= DAYS)) for i in range(members)))
    conn.executemany(
        "INSERT INTO member_events (community_id, member_id, kind, at, day) VALUES (?,?,?,?,?)",
        [(COMMUNITY, ids[i], "joined", base + int(join[i]) * 86400 + 3600, day_names[join[i]])
         for i in range(members)]
        + [(COMMUNITY, ids[i], "left", base + int(leave[i]) * 86400 + 7200,
            day_names[leave[i]]) for i in np.flatnonzero(leave < DAYS)])
    conn.execute("COMMIT")

    # what: ordinary messages by a heavy-tailed weight, on days between join and going
    # quiet; farmers say "gm" once a day; a few percent of the rest are refused too
    farm_days = [np.arange(join[i], quiet[i]) for i in np.flatnonzero(farmer)]
    farm_authors = np.concatenate([np.full(len(d), i) for i, d in
                                   zip(np.flatnonzero(farmer), farm_days, strict=True)]
                                  or [np.zeros(0, np.int64)]).astype(np.int64)
    farm_days_all = np.concatenate(farm_days or [np.zeros(0, np.int64)]).astype(np.int64)
    ordinary = max(messages - len(farm_authors), 0)
    weight = (rng.pareto(1.2, members) + 0.05) * (quiet - start) * np.where(core, 30, 1)
    weight[~poster] = 0
    authors = rng.choice(members, size=ordinary, p=weight / weight.sum())
    days = (start[authors] + rng.random(ordinary) * (quiet[authors] - start[authors])
            ).astype(np.int64)
    authors = np.concatenate([authors, farm_authors])
    days = np.concatenate([days, farm_days_all])
    farmed = np.concatenate([rng.random(ordinary) < FARMED, np.ones(len(farm_authors), bool)])
    order = np.lexsort((rng.integers(0, 86400, len(days)), days))  # ids in time order
    authors, days, farmed = authors[order], days[order], farmed[order]
    seconds = np.sort(rng.integers(0, 86400, len(days)))  # any order within a day is fine
    at = base + days * 86400 + seconds
    helpful = ~farmed & (rng.random(len(days)) < HELPFUL)

    def ledger(start: int, end: int) -> Iterator[tuple[object, ...]]:
        """A row per rewarded message, and one more for each helpful answer."""
        for i in range(start, end):
            if farmed[i]:
                continue
            row = (COMMUNITY, ids[authors[i]], 20, "message", f"console:m{i}", int(at[i]),
                   day_names[days[i]])
            yield row
            if helpful[i]:
                yield (*row[:2], 10, "helpful_answer", *row[4:])

    chunk = 500_000
    for offset in range(0, len(days), chunk):
        end = min(offset + chunk, len(days))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO messages (community_id, message_id, channel_id, author_id, at, day, "
            "length) VALUES (?, ?, 'console:general', ?, ?, ?, ?)",
            ((COMMUNITY, f"console:m{i}", ids[authors[i]], int(at[i]), day_names[days[i]],
              2 if farmed[i] else 20) for i in range(offset, end)))
        conn.executemany(
            "INSERT INTO farmed_messages (community_id, message_id, member_id, reason, at, day)"
            " VALUES (?, ?, ?, 'too short', ?, ?)",
            ((COMMUNITY, f"console:m{i}", ids[authors[i]], int(at[i]), day_names[days[i]])
             for i in range(offset, end) if farmed[i]))
        conn.executemany(
            "INSERT INTO ledger (community_id, member_id, season, delta, reason, ref, at, day)"
            " VALUES (?, ?, 1, ?, ?, ?, ?, ?)", ledger(offset, end))
        conn.execute("COMMIT")
    referrers = rng.choice(members, size=max(members // 200, 1), replace=False)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO ledger (community_id, member_id, season, delta, reason, ref, at, day) "
        "VALUES (?, ?, 1, 50, 'referral', ?, ?, ?)",
        ((COMMUNITY, ids[r], f"console:invited{r}", base + int(join[r]) * 86400 + 86400 * 10,
          day_names[min(join[r] + 10, DAYS - 1)]) for r in referrers))
    conn.execute("COMMIT")

    # the rollups the triggers keep, in one pass each
    key = authors * (DAYS + 1) + days
    keys, inverse = np.unique(key, return_inverse=True)
    counts = np.bincount(inverse)
    farmed_counts = np.bincount(inverse, weights=farmed).astype(np.int64)
    helpful_counts = np.bincount(inverse, weights=helpful).astype(np.int64)
    points = 20 * (counts - farmed_counts) + 10 * helpful_counts
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO daily_activity (community_id, day, member_id, messages, points, farmed) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ((COMMUNITY, day_names[k % (DAYS + 1)], ids[k // (DAYS + 1)], int(c), int(p), int(f))
         for k, c, p, f in zip(keys.tolist(), counts, points, farmed_counts, strict=True)))
    conn.execute("""INSERT INTO daily_activity (community_id, day, member_id, points)
                    SELECT community_id, day, member_id, delta FROM ledger
                    WHERE reason = 'referral' ON CONFLICT DO UPDATE
                    SET points = points + excluded.points""")
    conn.execute("""INSERT INTO point_totals (community_id, season, member_id, points)
                    SELECT community_id, 1, member_id, sum(points) FROM daily_activity
                    GROUP BY community_id, member_id""")
    conn.execute("""INSERT INTO member_day_contributions   -- the weekly table's own logic
                    SELECT community_id, day, member_id FROM daily_activity
                    WHERE messages > farmed""")
    conn.execute("COMMIT")
    add_content(conn, rng, base, len(days))
    build_stages(conn, JourneySection())
    conn.close()


def add_content(conn: sqlite3.Connection, rng: np.random.Generator, base: int,
                messages: int) -> None:
    """Three content posts a week (tips, events, questions), each answered by some of the
    week's later messages, as the content cog records them."""
    conn.execute("BEGIN")
    for week in range(DAYS // 7):
        for n, topic in enumerate(("tips", "events", "questions")):
            slot = base + week * 7 * 86400 + (n * 2 + 1) * 86400 + 9 * 3600
            post = f"console:post{week}-{n}"
            conn.execute(
                "INSERT INTO messages (community_id, message_id, channel_id, author_id, "
                "author_is_bot, at, day, length) VALUES (?, ?, 'console:general', "
                "'console:bot', 1, ?, ?, 200)", (COMMUNITY, post, slot, _day(week * 7 + n * 2 + 1)))
            conn.execute(
                "INSERT INTO content_slots (job, slot, community_id, item_id, topic, status, "
                "channel_id, message_id, recorded_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 'sent', 'console:general', ?, ?, ?)",
                (f"queue:{n + 1}", slot, COMMUNITY, week * 3 + n + 1, topic, post, slot, slot))
            # replies: messages of the next days, picked at random by their (time-ordered) ids
            first = int(messages * (week * 7 + n * 2 + 1) / DAYS)
            last = min(int(messages * (week * 7 + n * 2 + 3) / DAYS), messages)
            replies = rng.integers(first, max(last, first + 1), 40)
            conn.executemany(
                "UPDATE messages SET reply_to_id = ?, reply_to_author_id = 'console:bot' "
                "WHERE community_id = ? AND message_id = ?",
                ((post, COMMUNITY, f"console:m{i}") for i in replies.tolist()))
    conn.execute("COMMIT")


def build_stages(conn: sqlite3.Connection, policy: JourneySection) -> None:
    """The journey's stages and moves, as its weekly sweeps would have stored them, from
    the stored weeks with the journey's own rule (``stage_of``)."""
    weeks: dict[str, list[int]] = {}
    for member, week in conn.execute(
            "SELECT member_id, week FROM member_weeks WHERE community_id = ? "
            "ORDER BY member_id, week", (COMMUNITY,)):
        weeks.setdefault(member, []).append(week_number(date.fromisoformat(week)))
    helps: dict[str, set[int]] = {}
    referred: dict[str, int] = {}
    for member, reason, day in conn.execute(
            "SELECT member_id, reason, day FROM ledger WHERE community_id = ? AND reason IN "
            "('helpful_answer', 'welcomed_newcomer', 'referral')", (COMMUNITY,)):
        week = week_number(date.fromisoformat(day))
        if reason == "referral":
            referred[member] = min(week, referred.get(member, week))
        else:
            helps.setdefault(member, set()).add(week)
    last = week_number(FIRST_DAY + timedelta(days=DAYS - 1))
    moves, stages = [], []
    for member, joined in conn.execute(
            "SELECT member_id, first_seen_at FROM members WHERE community_id = ?",
            (COMMUNITY,)).fetchall():
        mine = set(weeks.get(member, ()))
        helped = helps.get(member, set())
        first = week_number(datetime.fromtimestamp(joined, UTC).date())
        stage, ever_regular, total = "visitor", False, 0
        moves.append((member, None, "visitor", joined, first))
        for week in range(first, last + 1):
            total += week in mine
            in_window = sum(1 for w in range(week - policy.regular_window + 1, week + 1)
                            if w in mine)
            recent = week - policy.regular_window + 1
            helps_now = any(recent <= h <= week for h in helped) or \
                referred.get(member, last + 1) <= week
            new = stage_of(Standing(total, in_window, helps_now), policy)
            ever_regular = ever_regular or RANK[new] >= RANK["regular"]
            if new != stage:  # promotions mid-week, demotions at the next Monday's sweep
                at = (_monday_epoch(week) + 43_200 if RANK[new] > RANK[stage]
                      else _monday_epoch(week + 1) + 5)
                moves.append((member, stage, new, at, week))
                stage = new
        quiet = not any(w in mine for w in range(last + 1 - policy.drift_weeks, last + 2))
        stages.append((COMMUNITY, member, stage, moves[-1][3], int(ever_regular and quiet)))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO member_stages (community_id, member_id, stage, since, drifting) "
        "VALUES (?, ?, ?, ?, ?)", stages)
    conn.executemany(
        "INSERT OR IGNORE INTO stage_history (community_id, member_id, old_stage, new_stage, "
        "at, day) VALUES (?, ?, ?, ?, ?, ?)",
        ((COMMUNITY, m, old, new, at, datetime.fromtimestamp(at, UTC).date().isoformat())
         for m, old, new, at, _ in moves))
    conn.execute("COMMIT")


def _monday_epoch(week: int) -> int:
    monday = date.fromordinal(week * 7 + 1)
    return int(datetime.combine(monday, datetime.min.time(), tzinfo=UTC).timestamp())



def measure(db: str, week: str) -> None:
    """Runs in a fresh process: one summary, its time and the process's peak memory."""
    from bot.config import Settings
    from bot.reporting import render_report

    settings = Settings.model_validate({"storage": {"url": f"sqlite:///{db}"}})
    started = time.perf_counter()
    out = asyncio.run(render_report(settings, COMMUNITY, week, "json", None))
    elapsed = time.perf_counter() - started
    summary = json.loads(out)
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb(),
                      "active": summary["active"]["count"],
                      "members": summary["members"]["total"],
                      "stages": summary["journey"]["stages"],
                      "true_fans": summary["journey"]["true_fans"],
                      "drifting": len(summary["drifting"])}))


def run_measure(db: Path, week: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(db), "--week", week],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(result.stdout.strip().splitlines()[-1])


def statistics(db: Path, *, analyze: bool) -> bool:
    """Drop the planner's statistics, or gather them all; True if any are stored after."""
    with sqlite3.connect(db) as conn:
        if analyze:
            conn.execute("ANALYZE")
        elif conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            conn.execute("DELETE FROM sqlite_stat1")
        present = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
        return bool(present and conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--week", default="2026-W47")
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--reuse", type=Path, help="measure this bench database (no build)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.week)
        return
    if args.reuse:
        db = args.reuse
        with sqlite3.connect(db) as conn:
            [(members,)] = conn.execute("SELECT count(*) FROM members").fetchall()
            [(messages,)] = conn.execute("SELECT count(*) FROM messages").fetchall()
        print(f"members: {members:,}  messages: {messages:,}  (reused {db})")
    else:
        db = args.keep or Path(tempfile.mkdtemp(prefix="tribebot-bench-")) / "big.db"
        started = time.perf_counter()
        build(db, args.members, args.messages)
        print(f"members: {args.members:,}  messages: {args.messages:,}  "
              f"built in {time.perf_counter() - started:.0f} s")
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    print(f"database size: {size / 1e6:,.0f} MB")
    runs = {}
    for label, analyze in (("no statistics", False), ("after ANALYZE", True)):
        statistics(db, analyze=analyze)
        runs[label] = numbers = run_measure(db, args.week)
        print(f"one weekly summary ({args.week}), {label}: {numbers['seconds']:.2f} s, "
              f"peak memory {numbers['peak_mb']:.0f} MB   (targets < 2 s, < 300 MB)")
    first = runs["no statistics"]
    ratio = first["seconds"] / max(runs["after ANALYZE"]["seconds"], 1e-9)
    print(f"without / with statistics: {ratio:.2f}x")
    print(f"(the week had {first['active']:,} active of {first['members']:,} members; "
          f"{first['true_fans']:,} true fans, {first['drifting']:,} drifting; "
          f"stages {first['stages']})")


if __name__ == "__main__":
    main()
