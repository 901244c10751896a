"""Which Bot API method a file needs, and the member counts kept between API calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.adapters.telegram.directory import MemberCounts
from bot.adapters.telegram.files import sends_as_photo


def image(path: Path, size: tuple[int, int], fmt: str) -> Path:
    Image.new("RGB", size, "white").save(path, format=fmt)
    return path


@pytest.mark.parametrize(("size", "fmt", "photo"), [
    ((800, 600), "PNG", True),
    ((800, 600), "JPEG", True),
    ((800, 600), "WEBP", True),
    ((800, 600), "GIF", False),       # an animation method's job, not sendPhoto's
    ((9000, 2000), "PNG", False),     # width + height above 10,000
    ((2100, 100), "PNG", False),      # a ratio above 20
    ((2000, 100), "PNG", True),       # exactly 20
])
def test_only_images_sendphoto_accepts_go_as_photos(
    tmp_path: Path, size: tuple[int, int], fmt: str, photo: bool,
) -> None:
    assert sends_as_photo(image(tmp_path / "file.img", size, fmt)) is photo


def test_a_name_is_not_a_type(tmp_path: Path) -> None:
    fake_png = tmp_path / "chart.png"
    fake_png.write_text('{"member": "telegram:1"}', "utf-8")
    assert not sends_as_photo(fake_png)
    assert sends_as_photo(image(tmp_path / "export.bin", (10, 10), "PNG"))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert not sends_as_photo(empty)
    assert not sends_as_photo(tmp_path / "missing.png")


def test_member_counts_follow_joins_until_they_expire() -> None:
    now = [0.0]
    counts = MemberCounts(600, clock=lambda: now[0])
    assert counts.changed(-100, +1) is None, "nothing fetched yet: ask Telegram"
    counts.fetched(-100, 1234)
    assert counts.changed(-100, +1) == 1235
    assert counts.changed(-100, -1) == 1234
    now[0] = 601.0
    assert counts.changed(-100, +1) is None, "stale: ask Telegram again"
