"""Files the bot keeps on disk go beside the database, never into a folder named after a
PostgreSQL URL (``postgresql:/root@host/…`` was created in the working folder)."""

from pathlib import Path

from bot.adapters.discord.commands import hash_file
from storage.store import Repository


def test_a_sqlite_store_keeps_its_files_beside_the_database(tmp_path: Path) -> None:
    repo = Repository(f"sqlite:///{tmp_path}/tribe.db")
    assert hash_file(repo.path, 7) == tmp_path / ".tribebot-discord-commands-7.sha256"


def test_a_postgresql_store_keeps_its_files_in_the_working_folder() -> None:
    repo = Repository("postgresql://root@127.0.0.1:5432/tribe")
    path = hash_file(repo.path, 7)
    assert path == Path(".tribebot-discord-commands-7.sha256")
    assert "postgresql:" not in str(path)
