"""The benchmarks run end to end on a small input (they reach into the writer, so a
refactor can break them; CI would not notice otherwise). No timing is asserted."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("TRIBEBOT_TEST_POSTGRES_URL")


def test_ingest_bench_prints_both_ratios_for_both_pipelines() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest.py"), "--events", "2000",
         "--members", "40", "--naive-events", "300", "--batch", "500", "--repeat", "2"],
        capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert "events: 2,000" in done.stdout
    for pipeline in ("replay", "platforms"):
        assert f"{pipeline} / raw ceiling:" in done.stdout
        assert f"{pipeline} / naive:" in done.stdout
    assert done.stdout.count("peak RSS") == 2 and done.stdout.count("CPU per event") == 2
    assert "2 runs, min / median / max" in done.stdout
    assert done.stdout.count("runs: ") == 4  # both ratios of both pipelines, per run


@pytest.mark.skipif(not POSTGRES_URL, reason="TRIBEBOT_TEST_POSTGRES_URL is not set: no "
                    "PostgreSQL server to run the ingest bench on")
def test_ingest_bench_on_postgresql_prints_the_ratios_and_drops_its_databases() -> None:
    import asyncpg

    async def bench_databases() -> list[str]:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            rows = await conn.fetch("SELECT datname FROM pg_database "
                                    "WHERE datname LIKE 'tribebot_bench_%'")
        finally:
            await conn.close()
        return sorted(row[0] for row in rows)

    before = asyncio.run(bench_databases())
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest.py"), "--events", "1000",
         "--members", "30", "--naive-events", "100", "--batch", "500", "--repeat", "1",
         "--only", "replay", "--store", str(POSTGRES_URL)],
        capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert "store: PostgreSQL" in done.stdout
    assert "raw asyncpg" in done.stdout
    assert "replay / raw ceiling:" in done.stdout and "replay / naive:" in done.stdout
    assert "platforms" not in done.stdout
    assert asyncio.run(bench_databases()) == before


def test_summary_bench_builds_and_reports() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "summary.py"), "--members", "300",
         "--messages", "20000"],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "one weekly summary (" in done.stdout and "peak memory" in done.stdout


def test_import_bench_imports_and_compares_with_the_raw_insert() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "import.py"), "--messages", "2000",
         "--members", "60", "--profile", "500"],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "messages/s" in done.stdout and "import / raw ceiling:" in done.stdout
    assert "peak memory of the importing process:" in done.stdout
    assert "profile of the first" in done.stdout and "cogs" in done.stdout


def test_drill_kills_and_restarts_and_finds_no_difference() -> None:
    """The restart drill, small: a kill -9 and a SIGTERM mid-stream, each restarted from
    the start of the file, end with the same totals, ledger and posts as one clean run."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "drill.py"), "--events", "2500",
         "--members", "150", "--kills", "1", "--terms", "1", "--seed", "3"],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kill -9: 1 interruptions" in done.stdout, done.stdout
    assert "SIGTERM: 1 interruptions" in done.stdout, done.stdout
    assert "differences from the clean run (not counting posts repeated at a kill): 0" in (
        done.stdout)


def test_memory_bench_prints_the_growth_per_event() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "memory.py"), "--events", "3000",
         "--members", "100", "--checkpoints", "1000,3000"],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "bytes per event" in done.stdout and "3,000 events" in done.stdout
