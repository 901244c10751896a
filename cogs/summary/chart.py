"""The summary chart: active, new and returning members and true fans, week by week."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot
import matplotlib.pyplot as plt


def write_chart(history: list[dict[str, Any]], title: str, path: Path) -> Path:
    """Write a PNG line chart of the summary's history and return its path."""
    weeks = [row["week"][-3:] for row in history]
    figure, axes = plt.subplots(figsize=(8, 4), dpi=110)
    try:
        for key, label, style in (("active", "active", "-o"), ("new", "new", "--s"),
                                  ("returning", "returning", "-.^"),
                                  ("true_fans", "true fans", "-D")):
            axes.plot(weeks, [row[key] for row in history], style, label=label, linewidth=2)
        axes.set_title(title)
        axes.set_xlabel("ISO week")
        axes.set_ylabel("members")
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", frameon=False)
        axes.set_ylim(bottom=0)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path
