"""Which Bot API method a file goes with: sendPhoto only takes images, so everything else
(the "my data" JSON, a CSV, a PDF attached to a content post) goes with sendDocument.

Decided by the file's content, not its name: a ``chart.png`` that is not a PNG would be
refused by Telegram (``IMAGE_PROCESS_FAILED``), and a JPEG named ``photo.bin`` is still a
photo. Pillow reads only the header, so this is cheap even for a large file.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError
from telegram.constants import FileSizeLimit

#: Image formats sendPhoto takes (others, like GIF or SVG, are better sent as files).
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
#: sendPhoto: "The photo's width and height must not exceed 10000 in total. Width and
#: height ratio must be at most 20." (Bot API)
MAX_PHOTO_SIDES = 10_000
MAX_PHOTO_RATIO = 20


def sends_as_photo(path: Path) -> bool:
    """True when Telegram's sendPhoto accepts the file; False sends it as a document."""
    try:
        size = path.stat().st_size
        if not 0 < size <= FileSizeLimit.PHOTOSIZE_UPLOAD:
            return False
        with Image.open(path) as image:
            kind = image.format
            width, height = image.size
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return False
    if kind not in PHOTO_FORMATS or min(width, height) <= 0:
        return False
    return (width + height <= MAX_PHOTO_SIDES
            and max(width, height) <= MAX_PHOTO_RATIO * min(width, height))
