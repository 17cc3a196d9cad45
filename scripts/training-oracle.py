#!/usr/bin/env python3
"""PyTorch oracle for Parley's LoRA training (Tests/ParleyTrainingTests/TrainingOracleTests.swift).

For a tiny llama and a tiny gemma3 with random F32 weights, writes Tests/Fixtures/training/oracle-<arch>.json:
the GGUF metadata and tensors (in GGUF layout: a matrix of ne = [in, out] is `out` rows of `in` values, which is
torch's Linear.weight), a LoRA adapter with random A and B (B non-zero so every gradient is), a batch of two
token sequences with loss masks, and what autograd computes in float64: the mean cross-entropy over the masked
targets and dL/dA, dL/dB of every adapted matrix. The Swift test writes the GGUF itself and compares.

The model is written out from the architecture's equations on GGUF tensors, as Parley's engine computes them
(src/models/llama.cpp and gemma3.cpp in llama.cpp): llama rotates adjacent pairs (the converter permuted Q/K),
Gemma 3 rotates NeoX halves, normalises Q/K heads, post-normalises both branches, scales embeddings by √d,
stores norm weights with the +1 already added, and alternates sliding-window and global layers.

Regenerate:  python3 -m venv .venv-torch && .venv-torch/bin/pip install torch
             .venv-torch/bin/python scripts/training-oracle.py
"""
import json
import math
import os

import torch

TARGETS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]

CONFIGS = {
    "llama": dict(vocab=64, d=32, heads=4, kv_heads=2, head_dim=8, ff=64, layers=2, eps=1e-5, rope_base=10000.0,
                  window=None, pattern=None),
    "gemma3": dict(vocab=64, d=32, heads=2, kv_heads=1, head_dim=16, ff=64, layers=3, eps=1e-6, rope_base=1000000.0,
                   window=4, pattern=3),
}
GEMMA_LOCAL_BASE = 10000.0
RANK, ALPHA = 4, 8.0


def rmsnorm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, base, neox):
    """x: [T, heads, hd]; rotates every dimension (rope.dimension_count = head_dim)."""
    t, _, hd = x.shape
    half = hd // 2
    inv = torch.tensor([base ** (-2.0 * i / hd) for i in range(half)], dtype=torch.float64)
    theta = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    c, s = torch.cos(theta)[:, None, :].to(x.dtype), torch.sin(theta)[:, None, :].to(x.dtype)
    if neox:
        x0, x1 = x[..., :half], x[..., half:]
        return torch.cat([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).reshape(x.shape)


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_window_base(cfg, layer):
    if cfg["window"] is None:
        return None, cfg["rope_base"]
    is_global = layer % cfg["pattern"] == cfg["pattern"] - 1
    return (None, cfg["rope_base"]) if is_global else (cfg["window"], GEMMA_LOCAL_BASE)


def forward_loss(arch, cfg, w, lora, sequences):
    gemma = arch == "gemma3"
    d, hd, heads, kvh = cfg["d"], cfg["head_dim"], cfg["heads"], cfg["kv_heads"]
    group = heads // kvh
    scale = ALPHA / RANK

    def proj(layer, target, x):
        name = f"blk.{layer}.{target}.weight"
        a, b = lora[(layer, target)]
        return x @ w[name].T + scale * (x @ a.T) @ b.T

    total, count = 0.0, 0
    for seq in sequences:
        tokens, mask = seq["tokens"], seq["loss_mask"]
        inputs = torch.tensor(tokens[:-1])
        t = len(inputs)
        x = w["token_embd.weight"][inputs]
        if gemma:
            x = x * math.sqrt(d)
        for l in range(cfg["layers"]):
            p = f"blk.{l}."
            window, base = layer_window_base(cfg, l)
            n = rmsnorm(x, w[p + "attn_norm.weight"], cfg["eps"])
            q = proj(l, "attn_q", n).reshape(t, heads, hd)
            k = proj(l, "attn_k", n).reshape(t, kvh, hd)
            v = proj(l, "attn_v", n).reshape(t, kvh, hd)
            if gemma:
                q = rmsnorm(q, w[p + "attn_q_norm.weight"], cfg["eps"])
                k = rmsnorm(k, w[p + "attn_k_norm.weight"], cfg["eps"])
            q, k = rope(q, base, gemma), rope(k, base, gemma)
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
            scores = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(hd)
            i_idx, j_idx = torch.arange(t)[:, None], torch.arange(t)[None, :]
            allowed = j_idx <= i_idx
            if window is not None:
                allowed = allowed & (i_idx - j_idx < window)
            scores = scores.masked_fill(~allowed[None], float("-inf"))
            o = torch.einsum("hij,jhd->ihd", torch.softmax(scores, dim=-1), v).reshape(t, heads * hd)
            a = proj(l, "attn_output", o)
            if gemma:
                a = rmsnorm(a, w[p + "post_attention_norm.weight"], cfg["eps"])
            h = x + a
            m = rmsnorm(h, w[p + "ffn_norm.weight"], cfg["eps"])
            g, u = proj(l, "ffn_gate", m), proj(l, "ffn_up", m)
            act = (gelu_tanh(g) if gemma else torch.nn.functional.silu(g)) * u
            f = proj(l, "ffn_down", act)
            if gemma:
                f = rmsnorm(f, w[p + "post_ffw_norm.weight"], cfg["eps"])
            x = h + f
        logits = rmsnorm(x, w["output_norm.weight"], cfg["eps"]) @ w["token_embd.weight"].T
        targets = torch.tensor(tokens[1:])
        keep = torch.tensor(mask[1:])
        losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
        total = total + losses[keep].sum()
        count += int(keep.sum())
    return total / count


def build(arch, seed):
    cfg = CONFIGS[arch]
    gen = torch.Generator().manual_seed(seed)
    d, hd, heads, kvh, ff, vocab = cfg["d"], cfg["head_dim"], cfg["heads"], cfg["kv_heads"], cfg["ff"], cfg["vocab"]

    def randn(*shape, std):
        # Drawn in float32 (the GGUF stores F32), computed in float64.
        return (torch.randn(*shape, generator=gen, dtype=torch.float32) * std).to(torch.float64)

    def norm_weight(n):
        return (1 + 0.1 * torch.randn(n, generator=gen, dtype=torch.float32)).to(torch.float64)

    shapes = {"attn_q": (heads * hd, d), "attn_k": (kvh * hd, d), "attn_v": (kvh * hd, d), "attn_output": (d, heads * hd),
              "ffn_gate": (ff, d), "ffn_up": (ff, d), "ffn_down": (d, ff)}
    w = {"token_embd.weight": randn(vocab, d, std=0.25)}
    for l in range(cfg["layers"]):
        p = f"blk.{l}."
        w[p + "attn_norm.weight"] = norm_weight(d)
        for target, (out_f, in_f) in shapes.items():
            w[p + target + ".weight"] = randn(out_f, in_f, std=1 / math.sqrt(in_f))
        w[p + "ffn_norm.weight"] = norm_weight(d)
        if arch == "gemma3":
            w[p + "attn_q_norm.weight"] = norm_weight(hd)
            w[p + "attn_k_norm.weight"] = norm_weight(hd)
            w[p + "post_attention_norm.weight"] = norm_weight(d)
            w[p + "post_ffw_norm.weight"] = norm_weight(d)
    w["output_norm.weight"] = norm_weight(d)

    lora = {}
    for l in range(cfg["layers"]):
        for target in TARGETS:
            out_f, in_f = shapes[target]
            a = randn(RANK, in_f, std=1 / math.sqrt(in_f)).requires_grad_(True)
            b = randn(out_f, RANK, std=0.2).requires_grad_(True)
            lora[(l, target)] = (a, b)

    lengths = [13, 9]
    sequences = []
    for i, length in enumerate(lengths):
        tokens = torch.randint(0, vocab, (length,), generator=gen).tolist()
        # The first sequence is a document (every token a target); the second a chat turn (only its tail).
        mask = [j > 0 for j in range(length)] if i == 0 else [j >= length - 4 for j in range(length)]
        sequences.append({"tokens": tokens, "loss_mask": mask})

    loss = forward_loss(arch, cfg, w, lora, sequences)
    loss.backward()

    meta_u32 = {
        f"{arch}.context_length": 128, f"{arch}.embedding_length": d, f"{arch}.block_count": cfg["layers"],
        f"{arch}.feed_forward_length": ff, f"{arch}.attention.head_count": heads,
        f"{arch}.attention.head_count_kv": kvh, f"{arch}.attention.key_length": hd,
        f"{arch}.attention.value_length": hd, f"{arch}.rope.dimension_count": hd,
    }
    if cfg["window"] is not None:
        meta_u32[f"{arch}.attention.sliding_window"] = cfg["window"]
        meta_u32[f"{arch}.attention.sliding_window_pattern"] = cfg["pattern"]
    meta_f32 = {f"{arch}.attention.layer_norm_rms_epsilon": cfg["eps"], f"{arch}.rope.freq_base": cfg["rope_base"]}

    def flat(t):
        return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]

    return {
        "architecture": arch,
        "uint32": meta_u32,
        "float32": meta_f32,
        # GGUF dims are reversed from torch's shape: ne[0] is the row length.
        "tensors": [{"name": name, "dims": list(reversed(t.shape)), "data": flat(t)} for name, t in w.items()],
        "lora": {"alpha": ALPHA, "rank": RANK,
                 "matrices": [{"layer": l, "target": tg, "a": flat(a), "b": flat(b)} for (l, tg), (a, b) in lora.items()]},
        "sequences": sequences,
        "loss": float(loss.detach()),
        "gradients": [{"layer": l, "target": tg, "a": [float(v) for v in a.grad.reshape(-1).tolist()],
                       "b": [float(v) for v in b.grad.reshape(-1).tolist()]} for (l, tg), (a, b) in lora.items()],
        "generator": f"scripts/training-oracle.py, torch {torch.__version__}, float64 autograd",
    }


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "training")
    os.makedirs(root, exist_ok=True)
    for seed, arch in enumerate(CONFIGS):
        fixture = build(arch, seed=1234 + seed)
        path = os.path.join(root, f"oracle-{arch}.json")
        with open(path, "w") as f:
            json.dump(fixture, f, separators=(",", ":"))
        print(f"{path}: loss {fixture['loss']:.6f}")


if __name__ == "__main__":
    main()
