"""The overview's charts as PNG pictures: horizontal bars growing from right to left with their
Persian labels on the right (shaped like the scorecard's: `scorecard_chart.shape`)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.formatting import fa_digits
from bot.services.scorecard_chart import FONT, shape

BAR = "#2f6f8f"
DPI = 100


def bars(title: str, labels: Sequence[str], values: Sequence[int], *, empty: str = "") -> bytes:
    """PNG bytes: one bar per label, its value written at its end."""
    rows = max(1, len(labels))
    figure = Figure(figsize=(8.0, 1.2 + 0.5 * rows), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]  # the first label on top
    top = max([*values, 1])
    axes.barh(positions, values, color=BAR, height=0.6)
    axes.set_xlim(top * 1.15, 0)  # right to left
    axes.yaxis.tick_right()
    axes.set_yticks(positions, [shape(label) for label in labels], fontsize=12, fontfamily=FONT)
    axes.set_xticks([])
    axes.tick_params(axis="y", length=0, pad=8)
    for side in ("top", "left", "bottom", "right"):
        axes.spines[side].set_visible(False)
    for position, value in zip(positions, values, strict=True):
        axes.text(value + top * 0.02, position, fa_digits(value), va="center", ha="right", fontsize=12)
    if not labels and empty:
        axes.text(0.5, 0.5, shape(empty), transform=axes.transAxes, ha="center", fontsize=12, fontfamily=FONT)
    figure.suptitle(shape(title), fontsize=14, fontfamily=FONT, fontweight="bold")
    figure.tight_layout(rect=(0.02, 0.02, 0.98, 0.95))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
