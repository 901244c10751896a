"""History import benchmark: a generated Telegram Desktop export through `tribebot import`'s
pipeline (parser, translator, bus, cogs, batched writer), beside a raw insert of the rows it
wrote, and where the time goes.

    python bench/import.py [--messages 1000000] [--members 3000] [--profile 100000]

1. writes a realistic export (a year; replies, reactions with recent reactors, joins and
   leaves, Hebrew and English text, entity lists, photos) as Telegram Desktop writes it;
2. imports it in a process of its own and reports messages/s and that process's peak
   memory (its own high-water mark, VmHWM, from the kernel);
3. copies the fact rows the import stored into a fresh database with sqlite3.executemany
   in batches of the same size (the ceiling: no parser, no Python per event);
4. with --profile N, imports the first N messages again under cProfile and sums the time
   spent per part of the pipeline.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.peak import peak_mb  # noqa: E402
from storage.database import PRAGMAS, migrations  # noqa: E402

START = datetime(2025, 10, 6, 6, 0, tzinfo=UTC)
LOCAL = timedelta(hours=3)  # the exporting computer's clock (reactors' dates are local)
WORDS = ("שלום", "תודה רבה", "hello", "thanks!", "great idea", "מתי המפגש?", "see the docs",
         "I agree", "איזה יופי", "how do I", "🙂", "good morning", "בוקר טוב", "let's meet")
CHAT_ID = 1987654321
#: Tables of facts the import stores (rollups are kept by triggers in both databases).
FACT_TABLES = ("communities", "channels", "community_settings", "members", "member_events",
               "invites", "messages", "reactions", "reaction_counts", "ledger",
               "member_stages", "stage_history", "first_messages", "seen_events")


def _stamp(at: datetime) -> tuple[str, str]:
    return (at + LOCAL).replace(tzinfo=None).isoformat(), str(int(at.timestamp()))


#: How often the generated group speaks: a million messages a year, whatever the size asked.
SECONDS_PER_MESSAGE = 365 * 24 * 3600 / 1_000_000


def write_export(path: Path, messages: int, members: int, seed: int = 3) -> int:
    """A busy group (a million messages a year), as Telegram Desktop writes result.json;
    returns its size."""
    rng = random.Random(seed)
    step = SECONDS_PER_MESSAGE
    names = [f"Member {n}" if n % 3 else f"חבר {n}" for n in range(members)]
    joined: list[int] = []
    waiting = list(range(members))
    rng.shuffle(waiting)
    recent: list[int] = []
    at = START
    with path.open("wb") as out:
        out.write(b'{\n "name": "Bench Group",\n "type": "private_supergroup",\n'
                  + f' "id": {CHAT_ID},\n "messages": [\n'.encode())
        number = 0
        for i in range(messages):
            at += timedelta(seconds=step * rng.uniform(0.5, 1.5))
            date, unix = _stamp(at)
            number += 1
            if waiting and (not joined or rng.random() < 0.004):
                member = waiting.pop()
                joined.append(member)
                action = rng.choice(("invite_members", "join_group_by_link"))
                item: dict[str, Any] = {"id": number, "type": "service", "date": date,
                                        "date_unixtime": unix, "actor": names[member],
                                        "actor_id": f"user{10_000 + member}", "action": action}
                if action == "invite_members":
                    item["members"] = [names[member]]
                else:
                    item["inviter"] = names[joined[0]]
                _write(out, item, first=i == 0)
                continue
            author = rng.choice(joined[-400:]) if rng.random() < 0.7 else rng.choice(joined)
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9)))
            item = {"id": number, "type": "message", "date": date, "date_unixtime": unix,
                    "from": names[author], "from_id": f"user{10_000 + author}"}
            if recent and rng.random() < 0.25:
                item["reply_to_message_id"] = rng.choice(recent[-300:])
            if rng.random() < 0.08:
                item["photo"] = "(File not included. Change data exporting settings to download.)"
                item["width"], item["height"] = 1280, 960
            if rng.random() < 0.15:
                text: Any = [words, {"type": "link", "text": "https://example.org"}]
                entities = [{"type": "plain", "text": words},
                            {"type": "link", "text": "https://example.org"}]
            else:
                text, entities = words, [{"type": "plain", "text": words}]
            item["text"], item["text_entities"] = text, entities
            if rng.random() < 0.3:
                item["reactions"] = _reactions(rng, joined, names, at)
            _write(out, item, first=i == 0)
            recent.append(number)
            if len(recent) > 1000:
                del recent[:500]
        out.write(b"\n ]\n}\n")
    return path.stat().st_size


def _reactions(rng: random.Random, joined: list[int], names: list[str], at: datetime
               ) -> list[dict[str, Any]]:
    out = []
    for emoji in rng.sample(("👍", "❤️", "🔥", "😂", "🙏"), rng.randint(1, 2)):
        count = rng.randint(1, 6)
        who = rng.sample(joined[-200:], min(count, 3, len(joined[-200:])))
        out.append({"type": "emoji", "count": max(count, len(who)), "emoji": emoji,
                    "recent": [{"from": names[m], "from_id": f"user{10_000 + m}",
                                "date": _stamp(at + timedelta(minutes=rng.randint(1, 600)))[0]}
                               for m in who]})
    return out


def _write(out: Any, item: dict[str, Any], *, first: bool) -> None:
    if not first:
        out.write(b",\n")
    out.write(orjson.dumps(item, option=orjson.OPT_INDENT_2))


# -- the import, in a process of its own -------------------------------------------------
def import_in_process(export: Path, db: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--run-import", str(export), str(db)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_import(export: Path, db: Path, limit: int | None = None) -> dict[str, Any]:
    """What the child process runs: the import as `tribebot import telegram` does it."""
    import asyncio

    from bot.config import Settings
    from bot.importing.runner import BATCH, Importer
    from bot.importing.sources import TelegramSource

    settings = Settings.model_validate({"storage": {"url": f"sqlite:///{db}"},
                                        "bot": {"log_level": "warning"}})
    source = TelegramSource(export)
    if limit is not None:
        records = source.records

        def first_records() -> Any:
            for index, record in enumerate(records()):
                if index >= limit:
                    return
                yield record

        source.records = first_records  # type: ignore[method-assign]
    started = time.perf_counter()
    report = asyncio.run(Importer(settings, source).run())
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "messages": report.messages, "reactions": report.reactions,
            "joins": report.joins, "members": len(report.members), "peak_mb": peak_mb(),
            "batch": BATCH}



# -- the ceiling: the same rows, raw ---------------------------------------------------
def raw_copy(source_db: Path, target_db: Path, batch_events: int) -> tuple[float, int]:
    """Insert the import's fact rows into a fresh schema, in transactions of about as many
    rows as an import batch wrote. Returns (seconds, rows)."""
    source = sqlite3.connect(source_db)
    tables = {t: source.execute(f"SELECT * FROM {t}").fetchall() for t in FACT_TABLES}
    source.close()
    total = sum(len(rows) for rows in tables.values())
    messages = max(len(tables["messages"]), 1)
    per_batch = max(int(total / messages * batch_events), 1)
    target = sqlite3.connect(target_db, isolation_level=None)
    for pragma in PRAGMAS:
        target.execute(f"PRAGMA {pragma}")
    for migration in migrations():
        target.executescript(migration.sql)
    ordered = [(t, row) for t in FACT_TABLES for row in tables[t]]
    started = time.perf_counter()
    for i in range(0, len(ordered), per_batch):
        groups: dict[str, list[Any]] = defaultdict(list)
        for table, row in ordered[i:i + per_batch]:
            groups[table].append(row)
        target.execute("BEGIN")
        for table, rows in groups.items():
            marks = ",".join("?" * len(rows[0]))
            target.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", rows)
        target.execute("COMMIT")
    elapsed = time.perf_counter() - started
    target.close()
    return elapsed, total


# -- where the time goes -----------------------------------------------------------------
#: Entry points of the pipeline's parts, by (file suffix, function): their cumulative time
#: (a coroutine is timed while it runs, not while it waits).
PARTS = (
    ("parse: ijson reading the file", "adapters/telegram/history.py", "messages"),
    ("translate: export -> events", "adapters/telegram/history.py", "translate"),
    ("publish + recorder (queue rows)", "core/bus.py", "publish"),
    ("cogs, through the bus", "core/bus.py", "_consume"),
    ("writer, on the event loop", "storage/writer.py", "_run"),
    ("runner: store checks", "importing/runner.py", "_new_only"),
    ("timers (advance_to)", "bot/runtime.py", "advance_to"),
)


def profile(export: Path, db: Path, limit: int) -> None:
    import bot.importing.runner
    import bot.importing.sources

    bot.importing.runner.import_cogs()  # imports before the profiler starts
    profiler = cProfile.Profile()
    profiler.enable()
    result = run_import(export, db, limit)
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in entries.values())
    waiting = sum(row[2] for (file, _, name), row in entries.items()
                  if "poll' of 'select" in name)
    print(f"profile of the first {result['messages']:,} messages "
          f"({result['seconds']:.1f} s under cProfile, {total:.1f} s of main-thread time; "
          "SQLite itself runs in aiosqlite's thread):")
    print(f"  {'main thread waiting for SQLite':<34} {waiting:7.2f} s  {waiting / total:6.1%}")
    for label, suffix, function in PARTS:
        spent = sum(row[3] for (file, _, name), row in entries.items()
                    if file.endswith(suffix) and name == function)
        print(f"  {label:<34} {spent:7.2f} s  {spent / total:6.1%}")
    print("  top functions by own time:")
    stats.sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=3_000)
    parser.add_argument("--profile", type=int, default=0,
                        help="also profile the import of this many messages (0: no)")
    parser.add_argument("--keep", type=Path, help="write the export here and keep it")
    parser.add_argument("--run-import", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_import:
        print(json.dumps(run_import(*args.run_import)))
        return
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        export = args.keep or tmp / "result.json"
        started = time.perf_counter()
        size = write_export(export, args.messages, args.members)
        print(f"export: {args.messages:,} messages, {size / 2**20:,.0f} MB, written in "
              f"{time.perf_counter() - started:.0f} s")
        result = import_in_process(export, tmp / "import.db")
        rate = result["messages"] / result["seconds"]
        print(f"imported: {result['messages']:,} messages, {result['reactions']:,} reactions, "
              f"{result['joins']:,} joins, {result['members']:,} members "
              f"in {result['seconds']:.1f} s")
        print(f"import end to end (parse + bus + cogs + writer): {rate:>10,.0f} messages/s "
              f"(target >= 20,000)")
        print(f"peak memory of the importing process:   {result['peak_mb']:>10,.0f} MB "
              f"(target < 300)")
        raw_s, rows = raw_copy(tmp / "import.db", tmp / "raw.db", result["batch"])
        raw_rate = result["messages"] / raw_s
        print(f"raw sqlite3.executemany, same {rows:,} rows: {raw_rate:>10,.0f} messages/s")
        print(f"import / raw ceiling: {rate / raw_rate:6.1%}")
        if args.profile:
            profile(export, tmp / "profile.db", args.profile)


if __name__ == "__main__":
    main()
