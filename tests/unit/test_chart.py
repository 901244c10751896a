"""The summary chart speaks the community's language and draws Hebrew right to left.

What is checked is the order matplotlib lays the glyphs out in (``drawn``: the same
layout the Agg renderer draws), not the string the chart hands it: matplotlib 3.11 runs
the bidi algorithm itself, older releases draw characters as stored, and the chart must
come out right on both.
"""

import io
import unicodedata
import warnings
from collections.abc import Iterator

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.font_manager import findfont
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from matplotlib.textpath import TextToPath

from bot.i18n import catalog
from cogs.summary.chart import build_chart, lays_out_bidi

HISTORY = [{"week": f"2026-W{n}", "active": 40 + n, "new": 5, "returning": 20 + n,
            "true_fans": 3} for n in range(40, 48)]


@pytest.fixture
def hebrew_chart() -> Iterator[Figure]:
    figure = build_chart(HISTORY, "קהילת טק", "2026-W47", catalog("he"))
    yield figure
    plt.close(figure)


def drawn(artist: Text) -> str:
    """The artist's characters in the order matplotlib places their glyphs, left to right
    (spaces collapsed; bidi marks are drawn as zero-width spaces)."""
    font = FT2Font(findfont(artist.get_fontproperties()))
    font.set_size(artist.get_fontsize(), 72)
    layout = TextToPath()
    text = artist.get_text()
    names: dict[str, str] = {}
    for char in sorted(set(text) | {" "}):
        if unicodedata.category(char) != "Cf":
            [(glyph, *_)] = layout.get_glyphs_with_font(font, char)[0]
            names[glyph] = char
    placed = sorted(layout.get_glyphs_with_font(font, text)[0], key=lambda g: g[1])
    return " ".join("".join(names.get(g[0], "?") for g in placed).split())


def test_hebrew_labels_are_translated_and_drawn_right_to_left(hebrew_chart: Figure) -> None:
    axes = hebrew_chart.axes[0]
    legend = [drawn(text) for text in axes.get_legend().get_texts()]
    # "חברים פעילים" ...: read right to left, so its first letter is drawn rightmost
    assert legend == ["םיליעפ םירבח", "םישדח םירבח", "םירזוח םירבח", "םייתימא םיצירעמ"]
    # read right to left: the name, then the week, which keeps its own order
    assert drawn(axes.title) == "2026-W47 — קט תליהק"
    assert drawn(axes.xaxis.label) == "ISO עובש" and drawn(axes.yaxis.label) == "םירבח"


def test_the_probe_matches_how_this_matplotlib_draws() -> None:
    figure = plt.figure()
    try:
        label = figure.text(0, 0, "\u05d0\u05d1")  # alef, bet in logical order
        assert (drawn(label) == "\u05d1\u05d0") is lays_out_bidi()
    finally:
        plt.close(figure)


def test_english_labels_are_drawn_as_written_and_a_hebrew_name_reads_right() -> None:
    figure = build_chart(HISTORY, "קהילת טק", "2026-W47", catalog("en"))
    try:
        axes = figure.axes[0]
        assert [drawn(t) for t in axes.get_legend().get_texts()] == [
            "active members", "new members", "returning members", "true fans"]
        # a Hebrew name in an English title is still drawn right to left, in its place
        assert drawn(axes.title) == "קט תליהק — 2026-W47"
    finally:
        plt.close(figure)


def test_the_default_font_has_every_hebrew_glyph() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # matplotlib warns of a missing glyph as it lays out
        figure = build_chart(HISTORY, "קהילת טק", "2026-W47", catalog("he"))
        figure.savefig(io.BytesIO(), format="png")
        plt.close(figure)
    assert not [w for w in caught if "missing from font" in str(w.message)]
