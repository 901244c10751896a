"""`tribebot import` as an owner runs it: in a subprocess, on the hand-written exports, then
`tribebot report --week` of an imported week."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.export_builders import FIXTURES, day, tg_export, tg_message, write

TELEGRAM = FIXTURES / "telegram_result.json"
COMMUNITY = "telegram:-1001234567"


def tribebot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[storage]\nurl = "sqlite:///tribe.db"\n\n[engagement]\n'
                    "message_points_min = 20\nmessage_points_max = 20\n", encoding="utf-8")
    return path


def test_import_then_the_weekly_report_of_an_imported_week(tmp_path: Path) -> None:
    conf = config(tmp_path)
    done = tribebot("import", "telegram", str(TELEGRAM), "--community", COMMUNITY,
                    "--bot", "999", "--config", str(conf), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "9 messages imported." in done.stdout
    assert "4 reactions known only as counts (recorded, no points)." in done.stdout
    assert "Nothing was posted to the platform." in done.stdout
    report = tribebot("report", "--community", COMMUNITY, "--week", "2026-W41",
                      "--format", "json", "--config", str(conf), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    week = json.loads(report.stdout)
    assert week["members"] == {"total": 2, "joined": 2, "left": 1, "net": 1}
    assert week["active"]["count"] == 2
    # Mona: two messages (20 each), a reply (+5), Dana's 👍 (+2), a helpful answer (+10);
    # Dana: a message, a photo without text (too short: 0), a reply (20 + 5)
    assert [(t["name"], t["points"], t["messages"]) for t in week["top_contributors"]] == [
        ("Mona", 57, 2), ("Dana", 45, 3)]
    assert week["first_messages"]["count"] == 1
    assert week["first_messages"]["never_answered"] == 0
    assert week["first_messages"]["median_minutes_to_first_response"] == 10


def test_a_truncated_export_exits_2_keeps_what_came_before_and_resumes(tmp_path: Path) -> None:
    conf = config(tmp_path)
    text = TELEGRAM.read_text(encoding="utf-8")
    cut = tmp_path / "result.json"
    cut.write_text(text[:text.index('"id": 9,')], encoding="utf-8")
    broken = tribebot("import", "telegram", str(cut), "--bot", "999", "--config", str(conf),
                      cwd=tmp_path)
    assert broken.returncode == 2
    assert "result.json breaks off or stops being valid JSON after message 8" in broken.stderr
    assert "run the same command: it goes on where it stopped" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert "4 messages imported." in broken.stdout
    cut.write_text(text, encoding="utf-8")
    resumed = tribebot("import", "telegram", str(cut), "--bot", "999", "--config", str(conf),
                       cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "5 messages imported." in resumed.stdout
    assert "Already in the database, so not imported again: 4 messages" in resumed.stdout


def test_wrong_community_and_whole_account_exports_say_what_to_type(tmp_path: Path) -> None:
    conf = config(tmp_path)
    wrong = tribebot("import", "telegram", str(TELEGRAM), "--community", "telegram:1234567",
                     "--config", str(conf), cwd=tmp_path)
    assert wrong.returncode == 2
    assert "--community telegram:-1001234567" in wrong.stderr
    account = write(tmp_path / "account.json", {
        "about": "", "chats": {"about": "", "list": [
            tg_export([tg_message(1, day(5), 100, "Mona")]),
            tg_export([tg_message(1, day(5), 101, "Dana")], chat=777, name="Makers")]}})
    listing = tribebot("import", "telegram", str(account), "--config", str(conf), cwd=tmp_path)
    assert listing.returncode == 2
    assert "“Tribe” (telegram:-1001234567)" in listing.stderr
    assert "“Makers” (telegram:-100777)" in listing.stderr
    chosen = tribebot("import", "telegram", str(account), "--chat", "Makers",
                      "--config", str(conf), cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    assert "Importing “Makers” (telegram:-100777):" in chosen.stdout


def test_discord_files_of_one_server_import_together(tmp_path: Path) -> None:
    done = tribebot("import", "discord", str(FIXTURES / "discord_general.json"),
                    str(FIXTURES / "discord_thread.json"), "--timezone", "Asia/Jerusalem",
                    "--config", str(config(tmp_path)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Importing “Makers” (discord:555000111):" in done.stdout
    assert "6 messages imported." in done.stdout
    assert "2 messages left out: a system notice" in done.stdout
