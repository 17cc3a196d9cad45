#!/usr/bin/env python3
"""Parley vs llama.cpp, measured in one run on one machine: prefill (pp) and decode (tg) tokens/s and peak RSS.

Builds llama.cpp from the llama-cpp-python sdist into a cache outside the repo (scripts/build-llama-cpp.sh) when
needed, then, for each model and thread count, runs `llama-bench` and `parley bench` back to back with the same
-p/-n/-r and prints a Markdown table with the ratios (the form BENCHMARKS.md records).

    scripts/bench-vs-llama-cpp.py [--threads 1,2] [-p 512] [-n 128] [-r 5] [--models smollm2,gemma3]
"""
import argparse
import json
import os
import pathlib
import platform
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = {
    "smollm2": ("SmolLM2-135M-Instruct Q4_1", ROOT / ".models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3": ("Gemma-3-270M Q4_K_M", ROOT / ".models/gemma-3-270m-Q4_K_M.gguf"),
}


def run_with_peak_rss(cmd):
    """Runs cmd; returns (stdout, peak RSS in MiB) using GNU time."""
    out = subprocess.run(["/usr/bin/time", "-f", "PEAK_RSS_KB=%M"] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    match = re.search(r"PEAK_RSS_KB=(\d+)", out.stderr)
    return out.stdout, int(match.group(1)) / 1024 if match else float("nan")


def llama_bench(binary, model, threads, p, n, reps):
    stdout, rss = run_with_peak_rss([binary, "-m", str(model), "-t", str(threads), "-p", str(p), "-n", str(n),
                                     "-r", str(reps), "-o", "json"])
    results = json.loads(stdout)
    pp = next(r["avg_ts"] for r in results if r["n_prompt"] == p and r["n_gen"] == 0)
    tg = next(r["avg_ts"] for r in results if r["n_gen"] == n and r["n_prompt"] == 0)
    return pp, tg, rss


def parley_bench(binary, model, threads, p, n, reps, extra=()):
    stdout, rss = run_with_peak_rss([binary, "bench", "-m", str(model), "-t", str(threads), "-p", str(p), "-n", str(n),
                                     "-r", str(reps), "--json", *extra])
    result = json.loads(stdout)
    return result.get("prefill_tok_s"), result.get("decode_tok_s"), rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", type=int, default=5)
    ap.add_argument("--models", default="smollm2,gemma3")
    args = ap.parse_args()

    cache = pathlib.Path(os.environ.get("LLAMA_CPP_CACHE", pathlib.Path.home() / ".cache/parley/llama.cpp"))
    llama = cache / "build/bin/llama-bench"
    if not llama.exists():
        subprocess.run([str(ROOT / "scripts/build-llama-cpp.sh")], check=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "parley"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    parley = ROOT / ".build/release/parley"

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"load average before: {os.getloadavg()[0]:.2f}; llama.cpp from {(cache / 'SOURCE').read_text().strip() if (cache / 'SOURCE').exists() else 'unknown'}")
    print()
    # Parley's tg uses the LM-head sketch (what greedy decoding uses); "exact" computes every logit, as requests for
    # logprobs or sampling over the full vocabulary do, and is what llama-bench always does.
    print(f"| model | threads | llama.cpp pp{args.p} | Parley pp{args.p} | ratio | llama.cpp tg{args.n} | Parley tg{args.n} | ratio | Parley tg{args.n} exact logits | ratio | peak RSS llama.cpp / Parley (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in args.models.split(","):
        name, path = MODELS[key]
        for threads in (int(t) for t in args.threads.split(",")):
            lpp, ltg, lrss = llama_bench(str(llama), path, threads, args.p, args.n, args.r)
            ppp, ptg, prss = parley_bench(str(parley), path, threads, args.p, args.n, args.r)
            _, etg, _ = parley_bench(str(parley), path, threads, 0, args.n, args.r, ["--exact-logits"])
            print(f"| {name} | {threads} | {lpp:.1f} | {ppp:.1f} | {ppp / lpp:.2f}× | {ltg:.1f} | {ptg:.1f} | "
                  f"{ptg / ltg:.2f}× | {etg:.1f} | {etg / ltg:.2f}× | {lrss:.0f} / {prss:.0f} |", flush=True)
    print()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
