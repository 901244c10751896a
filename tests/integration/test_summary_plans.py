"""The weekly summary's queries read index ranges, even without the planner's statistics.

A bot's database is rarely ANALYZEd. Without statistics SQLite guesses, and one bad guess
— a correlated max over the day-first rollup per drifting member, or counting a content
post's replies by scanning every message — turned a 2 s summary into minutes on a
100,000-member database (``bench/summary.py`` measures that). Here every statement the
summary runs is explained on a database without statistics: none may read a large
table's whole community, except the three reads that are whole by design.
"""

import re
import sqlite3

import aiosqlite
import pytest

from bot.reporting import render_report
from tests.conftest import COMMUNITY, Community
from tests.integration.test_summary import a_regular_goes_quiet

WHOLE_COMMUNITY = re.compile(r"USING (PRIMARY KEY|(COVERING )?INDEX \S+) \(community_id=\?\)$")
#: Tables with a row per community or setting, read whole when a report opens the store.
SMALL = re.compile(r"FROM (sqlite_master|communities|community_settings)\b")
BY_DESIGN = {
    "SEARCH w USING COVERING INDEX member_weeks_by_member (community_id=?)",  # the journey pass
    "SEARCH members USING PRIMARY KEY (community_id=?)",  # a count of members
    # the joins and leaves of those who ever left (a small table, read as one range)
    "SEARCH member_events USING COVERING INDEX sqlite_autoindex_member_events_1 "
    "(community_id=?)",
}


def scans_a_table(line: str) -> bool:
    """A plain table scan (not of a subquery, a CTE or a virtual table like json_each)."""
    return line.startswith("SCAN ") and "(" not in line and "VIRTUAL TABLE" not in line


async def test_no_summary_query_scans_a_community_without_statistics(
        tribe: Community, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    await a_regular_goes_quiet(tribe)  # someone drifting, a move of every kind
    statements: list[str] = []
    connect = aiosqlite.connect

    async def watched(*args: object, **kwargs: object) -> aiosqlite.Connection:
        conn = await connect(*args, **kwargs)
        await conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(aiosqlite, "connect", watched)
    report = await render_report(settings, COMMUNITY, "2026-W49", "json", None)
    assert '"drifting": [\n    {' in report  # the drifting members' query ran too
    queries = {s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))
               and not SMALL.search(s)}
    assert len(queries) > 15
    path = tribe.runtime.repository.path
    with sqlite3.connect(path) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            conn.execute("DELETE FROM sqlite_stat1")  # as if never analyzed
    with sqlite3.connect(path) as conn:
        wasteful = {}
        for query in queries:
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}")]
            bad = [line for line in plan if scans_a_table(line)
                   or (WHOLE_COMMUNITY.search(line) and line not in BY_DESIGN)]
            if bad:
                wasteful[" ".join(query.split())[:120]] = bad
    assert wasteful == {}
