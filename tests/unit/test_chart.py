"""The summary chart speaks the community's language and draws Hebrew right to left."""

import io
import warnings
from collections.abc import Iterator

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from bot.i18n import catalog
from cogs.summary.chart import build_chart

HISTORY = [{"week": f"2026-W{n}", "active": 40 + n, "new": 5, "returning": 20 + n,
            "true_fans": 3} for n in range(40, 48)]


@pytest.fixture
def hebrew_chart() -> Iterator[Figure]:
    figure = build_chart(HISTORY, "קהילת טק", "2026-W47", catalog("he"))
    yield figure
    plt.close(figure)


def test_hebrew_labels_are_translated_and_in_drawing_order(hebrew_chart: Figure) -> None:
    axes = hebrew_chart.axes[0]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    # "חברים פעילים" ... stored right to left; matplotlib draws left to right
    assert legend == ["םיליעפ םירבח", "םישדח םירבח", "םירזוח םירבח", "םייתימא םיצירעמ"]
    # read right to left: the name, then the week, which keeps its own order
    assert axes.get_title() == "2026-W47 — קט תליהק"
    assert axes.get_xlabel() == "ISO עובש" and axes.get_ylabel() == "םירבח"


def test_english_labels_are_drawn_as_written_and_a_hebrew_name_reads_right() -> None:
    figure = build_chart(HISTORY, "קהילת טק", "2026-W47", catalog("en"))
    try:
        axes = figure.axes[0]
        assert [t.get_text() for t in axes.get_legend().get_texts()] == [
            "active members", "new members", "returning members", "true fans"]
        # a Hebrew name in an English title is still drawn right to left, in its place
        assert axes.get_title() == "קט תליהק — 2026-W47"
    finally:
        plt.close(figure)


def test_the_default_font_has_every_hebrew_glyph() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # matplotlib warns of a missing glyph as it lays out
        figure = build_chart(HISTORY, "קהילת טק", "2026-W47", catalog("he"))
        figure.savefig(io.BytesIO(), format="png")
        plt.close(figure)
    assert not [w for w in caught if "missing from font" in str(w.message)]
