"""The German text pipeline: spaCy's blank German tokenizer and sentencizer, the lookup lemmatizer
from ``spacy-lookups-data``, German stop words plus spoken-language fillers, and our own compound
splitter.  No model is downloaded, ever.

The lookup table misses most compounds (``Sprachkurse``, ``Arbeitsplätze``) and is case-sensitive.
:func:`lemma` therefore tries the table, then the lower-cased word, then the compound's head:
``Sprachkurse`` → ``Sprachkurs`` with parts ``Sprache``, ``Kurs``.  Results are cached on disk in
``.qualkit/cache/nlp.sqlite``, keyed by the text's hash and :data:`PIPELINE_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.metadata import version
from itertools import islice
from pathlib import Path
from sys import intern
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["PIPELINE_VERSION", "Analysis", "GermanPipeline", "lemma", "preload", "split_compound", "stop_words"]

PIPELINE_VERSION = f"de-blank-lookup{version('spacy-lookups-data')}-spacy{version('spacy')}-q3"

# Spoken-language fillers and transcription marks that carry no topic (f4 simple rules).
FILLERS = frozenset("""
ähm äh hm hmm mhm mh ähh öhm naja na ne nee jo joa okay ok genau halt eben eigentlich irgendwie quasi sozusagen
sag mal schon ja gut also wirklich einfach ganz gerade sagen glauben finden denken meinen gucken erstmal
unv lacht lachen räuspert räuspern seufzt pause verbindung kurz weg bisschen natürlich klar ding sachen sache
prozent mal jahr jahre leute frau herr geben machen gehen kommen sehen stehen lassen wissen
""".split())
# Derivational endings that are not compound heads (Nachbar|schaft is not Nachbar + Schaft).
_NOT_HEADS = frozenset("schaft schaften heit heiten keit keiten ung ungen tum nis nisse ling linge chen lein "
                       "ismus ität itäten ion ionen erei ereien lich isch ig er ern erin erinnen".split())
_SHORT_HEADS = frozenset("amt bus rat tag ort zug weg arzt bad see heim haus geld feld kind kurs tür raum".split())
_LINKS = ("s", "es", "n", "en", "er", "e", "ns")


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import spacy
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lemma table from spacy-lookups-data (installed package, no download)
    return nlp


@lru_cache(maxsize=1)
def _table() -> tuple[Any, frozenset[str]]:
    table = _nlp().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    return table, frozenset(table.values())


def preload() -> None:
    """Load the spaCy pipeline, its lemma table and the stop words now: a process about to fork workers then
    shares them with every worker instead of each worker loading its own (about 100 MB each)."""
    _table()
    stop_words()


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """German stop words (spaCy) plus fillers of spoken language, lower case."""
    from spacy.lang.de.stop_words import STOP_WORDS
    return frozenset(w.lower() for w in STOP_WORDS) | FILLERS


# Words the general lookup table lacks (lemma form): a resource file, not code (src/qualkit/data/lexicon_de.txt).
DOMAIN_WORDS = frozenset(
    w.strip() for w in resources.files("qualkit").joinpath("data/lexicon_de.txt").read_text(encoding="utf-8").splitlines()
    if w.strip() and not w.startswith("#"))
_STRONG_S = ("heit", "keit", "ung", "ion", "tät", "schaft", "tum", "ling", "ität")


@lru_cache(maxsize=400_000)
def _known(word: str) -> str | None:
    """The lemma if ``word`` is a known form or lemma, else None."""
    if word in DOMAIN_WORDS:
        return word
    table, lemmas = _table()
    hit = table.get(word)
    if hit is not None:
        return str(hit)
    if word in lemmas:
        return word
    return None


def _known_part(part: str) -> str | None:
    """A compound modifier: a known word, or one with its linking element (Fugenelement) removed or an
    ``e`` restored (Arbeit|s, Schul → Schule, Sprach → Sprache).  Returns the word as written."""
    cap = part[:1].upper() + part[1:]
    cands = [cap, *(cap[: -len(link)] for link in _LINKS if cap.endswith(link) and len(cap) - len(link) >= 3),
             cap + "e", part.lower() + "en"]  # verb stems: Schwimm|kurs -> schwimmen
    for cand in cands:
        if len(cand) >= 3 and _known(cand) is not None:
            return cand if cand in _table()[1] or cand in DOMAIN_WORDS else _known(cand)
    return None


def _splits(word: str) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for i in range(3, len(word) - 2):  # longest head first
        head = word[i:]
        low = head.lower()
        if low in _NOT_HEADS or (len(head) < 4 and low not in _SHORT_HEADS):
            continue
        head_lemma = _known(head[:1].upper() + head[1:])
        if head_lemma is None:
            continue
        modifier = word[:i]
        mod = _known_part(modifier)
        if mod is not None:
            out.append((mod, head_lemma))
            continue
        if len(modifier) >= 6:
            sub = split_compound(modifier[:1].upper() + modifier[1:])
            if len(sub) > 1:
                out.append((*sub, head_lemma))
    return out


@lru_cache(maxsize=200_000)
def split_compound(word: str) -> tuple[str, ...]:
    """Split a German compound into its parts (modifiers as written, the head as lemma); a word that is not
    a compound gives its lemma alone.

    >>> split_compound("Sprachkursangebot")
    ('Sprache', 'Kurs', 'Angebot')
    """
    if "-" in word.strip("-"):  # Kita-Platz, Ü-Kurs: hyphenated compounds split at the hyphen
        parts = [p for p in word.split("-") if p]
        return tuple(lemma(p[:1].upper() + p[1:]) for p in parts)
    whole = _known(word)
    if len(word) < 7 or not word[:1].isupper() or (whole is not None and len(word) < 11):
        return (whole or word,)
    cands = _splits(word)
    if not cands:
        return (whole or word,)
    best = min(cands, key=lambda c: (len(c), -len(c[-1])))
    # Gesundheit|s|amt, not Gesundheit|Samt: after -heit/-ung/... the linking s is obligatory
    if best[-1][:1] == "S" and any(best[-2].endswith(x) for x in _STRONG_S):
        alt = [c for c in cands if c[-2] == best[-2] and len(c[-1]) < len(best[-1])]
        if alt:
            best = min(alt, key=lambda c: (len(c), -len(c[-1])))
    return best


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The lemma of one word: lookup table, then lower case (sentence starts), then compound head
    (``Kitaplätze`` → ``Kitaplatz``)."""
    k = _known(word)
    if k is not None:
        return k
    if not word[:1].isupper():
        # survey answers write nouns in lower case ("wohnungen", "kitaplätze"): try the noun
        cap = word[:1].upper() + word[1:]
        if word[:1].isalpha() and (_known(cap) is not None or len(split_compound(cap)) > 1):
            return lemma(cap)
        return word
    parts = split_compound(word)
    if "-" in word.strip("-") and len(parts) > 1:
        return word[: word.rfind("-") + 1] + parts[-1]
    if len(parts) > 1:
        head = parts[-1]
        low = word.lower()
        # the head's surface form starts where its first three letters last occur (Umlaut-safe prefix)
        for n in (3, 2):
            cut = low.rfind(head.lower()[:n])
            if cut > 0:
                return word[:cut] + head.lower()
        return word
    low_hit = _known(word.lower())
    return low_hit if low_hit is not None else word


@dataclass(frozen=True)
class Analysis:
    """One processed text.  ``terms`` are lower-case content lemmas plus compound parts (for features);
    ``sentences`` are ``(start, end)`` code-point offsets."""

    sha256: str
    tokens: tuple[str, ...]
    lemmas: tuple[str, ...]
    terms: tuple[str, ...]
    sentences: tuple[tuple[int, int], ...]


def _terms(tokens: Sequence[Any]) -> tuple[list[str], list[str]]:
    stops = stop_words()
    lemmas: list[str] = []
    terms: list[str] = []
    for tok in tokens:
        text = tok.text
        lem = lemma(text) if text[:1].isalpha() else text
        lemmas.append(lem)
        if not tok.is_alpha or len(text) < 2:
            continue
        low = lem.lower()
        if text.lower() in stops or low in stops:
            continue
        terms.append(low)
        if text[:1].isupper():
            parts = split_compound(text)
            if len(parts) > 1:
                terms.extend(p.lower() for p in parts if p.lower() not in stops and len(p) > 2)
    return lemmas, terms


def _row(a: Analysis) -> tuple[str, str]:
    """The cache row of one analysis."""
    return f"{a.sha256}:{PIPELINE_VERSION}", json.dumps(
        {"t": a.tokens, "l": a.lemmas, "m": a.terms, "s": a.sentences}, ensure_ascii=False)


class GermanPipeline:
    """Process texts with the German pipeline, with an on-disk cache.

    ``parsed`` and ``cached`` count, since creation, how many texts were processed and how many came
    from the cache.  ``read_only=True`` (a worker of a partitioned report preparation) reads the cache but
    never writes it: texts it had to process are kept in ``new`` for the one writer to :meth:`add`.
    """

    def __init__(self, *, cache_dir: str | Path | None = None, read_only: bool = False) -> None:
        self.cache_path = Path(cache_dir) / "nlp.sqlite" if cache_dir else None
        self.read_only = read_only
        self.parsed = 0
        self.cached = 0
        self.new: list[Analysis] = []
        self._con: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection | None:
        if self.cache_path is None:
            return None
        if self._con is None:
            if self.read_only:
                if not self.cache_path.exists():
                    return None
                self._con = sqlite3.connect(f"{self.cache_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
                return self._con
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(self.cache_path, timeout=30)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY, data TEXT NOT NULL)")
        return self._con

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The distinct ``texts`` (first occurrence, in order) that the cache does not hold yet."""
        keyed = {hashlib.sha256(t.encode("utf-8")).hexdigest(): t for t in texts}
        db = self._db()
        if db is None:
            return list(keyed.values())
        have: set[str] = set()
        wanted = sorted(keyed)
        for i in range(0, len(wanted), 500):
            chunk = [f"{k}:{PIPELINE_VERSION}" for k in wanted[i:i + 500]]
            q = f"SELECT key FROM docs WHERE key IN ({','.join('?' * len(chunk))})"
            have.update(k.split(":", 1)[0] for (k,) in db.execute(q, chunk))
        return [t for k, t in keyed.items() if k not in have]

    def add(self, analyses: Iterable[Analysis]) -> int:
        """Store analyses made elsewhere (by a read-only worker) in the cache; returns how many."""
        if self.read_only:
            raise ValueError("a read-only pipeline does not write its cache")
        rows = [_row(a) for a in analyses]
        db = self._db()
        if db is not None and rows:
            with db:
                db.executemany("INSERT OR REPLACE INTO docs(key, data) VALUES (?, ?)", rows)
        return len(rows)

    def analyse(self, texts: Iterable[str]) -> list[Analysis]:
        texts = list(texts)
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, Analysis] = {}
        db = self._db()
        wanted = sorted(set(keys))
        if db is not None:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                q = f"SELECT key, data FROM docs WHERE key IN ({','.join('?' * len(chunk))})"
                for key, data in db.execute(q, [f"{k}:{PIPELINE_VERSION}" for k in chunk]):
                    d = json.loads(data)
                    sha = key.split(":", 1)[0]
                    # interned: a corpus repeats a few ten thousand words millions of times, and a report holds
                    # the analyses of a whole code at once (one string per word instead of one per occurrence)
                    found[sha] = Analysis(sha, tuple(map(intern, d["t"])), tuple(map(intern, d["l"])),
                                          tuple(map(intern, d["m"])), tuple((a, b) for a, b in d["s"]))
        todo = [(k, t) for k, t in zip(keys, texts) if k not in found]
        seen: set[str] = set()
        todo = [(k, t) for k, t in todo if not (k in seen or seen.add(k))]  # type: ignore[func-returns-value]
        self.cached += len(texts) - len(todo)
        if todo:
            nlp = _nlp()
            rows = []
            with nlp.select_pipes(disable=["lemmatizer"]):  # our own lemma() replaces the table lookup
                for (k, _), doc in zip(todo, nlp.pipe((t for _, t in todo), batch_size=256)):
                    lemmas, terms = _terms(doc)
                    sents = tuple((s.start_char, s.end_char) for s in doc.sents)
                    a = Analysis(k, tuple(intern(t.text) for t in doc), tuple(map(intern, lemmas)),
                                 tuple(map(intern, terms)), sents)
                    found[k] = a
                    rows.append(_row(a))
                    if self.read_only:
                        self.new.append(a)
            self.parsed += len(todo)
            if db is not None and not self.read_only:
                with db:
                    db.executemany("INSERT OR REPLACE INTO docs(key, data) VALUES (?, ?)", rows)
        return [found[k] for k in keys]

    def analyse_in_parts(self, texts: Iterable[str], *, size: int = 2000) -> Iterator[Analysis]:
        """The analyses of ``texts`` in their order, like :meth:`analyse`, made ``size`` texts at a time: what
        reads each analysis once (word counts, a code's term lists) holds one part, not a whole code's
        analyses."""
        it = iter(texts)
        while part := list(islice(it, size)):
            yield from self.analyse(part)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
