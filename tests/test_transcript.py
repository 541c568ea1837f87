from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualkit.errors import IngestError
from qualkit.transcript import Turn, read_transcript, render

from .conftest import F4_A, F4_B


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def test_transcript_f4_turns_and_timestamps(tmp_path: Path) -> None:
    t = read_transcript(_write(tmp_path, "A1.txt", F4_A))
    assert [x.speaker for x in t.turns] == ["I", "B", "I", "B"]
    assert t.turns[1].text.startswith("Gerne. Also bei uns in Gladbeck")
    assert "#" not in "".join(x.text for x in t.turns)
    assert t.turns[1].time_end == 15_400
    assert t.turns[3].text.endswith("😀")


def test_transcript_f4_two_respondents_and_inaudible(tmp_path: Path) -> None:
    t = read_transcript(_write(tmp_path, "B2.txt", F4_B))
    assert [x.speaker for x in t.turns] == ["I", "B1", "B2"]
    assert "(unv.)" in t.turns[1].text


def test_transcript_render_offsets_and_roles(tmp_path: Path) -> None:
    t = read_transcript(_write(tmp_path, "A1.txt", F4_A))
    text, units = render(t.turns)
    assert text.startswith("I: Guten Tag")
    for turn, u in zip(t.turns, units, strict=True):
        assert text[u.start:u.end] == turn.text
    assert [u.role for u in units] == ["interviewer", "respondent", "interviewer", "respondent"]


def test_transcript_plain_txt_without_blank_lines(tmp_path: Path) -> None:
    content = "Interviewerin: Wie geht es?\nFrau Berger: Gut, danke.\nFortsetzung der Antwort.\n"
    t = read_transcript(_write(tmp_path, "X.txt", content))
    assert [x.speaker for x in t.turns] == ["Interviewerin", "Frau Berger"]
    assert t.turns[1].text == "Gut, danke. Fortsetzung der Antwort."
    _, units = render(t.turns)
    assert units[0].role == "interviewer" and units[1].role == "respondent"


def _docx(path: Path, paragraphs: list[str], heading: str | None = None) -> Path:
    import docx
    d = docx.Document()
    if heading:
        d.add_heading(heading, level=1)
    for para in paragraphs:
        d.add_paragraph(para)
    d.save(str(path))
    return path


def test_transcript_docx(tmp_path: Path) -> None:
    path = _docx(tmp_path / "D1.docx", ["I: Was fehlt in Marl?", "B: Kitaplätze und Wohnungen.",
                                         "Und Ärztinnen, die Türkisch sprechen."])
    t = read_transcript(path)
    assert [x.speaker for x in t.turns] == ["I", "B"]
    assert t.turns[1].text == "Kitaplätze und Wohnungen.\nUnd Ärztinnen, die Türkisch sprechen."


def test_transcript_webvtt_voices_merge(tmp_path: Path) -> None:
    vtt = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>Wie ist die Lage?</v>\n\n"
           "2\n00:00:05.000 --> 00:00:09.500\n<v Herr Kaya>Angespannt, ehrlich gesagt.\n\n"
           "3\n00:00:09.600 --> 00:00:12.000\n<v Herr Kaya>Vor allem beim Wohnen.\n")
    t = read_transcript(_write(tmp_path, "V1.vtt", vtt))
    assert [x.speaker for x in t.turns] == ["Interviewer", "Herr Kaya"]
    assert t.turns[1].text == "Angespannt, ehrlich gesagt. Vor allem beim Wohnen."
    assert (t.turns[1].time_start, t.turns[1].time_end) == (5000, 12000)


def test_transcript_srt_name_prefix(tmp_path: Path) -> None:
    srt = "1\n00:00:01,000 --> 00:00:03,000\nI: Hallo?\n\n2\n00:00:03,500 --> 00:00:06,000\nB: Ja, hallo.\n"
    t = read_transcript(_write(tmp_path, "S1.srt", srt))
    assert [(x.speaker, x.text) for x in t.turns] == [("I", "Hallo?"), ("B", "Ja, hallo.")]


@pytest.mark.parametrize(("content", "reason", "line"), [
    (b"", "empty", None),
    (b"   \n\n", "empty", None),
    (b"I: hallo\x00\x01\x02binary", "binary", 1),
    (b"I: Frage #00:00:01-0#\n\nDas ist ohne Label.\n", "without a speaker label", 3),
    ("I: GrÃ¼ÃŸe aus Marl\n".encode(), "double-encoded", 1),
    (b"I: ok\n\nB: \x81\x8d\x8f", "cannot decode", 3),
    ("I: Grüße aus Marl\n\nB: Danke.\n".encode("utf-16-le"), "UTF-16", 1),
    ("I: Wie war das?\n\nB: Die Geflüchteten warten ungefähr drei Monate.\n".encode("mac_roman"), "Mac Roman", 3),
])
def test_transcript_bad_input_names_file_and_line(tmp_path: Path, content: bytes, reason: str,
                                                   line: int | None) -> None:
    p = _write(tmp_path, "bad.txt", content)
    with pytest.raises(IngestError) as exc:
        read_transcript(p)
    assert reason in exc.value.reason
    assert exc.value.path == str(p)
    assert exc.value.line == line
    assert "→" in str(exc.value)  # says what to do


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_transcript_encodings_decode_umlauts(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "E.txt"
    p.write_bytes("I: Grüße?\n\nB: Straße, Ärger, „Zitat“.\n".encode(encoding))
    t = read_transcript(p)
    assert t.turns[1].text == "Straße, Ärger, „Zitat“."
    assert t.encoding == encoding


_text = st.lists(st.sampled_from([*"abcäöüßÄ ẞéğış😀-.,?", "a\u0308"]), min_size=1, max_size=40).map(
    lambda xs: "".join(xs).strip()).filter(bool)


@given(st.lists(st.tuples(st.sampled_from(["I", "B", "B1"]), _text), min_size=1, max_size=8))
def test_transcript_render_offsets_property(turns: list[tuple[str, str]]) -> None:
    objs = [Turn(speaker=s, text=t, line=i) for i, (s, t) in enumerate(turns)]
    text, units = render(objs)
    for (_, t), u in zip(turns, units, strict=True):
        assert text[u.start:u.end] == t


def test_transcript_prose_colon_is_not_a_speaker(tmp_path: Path) -> None:
    text = ("I: Was ist Ihr Fazit? #00:00:05-0#\n\nB: Schwierig. #00:00:09-0#\n\nMein Fazit: Wir brauchen mehr "
            "Personal. #00:00:15-0#\n\nI: Danke. #00:00:17-0#\n\nB: Gern.\nKurz gesagt: mehr Geld. #00:00:20-0#\n")
    t = read_transcript(_write(tmp_path, "F1.txt", text))
    assert [x.speaker for x in t.turns] == ["I", "B", "I", "B"]
    assert "Mein Fazit: Wir brauchen mehr Personal." in t.turns[1].text
    assert t.turns[3].text == "Gern. Kurz gesagt: mehr Geld."


def test_transcript_docx_title_above_first_speaker_is_skipped(tmp_path: Path) -> None:
    # "Datum:" looks like a label, but comes once and before any speaker turn
    p = _docx(tmp_path / "D7.docx", ["Datum: 12.01.2022", "Interviewer: Wie geht es los?",
                                      "Befragte: Mit einer Vorstellung.", "Interviewer: Danke.", "Befragte: Gern."],
              heading="Interview 7 – Transkript")
    t = read_transcript(p)
    assert [x.speaker for x in t.turns] == ["Interviewer", "Befragte", "Interviewer", "Befragte"]
    assert t.header == ("Interview 7 – Transkript", "Datum: 12.01.2022")


def test_transcript_txt_title_is_a_header_like_in_word(tmp_path: Path) -> None:
    t = read_transcript(_write(tmp_path, "T1.txt", "Gruppendiskussion Jugendamt\n\nI: Los geht's.\n\nB: Gut.\n"))
    assert t.header == ("Gruppendiskussion Jugendamt",) and [x.speaker for x in t.turns] == ["I", "B"]


def test_transcript_collective_turns_and_notes_are_no_statements() -> None:
    from qualkit.transcript import Turn, render
    turns = [Turn("Moderation", "Was hat sich verändert?", 1), Turn("TN1", "Der Treffpunkt ist super (lacht).", 3),
             Turn("Alle", "(lachen)", 5), Turn("Alle", "Genau!", 7), Turn("TN2", "(lacht) [Pause]", 9),
             Turn("Mehrere", "Ja, ja.", 11)]
    _, units = render(turns)
    assert [u.role for u in units] == ["interviewer", "respondent", "note", "collective", "note", "collective"]


@pytest.mark.parametrize(("speakers", "group"), [
    (["B"], False), (["B", "B2"], False), (["B1", "B2", "IP3"], False),
    (["TN1", "TN2"], True), (["Frau Berg", "Herr Kaya"], True), (["TN1"], False),
])
def test_transcript_is_group(speakers: list[str], group: bool) -> None:
    from qualkit.transcript import is_group
    assert is_group(speakers) is group


def test_transcript_vtt_named_interviewer_warns_with_the_config_line(quartier) -> None:  # type: ignore[no-untyped-def]
    from qualkit.corpus import ingest
    from qualkit.project import open_project
    report = ingest(quartier)
    (w,) = [w for w in report.warnings if "T01.vtt" in w]
    assert "speakers found: Jana Roth (8 turns), Herr Okafor (7 turns)" in w
    assert 'interviewer_labels = ["Jana Roth"]' in w
    roles = quartier.store.frame("SELECT speaker, role FROM units WHERE document_id='T01'")
    assert set(roles.role) == {"respondent"}  # until the config says otherwise
    cfg = quartier.root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[interviews]\n",
                                                           '[interviews]\ninterviewer_labels = ["Jana Roth"]\n'),
                   encoding="utf-8")
    project = open_project(quartier.root)
    report = ingest(project)
    assert not [w for w in report.warnings if "T01.vtt" in w]
    roles = project.store.frame("SELECT speaker, role FROM units WHERE document_id='T01'")
    assert roles.groupby("speaker").role.first().to_dict() == {"Herr Okafor": "respondent", "Jana Roth": "interviewer"}
    # the usual labels still mark the interviewer in the other transcripts
    assert project.store.frame("SELECT role FROM units WHERE document_id='E01' AND speaker='I'").role.eq(
        "interviewer").all()
    # Herr Okafor alone is one person: T01 is an interview again, not a group
    kinds = dict(project.store.query("SELECT id, kind FROM cases WHERE id LIKE 'T01%'"))
    assert kinds == {"T01": "interview"}


def test_transcript_docx_without_interviewer_label_warns(tmp_path: Path) -> None:
    import docx

    from qualkit.corpus import ingest
    from qualkit.project import init_project
    project = init_project(tmp_path / "p")
    d = docx.Document()
    for line in ("Sabine Wolf: Was läuft gut im Quartier?", "Tom Berger: Der Treff.", "Sabine Wolf: Und was nicht?",
                 "Tom Berger: Der Müll."):
        d.add_paragraph(line)
    d.save(str(project.root / "transcripts/interviews/D1.docx"))
    report = ingest(project)
    assert any("D1.docx" in w and 'interviewer_labels = ["Sabine Wolf"]' in w for w in report.warnings)


def test_transcript_srt_name_prefixes_without_interviewer_warn(tmp_path: Path) -> None:
    from qualkit.corpus import ingest
    from qualkit.project import init_project
    project = init_project(tmp_path / "p")
    (project.root / "transcripts/interviews/S1.srt").write_text(
        "1\n00:00:01,000 --> 00:00:04,000\nAnna Berg: Wie geht es dem Quartier?\n\n"
        "2\n00:00:05,000 --> 00:00:09,000\nTom Kaya: Gut, der Treff läuft.\n\n"
        "3\n00:00:10,000 --> 00:00:12,000\nAnna Berg: Und der Müll?\n\n"
        "4\n00:00:13,000 --> 00:00:15,000\nTom Kaya: Schlimm.\n", encoding="utf-8")
    report = ingest(project)
    (w,) = [w for w in report.warnings if "S1.srt" in w]
    assert "Anna Berg (2 turns), Tom Kaya (2 turns)" in w and 'interviewer_labels = ["Anna Berg"]' in w
