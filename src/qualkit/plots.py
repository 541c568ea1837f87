"""Figures for frequencies, crosstabs and co-occurrence: German labels and numbers (0,25), codebook colours
darkened to a contrast of at least 3:1, sorted sensibly."""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from .blocks import number_de
from .codebook import Codebook
from .figures import accessible_colour

__all__ = ["plot_cooccurrence", "plot_crosstab", "plot_frequencies"]


def _german_ticks() -> Any:
    """A tick formatter writing decimals with a comma (0,25)."""
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _pos: f"{v:g}".replace(".", ","))


def _wrap(s: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(str(s), width)) or str(s)


def plot_frequencies(freq: pd.DataFrame, codebook: Codebook, *, value: str = "share_cases",
                     kind: str | None = None, title: str = "") -> Any:
    """Horizontal bars per code (largest on top) in the codebook colours.

    ``freq`` is :func:`qualkit.analysis.code_frequencies`; ``value`` ``share_cases`` (Anteil der Personen),
    ``cases``, ``units`` or ``share_units``; ``kind`` restricts to ``interview`` or ``survey``.
    """
    import matplotlib.pyplot as plt
    df = freq if kind is None else freq[freq.kind == kind]
    df = df.groupby("code", as_index=False)[value].sum().sort_values([value, "code"], ascending=[True, False])
    labels = {"share_cases": "Anteil der Befragten", "cases": "Befragte (Anzahl)", "units": "codierte Einheiten",
              "share_units": "Anteil der Einheiten"}
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(df), 3) + 1))
    colours = [accessible_colour(codebook.codes[c].colour) if c in codebook.codes else "#6E6E6E" for c in df.code]
    vals = df[value] * (100 if value.startswith("share") else 1)
    ax.barh([_wrap(c) for c in df.code], vals, color=colours)
    for y, v in enumerate(vals):
        ax.text(v, y, f" {v:.0f}{' %' if value.startswith('share') else ''}", va="center", fontsize=9)
    ax.set_xlabel(labels.get(value, value) + (" in %" if value.startswith("share") else ""))
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_crosstab(table: pd.DataFrame, *, title: str = "", cmap: str = "Blues", fmt: str = "{:.0f}") -> Any:
    """Heatmap of a code × variable table (:func:`qualkit.analysis.crosstab`), values in the cells."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * table.shape[1], 0.5 * table.shape[0] + 1.8))
    im = ax.imshow(table.values.astype(float), cmap=cmap, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [_wrap(c, 14) for c in table.columns], rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), [_wrap(c) for c in table.index])
    vmax = float(table.values.max()) if table.size else 0.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            v = float(table.values[i, j])
            ax.text(j, i, fmt.format(v * 100 if fmt.endswith("%") else v).replace(".", ","), ha="center", va="center",
                    fontsize=8,
                    color="white" if vmax and v > 0.6 * vmax else "black")
    ax.set_xlabel(str(table.columns.name or ""))
    fig.colorbar(im, ax=ax, fraction=0.03, format=_german_ticks())
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_cooccurrence(matrix: pd.DataFrame, *, title: str = "Gemeinsames Auftreten (Jaccard)") -> Any:
    """Heatmap of a symmetric co-occurrence matrix (:func:`qualkit.analysis.cooccurrence_matrix`)."""
    import matplotlib.pyplot as plt
    import numpy as np
    m = matrix.copy()
    vals = m.values.astype(float)
    np.fill_diagonal(vals, np.nan)
    fig, ax = plt.subplots(figsize=(0.7 * len(m) + 3, 0.6 * len(m) + 2))
    im = ax.imshow(vals, cmap="Oranges", vmin=0)
    ax.set_xticks(range(len(m)), [_wrap(c, 16) for c in m.columns], rotation=45, ha="right")
    ax.set_yticks(range(len(m)), [_wrap(c) for c in m.index])
    for i in range(len(m)):
        for j in range(len(m)):
            if i != j:
                ax.text(j, i, number_de(float(vals[i, j])), ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.03, label="Jaccard-Koeffizient", format=_german_ticks())
    ax.set_title(title)
    fig.tight_layout()
    return fig
