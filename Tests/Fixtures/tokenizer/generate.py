#!/usr/bin/env python3
"""Writes extra-<model>.json: llama.cpp's own tokenization of texts.py's texts, the oracle for Parley's tokenizer.

Usage: generate.py LLAMA_TOKENIZE MODEL_GGUF OUT_JSON LABEL
Each text is tokenized three ways: (parse_special, add_special) = (true, false), (false, false), (true, true).
"""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from texts import TEXTS


def tokenize(binary, model, text, parse_special, add_special):
    with tempfile.NamedTemporaryFile("wb", delete=False, suffix=".txt") as f:
        f.write(text.encode("utf-8", "surrogatepass"))
        path = f.name
    try:
        args = [binary, "-m", model, "-f", path, "--ids", "--no-escape", "--log-disable"]
        if not parse_special:
            args.append("--no-parse-special")  # llama-tokenize parses special tokens by default
        if not add_special:
            args.append("--no-bos")
        out = subprocess.run(args, capture_output=True, check=True).stdout.decode()
    finally:
        os.unlink(path)
    line = [l for l in out.splitlines() if l.startswith("[")][-1]
    return json.loads(line)


def main():
    binary, model, out, label = sys.argv[1:5]
    producer = os.environ.get("LLAMA_CPP_SOURCE", "llama.cpp")
    cases = []
    for text in TEXTS:
        for parse_special, add_special in ((True, False), (False, False), (True, True)):
            cases.append({
                "text": text,
                "parse_special": parse_special,
                "add_special": add_special,
                "ids": tokenize(binary, model, text, parse_special, add_special),
            })
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"model": label, "producer": producer, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
