"""Build the thin notebooks (run from the repository root; the .ipynb files are committed).

They are written twice, byte for byte: src/qualkit/notebooks/ (package data: `qualkit init` and `qualkit report`
read them from the installed package) and notebooks/ (where researchers of the example open them); a test checks
that the two stay the same."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def nb(title, params, body, name):
    md = new_markdown_cell(title)
    md.metadata["tags"] = ["remove-cell"]  # instructions for researchers; not part of the chapter HTML
    cells = [md]
    c = new_code_cell(params)
    c.metadata["tags"] = ["parameters"]
    cells.append(c)
    cells += [new_code_cell(b) for b in body]
    for i, cell in enumerate(cells):
        cell.id = f"{name.removesuffix('.ipynb')}-{i}"  # stable ids: regenerating gives the same files
    n = new_notebook(cells=cells)
    n.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    n.metadata["language_info"] = {"name": "python"}
    for folder in ("src/qualkit/notebooks", "notebooks"):
        nbformat.write(n, f"{folder}/{name}")

SHOW = ("from qualkit.blocks import display_blocks\n"
        "from qualkit.reports import chapter_for_notebook\n\n"
        "blocks, base = chapter_for_notebook(project_dir, name, data_dir, {hf})\n"
        "display_blocks(blocks, base=base)")
nb("# Kapitel: ein Code der ersten Dimension\n\nErgebniskapitel für einen Code (im Beispiel ein Handlungsfeld). "
   "Wird von `qualkit report` mit papermill ausgeführt; "
   "interaktiv genügt es, `code` zu setzen.",
   'project_dir: str = ".."  # project folder (with qualkit.toml)\n'
   'code: str = ""  # exact name of a code of the primary dimension (empty: the first one)\n'
   'data_dir: str = ""  # folder with the run\'s precomputed chapter data; "" computes it now\n'
   'name: str = "chapter"  # output name of the chapter in a report run',
   [SHOW.format(hf="code")], "chapter.ipynb")
nb("# Befunde und Handlungsempfehlungen\n\nVom Entwurf zum Beleg und zurück: `qualkit findings draft` schreibt "
   "Entwürfe (nur Zahlen) in `findings/<code>.yaml`; dort werden sie bearbeitet, zusammengeführt und mit "
   "`status: approved` (oder `qualkit findings approve ID`) freigegeben. Diese Ansicht zeigt jeden Befund mit "
   "seinen Belegen im Kontext und die Befunde, die ein Dokument belegt.",
   'project_dir: str = ".."  # project folder (with qualkit.toml)\n'
   'code: str = ""  # code of the primary dimension (empty: all codes)\n'
   'finding: str = ""  # id of the finding whose evidence is shown (empty: the first listed)\n'
   'document: str = ""  # document whose findings are shown (empty: that of the first passage)',
   ["import qualkit\nfrom qualkit.findings import evidence_table, findings_citing, findings_table\n\n"
    "project = qualkit.open_project(project_dir)\nqualkit.ingest(project)\ntable = findings_table(project, code or None)\n"
    "table",
    "finding = finding or next(iter(table[table.type == 'finding'].id), '')\n"
    "evidence = evidence_table(project, finding) if finding else None\nevidence",
    "document = document or (evidence.document.iloc[0] if evidence is not None and len(evidence) else '')\n"
    "findings_citing(project, document) if document else 'no document'",
    "# open a passage in the coding view (it scrolls to the document):\n"
    "# qualkit.CodingView(project, document=document)"], "findings.ipynb")
nb("# Überblick: Datengrundlage und Vorgehen",
   'project_dir: str = ".."  # project folder (with qualkit.toml)\n'
   'data_dir: str = ""  # folder with the run\'s precomputed data; "" computes it now\n'
   'name: str = "overview"  # output name in a report run',
   [SHOW.format(hf='""')], "overview.ipynb")
nb("# Offene Antworten der Online-Befragung",
   'project_dir: str = ".."  # project folder (with qualkit.toml)\n'
   'data_dir: str = ""  # folder with the run\'s precomputed data; "" computes it now\n'
   'name: str = "survey"  # output name in a report run',
   [SHOW.format(hf='""')], "survey.ipynb")
nb("# Themen in einem Code\n\nClustert die Aussagen eines Codes (Matrixfaktorisierung über "
   "Lemmata, Zahl der Themen nach Kohärenz) "
   "und zeigt jedes Thema mit seinen typischsten Zitaten.",
   'project_dir: str = ".."  # project folder (with qualkit.toml)\n'
   'code: str = ""  # code whose units are clustered ("" = the first code of the first dimension)\n'
   'min_theme_size: int = 5  # smallest theme shown\n'
   'method: str = "nmf"  # nmf (default), kmeans or agglomerative',
   ["import qualkit\nfrom qualkit.themes import find_themes\n\n"
    "project = qualkit.open_project(project_dir)\nqualkit.ingest(project)\n"
    "result = find_themes(project, code or project.codebook.first_code(), min_size=min_theme_size, method=method)\n"
    "print(f'{result.k} Themen; Kohärenz je k: {result.k_scores}; beiseitegelassen: {len(result.set_aside)}')\n"
    "result.themes[['theme', 'label', 'size', 'documents', 'places']]",
    "from qualkit.themes import show_themes\n\nshow_themes(project, result)"], "themes.ipynb")
nb("# Codieren\n\nDokument im Codierfenster: Text mit der Maus markieren, dann einen Code im Codebaum "
   "anklicken oder seine Taste drücken (Tasten stehen im Codebuch; Buchstaben tippen filtert den Codebaum, "
   "Enter vergibt den ersten Treffer; ▸ öffnet die Unterkodes eines Codes für die Zifferntasten). Die "
   "Markierung bleibt stehen, ein zweiter Code kann sofort folgen; derselbe Code zweimal auf dieselbe Stelle "
   "wird nicht doppelt gespeichert. Eine Markierung über mehrere Redebeiträge codiert nur die Antworten, "
   "nicht die Frage dazwischen.\n\nAuf eine Markierung oder ein Etikett am Rand klicken: Codierer/in, Memo "
   "(✎), Herkunft; Code ändern, Memo bearbeiten, löschen; Vorschläge (gestrichelt) annehmen oder ablehnen. "
   "Bei überlappenden Codierungen erscheint eine Auswahl. Esc oder ein Klick daneben schließt das Fenster. "
   "Strg+Z macht die eigenen Schritte rückgängig, Strg+Umschalt+Z wiederholt sie.\n\nNavigation: ↓/↑ "
   "uncodiert (Alt+↓/↑) springt zum nächsten uncodierten Abschnitt, „Vorschlag ›“ (Alt+V) zum nächsten "
   "offenen Vorschlag, Alt+→/← zum nächsten Dokument. Strg+F sucht im Dokument (Enter: nächster Treffer), "
   "„in allen“ in allen Dokumenten. Häkchen im Codebaum aktivieren Codes: dann sind nur deren Codierungen zu "
   "sehen. „Als Nächstes?“ (Alt+N) listet uncodierte Abschnitte, aus denen die automatische Codierung am "
   "meisten lernt; ein Klick springt hin.\n\nUmfrageantworten: Taste drücken codiert die ganze Antwort und "
   "springt zur nächsten; der "
   "zuletzt vergebene Code steht oben.\n\nZu zweit an einem Notebook: der zweite Browser fragt, wer dort "
   "codiert. Hat jemand anderes eine Codierung inzwischen geändert, wird nichts überschrieben; das Fenster "
   "zeigt den Konflikt und behält den eigenen Text.\n\nDie Segmentliste darunter folgt jeder Änderung; "
   "„Codes wählen“ stellt Codes und Verknüpfung ein, „im Dokument öffnen“ springt zur Stelle und markiert "
   "sie.",
   'project_dir: str = ".."  # project folder (with qualkit.toml)\n'
   'document: str = ""  # document to open first ("" = the first one)\n'
   'coder: str = ""  # your coder name ("" = $QUALKIT_CODER or your login name)\n'
   'retrieve_code: str = ""  # code shown in the retrieval view below ("" = the first code of the first dimension)',
   ["import qualkit\n\nif coder:\n    qualkit.set_coder(coder)\nproject = qualkit.open_project(project_dir)\n"
    "qualkit.ingest(project)\nview = qualkit.CodingView(project, document=document or None)\nview",
    "qualkit.RetrievalView(project, retrieve_code or project.codebook.first_code(), coding_view=view, "
    "filters=None)"], "coding.ipynb")
