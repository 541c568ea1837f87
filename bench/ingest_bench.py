"""Ingest throughput (words/s) on the example corpus scaled ×1, ×10, ×100, against a baseline of merely
reading and decoding the same files, in the same run.  Writes docs/benchmarks/ingest.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, scale_project, write_result
from qualkit._text import count_words, decode
from qualkit.corpus import ingest
from qualkit.project import open_project


def main(factors: tuple[int, ...] = (1, 10, 100)) -> None:
    rows = []
    for f in factors:
        root = scale_project(f)
        files = sorted((root / "transcripts").rglob("*.txt")) + sorted((root / "transcripts").rglob("*.csv"))
        t = time.perf_counter()
        words = 0
        for p in files:
            text, _ = decode(p.read_bytes(), p)
            words += count_words(text)
        base = time.perf_counter() - t
        project = open_project(root)
        t = time.perf_counter()
        ingest(project)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        ingest(open_project(root))
        again = time.perf_counter() - t
        docs = project.store.query("SELECT count(*) FROM documents")[0][0]
        codings = project.store.query("SELECT count(*) FROM codings")[0][0]
        rows.append({"factor": f, "files": len(files), "documents": docs, "codings": codings, "words": words,
                     "read_decode_s": round(base, 3), "ingest_s": round(cold, 3), "reingest_unchanged_s": round(again, 3),
                     "words_per_s": round(words / cold), "baseline_words_per_s": round(words / base)})
        print(rows[-1], flush=True)
    lines = ["# Ingest benchmark", "", f"Machine: {machine()}. Command: `python bench/ingest_bench.py`.", "",
             "| scale | files | documents | codings | words | read+decode (baseline) s | ingest s | re-ingest (unchanged) s "
             "| ingest words/s | baseline words/s | cost per word vs ×1 |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    per_word1 = rows[0]["ingest_s"] / rows[0]["words"]
    for r in rows:
        lines.append(f"| ×{r['factor']} | {r['files']} | {r['documents']} | {r['codings']} | {r['words']:,} | "
                     f"{r['read_decode_s']} | {r['ingest_s']} | {r['reingest_unchanged_s']} | {r['words_per_s']:,} | "
                     f"{r['baseline_words_per_s']:,} | {r['ingest_s'] / r['words'] / per_word1:.2f} |")
    lines += ["", "A cost per word near 1.0 at ×10 and ×100 means ingest grows linearly with the corpus. "
              "Ingest includes parsing, validation of every reference coding against the text, and one SQLite "
              "transaction; re-ingesting unchanged files only hashes them."]
    write_result("ingest", "\n".join(lines) + "\n", rows)


if __name__ == "__main__":
    main(tuple(int(x) for x in sys.argv[1:]) or (1, 10, 100))
