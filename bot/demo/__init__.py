"""`tribebot demo`: the whole bot on a bundled sample community, offline, in seconds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.adapters.console.adapter import ConsoleAdapter, ReplayReport
from bot.adapters.console.records import CommandLine, parse_record
from bot.config import Settings
from bot.core.clock import SimulatedClock
from bot.demo.sample import COMMUNITY, sample_community
from bot.runtime import Runtime


def export(path: Path) -> int:
    """Write the sample community as a replay file; returns the number of records."""
    records = sample_community()
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)


async def run_demo(settings: Settings, *, console: Console, echo: bool = True) -> ReplayReport:
    records = sample_community()
    start = datetime.fromisoformat(records[0]["at"].replace("Z", "+00:00"))
    runtime = Runtime(settings, clock=SimulatedClock(start))
    await runtime.start()
    adapter = ConsoleAdapter(runtime, console=console, echo=echo)
    report = ReplayReport()
    console.rule("[bold]Makers Hub — eight weeks in the life of a community")
    try:
        for number, record in enumerate(records, start=1):
            if isinstance(record.get("moderators"), list):
                for member in record["moderators"]:
                    adapter.add_moderator(member)
            item = parse_record(record, f"sample:{number}")
            await adapter.feed(item, report)
        adapter.echo = True
        console.rule("[bold]Moderators and members use commands")
        last = runtime.clock.now()
        for member, text in (("u1", "/top"), ("u3", "/rank"), ("u3", "/points give u4 50 thanks"),
                             ("u1", "/points give u4 50 great workshop"), ("u4", "/rank"),
                             ("u1", "/top week")):
            await adapter.feed(CommandLine(community=COMMUNITY, channel="console:general",
                                           member=f"console:{member}", text=text, at=last),
                               report)
        adapter.echo = echo
        console.rule("[bold]Monday 09:00 — the weekly summary for the owners")
        monday = last + timedelta(days=(7 - last.weekday()) % 7 or 7)
        await runtime.advance_to(monday.replace(hour=9, minute=5))
        await runtime.bus.drain()
        counts = await runtime.repository.counts()
    finally:
        await runtime.stop()
    table = Table(title="What the bot recorded")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name in ("members", "messages", "reactions", "ledger", "daily_activity"):
        table.add_row(name, f"{counts[name]:,}")
    console.print(table)
    console.print(f"{report.events:,} events replayed, {report.commands} commands, "
                  f"{adapter.posts:,} posts by the bot.")
    return report
