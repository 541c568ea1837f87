"""``qualkit report``: the findings chapters, reproducibly, for the steering group.

One run: ingest if needed → pseudonymisation mapping → the shared heavy work once (units, NLP, themes,
agreement, figures) into ``_data/`` → every notebook through papermill, chapters in parallel → HTML of each
executed notebook (in-process nbconvert, code hidden) → one combined report as HTML and Word → the leak
guard over everything written → ``manifest.json`` (input hashes, codebook and store snapshot hashes,
parameters, versions, seeds, git commit, the hash of every output).  A failed notebook fails the run with
the notebook and cell named; the run folder is then marked ``UNVOLLSTÄNDIG`` and has no combined report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._blas import blas_kernels, one_thread
from ._memory import release_memory
from .blocks import BLOCKS_MIME, Block, Numbering, blocks_from_json, blocks_to_html, html_page, report_html
from .errors import LeakError, ReportError
from .pdf import PdfJob, start_pdf, warm_printer
from .worddoc import blocks_to_docx

if TYPE_CHECKING:  # the project (store, pandas) is imported on use: a report notebook's kernel needs only
    from .project import Project  # the chapter's blocks (chapter_for_notebook)

__all__ = ["ReportRun", "chapter_for_notebook", "run_report", "store_snapshot_hash"]

log = logging.getLogger(__name__)
# the notebooks ship inside the package (an installed wheel has no repository around it)
NOTEBOOKS = Path(str(resources.files("qualkit").joinpath("notebooks")))
_PACKAGES = ("qualkit", "spacy", "spacy-lookups-data", "scikit-learn", "pandas", "numpy", "papermill", "nbconvert",
             "matplotlib", "wordcloud", "python-docx", "openpyxl", "lxml")
# bump when chapter content logic changes, so cached chapter data is not reused across versions
CONTENT_VERSION = "4"


@dataclass
class ReportRun:
    """The result of :func:`run_report`."""

    run_dir: Path
    status: str
    chapters: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def _sha_file(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def store_snapshot_hash(project: Project) -> str:
    """A hash of the store's content (documents, units, case variables, codes, codings, memos), independent of
    row ids and timestamps: the same material and codings give the same hash.  Rows are hashed as they are
    read: fetched whole, each table (every document's text) was held at once."""
    h = hashlib.sha256()
    q = project.store.rows
    for r in q("SELECT id, case_id, kind, question, text FROM documents ORDER BY id"):
        h.update(repr(tuple(r)).encode())
    for r in q('SELECT document_id, idx, start, "end", speaker, role FROM units ORDER BY document_id, idx'):
        h.update(repr(tuple(r)).encode())
    for r in q("SELECT case_id, name, value FROM variables ORDER BY case_id, name"):
        h.update(repr(tuple(r)).encode())
    for r in q("SELECT name, dimension, colour FROM codes ORDER BY name"):
        h.update(repr(tuple(r)).encode())
    for r in q('SELECT c.document_id, c.start, c."end", k.name, c.coder, c.origin, c.status, c.memo FROM codings c '
               'JOIN codes k ON k.id=c.code_id ORDER BY c.document_id, c.start, c."end", k.name, c.coder, c.origin'):
        h.update(repr(tuple(r)).encode())
    for r in q("SELECT author, title, text, for_report FROM memos ORDER BY author, title, text"):
        h.update(repr(tuple(r)).encode())
    for r in q("SELECT quote_key, decision FROM quote_decisions ORDER BY quote_key"):  # quote release
        h.update(repr(tuple(r)).encode())
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "not installed"
    out["blas"] = blas_kernels()  # the processor's kernels can change a nearly tied clustering (qualkit._blas)
    return out


def _git(root: Path) -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None}
    if commit.returncode != 0:
        return {"commit": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def _new_run_dir(outputs: Path, run_id: str) -> Path:
    """Create a run folder that no other run uses: ``run_id``, else ``run_id-2``, ``run_id-3`` … (two reports
    started in the same second, or a run id given twice, never write into one folder)."""
    outputs.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        d = outputs / (run_id if n == 1 else f"{run_id}-{n}")
        try:
            d.mkdir()
        except FileExistsError:
            continue
        return d
    raise ReportError(f"{outputs}: 999 run folders named {run_id}…", hint="delete old runs from outputs/")


def _inputs(project: Project, notebooks: Path) -> dict[str, str]:
    """Input file → hash.  File names pass the pseudonymiser (``I38 Tiedemann.txt`` names a person)."""
    from .privacy import Pseudonymizer
    pseudo = Pseudonymizer.for_project(project)
    out = {}
    for folder in ("transcripts", "codebooks", str(project.config["findings"]["folder"])):
        base = project.path(folder)
        if base.exists():
            for p in sorted(base.rglob("*")):
                if p.is_file():
                    rel = p.relative_to(project.root).as_posix() if p.is_relative_to(project.root) else p.as_posix()
                    out[pseudo.pseudonymise(rel)] = _sha_file(p)
    cfg = project.root / "qualkit.toml"
    out["qualkit.toml"] = _sha_file(cfg)
    for nb in sorted(notebooks.glob("*.ipynb")):
        out[f"notebooks/{nb.name}"] = _sha_file(nb)
    return out


def _chapter_names(project: Project, only: Sequence[str] | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(output name, notebook, parameters) for every notebook of the run."""
    from .chapters import _slug
    fields = list(project.codebook.primary.codes)
    if only:
        for o in only:
            project.codebook.get(o)
        fields = [f for f in fields if f in only]
    jobs: list[tuple[str, str, dict[str, Any]]] = [("00-zusammenfassung", "overview.ipynb", {}),
                                                   ("00-ueberblick", "overview.ipynb", {}),
                                                   ("01-befragung", "survey.ipynb", {})]
    jobs += [(f"{i + 2:02d}-{_slug(f)}", "chapter.ipynb", {"code": f}) for i, f in enumerate(fields)]
    return jobs


def _source_hash() -> str:
    """Hash of qualkit's own code and data files: a changed library never reuses old chapter data."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix in (".py", ".yaml", ".txt", ".js", ".css"):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _findings_hash(project: Project) -> str:
    """The researchers' findings files: an edited finding never reuses old chapter data."""
    h = hashlib.sha256()
    folder = project.path(project.config["findings"]["folder"])
    for f in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _prepare_cache(project: Project, names: list[tuple[str, str, dict[str, Any]]], settings: Any,
                   snapshot: str) -> Path:
    """The cache folder of the chapter data: keyed by everything it depends on (store, settings, the whole
    configuration (privacy places, survey questions …), the pseudonym mapping (a deny-list entry must reach
    the cached quotes), the findings, the code itself)."""
    mapping = project.private_dir / "pseudonyms.json"
    key = hashlib.sha256(json.dumps([snapshot, asdict(settings), CONTENT_VERSION, [n for n, _, _ in names],
                                     project.codebook.sha256, _versions(), project.config, _source_hash(),
                                     _sha_file(mapping) if mapping.exists() else "", _findings_hash(project)],
                                    sort_keys=True, default=str).encode()).hexdigest()[:24]
    return project.cache_dir / "report" / key


def _prepare(project: Project, run_dir: Path, names: list[tuple[str, str, dict[str, Any]]],
             settings: Any, cache: Path, snapshot: str, on_ready: Callable[[str], None] = lambda name: None, *,
             jobs: int = 1, scheduler: str | None = None, progress: Callable[[str], None] | None = None,
             timings: dict[str, float] | None = None) -> bool:
    """Compute all chapter data once (or copy it from ``cache``, a :func:`_prepare_cache` folder), calling
    ``on_ready(name)`` as soon as an output's data and figures are written.  Returns True when the cache was
    used; ``timings`` gets the seconds of each preparation stage (``prepare:<stage>``).

    The work itself is :func:`qualkit.prepare.prepare_outputs`: in this process (``jobs`` = 1 or a small
    corpus), on ``jobs`` local processes, or on a Dask cluster (``scheduler``), with the same bytes as the
    result."""
    data_dir, fig_dir = run_dir / "_data", run_dir / "figures"
    if (cache / "complete").exists():
        shutil.copytree(cache / "_data", data_dir, dirs_exist_ok=True)
        shutil.copytree(cache / "figures", fig_dir, dirs_exist_ok=True)
        for name, _nb, _params in names:
            on_ready(name)
        return True
    from .prepare import prepare_outputs
    res = prepare_outputs(project, names, settings, data_dir, fig_dir, jobs=jobs, scheduler=scheduler,
                          progress=progress, on_ready=on_ready, background=_LOW_PRIORITY)
    if timings is not None:
        timings.update({f"prepare:{k}": v for k, v in res.timings.items()})
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(data_dir, tmp / "_data")
    shutil.copytree(fig_dir, tmp / "figures")
    (tmp / "complete").write_text(snapshot, encoding="utf-8")
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)
    return False


def _blocks_for(data: Any, name: str, code: str, figures: Path, agree: Any = None) -> list[Block]:
    """The blocks of one output: summary, overview, survey, or the chapter of ``code``."""
    from .chapters import chapter_blocks
    from .overview import overview_blocks, summary_blocks, survey_blocks
    kind = _output_kind(name)
    if kind == "summary":
        return summary_blocks(data)
    if kind == "overview":
        return overview_blocks(data, figures, agree)
    if kind == "survey":
        return survey_blocks(data, figures)
    return chapter_blocks(data, code, figures)


def _units_for(data: Any, name: str, code: str, agreement_documents: set[str] | None = None) -> set[int]:
    """The units one output reads (its part of the report data, :meth:`ReportData.partition`): none for the
    summary, those intercoder agreement compares for the overview (in ``agreement_documents``, if the caller
    has them), the survey's answers for the survey chapter, a code's units and its findings' evidence for a
    code's chapter.  Each is a rule per document: on a batch of documents it gives the batch's part."""
    from .chapters import chapter_units
    from .overview import survey_units
    from .prepare import _agreement_units
    kind = _output_kind(name)
    if kind == "summary":
        return set()
    if kind == "overview":
        return _agreement_units(data, agreement_documents)
    if kind == "survey":
        return survey_units(data)
    return chapter_units(data, code)


def _output_kind(name: str) -> str:
    """What an output of the report is, by its name (:func:`_chapter_names`): ``summary``, ``overview``,
    ``survey`` or ``chapter``."""
    for kind, german in (("summary", "zusammenfassung"), ("overview", "ueberblick"), ("survey", "befragung")):
        if name.endswith(german) or name == kind:
            return kind
    return "chapter"


def chapter_for_notebook(project_dir: str, name: str, data_dir: str = "", code: str = ""
                         ) -> tuple[list[Block], Path]:
    """Blocks for a notebook and the folder their figure paths are relative to: precomputed ones from
    ``data_dir`` (report runs), else computed now (interactive use of the notebook)."""
    if data_dir and (Path(data_dir) / f"{name}.json").exists():
        return blocks_from_json(Path(data_dir) / f"{name}.json"), Path(data_dir).parent
    from .chapters import ReportData, ReportSettings
    from .corpus import ingest
    from .privacy import pseudonymise_project
    from .project import open_project
    project = open_project(project_dir)
    ingest(project)
    pseudonymise_project(project)
    data = ReportData(project, ReportSettings.from_project(project))
    figs = project.cache_dir / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    return _blocks_for(data, name, code or next(iter(project.codebook.primary.codes)), figs), project.cache_dir


def _skip_iri_grammar() -> None:
    """papermill imports nbformat, nbformat jsonschema, and jsonschema, if ``rfc3987_syntax`` is installed (it
    comes with JupyterLab), imports it to check the ``iri`` formats, which builds a Lark grammar: 2 s of CPU
    before the first notebook, for a format check notebook validation never makes.  Marking the module as absent
    (only when nothing has imported it yet) makes jsonschema skip those formats in this process."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


# Linux keeps the nice value per thread, and a child process inherits its thread's: see _behind_the_rest
_LOW_PRIORITY = sys.platform.startswith("linux")


def _behind_the_rest() -> None:
    """Lower this thread's priority to the lowest, and with it that of the notebook kernel it starts.  The
    kernels then run in the moments the preparation's workers and the PDF (the longest single step) leave a core
    idle, instead of taking turns with them: the PDF has a core of its own rather than finishing alone at the
    end.  The main thread and every other program keep their priority; elsewhere than Linux this does nothing
    (and the kernels start once the preparation's workers are done)."""
    if _LOW_PRIORITY:
        import threading
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


# A report's notebook only renders data prepared before it: a cell takes seconds, or minutes while it waits
# behind the preparation at the lowest priority (see _behind_the_rest).  nbclient waits for a kernel's reply for
# ever while the kernel lives, so one lost message would hang the run; a kernel that has not answered within
# this many seconds is given up, and its notebook run once more in a fresh kernel.
KERNEL_TIMEOUT = 1800


def _execute(nb_in: Path, nb_out: Path, params: dict[str, Any], cwd: Path) -> float:
    import papermill as pm
    _behind_the_rest()
    t = time.perf_counter()
    try:
        for attempt in (1, 2):
            try:
                # the kernel starts in ``cwd`` (nbclient's resources path); papermill's own ``cwd`` would change
                # this whole process's working folder while the notebook runs, under the preparation and the
                # other notebooks' feet
                pm.execute_notebook(str(nb_in), str(nb_out), parameters=params, kernel_name="python3",
                                    progress_bar=False, resources={"metadata": {"path": str(cwd)}}, log_output=False,
                                    request_save_on_cell_execute=False, execution_timeout=KERNEL_TIMEOUT,
                                    # the kernel's "running over TCP without encryption" notice, once per
                                    # notebook, is noise on a local run; its errors still reach the terminal
                                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
                break
            except Exception as e:
                if not _timed_out(e):
                    raise
                if attempt == 2:
                    raise ReportError(
                        f"the kernel of {nb_out.stem} did not answer within {KERNEL_TIMEOUT} s, twice",
                        notebook=nb_out.stem,
                        hint="run the report again; if it recurs, run the notebook in JupyterLab to see which cell "
                             "waits") from e
                log.warning("the kernel of %s did not answer within %d s: running it once more in a new kernel",
                            nb_out.stem, KERNEL_TIMEOUT)
    finally:
        _stable_cell_ids(nb_out)
    return time.perf_counter() - t


def _timed_out(e: BaseException) -> bool:
    """Whether papermill gave up waiting for the kernel: a cell's reply (nbclient's CellTimeoutError, a
    TimeoutError), or the reply to the closing kernel-info request, where nbclient, having no cell to name,
    fails an assertion in its timeout handler instead."""
    if isinstance(e, TimeoutError):
        return True
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return isinstance(e, AssertionError) and tb is not None and tb.tb_frame.f_code.co_name == "_async_handle_timeout"


def _stable_cell_ids(path: Path) -> None:
    """papermill gives the injected parameters cell a random id; make ids deterministic (cell position)."""
    import nbformat
    if not path.exists():
        return
    nb = nbformat.read(str(path), as_version=4)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.write(nb, str(path))


def _output_html(out: Any, numbering: Numbering, base: Path) -> str:
    """One notebook output as HTML: qualkit blocks re-rendered with the page's numbers and ids, other
    HTML without scripts, pictures embedded with alt text, text as preformatted text."""
    import html as _html
    data = out.get("data", {})
    if out.get("output_type") == "stream":
        return f"<pre>{_html.escape(''.join(out.get('text', '')))}</pre>" if out.get("name") == "stdout" else ""
    if BLOCKS_MIME in data:
        return blocks_to_html([Block(**b) for b in data[BLOCKS_MIME]], base=base, numbering=numbering)
    if "text/html" in data:
        raw = data["text/html"]
        raw = "".join(raw) if isinstance(raw, list) else raw
        return _SCRIPT.sub("", raw)
    if "image/png" in data:
        alt = _html.escape(str(out.get("metadata", {}).get("alt", "Abbildung aus dem Notebook")))
        return f'<figure><img src="data:image/png;base64,{"".join(data["image/png"]).strip()}" alt="{alt}"></figure>'
    if "text/plain" in data:
        text = data["text/plain"]
        return f"<pre>{_html.escape(''.join(text) if isinstance(text, list) else text)}</pre>"
    return ""


_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.I | re.S)
_ID = re.compile(r'\bid="([^"]*)"')


def _unique_ids(page: str) -> str:
    """A second element with an id already used gets a suffixed id (outputs of two cells may repeat one)."""
    seen: dict[str, int] = {}

    def fix(m: re.Match[str]) -> str:
        n = seen.get(m[1], 0) + 1
        seen[m[1]] = n
        return m[0] if n == 1 else f'id="{m[1]}-x{n}"'
    return _ID.sub(fix, page)


def _to_html(nb_path: Path, html_path: Path, base: Path, title: str) -> None:
    """The executed notebook as a self-contained German page: markdown and outputs, no code, no prompts,
    nothing loaded from elsewhere (nbconvert's templates load require.js and MathJax from a CDN)."""
    import nbformat
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    nb = nbformat.read(str(nb_path), as_version=4)
    numbering = Numbering()
    parts: list[str] = []
    for cell in nb.cells:
        if "remove-cell" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            parts.append(_SCRIPT.sub("", markdown2html_mistune(cell.source)))
        elif cell.cell_type == "code" and "remove-output" not in cell.metadata.get("tags", []):
            parts.extend(h for h in (_output_html(o, numbering, base) for o in cell.get("outputs", [])) if h)
    html_path.write_text(_unique_ids(html_page(title, "\n".join(parts))), encoding="utf-8")


EXPECTED_TO_DIFFER = {
    "notebooks/*.ipynb": "executed notebooks carry papermill's start and end times and durations of every cell; "
                         "their outputs are identical",
    "manifest.json": "run id, start and finish times, timings, cache use and the git state differ per run",
}


def _combined(project: Project, run_dir: Path, names: list[tuple[str, str, dict[str, Any]]], settings: Any,
              printer: PdfJob | None = None) -> PdfJob:
    """The combined report from the chapter data and the method appendix: ``bericht.html``, then
    ``bericht.pdf`` started in the background (it needs only the page, not the executed notebooks; it is the
    longest single step, so it starts first), then ``bericht.docx``."""
    from .appendix import method_appendix
    chapters = [(name, blocks_from_json(run_dir / "_data" / f"{name}.json")) for name, _, _ in names]
    appendix = method_appendix(k=settings.k, attribution=settings.attribution,
                               survey_attribution=settings.survey_attribution, min_theme_size=settings.min_theme_size)
    title = f"{project.name}: Ergebnisse"
    (run_dir / "bericht.html").write_text(report_html(chapters, base=run_dir, title=title, appendix=appendix),
                                          encoding="utf-8")
    pdf = start_pdf(run_dir / "bericht.html", run_dir / "bericht.pdf", cache_dir=project.cache_dir / "pdf",
                    printer=printer)
    try:
        blocks_to_docx(chapters, run_dir / "bericht.docx", base=run_dir, title=title, appendix=appendix)
    except BaseException:
        pdf.cancel()
        raise
    return pdf


def _discard_combined(run_dir: Path, pdf: PdfJob) -> None:
    """A failed run has no combined report."""
    pdf.cancel()
    for name in ("bericht.html", "bericht.docx", "bericht.pdf"):
        (run_dir / name).unlink(missing_ok=True)


def run_report(project: Project, *, only: Sequence[str] | None = None, jobs: int | None = None,
               notebooks_dir: str | Path | None = None, run_id: str | None = None,
               progress: Callable[[str], None] | None = None, settings_overrides: dict[str, Any] | None = None,
               scheduler: str | None = None) -> ReportRun:
    """Run the main job.  See the module docstring.  ``jobs`` notebooks run at once, and the preparation runs
    on ``jobs`` processes; ``scheduler`` (``"local"`` or a Dask scheduler's address) runs the preparation on
    Dask instead (:mod:`qualkit.prepare`).

    Raises
    ------
    ReportError
        a notebook failed (``notebook`` and ``cell`` say where); the run folder is marked incomplete.
    LeakError
        an output contained an original name; the file is removed and the run marked incomplete.
    """
    from .chapters import ReportSettings
    from .corpus import ingest
    from .privacy import NameSearch, guard_outputs, pseudonymise_project, search_names_ahead
    say = progress or (lambda s: log.info(s))
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    notebooks = Path(notebooks_dir) if notebooks_dir else (project.root / "notebooks" if
                                                           (project.root / "notebooks/chapter.ipynb").exists()
                                                           else NOTEBOOKS)
    jobs = jobs or min(2, os.cpu_count() or 1)  # local processes for every stage (and notebooks at once)
    # the PDF is the last step to finish: its process loads WeasyPrint on the core the ingest leaves idle (when
    # the chapters come from the cache, the PDF most likely does too, and start_pdf ends the process unused)
    printer = warm_printer()
    searches: list[NameSearch] = []

    def search_names(texts: Iterator[str], chars: int) -> None:  # on local workers while the store is written
        if not scheduler and (search := search_names_ahead(project, texts, jobs=jobs, chars=chars)) is not None:
            searches.append(search)

    try:
        ingest(project, jobs=jobs, scheduler=scheduler, on_read=search_names)
        release_memory()  # the pages of the documents read and written, before the report data is read
        timings["ingest:store"] = time.perf_counter() - t0
        settings = ReportSettings.from_project(project, **(settings_overrides or {}))
        from .prepare import holds_whole
        # while the workers search for names, this process reads what the report data starts from (if it will
        # hold the report data whole; a larger corpus is read in batches later)
        if searches and holds_whole(project, scheduler):
            from .reportdata import ReportData
            ReportData.read_tables(project, settings)
        pseudonymise_project(project, jobs=jobs, scheduler=scheduler, ahead=searches[0] if searches else None)
        names = _chapter_names(project, only)
        snapshot = store_snapshot_hash(project)
    except BaseException:
        printer.cancel()
        for search in searches:
            search.cancel()
        raise
    timings["ingest"] = time.perf_counter() - t0
    run_dir = _new_run_dir(project.outputs_dir, run_id or datetime.now(UTC).strftime("run-%Y%m%d-%H%M%S"))
    run_id = run_dir.name
    incomplete = run_dir / "UNVOLLSTÄNDIG.txt"  # removed only when everything is written and checked
    incomplete.write_text("Dieser Lauf läuft noch oder wurde abgebrochen: er ist unvollständig und darf nicht "
                          "weitergegeben werden.\n", encoding="utf-8")
    for sub in ("_data", "figures", "notebooks", "html"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "run_id": run_id, "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": project.name, "parameters": {**asdict(settings), "only": list(only or []),
                                                "jobs": jobs,
                                                "scheduler": scheduler or ""},
        "seeds": {"project": project.seed, "themes": settings.seed, "wordcloud": settings.seed},
        "codebook_sha256": project.codebook.sha256, "store_snapshot_sha256": snapshot,
        "inputs": _inputs(project, notebooks), "versions": _versions(), "git": _git(project.root),
        "status": "running",
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")

    def fail(status: str, error: dict[str, Any]) -> None:
        manifest.update(status=status, error=error, timings=timings)
        if status == "leak":  # the leak may be in an input's file name
            manifest.pop("inputs", None)
        (run_dir / "UNVOLLSTÄNDIG.txt").write_text(
            "Dieser Lauf ist unvollständig und darf nicht weitergegeben werden.\n"
            f"Grund: {error.get('message', '')}\n", encoding="utf-8")
        (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")

    # a notebook starts as soon as its chapter's data is written, while the next chapters are still prepared:
    # the kernels use the second core while the preparation (one process) uses the first
    workers = max(1, min(jobs, len(names)))
    errors: list[tuple[str, Exception]] = []
    kernel_times: dict[str, float] = {}
    futures: dict[Future[float], str] = {}
    by_name = {name: (nb, params) for name, nb, params in names}
    # the notebook threads import papermill, the kernel client and IPython while the preparation makes figures,
    # and matplotlib reads IPython's version when it makes a figure: a half-imported IPython failed a run once.
    # Imported here, before any thread starts.
    _skip_iri_grammar()
    import IPython  # noqa: F401
    import jupyter_client.kernelspec  # noqa: F401
    import papermill  # noqa: F401
    cwd = os.getcwd()
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        def start(name: str) -> None:
            nb, params = by_name[name]
            p = {"project_dir": str(project.root), "data_dir": str(run_dir / "_data"), "name": name, **params}
            futures[pool.submit(_execute, notebooks / nb, run_dir / "notebooks" / f"{name}.ipynb", p,
                                run_dir)] = name

        say(f"preparing {len(names)} chapter(s) …")
        cache = _prepare_cache(project, names, settings, snapshot)
        try:
            with one_thread():  # see qualkit._blas
                manifest["cache_used"] = _prepare(project, run_dir, names, settings, cache, snapshot, on_ready=start,
                                                  jobs=jobs, scheduler=scheduler,
                                                  progress=say, timings=timings)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            printer.cancel()
            raise
        timings["prepare"] = time.perf_counter() - t
        say(f"prepared in {timings['prepare']:.1f} s{' (from cache)' if manifest['cache_used'] else ''}")
        quotes_file = run_dir / "_data" / "quotes.json"
        if quotes_file.exists():
            manifest["quotes"] = q = json.loads(quotes_file.read_text(encoding="utf-8"))
            say(f"quotes ({settings.mode}): {q['approved']} approved, {q['pending']} pending "
                f"({'left out' if settings.mode == 'release' else 'marked in the text'}), {q['excluded']} "
                "excluded; release them with `qualkit quotes`")
        t = time.perf_counter()
        try:
            pdf = _combined(project, run_dir, names, settings, printer)
        except BaseException:
            printer.cancel()
            raise
        timings["combined"] = time.perf_counter() - t
        t = time.perf_counter()
        for done, fut in enumerate(as_completed(futures), 1):
            name = futures[fut]
            try:
                kernel_times[name] = fut.result()
                say(f"[{done}/{len(names)}] {name} ({kernel_times[name]:.1f} s)")
            except Exception as e:  # papermill raises PapermillExecutionError and kernel errors
                errors.append((name, e))
                say(f"[{done}/{len(names)}] {name} FAILED")
    if os.getcwd() != cwd:  # the kernels start in the run folder; this process never leaves its own
        os.chdir(cwd)
    timings["notebooks"] = time.perf_counter() - t  # what is left of them once the combined report is written
    timings.update({f"notebook:{k}": round(v, 2) for k, v in sorted(kernel_times.items())})
    if errors:
        name, err = errors[0]
        cell = getattr(err, "cell_index", None)
        msg = f"notebook {name} failed" + (f" in cell {cell}" if cell is not None else "") + \
              f": {getattr(err, 'ename', type(err).__name__)}: {getattr(err, 'evalue', str(err))}"
        _discard_combined(run_dir, pdf)
        fail("failed", {"notebook": name, "cell": cell, "message": msg})
        raise ReportError(msg, notebook=name, cell=cell,
                          hint=f"open {run_dir / 'notebooks' / (name + '.ipynb')} to see the traceback; the run "
                               "folder is marked UNVOLLSTÄNDIG")
    t = time.perf_counter()
    for name, _, _ in names:
        blocks = blocks_from_json(run_dir / "_data" / f"{name}.json")
        _to_html(run_dir / "notebooks" / f"{name}.ipynb", run_dir / "html" / f"{name}.html", run_dir,
                 blocks[0].text if blocks else name)
    timings["convert"] = time.perf_counter() - t
    t = time.perf_counter()
    try:  # while the PDF is printed (a PDF is not scanned: it shows bericht.html, which is)
        guard_outputs(project, [p for p in sorted(run_dir.iterdir()) if not p.name.startswith("bericht.pdf")])
    except LeakError as e:
        _discard_combined(run_dir, pdf)
        fail("leak", {"message": str(e), "file": e.path, "pseudonym": e.label})
        raise
    timings["leak_guard"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        manifest["pdf_cache_used"] = pdf.wait()
    except ReportError as e:
        _discard_combined(run_dir, pdf)
        fail("failed", {"message": str(e)})
        raise
    timings["pdf_wait"] = time.perf_counter() - t
    manifest["expected_to_differ"] = EXPECTED_TO_DIFFER
    timings["total"] = time.perf_counter() - t0
    manifest["outputs"] = {p.relative_to(run_dir).as_posix(): _sha_file(p) for p in sorted(run_dir.rglob("*"))
                           if p.is_file() and p not in (incomplete, run_dir / "manifest.json")}
    manifest.update(status="complete", finished=datetime.now(UTC).isoformat(timespec="seconds"),
                    timings={k: round(v, 2) for k, v in timings.items()})
    (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    try:  # the manifest names input files, and file names can carry names
        guard_outputs(project, [run_dir / "manifest.json"], remove=False)
    except LeakError as e:
        fail("leak", {"message": str(e), "file": e.path, "pseudonym": e.label})
        raise
    incomplete.unlink()
    say(f"report complete: {run_dir} ({timings['total']:.1f} s)")
    return ReportRun(run_dir, "complete", [n for n, _, _ in names], timings, manifest)
