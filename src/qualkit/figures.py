"""The chapters' figures, drawn object-oriented (``matplotlib.figure.Figure``): no pyplot state and no backend
switch, so building a report inside a researcher's kernel leaves their plotting untouched.

Each function takes a tidy DataFrame, writes one PNG (fixed metadata, so re-runs are byte-identical) and
returns its alt text: what the figure shows, in words and numbers, for readers who cannot see it.  German
labels are passed in by the caller.  Colours are the codebook's, darkened where needed so that every bar
and word has a contrast of at least 3:1 against the white background (WCAG 2.1, 1.4.11).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .prose import pct

__all__ = ["accessible_colour", "bar_figure", "contrast_ratio", "coverage_figure", "save", "wordcloud_png"]

MIN_CONTRAST = 3.0


def _luminance(colour: str) -> float:
    from matplotlib.colors import to_rgb
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str = "#FFFFFF") -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def accessible_colour(colour: str, background: str = "#FFFFFF", ratio: float = MIN_CONTRAST) -> str:
    """``colour``, darkened in small steps (hue kept) until its contrast against ``background`` is ``ratio``."""
    from matplotlib.colors import to_hex, to_rgb
    r, g, b = to_rgb(colour)
    f = 1.0
    while contrast_ratio(to_hex((r * f, g * f, b * f)), background) < ratio and f > 0:
        f -= 0.02
    f = max(f, 0.0)
    return to_hex((r * f, g * f, b * f))


def _listing(items: list[str], limit: int = 10) -> str:
    return "; ".join(items[:limit]) + ("; …" if len(items) > limit else "")


def save(fig: Any, path: Path, *, dpi: int = 110) -> None:
    """Write ``fig`` as PNG without a timestamp or software tag (byte-identical re-runs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, metadata={"Software": None})


def bar_figure(df: pd.DataFrame, label_col: str, colour: str, title: str, path: Path, *,
               xlabel: str = "Anteil der Personen mit Nennung in %") -> str:
    """Horizontal bars of ``n / total`` per row of ``df`` (:func:`qualkit.reportdata.counts_by`), each bar
    labelled with its count and base ("7 von 10"), so a small base is never read as a share alone."""
    from matplotlib.figure import Figure
    vals = (df["n"] / df["total"].replace(0, np.nan) * 100).fillna(0)
    fig = Figure(figsize=(7, 0.45 * max(len(df), 3) + 1))
    ax = fig.add_subplot()
    y = np.arange(len(df))
    ax.barh(y, vals, color=accessible_colour(colour))
    ax.set_yticks(y, [str(v) for v in df[label_col]])
    for yi, (v, a, b) in enumerate(zip(vals, df["n"], df["total"])):
        ax.text(min(v, 100) + 1, yi, f"{a} von {b}", va="center", fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.invert_yaxis()
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    save(fig, path)
    bars = [f"{lab}: {a} von {b} ({pct(int(a), int(b))})" for lab, a, b in zip(df[label_col], df["n"], df["total"])]
    return f"Balkendiagramm „{title}“, {xlabel}. {_listing(bars)}."


def coverage_figure(summary: pd.DataFrame, colours: dict[str, str], path: Path, *, label_col: str,
                    interview_label: str = "Interviews", survey_label: str = "Online-Befragung") -> str:
    """Two panels side by side, interviews and survey, each with its own base: the share of persons who raised
    each code.  ``summary`` has ``label_col, iv_with, iv_total, sv_with, sv_total``."""
    from matplotlib.figure import Figure
    has_survey = bool(summary["sv_total"].max()) if len(summary) else False
    fig = Figure(figsize=(10 if has_survey else 7, 0.5 * max(len(summary), 3) + 1.4))
    axes = fig.subplots(1, 2 if has_survey else 1, sharey=True, squeeze=False)[0]
    y = np.arange(len(summary))
    cols = [accessible_colour(colours.get(c, "#4D4D4D")) for c in summary[label_col]]
    panels = [("iv", interview_label)] + ([("sv", survey_label)] if has_survey else [])
    for ax, (key, label) in zip(axes, panels):
        w, t = summary[f"{key}_n"], summary[f"{key}_total"]
        vals = (w / t.replace(0, np.nan) * 100).fillna(0)
        ax.barh(y, vals, color=cols, edgecolor="#333333", linewidth=0.4)
        for yi, (v, a, b) in enumerate(zip(vals, w, t)):
            ax.text(v + 1, yi, f"{a}/{b}", va="center", fontsize=8)
        ax.set_xlim(0, 120)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_title(f"{label} (Basis: {int(t.max()) if len(t) else 0} Personen)", fontsize=10)
        ax.set_xlabel("Anteil der Personen mit Nennung in %")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(y, [str(c) for c in summary[label_col]])
    axes[0].invert_yaxis()
    fig.tight_layout()
    save(fig, path)
    parts = []
    for key, label in panels:
        bars = [f"{c}: {a} von {b} ({pct(int(a), int(b))})" for c, a, b in
                zip(summary[label_col], summary[f"{key}_n"], summary[f"{key}_total"])]
        parts.append(f"{label}: {_listing(bars)}")
    return (f"Balkendiagramm{'e' if len(panels) > 1 else ''}, Anteil der Personen mit Nennung je Kategorie. "
            + ". ".join(parts) + ".")


def wordcloud_png(frequencies: dict[str, int], colour: str, path: Path, *, random_state: int = 0) -> str:
    """A word cloud of ``term -> count`` in shades of ``colour`` (see :func:`qualkit.words.wordcloud_figure`)."""
    if frequencies:  # the cloud's own image (PIL writes no timestamp): no matplotlib figure around it
        from .words import _wordcloud
        _wordcloud(dict(frequencies), colour=colour, width=900, height=450, random_state=random_state,
                   max_words=80).to_file(str(path))
    else:
        from .words import wordcloud_figure
        fig = wordcloud_figure({}, colour=colour, random_state=random_state)
        save(fig, path, dpi=100)
        import matplotlib.pyplot as plt  # wordcloud_figure uses pyplot; free its figure
        plt.close(fig)
    top = sorted(frequencies.items(), key=lambda kv: (-kv[1], kv[0]))
    if not top:
        return "Wortwolke ohne Begriffe: zu wenige Aussagen."
    return "Wortwolke; die häufigsten Begriffe: " + _listing([f"{w} ({n}-mal)" for w, n in top]) + "."
