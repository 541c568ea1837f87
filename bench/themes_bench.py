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
from qualkit.themes import MAX_FIT, ThemeClusterer, cluster_texts, find_themes
from qualkit.units import unit_labels, unit_table

SAMPLES = (60, 120, 240)  # sample sizes of the max_fit test (each field has 211 to 556 such units)


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
        # fitted on a seeded sample of SAMPLES texts (max_fit), every text then assigned: how close the themes
        # stay to the subcodes and to the themes fitted on all texts (mean of 5 sample seeds)
        whole = cluster_texts(analyses, k_range=(k, k), min_size=1, method="nmf", random_state=project.seed).labels_
        for size in SAMPLES:
            if size >= len(ids):
                continue
            fits = [ThemeClusterer(k_range=(k, k), min_size=1, method="nmf", random_state=seed,
                                   max_fit=size).fit(analyses).labels_ for seed in range(5)]
            row[f"sample{size}_ari"] = round(float(np.mean([adjusted_rand_score(truth, f) for f in fits])), 3)
            row[f"sample{size}_whole"] = round(float(np.mean([adjusted_rand_score(whole, f) for f in fits])), 3)
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
              "## Themes fitted on a sample", "",
              f"A code with more than {MAX_FIT:,} units has its themes fitted on a seeded sample of {MAX_FIT:,} "
              "(`ThemeClusterer(max_fit=…)`), and every unit is then assigned to its theme. The example has no code "
              "that large, so samples of " + ", ".join(map(str, SAMPLES)) + " units are tested on each field (NMF, "
              "k = number of subcodes, mean of 5 sample seeds): ARI against the subcodes (to compare with the fit on "
              "all units) and ARI against the themes of the fit on all units.", "",
              "| Handlungsfeld | units | all: ARI | " + " | ".join(f"{n}: ARI | {n}: ARI to all" for n in SAMPLES)
              + " |", "|---|---|---|" + "---|---|" * len(SAMPLES)]
    for r in rows:
        lines.append(f"| {r['field']} | {r['units']} | {r['nmf_ari']} | " + " | ".join(
            f"{r.get(f'sample{n}_ari', '–')} | {r.get(f'sample{n}_whole', '–')}" for n in SAMPLES) + " |")
    by_size = {n: round(float(np.mean([r[f"sample{n}_ari"] for r in rows if f"sample{n}_ari" in r])), 3)
               for n in SAMPLES if any(f"sample{n}_ari" in r for r in rows)}
    lines += ["", "Mean ARI against the subcodes, by sample size: " + ", ".join(
              f"{n} units {v}" for n, v in by_size.items()) + f"; all units {mean['nmf']}. Themes found on a few "
              "hundred texts still change with every text added, so the sample is not made smaller than "
              f"{MAX_FIT:,}, though a smaller one would be faster.", "",
              "## Runtime of `find_themes` for all seven Handlungsfelder (NLP cache warm)", "",
              f"- example corpus: {timing[1]} s", f"- corpus ×10: {timing[10]} s "
              f"({timing[10] / max(timing[1], 1e-9):.1f}× the time for 10× the units)", ""]
    write_result("themes", "\n".join(lines) + "\n", {"rows": rows, "timing": timing, "mean_ari": mean,
                                                      "sample_mean_ari": by_size})


if __name__ == "__main__":
    main()
