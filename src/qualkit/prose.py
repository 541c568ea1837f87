"""German sentence templates for the chapters: one function per statement, articles and numbers handled.

Every function takes plain numbers and names and returns German text; none reads the store.  Names come
from the project (codebook terms, variable names), never from this module: the module knows German grammar,
not the example.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Term", "count_phrase", "coverage_sentence", "date_de", "dative_plural", "evidence_sentence", "join_de", "noun",
           "num", "number_word", "pct", "plural_of", "share_phrase", "shown_digits"]

_WORDS = ("null", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf")


@dataclass(frozen=True)
class Term:
    """How the chapters name a code of a dimension, with its article (from the codebook's ``singular`` and
    ``article``): "das Handlungsfeld", "im Handlungsfeld"; default "die Kategorie"."""

    singular: str
    plural: str
    article: str

    @classmethod
    def of(cls, dimension: Any) -> Term:
        """From a codebook dimension (``singular``, ``article``, ``name``)."""
        singular = str(dimension.singular)
        plural = str(dimension.name) if singular != "Kategorie" else "Kategorien"
        return cls(singular, plural, str(dimension.article))

    @property
    def nom(self) -> str:  # das Handlungsfeld / die Kategorie / der Bereich
        return f"{self.article} {self.singular}"

    @property
    def acc(self) -> str:  # den Bereich / das Handlungsfeld / die Kategorie
        return f"{'den' if self.article == 'der' else self.article} {self.singular}"

    @property
    def this_dat(self) -> str:  # diesem Handlungsfeld / dieser Kategorie
        return f"{'dieser' if self.article == 'die' else 'diesem'} {self.singular}"

    @property
    def gen(self) -> str:  # des Handlungsfelds / der Kategorie
        return f"der {self.singular}" if self.article == "die" else f"des {self.singular}s"

    @property
    def dat(self) -> str:  # im Handlungsfeld / in der Kategorie
        return f"in der {self.singular}" if self.article == "die" else f"im {self.singular}"

    @property
    def indef(self) -> str:  # ein Handlungsfeld / eine Kategorie
        return f"{'eine' if self.article == 'die' else 'ein'} {self.singular}"

    @property
    def another_acc(self) -> str:  # ein weiteres Handlungsfeld / eine weitere Kategorie / einen weiteren Bereich
        return {"die": "eine weitere", "der": "einen weiteren"}.get(self.article, "ein weiteres") + f" {self.singular}"

    @property
    def indef_acc(self) -> str:  # einen Bereich / ein Handlungsfeld / eine Kategorie
        return {"die": "eine", "der": "einen"}.get(self.article, "ein") + f" {self.singular}"

    def cap(self, text: str) -> str:
        return text[:1].upper() + text[1:]


def number_word(n: int, *, feminine: bool = True) -> str:
    """0–12 as German words ("eine", "zwei" … "zwölf"), larger numbers as digits with a thousands point."""
    if 0 <= n < len(_WORDS):
        w = _WORDS[n]
        return ("eine" if feminine else "ein") if n == 1 else w
    return f"{n:,}".replace(",", ".")


def num(v: Any, digits: int = 2) -> str:
    """A number in German format: 0,97; 1.234; "–" for missing (decimals: :func:`shown_digits`)."""
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, int) or (isinstance(v, float) and digits == 0):
        return f"{round(v):,}".replace(",", ".")
    digits = shown_digits(float(v), digits)
    return f"{float(v):,.{digits}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def shown_digits(v: float, digits: int) -> int:
    """The decimals ``v`` is shown with: ``digits``, or more (at most 4) where ``digits`` would show a value that is
    not 0 or ±1 as 0 or 1: an agreement of 346 in 347 is 0,997, not 1,00, which reads as complete."""
    while digits < 4 and v not in (0, 1, -1) and round(abs(v), digits) in (0, 1):
        digits += 1
    return digits


def pct(a: int, b: int) -> str:
    """A share as "84 %" (German, narrow no-break space omitted for plain text); "–" without a base.  A share
    that is neither none nor all never reads as one: "< 1 %", "> 99 %"."""
    if not b:
        return "–"
    share = round(100 * a / b)
    if 0 < a < b and share in (0, 100):
        return "< 1 %" if share == 0 else "> 99 %"
    return f"{share:.0f} %"


def noun(n: int, singular: str, plural: str) -> str:
    """"1 Antwort", "2 Antworten"."""
    return f"{num(n)} {singular if n == 1 else plural}"


_PLURAL_RULES = (("ung", "en"), ("heit", "en"), ("keit", "en"), ("schaft", "en"), ("in", "nen"), ("e", "n"),
                 ("typ", "en"), ("teil", "e"), ("ort", "e"), ("kreis", "e"), ("amt", "ämter"), ("er", ""),
                 ("el", ""), ("ion", "en"), ("tät", "en"), ("bezirk", "e"))


def plural_of(word: str, overrides: Mapping[str, str] | None = None) -> str:
    """The plural of a German noun used as a variable name ("Kommune" → "Kommunen", "Stadtteil" →
    "Stadtteile"); ``overrides`` (the project's ``[report] plurals``) win."""
    if overrides and word in overrides:
        return str(overrides[word])
    low = word.lower()
    for end, add in _PLURAL_RULES:
        if low.endswith(end):
            if add == "ämter":
                return word[: -len("amt")] + "ämter"
            return word + add
    return word + "s" if not low.endswith("s") else word


def dative_plural(plural: str) -> str:
    """"aus zwei Stadtteilen", "aus drei Kommunen": the dative plural adds -n where the plural lacks it."""
    return plural if plural.endswith(("n", "s")) else plural + "n"


def join_de(items: Sequence[str], last: str = "und") -> str:
    """"a", "a und b", "a, b und c"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def count_phrase(n: int, total: int, plural_noun: str) -> str:
    """"in acht von zehn Kommunen" style counts, with words up to twelve."""
    return f"{number_word(n)} von {number_word(total)} {plural_noun}"


def share_phrase(n: int, total: int, noun_dat: str = "", *, min_base: int = 20) -> str:
    """A count with its base, a percentage only where the base is large enough: "7 von 10 Interviewten",
    "112 von 440 Befragten (25 %)" (``noun_dat``: the persons, dative plural)."""
    text = f"{num(n)} von {num(total)}" + (f" {noun_dat}" if noun_dat else "")
    return f"{text} ({pct(n, total)})" if total >= min_base else text


def coverage_sentence(term: Term, code: str, *, persons: int, persons_total: int, turns: int, answers: int,
                      respondents: int, respondents_total: int) -> str:
    """Where a code was raised, interviews and survey in separate sentences (their shares are not comparable)."""
    parts = [f"{term.cap(term.nom)} „{code}“ kam in {share_phrase(persons, persons_total, 'Interviews')} vor, "
             f"in {noun(turns, 'Aussage', 'Aussagen')} (Redebeiträgen der Interviewten)."]
    if respondents_total:
        parts.append(f"In der Online-Befragung äußerten sich "
                     f"{share_phrase(respondents, respondents_total, 'Befragten mit offenen Antworten')} dazu, "
                     f"in {noun(answers, 'Antwort', 'Antworten')}.")
    return " ".join(parts)


def evidence_sentence(*, statements: int, persons: int, documents: int, places: int = 0, place: str = "",
                      groups: Mapping[str, int] | None = None, plurals: Mapping[str, str] | None = None) -> str:
    """"Belegt durch 14 Aussagen von 9 Personen aus 6 Kommunen und 4 Funktionsgruppen." (``place`` and the
    keys of ``groups`` are variable names in the singular; ``plurals`` the project's overrides)."""
    if not statements:
        return "Keine auffindbaren Belege."
    out = f"Belegt durch {noun(statements, 'Aussage', 'Aussagen')} von {noun(persons, 'Person', 'Personen')}"
    extra = []
    if places and place:
        extra.append(noun(places, place, dative_plural(plural_of(place, plurals))))
    for name, n in (groups or {}).items():
        if n:
            extra.append(noun(n, name, dative_plural(plural_of(name, plurals))))
    if extra:
        out += f" aus {join_de(extra)}"
    return out + "."


def date_de(value: Any) -> str:
    """ISO dates as German dates: 2022-05-17 → 17.05.2022; anything else unchanged."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", str(value).strip())
    return f"{m[3]}.{m[2]}.{m[1]}" if m else str(value)
