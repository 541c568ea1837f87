"""The chapters' data: counting persons with bases, contrasts, closed items, artefacts, duplicate submissions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qualkit.corpus import ingest
from qualkit.project import Project
from qualkit.reportdata import (
    MISSING,
    ReportData,
    ReportSettings,
    choice_variable,
    contrasts,
    counts_by,
    duplicate_submissions,
    subcode_table,
)

from .conftest import write_project

CODE = "Bildung und Sprache"


def _survey(tmp_path: Path) -> Project:
    """40 respondents in two places: in Marl 15 of 20 write about Kita places, in Herten 2 of 20; one
    respondent submits twice; a closed item names the most important field."""
    p = write_project(tmp_path / "p")
    rows = ["id,submitdate,Kommune,OrgTyp,Prio,F1,F2"]
    for i in range(1, 41):
        place = "Marl" if i <= 20 else "Herten"
        kita = (i <= 15) or (21 <= i <= 22)
        text = f"Es fehlen Kitaplätze für Familien Nummer {i}." if kita else f"Mehr Busse in den Ortsteil {i}."
        prio = CODE if kita else "Wohnen und Mobilität"
        rows.append(f"{i},2021-11-20,{place},Kita,{prio},{text},")
    rows.append(f"41,2021-11-20,Marl,Kita,{CODE},Es fehlen Kitaplätze für Familien Nummer 1.,")
    (p.root / "transcripts/survey/export.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = p.root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('OrgTyp = "Organisationstyp"',
                                                           'OrgTyp = "Organisationstyp"\nPrio = "Wichtigstes Feld"')
                   .replace('complete_column = "submitdate"', 'complete_column = "submitdate"\n'), encoding="utf-8")
    from qualkit.project import open_project
    p = open_project(p.root)
    ingest(p)
    for d in p.store.documents().itertuples():
        text = p.store.document_text(d.id)
        if d.kind == "survey" and "Kita" in text:
            p.store.add_coding(d.id, 0, len(text), "Frühkindliche Bildung", coder="A")
        elif d.kind == "survey":
            p.store.add_coding(d.id, 0, len(text), "Wohnen und Mobilität", coder="A")
    return p


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    p = _survey(tmp_path)
    return ReportData(p, ReportSettings.from_project(p))


def test_reportdata_duplicate_submission_counted_once(data: ReportData) -> None:
    assert data.total("survey") == 40  # 41 submissions, one a word-for-word repeat
    assert duplicate_submissions(data).to_dict("records") == [{"case_id": "S41", "duplicate_of": "S1", "answers": 1}]


def test_reportdata_counts_by_with_base(data: ReportData) -> None:
    t = counts_by(data, data.units_with([CODE]), "survey", "Kommune").set_index("Kommune")
    assert t.loc["Marl"].tolist() == [15, 20] and t.loc["Herten"].tolist() == [2, 20]


def test_reportdata_contrasts_find_the_place_that_differs(data: ReportData) -> None:
    c = contrasts(data, [CODE], "survey", "Kommune")
    marl = c[c.value == "Marl"].iloc[0]
    assert (marl.n, marl.total, marl.rest_n, marl.rest_total, marl.direction) == (15, 20, 2, 20, "more")
    assert marl.p < 0.001
    herten = c[c.value == "Herten"].iloc[0]
    assert herten.direction == "less"
    # a group too small to compare, or a gap too small, is not a contrast
    assert contrasts(data, [CODE], "survey", "Kommune", min_base=25).empty
    assert contrasts(data, [CODE], "survey", "Kommune", min_gap=0.9).empty


def test_reportdata_closed_item_naming_codes_is_found(data: ReportData) -> None:
    assert choice_variable(data) == "Wichtigstes Feld"


def test_reportdata_subcode_never_asked_in_survey_is_an_artefact(data: ReportData) -> None:
    sub = subcode_table(data, CODE).set_index("subcode")
    assert bool(sub.loc["Frühkindliche Bildung", "asked"]) and sub.loc["Frühkindliche Bildung", "respondents"] == 17
    never = [s for s in sub.index if s != "Frühkindliche Bildung"]
    assert never and not sub.loc[never, "asked"].any()


def test_reportdata_choice_base_leaves_out_missing_and_duplicates(data: ReportData) -> None:
    from qualkit.reportdata import choice_counts
    counts = choice_counts(data, "Wichtigstes Feld")
    assert counts.sum() == 40 and counts[CODE] == 17  # S41 repeats S1 and is not counted twice


def test_reportdata_bases_are_those_of_the_units_and_computed_once(data: ReportData) -> None:
    sv = data.units[data.units.kind == "survey"]
    assert data.base_counts("survey", "Kommune").to_dict() == sv.groupby("Kommune").person_id.nunique().to_dict() \
        == {"Herten": 20, "Marl": 20}
    persons = data.persons_by("survey", "Kommune")
    assert len(persons) == 40 and persons["S1"] == "Marl" and persons["S40"] == "Herten"
    assert data.coded_codes("survey") == {"Frühkindliche Bildung", "Wohnen und Mobilität"}
    assert data.base_counts("survey", "kein Merkmal") is None and data.persons_by("survey", "kein Merkmal") is None
    # an output reads the bases kept when the data was built, never the corpus again: with the units gone,
    # a count by place still has its base, and the selections of the last output are forgotten on request
    mentioned = data.units_with([CODE])
    data.units = data.units.iloc[0:0]
    t = counts_by(data, mentioned, "survey", "Kommune").set_index("Kommune")
    assert t.loc["Marl"].tolist() == [15, 20] and data.total("survey") == 40
    assert len(data.units_with([CODE])) == 17
    data.forget_selections()
    assert data.units_with([CODE]).empty


def test_reportdata_texts_are_the_units_texts_whatever_their_storage(data: ReportData) -> None:
    """The report data keeps texts as categories (a forked worker then selects codes, not references); what a
    chapter reads are the same strings as the unit table's, pseudonymised ones included."""
    from qualkit.units import unit_table
    table = unit_table(data.project).set_index("unit_id").text
    u = data.units_with([CODE])
    assert len(u) == 17 and all(isinstance(t, str) and t == table[i] for i, t in zip(u.unit_id, u.text, strict=True))
    assert [data.pseudo.pseudonymise(t) for t in u.text] == list(u.ptext)
    assert set(data.all_units.text) == set(table)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each categorical column as the values it stands for."""
    return df.astype({c: df[c].cat.categories.dtype for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})


def test_reportdata_keeps_repeated_strings_as_categories(data: ReportData) -> None:
    """The unit table's and the labels' columns of repeated strings are held as categories (an integer code per
    row), ids and the language as strings; the values are the store's, a missing one stays missing, and a group
    by a variable is labelled and ordered by its strings, :data:`MISSING` among them."""
    from qualkit.units import unit_labels, unit_table, with_missing
    table, labels = unit_table(data.project), unit_labels(data.project)
    cat = {c for c in data.units.columns if isinstance(data.units[c].dtype, pd.CategoricalDtype)}
    assert {"kind", "question", "text", "ptext", data.place_variable} <= cat
    assert not cat & {"unit_id", "document_id", "case_id", "person_id", "language", "start"}
    assert {"code", "root", "coder"} <= {c for c in data.labels.columns
                                         if isinstance(data.labels[c].dtype, pd.CategoricalDtype)}
    pd.testing.assert_frame_equal(_plain(data.labels), labels)
    got = with_missing(pd.Series(["Zeche", None, "Aue"], dtype="str").astype("category"))
    assert not isinstance(got.dtype, pd.CategoricalDtype) and got.tolist() == ["Zeche", MISSING, "Aue"]
    var = data.place_variable
    sv = table[table.kind == "interview"]
    counts = data.base_counts("interview", var)
    assert counts is not None and not isinstance(counts.index, pd.CategoricalIndex)
    assert counts.to_dict() == sv.groupby(sv[var].fillna(MISSING)).person_id.nunique().to_dict()
    assert list(counts.index) == sorted(counts.index)


def test_reportdata_units_with_duplicates_are_the_unit_table(data: ReportData) -> None:
    """The report data keeps the counted units and the duplicate submissions apart (not the whole unit table
    beside them); what it gives with the duplicates is the unit table itself, in its order, and a code's units
    for its themes are those its codings touch, the duplicate's included."""
    from qualkit.units import unit_table
    table = unit_table(data.project)
    pd.testing.assert_frame_equal(_plain(data.all_units), table)
    assert len(data.duplicates) == 1 and len(data.units) == len(table) - 1
    lab = data.labels
    coded = data.coded_units(CODE)
    assert sorted(coded.unit_id) == sorted(set(lab.unit_id[lab.root == CODE]))
    assert set(data.duplicates.unit_id) <= set(coded.unit_id) and "ptext" not in coded.columns


def test_reportdata_masks_a_text_by_its_own_kind_and_place(tmp_path: Path) -> None:
    """A text is pseudonymised and masked once per distinct text, kind and place, and each unit gets what its
    own would give: the same turn said in two towns, and written as a survey answer, masks the speaker's own
    town in the interview from there only (interviews are the masked source; survey answers are not)."""
    from qualkit.privacy import own_place_masker
    from qualkit.project import open_project

    from .conftest import F4_A, META, SURVEY
    p = write_project(tmp_path / "p")
    (p.root / "transcripts/interviews/C3.txt").write_text(F4_A, encoding="utf-8")  # the same words, from Dorsten
    (p.root / "transcripts/interviews.csv").write_text(META + "C3,Dorsten,Sozialdezernent/in,Sozialdezernate\n",
                                                       encoding="utf-8")
    turn = "Gerne. Also bei uns in Gladbeck fehlen vor allem Kitaplätze, ähm, und Sprachkurse."
    (p.root / "transcripts/survey/export.csv").write_text(
        SURVEY + f'4,2021-11-22 08:00:00,Gladbeck,Kita,"{turn}",k.A.\n', encoding="utf-8")
    p = open_project(p.root)
    ingest(p)
    data = ReportData(p, ReportSettings.from_project(p))
    u = data.units
    said = u[u.text == turn]
    assert len(said) == 3 and sorted(said.kind) == ["interview", "interview", "survey"]
    by_doc = dict(zip(said.document_id, said.ptext, strict=True))
    assert "Gladbeck" not in next(t for d, t in by_doc.items() if d.startswith("A1"))
    assert "Gladbeck" in next(t for d, t in by_doc.items() if d.startswith("C3"))
    assert "Gladbeck" in next(t for d, t in by_doc.items() if not d.startswith(("A1", "C3")))
    mask = own_place_masker(p, data.settings.attribution)
    place = data.cases[p.config["privacy"]["place_variable"]]
    assert list(u.ptext) == [mask(data.pseudo.pseudonymise(t), k, place.get(c))
                             for t, k, c in zip(u.text, u.kind, u.case_id, strict=True)]


def test_reportdata_part_keeps_the_whole_bases_and_refuses_others(data: ReportData) -> None:
    """Report data restricted to a part of the units answers every base with the whole's (computed before it
    was partitioned), and refuses a base it would count on its part alone."""
    ids = set(data.units_with([CODE]).unit_id)
    part = data.restricted(data.partition(ids))
    assert set(part.units.unit_id) == ids and len(ids) < len(data.units)
    assert part.total("survey") == data.total("survey") == 40  # not the 17 respondents of the part
    assert part.unit_count("survey") == data.unit_count("survey")
    assert part.mentions(CODE) == data.mentions(CODE) == (0, 0, 17, 17)
    assert duplicate_submissions(part).equals(duplicate_submissions(data))
    with pytest.raises(RuntimeError, match="not computed before the units were partitioned"):
        part.base_counts("interview", "kind")
    assert data.base_counts("interview", "kind") is not None  # the whole computes any base when asked
    assert part.units_with([CODE]).equals(data.units_with([CODE]).assign(
        text=lambda u: u.text.cat.remove_unused_categories(), ptext=lambda u: u.ptext.cat.remove_unused_categories()))
    assert len(part.quote_picker.pick(part.units_with([CODE]), 2)) == 2


def test_reportdata_each_output_on_its_part_gives_the_bytes_of_the_whole(example_project: Project,
                                                                          tmp_path: Path) -> None:
    """Every output of the example computed on the report data restricted to its part (the units
    qualkit.reports._units_for names, pickled as a worker reads them) has the blocks and figures it has on the
    whole data; every part but the survey's holds less than half the units, the summary's none."""
    import pickle

    from qualkit.blocks import blocks_to_json
    from qualkit.prepare import output_blocks
    from qualkit.privacy import pseudonymise_project
    from qualkit.reports import _chapter_names, _units_for
    pseudonymise_project(example_project)
    data = ReportData(example_project, ReportSettings.from_project(example_project))
    sizes = {}
    for name, _nb, params in _chapter_names(example_project, None):
        code = params.get("code", "")
        ids = _units_for(data, name, code)
        part = data.restricted(pickle.loads(pickle.dumps(data.partition(ids))))
        whole, mine = output_blocks(data, name, code), output_blocks(part, name, code)
        blocks_to_json(whole[0], tmp_path / "whole.json")
        blocks_to_json(mine[0], tmp_path / "part.json")
        assert (tmp_path / "whole.json").read_bytes() == (tmp_path / "part.json").read_bytes(), name
        assert whole[1] == mine[1] and whole[3].keys() == mine[3].keys(), name  # figures, quotes considered
        sizes[name] = len(part.units) + len(part.duplicates)
    assert sizes.pop("00-zusammenfassung") == 0
    assert 0 < sizes.pop("00-ueberblick") < len(data.units) / 2  # the documents both coders coded
    assert sizes.pop("01-befragung") == data.unit_count("survey")
    assert all(0 < n < len(data.units) / 2 for n in sizes.values()), sizes


def test_reportdata_chapter_part_holds_the_evidence_its_findings_cite(tmp_path: Path) -> None:
    """A finding of the Kita chapter cites a passage and a code of another field: the chapter's part holds those
    units too, and the chapter computed on its part is the chapter computed on the whole."""
    from qualkit.blocks import blocks_to_json
    from qualkit.chapters import chapter_blocks, chapter_units
    from qualkit.project import open_project
    p = _survey(tmp_path)
    (p.root / "findings").mkdir(exist_ok=True)
    (p.root / "findings" / "bildung.yaml").write_text(
        f"code: {CODE}\nfindings:\n  - id: B1\n    status: approved\n    author: A\n    text: Kitas fehlen, Busse auch.\n"
        "    evidence:\n      - document: S30-F1\n        quote: Mehr Busse in den Ortsteil 30.\n        cite: true\n"
        "      - code: Wohnen und Mobilität\n", encoding="utf-8")
    p = open_project(p.root)
    data = ReportData(p, ReportSettings.from_project(p))
    ids = chapter_units(data, CODE)
    busse = set(data.units_with(["Wohnen und Mobilität"]).unit_id)
    assert busse <= ids and set(data.units_with([CODE]).unit_id) <= ids
    part = data.restricted(data.partition(ids))
    for d, name in ((data, "whole"), (part, "part")):
        blocks_to_json(chapter_blocks(d, CODE, tmp_path), tmp_path / f"{name}.json")
    assert (tmp_path / "whole.json").read_bytes() == (tmp_path / "part.json").read_bytes()
    # the finding rests on the 23 answers of the other field (the passage among them)
    assert "Belegt durch 23 Aussagen von 23 Personen" in (tmp_path / "part.json").read_text(encoding="utf-8")
    # without the cited units the chapter would differ: the evidence is what the part must hold
    bare = data.restricted(data.partition(set(data.coded_units(CODE).unit_id)))
    blocks_to_json(chapter_blocks(bare, CODE, tmp_path), tmp_path / "bare.json")
    assert (tmp_path / "bare.json").read_bytes() != (tmp_path / "whole.json").read_bytes()
    # read a case at a time, a batch's part of the chapter holds the passage's unit where its document is
    (p.root / "findings" / "bildung.yaml").write_text(
        f"code: {CODE}\nfindings:\n  - id: B1\n    status: approved\n    author: A\n    text: Busse fehlen.\n"
        "    evidence:\n      - document: S30-F1\n        quote: Mehr Busse in den Ortsteil 30.\n", encoding="utf-8")
    p = open_project(p.root)
    data = ReportData(p, ReportSettings.from_project(p))
    gathered: set[int] = set()
    ReportData.streamed(p, data.settings, lambda one: gathered.update(chapter_units(one, CODE)), batch=1)
    passage = set(data.units.unit_id[data.units.document_id == "S30-F1"])
    assert passage and not passage & set(data.coded_units(CODE).unit_id)
    assert gathered == chapter_units(data, CODE) == set(data.coded_units(CODE).unit_id) | passage


def _same(a: object, b: object) -> bool:
    """Equal values of the same types (a frame's or series' columns, index and names too)."""
    if isinstance(a, pd.Series | pd.DataFrame):
        assert isinstance(b, type(a))
        return (a.equals(b) and repr(a.dtypes) == repr(b.dtypes) and a.index.equals(b.index)
                and a.index.dtype == b.index.dtype and a.index.names == b.index.names
                and getattr(a, "name", None) == getattr(b, "name", None))
    return a == b


def _streamed_equals_whole(whole: ReportData, batch: int, visit: object = None) -> ReportData:
    sizes: list[int] = []

    def each(one: ReportData) -> None:
        sizes.append(len(one.units) + len(one.duplicates))
        if callable(visit):
            visit(one)
    lean = ReportData.streamed(whole.project, whole.settings, each, batch=batch)
    assert lean._duplicate_of == whole._duplicate_of
    def cats(d: ReportData) -> dict[str, dict[str, tuple[str, list[object]]]]:
        return {t: {c: (str(dt.categories.dtype), dt.categories.tolist()) for c, dt in cols.items()}
                for t, cols in d._categories.items()}
    assert cats(lean) == cats(whole)  # the columns of repeated strings, with the whole's categories in order
    assert lean._bases.keys() == whole._bases.keys()
    assert [k for k, v in whole._bases.items() if not _same(v, lean._bases[k])] == []
    # the client held one batch of whole cases at a time (of about `batch` units), and none at the end
    most = int((whole.all_units.groupby("case_id").unit_id.count()).max())
    assert len(sizes) > 1 and max(sizes) < batch + most and len(lean.units) == 0 and len(lean.labels) == 0
    return lean


def test_reportdata_streamed_bases_are_the_wholes_though_a_duplicate_lies_in_another_batch(data: ReportData
                                                                                            ) -> None:
    """Read one case at a time (the duplicate submission S41 and its first submission S1 in different batches),
    every base is the whole's, the duplicate is counted once, and each output's part read from the store is its
    part of the whole."""
    lean = _streamed_equals_whole(data, batch=1)
    assert lean.total("survey") == 40 and lean._duplicate_of == {"S41": "S1"}
    assert duplicate_submissions(lean).to_dict("records") == [{"case_id": "S41", "duplicate_of": "S1", "answers": 1}]
    ids = set(data.units_with([CODE]).unit_id) | set(data.duplicates.unit_id)
    _part_equals(data, lean, ids)


def _part_equals(whole: ReportData, lean: ReportData, ids: set[int]) -> None:
    a, b = whole.partition(ids), lean.read_part(ids)
    if not ids:  # an empty part has the columns, not the types, of the whole
        assert b.units.empty and b.labels.empty and list(b.units.columns) == list(a.units.columns)
        return
    for table in ("units", "labels", "duplicates"):
        x, y = getattr(a, table).reset_index(drop=True), getattr(b, table).reset_index(drop=True)
        assert _same(x, y), table
    # with the duplicate submissions where they stood in the table
    assert _same(whole.restricted(a).all_units, lean.restricted(b).all_units)


@pytest.mark.parametrize("batch", [40, 600])
def test_reportdata_streamed_example_is_the_whole_in_bases_and_parts(example_project: Project, batch: int) -> None:
    """The example read in batches of about 40 and 600 units: the bases every output shares are the whole's
    (persons per group, totals, mentions, co-occurrence, duplicate submissions); the units each output reads,
    gathered batch by batch, are those it reads of the whole (its code's units, the evidence its findings cite,
    the documents both coders coded); and each output's part read from the store is the rows its part of the
    whole report data has."""
    from qualkit.prepare import _agreement_documents
    from qualkit.privacy import pseudonymise_project
    from qualkit.reports import _chapter_names, _units_for
    pseudonymise_project(example_project)
    whole = ReportData(example_project, ReportSettings.from_project(example_project))
    outputs = [(name, params.get("code", "")) for name, _nb, params in _chapter_names(example_project, None)]
    agree = _agreement_documents(whole)
    gathered: dict[str, set[int]] = {name: set() for name, _code in outputs}

    def gather(one: ReportData) -> None:
        for name, code in outputs:
            gathered[name] |= _units_for(one, name, code, agree)
    lean = _streamed_equals_whole(whole, batch, gather)
    for name, code in outputs:
        ids = _units_for(whole, name, code)
        assert gathered[name] == ids, name
        _part_equals(whole, lean, ids)
