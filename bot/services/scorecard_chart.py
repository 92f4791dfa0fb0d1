"""The scorecard as a picture: a horizontal bar chart of the five indicators, in Persian, as PNG bytes.

Matplotlib before 3.11 draws characters one by one, left to right, unjoined: there Persian labels are
first shaped (arabic-reshaper picks each letter's joined form) and reordered for display (python-bidi).
Matplotlib 3.11 lays text out with libraqm, which shapes and reorders by itself, and shaping twice
would reverse the text again, so `shape` leaves the text alone when libraqm is there. Either way the
glyphs come from DejaVu Sans, which matplotlib bundles and which has the Arabic-script letters. Only
the object-oriented API (Figure + Agg canvas) is used: no pyplot global state, so it is thread-safe.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import arabic_reshaper
from bidi import get_display
from matplotlib import ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.formatting import fa_digits

WIDTH, HEIGHT, DPI = 8.0, 6.0, 100  # 800 × 600 px
FONT = "DejaVu Sans"
BAR = "#2f6f8f"
MISSING = "#c9c9c9"
# libraqm does complex text layout (shaping and bidi) inside matplotlib itself.
NATIVE_LAYOUT = hasattr(ft2font, "__libraqm_version__")
_RESHAPER = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": True})


def shape(text: str, *, native: bool = NATIVE_LAYOUT) -> str:
    """Persian text as matplotlib should be given it to show it joined and right to left."""
    if native:
        return text
    return str(get_display(_RESHAPER.reshape(text), base_dir="R"))


def render(
    title: str,
    labels: Sequence[str],
    scores: Sequence[int | None],
    *,
    subtitle: str = "",
    missing_label: str = "",
) -> bytes:
    """PNG bytes of a bar chart: one bar per label, scores 0–100 (None: not scored yet).

    The bars grow from right to left and the labels stand on the right, as a Persian reader expects.
    """
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]  # the first indicator on top
    values = [score if score is not None else 0 for score in scores]
    colours = [BAR if score is not None else MISSING for score in scores]
    axes.barh(positions, values, color=colours, height=0.6)
    axes.set_xlim(100, 0)  # right to left
    axes.yaxis.tick_right()
    axes.set_yticks(positions, [shape(label) for label in labels], fontsize=13, fontfamily=FONT)
    ticks = list(range(0, 101, 20))
    axes.set_xticks(ticks, [fa_digits(t) for t in ticks], fontsize=11, fontfamily=FONT)
    axes.tick_params(axis="y", length=0, pad=8)
    axes.grid(axis="x", color="#e5e5e5")
    axes.set_axisbelow(True)
    for side in ("top", "left", "bottom"):
        axes.spines[side].set_visible(False)
    for position, score in zip(positions, scores, strict=True):
        text = fa_digits(score) if score is not None else shape(missing_label)
        axes.text(
            (score or 0) + 1.5,
            position,
            text,
            va="center",
            ha="right",
            fontsize=13,
            fontfamily=FONT,
            color="#222222",
        )
    figure.suptitle(shape(title), fontsize=15, fontfamily=FONT, fontweight="bold")
    if subtitle:
        axes.set_title(shape(subtitle), fontsize=12, fontfamily=FONT, color="#444444")
    figure.tight_layout(rect=(0.02, 0.02, 0.98, 0.97))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
