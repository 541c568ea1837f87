"""Run every benchmark (results in docs/benchmarks/) and put a summary into the README."""

import json
import runpy
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
repo = here.parent
docs = repo / "docs" / "benchmarks"


def summary() -> str:
    def load(name: str) -> dict:
        p = docs / f"{name}.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}

    lines = ["| benchmark | result (computed by the scripts in bench/) |", "|---|---|"]
    ing = load("ingest")
    if ing:
        lines.append("| [ingest](docs/benchmarks/ingest.md) | " + "; ".join(
            f"×{r['factor']}: {r['words_per_s']:,} words/s" for r in ing) + " |")
    ac = load("autocode")
    if ac:
        r = ac["results"]
        lines.append(f"| [auto-coding](docs/benchmarks/autocode.md) | micro-F1 held out: combined "
                     f"{r['all']['combined']['micro']:.2f} (interviews {r['interviews']['combined']['micro']:.2f}, "
                     f"survey {r['survey']['combined']['micro']:.2f}); classifier {r['all']['classifier']['micro']:.2f};"
                     f" keywords {r['all']['rules']['micro']:.2f}; second human coder "
                     f"{ac.get('human_f1', float('nan')):.2f} (target 0.80) |")
    av = load("autocode-variants")
    if av:
        best = max(av, key=lambda k: av[k][0])
        lines.append(f"| [auto-coding variants](docs/benchmarks/autocode-variants.md) | best of sentence-window and "
                     f"subcode variants: {best}, micro-F1 {av[best][0]:.2f} |")
    lc = load("learning-curve")
    if lc:
        pt = lc["points"]
        fr = [f for f in (5, 10, 25, 50) if f"{f}% proposed" in pt]
        cv = f"; 100 % (CV) {pt['100% cv']['micro']:.2f}" if "100% cv" in pt else ""
        lines.append("| [learning curve](docs/benchmarks/learning-curve.md) | micro-F1 on the rest with "
                     + "/".join(map(str, fr)) + f" % coded ({len(lc['seeds'])} seeds), proposed order: "
                     + "/".join(f"{pt[f'{f}% proposed']['micro']:.2f}" for f in fr) + "; random order: "
                     + "/".join(f"{pt[f'{f}% random']['micro']:.2f}" for f in fr)
                     + f"; rules alone {pt['5% random']['rules_micro']:.2f}{cv}; second human coder "
                     f"{lc['human_f1']:.2f} |")
    rf = load("autocode-refresh")
    if rf:
        t, q = rf["timing"], rf["quality"]
        lines.append(f"| [refresh after a coding](docs/benchmarks/autocode-refresh.md) | warm "
                     f"{t['next_codings_median_s']:.2f} s ({t['next_codings_median_cpu_s']:.2f} s CPU), first coding "
                     f"of a document {t['first_coding_of_document_s']:.2f} s, cold session "
                     f"{t['cold']['first_refresh_s']:.1f} s; micro-F1 live {q['live_mean'][0]:.3f} vs full fit "
                     f"{q['full_mean'][0]:.3f} |")
    sp = load("autocode-spans")
    if sp:
        lines.append(f"| [spans in long turns](docs/benchmarks/autocode-spans.md) | span F1 (characters) "
                     f"{sp['span']['f1']:.2f} vs whole turn {sp['whole']['f1']:.2f}; passage micro-F1 from spans "
                     f"{sp['passage_f1_from_spans']:.2f}, passages alone {sp['passage_f1_alone']:.2f} |")
    th = load("themes")
    if th:
        m = th["mean_ari"]
        lines.append(f"| [themes](docs/benchmarks/themes.md) | mean ARI vs subcodes (k fixed): NMF {m['nmf']}, KMeans "
                     f"{m['kmeans']}, agglomerative {m['agglomerative']}, random {m['random']}; k by coherence "
                     f"{m.get('coherence')}, by silhouette {m.get('silhouette')}; all fields {th['timing']['1']} s "
                     f"(×10: {th['timing']['10']} s) |")
    pr = load("privacy")
    if pr:
        lines.append(f"| [pseudonymisation](docs/benchmarks/privacy.md) | recall {pr['recall']:.3f}, precision "
                     f"{pr['precision']:.3f} on {pr['planted']} planted names; {pr['learn_s'] + pr['apply_s']:.1f} s |")
    ex = load("export")
    if ex:
        lines.append("| [export](docs/benchmarks/export.md) | one transcript, export_xlsx: " + "; ".join(
            f"{r['label']}: {r['export_xlsx_s']} s" for r in ex) + " |")
    rp = load("report")
    if rp:
        cold, warm = rp["example, cold"], rp["example, warm (all caches)"]
        x10 = f", ×10 cold {rp['example ×10, cold']['wall']} s" if "example ×10, cold" in rp else ""
        pdf = f"; the PDF alone {rp['pdf']['cpu']} s CPU ({rp['pdf']['pages']} A4 pages)" if "pdf" in rp else ""
        lines.append(f"| [report](docs/benchmarks/report.md) | cold {cold['wall']} s (load {cold.get('load', '?')}), "
                     f"warm {warm['wall']} s{x10}{pdf} (targets: ≤ 30 s cold, ≤ 15 s warm) |")
    cv, cp = load("coding-view"), load("coding-view-python")
    if cv:
        a = cv["actions"]
        acts = [k for k in ("code", "memo", "recode", "delete", "undo", "redo", "accept") if k in a]
        py = (f"; Python side {min(cp['actions'][k]['answer_ms'] for k in acts if k in cp['actions'])}–"
              f"{max(cp['actions'][k]['answer_ms'] for k in acts if k in cp['actions'])} ms with the reference "
              f"codings, reply ≈ {cp['actions']['code']['reply_bytes']} bytes" if cp else "")
        lines.append("| [coding view](docs/benchmarks/coding-view.md) | browser, action → drawn, median: "
                     + ", ".join(f"{k} {a[k]['median_ms']:.0f} ms" for k in acts) + f" (target < 200 ms){py} |")
    scale = load("scale")
    sc = scale.get("runs", {})
    hosts = [v["host_s"] for v in [*sc.values(), *scale.get("history", [])] if v.get("host_s")]
    if sc:
        runs = sorted((int(k.split("|")[0]), k.split("|")[1], v) for k, v in sc.items() if not k.endswith("|serial"))
        lines.append("| [scale](docs/benchmarks/scale.md) | cold report: " + "; ".join(
            f"×{f} {m} {v['wall']} s ({v.get('cpu_s', '?')} CPU s, machine load {v.get('load', '?')}, host s "
            f"{v.get('host_s', '?')}), {v['peak_total_gb']} GB"
            for f, m, v in runs) + f" (host s: how slow the host was; {min(hosts, default='?')} on the fastest "
            "measured) |")
    client = load("client")
    if client:
        top = max(int(k.split("|")[0]) for k in client)
        w, st = client.get(f"{top}|whole"), client.get(f"{top}|streamed")
        if w and st:
            lines.append(f"| [the report client's memory](docs/benchmarks/client.md) | data allocated at ×{top}, read "
                         f"in {st['batches']} batches: peak {st['peak_mb']} MB, held {st['held_mb']} MB; held whole: "
                         f"peak {w['peak_mb']} MB, held {w['held_mb']} MB |")
    parts = load("partitions").get("results", {})
    if parts:
        def largest(r: dict) -> dict:
            return max((o for o in r["outputs"] if not o["output"].startswith("0")), key=lambda o: o["units"])
        rows = sorted(parts.items(), key=lambda kv: (int(kv[0].split("|")[0]), "|" in kv[0]))
        lines.append("| [memory by partition](docs/benchmarks/partitions.md) | a forked worker's private memory for "
                     "the largest chapter: " + "; ".join(
                         f"×{r['factor']} ({'libraries preloaded' if r.get('preload', True) else 'own libraries'}) "
                         f"{largest(r)['worker_mb']} MB for {largest(r)['units']:,} of {r['corpus_units']:,} units"
                         for _, r in rows) + " |")
    return "\n".join(lines)


def write_readme() -> None:
    readme = repo / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split("<!-- bench:start -->", 1)
    _, tail = rest.split("<!-- bench:end -->", 1)
    readme.write_text(f"{head}<!-- bench:start -->\n{summary()}\n<!-- bench:end -->{tail}", encoding="utf-8")


if __name__ == "__main__":
    names = sys.argv[1:] or ["ingest_bench", "autocode_bench", "autocode_variants", "learning_curve",
                             "autocode_refresh", "autocode_spans", "themes_bench", "privacy_bench", "report_bench",
                             "export_bench", "coding_view_bench", "scale_bench", "client_bench", "partition_bench"]
    for name in names:
        print(f"== {name}", flush=True)
        sys.argv = [name]
        runpy.run_path(str(here / f"{name}.py"), run_name="__main__")
    write_readme()
