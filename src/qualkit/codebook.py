"""Codebooks: a YAML file of dimensions, codes and subcodes, validated on load.

The format is documented in ``docs/codebook-format.md``.  A codebook has one or more *dimensions*
(for the example project: Handlungsfelder, Forschungsfragen, Zielgruppen); every code has a name that
is unique across the whole codebook, so codings refer to codes by name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._limits import check_file_size, check_yaml
from .errors import CodebookError

__all__ = ["Code", "Codebook", "Dimension", "load_codebook"]

_CODE_FIELDS = {
    "name", "colour", "color", "shortcut", "definition", "include", "exclude", "anchors",
    "indicators", "exclude_terms", "subcodes",
}
_DIM_FIELDS = {"key", "name", "autocode", "codes", "singular", "article"}
_TOP_FIELDS = {"name", "version", "language", "description", "dimensions"}
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_PALETTE = ["#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7",
            "#9C755F", "#BAB0AC"]


@dataclass(frozen=True)
class Code:
    """One code of the codebook.  ``parent`` is ``None`` for a top-level code of its dimension."""

    name: str
    dimension: str
    parent: str | None = None
    colour: str = "#888888"
    shortcut: str | None = None
    definition: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    anchors: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    exclude_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dimension:
    """A dimension (category system) of the codebook, e.g. the Handlungsfelder."""

    key: str
    name: str
    autocode: bool
    codes: tuple[str, ...]  # top-level code names in codebook order
    singular: str = "Kategorie"  # how chapters name one of its codes ("Handlungsfeld")
    article: str = "die"         # its German article: der, die or das


@dataclass(frozen=True)
class Codebook:
    """A validated codebook.  ``codes`` keeps codebook order (parents before their subcodes)."""

    name: str
    version: str
    language: str
    description: str
    dimensions: tuple[Dimension, ...]
    codes: dict[str, Code] = field(hash=False)
    path: str = ""
    sha256: str = ""

    def dimension(self, key: str) -> Dimension:
        for d in self.dimensions:
            if d.key == key:
                return d
        raise CodebookError(self.path, f"no dimension {key!r}", key=key,
                            hint=f"known dimensions: {', '.join(d.key for d in self.dimensions)}")

    @property
    def primary(self) -> Dimension:
        """The first dimension: the one chapters are written for (the Handlungsfelder)."""
        return self.dimensions[0]

    def first_code(self) -> str:
        """The first top-level code of the first dimension (what a notebook shows when no code is chosen)."""
        return self.primary.codes[0]

    def children(self, name: str) -> list[Code]:
        return [c for c in self.codes.values() if c.parent == name]

    def root(self, name: str) -> str:
        """The top-level code a (sub)code belongs to."""
        code = self.get(name)
        while code.parent is not None:
            code = self.codes[code.parent]
        return code.name

    def descendants(self, name: str) -> list[str]:
        """``name`` and every code below it."""
        out = [name]
        for child in self.children(name):
            out.extend(self.descendants(child.name))
        return out

    def get(self, name: str) -> Code:
        try:
            return self.codes[name]
        except KeyError:
            close = [n for n in self.codes if n.lower().startswith(name[:4].lower())][:5]
            names = list(self.codes)
            raise CodebookError(self.path, f"unknown code {name!r}", key=name,
                                hint=f"similar codes: {', '.join(close)}" if close
                                else f"valid code names: {', '.join(names[:30])}{' …' if len(names) > 30 else ''} "
                                     "(`qualkit codebook show` lists all)") from None


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of every mapping as ``__line__``."""


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, line: int, first: int) -> None:
        self.key, self.line, self.first = key, line, first
        super().__init__(key)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    # a second `codes:` (or `name:`) in one mapping would silently replace the first: YAML forbids it, PyYAML
    # accepts it, so it is rejected here with both lines
    first: dict[str, int] = {}
    for k, _ in node.value:
        key, line = str(k.value), k.start_mark.line + 1
        if key in first:
            raise _DuplicateKey(key, line, first[key])
        first[key] = line
    mapping: dict[str, Any] = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}  # line of each key
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strings(value: Any, path: str, key: str, line: int | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise CodebookError(path, f"{key!r} must be a list of texts", key=key, line=line,
                        hint="write it as a YAML list: [Begriff1, Begriff2] or one '- item' per line")


def _parse_code(raw: Any, *, path: str, dim: str, parent: str | None, out: dict[str, Code],
                n: int, lines: dict[str, int]) -> str:
    """Parse one code and its subcodes into ``out``; ``lines`` records where each name stands."""
    if not isinstance(raw, dict):
        raise CodebookError(path, f"a code in dimension {dim!r} is not a mapping: {raw!r}", key=dim,
                            hint="every code needs at least 'name: ...'")
    line = raw.get("__line__")
    unknown = set(raw) - _CODE_FIELDS - {"__line__", "__lines__"}
    if unknown:
        raise CodebookError(path, f"unknown field(s) {', '.join(sorted(unknown))}",
                            line=min(raw.get("__lines__", {}).get(u, line or 0) for u in unknown) or line,
                            key=str(raw.get("name", "")),
                            hint=f"valid fields of a code: {', '.join(sorted(_CODE_FIELDS))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CodebookError(path, "a code has no name", line=line, key=dim,
                            hint="add 'name: <code name>'")
    name = name.strip()
    same = next((k for k in out if k.casefold() == name.casefold()), None)
    if same is not None:
        first = lines.get(same)
        where = f" (first in line {first})" if first else ""
        raise CodebookError(path, f"code name {name!r} is used twice{where}" if same == name else
                            f"code name {name!r} differs from {same!r}{where} only in upper/lower case",
                            key=name, line=line, hint="code names must be unique across the whole codebook")
    if line:
        lines[name] = int(line)
    colour = raw.get("colour", raw.get("color"))
    if colour is None:
        colour = out[parent].colour if parent else _PALETTE[n % len(_PALETTE)]
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        raise CodebookError(path, f"code {name!r} has an invalid colour {colour!r}", key=name, line=line,
                            hint="write colours as \"#RRGGBB\" in quotes, e.g. \"#2E86AB\"")
    shortcut = raw.get("shortcut")
    if shortcut is not None:
        shortcut = str(shortcut)
        if len(shortcut) != 1:
            raise CodebookError(path, f"code {name!r}: shortcut {shortcut!r} must be one key", key=name,
                                line=line, hint="use a single character such as \"4\" or \"b\"")
    out[name] = Code(
        name=name, dimension=dim, parent=parent, colour=colour.upper(), shortcut=shortcut,
        definition=str(raw.get("definition") or "").strip(),
        include=_strings(raw.get("include"), path, "include", line),
        exclude=_strings(raw.get("exclude"), path, "exclude", line),
        anchors=_strings(raw.get("anchors"), path, "anchors", line),
        indicators=_strings(raw.get("indicators"), path, "indicators", line),
        exclude_terms=_strings(raw.get("exclude_terms"), path, "exclude_terms", line),
    )
    subs = raw.get("subcodes") or []
    if not isinstance(subs, list):
        raise CodebookError(path, f"code {name!r}: 'subcodes' must be a list", key=name, line=line)
    for i, sub in enumerate(subs):
        _parse_code(sub, path=path, dim=dim, parent=name, out=out, n=n + i + 1, lines=lines)
    return name


def parse_codebook(text: str, *, path: str = "<codebook>") -> Codebook:
    """Parse and validate codebook YAML text.  Raises :class:`CodebookError`."""
    check_yaml(text, path)
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except _DuplicateKey as e:
        raise CodebookError(path, f"the key {e.key!r} appears twice in one entry (first in line {e.first})",
                            key=e.key, line=e.line,
                            hint="YAML keeps only the last one, so the first would be lost silently: merge the "
                                 "two into one, or indent the second under the entry it belongs to") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise CodebookError(path, f"not valid YAML: {getattr(e, 'problem', e)}",
                            line=mark.line + 1 if mark else None,
                            hint="check indentation and quotes near that line") from e
    if not isinstance(data, dict):
        raise CodebookError(path, "the codebook must be a mapping with 'name' and 'dimensions'",
                            hint="see docs/codebook-format.md for an example")
    unknown = set(data) - _TOP_FIELDS - {"__line__", "__lines__"}
    if unknown:
        raise CodebookError(path, f"unknown top-level field(s) {', '.join(sorted(unknown))}",
                            hint=f"valid fields: {', '.join(sorted(_TOP_FIELDS))}")
    dims_raw = data.get("dimensions")
    if not isinstance(dims_raw, list) or not dims_raw:
        raise CodebookError(path, "the codebook has no 'dimensions' list", key="dimensions",
                            hint="add 'dimensions:' with at least one dimension holding 'codes:'")
    codes: dict[str, Code] = {}
    lines: dict[str, int] = {}
    dims: list[Dimension] = []
    for d in dims_raw:
        line = d.get("__line__") if isinstance(d, dict) else None
        if not isinstance(d, dict) or not d.get("key") or not isinstance(d.get("codes"), list):
            raise CodebookError(path, "a dimension needs 'key' and a list of 'codes'", line=line,
                                key="dimensions")
        unknown = set(d) - _DIM_FIELDS - {"__line__", "__lines__"}
        if unknown:
            raise CodebookError(path, f"unknown field(s) {', '.join(sorted(unknown))} in dimension",
                                line=line, key=str(d["key"]),
                                hint=f"valid fields: {', '.join(sorted(_DIM_FIELDS))}")
        key = str(d["key"])
        if any(x.key == key for x in dims):
            raise CodebookError(path, f"dimension key {key!r} is used twice", line=line, key=key)
        top = tuple(_parse_code(c, path=path, dim=key, parent=None, out=codes, n=len(codes), lines=lines)
                    for c in d["codes"])
        article = str(d.get("article") or "die")
        if article not in ("der", "die", "das"):
            raise CodebookError(path, f"article {article!r} of dimension {key!r} is not der, die or das", line=line,
                                key=key, hint="give the German article of the singular, e.g. article: das")
        dims.append(Dimension(key=key, name=str(d.get("name") or key), autocode=bool(d.get("autocode")),
                              codes=top, singular=str(d.get("singular") or "Kategorie"),
                              article=article if d.get("singular") else "die"))
    shortcuts: dict[str, str] = {}
    for c in codes.values():
        if c.shortcut:
            if c.shortcut in shortcuts:
                raise CodebookError(path, f"shortcut {c.shortcut!r} is used by {shortcuts[c.shortcut]!r} "
                                    f"and {c.name!r}", key=c.name, hint="give every code its own key")
            shortcuts[c.shortcut] = c.name
    return Codebook(
        name=str(data.get("name") or "Codebuch"), version=str(data.get("version") or ""),
        language=str(data.get("language") or "de"), description=str(data.get("description") or ""),
        dimensions=tuple(dims), codes=codes, path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_codebook(path: str | Path) -> Codebook:
    """Load and validate a codebook YAML file.

    Raises
    ------
    CodebookError
        naming the file, the line and the entry when the file does not parse or validate.
    """
    p = Path(path)
    if p.is_dir():
        raise CodebookError(p, "is a folder, not a codebook file",
                            hint="point 'codebook' in qualkit.toml at the .yaml file")
    try:
        check_file_size(p)
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CodebookError(p, "codebook file not found",
                            hint="check 'codebook' in qualkit.toml or run `qualkit init`") from None
    except UnicodeDecodeError as e:
        raise CodebookError(p, f"not UTF-8 text (byte {e.start})",
                            hint="save the codebook as UTF-8") from e
    return parse_codebook(text, path=str(p))
