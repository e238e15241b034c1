#!/usr/bin/env python3
"""A plain PyTorch eager training step of mone's MoE/MoNE transformer, for benchmarks only.

It follows docs/MONE.md (router softmax -> top-K, dropless per-expert loops, MoNE top-K_N of |G| with a
masked dense up/down, NG-LBL, load-balance and z losses, CE), in f32, with torch.optim.AdamW — written as a
user would write it in eager PyTorch. Used by scripts/bench_vs_torch.sh, which prints mone's and PyTorch's
tokens/s side by side on the same weights and batch.

    /usr/bin/python3 bench/torch_train_step.py --model-dir DIR --batch FILE --threads 2 --steps 5 --warmup 2
DIR holds mone's config.json and model.safetensors; FILE (safetensors) holds input_ids and targets [B, T].
"""
import argparse
import json
import math
import struct
import time

import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=dtypes[info["dtype"]]) if e > b else \
            torch.empty(0, dtype=dtypes[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


class Model(torch.nn.Module):
    def __init__(self, cfg, tensors):
        super().__init__()
        self.c = cfg
        self.p = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v.float())
                                         for k, v in tensors.items()})
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        inv = cfg["rope_theta"] ** (-torch.arange(hd // 2, dtype=torch.float32) * 2.0 / hd)
        self.register_buffer("inv", inv)

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def rope(self, x):  # [B, H, T, hd]
        T, half = x.shape[2], x.shape[3] // 2
        ang = torch.arange(T, dtype=torch.float32)[:, None] * self.inv[None, :]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        rot = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rot * sin

    def attention(self, x, pre):
        c = self.c
        B, T, d = x.shape
        H, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
        hd = d // H
        q = F.linear(x, self.w(pre + "q_proj.weight")).view(B, T, H, hd).transpose(1, 2)
        k = F.linear(x, self.w(pre + "k_proj.weight")).view(B, T, Hkv, hd).transpose(1, 2)
        v = F.linear(x, self.w(pre + "v_proj.weight")).view(B, T, Hkv, hd).transpose(1, 2)
        q, k = self.rope(q), self.rope(k)
        if Hkv != H:
            k = k.repeat_interleave(H // Hkv, dim=1)
            v = v.repeat_interleave(H // Hkv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        return F.linear(y, self.w(pre + "o_proj.weight"))

    def act(self, a):
        return F.silu(a) if self.c["hidden_act"] == "silu" else torch.sigmoid(a)

    def expert(self, x, pre, k_n):
        """One SwiGLU expert on rows x, keeping the k_n largest |G| per row (masked dense); returns y, G, idx."""
        g = self.act(F.linear(x, self.w(pre + "gate_proj.weight")))
        D = g.shape[1]
        if k_n < D:
            idx = g.abs().topk(k_n, dim=1).indices
            mask = torch.zeros_like(g).scatter_(1, idx, 1.0)
            h = g * mask * F.linear(x, self.w(pre + "up_proj.weight"))
        else:
            idx = None
            h = g * F.linear(x, self.w(pre + "up_proj.weight"))
        return F.linear(h, self.w(pre + "down_proj.weight")), g, idx

    def moe(self, x, pre):
        c = self.c
        N = x.shape[0]
        E, K, D, k_n = c["num_experts"], c["num_experts_per_tok"], c["moe_intermediate_size"], c["neuron_topk"]
        logits = F.linear(x, self.w(pre + "gate.weight"))
        probs = logits.softmax(-1)
        wts, ids = probs.topk(K, dim=-1)
        if c.get("norm_topk_prob", False):
            wts = wts / wts.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        counts = torch.bincount(ids.flatten(), minlength=E)
        ng_terms = []
        for e in range(E):
            tok, slot = (ids == e).nonzero(as_tuple=True)
            if tok.numel() == 0:
                continue
            y, g, idx = self.expert(x[tok], f"{pre}experts.{e}.", k_n)
            out = out.index_add(0, tok, y * wts[tok, slot][:, None])
            if idx is not None:
                q = g.abs() / g.abs().sum(-1, keepdim=True)
                f = torch.bincount(idx.flatten(), minlength=D).float() / (tok.numel() * k_n)
                ng_terms.append(D * (f * q.mean(0)).sum())
        if c["num_shared_experts"] > 0:
            out = out + self.expert(x, pre + "shared_expert.", c["shared_expert_intermediate_size"])[0]
        lb = E * ((counts.float() / (N * K)) * probs.mean(0)).sum()
        z = torch.logsumexp(logits, -1).pow(2).mean()
        ng = torch.stack(ng_terms).mean() if ng_terms else None
        return out, lb, z, ng

    def forward(self, ids, targets):
        c = self.c
        x = F.embedding(ids, self.w("model.embed_tokens.weight"))
        B, T, d = x.shape
        lbs, zs, ngs = [], [], []
        for i in range(c["num_hidden_layers"]):
            pre = f"model.layers.{i}."
            x = x + self.attention(rmsnorm(x, self.w(pre + "input_layernorm.weight"), c["rms_norm_eps"]),
                                   pre + "self_attn.")
            h = rmsnorm(x, self.w(pre + "post_attention_layernorm.weight"), c["rms_norm_eps"]).reshape(B * T, d)
            if c["ffn_type"] == "dense":
                f = self.expert(h, pre + "mlp.", c["intermediate_size"])[0]
            else:
                f, lb, z, ng = self.moe(h, pre + "mlp.")
                lbs.append(lb)
                zs.append(z)
                if ng is not None:
                    ngs.append(ng)
            x = x + f.reshape(B, T, d)
        x = rmsnorm(x, self.w("model.norm.weight"), c["rms_norm_eps"])
        head = self.w("model.embed_tokens.weight") if c["tie_word_embeddings"] else self.w("lm_head.weight")
        loss = F.cross_entropy(F.linear(x, head).reshape(B * T, -1), targets.reshape(-1))
        if lbs:
            loss = loss + c["router_aux_loss_coef"] * torch.stack(lbs).mean() \
                        + c["router_z_loss_coef"] * torch.stack(zs).mean()
        if ngs:
            loss = loss + c["neuron_aux_loss_coef"] * torch.stack(ngs).mean()
        return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = json.load(open(f"{a.model_dir}/config.json"))
    model = Model(cfg, read_safetensors(f"{a.model_dir}/model.safetensors"))
    batch = read_safetensors(a.batch)
    ids, targets = batch["input_ids"].long(), batch["targets"].long()
    decay = [p for n, p in model.p.items() if p.dim() >= 2 and n != "model__embed_tokens__weight"]
    rest = [p for n, p in model.p.items() if not (p.dim() >= 2 and n != "model__embed_tokens__weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    times = []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        loss = model(ids, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        if s >= a.warmup:
            times.append(dt)
    times.sort()
    step = times[len(times) // 2]
    print(json.dumps({"step_seconds": step, "tokens_per_s": ids.numel() / step, "loss": loss.item(),
                      "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
