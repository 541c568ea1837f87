"""A small, dependency-free language guess for survey answers (de, en, tr, ar, uk/ru, pl, ro).

Good enough to set non-German answers aside before German NLP; not a general language identifier.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.U)
_STOP = {
    "de": set("der die das und ist nicht ein eine mit zu von für auf es wir ich sie im in den dem des auch "
              "mehr sind wird werden gibt keine kein bei aus oder aber noch nur man sich wie was an als".split()),
    "en": set("the and is are of to in for with we not more a an it on be this that there should have "
              "need would our no".split()),
    "tr": set("ve bir bu için çok daha de da ile var yok gibi ama olarak değil ben biz çocuklar".split()),
    "pl": set("i w nie na się jest że do z to jak dla są mamy".split()),
    "ro": set("și este nu în pentru cu la că sunt mai avem".split()),
}


_LANGS_OF: dict[str, tuple[str, ...]] = {}  # word -> the languages whose list has it (one lookup per word)
for _lang, _words in _STOP.items():
    for _w in _words:
        _LANGS_OF[_w] = (*_LANGS_OF.get(_w, ()), _lang)
_ARABIC = re.compile("[\u0600-\u06ff]")
_TURKISH = re.compile("[ğşıİ]")
_UMLAUT = re.compile("[äöüßÄÖÜẞ]")  # what lower-cases to ä, ö, ü, ß
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def detect_language(text: str) -> str:
    """Return an ISO 639-1 code; ``"de"`` when unsure (short German answers are the common case)."""
    # counted in C (map, regular expressions): a survey of 100,000 answers is read once per ingest
    n = sum(map(str.isalpha, text))
    if not n:
        return "und"
    if sum(map(str.isalpha, _ARABIC.findall(text))) / n > 0.3:
        return "ar"
    cyr = _CYRILLIC.findall(text)
    if sum(map(str.isalpha, cyr)) / n > 0.3:
        return "uk" if any(c in "іїєґІЇЄҐ" for c in cyr) else "ru"
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "und"
    scores = dict.fromkeys(_STOP, 0)
    for w in words:
        for lang in _LANGS_OF.get(w, ()):
            scores[lang] += 1
    if _TURKISH.search(text):
        scores["tr"] += 2
    if _UMLAUT.search(text):
        scores["de"] += 2
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0 or scores[best] <= scores["de"]:
        return "de"
    return best
