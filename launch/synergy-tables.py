#!/usr/bin/env python3
"""Markdown tables of the synergy experiment grid (launch/synergy-experiments): reads every
OUT/<dataset>/<fusion>-<curriculum>-s<seed>/{analyze.json, run/metrics.jsonl} and prints means over
seeds (with the per-seed values where it matters). Standard library only."""
import json
import os
import statistics
import sys

FUSIONS = ["concat", "film", "gated", "mlp"]
CURRICULA = ["conventional", "spice-e", "spice-s", "spice-s-positive"]
KINDS = ["redundant", "unique-audio", "unique-visual", "synergistic"]


def load(out):
    runs = {}
    for ds in sorted(os.listdir(out)):
        base = os.path.join(out, ds)
        if ds.startswith("data-") or not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name)
            try:
                with open(os.path.join(path, "analyze.json")) as f:
                    analysis = json.load(f)
                with open(os.path.join(path, "run", "metrics.jsonl")) as f:
                    metrics = [json.loads(line) for line in f if line.strip()]
            except FileNotFoundError:
                continue
            stem, seed = name.rsplit("-s", 1)
            fusion, curriculum = stem.split("-", 1)
            runs[(ds, fusion, curriculum, int(seed))] = (analysis, metrics)
    return runs


def mean(values):
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else None


def fmt(v, digits=3):
    return "n/a" if v is None else f"{v:.{digits}f}"


def cell(values, digits=3):
    """mean (v1 / v2 ...) over seeds."""
    values = [v for v in values]
    m = mean(values)
    if len(values) <= 1:
        return fmt(m, digits)
    return f"{fmt(m, digits)} ({' / '.join(fmt(v, digits) for v in values)})"


def main(out):
    runs = load(out)
    if not runs:
        print(f"no finished runs under {out}", file=sys.stderr)
        sys.exit(1)
    for ds in sorted({k[0] for k in runs}):
        seeds = sorted({k[3] for k in runs if k[0] == ds})
        print(f"## {ds} (seeds {', '.join(map(str, seeds))})\n")
        print("Test accuracy at the last epoch (mean over seeds, per-seed values in brackets) and per planted kind "
              "(means; prediction = argmax of fused + unimodal logits, as the metrics), the fused head alone "
              "(argmax of z_multi) overall and on synergistic samples, the best epoch's accuracy and the gradient "
              "updates (means).\n")
        print("| fusion | curriculum | test ACC | redundant | unique-audio | unique-visual | synergistic | fused head: all / synergistic | best ACC | updates |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for fusion in FUSIONS:
            for cur in CURRICULA:
                rs = [runs[k] for k in sorted(runs) if k[:3] == (ds, fusion, cur)]
                if not rs:
                    continue
                acc = [m[-1]["acc"] for _, m in rs]
                kinds = [mean([a["checkpoint"]["test_accuracy"].get(kind) for a, _ in rs]) for kind in KINDS]
                fused = [mean([a["checkpoint"]["test_accuracy"].get(key) for a, _ in rs]) for key in ("fused:all", "fused:synergistic")]
                best = [max(e["acc"] for e in m) for _, m in rs]
                updates = mean([m[-1]["gradient_updates"] for _, m in rs])
                print(f"| {fusion} | {cur} | {cell(acc)} | " + " | ".join(fmt(k) for k in kinds)
                      + f" | {fmt(fused[0])} / {fmt(fused[1])} | {fmt(mean(best))} | {updates:.0f} |")
        print()
        print("Scores of the final model on the training set, by synergy form (the same checkpoints scored three ways; "
              "means over the curricula and seeds of each fusion): AUC of R for redundant, U for unique, S for "
              "synergistic samples; SPICE-S bin sizes (mean) and purity of bins R/U/S (base rates 0.40/0.40/0.20).\n")
        print("| fusion | synergy form | AUC R | AUC U | AUC S | bins R/U/S | purity R | purity U | purity S | recall S |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for fusion in FUSIONS:
            rs = [runs[k] for k in sorted(runs) if k[:2] == (ds, fusion)]
            if not rs:
                continue
            for form in ["paper", "reference", "positive"]:
                f = [a["checkpoint"]["forms"][form] for a, _ in rs]
                auc = [mean([x["auc"][c] for x in f]) for c in "RUS"]
                bins = "/".join(f"{mean([x['bins'][c] for x in f]):.0f}" for c in "RUS")
                purity = [mean([x["purity"][c] for x in f]) for c in "RUS"]
                recall_s = mean([x["recall"]["S"] for x in f])
                print(f"| {fusion} | {form} | " + " | ".join(fmt(v) for v in auc) + f" | {bins} | "
                      + " | ".join(fmt(v) for v in purity) + f" | {fmt(recall_s)} |")
        print()
        print("Per refresh, from the score dumps of the SPICE runs (the form each run trained with; means over seeds): "
              "AUC S and S-bin size / purity at each refresh.\n")
        print("| fusion | curriculum | refresh epochs | AUC R | AUC U | AUC S | S bin size | S purity |")
        print("|---|---|---|---|---|---|---|---|")
        for fusion in FUSIONS:
            for cur in CURRICULA:
                rs = [runs[k] for k in sorted(runs) if k[:3] == (ds, fusion, cur)]
                if not rs or not rs[0][0].get("refreshes"):
                    continue
                epochs = [r["epoch"] for r in rs[0][0]["refreshes"]]
                per = lambda key, c: " / ".join(
                    fmt(mean([a["refreshes"][i][key][c] for a, _ in rs if i < len(a["refreshes"])]), 2)
                    for i in range(len(epochs)))
                size = " / ".join(f"{mean([a['refreshes'][i]['bins']['S'] for a, _ in rs]):.0f}" for i in range(len(epochs)))
                print(f"| {fusion} | {cur} | {' / '.join(map(str, epochs))} | {per('auc', 'R')} | {per('auc', 'U')} | "
                      f"{per('auc', 'S')} | {size} | {per('purity', 'S')} |")
        print()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/synergy")
