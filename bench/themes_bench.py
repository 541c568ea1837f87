"""Theme clustering against the subcodes of the reference coding (coder A).

For each Handlungsfeld, the units coded with exactly one of its subcodes are clustered with the number of
themes set to the number of subcodes (so the methods compare fairly), and with k chosen by each criterion
(coherence, as in the reports, and silhouette) over k = 2…8; adjusted Rand index and NMI against the subcodes,
beside a random assignment (mean of 20 seeds).  Methods: NMF (default), KMeans, agglomerative.  Runtime on the
example corpus and on the corpus ×10.
Writes docs/benchmarks/themes.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project, machine, scale_project, write_result
from qualkit.corpus import ingest
from qualkit.nlp import GermanPipeline
from qualkit.project import open_project
from qualkit.themes import cluster_texts, find_themes
from qualkit.units import unit_labels, unit_table


def main() -> None:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    project = open_project(copy_project())
    ingest(project)
    cb = project.codebook
    lab = unit_labels(project, coders=["A"])
    units = unit_table(project).set_index("unit_id")
    pipe = GermanPipeline(cache_dir=project.cache_dir)
    rows = []
    for field in cb.primary.codes:
        subs = [c.name for c in cb.children(field)]
        sub = lab[lab.code.isin(subs)]
        single = sub.groupby("unit_id").code.agg(set)
        single = single[single.map(len) == 1].map(lambda s: next(iter(s)))
        ids = [u for u in single.index if units.loc[u, "language"] in ("de", "und", None)]
        truth = np.array([subs.index(single[u]) for u in ids])
        analyses = pipe.analyse([units.loc[u, "text"] for u in ids])
        row = {"field": field, "units": len(ids), "subcodes": len(subs)}
        for method in ("kmeans", "nmf", "agglomerative"):
            k = len(subs)
            t = time.perf_counter()
            pred = cluster_texts(analyses, k_range=(k, k), min_size=1, method=method,
                                 random_state=project.seed).labels_
            row[f"{method}_s"] = round(time.perf_counter() - t, 2)
            row[f"{method}_ari"] = round(adjusted_rand_score(truth, pred), 3)
            row[f"{method}_nmi"] = round(normalized_mutual_info_score(truth, pred), 3)
        for crit in ("coherence", "silhouette"):
            pred = cluster_texts(analyses, min_size=5, random_state=project.seed, criterion=crit).labels_
            row[f"{crit}_k"] = int(pred.max()) + 1
            row[f"{crit}_ari"] = round(adjusted_rand_score(truth, pred), 3)
        rng = np.random.default_rng(0)
        rand = [(adjusted_rand_score(truth, rng.integers(0, len(subs), len(ids))),
                 normalized_mutual_info_score(truth, rng.integers(0, len(subs), len(ids)))) for _ in range(20)]
        row["random_ari"] = round(float(np.mean([r[0] for r in rand])), 3)
        row["random_nmi"] = round(float(np.mean([r[1] for r in rand])), 3)
        rows.append(row)
        print(row, flush=True)
    timing = {}
    for factor in (1, 10):
        p = open_project(scale_project(factor) if factor > 1 else copy_project())
        ingest(p)
        GermanPipeline(cache_dir=p.cache_dir).analyse(list(unit_table(p).text))  # warm NLP cache, timed apart
        t = time.perf_counter()
        for field in cb.primary.codes:
            find_themes(p, field)
        timing[factor] = round(time.perf_counter() - t, 2)
    lines = ["# Theme clustering benchmark", "", f"Machine: {machine()}. Command: `python bench/themes_bench.py`.", "",
             "Units of each Handlungsfeld that coder A gave exactly one subcode; k = number of subcodes. "
             "ARI = adjusted Rand index, NMI = normalised mutual information against the subcodes; random = mean "
             "of 20 random assignments with the same k.", "",
             "| Handlungsfeld | units | k | KMeans ARI | KMeans NMI | NMF ARI | NMF NMI | Agglom. ARI | Agglom. NMI "
             "| random ARI | random NMI | k by coherence | its ARI | k by silhouette | its ARI |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['field']} | {r['units']} | {r['subcodes']} | {r['kmeans_ari']} | {r['kmeans_nmi']} | "
                     f"{r['nmf_ari']} | {r['nmf_nmi']} | {r['agglomerative_ari']} | {r['agglomerative_nmi']} | "
                     f"{r['random_ari']} | {r['random_nmi']} | {r['coherence_k']} | {r['coherence_ari']} | "
                     f"{r['silhouette_k']} | {r['silhouette_ari']} |")
    mean = {m: round(float(np.mean([r[f"{m}_ari"] for r in rows])), 3) for m in ("kmeans", "nmf", "agglomerative",
                                                                                "random", "coherence", "silhouette")}
    lines += ["", f"Mean ARI: KMeans {mean['kmeans']}, NMF {mean['nmf']}, agglomerative {mean['agglomerative']}, "
              f"random {mean['random']}. With k chosen by the method (NMF): coherence {mean['coherence']}, "
              f"silhouette {mean['silhouette']}.", "",
              "## Runtime of `find_themes` for all seven Handlungsfelder (NLP cache warm)", "",
              f"- example corpus: {timing[1]} s", f"- corpus ×10: {timing[10]} s "
              f"({timing[10] / max(timing[1], 1e-9):.1f}× the time for 10× the units)", ""]
    write_result("themes", "\n".join(lines) + "\n", {"rows": rows, "timing": timing, "mean_ari": mean})


if __name__ == "__main__":
    main()
