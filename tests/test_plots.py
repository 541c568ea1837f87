"""Library plots: German decimals in cells and colour bars, colours with enough contrast."""

from __future__ import annotations

import pandas as pd

from qualkit.figures import contrast_ratio
from qualkit.plots import plot_cooccurrence, plot_crosstab


def test_plots_german_decimals() -> None:
    m = pd.DataFrame([[1.0, 0.25], [0.25, 1.0]], index=["A", "B"], columns=["A", "B"])
    fig = plot_cooccurrence(m)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0,25", "0,25"]
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[1].get_yticklabels() if t.get_text()]
    assert ticks and not any("." in t for t in ticks)
    ct = plot_crosstab(pd.DataFrame([[1.5, 2.0]], index=["A"], columns=["x", "y"]), fmt="{:.1f}")
    assert [t.get_text() for t in ct.axes[0].texts] == ["1,5", "2,0"]


def test_plots_grey_fallback_reaches_contrast() -> None:
    assert contrast_ratio("#6E6E6E") >= 3.0
