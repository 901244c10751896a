"""Restart drill: kill the bot at random points, restart it, compare with one clean run.

A realistic stream (members joining and leaving, messages, replies and reactions in the
usual shares, a moderator's commands) is written as a replay file. It is replayed once
without interruption; then again into a new database with ``kill -9`` at random moments,
each time restarted from the start of the file (as a platform re-delivers what was not
acknowledged); then the same with SIGTERM. Every member's total, the ledger (member,
reason, ref, points) and the posts sent are compared with the clean run, and every
difference is printed. The target is zero, except posts *repeated* right at a ``kill -9``:
a post that went out in the instant before the kill, whose record had not reached the
disk yet, goes out again after the restart (sending and recording cannot be one atomic
step); the drill counts those apart.

    python bench/drill.py [--events 200000] [--members 2000] [--kills 5] [--terms 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # a Monday
COMMON = ("thanks!", "+1", "hello everyone", "good morning", "same here", "תודה רבה",
          "שלום לכולם", "agreed", "nice", "lol")
WORDS = ("the", "workshop", "meetup", "code", "bug", "idea", "docs", "release", "question",
         "answer", "שאלה", "פגישה", "רעיון", "tomorrow", "today", "slides", "demo", "help")
EMOJI = ("👍", "🙏", "🔥", "❤️", "😂")


# -- the stream ------------------------------------------------------------------------

def write_stream(path: Path, events: int, members: int, seed: int) -> int:
    """A month of a community; returns the number of lines written."""
    rng = random.Random(seed)
    step = timedelta(seconds=28 * 24 * 3600 / max(events, 1))
    at = START
    out: list[dict[str, Any]] = []

    def put(kind: str, **fields: Any) -> None:
        out.append({"type": kind, "at": at.isoformat(), "community": "tribe", **fields})

    put("community_joined", name="Tribe", moderators=["mod"],
        channels=[{"id": c, "name": c} for c in ("general", "help", "random", "owners")])
    put("member_joined", member="mod", name="Mod")
    put("command", member="mod", channel="general", text="/community owners #owners")
    present: list[str] = []
    gone: list[str] = []
    weights: dict[str, float] = {}
    next_member = 0

    def join() -> None:
        nonlocal next_member
        if gone and rng.random() < 0.3:
            member = gone.pop(rng.randrange(len(gone)))
        else:
            member = f"u{next_member}"
            next_member += 1
            weights[member] = rng.paretovariate(1.2)  # a few post a lot, most a little
        present.append(member)
        put("member_joined", member=member, name=f"Member {member[1:]}")

    for _ in range(members // 5):
        join()
    recent: list[str] = []
    reacted: list[tuple[str, str, str]] = []
    for i in range(events):
        at += step
        roll = rng.random()
        if (roll < 0.01 and next_member < members) or not present:
            join()
        elif roll < 0.012 and len(present) > 10:
            member = present.pop(rng.randrange(len(present)))
            gone.append(member)
            put("member_left", member=member)
        elif roll < 0.013:
            member = rng.choice(present)
            put("command", member="mod", channel="general",
                text=f"/points give @{member} {rng.randint(5, 50)} thanks for helping")
        elif roll < 0.21 and recent:
            if reacted and rng.random() < 0.05:
                message, reactor, emoji = reacted.pop(rng.randrange(len(reacted)))
                put("reaction_removed", message=message, reactor=reactor, emoji=emoji)
                continue
            message = rng.choice(recent[-300:])
            reactor = rng.choice(present)
            emoji = rng.choice(EMOJI)
            put("reaction_added", message=message, reactor=reactor, emoji=emoji)
            reacted.append((message, reactor, emoji))
            if len(reacted) > 2000:
                del reacted[:1000]
        else:
            author = rng.choices(present, [weights[m] for m in present])[0] if len(
                present) < 400 or rng.random() < 0.5 else rng.choice(present)
            message = f"m{i}"
            text = (rng.choice(COMMON) if rng.random() < 0.15 else
                    " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12))) + f" {i}")
            record: dict[str, Any] = {"message": message, "author": author,
                                      "channel": rng.choice(("general", "general", "help",
                                                             "random")), "text": text}
            if recent and rng.random() < 0.25:
                record["reply_to"] = rng.choice(recent[-200:])
            put("message_posted", **record)
            recent.append(message)
            if len(recent) > 1000:
                del recent[:500]
    with path.open("w", encoding="utf-8") as handle:
        for record in out:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(out)


# -- one bot process -------------------------------------------------------------------

def child(stream: Path, db: Path, posts: Path) -> None:
    """Replay ``stream`` into ``db`` like ``tribebot replay``, writing every action sent to
    ``posts`` as it goes (unbuffered, so a kill -9 loses none that went out)."""
    import logging

    from bot.adapters.console.adapter import ConsoleAdapter
    from bot.config import Settings
    from bot.core.actions import Action, Delivery
    from bot.replay import replay_file

    logging.disable(logging.WARNING)
    sink = os.open(posts, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    class Recording(ConsoleAdapter):
        async def deliver(self, action: Action) -> Delivery:
            delivery = await super().deliver(action)
            sent = self.sent[-1] if self.sent else None
            if sent is not None and sent.action is action:
                line = {"at": sent.at.isoformat(), "kind": getattr(action, "kind", ""),
                        "action": type(action).__name__,
                        "to": getattr(action, "channel", None) or getattr(action, "member", ""),
                        "text": sent.text}
                os.write(sink, (json.dumps(line, ensure_ascii=False) + "\n").encode())
            return delivery

    settings = Settings.model_validate({"storage": {"url": f"sqlite:///{db}"}})
    report = asyncio.run(replay_file(settings, stream, echo=False, adapter_type=Recording))
    print(json.dumps({"events": report.events, "duplicates": report.duplicates,
                      "commands": report.commands, "errors": len(report.errors),
                      "stopped_early": report.stopped_early}), flush=True)


def launch(stream: Path, db: Path, posts: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "child", str(stream), str(db),
         str(posts)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


# -- runs and what they left -----------------------------------------------------------

@dataclass
class Outcome:
    totals: dict[str, int]
    ledger: Counter[tuple[str, str, str, int]]
    posts: list[tuple[str, ...]]
    seconds: float
    interruptions: int = 0
    duplicates: int = 0


def read_outcome(db: Path, posts: Path, seconds: float, interruptions: int = 0,
                 duplicates: int = 0) -> Outcome:
    with sqlite3.connect(db) as conn:
        totals = dict(conn.execute(
            "SELECT member_id, points FROM point_totals WHERE points != 0").fetchall())
        ledger = Counter((m, r, "cmd" if ref.startswith("cmd:") else ref, d)
                         for m, r, ref, d in conn.execute(
                             "SELECT member_id, reason, ref, delta FROM ledger"))
    sent = [tuple(str(v) for v in json.loads(line).values())
            for line in posts.read_text("utf-8").splitlines() if line.strip()]
    return Outcome(totals, ledger, sent, seconds, interruptions, duplicates)


def clean_run(stream: Path, folder: Path) -> Outcome:
    db, posts = folder / "clean.db", folder / "clean.posts.jsonl"
    started = time.perf_counter()
    proc = launch(stream, db, posts)
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"the clean run failed ({proc.returncode}):\n{err[-3000:]}")
    return read_outcome(db, posts, time.perf_counter() - started)


def handled(db: Path) -> int:
    """How many events the store has recorded as handled (read while the bot writes)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM seen_events").fetchone()[0])
    except sqlite3.Error:
        return 0


def interrupted_run(stream: Path, folder: Path, name: str, sig: signal.Signals, times: int,
                    lines: int, rng: random.Random) -> Outcome:
    """Replay with ``times`` signals, each once the store holds a random share of the
    events (the moments spread over the whole file), restarting from the file's start."""
    db, posts = folder / f"{name}.db", folder / f"{name}.posts.jsonl"
    started = time.perf_counter()
    interruptions = duplicates = 0
    targets = sorted(rng.uniform(0.05, 0.95) * lines for _ in range(times))
    for attempt in range(times + 1):
        proc = launch(stream, db, posts)
        if attempt < times:
            while proc.poll() is None and handled(db) < targets[attempt]:
                time.sleep(rng.uniform(0.01, 0.1))
            if proc.poll() is None:
                proc.send_signal(sig)
        out, err = proc.communicate()
        if proc.returncode == -sig or (sig == signal.SIGTERM and "stopped_early\": true" in out):
            interruptions += 1
        elif proc.returncode != 0:
            raise SystemExit(f"{name}: the bot failed ({proc.returncode}):\n{err[-3000:]}")
        if out.strip():
            duplicates = json.loads(out.strip().splitlines()[-1])["duplicates"]
    return read_outcome(db, posts, time.perf_counter() - started, interruptions, duplicates)


def compare(name: str, clean: Outcome, other: Outcome) -> dict[str, int]:
    """Print every difference from the clean run; returns the counts."""
    members = set(clean.totals) | set(other.totals)
    totals = {m: (clean.totals.get(m, 0), other.totals.get(m, 0)) for m in members
              if clean.totals.get(m, 0) != other.totals.get(m, 0)}
    missing_rows = clean.ledger - other.ledger
    extra_rows = other.ledger - clean.ledger
    want, got = Counter(clean.posts), Counter(other.posts)
    missing_posts = want - got
    surplus = got - want
    repeated = Counter({p: n for p, n in surplus.items() if p in want})
    extra_posts = surplus - repeated
    print(f"\n{name}: {other.interruptions} interruptions, {other.seconds:.1f} s; "
          f"last restart skipped {other.duplicates:,} re-delivered events")
    print(f"  members whose total differs: {len(totals)}")
    for member, (a, b) in sorted(totals.items())[:10]:
        print(f"    {member}: {a} in the clean run, {b} here")
    print(f"  ledger rows missing: {sum(missing_rows.values())}   "
          f"extra: {sum(extra_rows.values())}")
    for row in list(missing_rows)[:5]:
        print(f"    missing {row}")
    for row in list(extra_rows)[:5]:
        print(f"    extra   {row}")
    print(f"  posts missing: {sum(missing_posts.values())}   extra: "
          f"{sum(extra_posts.values())}   repeated at a kill: {sum(repeated.values())}")
    for post in list(missing_posts)[:5]:
        print(f"    missing {post}")
    for post in list(extra_posts)[:5]:
        print(f"    extra   {post}")
    for post in list(repeated)[:5]:
        print(f"    repeated {post}")
    return {"totals": len(totals), "ledger_missing": sum(missing_rows.values()),
            "ledger_extra": sum(extra_rows.values()),
            "posts_missing": sum(missing_posts.values()),
            "posts_extra": sum(extra_posts.values()), "posts_repeated": sum(repeated.values()),
            "interruptions": other.interruptions}


def drill(events: int, members: int, kills: int, terms: int, seed: int,
          folder: Path) -> dict[str, dict[str, int]]:
    stream = folder / "stream.jsonl"
    lines = write_stream(stream, events, members, seed)
    print(f"stream: {lines:,} lines ({events:,} events, up to {members:,} members)")
    clean = clean_run(stream, folder)
    print(f"clean run: {clean.seconds:.1f} s, {len(clean.totals):,} members with points, "
          f"{sum(clean.ledger.values()):,} ledger rows, {len(clean.posts):,} posts")
    rng = random.Random(seed)
    results = {}
    if kills:
        results["kill -9"] = compare("kill -9", clean, interrupted_run(
            stream, folder, "killed", signal.SIGKILL, kills, lines, rng))
    if terms:
        results["SIGTERM"] = compare("SIGTERM", clean, interrupted_run(
            stream, folder, "terminated", signal.SIGTERM, terms, lines, rng))
    return results


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "child":
        child(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--kills", type=int, default=5, help="kill -9 this many times")
    parser.add_argument("--terms", type=int, default=2, help="SIGTERM this many times")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = drill(args.events, args.members, args.kills, args.terms, args.seed, args.keep)
    else:
        with tempfile.TemporaryDirectory() as folder:
            results = drill(args.events, args.members, args.kills, args.terms, args.seed,
                            Path(folder))
    lost = sum(r[k] for r in results.values() for k in r
               if k not in ("posts_repeated", "interruptions"))
    print(f"\ndifferences from the clean run (not counting posts repeated at a kill): {lost}")
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
