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


def detect_language(text: str) -> str:
    """Return an ISO 639-1 code; ``"de"`` when unsure (short German answers are the common case)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "und"
    arabic = sum("\u0600" <= c <= "\u06ff" for c in letters) / len(letters)
    if arabic > 0.3:
        return "ar"
    cyr = sum("\u0400" <= c <= "\u04ff" for c in letters) / len(letters)
    if cyr > 0.3:
        return "uk" if any(c in "іїєґІЇЄҐ" for c in letters) else "ru"
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "und"
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOP.items()}
    if any(c in "ğşıİ" for c in text):
        scores["tr"] += 2
    if any(c in "äöüß" for c in text.lower()):
        scores["de"] += 2
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0 or scores[best] <= scores["de"]:
        return "de"
    return best
