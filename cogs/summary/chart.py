"""The summary chart: active, new and returning members and true fans, week by week.

Labels are in the community's language. matplotlib draws a string's characters left to
right as stored, so Hebrew (and a Hebrew community name inside any title) would come out
backwards; every label goes through the Unicode bidi algorithm (python-bidi) first, in
the language's direction, which leaves left-to-right text as it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot
import matplotlib.pyplot as plt
from bidi import get_display
from matplotlib.figure import Figure

from bot.core.text import FSI, PDI
from bot.i18n import Catalog

#: LEFT-TO-RIGHT ISOLATE: a week like 2026-W47 stays in one piece inside Hebrew.
LRI = "\u2066"
#: Bidi controls have done their work once the text is in drawing order; a font would
#: draw them as boxes.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: (summary field, line style); the labels are translated in ``_labels``.
SERIES = (("active", "-o"), ("new", "--s"), ("returning", "-.^"), ("true_fans", "-D"))


def _labels(tr: Catalog) -> dict[str, str]:
    return {"active": tr.phrase("active members"), "new": tr.phrase("new members"),
            "returning": tr.phrase("returning members"), "true_fans": tr.phrase("true fans"),
            "x": tr.phrase("ISO week"), "y": tr.phrase("members")}


def visual(text: str, *, rtl: bool) -> str:
    """``text`` in the order matplotlib must draw it (right-to-left runs reversed)."""
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
