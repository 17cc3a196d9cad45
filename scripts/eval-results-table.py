#!/usr/bin/env python3
"""The validation results table (results/eval/README.md) from the run summaries in a directory."""
import glob, json, os, sys

PUBLISHED = {  # SmolLM2-135M-Instruct's model card (its authors' own harness; see the notes below the table)
    ("SmolLM2-135M-Instruct", "hellaswag"): 40.9, ("SmolLM2-135M-Instruct", "arc"): 37.3,
    ("SmolLM2-135M-Instruct", "piqa"): 66.3,
}
TASKS = ["arc_easy", "arc_challenge", "piqa", "winogrande", "hellaswag"]

directory = sys.argv[1]
runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(directory, "*.summary.json")))]
latest = {}
for r in runs:
    key = (r["model"], r["task"])
    if r.get("n") == r.get("datasetRows") and (key not in latest or r["date"] > latest[key]["date"]):
        latest[key] = r
# The test models always have rows, so a run not done yet shows as such.
models = sorted({m for m, _ in latest} | {"SmolLM2-135M-Instruct.Q4_1", "gemma-3-270m-Q4_K_M"})
print("# Validation runs (issue 10)\n")
print("Full validation splits, zero-shot, log-likelihood scoring as lm-evaluation-harness does (acc_norm for ARC,")
print("PIQA and HellaSwag; acc for WinoGrande), 95 % bootstrap intervals. Reproduce: `scripts/eval-validation.sh`;")
print("regenerate this table: `python3 scripts/eval-results-table.py results/eval > results/eval/README.md`.\n")
print("| model | task | metric | score | 95 % interval | items | time | date | published |")
print("|---|---|---|---|---|---|---|---|---|")
for m in models:
    for t in TASKS:
        r = latest.get((m, t))
        if not r:
            print(f"| {m} | {t} | | not run yet | | | | | |")
            continue
        metric = r["metric"]
        v = r["metrics"][metric]
        family = "arc" if t.startswith("arc") else t
        base = m.split(".")[0]
        pub = PUBLISHED.get((base, family))
        minutes = r["seconds"] / 60
        print(f"| {m} | {t} | {metric} | {v['value']:.1f} | {v['low']:.1f}–{v['high']:.1f} | {r['n']} | "
              f"{minutes:.1f} min | {r['date'][:16]}Z | {pub if pub is not None else ''} |")
print("""
Published figures: SmolLM2-135M-Instruct's model card reports HellaSwag 40.9, ARC 37.3 (Easy and Challenge
together) and PIQA 66.3 from its authors' own evaluation setup, whose prompts, normalisation and precision (full
weights, not Q4_1) differ from this harness, so the columns agree in kind, not to the decimal. Times are wall-clock
on the project's 2-core machine and include whatever else ran on it (these runs shared the machine with builds and
tests, at low priority).""")
