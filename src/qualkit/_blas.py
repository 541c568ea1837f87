"""One BLAS and one OpenMP thread for qualkit's numerical work.

qualkit's matrices are small (a code's statements × its vocabulary).  OpenBLAS starts one thread per core
and lets idle threads spin; on 2 cores that are busy with notebook kernels, the PDF or other users, the
spinning costs many times the work itself (theme finding on the example: 14 s with the default threads on a
busy machine, 2.5 s with one).  One thread also sums in a fixed order, so results do not depend on the machine's
core count.

OpenMP (scikit-learn's KMeans runs on GCC's ``libgomp``) is held to one thread for the same reason, and for a
second one: ``libgomp`` is not safe across ``fork``.  Once a process has run a parallel region on several
threads, a process forked from it that enters one waits for ever for threads that were never copied (a notebook
that clustered with ``method="kmeans"`` before starting a report would hang the report's forked workers;
``tests/test_prepare.py`` shows it).  Forked workers therefore start with one thread for life
(:func:`one_thread_for_life`), whatever their parent did.

They can depend on the processor: OpenBLAS picks its kernels for it (AVX-512 ``SkylakeX``, AVX2 ``Haswell``, used
on AMD Zen too), and their sums can differ in the last bits.  Where a clustering is nearly tied, that can change
it: KMeans at k=2 on the 20 texts of ``tests/test_themes.py`` gives a coherence of 0.2069 with SkylakeX kernels
and 0.0071 with Haswell ones (the chosen k and its themes are the same).  A report's manifest therefore names
the kernels (``versions.blas``, :func:`blas_kernels`), and a run of another machine is reproduced exactly by
starting qualkit with ``OPENBLAS_CORETYPE`` set to the architecture its manifest names.
"""

from __future__ import annotations

from typing import Any

from threadpoolctl import threadpool_limits


def _load_blas() -> None:
    """Load numpy's and scipy's BLAS (each wheel bundles its own OpenBLAS) and scikit-learn's OpenMP runtime:
    threadpoolctl sees only libraries already loaded, and one loaded later would run on every core."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import sklearn.utils._openmp_helpers  # noqa: F401


def one_thread() -> Any:
    """A context manager limiting every BLAS library numpy and scipy use, and OpenMP, to one thread."""
    _load_blas()
    return threadpool_limits(limits=1)


def one_thread_for_life() -> None:
    """Limit BLAS and OpenMP to one thread for the rest of this process: the first thing a forked worker does."""
    _load_blas()
    threadpool_limits(limits=1)


def blas_kernels() -> str:
    """The BLAS libraries numpy and scipy use, with their versions and the kernels chosen for this processor
    (``openblas 0.3.30 Haswell; …``): what a report's results can depend on besides the package versions."""
    from threadpoolctl import threadpool_info
    _load_blas()
    found = sorted({f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')}".strip()
                    for i in threadpool_info() if i.get("user_api") == "blas"})
    return "; ".join(found) or "none loaded"
