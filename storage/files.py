"""Files the bot keeps for content posts, in a folder it owns beside the database.

A moderator attaches a file to ``content add``; its bytes are written here under a name
the bot chooses (``<sha256>/<sender's base name>``), and only that name is stored with
the item. Posting resolves the name inside this folder and nowhere else, so no stored
value can point the bot at another file of the host.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

_STORED = re.compile(r"^[0-9a-f]{64}/[^/\\\x00]+$")


class FileStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, database: str) -> FileStore:
        """``<database>.files/``; an in-memory database gets a folder for this process."""
        if database == ":memory:":
            folder = Path(tempfile.mkdtemp(prefix="tribebot-files-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            return cls(folder)
        return cls(Path(f"{database}.files"))

    async def keep(self, data: bytes, name: str) -> str:
        """Write ``data`` as ``name`` (a safe base name); returns the stored name."""
        stored = f"{hashlib.sha256(data).hexdigest()}/{name}"
        if not _STORED.match(stored) or name in (".", ".."):
            raise ValueError(f"not a base name: {name!r}")
        await asyncio.to_thread(self._write, stored, data)
        return stored

    def path(self, stored: str | None) -> Path | None:
        """The file behind a stored name, or None for anything that is not one of ours."""
        if not stored or not _STORED.match(stored):
            return None
        path = self.folder / stored
        if path.parent.parent != self.folder or not path.is_file():
            return None
        return path

    def _write(self, stored: str, data: bytes) -> None:
        path = self.folder / stored
        if path.is_file():
            return  # the same bytes under the same name: kept already
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f".{path.name}.partial")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
