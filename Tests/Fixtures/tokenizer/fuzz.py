#!/usr/bin/env python3
"""Writes fuzz.json: random mixes of scripts, whitespace, digits, emoji and special-token texts, tokenized by
llama-tokenize (seeded, so reruns give the same texts). Usage: fuzz.py LLAMA_TOKENIZE MODELS_DIR OUT_JSON"""
import json, random, sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import tokenize
random.seed(7)
pools = [
  " \t\n\r\u00a0\u3000", "abcXYZ'sltdmrev", "0123456789٣५", "!?.,;:-_()[]{}<>|$+=^~`@#%&*\"\\/",
  "日本語中文한국어ぁァ", "😀🫠👍🏽\u200d❤️🇫🇷", "é\u0301ñßøæ", "<|im_start|><|im_end|><start_of_turn><end_of_turn><b><eos>",
  "\U000f0000\ue000\u0378\U0001d54f", "▁", ]
texts = []
for i in range(24):
    parts = []
    for _ in range(random.randint(3, 25)):
        p = random.choice(pools)
        if p.startswith("<|"):
            parts.append(random.choice(["<|im_start|>", "<|im_end|>", "<start_of_turn>", "<end_of_turn>", "<b>", "<eos>", "<|endoftext|>"]))
        else:
            parts.append("".join(random.choice(p) for _ in range(random.randint(1, 6))))
    texts.append("".join(parts))
out = {}
for label, model in [("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), ("gemma3", "gemma-3-270m-Q4_K_M.gguf")]:
    cases = []
    for t in texts:
        ps = random.random() < 0.5
        cases.append({"text": t, "parse_special": ps, "add_special": False,
                      "ids": tokenize(sys.argv[1], os.path.join(sys.argv[2], model), t, ps, False)})
    out[label] = cases
json.dump(out, open(sys.argv[3], "w"), ensure_ascii=False)
print("ok")
