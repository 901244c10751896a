"""Files that reach a command: attached to the command's message, never named on the host.

A chat member must never make the bot read a file of the machine it runs on, so a file
option is filled only from what the platform delivered with the command: an adapter
downloads the attachment (at most the option's limit) and hands the handler an
``Attachment`` holding the bytes. Only the console adapter (replays, tests), which runs
on the operator's own machine, turns a path into an ``Attachment``.

What is accepted is decided by the bytes, not by the name or the platform's content
type (both are the sender's claim): an image or PDF must start like one, a CSV must be
UTF-8 text without NUL bytes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath, PureWindowsPath

MB = 1_000_000


@dataclass(frozen=True, slots=True)
class Attachment:
    """One file as the platform delivered it. ``name`` is the sender's base name, shown in
    answers and kept as a note; it never names anything on the host."""

    name: str
    data: bytes
    content_type: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


class FileKind(Enum):
    CSV = "csv"
    MEDIA = "media"  # an image or a PDF, to be posted again to members


@dataclass(frozen=True, slots=True)
class FileRule:
    """What a file option accepts, checked before the download (declared size) and after."""

    kind: FileKind
    max_bytes: int


#: ``points import``: a CSV of member id, points. 2 MB is about 80,000 rows, more than
#: any leaderboard export we know of; the file is parsed in memory.
CSV_FILE = FileRule(FileKind.CSV, 2 * MB)
#: Content posts: what a bot may post on both platforms (Discord: 10 MiB in a server
#: without boosts; Telegram: 10 MB for a photo), so an accepted file can always be sent.
MEDIA_FILE = FileRule(FileKind.MEDIA, 10 * MB)

#: Signatures of the media a content post may carry, and the suffix the bot stores them as.
_MEDIA_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"%PDF-", ".pdf"),
)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".gif", ".webp"})


def media_suffix(data: bytes) -> str | None:
    """``.png``, ``.jpg``, ``.gif``, ``.webp`` or ``.pdf`` by the file's first bytes; else None."""
    for signature, suffix in _MEDIA_SIGNATURES:
        if data.startswith(signature):
            return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def is_csv_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def accepts(rule: FileRule, file: Attachment) -> bool:
    if rule.kind is FileKind.CSV:
        return is_csv_text(file.data)
    return media_suffix(file.data) is not None


def safe_name(name: str, limit: int = 80) -> str:
    """The base name of what a sender called a file, without folders or control
    characters, at most ``limit`` characters (for answers, notes and re-posting)."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    cleaned = cleaned.lstrip(".") or "file"
    return cleaned[-limit:] if len(cleaned) > limit else cleaned


def megabytes(size: int) -> str:
    return f"{size / MB:.1f}"
