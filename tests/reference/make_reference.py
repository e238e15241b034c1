#!/usr/bin/env python3
"""Writes model-level reference dumps for mone's tests, from an independent PyTorch implementation.

Run by hand (not in CI), with Debian's python3-torch:
    /usr/bin/python3 tests/reference/make_reference.py tests/data

For a tiny MoE, a tiny MoNE, and the tiny MoNE with each other neuron selector (MONE.md, "Neuron
selectors": tiny_mone_<selector>_ref, the MoNE's weights and tokens) it writes <name>.safetensors holding
  - every parameter under its Hugging Face name (mone loads these),
  - "input_ids" and "targets" (int64, [B, T]),
  - "loss.total", "loss.ce", "loss.load_balance", "loss.z", "loss.neuron" (f32 0-d),
  - "grad.<parameter name>" for every parameter (d total loss / d parameter).
The model follows ../shared/MONE.md to the letter; it shares no code with mone.
"""
import json
import math
import struct
import sys

import torch

torch.set_default_dtype(torch.float64)  # compute in f64; stored as f32


def spec_for(name):
    base = dict(vocab_size=61, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0, num_experts=4,
                num_experts_per_tok=2, moe_intermediate_size=12, num_shared_experts=1,
                shared_expert_intermediate_size=12, norm_topk_prob=False, act="silu",
                router_aux_loss_coef=0.01, router_z_loss_coef=0.001, neuron_aux_loss_coef=0.01)
    base["neuron_topk"] = 12 if name == "tiny_moe_ref" else 3
    base["selector"] = "abs_gate"
    for sel in SELECTORS:
        if name == f"tiny_mone_{sel}_ref":
            base["selector"] = sel
    return base


SELECTORS = ("signed_gate", "abs_gate_times_up", "abs_gate_threshold")


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, theta):  # x [B, T, H, hd], rotate-half
    B, T, H, hd = x.shape
    half = hd // 2
    inv = theta ** (-torch.arange(half, dtype=torch.float64) * 2.0 / hd)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]  # [T, half]
    cos = torch.cat([ang.cos(), ang.cos()], -1)[None, :, None, :]
    sin = torch.cat([ang.sin(), ang.sin()], -1)[None, :, None, :]
    rot = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rot * sin


def attention(x, p, pre, s):
    B, T, d = x.shape
    H, Hkv = s["num_attention_heads"], s["num_key_value_heads"]
    hd = d // H
    q = (x @ p[pre + "q_proj.weight"].T).view(B, T, H, hd)
    k = (x @ p[pre + "k_proj.weight"].T).view(B, T, Hkv, hd)
    v = (x @ p[pre + "v_proj.weight"].T).view(B, T, Hkv, hd)
    q, k = rope(q, s["rope_theta"]), rope(k, s["rope_theta"])
    rep = H // Hkv
    k = k.repeat_interleave(rep, dim=2)
    v = v.repeat_interleave(rep, dim=2)
    att = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(hd)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    att = att.masked_fill(~mask, float("-inf")).softmax(-1)
    o = torch.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, T, d)
    return o @ p[pre + "o_proj.weight"].T


def act(a, s):
    return torch.nn.functional.silu(a) if s["act"] == "silu" else torch.sigmoid(a)


def expert(x, p, pre, k_n, s):
    """MoNE expert (MONE.md): keep the k_n neurons the selector ranks first; HARD backward."""
    G = act(x @ p[pre + "gate_proj.weight"].T, s)  # [n, D]
    u = x @ p[pre + "up_proj.weight"].T
    n, D = G.shape
    sel = s["selector"]
    if sel == "abs_gate_threshold" and k_n < D:
        # tau: the (n*k_n)-th largest |G| of this expert's rows; G is cut to 0 below it (a constant mask).
        tau = G.detach().abs().flatten().sort(descending=True).values[n * k_n - 1]
        G = G * (G.detach().abs() >= tau).to(G.dtype)
    score = {"signed_gate": G, "abs_gate_times_up": (G * u).abs()}.get(sel, G.abs()).detach()
    idx = score.sort(dim=-1, descending=True, stable=True).indices[:, :k_n]  # ties: the lower index
    mask = torch.zeros_like(G).scatter(-1, idx, 1.0)
    h = G * u * mask  # the mask is a constant: gradient only for selected neurons
    return h @ p[pre + "down_proj.weight"].T, G, idx


def moe_layer(x, p, pre, s):
    N, d = x.shape
    E, K, D, k_n = s["num_experts"], s["num_experts_per_tok"], s["moe_intermediate_size"], s["neuron_topk"]
    z = x @ p[pre + "gate.weight"].T
    probs = z.softmax(-1)
    w, ids = probs.topk(K, dim=-1)
    if s["norm_topk_prob"]:
        w = w / w.sum(-1, keepdim=True)
    out = torch.zeros_like(x)
    counts = torch.zeros(E)
    ng_terms = []
    for e in range(E):
        tok, slot = (ids == e).nonzero(as_tuple=True)
        counts[e] = len(tok)
        if len(tok) == 0:
            continue
        y, G, idx = expert(x[tok], p, f"{pre}experts.{e}.", k_n, s)
        out = out.index_add(0, tok, w[tok, slot][:, None] * y)
        if k_n < D:  # NG-LBL, normalised form: gradient through Q only
            q = G.abs() / G.abs().sum(-1, keepdim=True).clamp_min(1e-300)  # a row with every G cut to 0: q = 0
            F = torch.zeros(D).index_add(0, idx.reshape(-1), torch.ones(idx.numel())) / (len(tok) * k_n)
            ng_terms.append(D * (F * q.mean(0)).sum())
    y, _, _ = expert(x, p, pre + "shared_expert.", s["shared_expert_intermediate_size"], s)
    out = out + y
    f = counts / (N * K)
    lb = E * (f * probs.mean(0)).sum()
    zl = (torch.logsumexp(z, -1) ** 2).mean()
    ng = torch.stack(ng_terms).mean() if ng_terms else None
    return out, lb, zl, ng


def forward(p, ids, targets, s):
    B, T = ids.shape
    d = s["hidden_size"]
    x = p["model.embed_tokens.weight"][ids]
    lbs, zs, ngs = [], [], []
    for i in range(s["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = x + attention(rmsnorm(x, p[pre + "input_layernorm.weight"], s["rms_norm_eps"]), p, pre + "self_attn.", s)
        n = rmsnorm(h, p[pre + "post_attention_layernorm.weight"], s["rms_norm_eps"]).reshape(B * T, d)
        f, lb, zl, ng = moe_layer(n, p, pre + "mlp.", s)
        x = h + f.reshape(B, T, d)
        lbs.append(lb), zs.append(zl)
        if ng is not None:
            ngs.append(ng)
    x = rmsnorm(x, p["model.norm.weight"], s["rms_norm_eps"]).reshape(B * T, d)
    logits = x @ p["lm_head.weight"].T
    ce = torch.nn.functional.cross_entropy(logits, targets.reshape(-1))
    lb, zl = torch.stack(lbs).mean(), torch.stack(zs).mean()
    ng = torch.stack(ngs).mean() if ngs else torch.zeros(())
    total = ce + s["router_aux_loss_coef"] * lb + s["router_z_loss_coef"] * zl + s["neuron_aux_loss_coef"] * ng
    return total, ce, lb, zl, ng


def make_params(s, gen):
    V, d, L = s["vocab_size"], s["hidden_size"], s["num_hidden_layers"]
    H, Hkv, E, D = s["num_attention_heads"], s["num_key_value_heads"], s["num_experts"], s["moe_intermediate_size"]
    hd = d // H
    p = {}

    def normal(name, *shape):
        p[name] = torch.randn(*shape, generator=gen) * 0.3  # larger than 0.02: every path matters

    normal("model.embed_tokens.weight", V, d)
    for i in range(L):
        pre = f"model.layers.{i}."
        p[pre + "input_layernorm.weight"] = 1.0 + 0.1 * torch.randn(d, generator=gen)
        for n, rows in (("q", H * hd), ("k", Hkv * hd), ("v", Hkv * hd)):
            normal(f"{pre}self_attn.{n}_proj.weight", rows, d)
        normal(pre + "self_attn.o_proj.weight", d, H * hd)
        p[pre + "post_attention_layernorm.weight"] = 1.0 + 0.1 * torch.randn(d, generator=gen)
        normal(pre + "mlp.gate.weight", E, d)
        for e in [f"experts.{e}." for e in range(E)] + ["shared_expert."]:
            normal(f"{pre}mlp.{e}gate_proj.weight", D, d)
            normal(f"{pre}mlp.{e}up_proj.weight", D, d)
            normal(f"{pre}mlp.{e}down_proj.weight", d, D)
    p["model.norm.weight"] = 1.0 + 0.1 * torch.randn(d, generator=gen)
    normal("lm_head.weight", V, d)
    return p


def write_safetensors(path, tensors):
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(out_dir):
    runs = [("tiny_moe_ref", 1), ("tiny_mone_ref", 2)] + [(f"tiny_mone_{sel}_ref", 2) for sel in SELECTORS]
    for name, seed in runs:
        s = spec_for(name)
        gen = torch.Generator().manual_seed(seed)
        p = make_params(s, gen)
        # Round the weights to f32 first, so mone (in f32 or f64) starts from the same numbers.
        p = {k: v.float().double().requires_grad_() for k, v in p.items()}
        B, T = 2, 7
        ids = torch.randint(0, s["vocab_size"], (B, T), generator=gen)
        targets = torch.randint(0, s["vocab_size"], (B, T), generator=gen)
        total, ce, lb, zl, ng = forward(p, ids, targets, s)
        total.backward()
        out = {k: v.detach().float() for k, v in p.items()}
        out["input_ids"], out["targets"] = ids, targets
        for k, v in (("total", total), ("ce", ce), ("load_balance", lb), ("z", zl), ("neuron", ng)):
            out["loss." + k] = v.detach().float().reshape(())
        for k, v in p.items():
            out["grad." + k] = (v.grad if v.grad is not None else torch.zeros_like(v)).float()
        write_safetensors(f"{out_dir}/{name}.safetensors", out)
        print(name, "total", total.item(), "ce", ce.item(), "lb", lb.item(), "z", zl.item(), "ng", ng.item())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data")
