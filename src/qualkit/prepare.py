"""The report's shared preparation in partitions: NLP in batches of documents and one task per output (summary,
overview, survey, the chapter of each code), run one after another, on a few local processes (``jobs``), or on a
Dask distributed cluster (``scheduler``).

The store stays the single source of truth, and only the client (the process running the report) writes: each
output's ``_data/<name>.json`` and figures as soon as its task finishes, the NLP analyses into the cache.

*A district* (below :data:`MIN_UNITS` units): the client holds the whole report data
(:class:`~qualkit.reportdata.ReportData`) and computes the outputs itself or on workers forked with it.

*A larger corpus, or a cluster* (:func:`_prepare_streamed`): the client copies the store into a read-only
snapshot and never holds every unit.  It reads the copy in batches of whole cases
(:meth:`~qualkit.reportdata.ReportData.streamed`): from each it adds up the bases every output shares (persons
per group, totals, duplicate submissions, co-occurrence), writes the ids of the units each output reads to a
file per output and hands the texts still to analyse to the workers as NLP tasks.  Then it pickles the shared
state (the report data without units) next to the copy, and each output is one task: a worker opens the shared
state once, reads its output's units from the copy (:meth:`~qualkit.reportdata.ReportData.read_part`), computes
the output and *returns* it (blocks, figure bytes, new NLP analyses).  A task's result depends on the snapshot
and its own inputs only, so every scheduler gives the same bytes.

Memory: the client of a streamed run holds the shared state and one batch of cases, then one finished output at
a time; a worker holds the shared state and the units of the output it works on.  Dask workers must see the
project folder at the same path (a shared file system) and have qualkit installed in the same version.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import logging
import os
import pickle
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._blas import one_thread, one_thread_for_life
from ._files import private_dir, private_file
from ._memory import release_memory
from .blocks import Block, blocks_to_json
from .errors import SchedulerError, StoreError
from .project import Project, open_project
from .store import Store

__all__ = ["PrepareResult", "Snapshot", "SnapshotStore", "executor", "holds_whole", "output_blocks",
           "prepare_outputs", "write_snapshot"]

log = logging.getLogger(__name__)

BATCH_WORDS = 200_000  # words per NLP task: large enough that a task outweighs its scheduling (~ 1 s of work)
# below this (a district's few thousand units) the preparation stays in this process: workers would start slower
# than the work they share, and the notebooks already take the second core as their chapters arrive
MIN_UNITS = 5_000
_STATE_SKIP = ("project", "pipe")  # rebuilt on the worker: an open store and an NLP cache connection


@dataclass(frozen=True)
class Snapshot:
    """Where workers find the run's inputs: the project folder, a read-only copy of its store, the pickled
    shared report state and each output's part of the units (file by output name; all on a file system the
    workers see)."""

    root: str
    store: str
    state: str
    parts: tuple[tuple[str, str], ...] = ()

    def part(self, name: str) -> str:
        return dict(self.parts)[name]


@dataclass
class PrepareResult:
    """What :func:`prepare_outputs` did: seconds per stage (``snapshot``, ``nlp``, ``outputs``), NLP texts
    processed, the executor used and how many workers it had."""

    timings: dict[str, float] = field(default_factory=dict)
    nlp_texts: int = 0
    executor: str = "serial"
    workers: int = 1


# -- executors ------------------------------------------------------------------------------------------------

class _Serial:
    name, workers = "serial", 1

    def run(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> Iterator[Any]:
        for args in calls:
            yield fn(*args)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        from concurrent.futures import Future
        fut: Future[Any] = Future()
        fut.set_result(fn(*args))
        return fut

    def first_done(self, futures: Iterable[Any]) -> set[Any]:
        return set(futures)


class _Processes:
    """Local worker processes: spawned (nothing of the client's open files or threads is inherited), or, with
    ``fork``, forked (no start-up: they inherit what the client has loaded; for pure functions of their
    arguments, which never touch the client's open files)."""

    name = "processes"

    def __init__(self, jobs: int, *, fork: bool = False, initializer: Callable[[], None] | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        self.workers = jobs
        if fork:  # whatever the client ran on several threads, a forked worker must not (see qualkit._blas)
            initializer = functools.partial(_forked_start, initializer)
        self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=initializer,
                                        mp_context=multiprocessing.get_context("fork" if fork else "spawn"))
        self._frozen = fork
        if fork:
            self.name = "fork"
            # what the workers inherit leaves the collector's generations: a collection in a worker would
            # otherwise write to every inherited object's header and so copy each page it shares with the client
            # (https://docs.python.org/3/library/gc.html#gc.freeze)
            gc.freeze()

    def run(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> Iterator[Any]:
        from concurrent.futures import as_completed
        # no list of futures is kept: a finished result is freed once the caller has written it
        for fut in as_completed([self.pool.submit(fn, *args) for args in calls]):
            res = fut.result()
            del fut
            yield res

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.pool.submit(fn, *args)

    def first_done(self, futures: Iterable[Any]) -> set[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait
        return set(wait(list(futures), return_when=FIRST_COMPLETED).done)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self._frozen:
            self._frozen = False
            gc.unfreeze()


def _forked_start(then: Callable[[], None] | None) -> None:
    one_thread_for_life()
    if then is not None:
        then()


_FORKED: Any = None  # the shared report data a forked worker inherits (set just before the workers are forked)
_INHERITED: list[Any] = []  # a forked worker's copies of the client's database handles: kept, never used or closed


def _forked_init() -> None:
    """In a freshly forked worker: its own read-only handles on the store and the NLP cache (an SQLite connection
    must not be used on both sides of a fork), the client's kept alive unused (closing them here could disturb
    the client's locks)."""
    from .nlp import GermanPipeline
    data = _FORKED
    project = data.project
    old = project.store
    _INHERITED.extend([old, data.pipe])
    project.__dict__["store"] = SnapshotStore(old.path)
    pipe = GermanPipeline(cache_dir=project.cache_dir, read_only=True)
    for holder in (data, data.quote_picker):
        if getattr(holder, "pipe", None) is not None:
            holder.pipe = pipe


def _forked_output(name: str, code: str) -> tuple[str, list[Block], dict[str, bytes], list[Any], dict[str, Any]]:
    with one_thread():
        return name, *output_blocks(_FORKED, name, code)


# What computing an output loads (the chapter modules and the libraries they import when first called): loaded in
# the client before its workers are forked, they are shared by every worker instead of loaded by each (a worker's
# own memory for one chapter of the example fell from about 315 to 75 MB: docs/benchmarks/partitions.md)
_PRELOAD = ("qualkit.chapters", "qualkit.overview", "qualkit.drafts", "sklearn.feature_extraction.text",
            "sklearn.cluster", "sklearn.decomposition", "sklearn.metrics.pairwise", "scipy.stats",
            "matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.pyplot", "wordcloud")


def _preload() -> None:
    import importlib

    from .nlp import preload
    for module in _PRELOAD:
        importlib.import_module(module)
    preload()


class _Forked(_Processes):
    """Local worker processes forked from the client once the shared report data is built: they inherit it
    (copy-on-write) instead of reading a snapshot, so there is no start-up beyond the fork and even the example
    gains from a second core, and they share the client's memory instead of each holding a copy of the unit
    table (at ×100, where spawned workers took 6 GB, the client and two forked workers together take less than
    half that: docs/benchmarks/scale.md, column *peak while preparing*).  Used for a corpus the client holds whole
    (below :data:`MIN_UNITS` units) wherever the system can fork."""

    def __init__(self, jobs: int, data: Any) -> None:
        global _FORKED
        _FORKED = data
        _preload()
        super().__init__(jobs, fork=True, initializer=_forked_init)

    def close(self) -> None:
        global _FORKED
        super().close()
        _FORKED = None


@contextmanager
def _forked(jobs: int, data: Any) -> Iterator[_Forked]:
    ex = _Forked(jobs, data)
    try:
        yield ex
    finally:
        ex.close()


def _can_fork() -> bool:
    import multiprocessing
    return "fork" in multiprocessing.get_all_start_methods()


def _restore_environ(environ: dict[str, str]) -> None:
    for key in set(os.environ) - set(environ):
        del os.environ[key]
    os.environ.update(environ)


_CONNECT_TIMEOUT = 20  # seconds a scheduler address is given to answer


def _knock(address: str) -> None:
    """Connect to a TCP or TLS scheduler address once, raising OSError if nothing answers there.  Done before a
    Dask client is made: a client that cannot connect leaves its event-loop thread running in this process for
    good (distributed 2026.8), and a process that later forks its workers should not carry such a thread."""
    import re
    import socket
    m = re.fullmatch(r"(?:tcp|tls)://\[?([^\]/]+?)\]?:(\d+)/?", address)
    if m is not None:
        socket.create_connection((m.group(1), int(m.group(2))), timeout=_CONNECT_TIMEOUT).close()


class _Dask:
    """A Dask distributed client: a LocalCluster (``local``) or the scheduler at an address."""

    name = "dask"

    def __init__(self, scheduler: str, jobs: int) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise SchedulerError(f"--scheduler {scheduler}: Dask distributed is not installed",
                                 hint="pip install 'qualkit[dask]' (or dask[distributed]) on the client and on "
                                      "every worker") from e
        self.cluster = None
        # a LocalCluster sets OMP_NUM_THREADS and MALLOC_TRIM_THRESHOLD_ in this process's environment for its
        # workers and leaves them there: every process started later (a notebook's kernel) would inherit them
        self._environ = dict(os.environ)
        try:
            if scheduler == "local":
                self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                            dashboard_address=None)
                self.client = Client(self.cluster)
            else:
                _knock(scheduler)
                self.client = Client(scheduler, timeout=f"{_CONNECT_TIMEOUT}s")
        except (OSError, TimeoutError, ValueError) as e:  # ValueError: not an address ("missing port number")
            if self.cluster is not None:
                self.cluster.close()
            _restore_environ(self._environ)
            raise SchedulerError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({e})",
                                 hint="start it (dask scheduler / dask-jobqueue / dask-kubernetes) and pass its "
                                      "address, e.g. tcp://10.0.0.5:8786, or use --scheduler local") from e
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> Iterator[Any]:
        from distributed import as_completed
        for fut in as_completed([self.client.submit(fn, *args, pure=False) for args in calls]):
            res = fut.result()
            fut.release()  # the worker may drop it too
            del fut
            yield res

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def first_done(self, futures: Iterable[Any]) -> set[Any]:
        from distributed import wait
        return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        _restore_environ(self._environ)


def map_in_order(fn: Callable[..., Any], parts: Sequence[Any], *args: Any, jobs: int = 1,
                 scheduler: str | None = None) -> Iterator[Any]:
    """``fn(part, *args)`` for each of ``parts``, in their order, on :func:`executor` (``fork``: ``fn`` must be a
    pure function of its arguments, at module level so a spawned or Dask worker can find it).  Each result is
    handed on as soon as those before it are: only results that finished early wait here."""
    done: dict[int, Any] = {}
    nxt = 0
    with executor(jobs=jobs, scheduler=scheduler, fork=True) as ex:
        for i, result in ex.run(_indexed, [(i, fn, part, args) for i, part in enumerate(parts)]):
            done[i] = result
            del result
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1


def _indexed(i: int, fn: Callable[..., Any], part: Any, args: tuple[Any, ...]) -> tuple[int, Any]:
    return i, fn(part, *args)


class _Flow:
    """Tasks handed to an executor as they come, at most ``limit`` unfinished at a time: submitting more first
    waits for one to finish and hands its result to ``done`` (so what the tasks carry is held for the tasks in
    flight only)."""

    def __init__(self, ex: Any, limit: int, done: Callable[[Any], None]) -> None:
        self.ex, self.limit, self.done = ex, max(1, limit), done
        self.pending: set[Any] = set()

    def put(self, fn: Callable[..., Any], *args: Any) -> None:
        self.pending.add(self.ex.submit(fn, *args))
        while len(self.pending) >= self.limit:
            self._one()

    def _one(self) -> None:
        for fut in self.ex.first_done(self.pending):
            self.pending.discard(fut)
            result = fut.result()
            if hasattr(fut, "release"):  # a Dask future: the worker may drop the result too
                fut.release()
            self.done(result)

    def finish(self) -> None:
        while self.pending:
            self._one()


@contextmanager
def executor(*, jobs: int = 1, scheduler: str | None = None, fork: bool = False) -> Iterator[Any]:
    """Where partitioned work runs: ``scheduler`` (``"local"`` for a LocalCluster of ``jobs`` workers, or the
    address of a running Dask scheduler), else ``jobs`` local processes (forked with ``fork`` where the system
    can fork: only for pure functions of their arguments), else this process (``jobs`` = 1).

    The object has ``run(fn, calls)``, yielding ``fn(*args)`` for each ``args`` of ``calls`` as each finishes
    (in any order), ``name`` and ``workers``.

    Raises
    ------
    SchedulerError
        Dask is not installed, or the scheduler cannot be reached.
    """
    ex: Any
    if scheduler:
        ex = _Dask(scheduler, max(1, jobs))
    elif jobs > 1:
        ex = _Processes(jobs, fork=fork and _can_fork())
    else:
        ex = _Serial()
    try:
        yield ex
    finally:
        if hasattr(ex, "close"):
            ex.close()


# -- the snapshot ---------------------------------------------------------------------------------------------

def write_snapshot(project: Project, data: Any, folder: Path, parts: dict[str, Iterable[int]] | None = None
                   ) -> Snapshot:
    """Copy the store (:func:`_copy_store`), pickle the shared state of ``data`` (a
    :class:`~qualkit.reportdata.ReportData`, without its units) and write, per output of ``parts`` (name → the
    unit ids it reads), the ids into ``folder`` (0700, files 0600): a worker then reads the shared state and the
    part of the output it computes from the store copy (:meth:`ReportData.read_part`), not every unit."""
    store = _copy_store(project, folder)
    files = []
    for i, (name, ids) in enumerate((parts or {}).items()):
        path = folder / f"part-{i}.ids"
        with open(private_file(path), "wb") as fh:
            np.fromiter(sorted(int(x) for x in ids), dtype=np.int64).tofile(fh)
        files.append((name, str(path)))
    return Snapshot(str(project.root), str(store), str(_write_state(data, folder)), tuple(files))


def _copy_store(project: Project, folder: Path) -> Path:
    """Copy the store into ``folder`` (SQLite online backup: a consistent copy even while coders write; the folder
    0700, the copy 0600: it holds the original transcripts)."""
    private_dir(folder)
    store = folder / "store.sqlite"
    store.unlink(missing_ok=True)
    src = sqlite3.connect(project.store.path)
    dst = sqlite3.connect(store)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()
    store.chmod(0o600)
    return store


def _write_state(data: Any, folder: Path) -> Path:
    """Pickle the shared state of ``data`` (:meth:`~qualkit.reportdata.ReportData.shared_state`) into
    ``folder``."""
    state = folder / "state.pkl"
    with open(private_file(state), "wb") as fh:
        _StatePickler(fh, data).dump({k: v for k, v in data.shared_state().items() if k not in _STATE_SKIP})
    return state


def _on_snapshot(project: Project, store: Path) -> Project:
    """``project`` opened anew on the store copy ``store`` (read-only): what the client of a streamed run reads
    its report data from, as its workers do."""
    copy = open_project(project.root)
    copy.__dict__["store"] = SnapshotStore(store)
    return copy


class _StatePickler(pickle.Pickler):
    """Pickles the shared report state; what is tied to this process travels as a name the worker resolves to its
    own: the project (its open store), the NLP pipeline (its cache connection) and the re-identification guard
    (built from the project's configuration)."""

    def __init__(self, fh: Any, data: Any) -> None:
        from .nlp import GermanPipeline
        from .reidentify import Guard
        super().__init__(fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.data = data
        # asked for every object pickled (every string of the unit table): one dictionary look-up by exact type
        self._kinds: dict[type, str] = {Project: "project", GermanPipeline: "pipe", Guard: "guard"}

    def persistent_id(self, obj: Any) -> Any:
        kind = self._kinds.get(type(obj))
        if kind is None:
            return None
        if kind == "guard":
            return ("guard", tuple(self.data.settings.attribution), obj.min_chars)
        return (kind,)


class _StateUnpickler(pickle.Unpickler):
    def __init__(self, fh: Any, project: Project, pipe: Any) -> None:
        super().__init__(fh)
        self.project, self.pipe = project, pipe

    def persistent_load(self, pid: Any) -> Any:
        from .reidentify import Guard
        if pid[0] == "project":
            return self.project
        if pid[0] == "pipe":
            return self.pipe
        if pid[0] == "guard":
            return Guard(self.project, attribution=pid[1], min_chars=pid[2])
        raise pickle.UnpicklingError(f"unknown reference {pid!r} in the report state")


class SnapshotStore(Store):
    """The store snapshot as a worker sees it: a :class:`~qualkit.store.Store` that refuses to write, and keeps
    each query's frame for the worker's life (the copy never changes), but for a query of a part of the
    documents (named in one long parameter: :meth:`ReportData.read_part`), which each task asks once."""

    _KEEP_PARAMS = 512  # characters of a query's parameters up to which its frame is kept

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}

    def frame(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> pd.DataFrame:
        key = (sql, repr(params))
        if len(key[1]) > self._KEEP_PARAMS:
            return super().frame(sql, params)
        if key not in self._frames:
            self._frames[key] = super().frame(sql, params)
        return self._frames[key].copy()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        raise StoreError(f"{self.path}: a worker's store snapshot is read-only",
                         hint="only the process that runs the report writes to the store")
        yield self.con  # pragma: no cover  (makes this a generator, as the contract of transaction)


_LOADED: dict[str, Any] = {}  # per worker process: the snapshot's report data, loaded once


def _open(snapshot: Snapshot) -> Any:
    """The shared report data of ``snapshot`` on a worker: the project opened on the snapshot store, the state
    unpickled, an NLP pipeline that reads the cache and never writes it."""
    if snapshot.state in _LOADED:
        return _LOADED[snapshot.state]
    from .nlp import GermanPipeline
    from .reportdata import ReportData
    _forget_loaded()
    project = open_project(snapshot.root)
    project.__dict__["store"] = SnapshotStore(snapshot.store)
    data = ReportData.__new__(ReportData)
    pipe = GermanPipeline(cache_dir=project.cache_dir, read_only=True)
    with open(snapshot.state, "rb") as fh:  # written by this run's client, 0600, next to the store snapshot
        data.__dict__.update(_StateUnpickler(fh, project, pipe).load())
    data.project = project
    data.pipe = pipe
    _LOADED[snapshot.state] = data
    return data


def _forget_loaded() -> None:
    for old in _LOADED.values():
        old.pipe.close()
        old.project.store.close()
    _LOADED.clear()


# -- tasks ----------------------------------------------------------------------------------------------------

def _nlp_task(texts: list[str]) -> list[Any]:
    """Analyse a batch of texts (no cache: the client stores the results)."""
    from .nlp import GermanPipeline
    with one_thread():
        return GermanPipeline().analyse(texts)


def _agreement_pair(data: Any) -> list[str] | None:
    """The coders the overview compares: the report's first two if it names two, else the two the adjudication
    compares (:func:`qualkit.adjudication.default_coders`); None without a second coder.  Not the counted
    labels' coders: the counting rule takes one coder per document."""
    from .adjudication import default_coders
    from .errors import QualkitError
    try:
        return list(data.settings.coders[:2]) if len(data.settings.coders) >= 2 else list(default_coders(data.project))
    except QualkitError:  # fewer than two coders: nothing to compare
        return None


def _agreement_documents(data: Any) -> set[str]:
    """The documents both coders of :func:`_agreement_pair` have a coding in (of any origin)."""
    from .units import documents_of_all_sql
    pair = _agreement_pair(data)
    return set() if pair is None else {str(r[0]) for r in data.project.store.query(*documents_of_all_sql(pair))}


def _agreement_units(data: Any, documents: set[str] | None = None) -> set[int]:
    """The units the overview's intercoder agreement reads (:func:`_agreement`): those of the documents both
    coders of the pair have a coding in (``documents``, if the caller has them: :func:`_agreement_documents`;
    counted or duplicate submissions; more than it compares, which it selects itself)."""
    docs = _agreement_documents(data) if documents is None else documents
    if not docs:
        return set()
    units = data.all_units
    return set(units.unit_id[units.document_id.isin(docs)].tolist())


def _agreement(data: Any) -> Any:
    """The intercoder agreement the overview reports, of :func:`_agreement_pair`; None without a second coder
    or without a document both coded."""
    from .agreement import agreement
    pair = _agreement_pair(data)
    if pair is None:
        return None
    try:
        units = data.all_units  # built once for the three levels
        res = {lvl: agreement(data.project, coders=pair, level=lvl, units=units)
               for lvl in ("document", "unit", "segment")}
        return res if res["document"].documents else None  # no document both coded in the primary dimension
    except Exception as e:  # agreement is optional content; the reason goes into the log
        log.warning("intercoder agreement not computed: %s", e)
        return None


Output = tuple[list[Block], dict[str, bytes], list[Any], dict[str, Any]]


def output_blocks(data: Any, name: str, code: str) -> Output:
    """One output of the report computed on ``data``: its blocks, its figures (file name → PNG bytes), the NLP
    analyses its pipeline had to make (for the cache) and the quotes it considered (key → quote, for the run's
    quote summary)."""
    from .reports import _blocks_for, _output_kind
    agree = _agreement(data) if _output_kind(name) == "overview" else None
    with tempfile.TemporaryDirectory(prefix="qk-fig-") as tmp:
        blocks = _blocks_for(data, name, code, Path(tmp), agree)
        figures = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.is_file()}
    new = list(getattr(data.pipe, "new", []))
    if new:
        data.pipe.new.clear()
    quotes = dict(data.quote_picker.shown)
    data.quote_picker.shown.clear()
    data.forget_selections()  # a worker keeps no output's units into the next
    return blocks, figures, new, quotes


def _output_task(snapshot: Snapshot, name: str, code: str) -> tuple[str, list[Block], dict[str, bytes], list[Any],
                                                                     dict[str, Any]]:
    with one_thread():  # as in the client: the same sums in the same order (see qualkit._blas)
        shared = _open(snapshot)
        ids = np.fromfile(snapshot.part(name), dtype=np.int64)  # written by this run's client, 0600
        return name, *output_blocks(shared.restricted(shared.read_part(ids)), name, code)


# -- the client -----------------------------------------------------------------------------------------------

def _batches(texts: Sequence[str], words: int) -> list[list[str]]:
    out: list[list[str]] = [[]]
    n = 0
    for t in texts:
        if n >= words and out[-1]:
            out.append([])
            n = 0
        out[-1].append(t)
        n += len(t.split())
    return [b for b in out if b]


def _nlp_texts(data: Any) -> list[str]:
    """The texts the outputs analyse: original and pseudonymised text of every unit with a counted coding."""
    u = data.units[data.units.unit_id.isin(set(data.labels.unit_id))].sort_values("unit_id")
    return [t for pair in zip(u.text, u.ptext) for t in pair]


def _cost(data: Any, name: str, code: str) -> int:
    """About how heavy an output is (units it works on): the heaviest is scheduled first.  The overview compares
    coders over every unit."""
    from .reports import _output_kind
    if _output_kind(name) == "overview":
        return int(data.labels.unit_id.nunique())
    if not code:
        return 0
    names = set(data.cb.descendants(code)) | {code}
    return int(data.labels.unit_id[data.labels.code.isin(names)].nunique())


def holds_whole(project: Project, scheduler: str | None = None, min_units: int = MIN_UNITS) -> bool:
    """Whether the report process holds the report data whole (a corpus below ``min_units`` units, prepared in
    this process or on workers forked from it) rather than reading it in batches (a larger corpus, or any on a
    Dask cluster: :func:`_prepare_streamed`)."""
    from .units import _STATEMENT
    if scheduler:
        return False
    return int(project.store.query(f"SELECT count(*) FROM units u WHERE {_STATEMENT}")[0][0]) < min_units


class _Writer:
    """The client's side of every way of preparing: it writes each finished output (figures, blocks, the NLP
    analyses its task made, the quotes it considered) and, at the end, the run's quote counts."""

    def __init__(self, data_dir: Path, fig_dir: Path, on_ready: Callable[[str], None] | None, deferred: bool
                 ) -> None:
        self.data_dir, self.fig_dir, self.on_ready, self.deferred = data_dir, fig_dir, on_ready, deferred
        self.quotes: dict[str, Any] = {}
        self.written: list[str] = []

    def write(self, data: Any, name: str, blocks: list[Block], figures: dict[str, bytes], new: list[Any],
              shown: dict[str, Any]) -> None:
        for fname, content in figures.items():
            (self.fig_dir / fname).write_bytes(content)
        blocks_to_json(blocks, self.data_dir / f"{name}.json")
        if new:
            data.pipe.add(new)
        for key, q in shown.items():
            self.quotes.setdefault(key, q)
        if self.on_ready is not None and not self.deferred:
            self.on_ready(name)
        self.written.append(name)

    def run(self, ex: Any, task: Callable[..., Any], calls: list[tuple[Any, ...]], data: Any,
            say: Callable[[str], None]) -> float:
        """Every output's task on ``ex`` (``calls`` heaviest first), each written as it finishes, then the run's
        quote counts; returns the seconds it took."""
        t = time.perf_counter()
        for done, (name, blocks, figures, new, shown) in enumerate(ex.run(task, calls), 1):
            self.write(data, name, blocks, figures, new, shown)
            say(f"prepared [{done}/{len(calls)}] {name}")
        self.finish(data)
        return time.perf_counter() - t

    def finish(self, data: Any) -> None:
        # the run's quotes by release status, as one picker would have counted them (a quote is counted once)
        data.quote_picker.shown = self.quotes
        (self.data_dir / "quotes.json").write_text(json.dumps(data.quote_picker.summary()), encoding="utf-8")

    def announce(self) -> None:
        """Announce what was written, if that waited for the local workers (their cores are free now)."""
        if self.deferred and self.on_ready is not None:
            for name in self.written:
                self.on_ready(name)


def prepare_outputs(project: Project, names: Iterable[tuple[str, str, dict[str, Any]]], settings: Any,
                    data_dir: Path, fig_dir: Path, *, jobs: int = 1, scheduler: str | None = None,
                    progress: Callable[[str], None] | None = None, min_units: int = MIN_UNITS,
                    on_ready: Callable[[str], None] | None = None, fork: bool | None = None,
                    background: bool = False) -> PrepareResult:
    """Compute every output's blocks into ``data_dir/<name>.json`` and its figures into ``fig_dir``, calling
    ``on_ready(name)`` as soon as an output is written (the report starts its notebook then).

    ``names`` are ``(output name, notebook, parameters)`` as the report runs them.  A corpus below ``min_units``
    units (a district's few thousand) is held whole in this process (:class:`~qualkit.reportdata.ReportData`):
    with ``jobs`` = 1 (or where the system cannot fork, or ``fork=False``) every output is computed here, else on
    workers forked with it (Linux, macOS: no start-up, they share its memory), the NLP in batches first.  A
    larger corpus, or any on a Dask cluster (``scheduler``), is never held whole (:func:`_prepare_streamed`):
    this process reads a copy of the store in batches of whole cases, and each output's task reads its own
    units from that copy; ``jobs`` local processes (forked where the system can, else spawned) or the cluster's
    workers compute them, or this process with ``jobs`` = 1.  Results are the same bytes every way.  Where local
    workers do the work, ``on_ready`` is called once they are done (their cores are busy until then), unless
    ``background`` says that what it starts runs at a low priority (the report's notebook kernels on Linux):
    then it is called at once, and that work fills the workers' idle moments.

    Raises
    ------
    SchedulerError
        ``scheduler`` is given but Dask is missing or the scheduler cannot be reached.
    """
    say = progress or (lambda s: log.info(s))
    names = list(names)
    if not holds_whole(project, scheduler, min_units):
        return _prepare_streamed(project, names, settings, data_dir, fig_dir, jobs=jobs, scheduler=scheduler,
                                 say=say, on_ready=on_ready, fork=fork, background=background)
    from .reportdata import ReportData
    result = PrepareResult()
    t = time.perf_counter()
    data = ReportData(project, settings)
    data.findings  # noqa: B018 - read once here: every chapter reads them, and workers inherit them
    project.store.forget_frames()  # the store's own copies of the unit table and labels (data holds its copies)
    release_memory()  # what reading and building them freed: workers forked next would share those pages
    result.timings["data"] = time.perf_counter() - t
    fork = fork is not False and jobs > 1 and _can_fork()
    out = _Writer(data_dir, fig_dir, on_ready, deferred=fork and not background)
    try:
        if not fork:
            t = time.perf_counter()
            for name, _nb, params in names:
                out.write(data, name, *output_blocks(data, name, params.get("code", "")))
            out.finish(data)
            result.timings["outputs"] = time.perf_counter() - t
            return result
        with _forked(jobs, data) as ex:
            result.executor, result.workers = ex.name, ex.workers
            t = time.perf_counter()
            todo = data.pipe.missing(_nlp_texts(data))
            result.nlp_texts = len(todo)
            batches = _batches(todo, max(1_000, min(BATCH_WORDS, sum(len(x.split()) for x in todo) // ex.workers + 1)))
            for analyses in ex.run(_nlp_task, [(b,) for b in batches]):
                data.pipe.add(analyses)
            result.timings["nlp"] = time.perf_counter() - t
            say(f"NLP: {len(todo)} text(s) in {len(batches)} batch(es) on {ex.workers} {ex.name} worker(s)")
            order = sorted(names, key=lambda n: -_cost(data, n[0], n[2].get("code", "")))
            result.timings["outputs"] = out.run(ex, _forked_output, [(name, params.get("code", ""))
                                                                    for name, _nb, params in order], data, say)
        out.announce()
    finally:
        data.pipe.close()
    return result


def _prepare_streamed(project: Project, names: list[tuple[str, str, dict[str, Any]]], settings: Any,
                      data_dir: Path, fig_dir: Path, *, jobs: int, scheduler: str | None, say: Callable[[str], None],
                      on_ready: Callable[[str], None] | None, fork: bool | None, background: bool) -> PrepareResult:
    """:func:`prepare_outputs` of a corpus the client does not hold: the store is copied first (the client and
    every worker read that copy), the client reads it in batches of whole cases (:meth:`ReportData.streamed`)
    and takes from each batch its bases, the ids of the units each output reads (to a file per output) and the
    texts to analyse (NLP tasks, handed to the workers as they come, at most two per worker unfinished); then
    each output is one task that reads its own part from the copy.  The client holds one batch at a time."""
    from .reportdata import ReportData
    from .reports import _units_for
    result = PrepareResult()
    forking = fork is not False and not scheduler and jobs > 1 and _can_fork()
    out = _Writer(data_dir, fig_dir, on_ready, deferred=not background and not scheduler and jobs > 1)
    snap_dir = project.cache_dir / "snapshot" / f"{os.getpid()}-{time.time_ns()}"
    data = None
    try:
        t = time.perf_counter()
        snap = _on_snapshot(project, _copy_store(project, snap_dir))
        result.timings["snapshot"] = time.perf_counter() - t
        if forking:  # the workers share what computing an output loads instead of loading their own
            _preload()
        with executor(jobs=jobs, scheduler=scheduler, fork=forking) as ex:
            result.executor, result.workers = ex.name, ex.workers
            t = time.perf_counter()
            paths = {name: snap_dir / f"part-{i}.ids" for i, (name, _nb, _p) in enumerate(names)}
            files = {name: open(private_file(path), "wb") for name, path in paths.items()}  # noqa: SIM115
            sizes: dict[str, int] = dict.fromkeys(paths, 0)
            inflight: set[str] = set()
            counts = {"texts": 0, "batches": 0}

            def analysed(analyses: list[Any]) -> None:
                pipe.add(analyses)
                inflight.difference_update(a.sha256 for a in analyses)

            flow = _Flow(ex, 2 * ex.workers, analysed)
            pipe: Any = None
            agree: set[str] | None = None

            def visit(batch: Any) -> None:
                nonlocal pipe, agree
                pipe = batch.pipe
                if agree is None:
                    agree = _agreement_documents(batch)
                for name, _nb, params in names:
                    ids = np.fromiter(sorted(_units_for(batch, name, params.get("code", ""), agree)), dtype=np.int64)
                    ids.tofile(files[name])
                    sizes[name] += len(ids)
                todo = []
                for text in pipe.missing(_nlp_texts(batch)):
                    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
                    if key not in inflight:
                        inflight.add(key)
                        todo.append(text)
                counts["texts"] += len(todo)
                for b in _batches(todo, BATCH_WORDS):
                    counts["batches"] += 1
                    flow.put(_nlp_task, b)

            try:
                data = ReportData.streamed(snap, settings, visit)
                result.timings["data"] = time.perf_counter() - t
                t = time.perf_counter()
                flow.finish()  # the NLP tasks still running when the last batch was read
                result.timings["nlp"] = time.perf_counter() - t
            finally:
                for fh in files.values():
                    fh.close()
            snapshot = Snapshot(str(project.root), str(snap.store.path), str(_write_state(data, snap_dir)),
                                tuple((name, str(path)) for name, path in paths.items()))
            result.nlp_texts = counts["texts"]
            say(f"NLP: {counts['texts']} text(s) in {counts['batches']} batch(es) on {ex.workers} {ex.name} "
                "worker(s), as the report data was read")
            order = sorted(names, key=lambda n: -sizes[n[0]])
            result.timings["outputs"] = out.run(ex, _output_task, [(snapshot, name, params.get("code", ""))
                                                                   for name, _nb, params in order], data, say)
        out.announce()
    finally:
        if data is not None:
            data.pipe.close()
        _forget_loaded()  # what the outputs run in this process (serial) loaded from the snapshot
        shutil.rmtree(snap_dir, ignore_errors=True)
    return result
