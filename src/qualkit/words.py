"""Words of a code: keyness against the rest of the material, and word clouds from lemma counts.

Keyness uses Dunning's log-likelihood (G²) with the log ratio as effect size; only terms over-represented
in the code are returned.  Word clouds are drawn with ``wordcloud.generate_from_frequencies`` from our own
lemma counts (the package would fold only English plurals), German stop words and the fillers of spoken
language removed; its bundled font renders ä, ö, ü and ß.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import pandas as pd

from .nlp import Analysis, GermanPipeline, stop_words
from .project import Project
from .units import HUMAN_ORIGINS, unit_labels, unit_table

__all__ = ["content_words", "keyness", "strip_placeholders", "term_frequencies", "word_counts", "wordcloud_figure"]


def _split(project: Project, code: str, kinds: Sequence[str], origins: Sequence[str],
           coders: Iterable[str] | None) -> tuple[pd.DataFrame, pd.Series]:
    cb = project.codebook
    cb.get(code)
    lab = unit_labels(project, origins=origins, coders=coders)
    ids = set(lab[lab.code.isin(cb.descendants(code))].unit_id)
    units = unit_table(project, kinds=kinds)
    units = units[units.language.fillna("de").isin(["de", "und"])].reset_index(drop=True)
    return units, units.unit_id.isin(ids)


# Masking placeholders of the pseudonymised text ("[Person 9]", "[eigene Kommune]", "[Stadtteil]"): never a word
PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,40}\]")
# Spoken contractions the stop word list misses ("hab ich", "gibt's"): forms, not topics
SPOKEN = frozenset("hab hätt nen nem ner nich nix gibt gibts drin drauf dran rein raus rum wär würd weiß".split())


def strip_placeholders(text: str) -> str:
    """``text`` without masking placeholders (they would top every word cloud)."""
    return PLACEHOLDER.sub(" ", text)


@lru_cache(maxsize=1 << 18)  # called for every token of every chapter's texts (millions at scale), on few words
def _is_content(token: str, lem: str, stops: frozenset[str]) -> bool:
    low, lem_low = token.lower(), lem.lower()
    if not (token.isalpha() and lem.isalpha()) or low in stops or lem_low in stops or low in SPOKEN \
            or lem_low in SPOKEN:
        return False
    # a word shorter than four letters is a word only as a noun ("Amt", "Bus") or an abbreviation ("KI");
    # else a fragment or a form
    return len(lem) >= 4 or (token[:1].isupper() and lem[:1].isupper() and len(lem) >= 3) or _acronym(token)


def _acronym(word: str) -> bool:
    """An abbreviation written in capitals ("KI", "ÖPNV"): a whole word however short."""
    return len(word) >= 2 and word.isupper() and word.isalpha()


def content_words(a: Analysis) -> list[str]:
    """The content lemmas of a text, lower case: whole words only (a word cloud shows "Jugendhilfe", never
    the compound part "hilfe"), no stop word (checked on the word as written and on its lemma: "alle" has
    the lemma "all"), no spoken contraction, nothing shorter than four letters but nouns."""
    stops = stop_words()
    return [lem.lower() for tok, lem in zip(a.tokens, a.lemmas) if _is_content(tok, lem, stops)]


def _ends_in_e_lemma(word: str) -> bool:
    """Whether ``word`` is a compound ending in a known lemma that itself ends in -e (Wochen|ende,
    Grund|schule); "Abende" (Ab|ende) is no such compound."""
    from .nlp import _table
    lemmas = _table()[1]
    for i in range(len(word) - 4, 2, -1):
        tail = word[i:]
        if tail.endswith("e") and (tail[:1].upper() + tail[1:] in lemmas or tail.lower() in lemmas):
            return True
    return False


def _display(lemmas: Counter[str], surfaces: Counter[str]) -> str:
    """How a lemma is shown: its most frequent spelling, unless the lookup table cut a final -e that the text
    always writes: a lower-case stem never written as such ("letzt" for "letzte"), or a compound ending in an
    -e word ("Wochenend" for "Wochenende", whose head is "Ende").  A plural -e stays cut ("Sprachkurse" →
    "Sprachkurs")."""
    best = max(lemmas.items(), key=lambda kv: (kv[1], kv[0]))[0]
    written = {x.lower() for x in surfaces}
    low = best.lower()
    if low in written:
        return best
    if best[:1].islower() and any(w.startswith(low + "e") for w in written):  # "letzt" from "letzten"
        return best + "e"
    if low + "e" in written and _ends_in_e_lemma(best + "e"):
        return best + "e"
    return best


def word_counts(pipe: GermanPipeline, texts: Sequence[str]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """Counts of the :func:`content_words` of ``texts`` (placeholders removed), and for each lemma its
    display form (with the count) as a ``Counter`` (see :func:`_display`)."""
    counts, shown = _content_forms(pipe.analyse_in_parts(strip_placeholders(t) for t in texts))
    return counts, {k: Counter({shown[k]: n}) for k, n in counts.items()}


def _content_forms(analyses: Iterable[Analysis]) -> tuple[Counter[str], dict[str, str]]:
    """How often each content lemma (lower case, :func:`content_words`) occurs in ``analyses``, and how it is
    shown (:func:`_display`), both in the order the lemmas first occur."""
    pairs: Counter[tuple[str, str]] = Counter()  # (token, lemma) in the order they first occur: counted in C
    for a in analyses:
        pairs.update(_token_lemmas(a))
    return _content_forms_of(pairs)


def _token_lemmas(a: Analysis) -> Iterator[tuple[str, str]]:
    """What :func:`_content_forms` counts of one text: its (token, lemma) pairs."""
    return zip(a.tokens, a.lemmas)


def _content_forms_of(pairs: Counter[tuple[str, str]]) -> tuple[Counter[str], dict[str, str]]:
    """:func:`_content_forms` of the counted (token, lemma) pairs of some analyses."""
    stops = stop_words()
    counts: Counter[str] = Counter()
    spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)
    surfaces: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for (tok, lem), n in pairs.items():
        if _is_content(tok, lem, stops):
            key = lem.lower()
            counts[key] += n
            spellings[key][lem] += n
            surfaces[key][tok] += n
    return counts, {k: _display(v, surfaces[k]) for k, v in spellings.items()}


def term_frequencies(project: Project, code: str, *, kinds: Sequence[str] = ("interview", "survey"),
                     origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
                     min_count: int = 2) -> pd.DataFrame:
    """Lemma counts in the units of ``code``: ``term, count`` (display form, e.g. ``Kita``)."""
    units, inside = _split(project, code, kinds, origins, coders)
    counts, forms = word_counts(GermanPipeline(cache_dir=project.cache_dir), list(units.text[inside]))
    rows = [(forms[t].most_common(1)[0][0] if t in forms else t, n) for t, n in counts.items() if n >= min_count]
    df = pd.DataFrame(rows, columns=["term", "count"]).groupby("term", as_index=False)["count"].sum()
    return df.sort_values(["count", "term"], ascending=[False, True]).reset_index(drop=True)


def keyness(project: Project, code: str, *, kinds: Sequence[str] = ("interview", "survey"),
            origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None, min_count: int = 3,
            top: int = 30) -> pd.DataFrame:
    """Terms over-represented in ``code`` against all other units.

    Columns: ``term, count_code, count_rest, per_10k_code, per_10k_rest, log_likelihood, log_ratio``,
    sorted by log-likelihood (G² > 3.84 is p < 0.05 with one degree of freedom).
    """
    units, inside = _split(project, code, kinds, origins, coders)
    pipe = GermanPipeline(cache_dir=project.cache_dir)
    a, forms = word_counts(pipe, list(units.text[inside]))
    b, forms_b = word_counts(pipe, list(units.text[~inside]))
    na, nb = sum(a.values()) or 1, sum(b.values()) or 1
    rows = []
    for term, ca in a.items():
        if ca < min_count:
            continue
        cb = b.get(term, 0)
        e1 = na * (ca + cb) / (na + nb)
        e2 = nb * (ca + cb) / (na + nb)
        ll = 2 * (ca * math.log(ca / e1) + (cb * math.log(cb / e2) if cb else 0.0))
        if ca / na <= cb / nb:
            continue
        ratio = math.log2((ca / na) / ((cb + 0.5) / nb))
        form = (forms.get(term) or forms_b.get(term) or Counter({term: 1})).most_common(1)[0][0]
        rows.append((form, ca, cb, 1e4 * ca / na, 1e4 * cb / nb, ll, ratio))
    df = pd.DataFrame(rows, columns=["term", "count_code", "count_rest", "per_10k_code", "per_10k_rest",
                                     "log_likelihood", "log_ratio"])
    df = df.sort_values(["log_likelihood", "term"], ascending=[False, True]).head(top).reset_index(drop=True)
    return df.round({"per_10k_code": 1, "per_10k_rest": 1, "log_likelihood": 2, "log_ratio": 2})


def _wordcloud(freq: dict[str, int], *, colour: str, width: int, height: int, random_state: int, max_words: int
               ) -> Any:
    """The :class:`wordcloud.WordCloud` of ``freq``, ``width`` × ``height`` pixels.  Words are placed on a canvas
    of half the size and drawn at twice the scale: the same picture in a quarter of the placement work."""
    from matplotlib.colors import to_rgb
    from wordcloud import WordCloud

    from .figures import accessible_colour
    # every word at least 3:1 against white: the colour darkened to that contrast is the lightest shade
    r, g, b = (int(255 * v) for v in to_rgb(accessible_colour(colour)))

    def colour_func(word: str, font_size: int, position: Any, orientation: Any, random_state: Any = None,
                    **kw: Any) -> str:
        f = 1.0 - 0.35 * min(1.0, font_size / 40)  # larger words darker (sizes on the half-size canvas)
        return f"rgb({int(r * f)}, {int(g * f)}, {int(b * f)})"

    return WordCloud(width=width // 2, height=height // 2, scale=2, background_color="white", max_words=max_words,
                     random_state=random_state, color_func=colour_func, prefer_horizontal=0.95,
                     collocations=False).generate_from_frequencies(freq)


def wordcloud_figure(frequencies: pd.DataFrame | dict[str, int], *, colour: str = "#2E86AB", title: str = "",
                     width: int = 900, height: int = 450, random_state: int = 0, max_words: int = 80) -> Any:
    """A matplotlib figure with a word cloud of ``term -> count`` in shades of the code's colour."""
    import matplotlib.pyplot as plt

    freq = dict(zip(frequencies["term"], frequencies["count"])) if isinstance(frequencies, pd.DataFrame) \
        else dict(frequencies)
    fig, ax = plt.subplots(figsize=(width / 100, height / 100), dpi=100)
    ax.axis("off")
    if freq:
        wc = _wordcloud(freq, colour=colour, width=width, height=height, random_state=random_state,
                        max_words=max_words)
        ax.imshow(wc.to_array(), interpolation="bilinear")
    else:
        ax.text(0.5, 0.5, "keine Begriffe", ha="center", va="center")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
