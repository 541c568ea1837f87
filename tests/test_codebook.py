from __future__ import annotations

from pathlib import Path

import pytest

from qualkit.codebook import load_codebook, parse_codebook
from qualkit.errors import CodebookError

from .conftest import REPO

FIELDS = ["Zusammenleben und Teilhabe", "Engagierte Bürgerinnen und Bürger", "Wirtschaft und Arbeitsmarkt",
          "Bildung und Sprache", "Wohnen und Mobilität", "Gesundheit und Sport",
          "Institution und Professionalisierung"]


def test_codebook_shipped_has_seven_handlungsfelder_with_rules() -> None:
    cb = load_codebook(REPO / "codebooks/handlungsfelder.yaml")
    assert list(cb.primary.codes) == FIELDS
    for name in FIELDS:
        code = cb.codes[name]
        assert code.definition and code.include and code.exclude and len(code.anchors) >= 2
        assert code.indicators and code.colour.startswith("#")
        assert 3 <= len(cb.children(name)) <= 6
        assert all(c.definition for c in cb.children(name))
    assert list(cb.dimension("forschungsfrage").codes) == [
        "Leistung Kreis/KI", "Schwerpunkt vor Ort", "Bedarf/Lücke", "Unterstützungswunsch",
        "Netzwerk/Kooperation", "Gute Praxis"]
    assert list(cb.dimension("zielgruppe").codes) == [
        "Schutzsuchende", "Menschen mit Zuwanderungsgeschichte", "Aufnahmegesellschaft"]
    assert cb.root("Schule und Seiteneinstieg") == "Bildung und Sprache"


def test_codebook_package_default_equals_shipped() -> None:
    shipped = (REPO / "codebooks/handlungsfelder.yaml").read_text(encoding="utf-8")
    packaged = (REPO / "src/qualkit/data/handlungsfelder.yaml").read_text(encoding="utf-8")
    assert shipped == packaged


@pytest.mark.parametrize(("text", "reason", "line"), [
    ("name: x\ndimensions:\n  - key: a\n    codes:\n      - name: A\n     colour: red\n", "not valid YAML", 6),
    ("name: x\ndimensions:\n  - key: a\n    codes:\n      - name: A\n        colur: '#112233'\n",
     "unknown field", 6),  # the line of the typo, not of the code
    ("name: x\ndimensions:\n  - key: a\n    codes:\n      - name: A\n      - name: A\n", "used twice (first in line 5)",
     6),
    ("name: x\ndimensions:\n  - key: a\n    codes:\n      - name: Wohnen\n      - name: 'wohnen '\n",
     "only in upper/lower case", 6),
    ("name: x\ndimensions:\n  - key: a\n    codes:\n      - name: A\n        colour: blau\n",
     "invalid colour", 5),
    ("name: x\n", "no 'dimensions'", None),
])
def test_codebook_errors_name_line_and_fix(text: str, reason: str, line: int | None, tmp_path: Path) -> None:
    p = tmp_path / "cb.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CodebookError) as exc:
        load_codebook(p)
    assert reason in exc.value.reason
    assert exc.value.line == line
    assert str(p) in str(exc.value)


def test_codebook_unknown_code_lists_similar() -> None:
    cb = parse_codebook("name: x\ndimensions:\n  - key: a\n    codes:\n      - name: Bildung\n")
    with pytest.raises(CodebookError, match="Bildung"):
        cb.get("Bildungg")


DUP_CODES = """name: T
dimensions:
  - key: hf
    codes:
      - name: Alpha
      - name: Beta
    codes:
      - name: Gamma
"""


def test_codebook_duplicate_codes_key_rejected_with_both_lines(tmp_path: Path) -> None:
    p = tmp_path / "cb.yaml"
    p.write_text(DUP_CODES, encoding="utf-8")
    with pytest.raises(CodebookError) as exc:
        load_codebook(p)
    assert exc.value.line == 7 and exc.value.key == "codes" and "first in line 4" in str(exc.value)
    assert str(p) in str(exc.value)


def test_codebook_duplicate_name_key_rejected() -> None:
    text = "name: T\ndimensions:\n  - key: hf\n    codes:\n      - name: Alpha\n        name: Beta\n"
    with pytest.raises(CodebookError) as exc:
        parse_codebook(text, path="cb.yaml")
    assert exc.value.line == 6 and exc.value.key == "name"


def test_codebook_alias_bomb_rejected_quickly() -> None:
    from qualkit.errors import LimitError
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]" for i in range(1, 12)]
    bomb = "\n".join(lines) + "\nname: T\ndimensions: *a11\n"
    with pytest.raises(LimitError) as exc:
        parse_codebook(bomb, path="bomb.yaml")
    assert exc.value.limit == "yaml_aliases" and exc.value.line is not None
    assert "QUALKIT_MAX_YAML_ALIASES" in str(exc.value)


def test_codebook_few_aliases_still_allowed() -> None:
    text = ("name: T\ndimensions:\n  - key: hf\n    codes:\n      - name: Alpha\n        include: &inc [a, b]\n"
            "      - name: Beta\n        include: *inc\n")
    cb = parse_codebook(text, path="cb.yaml")
    assert cb.codes["Beta"].include == ("a", "b")


def test_codebook_folder_is_a_codebook_error(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="folder"):
        load_codebook(tmp_path)
