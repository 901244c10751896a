"""The command line end to end: replay, demo, config checks, database commands."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.demo.sample import sample_community

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "events.jsonl"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_help_lists_every_command() -> None:
    code, output = run("--help")
    assert code == 0
    for command in ("run", "demo", "replay", "check-config", "db"):
        assert command in output
    code, output = run("db", "--help")
    assert all(word in output for word in ("migrate", "stats", "recompute"))


def test_replay_of_the_documented_example(tmp_path: Path) -> None:
    code, output = run("replay", str(EXAMPLE), "--db", str(tmp_path / "x.db"))
    assert code == 0, output
    assert "replayed 14 events and 1 commands" in output
    assert "level 0, " in output and "Rank #" in output  # the /rank reply was printed
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 3
        assert conn.execute("SELECT deleted_at IS NOT NULL FROM messages "
                            "WHERE message_id = 'console:m3'").fetchone()[0] == 1
        assert conn.execute("SELECT left_at IS NOT NULL FROM communities").fetchone()[0] == 1
        assert conn.execute("SELECT inviter_id FROM invites").fetchone()[0] == "console:dana"
        assert conn.execute("SELECT count(*) FROM members WHERE present = 0").fetchone()[0] == 1


def test_replaying_the_same_file_again_counts_duplicates_and_posts_nothing(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "x.db")
    assert run("replay", str(EXAMPLE), "--db", db)[0] == 0
    code, output = run("replay", str(EXAMPLE), "--db", db)
    assert code == 0, output
    assert "replayed 0 events and 0 commands from events.jsonl (15 duplicates ignored" in (
        " ".join(output.split()))
    assert "Welcome" not in output and "reply to @" not in output, "nothing said twice"


def test_example_file_documents_every_event_type() -> None:
    from bot.adapters.console.records import RECORD_TYPES

    types = {json.loads(line)["type"] for line in EXAMPLE.read_text("utf-8").splitlines()}
    assert types == set(RECORD_TYPES)


def test_bad_replay_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "message_posted", "at": "2026-11-02T08:12:00Z", "community": "c"}\n'
        "not json\n"
        '{"type": "member_joined", "at": "2026-11-02T08:12:00", "community": "c", '
        '"member": "a"}\n'
        '{"type": "member_joined", "at": "2026-11-02T08:12:00Z", "community": "c", '
        '"member": "a"}\n', encoding="utf-8")
    code, output = run("replay", str(bad), "--db", str(tmp_path / "x.db"), "--quiet")
    assert code == 2
    assert 'bad.jsonl:1: message_posted needs "message"' in output
    assert "bad.jsonl:2: not valid JSON" in output
    assert "bad.jsonl:3: \"at\" needs a time zone" in output
    assert "replayed 1 events" in output  # the good line still went through
    assert "Traceback" not in output


def test_check_config_reports_problems_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[bot]\ntimezone = "Nowhere/City"\n[discord]\nenabled = true\n',
                      encoding="utf-8")
    code, output = run("check-config", str(config))
    assert code == 2
    assert "config.toml: [bot] timezone: unknown time zone 'Nowhere/City'" in output
    assert "Traceback" not in output
    code, output = run("check-config", str(ROOT / "config.example.toml"))
    assert code == 0 and "OK" in output


def test_newer_database_is_refused_without_traceback(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 42")
    code, output = run("db", "stats", "--db", str(db))
    assert code == 2
    assert "newer Tribebot" in output and "Traceback" not in output


def test_db_migrate_stats_and_recompute(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    code, output = run("db", "migrate", "--db", db)
    assert code == 0 and output.startswith("applied ")
    assert "0001_initial.sql, 0002_journey.sql" in output
    assert run("db", "migrate", "--db", db)[1] == "the database is up to date\n"
    run("replay", str(EXAMPLE), "--db", db, "--quiet")
    code, output = run("db", "stats", "--db", db)
    assert code == 0 and "messages" in output
    code, output = run("db", "recompute", "--db", db)
    assert code == 0 and "totals match the ledger" in output


def test_demo_runs_to_the_end(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    started = time.perf_counter()
    code, output = run("demo", "--db", str(db), "--quiet")
    assert code == 0, output
    assert time.perf_counter() - started < 60
    assert "Top members this season" in output
    assert "Sorry, only moderators can use /points give." in output
    assert str(db.resolve()) in output.replace("\n", "")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM members").fetchone()[0] >= 60


def test_sample_community_has_the_promised_shape() -> None:
    records = sample_community()
    days = {r["at"][:10] for r in records}
    assert len(days) >= 6 * 7
    texts = [r.get("text", "") for r in records if r["type"] == "message_posted"]
    assert any(any("\u0590" <= ch <= "\u05ff" for ch in t) for t in texts)  # Hebrew
    assert any(t.isascii() for t in texts)  # English
    assert len({r["member"] for r in records if r["type"] == "member_joined"}) >= 60


def test_sigint_mid_replay_loses_nothing(tmp_path: Path) -> None:
    events = tmp_path / "big.jsonl"
    with events.open("w", encoding="utf-8") as handle:
        for i in range(40_000):
            handle.write(json.dumps({
                "type": "message_posted", "at": f"2026-11-02T08:{i // 1000 % 60:02d}:00Z",
                "community": "c", "message": f"m{i}", "author": f"u{i % 300}",
                "channel": "general", "text": f"message number {i}"}) + "\n")
    db = tmp_path / "x.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "replay", str(events), "--db", str(db), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until rows are being committed
        time.sleep(0.05)
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM messages").fetchone()[0] > 0:
                    break
        except sqlite3.OperationalError:
            continue
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert "stopped early" in output
    replayed = int(output.split("replayed ")[1].split(" events")[0])
    assert 0 < replayed < 40_000
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == replayed


def test_run_with_an_unreachable_platform_says_so_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "x.db"}"\n'
                      '[telegram]\nenabled = true\ntoken = "123:abc"\n'
                      'api_base_url = "http://127.0.0.1:9/bot"\n', encoding="utf-8")
    code, output = run("run", "--config", str(config))
    assert code == 1
    assert "telegram could not start" in output and "api_base_url" in output
    assert "Traceback" not in output and "123:abc" not in output


def test_run_without_any_platform_is_bad_input(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[bot]\nlanguage = \"he\"\n", encoding="utf-8")
    code, output = run("run", "--config", str(config))
    assert code == 2 and "no platform is enabled" in output


def test_hostile_replay_lines_are_each_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    from tests.unit.test_replay_records import BAD_LINES, line

    bad = tmp_path / "hostile.jsonl"
    cases = [(name, data, expected) for name, (data, expected) in BAD_LINES.items()
             if name != "line too long"]
    bad.write_bytes(b"".join(data for _, data, _ in cases) + line(message="m-good"))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "replay", str(bad), "--db", str(tmp_path / "x.db"),
         "--quiet"], capture_output=True, timeout=60, cwd=ROOT, check=False)
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    assert done.returncode == 2, output
    assert "Traceback" not in output
    joined = " ".join(output.split())  # rich wraps long lines
    for number, (name, _, expected) in enumerate(cases, start=1):
        assert f"hostile.jsonl:{number}: " in joined, name
        assert " ".join(expected.split()) in joined, name
    assert "replayed 1 events" in output
    assert f"{len(cases)} bad lines" in joined


def test_sigterm_while_another_program_locks_the_database_stops_and_keeps_the_rows(
    tmp_path: Path,
) -> None:
    """The lock is taken mid-replay (a database locked before the start is refused at once
    with one sentence: tests/e2e/test_bad_database.py)."""
    events = tmp_path / "big.jsonl"
    with events.open("w", encoding="utf-8") as handle:
        for i in range(40_000):
            handle.write(json.dumps({
                "type": "message_posted", "at": f"2026-11-02T08:{i // 1000 % 60:02d}:00Z",
                "community": "c", "message": f"m{i}", "author": f"u{i % 300}",
                "channel": "general", "text": f"message number {i}"}) + "\n")
    db = tmp_path / "x.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{db}"\nstop_timeout_seconds = 1\n',
                      encoding="utf-8")
    command = [sys.executable, "-m", "bot", "replay", str(events), "--config", str(config),
               "--quiet"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until rows are being committed
        time.sleep(0.05)
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM messages").fetchone()[0] > 0:
                    break
        except sqlite3.OperationalError:
            continue
    locker = sqlite3.connect(db, timeout=30, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # like a database browser with unsaved changes
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                              daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("cannot write to the store" in line for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            time.sleep(0.05)  # the bot now queues what it cannot write
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        took = time.monotonic() - asked
        reader.join(timeout=10)
        output = "".join(lines)
        saved = locker.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert took < 20, f"the stop took {took:.0f} s"
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    spill = Path(f"{db}.unsaved.jsonl")
    assert "the next start writes them" in " ".join(output.split())
    assert spill.exists() and spill.stat().st_size > 0
    code, stats = run("db", "stats", "--db", str(db))  # the next start writes them
    assert code == 0, stats
    assert not spill.exists()
    with sqlite3.connect(db) as conn:
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        seen = conn.execute("SELECT count(*) FROM seen_events "
                            "WHERE key LIKE 'MessagePosted:%'").fetchone()[0]
    assert messages > saved, "the kept rows were written"
    assert seen == messages, "every message was kept with its key: whole events only"
