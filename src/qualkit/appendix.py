"""The method appendix: every method term of the report explained once, in German, for readers who never
open a notebook.  The running text can then speak plainly ("Themen", "gemeinsam genannt") and leave the
terms (Jaccard, NMF, Kappa, the k rule …) to the appendix.

The text takes its numbers and group names from the report's settings, never from an example project.
"""

from __future__ import annotations

from collections.abc import Sequence

from .blocks import Block

__all__ = ["GLOSSARY", "method_appendix"]

# (term, explanation); ``{k}``, ``{groups}``, ``{min_theme_size}`` are filled from the report's settings
GLOSSARY: list[tuple[str, str]] = [
    ("Codierung", "Eine Textstelle wird einer Kategorie des Kategoriensystems zugeordnet. Gezählt wird, wer etwas "
                  "angesprochen hat, nicht wie oft: eine Person mit fünf Aussagen zu einem Thema zählt einmal."),
    ("Einheit", "Ein Redebeitrag im Interview oder eine Antwort auf eine offene Frage der Befragung. Zahlen zu "
                "„Aussagen“ oder „Einheiten“ zählen solche Einheiten."),
    ("Anteil", "Der Anteil der Personen einer Gruppe, die eine Kategorie angesprochen haben, in Prozent. Prozentwerte "
               "sind gerundet; Dezimalzahlen stehen mit Komma (0,97)."),
    ("Grundform (Lemma)", "Wörter werden für Wortlisten und Themen auf ihre Grundform gebracht („Kinder“ → „Kind“), "
                          "zusammengesetzte Wörter bleiben ganz („Sprachkurs“). Füllwörter und häufige Wörter ohne "
                          "eigenen Inhalt („und“, „auch“, „halt“) werden nicht gezählt."),
    ("Wortwolke", "Die Schriftgröße eines Begriffs zeigt, wie oft er in den Aussagen vorkommt. Die Wolke zeigt "
                  "Häufigkeit, nicht Wichtigkeit oder Zustimmung."),
    ("Themen (NMF)", "Themen werden rechnerisch gebildet: Aussagen, die ähnliche Wörter verwenden, kommen in dasselbe "
                     "Thema. Das Verfahren heißt nicht-negative Matrixfaktorisierung (NMF). Jedes Thema umfasst "
                     "mindestens {min_theme_size} Aussagen; seine Bezeichnung besteht aus den Begriffen, die es am "
                     "deutlichsten von den übrigen Aussagen unterscheiden. Die Themen sind ein Vorschlag zum Lesen, "
                     "keine Deutung: die Zitate zeigen, was gemeint ist. Hat eine Kategorie mehr als {max_fit} "
                     "Aussagen, werden die Themen an einer festen Zufallsstichprobe von {max_fit} Aussagen gebildet "
                     "und danach alle Aussagen ihrem Thema zugeordnet; beschrieben werden die Themen dabei "
                     "durch höchstens die {max_terms} häufigsten Begriffe."),
    ("Kohärenz", "Die Zahl der Themen wird so gewählt, dass die kennzeichnenden Begriffe eines Themas möglichst oft "
                 "gemeinsam in denselben Aussagen vorkommen."),
    ("Jaccard-Koeffizient", "Wie oft zwei Kategorien in derselben Einheit vorkommen, im Verhältnis zu allen "
                            "Einheiten mit mindestens einer der beiden: 0 heißt nie gemeinsam, 1 heißt immer "
                            "gemeinsam. Ein Wert von 0,25 bedeutet: in einem Viertel der Einheiten, die eine der "
                            "beiden Kategorien betreffen, kommen beide vor."),
    ("Prozentuale Übereinstimmung", "Der Anteil der Entscheidungen, in denen zwei Codierende unabhängig "
                                    "voneinander gleich codiert haben."),
    ("Cohens Kappa", "Die Übereinstimmung zweier Codierender, bereinigt um die Übereinstimmung, die schon durch "
                     "Zufall zu erwarten wäre: 1 ist vollständige Übereinstimmung, 0 nicht besser als Zufall. Werte "
                     "ab 0,61 gelten üblicherweise als gut, ab 0,81 als sehr gut."),
    ("Kappa nach Brennan & Prediger", "Eine Variante von Kappa für frei gewählte Textstellen: zwei Codierungen "
                                      "gelten als gleich, wenn sich ihre Textstellen weit genug überschneiden."),
    ("Krippendorffs Alpha", "Ein weiteres Maß der Übereinstimmung, das auch fehlende Codierungen berücksichtigt; "
                            "es wird wie Kappa gelesen."),
    ("Mindestgröße von Gruppen (k = {k})", "Zitate werden nur einer Gruppe zugeordnet ({groups}), der mindestens "
                                           "{k} Personen angehören. Ist eine Gruppe kleiner, steht nur die Quelle "
                                           "(Interview oder Umfrage) beim Zitat, damit niemand erkennbar wird."),
    ("Pseudonymisierung", "Namen von Personen, Einrichtungen, Straßen und Kontaktdaten sind durch Platzhalter in "
                          "eckigen Klammern ersetzt ([Person 3], [Schule 2]). Dieselbe Person trägt im ganzen "
                          "Bericht denselben Platzhalter."),
]


def method_appendix(*, k: int = 3, attribution: Sequence[str] = (), survey_attribution: Sequence[str] = (),
                    min_theme_size: int = 5) -> list[Block]:
    """The appendix as blocks: a heading, a short introduction and the glossary (:data:`GLOSSARY`)."""
    groups = ", ".join([*attribution, *(v for v in survey_attribution if v not in attribution)]) or "Gruppen"
    from .prose import num
    from .themes import MAX_FIT, MAX_TERMS
    values = {"k": k, "groups": groups, "min_theme_size": min_theme_size, "max_fit": num(MAX_FIT),
              "max_terms": num(MAX_TERMS)}
    rows = [[term.format(**values), text.format(**values)] for term, text in GLOSSARY]
    return [Block("heading", text="Anhang: Methoden und Begriffe", level=1),
            Block("para", text="Dieser Anhang erklärt einmal die Verfahren und Fachbegriffe, auf denen die Zahlen, "
                               "Themen und Zitate des Berichts beruhen."),
            Block("terms", rows=rows)]
