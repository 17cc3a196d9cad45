#!/usr/bin/env python3
"""Load generator for OpenAI-compatible servers (parley serve, llama-server, ...): streams chat completions at a
given concurrency and reports aggregate generated tokens/s and time to first token (p50/p99).

Bounded by design: loopback URLs only, at most --requests requests (≤ 2000) and --time-limit seconds (≤ 1800).
Standard library only.

  scripts/loadgen.py --url http://127.0.0.1:8080 --model SmolLM2-135M-Instruct.Q4_1 --concurrency 8 --requests 32
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse

TOPICS = ["a lighthouse keeper", "a lost robot", "the first snow of winter", "a river that flows uphill",
          "a cat who learns to read", "a city under the sea", "an old clock", "a dragon afraid of fire",
          "a desert train", "a garden on the moon", "a forgotten letter", "a mountain village festival"]


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def one_request(url, model, key, index, max_tokens, ignore_eos, timeout):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    body = {"model": model, "stream": True, "max_tokens": max_tokens, "temperature": 0,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "system", "content": "You are a creative writer. Write vivid, flowing prose."},
                         {"role": "user", "content": f"Write a short story about {TOPICS[index % len(TOPICS)]}."}]}
    if ignore_eos:
        body["ignore_eos"] = True
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    start = time.perf_counter()
    conn.request("POST", (u.path.rstrip("/") or "") + "/v1/chat/completions", json.dumps(body), headers)
    resp = conn.getresponse()
    if resp.status != 200:
        text = resp.read()[:200]
        conn.close()
        return {"ok": False, "status": resp.status, "error": text}
    first = None
    chunks = 0
    usage_tokens = None
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        data = line[6:]
        if data == b"[DONE]":
            break
        event = json.loads(data)
        if event.get("usage") and event["usage"].get("completion_tokens") is not None:
            usage_tokens = event["usage"]["completion_tokens"]
        for choice in event.get("choices") or []:
            if (choice.get("delta") or {}).get("content"):
                chunks += 1
                if first is None:
                    first = time.perf_counter()
    end = time.perf_counter()
    conn.close()
    return {"ok": True, "ttft": (first or end) - start, "tokens": usage_tokens if usage_tokens is not None else chunks,
            "seconds": end - start}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=None, help="total requests (default 3 × concurrency)")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--ignore-eos", action="store_true", help="ask for exactly --max-tokens tokens (llama.cpp extension)")
    ap.add_argument("--time-limit", type=float, default=600)
    ap.add_argument("--warmup", type=int, default=1, help="requests sent (one at a time) before measuring")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = ap.parse_args()

    host = urllib.parse.urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loadgen: loopback URLs only")
    total = min(args.requests or 3 * args.concurrency, 2000)
    concurrency = max(1, min(args.concurrency, 256, total))
    time_limit = min(args.time_limit, 1800)

    for i in range(args.warmup):
        one_request(args.url, args.model, args.api_key, 1000 + i, 8, False, time_limit)

    results, lock = [], threading.Lock()
    next_index = [0]
    deadline = time.perf_counter() + time_limit

    def worker():
        while time.perf_counter() < deadline:
            with lock:
                if next_index[0] >= total:
                    return
                i = next_index[0]
                next_index[0] += 1
            try:
                r = one_request(args.url, args.model, args.api_key, i, args.max_tokens, args.ignore_eos,
                                max(1.0, deadline - time.perf_counter()))
            except Exception as e:  # a failed request is reported, not fatal
                r = {"ok": False, "status": None, "error": repr(e)}
            with lock:
                results.append(r)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.perf_counter()) + 5)
    wall = time.perf_counter() - start

    ok = [r for r in results if r["ok"]]
    tokens = sum(r["tokens"] for r in ok)
    ttfts = [r["ttft"] for r in ok]
    summary = {"url": args.url, "concurrency": concurrency, "requests": len(results), "ok": len(ok),
               "failed": len(results) - len(ok), "completion_tokens": tokens, "wall_s": round(wall, 2),
               "tok_per_s": round(tokens / wall, 1) if wall > 0 else 0,
               "ttft_p50_s": round(percentile(ttfts, 50), 3), "ttft_p99_s": round(percentile(ttfts, 99), 3),
               "mean_tokens_per_request": round(tokens / len(ok), 1) if ok else 0}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{args.url}  concurrency {concurrency}: {len(ok)}/{len(results)} ok, {tokens} tokens in {wall:.1f} s "
              f"→ {summary['tok_per_s']} tok/s; TTFT p50 {summary['ttft_p50_s']} s, p99 {summary['ttft_p99_s']} s")
    if len(ok) < len(results):
        print("failures:", [r.get("status") for r in results if not r["ok"]][:10], file=sys.stderr)


if __name__ == "__main__":
    main()
