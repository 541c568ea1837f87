"""The reliability probe of issue 18, re-run: every case with today's result.  Writes docs/security-probe.md.

Each case builds its hostile input in a temporary folder, runs qualkit on it (through the CLI in a separate
process where a traceback or a crash is the question) and records what happened.  The cases that need a browser
or a whole report run are covered by tests (named in the table) and are run here only with ``--report``.
Usage: ``python bench/security_probe.py [--report]``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import write_project
from tests.test_limits import bomb_docx, raw_zip, zeros_deflate
from tests.test_security import FORMULAS, hostile_project

from _common import DOCS, machine

HERE = Path(__file__).resolve().parent

CASES: list[tuple[str, str, str, Callable[[Path], str] | None]] = []  # (group, case, test, probe)


def case(group: str, name: str, test: str) -> Callable[[Callable[[Path], str]], Callable[[Path], str]]:
    def add(fn: Callable[[Path], str]) -> Callable[[Path], str]:
        CASES.append((group, name, test, fn))
        return fn
    return add


def cli(*args: str, limit_mb: int | None = None, timeout: float = 300) -> tuple[int, str, float]:
    pre = ("import resource; resource.setrlimit(resource.RLIMIT_AS, "
           f"({limit_mb} * 2**20, {limit_mb} * 2**20)); ") if limit_mb else ""
    code = pre + "import sys; from qualkit.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=env)
    return r.returncode, r.stderr, time.perf_counter() - t


def outcome(rc: int, err: str, seconds: float | None = None) -> str:
    """One line: a traceback's last line, else the exit code and the error's first informative line."""
    import re
    err = re.sub(r"/tmp/qk-probe-[^/\s]+/", "", err)
    took = f" after {seconds:.1f} s (process start included)" if seconds is not None else ""
    lines = [line.strip() for line in err.strip().splitlines() if line.strip()]
    if "Traceback" in err:
        return f"**traceback**{took}: `{lines[-1][:110]}`"
    if lines and "input problem(s)" in lines[0] and len(lines) > 1:
        lines = lines[1:]
    first = lines[0].removeprefix("- ").removeprefix("error: ") if lines else "(no message)"
    return f"exit {rc}{took}: {first[:150]}".replace("|", "\\|")


# -- security -----------------------------------------------------------------------------------------------
@case("Security", "formula cells in the Excel export (answers, memos: `=HYPERLINK`, `=cmd\\|…`, `+`, `-`, `@`)",
      "test_security_xlsx_cells_are_never_formulas")
def _formulas(tmp: Path) -> str:
    from qualkit.exports import export_xlsx
    project = hostile_project(tmp / "p")
    out = export_xlsx(project, tmp / "x.xlsx")
    with zipfile.ZipFile(out) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    return f"{xml.count('<f>') + xml.count('<f ')} formula cells; {len(FORMULAS)} hostile texts kept as text"


@case("Security", "a name in a transcript file name (`A1_Özdemir.txt`) reaching the Excel export",
      "test_security_file_name_with_a_name_never_reaches_the_export")
def _file_name(tmp: Path) -> str:
    from qualkit.exports import export_xlsx
    from qualkit.privacy import pseudonymise_project
    project = hostile_project(tmp / "p")
    pseudonymise_project(project)
    out = export_xlsx(project, tmp / "x.xlsx")
    with zipfile.ZipFile(out) as z:
        text = "".join(z.read(n).decode() for n in z.namelist())
    return "name found in the export" if "Özdemir" in text else "not in the export (document shown as `A1_[Person 1]`)"


@case("Security", "file modes of `.qualkit/`, `private/`, the mapping and the store (created, and found open)",
      "test_security_private_modes_created_and_repaired")
def _modes(tmp: Path) -> str:
    from qualkit.corpus import ingest
    from qualkit.privacy import pseudonymise_project
    from qualkit.project import open_project
    project = write_project(tmp / "p", survey=False)
    ingest(project)
    pseudonymise_project(project)
    paths = [project.root / ".qualkit", project.root / ".qualkit/private",
             project.root / ".qualkit/private/pseudonyms.json", project.root / ".qualkit/store.sqlite"]
    created = "/".join(f"{stat.S_IMODE(p.stat().st_mode):o}" for p in paths)
    for p in paths:
        p.chmod(0o755 if p.is_dir() else 0o644)
    project.store.close()
    again = open_project(project.root)
    ingest(again)
    pseudonymise_project(again)
    repaired = "/".join(f"{stat.S_IMODE(p.stat().st_mode):o}" for p in paths)
    return f"created {created}; opened 755/755/644/644 → {repaired}, with a warning each"


# -- loss and silent damage ---------------------------------------------------------------------------------
@case("Loss", "a second `codes:` key in a codebook dimension", "test_codebook_duplicate_codes_key_rejected_with_both_lines")
def _dup_codes(tmp: Path) -> str:
    project = write_project(tmp / "p", survey=False)
    cb = project.root / "codebooks/handlungsfelder.yaml"
    text = cb.read_text(encoding="utf-8")
    i = text.index("    codes:")
    cb.write_text(text[:i] + "    codes:\n      - name: Leer\n" + text[i:], encoding="utf-8")
    return outcome(*cli("ingest", "--project", str(project.root))[:2])


@case("Loss", "a second `name:` key in one code", "test_codebook_duplicate_name_key_rejected")
def _dup_name(tmp: Path) -> str:
    project = write_project(tmp / "p", survey=False)
    cb = project.root / "codebooks/handlungsfelder.yaml"
    text = cb.read_text(encoding="utf-8")
    i = text.index("      - name: ")
    j = text.index("\n", i)
    cb.write_text(text[:j] + "\n        name: Umbenannt" + text[j:], encoding="utf-8")
    return outcome(*cli("ingest", "--project", str(project.root))[:2])


# -- resources and tracebacks -------------------------------------------------------------------------------
@case("Resources", "a YAML alias bomb as the codebook (10^12 nodes once expanded)",
      "test_codebook_alias_bomb_rejected_quickly")
def _alias_bomb(tmp: Path) -> str:
    from qualkit.codebook import parse_codebook
    from qualkit.errors import QualkitError
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]" for i in range(1, 12)]
    t = time.perf_counter()
    try:
        parse_codebook("\n".join(lines) + "\nname: T\ndimensions: *a11\n", path="codebook.yaml")
    except QualkitError as e:
        return f"{type(e).__name__} after {time.perf_counter() - t:.3f} s: {str(e).splitlines()[0]}"
    return "accepted"


@case("Resources", "a .docx transcript of 2.6 MB that expands to 2.5 GB, under a 1.5 GB memory limit",
      "test_limits_zip_bomb_docx_transcript_under_memory_limit")
def _docx_bomb(tmp: Path) -> str:
    project = write_project(tmp / "p", survey=False)
    bomb_docx(project.root / "transcripts/interviews/C3.docx")
    rc, err, s = cli("ingest", "--project", str(project.root), limit_mb=1536)
    return outcome(rc, err, s)


@case("Resources", "a .qdpx of 2.6 MB that expands to 2.5 GB, under a 1.5 GB memory limit (`qdpx.py`: issue 15)",
      "test_limits_zip_bomb_refused_from_directory (helper)")
def _qdpx_bomb(tmp: Path) -> str:
    project = write_project(tmp / "p", survey=False)
    bomb = raw_zip(tmp / "bomb.qdpx", [("project.qde", zeros_deflate(2500), 2500 << 20, 0)])
    rc, err, s = cli("qdpx", "import", str(bomb), "--project", str(project.root), limit_mb=1536)
    return outcome(rc, err, s)


@case("Tracebacks", "a folder named `interviews.csv`", "test_security_folder_instead_of_file_is_a_qualkit_error")
def _folder_csv(tmp: Path) -> str:
    project = write_project(tmp / "p", survey=False)
    meta = project.root / "transcripts/interviews.csv"
    meta.unlink()
    meta.mkdir()
    return outcome(*cli("ingest", "--project", str(project.root))[:2])


@case("Tracebacks", "a folder named `x.qdpx` given to `qdpx import`", "(CLI safety net; `qdpx.py`: issue 15)")
def _folder_qdpx(tmp: Path) -> str:
    project = write_project(tmp / "p", survey=False)
    (tmp / "x.qdpx").mkdir()
    return outcome(*cli("qdpx", "import", str(tmp / "x.qdpx"), "--project", str(project.root))[:2])


@case("Tracebacks", "a REFI-QDA file with an HTML root (`qdpx.py`: issue 15)", "(issue 15)")
def _html_root(tmp: Path) -> str:
    project = write_project(tmp / "p", survey=False)
    with zipfile.ZipFile(tmp / "h.qdpx", "w") as z:
        z.writestr("project.qde", "<html><body>kein Projekt</body></html>")
    return outcome(*cli("qdpx", "import", str(tmp / "h.qdpx"), "--project", str(project.root))[:2])


@case("Tracebacks", "a store locked longer than the busy timeout (here 2 s)",
      "test_store_locked_waits_with_note_then_names_the_holder")
def _locked(tmp: Path) -> str:
    from qualkit.errors import StoreError
    from qualkit.store import Store
    path = tmp / "store.sqlite"
    Store(path).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import sqlite3, time\nc = sqlite3.connect({str(path)!r}, "
                               "isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('x', flush=True)\n"
                               "time.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        holder.stdout.readline()
        try:
            with Store(path, timeout=2, notice_after=0.5).transaction():
                pass
            return "no error"
        except StoreError as e:
            text = str(e).replace(str(holder.pid), "PID").replace(str(path), "store.sqlite")
            return "StoreError: " + text.splitlines()[0].split(" held by ")[-1][:60] + "…; hint: wait, or kill PID"
        except sqlite3.Error as e:
            return f"**raw sqlite3 error**: {e}"
    finally:
        holder.kill()
        holder.wait()


@case("Tracebacks", "four processes opening one new project's store at the same moment (3 rounds)",
      "test_store_concurrent_first_use_of_a_new_project")
def _first_use(tmp: Path) -> str:
    failures = 0
    for n in range(3):
        path = tmp / f"r{n}" / "store.sqlite"
        start = time.time() + 1.5
        code = (f"import time\nfrom qualkit.store import Store\ntime.sleep(max(0, {start} - time.time()))\n"
                f"Store({str(path)!r})\n")
        procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(4)]
        failures += sum(p.wait(timeout=120) != 0 for p in procs)
    return f"{failures} of 12 processes failed"


@case("Interrupted runs", "two run folders requested with the same run id at the same moment (8 threads)",
      "test_security_concurrent_runs_get_their_own_folders")
def _same_second(tmp: Path) -> str:
    import threading

    from qualkit.reports import _new_run_dir
    got: list[Path] = []
    barrier = threading.Barrier(8)

    def go() -> None:
        barrier.wait()
        got.append(_new_run_dir(tmp / "outputs", "run-20261201-230000"))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return f"{len({p.name for p in got})} distinct folders for 8 runs"


@case("Resources", "`export xlsx` of one big transcript (probe: 2/5/10 MB took 9/35/131 s; 100 MB did not finish)",
      "bench/export_bench.py, test_units_*")
def _export_linear(tmp: Path) -> str:
    path = DOCS / "export.json"
    if not path.exists():
        return "run bench/export_bench.py first"
    rows = {r["label"]: r["export_xlsx_s"] for r in json.loads(path.read_text(encoding="utf-8"))}
    return "; ".join(f"{k}: {v} s" for k, v in rows.items() if k != "×1 (example I01)") + \
        " (docs/benchmarks/export.md)"


def report_cases() -> None:
    @case("Interrupted runs", "a report killed after `bericht.html` is written, before the leak guard finished",
          "test_security_interrupted_report_never_looks_complete")
    def _killed(tmp: Path) -> str:
        import qualkit.privacy
        from qualkit.corpus import ingest
        from qualkit.reports import run_report
        project = write_project(tmp / "p")
        shutil.copytree(HERE.parent / "notebooks", project.root / "notebooks", dirs_exist_ok=True)
        ingest(project)
        units = project.store.units("A1")
        for r in units[units.role == "respondent"].itertuples():
            project.store.add_coding("A1", int(r.start), int(r.end), "Frühkindliche Bildung", coder="a")
        guard = qualkit.privacy.guard_outputs

        def killed(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        qualkit.privacy.guard_outputs = killed  # type: ignore[assignment]
        try:
            run_report(project, only=["Bildung und Sprache"], run_id="killed")
        except KeyboardInterrupt:
            pass
        finally:
            qualkit.privacy.guard_outputs = guard
        d = project.root / "outputs" / "killed"
        status = json.loads((d / "manifest.json").read_text("utf-8"))["status"]
        return (f"bericht.html {'present' if (d / 'bericht.html').exists() else 'absent'}, UNVOLLSTÄNDIG.txt "
                f"{'present' if (d / 'UNVOLLSTÄNDIG.txt').exists() else 'ABSENT'}, manifest status {status!r}")


    @case("Security", "markup in code names, project name, answers, memos, file names → every HTML page "
          "(Chromium: no script runs)", "test_security_report_html_runs_no_script_and_hides_names")
    def _html(tmp: Path) -> str:
        import re

        from qualkit.reports import run_report
        project = hostile_project(tmp / "p")
        shutil.copytree(HERE.parent / "notebooks", project.root / "notebooks", dirs_exist_ok=True)
        run = run_report(project, run_id="probe")
        pages = [run.run_dir / "bericht.html", *sorted((run.run_dir / "html").glob("*.html"))]
        # a payload is live when its own markup survives unescaped (escaped text inside attributes is harmless)
        live = sum(len(re.findall(r"<img src=x onerror=window|<script>window\.__xss|<svg onload=window",
                                  p.read_text("utf-8"))) for p in pages)
        manifest = json.loads((run.run_dir / "manifest.json").read_text("utf-8"))
        leak = any("Özdemir" in k for k in manifest["inputs"])
        return (f"{live} live payloads in {len(pages)} pages; manifest: status {manifest['status']}, "
                f"name in file names {'present' if leak else 'pseudonymised'}")


def main(with_report: bool) -> None:
    if with_report:
        report_cases()
    rows = []
    for group, name, test, fn in CASES:
        tmp = Path(tempfile.mkdtemp(prefix="qk-probe-"))
        try:
            result = fn(tmp) if fn else "see test"
        except Exception as e:  # a probe that crashes is a result, too
            result = f"**probe crashed**: {type(e).__name__}: {str(e)[:100]}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append({"group": group, "case": name, "test": test, "result": result})
        print(rows[-1], flush=True)
    lines = ["# Security and reliability probe", "",
             f"Computed by `python bench/security_probe.py{' --report' if with_report else ''}` on {machine()}, "
             f"{time.strftime('%Y-%m-%d')}.  Each case is also a test (last column) that failed before the fix.", "",
             "| area | case | today's result | test |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['group']} | {r['case']} | {r['result']} | `{r['test']}` |")
    lines += ["", "Cases owned elsewhere (see issue 18): edits to imported codings surviving re-ingest, a failed "
              "REFI-QDA import leaving files as they were, non-numeric positions, namespace and Latin-1 sources in "
              "a .qdpx are the REFI-QDA import's (issue 15); its archive reading is to use `qualkit._limits`."]
    (DOCS / "security-probe.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    out = HERE.parent / "docs" / "security-probe.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main("--report" in sys.argv[1:])
