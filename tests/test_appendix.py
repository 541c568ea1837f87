"""The method appendix: each method term explained once, with the report's own settings."""

from __future__ import annotations

from pathlib import Path

from qualkit.appendix import GLOSSARY, method_appendix
from qualkit.blocks import blocks_to_html
from qualkit.worddoc import blocks_to_docx


def test_appendix_explains_each_term_once_with_settings() -> None:
    blocks = method_appendix(k=4, attribution=["Gruppe A"], survey_attribution=["Typ B"], min_theme_size=7)
    assert blocks[0].kind == "heading" and blocks[-1].kind == "terms"
    terms = [t for t, _ in blocks[-1].rows]
    assert len(terms) == len(set(terms)) == len(GLOSSARY)
    for needed in ("Jaccard-Koeffizient", "Themen (NMF)", "Cohens Kappa", "Krippendorffs Alpha",
                   "Mindestgröße von Gruppen (k = 4)"):
        assert needed in terms
    text = " ".join(x for _, x in blocks[-1].rows)
    assert "Gruppe A, Typ B" in text and "mindestens 4 Personen" in text and "mindestens 7 Aussagen" in text
    assert "{" not in text and "}" not in text


def test_appendix_renders_as_glossary(tmp_path: Path) -> None:
    blocks = method_appendix()
    html = blocks_to_html(blocks)
    assert html.count("<dt>") == len(GLOSSARY) and "<dd>" in html
    out = tmp_path / "a.docx"
    blocks_to_docx([("anhang", blocks)], out, base=tmp_path, title="Anhang")
    import zipfile
    assert "Jaccard-Koeffizient: " in zipfile.ZipFile(out).read("word/document.xml").decode("utf-8")
