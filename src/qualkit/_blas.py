"""One BLAS thread for qualkit's numerical work.

qualkit's matrices are small (a code's statements × its vocabulary).  OpenBLAS starts one thread per core
and lets idle threads spin; on 2 cores that are busy with notebook kernels, the PDF or other users, the
spinning costs many times the work itself (theme finding on the example: 14 s with the default threads on a
busy machine, 2.5 s with one).  One thread also sums in a fixed order, so results do not depend on the machine's
core count.
"""

from __future__ import annotations

from typing import Any

from threadpoolctl import threadpool_limits


def one_blas_thread() -> Any:
    """A context manager limiting every loaded BLAS library to one thread.

    threadpoolctl limits only libraries already loaded, so numpy's and scipy's (each wheel bundles its own
    OpenBLAS) are loaded first."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401

    return threadpool_limits(limits=1, user_api="blas")
