"""The summary chart: active, new and returning members and true fans, week by week.

Labels are in the community's language, and Hebrew must come out right to left. Up to
3.10, matplotlib draws a string's characters left to right as stored, so every label goes
through the Unicode bidi algorithm (python-bidi) first, in the language's direction.
From 3.11 matplotlib lays text out with libraqm, which runs the bidi algorithm itself:
reordering first would reverse Hebrew twice (mirrored labels). Which of the two this
matplotlib does is found by drawing a probe (``lays_out_bidi``), not by its version, and
such a matplotlib gets the text in logical order with a mark for the paragraph direction.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot
import matplotlib.pyplot as plt
from bidi import get_display
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.textpath import TextToPath

from bot.core.text import FSI, PDI
from bot.i18n import Catalog

log = logging.getLogger(__name__)

#: LEFT-TO-RIGHT ISOLATE: a week like 2026-W47 stays in one piece inside Hebrew.
LRI = "\u2066"
#: RIGHT-TO-LEFT / LEFT-TO-RIGHT MARK: the paragraph direction, for a bidi-aware layout.
RLM, LRM = "\u200f", "\u200e"
#: Bidi controls have done their work once the text is in drawing order; a font would
#: draw them as boxes.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: (summary field, line style); the labels are translated in ``_labels``.
SERIES = (("active", "-o"), ("new", "--s"), ("returning", "-.^"), ("true_fans", "-D"))


def _labels(tr: Catalog) -> dict[str, str]:
    return {"active": tr.phrase("active members"), "new": tr.phrase("new members"),
            "returning": tr.phrase("returning members"), "true_fans": tr.phrase("true fans"),
            "x": tr.phrase("ISO week"), "y": tr.phrase("members")}


@cache
def lays_out_bidi() -> bool:
    """Whether this matplotlib puts right-to-left text in drawing order itself: lay out
    alef-bet (logical order) and see if the alef lands right of the bet."""
    try:
        font = FT2Font(findfont(FontProperties()))
        font.set_size(12, 72)
        layout = TextToPath()

        def glyphs(text: str) -> list[tuple[str, float]]:
            return [(g[0], g[1]) for g in layout.get_glyphs_with_font(font, text)[0]]

        [(alef, _)], [(bet, _)] = glyphs("\u05d0"), glyphs("\u05d1")
        placed = dict(glyphs("\u05d0\u05d1"))
        return placed[alef] > placed[bet]
    except Exception:  # an unexpected matplotlib: reordering ourselves is the old way
        log.warning("could not tell how this matplotlib lays out right-to-left text",
                    exc_info=True)
        return False


def visual(text: str, *, rtl: bool) -> str:
    """``text`` as this matplotlib must be given it to draw right-to-left runs right to
    left: reordered by python-bidi for a matplotlib that draws characters as stored, or
    as written (isolates kept) after a direction mark for one that runs bidi itself."""
    if lays_out_bidi():
        return (RLM if rtl else LRM) + text
    return _BIDI_CONTROLS.sub("", get_display(text, base_dir="R" if rtl else "L"))


def build_chart(history: list[dict[str, Any]], community: str, week: str,
                tr: Catalog) -> Figure:
    """The line chart of the summary's history, titled with the community's name and the
    week; the caller closes it."""
    labels = {key: visual(label, rtl=tr.rtl) for key, label in _labels(tr).items()}
    title = visual(f"{FSI}{community}{PDI} — {LRI}{week}{PDI}", rtl=tr.rtl)
    weeks = [row["week"][-3:] for row in history]
    figure, axes = plt.subplots(figsize=(8, 4), dpi=110)
    for key, style in SERIES:
        axes.plot(weeks, [row[key] for row in history], style, label=labels[key],
                  linewidth=2)
    axes.set_title(title)
    axes.set_xlabel(labels["x"])
    axes.set_ylabel(labels["y"])
    axes.grid(alpha=0.3)
    # right to left, the marker follows its label
    axes.legend(loc="best", frameon=False, markerfirst=not tr.rtl)
    axes.set_ylim(bottom=0)
    figure.tight_layout()
    return figure


def write_chart(history: list[dict[str, Any]], community: str, week: str, path: Path,
                tr: Catalog) -> Path:
    """Write a PNG line chart of the summary's history and return its path."""
    figure = build_chart(history, community, week, tr)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path
