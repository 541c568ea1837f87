"""Figures: codebook colours with enough contrast, alt texts that say what the figure shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualkit.codebook import load_codebook
from qualkit.figures import accessible_colour, bar_figure, contrast_ratio, coverage_figure, wordcloud_png

from .conftest import REPO


@settings(deadline=None)
@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_figures_accessible_colour_reaches_contrast(rgb: tuple[int, int, int]) -> None:
    colour = "#{:02x}{:02x}{:02x}".format(*rgb)
    out = accessible_colour(colour)
    assert contrast_ratio(out) >= 3.0
    if contrast_ratio(colour) >= 3.0:
        assert out == colour  # a colour with enough contrast is kept as it is


def test_figures_example_codebook_colours_and_grey_reach_3_to_1() -> None:
    assert contrast_ratio("#BBBBBB") < 3.0  # the old survey grey
    cb = load_codebook(REPO / "codebooks" / "handlungsfelder.yaml")
    for code in cb.codes.values():
        assert contrast_ratio(accessible_colour(code.colour)) >= 3.0


@pytest.mark.parametrize("kind", ["bar", "coverage", "cloud"])
def test_figures_alt_text_names_values(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "f.png"
    if kind == "bar":
        df = pd.DataFrame({"Gruppe": ["Schule", "Verwaltung"], "n": [3, 7], "total": [4, 10]})
        alt = bar_figure(df, "Gruppe", "#FFEE88", "Titel", path)
        assert "Schule: 3 von 4 (75 %)" in alt and "Verwaltung: 7 von 10 (70 %)" in alt
    elif kind == "coverage":
        df = pd.DataFrame({"code": ["A", "B"], "iv_n": [1, 2], "iv_total": [4, 4], "sv_n": [5, 0], "sv_total": [10, 10]})
        alt = coverage_figure(df, {"A": "#FFEE88", "B": "#123456"}, path, label_col="code")
        assert "Interviews: A: 1 von 4 (25 %)" in alt and "Online-Befragung: A: 5 von 10 (50 %)" in alt
    else:
        alt = wordcloud_png({"Kita": 5, "Sprachkurs": 3}, "#FFEE88", path)
        assert alt.startswith("Wortwolke") and "Kita (5-mal)" in alt
    assert path.stat().st_size > 1000
