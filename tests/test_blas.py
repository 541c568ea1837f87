from __future__ import annotations

import os
import subprocess
import sys

from qualkit._blas import blas_kernels


def test_blas_kernels_name_what_openblas_chose_and_follow_openblas_coretype() -> None:
    """The manifest's ``versions.blas`` names the kernels OpenBLAS chose for this processor; starting Python
    with OPENBLAS_CORETYPE (how a run of another machine is reproduced) changes what it names."""
    from threadpoolctl import threadpool_info
    here = blas_kernels()
    archs = {i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"}
    assert here.startswith("openblas ") and all(a in here for a in archs if a)
    code = "from qualkit._blas import blas_kernels; print(blas_kernels())"
    for core in ("Haswell", "Sandybridge"):  # both run on any x86-64 processor with AVX2
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "OPENBLAS_CORETYPE": core}).stdout.strip()
        assert out.startswith("openblas ") and out.endswith(core) and core in out.split("; ")[0]
