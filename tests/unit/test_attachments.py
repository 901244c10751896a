"""What a file option accepts is decided by the bytes; names are only base names."""

from pathlib import Path

import pytest

from bot.core.attachments import (
    CSV_FILE,
    MEDIA_FILE,
    Attachment,
    accepts,
    media_suffix,
    safe_name,
)
from storage.files import FileStore


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\dana\\points.csv", "points.csv"),
    (".env", "env"),
    ("re\u202eport\x00.pdf", "report.pdf"),  # bidi override and NUL are dropped
    ("", "file"),
    ("תוכנית.pdf", "תוכנית.pdf"),
])
def test_safe_name_keeps_only_a_base_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


def test_media_is_recognised_by_its_first_bytes_not_its_name() -> None:
    assert media_suffix(b"\x89PNG\r\n\x1a\nrest") == ".png"
    assert media_suffix(b"\xff\xd8\xff\xe0") == ".jpg"
    assert media_suffix(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == ".webp"
    assert media_suffix(b"%PDF-1.4") == ".pdf"
    assert media_suffix(b"MZ\x90\x00") is None  # a Windows program named photo.png
    assert not accepts(MEDIA_FILE, Attachment("photo.png", b"MZ\x90\x00"))


def test_a_csv_is_utf8_text_without_nul_bytes() -> None:
    assert accepts(CSV_FILE, Attachment("p.csv", "חבר,5\n".encode()))
    assert not accepts(CSV_FILE, Attachment("p.csv", b"\xff\xfe\x00a"))
    assert not accepts(CSV_FILE, Attachment("p.csv", b"a,1\x00\n"))


async def test_the_file_store_resolves_only_its_own_names(tmp_path: Path) -> None:
    files = FileStore.beside(str(tmp_path / "bot.db"))
    stored = await files.keep(b"%PDF-1.4", "guide.pdf")
    assert files.path(stored) == tmp_path / "bot.db.files" / stored
    assert files.path(str(tmp_path / "bot.db")) is None
    assert files.path("../../etc/passwd") is None
    assert files.path(stored.split("/")[0] + "/../../bot.db") is None
    with pytest.raises(ValueError):
        await files.keep(b"x", "../escape")
