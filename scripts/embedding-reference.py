#!/usr/bin/env python3
"""Reference sentence embeddings for the engine's encoder test, from sentence-transformers on PyTorch (CPU).

Writes Tests/Fixtures/embeddings/<name>.json: for each sentence its token ids (the Hugging Face tokenizer's, to
check Parley's WordPiece exactly) and its embedding as sentence-transformers computes it (pooling and
normalisation from the model directory). CI needs no PyTorch: the fixture is committed; this script regenerates it.

    python3 -m venv /tmp/st && /tmp/st/bin/pip install torch sentence-transformers
    /tmp/st/bin/python scripts/embedding-reference.py .models/all-MiniLM-L6-v2
"""
import json
import os
import sys

import torch
from sentence_transformers import SentenceTransformer

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "I'm vegetarian, so please don't suggest recipes with meat.",
    "My daughter Emma starts primary school in September.",
    "What's the capital of Japan?",
    "Remember that I work as a nurse on night shifts.",
    "The meeting was moved to Thursday at 3 p.m.",
    "Café crème brûlée, naïve résumé — accents everywhere!",
    "HTTP/2 multiplexes streams over one TCP connection; HTTP/1.1 does not.",
    "def fib(n): return n if n < 2 else fib(n-1) + fib(n-2)",
    "I'm allergic to peanuts and shellfish.",
    "She said: \"Let's meet at the café,\" and left.",
    "Prices rose 3.5% in Q3 2026, up from 2.9%.",
    "   leading and trailing spaces\tand a tab   ",
    "Emoji 🙂 and symbols ™ © are rare in the vocabulary.",
    "A",
    "Running, runner, ran: one lemma, three word pieces?",
    "我是素食者，请不要推荐含肉的菜谱。",
    "我女儿下个月开始上小学。",
    "日本的首都是哪里？",
    "我在医院做护士，经常上夜班。",
    "会议改到星期四下午三点。",
    "我对花生和贝类过敏。",
    "今天天气很好，我们去公园散步吧。",
    "机器学习模型需要大量的数据来训练。",
    "我住在上海，每天骑自行车上班。",
    "我喜欢喝绿茶，不喝咖啡。",
    "他用Python写了一个web服务器。",
    "Mixed 中文 and English in 一个 sentence.",
    "北京是中国的首都，也是一座历史悠久的城市。",
    "请记住我的生日是五月三号。",
    # Longer than max_seq_length (256): both sides truncate to the first 254 word pieces.
    " ".join(["Long inputs are cut to the model's maximum sequence length."] * 30),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: embedding-reference.py MODEL_DIRECTORY")
    directory = sys.argv[1].rstrip("/")
    name = os.path.basename(directory)
    torch.manual_seed(0)
    model = SentenceTransformer(directory, device="cpu")
    embeddings = model.encode(SENTENCES, batch_size=8, convert_to_numpy=True, normalize_embeddings=False)
    tokenizer = model.tokenizer
    items = []
    for sentence, vector in zip(SENTENCES, embeddings):
        ids = tokenizer(sentence, truncation=True, max_length=model.max_seq_length)["input_ids"]
        items.append({"text": sentence, "token_ids": ids, "embedding": [round(float(x), 7) for x in vector]})
    out = {
        "model": name,
        "generator": "sentence-transformers %s, torch %s (CPU), scripts/embedding-reference.py"
        % (__import__("sentence_transformers").__version__, torch.__version__),
        "max_seq_length": model.max_seq_length,
        "items": items,
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "Tests", "Fixtures", "embeddings", name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote %s (%d sentences)" % (path, len(items)))


if __name__ == "__main__":
    main()
