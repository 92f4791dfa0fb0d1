"""A course's feedback as a picture: the ratings 5 to 1 as horizontal bars, with the average and the
latest comments under the chart, in Persian, as PNG bytes. Drawn like the scorecard
(bot/services/scorecard_chart.py): matplotlib's object-oriented API, text shaped by `shape`."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.formatting import fa_digits
from bot.services.scorecard_chart import FONT, shape

BAR = "#2f6f8f"
COMMENTS_SHOWN = 6


def render(
    title: str,
    counts: Mapping[int, int],
    *,
    labels: Mapping[int, str],
    subtitle: str = "",
    comments_title: str = "",
    comments: Sequence[str] = (),
) -> bytes:
    """PNG bytes: one bar per rating (5 on top) with its count, then up to six comments."""
    shown = [comment for comment in comments if comment.strip()][:COMMENTS_SHOWN]
    height = 4.5 + (0.45 * len(shown) + 0.5 if shown else 0)
    figure = Figure(figsize=(8.0, height), dpi=100)
    FigureCanvasAgg(figure)
    # In inches from the top: the title and subtitle (1.1), the bars (3.0), a gap (0.4), the comments.
    axes = figure.add_axes((0.06, (height - 4.1) / height, 0.72, 3.0 / height))
    ratings = sorted(labels, reverse=True)
    positions = list(range(len(ratings)))[::-1]
    values = [counts.get(rating, 0) for rating in ratings]
    axes.barh(positions, values, color=BAR, height=0.6)
    top = max([*values, 1])
    axes.set_xlim(top * 1.15, 0)  # bars grow from right to left
    axes.yaxis.tick_right()
    axes.set_yticks(positions, [shape(labels[r]) for r in ratings], fontsize=12, fontfamily=FONT)
    axes.set_xticks([])
    axes.tick_params(axis="y", length=0, pad=8)
    for side in ("top", "left", "bottom"):
        axes.spines[side].set_visible(False)
    for position, value in zip(positions, values, strict=True):
        axes.text(value + top * 0.02, position, fa_digits(value), va="center", ha="right", fontsize=12)
    _write(figure, 0.5, 1 - 0.25 / height, title, size=15, ha="center", fontweight="bold")
    if subtitle:
        _write(figure, 0.5, 1 - 0.7 / height, subtitle, size=12, ha="center", color="#444444")
    if shown:
        y = 1 - (4.5 + 0.1) / height
        _write(figure, 0.95, y, comments_title, size=12, fontweight="bold")
        for comment in shown:
            y -= 0.45 / height
            line = textwrap.shorten(" ".join(comment.split()), width=90, placeholder="…")
            _write(figure, 0.95, y, f"• {line}", size=11, color="#333333")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _write(
    figure: Figure, x: float, y: float, text: str, *, size: int, ha: str = "right", **style: Any
) -> None:
    """Persian text hanging from (x, y) in figure coordinates, right-aligned unless `ha` says otherwise."""
    figure.text(x, y, shape(text), ha=ha, va="top", fontsize=size, fontfamily=FONT, **style)
