"""The partitioned report preparation: the same bytes in this process, on local processes and on Dask."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualkit.chapters import ReportSettings
from qualkit.corpus import ingest
from qualkit.errors import SchedulerError, StoreError
from qualkit.nlp import GermanPipeline
from qualkit.prepare import _batches, prepare_outputs
from qualkit.privacy import pseudonymise_project
from qualkit.project import Project, open_project
from qualkit.reports import _chapter_names

from .conftest import REPO, run_cli


def _coded(project: Project) -> Project:
    ingest(project)
    s = project.store
    for doc in ("A1", "B2"):
        u = s.units(doc)
        for r in u[u.role == "respondent"].itertuples():
            s.add_coding(doc, int(r.start), int(r.end), "Frühkindliche Bildung", coder="a")
            s.add_coding(doc, int(r.start), int(r.end), "Bedarf/Lücke", coder="a")
            s.add_coding(doc, int(r.start), int(r.end), "Bedarf/Lücke", coder="b")
    s.add_coding("S1-F1", 0, 16, "Frühkindliche Bildung", coder="a")
    pseudonymise_project(project)
    return project


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _prepare(project: Project, dest: Path, only: list[str] | None = None, **kw: object) -> dict[str, bytes]:
    settings = ReportSettings.from_project(project)
    (dest / "_data").mkdir(parents=True)
    (dest / "figures").mkdir()
    prepare_outputs(project, _chapter_names(project, only), settings, dest / "_data", dest / "figures", **kw)  # type: ignore[arg-type]
    return _outputs(dest)


@pytest.mark.parametrize(("jobs", "min_units", "fork"), [(2, 0, True), (2, 0, False), (2, 10**9, True), (1, 0, None)],
                         ids=["streamed-forked", "streamed-spawned", "whole-forked", "streamed-serial"])
def test_prepare_processes_give_the_bytes_of_a_serial_run(tiny_project: Project, tmp_path: Path,
                                                          store_digest: object, jobs: int, min_units: int,
                                                          fork: bool | None) -> None:
    """However the outputs are prepared (the client holding the whole report data and forking its workers, or
    reading it in batches while forked, spawned or no workers compute each output from a store copy), they are
    the bytes of a plain run in this process."""
    project = _coded(tiny_project)
    before = store_digest(project.store.path)  # type: ignore[operator]
    serial = _prepare(project, tmp_path / "serial")
    shutil.rmtree(project.cache_dir / "nlp.sqlite", ignore_errors=True)
    (project.cache_dir / "nlp.sqlite").unlink(missing_ok=True)
    ready: list[str] = []
    parallel = _prepare(project, tmp_path / "parallel", jobs=jobs, min_units=min_units, fork=fork,
                        on_ready=ready.append)
    assert serial.keys() == parallel.keys()
    assert any(k.startswith("figures/") for k in serial) and "_data/00-ueberblick.json" in serial
    assert serial == parallel
    # every output is announced once, after the local workers are done
    assert sorted(ready) == sorted(k.removeprefix("_data/").removesuffix(".json") for k in serial
                                   if k.startswith("_data/") and k != "_data/quotes.json")
    # ... or, when what it starts runs in the background (the report's kernels), as soon as it is written
    said: list[str] = []
    shutil.rmtree(tmp_path / "parallel")
    again = _prepare(project, tmp_path / "parallel", jobs=jobs, min_units=min_units, fork=fork, background=True,
                     on_ready=lambda name: said.append(f"ready {name}"), progress=said.append)
    assert again == serial
    last = max(i for i, s in enumerate(said) if s.startswith("prepared ["))
    assert said[0].startswith("NLP") and any(s.startswith("ready ") for s in said[:last])
    assert sorted(s for s in said if s.startswith("ready ")) == sorted(f"ready {r}" for r in ready)
    # workers read a snapshot and return results: the store is untouched, the snapshot is gone, and the NLP
    # analyses the workers made reached the cache through the client
    assert store_digest(project.store.path) == before  # type: ignore[operator]
    assert not any((project.cache_dir / "snapshot").glob("*"))
    assert GermanPipeline(cache_dir=project.cache_dir).missing(["Mehr Kitaplätze!"]) == []


@pytest.mark.slow
def test_prepare_local_cluster_identical_on_the_example(example_project: Project, tmp_path: Path) -> None:
    """The example with a LocalCluster of 2 workers: every chapter's data and figure byte for byte as a plain
    run (themes, word clouds, agreement and all)."""
    import os
    pseudonymise_project(example_project)
    plain = _prepare(example_project, tmp_path / "plain")
    environ = dict(os.environ)
    dask = _prepare(example_project, tmp_path / "dask", jobs=2, scheduler="local")
    assert dict(os.environ) == environ  # the cluster's settings for its workers (OMP_NUM_THREADS …) are not left
    # summary, overview, survey, one chapter per code, and the run's quote counts
    assert len([k for k in plain if k.startswith("_data/")]) == 3 + len(example_project.codebook.primary.codes) + 1
    assert "_data/quotes.json" in plain
    assert b"codierten A und B 129 Dokumente" in plain["_data/00-ueberblick.json"]  # the second coder
    assert len([k for k in plain if k.endswith("wortwolke.png")]) >= 5
    assert plain.keys() == dask.keys()
    assert [k for k in plain if plain[k] != dask[k]] == []


@pytest.mark.slow
def test_prepare_cli_report_scheduler_local(tiny_project: Project) -> None:
    """`qualkit report --scheduler local` writes the chapter data and figures of a plain run."""
    project = _coded(tiny_project)
    shutil.copytree(REPO / "notebooks", project.root / "notebooks", dirs_exist_ok=True)
    root = str(project.root)
    code, _, err = run_cli("report", "--project", root, "--only", "Bildung und Sprache", "--jobs", "1")
    assert code == 0, err
    shutil.rmtree(project.cache_dir / "report")  # else the second run copies the first one's data
    code, _, err = run_cli("report", "--project", root, "--only", "Bildung und Sprache", "--jobs", "2",
                           "--scheduler", "local")
    assert code == 0, err
    runs = sorted(p for p in (project.root / "outputs").iterdir() if p.is_dir())
    assert len(runs) == 2
    a, b = (_outputs(r / "_data") | {f"fig/{k}": v for k, v in _outputs(r / "figures").items()} for r in runs)
    assert a == b and a
    import json
    manifest = json.loads((runs[1] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["scheduler"] == "local" and manifest["cache_used"] is False
    assert "prepare:outputs" in manifest["timings"]


def test_prepare_unreachable_scheduler_is_our_error(tiny_project: Project, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import threading
    project = _coded(tiny_project)
    before = set(threading.enumerate())
    with pytest.raises(SchedulerError) as e:
        _prepare(project, tmp_path / "x", only=["Bildung und Sprache"], jobs=2, scheduler="tcp://127.0.0.1:9")
    assert "tcp://127.0.0.1:9" in str(e.value) and "--scheduler local" in e.value.hint
    # no Dask event loop is left running in this process (its later forks would carry it)
    assert [t.name for t in set(threading.enumerate()) - before] == []


@given(st.lists(st.text(alphabet="ab ", max_size=12), max_size=40), st.integers(min_value=1, max_value=20))
def test_prepare_batches_keep_every_text_in_order(texts: list[str], words: int) -> None:
    batches = _batches(texts, words)
    assert [t for b in batches for t in b] == texts
    assert all(b for b in batches)
    # a batch is closed only once it holds at least `words` words
    assert all(sum(len(t.split()) for t in b) >= words for b in batches[:-1])


@given(st.permutations(list(range(8))))
def test_prepare_map_in_order_hands_each_result_on_once_those_before_it_are_in(finished: list[int]) -> None:
    """Whatever order the workers finish in, the results come in the order of the parts, and each as soon as
    every part before it has finished: only results that finished early wait (issue 17: the ingest writes each
    transcript read to disk as soon as it may, instead of holding all of them until the last is read)."""
    from contextlib import contextmanager

    from qualkit import prepare
    arrived: list[int] = []

    class Finishing:
        def run(self, fn: object, calls: list[tuple[object, ...]]) -> object:
            for i in finished:
                arrived.append(i)
                yield fn(*calls[i])  # type: ignore[operator]

    @contextmanager
    def executor(**kw: object) -> object:
        yield Finishing()
    real = prepare.executor
    prepare.executor = executor  # type: ignore[assignment]
    try:
        got = []
        for r in prepare.map_in_order(lambda part, k: part * k, list(range(8)), 10, jobs=2):
            got.append(r)
            i = len(got) - 1
            # handed on at the first moment parts 0..i had all arrived
            assert len(arrived) == max(finished.index(j) for j in range(i + 1)) + 1
    finally:
        prepare.executor = real  # type: ignore[assignment]
    assert got == [10 * i for i in range(8)]


def test_prepare_reopened_project_reads_the_snapshot_only(tiny_project: Project, tmp_path: Path) -> None:
    """A worker's project is opened on the snapshot: codings written to the store after the snapshot do not
    reach the outputs of the run."""
    import numpy as np

    from qualkit.chapters import chapter_units
    from qualkit.prepare import _open, write_snapshot
    from qualkit.reportdata import ReportData
    project = _coded(tiny_project)
    data = ReportData(project, ReportSettings.from_project(project))
    ids = chapter_units(data, "Bildung und Sprache")
    snap = write_snapshot(project, data, tmp_path / "snap", {"bildung": ids})
    assert oct(Path(snap.state).stat().st_mode & 0o777) == "0o600"
    assert oct(Path(snap.part("bildung")).stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "snap").stat().st_mode & 0o777) == "0o700"
    project.store.add_coding("S2-F1", 0, 10, "Frühkindliche Bildung", coder="a")
    worker = _open(snap)
    assert worker.project.store.path == Path(snap.store)
    assert len(worker.project.store.codings()) == len(open_project(project.root).store.codings()) - 1
    # the shared state holds no unit; an output's part holds its own units and labels, with its own texts only
    assert not hasattr(worker, "units") and not hasattr(worker, "labels")
    # an output's part is the ids of its units; the worker reads their rows from the snapshot
    assert sorted(np.fromfile(snap.part("bildung"), dtype=np.int64).tolist()) == sorted(ids)
    part = worker.restricted(worker.read_part(np.fromfile(snap.part("bildung"), dtype=np.int64)))
    assert 0 < len(ids) < len(data.units)
    assert part.units.equals(data.units[data.units.unit_id.isin(ids)].reset_index(drop=True).assign(
        text=lambda u: u.text.cat.remove_unused_categories(), ptext=lambda u: u.ptext.cat.remove_unused_categories()))
    assert part.labels.equals(data.labels[data.labels.unit_id.isin(ids)].reset_index(drop=True))
    assert set(part.units.text.cat.categories) == set(part.units.text)
    assert worker.pipe.read_only and part.pipe is worker.pipe
    with pytest.raises(StoreError, match="read-only"):
        worker.project.store.add_coding("S2-F1", 0, 10, "Frühkindliche Bildung", coder="a")
    # the snapshot never changes, so a repeated query is answered from memory, as a copy the caller may change
    first = worker.project.store.frame("SELECT id FROM documents ORDER BY id")
    first["id"] = "x"
    assert worker.project.store.frame("SELECT id FROM documents ORDER BY id").id.tolist() == sorted(
        r["id"] for r in project.store.query("SELECT id FROM documents"))


def test_prepare_forked_workers_inherit_objects_outside_the_collector() -> None:
    """While forked workers run, what they inherited is frozen out of the garbage collector (a collection in
    a worker would otherwise copy every shared page it touches), and the client's collector is whole again
    once the pool is closed; spawned workers leave it alone."""
    import gc

    from qualkit.prepare import _Processes
    assert gc.get_freeze_count() == 0
    forked = _Processes(1, fork=True)
    try:
        assert gc.get_freeze_count() > 0
        assert forked.pool.submit(sum, [1, 2]).result() == 3
    finally:
        forked.close()
    assert gc.get_freeze_count() == 0
    spawned = _Processes(1, fork=False)
    try:
        assert gc.get_freeze_count() == 0
    finally:
        spawned.close()


_PRELOAD_PROBE = """
import json, sys
from qualkit import nlp, prepare
from qualkit.project import open_project
from qualkit.reportdata import ReportData, ReportSettings
from qualkit.reports import _chapter_names
project = open_project(sys.argv[1])
data = ReportData(project, ReportSettings.from_project(project))
prepare._preload()
tops = {m.split(".")[0] for m in sys.modules}
loads = nlp._nlp.cache_info().misses
for name, _nb, params in _chapter_names(project, None):
    prepare.output_blocks(data, name, params.get("code", ""))
print(json.dumps([sorted({m.split(".")[0] for m in sys.modules} - tops), nlp._nlp.cache_info().misses - loads]))
"""


def test_prepare_preload_loads_every_library_an_output_loads(tiny_project: Project) -> None:
    """What the client loads before forking its workers (so they share it) is everything computing the outputs
    loads: no output imports a package of its own or builds the NLP pipeline again.  A fresh interpreter, so
    nothing other tests imported counts."""
    import json
    import subprocess
    import sys
    project = _coded(tiny_project)
    out = subprocess.run([sys.executable, "-c", _PRELOAD_PROBE, str(project.root)], capture_output=True, text=True,
                         cwd=REPO, timeout=600, check=True)
    new_packages, pipeline_loads = json.loads(out.stdout.strip().splitlines()[-1])
    assert new_packages == [] and pipeline_loads == 0


_OPENMP_PROBE = """
import json
import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_info, threadpool_limits
from qualkit.prepare import map_in_order

def inertia(seed):
    X = np.random.RandomState(seed).rand(4000, 20)
    return float(KMeans(4, n_init=1, random_state=0).fit(X).inertia_)

with threadpool_limits(limits=2, user_api="openmp"):  # as a notebook that clustered before the report
    inertia(0)
    team = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp")
forked = list(map_in_order(inertia, [1, 2], jobs=2))
print(json.dumps([team, forked]))
"""


def test_prepare_forked_workers_cluster_after_the_client_did() -> None:
    """libgomp (scikit-learn's OpenMP) is not safe across fork: once the client has clustered on two threads, a
    forked worker that clusters waits for ever for threads it never had.  Forked workers run on one thread and
    finish, with the sums of a one-thread run in the client.  A fresh interpreter with a timeout, so a hang
    fails this test rather than the suite."""
    import json
    import os
    import signal
    import subprocess
    import sys

    from qualkit._blas import one_thread
    # OpenMP's own default, as in a fresh shell (a Dask LocalCluster, run by other tests, sets OMP_NUM_THREADS=1
    # in its client's environment: forked workers would then never start a second thread, fix or not)
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    proc = subprocess.Popen([sys.executable, "-c", _OPENMP_PROBE], stdout=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True, env=env)
    try:
        stdout, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the hung workers too
        proc.communicate()
        raise AssertionError("forked workers hung in OpenMP after the client had clustered") from None
    assert proc.returncode == 0
    team, forked = json.loads(stdout.strip().splitlines()[-1])
    assert team == 2
    import numpy as np
    from sklearn.cluster import KMeans
    with one_thread():
        here = [float(KMeans(4, n_init=1, random_state=0).fit(np.random.RandomState(s).rand(4000, 20)).inertia_)
                for s in (1, 2)]
    assert forked == here


def test_prepare_one_thread_holds_blas_and_openmp_to_one() -> None:
    """Within :func:`one_thread` every BLAS library and OpenMP runs on one thread (OpenMP too, though nothing
    had clustered yet: the runtime is loaded first, or a later import would run on every core)."""
    from threadpoolctl import threadpool_info

    from qualkit._blas import one_thread
    with one_thread():
        apis = {(i["user_api"], i["num_threads"]) for i in threadpool_info()}
    assert {api for api, _n in apis} == {"blas", "openmp"} and {n for _api, n in apis} == {1}


def test_prepare_overview_reports_the_second_coder_the_counting_rule_leaves_out(tiny_project: Project) -> None:
    """The counting rule counts one coder per document, so the counted labels name coder a only; the overview
    still compares a with b (the pair the adjudication compares), instead of saying there is no second coding."""
    from qualkit.overview import overview_blocks
    from qualkit.prepare import _agreement
    from qualkit.reportdata import ReportData
    project = _coded(tiny_project)
    # b codes the primary dimension too: A1's first answer as a did, B2's first with another field
    data = ReportData(project, ReportSettings.from_project(project))
    assert _agreement(data) is None  # b coded only the second dimension: no document to compare
    s = project.store
    for doc, code in (("A1", "Frühkindliche Bildung"), ("B2", "Wohnraum und Wohnungsmarkt")):
        r = s.units(doc)[lambda u: u.role == "respondent"].iloc[0]
        s.add_coding(doc, int(r.start), int(r.end), code, coder="b")
    data = ReportData(open_project(project.root), ReportSettings.from_project(project))
    assert set(data.labels.coder) == {"a"}
    agree = _agreement(data)
    assert agree is not None and set(agree) == {"document", "unit", "segment"}
    assert agree["unit"].coders == ["a", "b"] and agree["unit"].documents == 2
    per_code = agree["document"].per_code.set_index("code")
    assert per_code.loc["Wohnen und Mobilität", "agreements"] == 1  # b only, in B2; both not, in A1
    text = " ".join(b.text for b in overview_blocks(data, project.cache_dir, agree))
    assert "a und b 2 Dokumente unabhängig" in text and "keine unabhängige Zweitcodierung" not in text
    # the report's own coders, where it names two, are the pair compared
    both = ReportData(project, ReportSettings.from_project(project, coders=["b", "a"]))
    assert _agreement(both)["unit"].coders == ["b", "a"]
    # one coder only: no agreement, and the overview says so
    project.store.con.execute("DELETE FROM codings WHERE coder='b'")
    project.store.con.commit()
    alone = ReportData(open_project(project.root), ReportSettings.from_project(project))
    assert _agreement(alone) is None
    assert "keine unabhängige Zweitcodierung" in " ".join(b.text for b in overview_blocks(alone, project.cache_dir))


def test_prepare_flow_holds_at_most_its_limit_of_unfinished_tasks() -> None:
    """Tasks handed on as they come (the NLP batches of a corpus read in batches) wait for one to finish once
    `limit` are unfinished, and every result arrives once."""
    from concurrent.futures import Future

    from qualkit.prepare import _Flow

    class Slow:  # finishes the oldest task only when asked to wait for one
        def __init__(self) -> None:
            self.queue: list[tuple[Future[int], int]] = []
            self.most = 0

        def submit(self, fn: object, *args: int) -> Future[int]:
            fut: Future[int] = Future()
            self.queue.append((fut, fn(*args)))  # type: ignore[operator]
            self.most = max(self.most, sum(not f.done() for f, _ in self.queue))
            return fut

        def first_done(self, futures: object) -> set[Future[int]]:
            fut, value = next((f, v) for f, v in self.queue if not f.done())
            fut.set_result(value)
            return {fut}

    ex = Slow()
    got: list[int] = []
    flow = _Flow(ex, 3, got.append)
    for i in range(10):
        flow.put(lambda x: x * x, i)
        assert len(flow.pending) < 3
    flow.finish()
    assert sorted(got) == [i * i for i in range(10)] and ex.most == 3 and not flow.pending
