"""The re-identification guard: what in a quote, heading or label gives a speaker away although no name is in it.

Pseudonymisation removes names; a reader with local knowledge still recognises a person from what they say
about themselves.  :class:`Guard` looks for, and masks:

* the speaker's **own place** and its districts (also as demonym: "Musterstädter", "Musterstädterin"): placeholders
  take their words from the project ("[eigene Kommune]" where the place variable is "Kommune", "[eigener
  Stadtteil]" where it is "Stadtteil"; districts become "[Ortsteil]" or the project's ``[privacy] subplace``);
* **self-descriptions**: role ("ich bin Bürgermeisterin", "ich bin Lehrerin"), tenure ("in der zweiten
  Amtszeit", "seit 2015 hier"), position ("ich leite …", "angesiedelt bin ich im Fachbereich …"), profession,
  employer and career ("ich bin Sozialarbeiterin beim …", "ich hab vorher in der Frauenberatung gearbeitet"):
  the sentence is replaced by "[…]";
* **organisation self-references** to a body that exists once in the area ("wir als Sportbund", "unser
  Arbeitgeberservice"), from the project's ``[privacy] unique_organisations``: "[eigene Organisation]";
* **facts that name a place**: population figures ("sechzigtausend Einwohner", "sieben Ortsteile"),
  superlatives ("die kleinste Stadt im Kreis") and the project's ``[privacy] landmarks``: "[Zahl] Einwohner",
  "[Ortsangabe]", "[Ort]";
* in **labels and headings**: place names, districts and demonyms are dropped (:meth:`Guard.clean_label`).

A quote whose remaining text no longer carries a statement (fewer than 40 characters outside the masks) is
not used.  The k rule for attributions and tables is :class:`qualkit.privacy.Attribution`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .project import Project

__all__ = ["Finding", "Guard", "eigen", "mask_own_place", "masked_sources", "own_place_masker", "self_disclosure"]

# a role noun, alone or as the last part of a compound (hyphenated too), in either case: "Lehrerin" as well as
# "Sozialarbeiterin" and "Diplom-Pädagogin" (a German noun starts with a capital)
_ROLE_WORDS = (r"[\w-]*(?i:meister|beauftragt|leiter|leitung|rektor|dezernent|beigeordnet|arbeiter|pädagog|"
               r"lehrer|erzieher|bearbeiter|koordinator|referent|vorsitzend|vorstand|inhaber|geschäftsführ|"
               r"fachkraft|berater|sprecher|imam|pfarrer|trainer|ansprechpartner|manager|streetworker|hebamme|"
               r"ärztin|arzt|ingenieur)\w*")
# a hesitation set off by commas: ", äh,", ", also,", ", wie soll ich sagen,"
_HESITATION = r"\s*,?\s*\b(?:äh|ähm|öhm?|hm|also|naja|sozusagen|quasi|wie\s+soll\s+ich\s+sagen)\s*,"
_MONTH = r"(?:Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember)"
_SELF = [
    # "ich bin Bürgermeisterin der Stadt …", "ich bin hier die Integrationsbeauftragte", "ich war lange Lehrerin"
    # (not across a comma but a hesitation's, nor after "mit"/"über": "ich bin froh, dass die Leitung …", "ich bin
    # mit der Lehrerin …"; but "ich bin, äh, wie soll ich sagen, der halbe Integrationsbeauftragte")
    re.compile(rf"\b[Ii]ch\s+(?:bin|war|wurde|arbeite)\b(?:{_HESITATION}|\s+(?!mit\b|über\b)[^\s,;:]+){{0,6}}?\s+"
               rf"(?:als\s+)?{_ROLE_WORDS}"),
    # employer: "ich bin beim Sportbund hauptamtlich …", "ich arbeite in der Ausländerbehörde", "angesiedelt bin
    # ich im Fachbereich Soziales"; career: "ich hab vorher in der Frauenberatung gearbeitet"
    re.compile(r"\b[Ii]ch\s+(?:bin|arbeite)\s+(?:\S+\s+){0,2}?(?:beim|bei\s+der|bei\s+dem|im|in\s+der)\s+"
               r"[A-ZÄÖÜ][\wäöüß\-]+|\b[Aa]ngesiedelt\s+(?:bin\s+ich|sind\s+wir)\b"
               r"|\b(?:[Ii]ch\s+bin|[Ww]ir\s+sind)\s+(?:\S+\s+){0,3}?angesiedelt\b"
               r"|\b[Ii]ch\s+(?:habe?|hatte)\s+(?:[^\s,;:]+\s+){0,4}?(?:gearbeitet|angefangen)\b"
               # the post: "ich hab eine volle Stelle", "ich bin für den Jugendtreff mit zuständig", "in meiner
               # Abteilung"
               r"|\b[Ii]ch\s+(?:habe?|hatte)\s+(?:eine|die|meine)\s+(?:[\wäöüß]+\s+)?Stelle\b"
               r"|\b[Ii]ch\s+bin\s+(?:[^\s,;:]+\s+){0,8}?zuständig\b"
               r"|\b(?:in|aus)\s+meine[rm]\s+(?:Abteilung|Dienststelle|Behörde|Funktion|Position)\b"),
    # "ich leite die Kita", "ich koordiniere das Netzwerk", "als Vorsitzende unseres Vereins", "wir sind der
    # einzige Verein hier"
    re.compile(r"\b(?:[Ii]ch|[Ww]ir)\s+(?:bin|sind|waren|war)\s+(?:hier\s+|ja\s+|auch\s+)*(?:der|die|das|eine?)\s+"
               r"[Ee]inzige|\b(?:[Ii]ch|[Ww]ir)\s+(?:leite|leiten|koordiniere|betreue|führe|führen|vertrete)\b"
               r"|\b(?:[Aa]ls|meiner\s+Funktion\s+als)\s+(?:Schulleiter(?:in)?|Rektor(?:in)?|Vorsitzende[rn]?|"
               r"Inhaber(?:in)?|Leiter(?:in)?|Bürgermeister(?:in)?|Beauftragte[rn]?)\b"),
    # tenure: "in der zweiten Amtszeit", "seit Mai 2019", "seit Februar dieses Jahres", "ich habe 2012 hier
    # angefangen", "seit 20 Jahren dabei", "seit der letzten Kommunalwahl"
    re.compile(rf"\b(?:Amtszeit|Wahlperiode)\b|\b[Ss]eit\s+(?:{_MONTH}\s+)?(?:19|20)\d\d\b"
               rf"|\b[Ss]eit\s+{_MONTH}\s+(?:dieses|letzten|vergangenen)\s+Jahres\b"
               r"|\b[Ss]eit\s+der\s+letzten\s+\w*[Ww]ahl\b|\b(?:19|20)\d\d\b[^.!?\n]{0,40}?\b(?:angefangen|gestartet|gegründet)\b"
               r"|\b[Ss]eit\s+(?:über\s+|mehr\s+als\s+|gut\s+)?(?:\d+|zwei|drei|vier|fünf|zehn|zwanzig|dreißig)\s+"
               r"Jahren\s+(?:hier|dabei|im\s+Amt|in\s+der|bei|im)\b"),
]
_NUMBER_WORD = r"(?:\d{1,3}(?:[.\s ]\d{3})+|\d+(?:,\d+)?(?:\s+(?:Tausend|Millionen))?|[a-zäöüß]*(?:tausend|hundert))"
_POPULATION = re.compile(rf"\b(?:(?:rund|etwa|knapp|über|fast|ca\.)\s+)?{_NUMBER_WORD}\s+(?:[a-zäöü]+e\s+)?"
                         r"(?P<noun>Einwohner(?:innen)?(?:n)?(?:\s+und\s+Einwohner(?:n)?)?|Ortsteile(?:n)?|Stadtteile(?:n)?)\b")

# "die größte Stadt im Kreis", "die kleinste Kommune", "die größte Bergbaustadt Europas": a fact that names the town
_PLACE_FACT = re.compile(r"\b(?:größte|kleinste|älteste|jüngste|nördlichste|südlichste|östlichste|westlichste|"
                         r"einzige)[nr]?\s+(?:\w+\s+)?(?:\w*[Ss]tadt|\w*[Ss]tädte|Kommunen?|Gemeinden?)\b"
                         r"(?:\s+(?:im|des|in|der|von)\s+[\wäöüß]+)?")


def eigen(word: str) -> str:
    """"eigene Kommune", "eigener Stadtteil", "eigenes Quartier": the adjective for a place word."""
    w = word.lower()
    if w.endswith(("e", "ung", "heit", "keit", "schaft", "ion", "stadt", "tät", "region")):
        return f"eigene {word}"
    if w.endswith(("dorf", "viertel", "quartier", "land", "gebiet", "amt", "zentrum")):
        return f"eigenes {word}"
    return f"eigener {word}"


def _forms(place: str) -> set[str]:
    """A place and its demonyms: Talheim, Talheimer, Talheimerin, Talheimerinnen; Neustadt am See, Neustadt …"""
    base = place.split()[0]
    stems = {base}
    if "-" in base:  # a double-barrelled town ("Nord-Süd") is also called by its first part ("Nord")
        stems.add(base.split("-")[0])
    forms = {place}
    for stem in stems:
        forms.add(stem)
        adj = (stem[:-1] if stem.endswith("e") else stem) + "er"
        forms.update({adj, adj + "in", adj + "innen", adj + "n"})
        if stem.endswith("hausen"):
            forms.update({stem[:-6] + "häuser", stem[:-6] + "häuserin"})
    return forms


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def mask_own_place(text: str, place: str | None, districts: Sequence[str] = (), *, place_word: str = "Kommune",
                   subplace_word: str = "Stadtteil") -> str:
    """Replace a speaker's own place (also as demonym, "Talheimer Schulen", "ich bin Talheimerin") by
    ``[eigene <place_word>]`` and its districts by ``[<subplace_word>]``.

    An integration officer quoted as "Interview, Integrationsbeauftragte" is identified again when the quote
    says "bei uns in Talheim" or "im Nordviertel": there is one such officer per town.
    """
    if not place:
        return text
    own, parts = _place_patterns(place, tuple(districts))
    text = own.sub(f"[{eigen(place_word)}]", text)
    if parts is not None:
        text = parts.sub(f"[{subplace_word}]", text)
    return text


@lru_cache(maxsize=1024)  # a report masks every quote and unit of a place with the same two patterns
def _place_patterns(place: str, districts: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    own = re.compile(rf"(?<![\w\-])(?:{_alternation(_forms(place))})(?![\w\-])")
    if not districts:
        return own, None
    return own, re.compile(rf"(?<![\w\-])(?:{_alternation(districts)})(?:er|erin|erinnen)?(?![\w])")


def self_disclosure(text: str) -> bool:
    """True if ``text`` has the speaker describe their own position, role or tenure ("ich leite die Kita …")."""
    return any(rx.search(text) for rx in _SELF)


def masked_sources(project: Project, attribution: Sequence[str]) -> set[str]:
    """The sources (``interview``, ``survey``) whose quotes hide the speaker's own place: those listed in
    ``[privacy] mask_own_place``, none when the attribution itself names the place variable."""
    cfg = project.config["privacy"]
    return set() if cfg["place_variable"] in attribution else set(cfg["mask_own_place"])


def own_place_masker(project: Project, attribution: Sequence[str]) -> Callable[[str, str, object], str]:
    """``mask(text, kind, place)`` applying :func:`mask_own_place` to the :func:`masked_sources`."""
    kinds, cfg = masked_sources(project, attribution), project.config["privacy"]
    places, word, sub = cfg["places"], cfg["place_variable"], cfg.get("subplace", "Ortsteil")

    def mask(text: str, kind: str, place: object) -> str:
        if kind in kinds and isinstance(place, str) and place.strip():
            return mask_own_place(text, place, places.get(place, []), place_word=word, subplace_word=sub)
        return text

    return mask


@dataclass(frozen=True)
class Finding:
    """What the guard found: ``kind`` (self-description, organisation, population, landmark, place) and the
    text it masked (pseudonymised text, never an original name)."""

    kind: str
    text: str


class Guard:
    """The project's re-identification guard (see the module docstring)."""

    def __init__(self, project: Project, *, attribution: Sequence[str] = (), min_chars: int = 40) -> None:
        cfg = project.config["privacy"]
        self.min_chars = min_chars
        self.place_word = cfg["place_variable"]
        self.own_place = own_place_masker(project, attribution)
        self.places: dict[str, list[str]] = dict(cfg["places"])
        orgs = list(cfg.get("unique_organisations", ()))
        self._org = (re.compile(r"\b(?P<lead>[Ww]ir\s+(?:hier\s+)?(?:als|vom|von\s+der|beim)|[Uu]nser(?:e|em|en|er|es)?|"
                                r"[Bb]ei\s+uns\s+(?:im|in\s+der|beim|am))\s+(?:\w+\s+)?"
                                rf"(?:{_alternation(orgs)})\w*") if orgs else None)
        marks = list(cfg.get("landmarks", ()))
        self._landmark = re.compile(rf"(?<![\w\-])(?:{_alternation(marks)})(?![\w\-])") if marks else None
        names = set(self.places)
        for p, ds in self.places.items():
            names.update(_forms(p))
            names.update(ds)
        names.update(marks)
        self._place_words = {w.lower() for n in names for w in [n, *n.split()] if len(w) > 1}

    def clean_quote(self, text: str, *, kind: str = "interview", place: object = None
                    ) -> tuple[str | None, list[Finding]]:
        """The quote with identifying parts masked, and what was found; ``None`` if too little remains."""
        found: list[Finding] = []
        masked = self.own_place(text, kind, place)
        if masked != text:
            found.append(Finding("eigener Ort", f"[{eigen(self.place_word)}]"))
        sentences = re.split(r"(?<=[.!?…])\s+", masked)
        kept: list[str] = []
        for s in sentences:
            if any(rx.search(s) for rx in _SELF):
                found.append(Finding("Selbstbeschreibung", s))
                if not kept or kept[-1] != "[…]":
                    kept.append("[…]")
                continue
            kept.append(s)
        out = " ".join(kept)
        if self._org is not None:
            for m in self._org.finditer(out):
                found.append(Finding("Organisation", m.group()))
            out = self._org.sub(lambda m: "[eigene Organisation]" if m.group("lead").lower().startswith("unser")
                                else f"{m.group('lead')} [eigene Organisation]", out)
        for m in _POPULATION.finditer(out):
            found.append(Finding("Einwohnerzahl", m.group()))
        out = _POPULATION.sub(lambda m: f"[Zahl] {m.group('noun')}", out)
        for m in _PLACE_FACT.finditer(out):
            found.append(Finding("Ortsangabe", m.group()))
        out = _PLACE_FACT.sub("[Ortsangabe]", out)
        if self._landmark is not None:
            for m in self._landmark.finditer(out):
                found.append(Finding("Ortsangabe", m.group()))
            out = self._landmark.sub("[Ort]", out)
        rest = re.sub(r"\[[^\]]*\]|…", "", out)
        if len(re.sub(r"\s+", " ", rest).strip()) < self.min_chars:
            return None, found
        return out, found

    def clean_label(self, label: str, *, sep: str = " · ") -> str:
        """A theme label or heading without place names, districts and demonyms ("Moscheegemeinde · Talheim ·
        treffen" → "Moscheegemeinde · treffen")."""
        parts = [p for p in label.split(sep) if not self.names_place(p)]
        return sep.join(parts) if parts else "(ohne Ortsangabe)"

    def names_place(self, text: str) -> bool:
        """True if ``text`` contains a place, district or demonym of the project."""
        for w in re.split(r"[\s/]+", text):
            w = w.lower().strip(",.;:")
            # "Talhei" (a cut lemma of "Talheimer"): the beginning of a place name
            if w in self._place_words or (len(w) >= 5 and any(p.startswith(w) for p in self._place_words)):
                return True
        return False
