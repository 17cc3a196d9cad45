#!/usr/bin/env python3
"""Checks Parley against llama.cpp on prompts that are not in the repo's fixtures, the way the engine issue
judges parity: llama.cpp (llama-server, greedy, n_probs=5) generates; Parley scores prompt+generation teacher-forced
(`parley complete --echo`) and generates greedily; the script reports mean / p95 |Δlogprob| over llama.cpp's top-5
tokens (those above -10), top-1 agreement where llama.cpp's top-2 gap ≥ 0.1 nats, and whether free-running greedy
output matches up to the first step whose gap is below 0.5 nats.

    scripts/parity-vs-llama-cpp.py [--model .models/X.gguf] [--tokens 32] [--adapter LORA.gguf] [--prompts N] [--check]

With --adapter, llama-server loads the LoRA adapter with `--lora` and every Parley command gets `--adapter`, and
the prompts in --extra-prompts FILE (one JSON string per line) come first. --prompts N uses the first N prompts.
--check exits 1 unless top-1 agreement on decisive steps is at least --min-agreement (default 0.98) and greedy
output is identical to the first near-tie on every prompt (the exported-adapter check of the learning issue).

llama-server comes from scripts/build-llama-cpp.sh (a cache outside the repo); it listens on loopback only.
"""
import argparse, json, os, pathlib, socket, subprocess, sys, time, urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROMPTS = [
    "北京是中国的首都，也是一座历史悠久的城市。它的著名景点包括",
    "東京タワーは",
    "def quicksort(arr):\n    if len(arr) <= 1:\n        return arr\n",
    "I love pizza 🍕🍕 and cats 🐱‍👤! My favourite emoji is",
    "Columns:\tname\t\tage\n    indented    text   with    runs   of   spaces\n\n\n",
    "<|im_start|>user\nWrite a short poem about rain.<|im_end|>\n<|im_start|>assistant\n",
    "<start_of_turn>user\nList three prime numbers.<end_of_turn>\n<start_of_turn>model\n",
    "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY",
    "The mitochondria is the powerhouse of the",
    "Ünïcödé façade — naïve café; “quotes” and ‘apostrophes’ …",
    "서울은 한국의 수도이며",
    "Москва — столица России, а",
    "fn main() {\n    let v: Vec<u32> = (1..=10).collect();\n",
    '{"name": "Ada", "languages": ["en", "fr"], "age":',
    "1 + 1 = 2\n2 + 2 = 4\n3 + 3 =",
    "\t\t\t    \n\n   x   \n\t",
    "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhy is the sky blue?<|im_end|>\n<|im_start|>assistant\n",
    "😀😃😄😁😆😅🤣😂🙂🙃 and then",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


ADAPTER = []


def parley(args):
    out = subprocess.run([str(ROOT / ".build/release/parley")] + args + ADAPTER, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / ".models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--adapter", help="a GGUF LoRA adapter applied on both sides")
    ap.add_argument("--extra-prompts", help="a file of JSON strings, one per line, run before the built-in prompts")
    ap.add_argument("--prompts", type=int, help="use only the first N prompts")
    ap.add_argument("--check", action="store_true", help="exit 1 unless the agreement criteria hold")
    ap.add_argument("--min-agreement", type=float, default=0.98)
    args = ap.parse_args()
    prompts = list(PROMPTS)
    if args.extra_prompts:
        with open(args.extra_prompts) as f:
            prompts = [json.loads(line) for line in f if line.strip()] + prompts
    if args.prompts:
        prompts = prompts[:args.prompts]
    if args.adapter:
        ADAPTER.extend(["--adapter", args.adapter])
    cache = pathlib.Path(os.environ.get("LLAMA_CPP_CACHE", pathlib.Path.home() / ".cache/parley/llama.cpp"))
    server_bin = cache / "build/bin/llama-server"
    if not server_bin.exists():
        subprocess.run([str(ROOT / "scripts/build-llama-cpp.sh")], check=True)
    port = free_port()
    server = subprocess.Popen([str(server_bin), "-m", args.model, "--host", "127.0.0.1", "--port", str(port), "-np", "1",
                               "-c", "2048", "-t", "2"] + (["--lora", args.adapter] if args.adapter else []),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except Exception:
                time.sleep(0.2)
        diffs, decisive, agree, greedy_ok, cases = [], 0, 0, 0, 0
        for prompt in prompts:
            ids = parley(["tokenize", "-m", args.model, prompt])
            bos = parley(["complete", "-m", args.model, prompt, "--max-tokens", "0", "--json"])["prompt_tokens"]
            ref = post(base + "/completion", {"prompt": bos, "n_predict": args.tokens, "temperature": 0, "n_probs": 5,
                                              "cache_prompt": False, "samplers": ["top_k"], "top_k": 1, "return_tokens": True})
            # llama-server leaves out the probabilities of tokens that end inside a UTF-8 character (only the token
            # completing it is listed), so the listed steps are placed on the generated tokens by their ids.
            gen = ref["tokens"]
            steps, position = [], 0
            for s in ref["completion_probabilities"]:
                while gen[position] != s["id"]:
                    position += 1
                steps.append((position, s))
                position += 1
            if not gen:
                continue
            cases += 1
            scored = parley(["complete", "-m", args.model, "--prompt-ids", ",".join(map(str, bos + gen)),
                             "--max-tokens", "0", "--echo", "--top-logprobs", "40", "--json"])["prompt_logprobs"]
            ours_greedy = parley(["complete", "-m", args.model, "--prompt-ids", ",".join(map(str, bos)),
                                  "--max-tokens", str(len(gen)), "--json"])["tokens"]
            ok = checking = True
            listed = dict(steps)
            for i in range(len(gen)):
                if i in listed:
                    top = listed[i]["top_logprobs"]
                    row = {a["id"]: a["logprob"] for a in scored[len(bos) + i]["top"]}
                    for a in top:
                        if a["logprob"] > -10 and a["id"] in row:
                            diffs.append(abs(a["logprob"] - row[a["id"]]))
                    gap = top[0]["logprob"] - top[1]["logprob"] if len(top) > 1 else 99
                    if gap >= 0.1:
                        decisive += 1
                        agree += max(row, key=row.get) == top[0]["id"]
                else:
                    # llama-server reports no distribution here; our own gap stands in for the near-tie test.
                    ours = sorted((a["logprob"] for a in scored[len(bos) + i]["top"]), reverse=True)
                    gap = ours[0] - ours[1] if len(ours) > 1 else 99
                # Greedy output must match token for token until the first near-tie (that step excluded).
                if gap < 0.5:
                    checking = False
                if checking and (i >= len(ours_greedy) or ours_greedy[i] != gen[i]):
                    ok = checking = False
            greedy_ok += ok
            print(f"{prompt[:40]!r:45} {len(ids)} prompt tokens, greedy {'ok' if ok else 'MISMATCH'}")
        diffs.sort()
        print(f"\n{pathlib.Path(args.model).name}: {cases} prompts, mean |Δ| {sum(diffs) / len(diffs):.3f}, "
              f"p95 {diffs[int(len(diffs) * 0.95)]:.3f}, top-1 agreement {agree}/{decisive} "
              f"({100 * agree / max(decisive, 1):.1f}%), greedy identical to first near-tie {greedy_ok}/{cases}")
        if args.check and (agree < args.min_agreement * decisive or greedy_ok < cases or cases == 0):
            print("CHECK FAILED", file=sys.stderr)
            sys.exit(1)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # on a busy machine llama-server can take longer to stop
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
