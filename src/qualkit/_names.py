"""Detection of identifying strings in German text (the first step of pseudonymisation).

:func:`detect` finds person names (forms of address and titles such as Herr/Frau/Dr./Bürgermeisterin X, first
name + surname, and first names on their own), e-mail addresses, phone numbers, street addresses (with or
without house number, also abbreviated "-str."), and named institutions below the level of the town (schools,
Kitas, clubs, companies).  First names come from a kept name resource (:func:`first_names`): the first-name
dictionary shipped in the ``gender-guesser`` package (names of 54 countries, among them Turkey, the Arab
countries, Ukraine, Poland, Russia and the Balkans), filtered against German vocabulary, plus
``qualkit/data/first_names.txt`` for names it lacks.  ``bench/privacy_bench.py`` measures the choice.

Words that are never names (public bodies, programmes, countries) are in ``qualkit/data/public_words.txt``;
a project adds its own (towns, districts, local bodies) through ``[privacy] public`` and ``places``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Entity", "detect", "first_names", "public_words"]

_UP = "A-ZÄÖÜÇŞİĞŁŚŻŹĆŃȘȚĂÂÎ"
_LOW = "a-zäöüßçşığéèáàóòúñłńśźżčćđšžăâîșțëïąęěřůýő'’"
_NAME = rf"[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)?"
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
# streets without house number as two words ("Nordener Straße", "Talheimer Str.") and abbreviated ("Brunnenstr.")
_STREET2 = re.compile(
    r"\b(?!(?:Unserer|Dieser|Einer|Jeder|Anderer|Der|Ihrer|Seiner|Meiner|Eurer|Keiner|Welcher|Jener)\s)"
    r"[A-ZÄÖÜ][\wäöüß]+er\s+(?:Straße|Strasse|Str\.|Weg|Allee|Ring|Gasse|Damm)(?:\s+\d+\s?[a-z]?\b)?"
    r"|\b(?:[A-ZÄÖÜ][\wäöüß]*-)*[A-ZÄÖÜ][\wäöüß]{2,}str\.(?:\s+\d+\s?[a-z]?\b)?")
_SCHOOL = re.compile(
    r"\b(?:(?:[A-ZÄÖÜ][\wäöüß]*-)+(?:Grundschule|Gesamtschule|Realschule|Hauptschule|Gymnasium|Förderschule|"
    r"Sekundarschule|Schule|Berufskolleg)|Schule\s+(?:am|an\s+der|im|in\s+der|auf\s+der|zum|zur)\s+"
    rf"{_NAME}|(?:Grundschule|Gesamtschule|Realschule|Hauptschule|Gymnasium|"
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
_CLUB_WORDS = ("verein", "kreis", "club", "treff", "initiative", "gemeinschaft", "netzwerk", "hilfe")
_CLUB = re.compile(
    # Kulturverein Prietenie, Freundeskreis Asyl Nordheide, Helferkreis Nordheide, Boxclub Phönix, Café Mittendrin
    r"\b(?!(?:Arbeits|Gesprächs|Qualitäts|Fach|Runde)kreis)[A-ZÄÖÜ][\wäöüß\-]*(?:verein|kreis|hilfe|club|treff|"
    r"initiative|gemeinschaft|netzwerk)\s+"
    r"(?!(?:und|oder|für|mit|in|im|ist|hat|war|e\.\s?V\.)\b)[A-ZÄÖÜ][\wäöüßăâîșțğışç\-]+(?:\s+[A-ZÄÖÜ][\wäöüß\-]+)?"
    r"|\bCafé\s+[A-ZÄÖÜ][\wäöüß\-]+(?:\s+[A-ZÄÖÜ][\wäöüß\-]+)?"
    r"|\b(?:(?:SV|TuS|FC|DJK|SC|VfL|VfB|BV|SG|TV|TSV|SpVgg|BSV|ETuS|SuS|RSV|TC)\s+(?:[A-ZÄÖÜ0-9][\wäöüß.\-]*)"
    r"(?:\s+[A-ZÄÖÜ0-9][\wäöüß.\-]*){0,3}|(?!(?:Der|Die|Das|Den|Dem|Des|Eine|Einen|Einem|Einer|Eines|Unsere|"
    r"Unseren|Unserem|Unserer|Keine|Jede|Jeder|Jedes|Diese|Dieser|Dieses|Andere|Anderen|Viele|Alle|Einige|Manche|"
    r"Große|Kleine|Neue|Alte)\s)(?:[A-ZÄÖÜ][\wäöüß]*-)*[A-ZÄÖÜ][\wäöüß]*(?:er|e|en|es)\s+"
    r"(?:[A-ZÄÖÜ][\wäöüß]*(?:verein|Verein|gemeinde|Gemeinde|initiative|Initiative|gemeinschaft)|Verein|Gemeinde|"
    r"Initiative|Gemeinschaft)(?:\s+[A-ZÄÖÜ][\wäöüß]+(?:-[A-ZÄÖÜ][\wäöüß]+)?)?)")
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


def _data(name: str) -> str:
    return resources.files("qualkit").joinpath(f"data/{name}").read_text(encoding="utf-8")


def _words(raw: str) -> frozenset[str]:
    return frozenset(w for line in raw.splitlines() if not line.startswith("#") for w in line.split())


@lru_cache(maxsize=1)
def public_words() -> frozenset[str]:
    """Words that never make a name: public bodies, programmes, countries, common tools (``data/public_words.txt``)."""
    return _words(_data("public_words.txt"))


@lru_cache(maxsize=1)
def _builtin_names() -> frozenset[str]:
    return _words(_data("first_names.txt"))


def _gender_guesser_names() -> frozenset[str]:
    """Every first name of ``gender_guesser/data/nam_dict.txt`` (Jörg Michael's dictionary, GFDL; the package
    ships it, nothing is downloaded).  Column 2 holds the name; ``+`` joins parts (``Anna+Lena``)."""
    raw = resources.files("gender_guesser").joinpath("data/nam_dict.txt").read_text(encoding="utf-8")
    out: set[str] = set()
    for line in raw.splitlines():
        if not line or line[0] in "#=":
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        name = parts[1]
        out.update({name.replace("+", ""), name.replace("+", "-")} if "+" in name else {name})
    return frozenset(out)


def _faker_names() -> frozenset[str]:
    """First names of faker's person providers for the languages of the people in German integration work."""
    import importlib
    out: set[str] = set()
    for loc in ("de_DE", "tr_TR", "ar_AA", "ar_SA", "ar_PS", "fa_IR", "uk_UA", "ru_RU", "pl_PL", "ro_RO", "bg_BG",
                "hr_HR", "el_GR", "it_IT", "az_AZ", "ka_GE", "hy_AM"):
        prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            names = getattr(prov, attr, ())
            out.update(n for n in names if isinstance(n, str) and n[:1].isupper() and n.isalpha())
    return frozenset(out)


NAME_RESOURCES: dict[str, Callable[[], frozenset[str]]] = {
    "builtin": _builtin_names, "gender-guesser": _gender_guesser_names, "faker": _faker_names}
DEFAULT_NAME_RESOURCE = "gender-guesser"


@lru_cache(maxsize=8)
def first_names(resource: str = DEFAULT_NAME_RESOURCE, *, supplement: bool = True) -> frozenset[str]:
    """First names from a kept resource (see the module docstring), with the built-in list as ``supplement``.

    ``resource`` is one of :data:`NAME_RESOURCES`; the default was chosen by ``bench/privacy_bench.py``.
    """
    if resource not in NAME_RESOURCES:
        raise ValueError(f"unknown name resource {resource!r}; valid: {', '.join(NAME_RESOURCES)}")
    names = NAME_RESOURCES[resource]()
    return names | _builtin_names() if supplement else names


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS  # shipped with spaCy, no model
    return frozenset(STOP_WORDS)


@lru_cache(maxsize=100_000)
def _german_word(w: str) -> bool:
    """True if ``w`` is a German word (spaCy's lemma table, either case): such a first name ("Kurs", "Hoffnung",
    "Sonne") counts as a name only with a title or a surname."""
    from .nlp import _known
    return w not in _builtin_names() and (_known(w) is not None or _known(w.lower()) is not None)


def _allowed(s: str, allow: frozenset[str]) -> bool:
    words = s.split()
    pub = public_words()
    return s in allow or all(w in pub or w in allow for w in words)


def detect(text: str, *, allow: Iterable[str] = (), names: frozenset[str] | None = None) -> list[Entity]:
    """Detect identifying strings in ``text``; overlapping hits keep the longest.  See the module docstring.

    ``allow`` holds words and strings that are never names (a project's towns, districts, local bodies and its
    ``[privacy] allow`` list); ``names`` replaces the first-name resource (the benchmark compares resources).
    """
    allow_set = frozenset(allow)
    pub = public_words() | allow_set
    found: list[Entity] = []
    for m in _EMAIL.finditer(text):
        found.append(Entity(m.start(), m.end(), m.group(), "E-Mail"))
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 7 <= len(digits) <= 15:
            found.append(Entity(m.start(), m.end(), m.group().strip(), "Telefon"))
    for rx, typ in ((_SCHOOL, "Schule"), (_KITA, "Kita"), (_CLUB, "Verein"), (_COMPANY, "Unternehmen"),
                    (_STREET, "Adresse"), (_STREET2, "Adresse")):
        for m in rx.finditer(text):
            s = m.group().strip().rstrip("“\"")
            if not _allowed(s, allow_set) and len(s) > 4:
                found.append(Entity(m.start(), m.start() + len(s), s, typ))
    names = first_names() if names is None else names
    for m in _TITLE_RE.finditer(text):
        name = m.group("name")
        parts = name.split()
        # "Frau Bürgermeisterin" / "Herr Kollege" are titles, not names; a trailing common noun is cut
        while parts and (parts[-1] in pub or _ROLE.search(parts[-1])):
            parts.pop()
        drop = 0
        while parts and _ROLE.search(parts[0]):
            drop += len(parts.pop(0)) + 1
        if len(parts) == 2 and parts[0] not in names and not _looks_like_surname(parts[1], pub):
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
                and not _allowed(w, allow_set) and not _common_noun(w):
            found.append(Entity(m.start(), m.end(), w, "Person"))
    for m in re.finditer(rf"\b({_NAME})\s+({_NAME})", text):
        first, last = m.group(1), m.group(2)
        # "Nur Kirche und Schützenverein": a first name that is also a German function word ("nur", "will")
        # starting a sentence is the word, not a name
        if first.lower() in stops and _after_sentence_mark(text, m.start()):
            continue
        if first not in names or not _looks_like_surname(last, pub) or _allowed(last, allow_set):
            continue
        # a name only the large resource knows ("Art", "Elan", "Enkel") before a common noun ("Art Fachstelle",
        # "Sie Bescheid") is no person; the curated list's names ("Anja Koch") keep their German surnames
        if first not in _builtin_names() and (first.lower() in stops or _german_word(first) or _common_noun(last)):
            continue
        found.append(Entity(m.start(), m.end(), m.group(), "Person"))
    return _longest(found)


_SENTENCE_MARK = re.compile(r"(^|[.!?:;„\"\n(•\-]\s*)$")


def _after_sentence_mark(text: str, i: int) -> bool:
    """True if ``text[:i]`` is empty or ends in a sentence mark and white space (``_SENTENCE_MARK``).  Only the
    end is searched: a search of the whole prefix at every capitalised word pair was quadratic in a transcript."""
    j = i
    while j > 0 and text[j - 1].isspace():
        j -= 1
    return _SENTENCE_MARK.search(text, max(0, j - 1), i) is not None


_SURNAME_HEADS = frozenset({"Mann", "Berg", "Feld", "Kamp", "Hof", "Haus", "Meier", "Meyer", "Bach", "Brink", "Horst",
                            "Dorf", "Kötter", "Schulte", "Becker", "Müller"})


def _common_noun(w: str) -> bool:
    """A German word or a compound of German words ("Fachstelle", "Pilotprojekt"), except compounds with a
    usual surname head ("Bergmann", "Lindenberg")."""
    if _german_word(w):
        return True
    if w not in _builtin_names() and w.lower() in _english_words():  # "The", "May" in an English answer
        return True
    from .nlp import split_compound
    parts = split_compound(w)
    return len(parts) > 1 and parts[-1] not in _SURNAME_HEADS


# first names that are also German or English words ("Ernst gemeint", "Frank und frei"): only with a surname
_WORDY_NAMES = frozenset({"Ernst", "Frank", "Mark", "Rose", "Will", "Nur", "Can", "Hope", "Grace", "Sunny",
                          "Till", "Mai"})


_ROLE = re.compile(r"(beauftragte[rn]?|beigeordnete[rn]?|"
                   r"leiter(in)?|referent(in)?|kolleg(e|in)|meister(in)?|rätin|rat|dezernent(in)?|"
                   r"präsident(in)?|direktor(in)?|berater(in)?|koordinator(in)?|sprecher(in)?|vorsitzende[rn]?|"
                   r"manager(in)?|arbeiter(in)?|pädagog(e|in)|lehrer(in)?|doktor(in)?|vertreter(in)?)$", re.I)
_NOUN_ENDINGS = ("ung", "heit", "keit", "schaft", "tion", "ität", "ismus", "chen", "ment", "ik", "ur", "nis")


def _looks_like_surname(w: str, public: frozenset[str]) -> bool:
    return w not in public and not w.endswith(_NOUN_ENDINGS) and not w.isupper()


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


