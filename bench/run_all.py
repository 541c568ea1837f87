"""Run every benchmark; results go to docs/benchmarks/."""

import runpy
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
for name in ("ingest_bench", "autocode_bench", "themes_bench", "privacy_bench", "report_bench"):
    print(f"== {name}", flush=True)
    sys.argv = [name]
    runpy.run_path(str(here / f"{name}.py"), run_name="__main__")
