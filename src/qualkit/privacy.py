"""Privacy: pseudonymisation, the leak guard, and re-identification warnings.

* :func:`detect` finds person names (forms of address and titles such as Herr/Frau/Dr./Bürgermeisterin X,
  first name + surname backed by a first-name list), e-mail addresses, phone numbers, street addresses and
  named institutions below the level of the Kommune (schools, Kitas, clubs, companies).
* :class:`Pseudonymizer` keeps a stable mapping original → ``[Person 12]`` in ``.qualkit/private/`` (never
  under ``outputs/``) and replaces every original, in any text, consistently across all documents; surnames
  found once are replaced wherever else they occur.  The project's ``[privacy] allow`` list marks false
  alarms, ``deny`` adds names the detector missed (``"Yilmaz"`` or ``"Schule: Astrid-Lindgren-Schule"``).
* The pseudonymised view is derived: the stored text and the offsets of codings never change.
* :func:`guard_outputs` scans files meant for sharing for every original string of the mapping and for
  e-mail/phone patterns, and raises :class:`LeakError` naming the file and the pseudonym, not the name.
* :func:`attribution_groups` / :func:`attribute` implement the k-rule for quote attribution.
"""

from __future__ import annotations

import contextlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ._files import private_dir, private_file, write_private_text
from .errors import LeakError
from .project import Project

__all__ = ["Entity", "Pseudonymizer", "attribute", "attribution_groups", "detect", "guard_outputs", "mask_own_place",
           "masked_sources", "own_place_masker", "pseudonymise_project", "self_disclosure"]

KOMMUNEN = ("Castrop-Rauxel", "Datteln", "Dorsten", "Gladbeck", "Haltern am See", "Haltern", "Herten", "Marl",
            "Oer-Erkenschwick", "Recklinghausen", "Waltrop")
# Programmes, public bodies and welfare organisations: named on purpose, never pseudonymised.
PUBLIC = frozenset("""
Kreis KI KIM EhAP Rucksack Griffbereit Südosteuropa Durchstarten Lebensabend Integrationsrat Integrationsräte
Integrationsagentur Integrationsagenturen Jobcenter Ausländerbehörde Gesundheitsamt Jugendamt Sozialamt Schulamt
Bildungsbüro Kreissportbund Landessportbund BAMF Bundesagentur Arbeitsagentur Bezirksregierung Caritas Diakonie
AWO DRK Paritätische Paritätischer Landesregierung NRW Bund Land Stadt Gemeinde Verwaltung Rathaus Ruhrgebiet
Vestische Emscher Lippe Ruhr Dortmund Essen Bochum Gelsenkirchen Münster Deutschland Europa Ukraine Syrien
Rumänien Bulgarien Türkei Afghanistan Irak Iran Eritrea Polen Russland Corona Zoom Teams WhatsApp Facebook
Google Excel Word
""".split())

_NAME = r"[A-ZÄÖÜÇŞİĞ][a-zäöüßçşığéèáàóòúñłńśźżčćđšž'’]+(?:-[A-ZÄÖÜÇŞİĞ][a-zäöüßçşığéèáàóòúñłńśźżčćđšž'’]+)?"
_TITLES = (r"(?:Herrn?|Frau|Fr\.|Hr\.|Dr\.|Prof\.|Doktor|Bürgermeister(?:in)?|Kolleg(?:e|in)|Pfarrer(?:in)?|"
           r"Imam|Hodscha|Schulleiter(?:in)?|Rektor(?:in)?|Direktor(?:in)?|Dezernent(?:in)?|Landrat|Landrätin|"
           r"Beigeordnete[rn]?|Sachbearbeiter(?:in)?)")
_TITLE_RE = re.compile(rf"\b{_TITLES}(?:\s+{_TITLES})*\s+(?P<name>{_NAME}(?:\s+{_NAME})?)")
# the lookbehind anchors a match at the start of a run: without it, long base64 runs in HTML cost O(n²)
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PHONE = re.compile(r"(?<![\w:#])(?:\+49|0049|\(?0(?:\s?\d){2,5}\)?)(?:[\s/\-]*\d){5,12}(?![\w:])")
# common nouns with a street ending: "auf dem Schulweg", "eine Sackgasse", "Bildungsmonitoring"
_NOT_STREETS = (r"(?!(?:Geh|Schul|Um|Aus|Rück|Heim|Hin|Arbeits|Königs|Mittel|Fuß|Rad|Dienst|Rechts|Lebens|Bildungs|"
                r"Irr|Sack|Einbahn|Land|Bundes|Haupt|Neben|Seiten|Stau|Boxen|Box|See|Fluss|Trampel|Lehr|Weg|Wander|"
                r"Zu|Los|Weiter|Nach|Vor|Durch|Ab|An|Anfahrts|Kinder)(?:weg|straße|gasse|damm|ufer|pfad|ring)\b)")
_STREET = re.compile(
    rf"\b{_NOT_STREETS}(?:[A-ZÄÖÜ][\wäöüß]*-)*[A-ZÄÖÜ][\wäöüß]*(?:straße|strasse|str\.|weg|allee|gasse|"
    r"(?<!to)(?<!te)ring|damm|ufer|pfad|chaussee|kamp|graben|(?<!Frage)bogen)(?:\s+\d+\s?[a-z]?)?\b"
    r"|\b(?:Am|An der|Auf der|Im|In der|Zum|Zur)\s+(?!(?:Jahr|Jahre|Monat|Moment|Alter|"
    r"Schnitt|Durchschnitt|Prinzip|Grunde|Ganzen|Rahmen|Vergleich|Sommer|Winter|Herbst|Frühjahr|Frühling|Januar|"
    r"Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Kreis|Moment)\b)"
    r"[A-ZÄÖÜ][\wäöüß]+\s+\d+\s?[a-z]?\b")
_SCHOOL = re.compile(
    r"\b(?:(?:[A-ZÄÖÜ][\wäöüß]*-)+(?:Grundschule|Gesamtschule|Realschule|Hauptschule|Gymnasium|Förderschule|"
    r"Sekundarschule|Schule|Berufskolleg)|(?:Grundschule|Gesamtschule|Realschule|Hauptschule|Gymnasium|"
    r"Förderschule|Sekundarschule|Berufskolleg)\s+(?:(?:am|an der|im|in der|auf der|zum|zur)\s+)?"
    rf"{_NAME}(?:\s+{_NAME})?"
    # one-word school names: Lessingschule, Goethegymnasium (not Grundschule, Berufsschule, Volkshochschule …)
    r"|(?!(?:Grund|Haupt|Real|Gesamt|Förder|Berufs|Sekundar|Volkshoch|Hoch|Fach|Musik|Sprach|Abend|Tanz|Fahr|"
    r"Sonntags|Koran|Ganztags|Regel|Primar|Ober|Mittel|Sonder|Privat|Ersatz|Schwimm|Erwachsenen|Eltern|Kinder|"
    r"Mal|Koch|Reit|Ski|Gast|Heim|Haus|Dorf|Stadtteil|Nachbar|Internats|Partner|Schwerpunkt|Brennpunkt|Welt|"
    r"Anschluss|Weiterbildungs|Wald|Familien|Bildungs|Sommer|Ferien|Nachhilfe|Haupt)(?:schule|gymnasium)\b)"
    r"[A-ZÄÖÜ][a-zäöüß]{2,}(?:schule|gymnasium|realschule|gesamtschule|grundschule)\b)")
_KITA = re.compile(rf"\b(?:Kita|KiTa|Kindertagesstätte|Kindergarten|Familienzentrum)\s+(?:„|\")?(?:{_NAME})"
                   rf"(?:\s+{_NAME})?(?:“|\")?")
_CLUB = re.compile(
    # Kulturverein Prietenie, Freundeskreis Asyl Sythen, Helferkreis Sythen, Boxclub Phönix, Café Mittendrin
    r"\b(?!(?:Arbeits|Gesprächs|Qualitäts|Fach|Runde)kreis)[A-ZÄÖÜ][\wäöüß\-]*(?:verein|kreis|hilfe|club|treff|"
    r"initiative|gemeinschaft|netzwerk)\s+"
    r"(?!(?:und|oder|für|mit|in|im|ist|hat|war|e\.\s?V\.)\b)[A-ZÄÖÜ][\wäöüßăâîșțğışç\-]+(?:\s+[A-ZÄÖÜ][\wäöüß\-]+)?"
    r"|\bCafé\s+[A-ZÄÖÜ][\wäöüß\-]+(?:\s+[A-ZÄÖÜ][\wäöüß\-]+)?"
    r"|\b(?:(?:SV|TuS|FC|DJK|SC|VfL|VfB|BV|SG|TV|TSV|SpVgg|BSV|ETuS|SuS|RSV|TC)\s+(?:[A-ZÄÖÜ0-9][\wäöüß.\-]*)"
    r"(?:\s+[A-ZÄÖÜ0-9][\wäöüß.\-]*){0,3}|(?!(?:Der|Die|Das|Den|Dem|Des|Eine|Einen|Einem|Einer|Eines|Unsere|"
    r"Unseren|Unserem|Unserer|Keine|Jede|Jeder|Jedes|Diese|Dieser|Dieses|Andere|Anderen|Viele|Alle|Einige|Manche|"
    r"Große|Kleine|Neue|Alte)\s)(?:[A-ZÄÖÜ][\wäöüß]*-)*[A-ZÄÖÜ][\wäöüß]*(?:er|e|en|es)\s+"
    r"[A-ZÄÖÜ][\wäöüß]*(?:verein|Verein|gemeinde|Gemeinde|initiative|Initiative)(?:\s+[A-ZÄÖÜ][\wäöüß]+(?:-[A-ZÄÖÜ][\wäöüß]+)?)?)")
_COMPANY = re.compile(
    rf"\b(?:Spedition|Firma|Bäckerei|Autohaus|Pflegedienst|Gebäudereinigung|Reinigung|Metallbau|Dachdeckerei|"
    rf"Malerbetrieb|Elektro|Supermarkt|Restaurant|Imbiss|Baufirma|Zeitarbeitsfirma)\s+{_NAME}(?:\s+{_NAME})?"
    r"|\b[A-ZÄÖÜ][\w&\-]+(?:\s+[A-ZÄÖÜ&][\w&\-]*){0,3}\s+(?:GmbH|AG|KG|UG|OHG|GbR|e\.\s?V\.)"
    # trade compounds with the owner's name: Elektrobetrieb Hansen, Gartenbaufirma Schulte, Kfz-Werkstatt Öztürk
    rf"|\b[A-ZÄÖÜ][\wäöüß\-]*(?:betrieb|firma|werkstatt|handel)\s+{_NAME}"
    rf"|\b(?:Immobilien|Logistik|Getränke|Catering|Wohnbau|Wohnungsbau|Landhotel|Hotel|Bootsverleih|Gartenbau|"
    rf"Fahrschule|Apotheke|Hausverwaltung|Personaldienst|Transporte|Bau)\s+{_NAME}"
    rf"|\b(?!(?:Der|Die|Das|Den|Dem|Des|Eine|Einer|Keine|Unsere|In|Im|Und|Mit|Für|Bei|Von)\s){_NAME}\s+"
    r"(?:Immobilien|Logistik|Transporte|Personaldienst|Bau|Gebäudeservice|Hausverwaltung)\b")
_TYPES = {"Person": "Person", "Schule": "Schule", "Kita": "Kita", "Verein": "Verein", "Unternehmen": "Unternehmen",
          "Adresse": "Adresse", "E-Mail": "E-Mail", "Telefon": "Telefon", "Einrichtung": "Einrichtung"}


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    text: str
    type: str


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    raw = resources.files("qualkit").joinpath("data/first_names.txt").read_text(encoding="utf-8")
    return frozenset(w for line in raw.splitlines() if not line.startswith("#") for w in line.split())


def _allowed(s: str, allow: frozenset[str]) -> bool:
    words = s.split()
    return s in allow or s in KOMMUNEN or all(w in PUBLIC or w in KOMMUNEN for w in words)


def detect(text: str, *, allow: Iterable[str] = ()) -> list[Entity]:
    """Detect identifying strings in ``text``; overlapping hits keep the longest.  See the module docstring."""
    allow_set = frozenset(allow)
    found: list[Entity] = []
    for m in _EMAIL.finditer(text):
        found.append(Entity(m.start(), m.end(), m.group(), "E-Mail"))
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 7 <= len(digits) <= 15:
            found.append(Entity(m.start(), m.end(), m.group().strip(), "Telefon"))
    for rx, typ in ((_SCHOOL, "Schule"), (_KITA, "Kita"), (_CLUB, "Verein"), (_COMPANY, "Unternehmen"),
                    (_STREET, "Adresse")):
        for m in rx.finditer(text):
            s = m.group().strip().rstrip("“\"")
            if not _allowed(s, allow_set) and len(s) > 4:
                found.append(Entity(m.start(), m.start() + len(s), s, typ))
    names = first_names()
    for m in _TITLE_RE.finditer(text):
        name = m.group("name")
        parts = name.split()
        # "Frau Bürgermeisterin" / "Herr Kollege" are titles, not names; a trailing common noun is cut
        while parts and (parts[-1] in PUBLIC or parts[-1] in KOMMUNEN or _ROLE.search(parts[-1])):
            parts.pop()
        drop = 0
        while parts and _ROLE.search(parts[0]):
            drop += len(parts.pop(0)) + 1
        if len(parts) == 2 and parts[0] not in names and not _looks_like_surname(parts[1]):
            parts = parts[:1]
        if not parts or _allowed(" ".join(parts), allow_set):
            continue
        s = " ".join(parts)
        start = m.start("name") + drop
        found.append(Entity(start, start + len(s), s, "Person"))
    from .nlp import stop_words  # cached; spaCy's list plus fillers, none of which is a first name
    stops = stop_words()
    # a first name on its own ("Amina kam mit ihrer Mutter"): from the list, capitalised, not a German word
    for m in re.finditer(rf"(?<![\w\[])({_NAME})(?![\w\]])", text):
        w = m.group(1)
        if w in names and len(w) > 2 and w.lower() not in stops and w not in _WORDY_NAMES \
                and not _allowed(w, allow_set):
            found.append(Entity(m.start(), m.end(), w, "Person"))
    for m in re.finditer(rf"\b({_NAME})\s+({_NAME})", text):
        first, last = m.group(1), m.group(2)
        # "Nur Kirche und Schützenverein": a first name that is also a German function word ("nur", "will")
        # starting a sentence is the word, not a name
        if first.lower() in stops and re.search(r"(^|[.!?:;„\"\n(•\-]\s*)$", text[:m.start()]):
            continue
        if first in names and _looks_like_surname(last) and not _allowed(last, allow_set):
            found.append(Entity(m.start(), m.end(), m.group(), "Person"))
    return _longest(found)


# first names that are also German or English words ("Ernst gemeint", "Frank und frei"): only with a surname
_WORDY_NAMES = frozenset({"Ernst", "Frank", "Mark", "Rose", "Will", "Nur", "Can", "Hope", "Grace", "Sunny",
                          "Till", "Mai"})


_ROLE = re.compile(r"(beauftragte[rn]?|beigeordnete[rn]?|"
                   r"leiter(in)?|referent(in)?|kolleg(e|in)|meister(in)?|rätin|rat|dezernent(in)?|"
                   r"präsident(in)?|direktor(in)?|berater(in)?|koordinator(in)?|sprecher(in)?|vorsitzende[rn]?|"
                   r"manager(in)?|arbeiter(in)?|pädagog(e|in)|lehrer(in)?|doktor(in)?|vertreter(in)?)$", re.I)
_NOUN_ENDINGS = ("ung", "heit", "keit", "schaft", "tion", "ität", "ismus", "chen", "ment", "ik", "ur", "nis")


def _looks_like_surname(w: str) -> bool:
    return w not in PUBLIC and w not in KOMMUNEN and not w.endswith(_NOUN_ENDINGS) and not w.isupper()


def _longest(found: list[Entity]) -> list[Entity]:
    found.sort(key=lambda e: (e.start, -(e.end - e.start)))
    out: list[Entity] = []
    for e in found:
        if out and e.start < out[-1].end:
            if e.end - e.start > out[-1].end - out[-1].start:
                out[-1] = e
            continue
        out.append(e)
    return out


# A name stands alone: not inside a longer word, an e-mail address or a domain.  The underscore counts as a
# separator (file names: ``I39_Kowalczyk.txt``), unlike in ``\w``.
_BEFORE = r"(?<![^\W_])(?<![@.])"
_AFTER = r"(?![^\W_])(?!@)"


class Pseudonymizer:
    """A stable mapping of originals to pseudonyms, stored in a JSON file outside ``outputs/``."""

    def __init__(self, path: str | Path | None = None, *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> None:
        self.path = Path(path) if path else None
        self.allow = frozenset(allow)
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
        return cls(project.private_dir / "pseudonyms.json", allow=cfg["allow"], deny=cfg["deny"])

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

    def learn(self, texts: Iterable[str]) -> int:
        """Detect entities in ``texts`` and add them to the mapping (in order of appearance).  For a
        person ``Anja Brinkhoff`` the surname ``Brinkhoff`` gets the same pseudonym."""
        before = len(self.mapping)
        for text in texts:
            for e in detect(text, allow=self.allow):
                if e.type == "Person":
                    parts = e.text.split()
                    surname = parts[-1]
                    if len(parts) > 1:
                        key = surname if surname in self.mapping else None
                        label = self._add(e.text, "Person", key)
                        if surname not in self.mapping and surname not in self.allow:
                            self.mapping[surname] = {"label": label, "type": "Person", "primary": "0"}
                    else:
                        self._add(surname, "Person")
                else:
                    self._add(e.text, e.type)
        self._rx = None
        return len(self.mapping) - before

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


def pseudonymise_project(project: Project) -> Pseudonymizer:
    """Detect names in all documents (and memos) of the store and save the mapping; returns it.

    Re-running keeps every existing pseudonym and applies the current allow/deny lists.
    """
    p = Pseudonymizer.for_project(project)
    docs = project.store.query("SELECT text FROM documents ORDER BY kind, id")
    p.learn(r[0] for r in docs)
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


def mask_own_place(text: str, place: str | None, districts: Sequence[str] = ()) -> str:
    """Replace a speaker's own Kommune and its districts in a quote.

    An integration officer quoted as "Interview, Integrationsbeauftragte" is identified again when the quote
    says "bei uns in Gladbeck" or "in Brauck": there is one such officer per town.  The town's name and its
    adjective ("Gladbecker Schulen") become ``[eigene Kommune]``, its districts ``[Stadtteil]``.
    """
    if not place:
        return text
    base = place.split()[0]  # "Haltern am See" is also "Haltern"
    forms = {place, base, (base[:-1] if base.endswith("e") else base) + "er"}  # Marler, Hertener, Halterner
    if base.endswith("hausen"):
        forms.add(base[:-6] + "häuser")  # Recklinghäuser
    if "-" in base:  # Castrop-Rauxel is also "Castrop"
        forms.update({base.split("-")[0], base.split("-")[0] + "er"})
    names = [re.escape(f) for f in forms]
    text = re.sub(rf"(?<![\w\-])(?:{'|'.join(sorted(names, key=len, reverse=True))})(?![\w\-])",
                  "[eigene Kommune]", text)
    if districts:
        alt = "|".join(re.escape(d) for d in sorted(districts, key=len, reverse=True))
        text = re.sub(rf"(?<![\w\-])(?:{alt})(?:er)?(?![\w])", "[Stadtteil]", text)
    return text


# "ich leite eine Grundschule in Habinghorst", "als Vorsitzende unseres Vereins": a speaker describing their own
# position, which with a place or institution can identify them whatever the attribution says
_SELF_ROLE = re.compile(
    r"\b(?:[Ii]ch|[Ww]ir)\s+(?:leite|leiten|bin|sind|arbeite|arbeiten|koordiniere|betreue|führe|führen|vertrete)\b"
    r"[^.!?\n]{0,60}?\b(?:(?:Schul)?[Ll]eiter(?:in)?|Rektor(?:in)?|Vorsitzende[rn]?|Inhaber(?:in)?|Chef(?:in)?|"
    r"Vorstand|Grundschule|Schule|Kita|Moschee(?:gemeinde)?|Praxis|Betrieb|Firma|einzige[rn]?)\b"
    r"|\b[Aa]ls\s+(?:Schulleiter(?:in)?|Rektor(?:in)?|Vorsitzende[rn]?|Inhaber(?:in)?|Leiter(?:in)?)\b")


def self_disclosure(text: str) -> bool:
    """True if ``text`` has the speaker describe their own position ("ich leite die Kita …"); findings chapters
    choose such quotes last."""
    return bool(_SELF_ROLE.search(text))


def masked_sources(project: Project, attribution: Sequence[str]) -> set[str]:
    """The sources (``interview``, ``survey``) whose quotes hide the speaker's own place: those listed in
    ``[privacy] mask_own_place``, none when the attribution itself names the place variable."""
    cfg = project.config["privacy"]
    return set() if cfg["place_variable"] in attribution else set(cfg["mask_own_place"])


def own_place_masker(project: Project, attribution: Sequence[str]) -> Callable[[str, str, object], str]:
    """``mask(text, kind, place)`` applying :func:`mask_own_place` to the :func:`masked_sources`."""
    kinds, places = masked_sources(project, attribution), project.config["privacy"]["places"]

    def mask(text: str, kind: str, place: object) -> str:
        if kind in kinds and isinstance(place, str) and (place in places or place in KOMMUNEN):
            return mask_own_place(text, place, places.get(place, []))
        return text

    return mask


def attribution_groups(project: Project, variables: Sequence[str], *, k: int | None = None,
                       kind: str = "interview") -> pd.DataFrame:
    """Persons per combination of ``variables`` (interviewees by default), with ``too_small`` for groups
    below ``k`` (the project's ``[report] k``, default 3): such an attribution identifies a person."""
    kk = int(k if k is not None else project.config["report"]["k"])
    cv = project.store.case_variables()
    cv = cv[cv.case_kind == ("interview" if kind == "interview" else "respondent")]
    missing = [v for v in variables if v not in cv.columns]
    if missing:
        raise KeyError(f"no case variable {', '.join(missing)}")
    if not variables:
        return pd.DataFrame({"persons": [len(cv)], "too_small": [len(cv) < kk]})
    g = cv.fillna("(fehlt)").groupby(list(variables)).case_id.nunique().rename("persons").reset_index()
    g["too_small"] = g.persons < kk
    return g.sort_values(list(variables)).reset_index(drop=True)


def attribute(project: Project, case_id: str, variables: Sequence[str] | None = None, *, k: int | None = None
              ) -> tuple[str, bool]:
    """The attribution of a quote by ``case_id``: ``(label, flagged)``.

    The label joins the case's values of ``variables`` (default: the project's ``[report] attribution``);
    if fewer than k persons share them, the label falls back to the source alone (``Interview`` /
    ``Umfrage``) and ``flagged`` is True.
    """
    variables = list(variables if variables is not None else project.config["report"]["attribution"])
    cv = project.store.case_variables().set_index("case_id")
    if case_id not in cv.index:
        return "unbekannt", True
    row = cv.loc[case_id]
    kind = "interview" if row.case_kind == "interview" else "respondent"
    source = "Interview" if kind == "interview" else "Umfrage"
    usable = [v for v in variables if v in cv.columns]
    if not usable:
        return source, False
    groups = attribution_groups(project, usable, k=k, kind=kind)
    sel = groups
    for v in usable:
        sel = sel[sel[v] == (row[v] if pd.notna(row[v]) else "(fehlt)")]
    if sel.empty or bool(sel.too_small.iloc[0]):
        return source, True
    values = [str(row[v]) for v in usable if pd.notna(row[v])]
    return f"{source}, {', '.join(values)}", False
