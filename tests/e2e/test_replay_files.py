"""A replay's command may attach files by path: the operator's own machine, the one
place where a path names the file (relative to the replay file)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main


def test_a_replayed_command_attaches_files_named_beside_the_replay(tmp_path: Path) -> None:
    (tmp_path / "points.csv").write_text("member,points\nann,40\n", encoding="utf-8")
    records = [
        {"type": "community_joined", "at": "2026-11-02T08:00:00Z", "community": "tribe",
         "moderators": ["dana"]},
        {"type": "member_joined", "at": "2026-11-02T08:01:00Z", "community": "tribe",
         "member": "ann"},
        {"type": "command", "at": "2026-11-02T08:02:00Z", "community": "tribe",
         "channel": "general", "member": "dana", "text": "/points import",
         "files": ["points.csv"]},
        {"type": "command", "at": "2026-11-02T08:03:00Z", "community": "tribe",
         "channel": "general", "member": "dana", "text": "/points import", "files": "x"},
    ]
    replay = tmp_path / "events.jsonl"
    replay.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["replay", str(replay), "--db", str(tmp_path / "x.db")])
    assert "Imported points for 1 member." in result.output
    assert 'events.jsonl:4: "files" must be a list of file paths' in result.output
    assert result.exit_code == 2  # the bad line
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("SELECT delta, note FROM ledger WHERE reason = 'imported'"
                            ).fetchall() == [(40, "points.csv")]
