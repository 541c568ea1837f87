"""Privacy: pseudonymisation, the leak guard, and the one attribution rule (k rule).

* :func:`~qualkit._names.detect` (re-exported here) finds names, institutions, streets and contacts.
* :class:`Pseudonymizer` keeps a stable mapping original → ``[Person 12]`` in ``.qualkit/private/`` (never
  under ``outputs/``) and replaces every original, in any text, consistently across all documents; surnames
  found once are replaced wherever else they occur, and so is the proper name of a club ("Frauenverein Köprü"
  → also "Köprü" alone).  The project's ``[privacy] allow`` list marks false alarms, ``deny`` adds names the
  detector missed (``"Yilmaz"`` or ``"Schule: Astrid-Lindgren-Schule"``); ``public`` and ``places`` are words
  that are never names.
* The pseudonymised view is derived: the stored text and the offsets of codings never change.
* :func:`guard_outputs` scans files meant for sharing for every original string of the mapping and for
  e-mail/phone patterns, and raises :class:`LeakError` naming the file and the pseudonym, not the name.
* :class:`Attribution` is the k rule, used by chapters, tables and exports alike: a quote, a table row or a
  spreadsheet row is attributed to a group (or combination of groups) only if at least k persons share it;
  a missing value is its own group ``(fehlt)`` for counting and is never shown.  :func:`attribute` and
  :func:`attribution_groups` are its functional forms, :func:`small_counts` applies it to count tables.
* Re-identification by content (self-descriptions, own town, unique organisations, population figures) is
  :mod:`qualkit.reidentify`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._files import private_dir, private_file, write_private_text
from ._names import _CLUB_WORDS, _EMAIL, _PHONE, _TYPES, Entity, _german_word, detect, public_words
from .errors import LeakError
from .project import Project
from .reidentify import mask_own_place, masked_sources, own_place_masker, self_disclosure
from .units import MISSING, with_missing

__all__ = ["MISSING", "Attribution", "Entity", "NameSearch", "Pseudonymizer", "attribute", "attribution_groups",
           "detect", "guard_outputs", "mask_own_place", "masked_sources", "never_names", "own_place_masker",
           "pseudonymise_project", "search_names_ahead", "self_disclosure", "small_counts"]


def never_names(project: Project) -> frozenset[str]:
    """Words of the project that are never names: ``[privacy] public``, ``landmarks``, ``unique_organisations``,
    the places and their districts (those are masked by :mod:`qualkit.reidentify` where they identify)."""
    cfg = project.config["privacy"]
    words = set(cfg.get("public", ())) | set(cfg["places"]) | set(cfg.get("landmarks", ())) | \
        set(cfg.get("unique_organisations", ()))
    for place, districts in cfg["places"].items():
        for name in (place, *districts):  # "Nord-Talheim" is also "Talheim", "Neustadt am See" also "Neustadt"
            words.update({name, *name.split(), *re.split(r"[\s\-]+", name)})
    return frozenset(w for w in words if w)


# A name stands alone: not inside a longer word, an e-mail address or a domain.  The underscore counts as a
# separator (file names: ``I39_Kowalczyk.txt``), unlike in ``\w``.
_BEFORE = r"(?<![^\W_])(?<![@.])"
_AFTER = r"(?![^\W_])(?!@)"


class Pseudonymizer:
    """A stable mapping of originals to pseudonyms, stored in a JSON file outside ``outputs/``."""

    def __init__(self, path: str | Path | None = None, *, allow: Iterable[str] = (), deny: Iterable[str] = (),
                 public: Iterable[str] = (), names: frozenset[str] | None = None) -> None:
        self.path = Path(path) if path else None
        self.names = names  # a first-name resource other than the default (the benchmark compares them)
        self.allow = frozenset(allow)
        self.public = frozenset(public)
        self.mapping: dict[str, dict[str, str]] = {}
        if self.path and self.path.exists():
            private_file(self.path)
            self.mapping = json.loads(self.path.read_text(encoding="utf-8"))["mapping"]
        for a in self.allow:
            self.mapping.pop(a, None)
        for d in deny:
            typ, _, s = d.partition(":") if ":" in d else ("Person", "", d)
            self._add(s.strip(), _TYPES.get(typ.strip(), "Person"))
        self._rx: re.Pattern[str] | None = None

    @classmethod
    def for_project(cls, project: Project) -> Pseudonymizer:
        cfg = project.config["privacy"]
        return cls(project.private_dir / "pseudonyms.json", allow=cfg["allow"], deny=cfg["deny"],
                   public=never_names(project))

    def _add(self, original: str, typ: str, person_key: str | None = None) -> str:
        if not original or original in self.allow:
            return original
        if original in self.mapping:
            return self.mapping[original]["label"]
        if person_key and person_key in self.mapping:
            label = self.mapping[person_key]["label"]
        else:
            n = 1 + sum(1 for v in self.mapping.values() if v["type"] == typ and v.get("primary", "1") == "1")
            label = f"[{typ} {n}]"
        self.mapping[original] = {"label": label, "type": typ,
                                  "primary": "0" if person_key and person_key in self.mapping else "1"}
        self._rx = None
        return label

    def learn(self, texts: Iterable[str], *, jobs: int = 1, scheduler: str | None = None,
              known: dict[bytes, list[Entity]] | None = None) -> int:
        """Detect entities in ``texts`` and add them to the mapping (in order of appearance).  For a
        person ``Anja Brinkhoff`` the surname ``Brinkhoff`` gets the same pseudonym.  With ``jobs`` > 1 a large
        corpus is searched on that many local processes, with ``scheduler`` on Dask; the mapping is the same.
        ``known`` holds what a search ahead found in some of the texts, by their :func:`_text_key`
        (:func:`search_names_ahead`)."""
        before = len(self.mapping)
        known = known or {}
        for part in _parts(texts, _LEARN_CHARS):  # a part at a time: the corpus is never held whole
            keys = [_text_key(t) for t in part] if known else [b""] * len(part)  # b"" is no text's key
            rest = _detections([t for t, k in zip(part, keys, strict=True) if k not in known],
                               self.allow | self.public, self.names, jobs, scheduler)
            del part
            for found in (known[k] if k in known else next(rest) for k in keys):
                self._note(found)
        self._rx = None
        return len(self.mapping) - before

    def _note(self, found: list[Entity]) -> None:
        """Add the entities found in one text to the mapping."""
        for e in found:
            if e.type == "Person":
                parts = e.text.split()
                surname = parts[-1]
                if len(parts) > 1:
                    key = surname if surname in self.mapping else None
                    label = self._add(e.text, "Person", key)
                    forms = (surname,) if surname.endswith(("s", "x", "z")) else (surname, surname + "s")
                    for form in forms:  # "Brinkhoff", "Brinkhoffs" (genitive)
                        if form not in self.mapping and form not in self.allow:
                            self.mapping[form] = {"label": label, "type": "Person", "primary": "0"}
                else:
                    self._add(surname, "Person")
            else:
                label = self._add(e.text, e.type)
                own = _proper_name(e)
                never = self.allow | self.public
                if own and not any(part in never for part in re.split(r"[\s\-]+", own)):
                    # "Köprü"; "Hülsmanns" (genitive)
                    for form in (own,) if own.endswith(("s", "x", "z")) else (own, own + "s"):
                        if form not in self.mapping:
                            self.mapping[form] = {"label": label, "type": e.type, "primary": "0"}

    def save(self) -> None:
        if self.path is None:
            return
        private_dir(self.path.parent)
        write_private_text(self.path, json.dumps({"note": "PRIVATE: original names. Never share this file.",
                                                  "mapping": self.mapping}, ensure_ascii=False, indent=1))

    def _regex(self) -> re.Pattern[str] | None:
        if self._rx is None and self.mapping:
            keys = sorted(self.mapping, key=len, reverse=True)
            self._rx = re.compile(_BEFORE + "(" + _trie_pattern(keys) + ")" + _AFTER)
        return self._rx

    def pseudonymise(self, text: str) -> str:
        """Replace every known original (and any e-mail or phone number) in ``text``."""
        if not text:
            return text
        rx = self._regex()
        if rx is not None:
            text = rx.sub(lambda m: self.mapping[m.group(1)]["label"], text)
        text = _EMAIL.sub("[E-Mail]", text)
        return _PHONE.sub(lambda m: "[Telefon]" if len(re.sub(r"\D", "", m.group())) >= 7 else m.group(), text)

    def originals(self) -> list[tuple[str, str]]:
        """(original, pseudonym) pairs, longest first."""
        return sorted(((k, v["label"]) for k, v in self.mapping.items()), key=lambda kv: -len(kv[0]))


_TRADE_WORDS = ("spedition", "firma", "bäckerei", "autohaus", "pflegedienst", "betrieb", "werkstatt", "handel")


def _proper_name(e: Entity) -> str | None:
    """The proper name of a club or firm, "Köprü" in "Frauenverein Köprü", "Hülsmann" in "Spedition Hülsmann": a
    last word that is no German word and no public word, so it names the club or firm on its own too."""
    parts = e.text.split()
    if e.type not in ("Verein", "Unternehmen") or len(parts) != 2:
        return None
    if not parts[0].lower().endswith(_CLUB_WORDS if e.type == "Verein" else _TRADE_WORDS):
        return None
    last = parts[1]
    if len(last) < 4 or last in public_words() or _german_word(last):
        return None
    return last


_PARALLEL_CHARS = 1_000_000  # below this even forked workers save nothing (the search takes ~1 s per million)
_BATCH_CHARS = 500_000
_LEARN_CHARS = 32_000_000  # texts Pseudonymizer.learn holds at a time (each part's search opens its workers)


def _parts(texts: Iterable[str], chars: int) -> Iterator[list[str]]:
    """``texts`` in lists of about ``chars`` characters (at least one text each), in order: a worker's batch of
    the name search (:data:`_BATCH_CHARS`), or what :meth:`Pseudonymizer.learn` holds at a time."""
    part: list[str] = []
    size = 0
    for t in texts:
        part.append(t)
        size += len(t)
        if size >= chars:
            yield part
            part, size = [], 0
    if part:
        yield part


def _detections(texts: Iterable[str], allow: frozenset[str], names: frozenset[str] | None, jobs: int,
                scheduler: str | None = None) -> Iterator[list[Entity]]:
    """:func:`detect` of each text, in order; on ``jobs`` local processes (forked where the system can fork:
    they inherit the loaded lemma table) or on Dask (``scheduler``, see :func:`qualkit.prepare.executor`) when
    the texts are many."""
    texts = list(texts)
    if not scheduler and (jobs <= 1 or sum(map(len, texts)) < _PARALLEL_CHARS):
        for t in texts:
            yield detect(t, allow=allow, names=names)
        return
    from ._names import _german_word
    from .prepare import _can_fork, map_in_order
    if not scheduler and _can_fork():
        _german_word("Haus")  # loads spaCy's lemma table here, once, for every forked worker
    batches = list(_parts(texts, _BATCH_CHARS))
    for found in map_in_order(_batch, batches, allow, names, jobs=jobs, scheduler=scheduler):
        yield from found


def _text_key(text: str) -> bytes:
    """What a search ahead knows a text by: a digest, not the text (so the search does not keep the corpus)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _batch(texts: list[str], allow: frozenset[str], names: frozenset[str] | None) -> list[list[Entity]]:
    return [detect(t, allow=allow, names=names) for t in texts]


class NameSearch:
    """The name search of some texts on ``workers`` local processes started at once, while this process goes on
    (:func:`search_names_ahead`).  Each worker loads spaCy's lemma table itself, so this process's core stays
    free for what it does meanwhile.  The workers are spawned, not forked: a forked worker keeps every page of
    this process as it was at the fork (every document just read) for as long as it searches, because this
    process then writes the documents to the store, lets them go and reuses their memory, and each page it
    writes to is copied (at ×100, 0.38 GB in the worker besides this process's own)."""

    def __init__(self, texts: Iterable[str], allow: frozenset[str], names: frozenset[str] | None,
                 workers: int) -> None:
        from .prepare import _Processes
        self._keys: list[bytes] = []
        self._futures: list[Any] = []
        self._pool = _Processes(workers, fork=False)
        # at most this many batches are on their way at a time: the texts are read (from the ingest's spool) as
        # the workers take them, and a batch's are let go once it is searched, so the search does not hold the
        # corpus's texts while the store is written and read back for the mapping
        self._room = threading.Semaphore(workers + 1)
        self._stopped = False
        self._error: BaseException | None = None
        self._feeder = threading.Thread(target=self._feed, args=(iter(texts), allow, names), daemon=True,
                                        name="qualkit-name-search")
        self._feeder.start()

    def _feed(self, texts: Iterator[str], allow: frozenset[str], names: frozenset[str] | None) -> None:
        def keyed() -> Iterator[str]:
            for t in texts:
                self._keys.append(_text_key(t))
                yield t
        try:
            for batch in _parts(keyed(), _BATCH_CHARS):
                self._room.acquire()
                if self._stopped:
                    return
                fut = self._pool.pool.submit(_batch, batch, allow, names)
                fut.add_done_callback(lambda _f: self._room.release())
                self._futures.append(fut)
                del batch
        except BaseException as e:  # raised by found(), in the thread that asks
            self._error = e

    def found(self) -> dict[bytes, list[Entity]]:
        """A text's :func:`_text_key` -> its entities, once the search is done (its error, if it failed)."""
        _german_word("Haus")  # this process needs the lemma table next: it loads while the workers finish
        try:
            self._feeder.join()
            if self._error is not None:
                raise self._error
            found = [e for fut in self._futures for e in fut.result()]
        finally:
            self._pool.close()
        return dict(zip(self._keys, found, strict=True))

    def cancel(self) -> None:
        """Stop the search unused (the run failed before it was needed): its workers end."""
        self._stopped = True
        self._room.release()  # a feeder waiting for room sees it is stopped
        self._pool.close()
        self._feeder.join()


def search_names_ahead(project: Project, texts: Iterable[str], *, jobs: int,
                       chars: int | None = None) -> NameSearch | None:
    """Start searching ``texts`` (documents about to be stored; ``chars``: their total length, if known) for
    names in the background, where that pays: ``jobs`` > 1 local processes and a large corpus.  The report does
    so while the store is written, then hands the search to :func:`pseudonymise_project`, which finds the same
    names either way.  The texts are read as the search goes on (:func:`qualkit.corpus.ingest`'s ``on_read``
    gives an iterator that reads them from disk)."""
    if chars is None:
        texts = list(texts)
        chars = sum(map(len, texts))
    if jobs <= 1 or chars < _PARALLEL_CHARS:
        return None
    p = Pseudonymizer.for_project(project)  # allow and public words come from the configuration, not the store
    # one core is this process's (it writes the store meanwhile), the others search
    return NameSearch(texts, p.allow | p.public, p.names, jobs - 1)


def pseudonymise_project(project: Project, *, jobs: int = 1, scheduler: str | None = None,
                         ahead: NameSearch | None = None) -> Pseudonymizer:
    """Detect names in all documents (and memos) of the store and save the mapping; returns it.  ``jobs`` > 1
    searches a large corpus on that many local processes, ``scheduler`` on Dask (see
    :func:`qualkit.prepare.executor`); the mapping is the same.  ``ahead`` is a search already started on some
    of the texts (:func:`search_names_ahead`).

    Re-running keeps every existing pseudonym and applies the current allow/deny lists.
    """
    p = Pseudonymizer.for_project(project)
    texts = (r[0] for r in project.store.rows("SELECT text FROM documents ORDER BY kind, id"))
    p.learn(texts, jobs=jobs, scheduler=scheduler, known=ahead.found() if ahead else None)
    p.learn(r[0] for r in project.store.query("SELECT text FROM memos"))
    p.save()
    return p


def _file_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".docx", ".xlsx", ".pptx", ".odt", ".qdpx"):
        parts = []
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith((".xml", ".txt", ".qde", ".rels", ".html")):
                    raw = z.read(name).decode("utf-8", "replace")
                    parts.append(re.sub(r"<[^>]+>", " ", raw) if name.endswith(".xml") else raw)
        import html
        return html.unescape("\n".join(parts))
    if suffix in (".png", ".jpg", ".jpeg", ".gif", ".pdf", ".svg", ".sqlite", ".joblib"):
        return ""  # images are drawn from pseudonymised text; binary formats cannot be scanned as text
    raw = path.read_bytes().decode("utf-8", "replace")
    if suffix in (".html", ".htm", ".ipynb", ".json"):
        import html
        raw = html.unescape(raw.replace("\\u00", "\\\\u00"))
        if suffix in (".ipynb", ".json"):
            with contextlib.suppress(ValueError):
                raw = json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
    return raw


def _trie_pattern(words: Sequence[str]) -> str:
    """One regex alternation for many literal strings, factored as a prefix tree: the regex engine then tests
    one branch per character instead of every string at every position (the leak guard scans megabytes)."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        optional = "" in node
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and not optional else "(?:" + "|".join(alts) + ")"
        return body + ("?" if optional else "")

    return build(trie)


def guard_outputs(project: Project, paths: Iterable[str | Path], *, remove: bool = True) -> None:
    """Refuse outputs that carry an original name, e-mail address or phone number.

    Raises :class:`LeakError` naming the file and the pseudonym of the string (never the string); with
    ``remove`` the offending file is deleted so it cannot be shared by mistake.
    """
    p = Pseudonymizer.for_project(project)
    originals = p.originals()
    rx = (re.compile(_BEFORE + "(" + _trie_pattern([k for k, _ in originals]) + ")" + _AFTER)
          if originals else None)
    labels = dict(originals)
    files: list[Path] = []
    for path in paths:
        q = Path(path)
        files.extend(sorted(x for x in q.rglob("*") if x.is_file()) if q.is_dir() else [q])
    for f in files:
        text = _file_text(f)
        hit = rx.search(text) if rx is not None else None
        label = labels[hit.group(1)] if hit else None
        if label is None:
            e = _EMAIL.search(text)
            if e:
                label = "[E-Mail]"
            else:
                ph = next((m for m in _PHONE.finditer(text) if len(re.sub(r"\D", "", m.group())) >= 9), None)
                label = "[Telefon]" if ph else None
        if label is not None:
            if remove:
                f.unlink(missing_ok=True)
            raise LeakError(f, label)


class Attribution:
    """The k rule for a project: who may be named by which group.

    ``variables`` maps a case kind (``interview``, ``respondent``) to the case variables a quote of that kind is
    attributed by (default: ``[report] attribution`` and ``survey_attribution``).  A combination of values
    shared by fewer than ``k`` persons of that kind singles someone out: it is never shown.  A missing value
    counts as its own group (:data:`MISSING`) and is left out of labels.
    """

    def __init__(self, project: Project, *, interview: Sequence[str] | None = None,
                 survey: Sequence[str] | None = None, k: int | None = None) -> None:
        cfg = project.config["report"]
        self.k = int(k if k is not None else cfg["k"])
        cv = project.store.case_variables()
        self.cases = cv.set_index("case_id") if not cv.empty else cv
        wanted = {"interview": list(interview if interview is not None else cfg["attribution"]),
                  "respondent": list(survey if survey is not None else cfg.get("survey_attribution", ()))}
        self.variables = {kind: [v for v in vs if not self.cases.empty and v in self.cases.columns]
                          for kind, vs in wanted.items()}
        self._groups: dict[str, pd.DataFrame] = {}
        self._cache: dict[str, tuple[str, dict[str, str], bool]] = {}
        self._small: dict[str, dict[tuple[str, ...], bool]] = {}

    def groups(self, kind: str = "interview") -> pd.DataFrame:
        """Persons per combination of the kind's variables; ``too_small`` where fewer than k."""
        kind = "interview" if kind == "interview" else "respondent"
        if kind not in self._groups:
            cv = self.cases[self.cases.case_kind == kind] if not self.cases.empty else self.cases
            self._groups[kind] = _group_counts(cv, self.variables[kind], self.k)
        return self._groups[kind]

    def _resolve(self, case_id: str) -> tuple[str, dict[str, str], bool]:
        if case_id in self._cache:
            return self._cache[case_id]
        if self.cases.empty or case_id not in self.cases.index:
            out: tuple[str, dict[str, str], bool] = ("unbekannt", {}, True)
        else:
            row = self.cases.loc[case_id]
            kind = "interview" if row.case_kind == "interview" else "respondent"
            source = "Interview" if kind == "interview" else "Umfrage"
            cols = self.variables[kind]
            values = {v: (str(row[v]) if pd.notna(row[v]) and str(row[v]) != "" else MISSING) for v in cols}
            if kind not in self._small:  # group values -> too small, for a lookup per case
                g = self.groups(kind)
                self._small[kind] = {tuple(str(x) for x in key): bool(small) for key, small in
                                     zip(g[cols].itertuples(index=False, name=None), g.too_small)} if cols else {}
            small = self._small[kind].get(tuple(values[v] for v in cols))
            if not cols:
                out = (source, {}, False)
            elif small is None or small:
                out = (source, {}, True)
            else:
                shown = {v: x for v, x in values.items() if x != MISSING}
                out = (", ".join([source, *shown.values()]), shown, False)
        self._cache[case_id] = out
        return out

    def label(self, case_id: str) -> tuple[str, bool]:
        """``(label, coarsened)``: "Interview, Verwaltung", or the source alone where the group is too small."""
        label, _values, coarsened = self._resolve(case_id)
        return label, coarsened

    def values(self, case_id: str) -> dict[str, str]:
        """The attribution values a row by ``case_id`` may carry (empty where its group is too small)."""
        return dict(self._resolve(case_id)[1])


def _group_counts(cv: pd.DataFrame, variables: Sequence[str], k: int) -> pd.DataFrame:
    if not variables:
        return pd.DataFrame({"persons": [len(cv)], "too_small": [len(cv) < k]})
    filled = cv[list(variables)].astype("string").apply(with_missing)
    filled["case_id"] = cv.index
    g = filled.groupby(list(variables)).case_id.nunique().rename("persons").reset_index()
    g["too_small"] = g.persons < k
    return g.sort_values(list(variables)).reset_index(drop=True)


def attribution_groups(project: Project, variables: Sequence[str], *, k: int | None = None,
                       kind: str = "interview") -> pd.DataFrame:
    """Persons per combination of ``variables`` (interviewees by default), with ``too_small`` for groups
    below ``k`` (the project's ``[report] k``, default 3): such an attribution identifies a person."""
    cv = project.store.case_variables()
    missing = [v for v in variables if v not in cv.columns]
    if missing:
        raise KeyError(f"no case variable {', '.join(missing)}")
    a = Attribution(project, interview=variables, survey=variables, k=k)
    return a.groups(kind)


def attribute(project: Project, case_id: str, variables: Sequence[str] | None = None, *, k: int | None = None
              ) -> tuple[str, bool]:
    """The attribution of a quote by ``case_id``: ``(label, flagged)`` (see :class:`Attribution`)."""
    return Attribution(project, interview=variables, survey=variables, k=k).label(case_id)


def small_counts(df: pd.DataFrame, columns: Sequence[str], *, k: int, total: str | None = None,
                 also: Sequence[str] = ()) -> pd.DataFrame:
    """A count table with the k rule applied: a count of 1 … k-1 persons becomes ``"< k"``.

    With ``total``, a row whose ``total`` is below k (a group of fewer than k persons) has ``total``, ``columns``
    and ``also`` (e.g. a share) blanked as ``"< k"`` as a whole, so what that group said cannot be read off.
    """
    out = df.copy().astype({c: object for c in [*columns, *also, *([total] if total else [])] if c in df.columns})
    mark = f"< {k}"
    for c in columns:
        if c in out.columns:
            out[c] = [mark if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < k else v
                      for v in out[c]]
    if total and total in out.columns:
        small = [isinstance(v, (int, float)) and 0 < v < k for v in df[total]]
        for c in [total, *columns, *also]:
            if c in out.columns:
                out.loc[small, c] = mark
    return out
