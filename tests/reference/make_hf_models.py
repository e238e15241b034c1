#!/usr/bin/env python3
"""Tiny random Hugging Face MoE models and their logits, for mone's interop tests
(tests/train/test_hf_interop.cpp). Run by hand, not in CI.

Setup (transformers 4.45.2 on Debian's python3-torch 1.13):
    /usr/bin/python3 -m venv --system-site-packages /tmp/hfvenv
    /tmp/hfvenv/bin/pip install transformers==4.45.2

1. The models and their logits (commit the output):
    /tmp/hfvenv/bin/python tests/reference/make_hf_models.py tests/data/hf
   writes, each with NAME.logits.safetensors ("input_ids" i64 [2, 8], "logits" f32 [2, 8, V],
   computed by transformers in f32 from the stored weights):
     mixtral/         MixtralForCausalLM, f32, one model.safetensors
     mixtral_packed/  the same weights in newer transformers' packed expert layout
                      (mlp.experts.gate_up_proj [E, 2I, H], mlp.experts.down_proj [E, H, I]);
                      its logits are mixtral's
     qwen2_moe/       Qwen2MoeForCausalLM, bf16 in three shards with model.safetensors.index.json,
                      q/k/v biases, a gated shared expert, a dense middle layer (mlp_only_layers),
                      tied embeddings
     olmoe/           OlmoeForCausalLM, f16, q/k norms, clip_qkv that clamps, attention_bias
   and mone models (mone's config.json keys and tensor names) for the export check:
     mone_moe/        MoE, renormalised router, no shared expert: exports as Mixtral
     mone_shared/     MoE with an ungated shared expert, plain router weights, a dense first
                      layer: exports as Qwen2-MoE (zero q/k/v biases, zero gate, doubled down_proj)
     mone_mone/       MoNE (K_N = 3 of 12): exports as Mixtral; transformers runs every neuron

2. The export check, once mone is built (commit the NAME.export_logits.safetensors it writes):
    /tmp/hfvenv/bin/python tests/reference/make_hf_models.py tests/data/hf --mone build/bin/mone
   runs `mone export` on every model above, loads each export with transformers'
   from_pretrained, and
     - for the transformers models: checks the export's logits equal the original's (1e-6);
     - for the mone models: writes the export's logits to NAME.export_logits.safetensors, which
       the C++ test compares with mone's own logits of NAME (mone_mone: of NAME as a MoE).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file

VOCAB, B, T = 48, 2, 8
TRUNK = dict(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             max_position_embeddings=32, rope_theta=10000.0, initializer_range=0.3)


def randomize_constants(model, gen):
    """Norm weights and biases start at 1 and 0 in transformers; give them values that matter."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def logits_of(model, ids):
    with torch.no_grad():
        return model(ids).logits.float()


def check_no_near_ties(model, ids, name):
    """f32 and f64 must agree: a routing decision or a neuron choice near a tie would flip."""
    f32 = logits_of(model, ids)
    f64 = logits_of(model.double(), ids)
    model.float()
    err = (f32.double() - f64).abs().max() / f64.abs().max()
    if err > 1e-5:
        sys.exit(f"{name}: f32 and f64 logits differ by {err:.2e}: a routing decision is near a tie; change the seed")


def write_logits(path, ids, logits):
    save_file({"input_ids": ids.contiguous(), "logits": logits.contiguous()}, path)


def make_hf_model(out, name, config, save_dtype, seed, **save_kwargs):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    config._attn_implementation = "eager"  # torch 1.13 has no scaled_dot_product_attention
    model = transformers.AutoModelForCausalLM.from_config(config).eval()
    randomize_constants(model, gen)
    path = os.path.join(out, name)
    shutil.rmtree(path, ignore_errors=True)
    model.to(save_dtype).save_pretrained(path, safe_serialization=True, **save_kwargs)
    # The logits of the stored weights (bf16 and f16 rounded), computed in f32.
    model = transformers.AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32,
                                                              attn_implementation="eager").eval()
    ids = torch.randint(0, VOCAB, (B, T), generator=gen)
    check_no_near_ties(model, ids, name)
    write_logits(os.path.join(out, f"{name}.logits.safetensors"), ids, logits_of(model, ids))
    return path


def make_packed(out, source, name):
    """The mixtral weights as newer transformers store them: experts packed, the router under mlp."""
    tensors = load_file(os.path.join(out, source, "model.safetensors"))
    config = json.load(open(os.path.join(out, source, "config.json")))
    packed = {}
    for layer in range(config["num_hidden_layers"]):
        pre = f"model.layers.{layer}.block_sparse_moe."
        experts = range(config["num_local_experts"])
        gate_up = [torch.cat([tensors.pop(f"{pre}experts.{e}.w1.weight"), tensors.pop(f"{pre}experts.{e}.w3.weight")])
                   for e in experts]
        down = [tensors.pop(f"{pre}experts.{e}.w2.weight") for e in experts]
        packed[f"model.layers.{layer}.mlp.experts.gate_up_proj"] = torch.stack(gate_up)  # [E, 2I, H]
        packed[f"model.layers.{layer}.mlp.experts.down_proj"] = torch.stack(down)  # [E, H, I]
        packed[f"model.layers.{layer}.mlp.gate.weight"] = tensors.pop(f"{pre}gate.weight")
    packed.update(tensors)
    path = os.path.join(out, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    save_file(packed, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    json.dump(config, open(os.path.join(path, "config.json"), "w"), indent=2)


# ---- mone models: mone's config.json keys and tensor names (DESIGN.md) ----

def swiglu(prefix, d, width, gen, std):
    return {prefix + "gate_proj.weight": std * torch.randn(width, d, generator=gen),
            prefix + "up_proj.weight": std * torch.randn(width, d, generator=gen),
            prefix + "down_proj.weight": std * torch.randn(d, width, generator=gen)}


def make_mone_model(out, name, config, seed, std=0.3):
    gen = torch.Generator().manual_seed(seed)
    d, layers = config["hidden_size"], config["num_hidden_layers"]
    kv = config["num_key_value_heads"] * d // config["num_attention_heads"]
    t = {"model.embed_tokens.weight": std * torch.randn(VOCAB, d, generator=gen)}
    for i in range(layers):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + 0.2 * torch.randn(d, generator=gen)
        t[p + "post_attention_layernorm.weight"] = 1 + 0.2 * torch.randn(d, generator=gen)
        for proj, rows in (("q", d), ("k", kv), ("v", kv)):
            t[f"{p}self_attn.{proj}_proj.weight"] = std * torch.randn(rows, d, generator=gen)
        t[p + "self_attn.o_proj.weight"] = std * torch.randn(d, d, generator=gen)
        if i in config.get("mlp_only_layers", []):
            t.update(swiglu(p + "mlp.", d, config["intermediate_size"], gen, std))
            continue
        t[p + "mlp.gate.weight"] = std * torch.randn(config["num_experts"], d, generator=gen)
        for e in range(config["num_experts"]):
            t.update(swiglu(f"{p}mlp.experts.{e}.", d, config["moe_intermediate_size"], gen, std))
        if config.get("num_shared_experts", 0):
            t.update(swiglu(p + "mlp.shared_expert.", d, config["shared_expert_intermediate_size"], gen, std))
    t["model.norm.weight"] = 1 + 0.2 * torch.randn(d, generator=gen)
    t["lm_head.weight"] = std * torch.randn(VOCAB, d, generator=gen)
    path = os.path.join(out, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    save_file(t, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    full = dict(architectures=["MoneForCausalLM"], model_type="mone", rms_norm_eps=1e-6, **config)
    json.dump(full, open(os.path.join(path, "config.json"), "w"), indent=2)


MONE_BASE = dict(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 max_position_embeddings=32, rope_theta=10000.0, num_experts=4, num_experts_per_tok=2,
                 moe_intermediate_size=12)
MONE_MODELS = {
    "mone_moe": (dict(MONE_BASE, ffn_type="moe", norm_topk_prob=True), "MixtralForCausalLM", 21),
    "mone_shared": (dict(MONE_BASE, ffn_type="moe", norm_topk_prob=False, num_shared_experts=1,
                         shared_expert_intermediate_size=8, intermediate_size=20, mlp_only_layers=[0]),
                    "Qwen2MoeForCausalLM", 22),
    "mone_mone": (dict(MONE_BASE, ffn_type="mone", neuron_topk=3, norm_topk_prob=True), "MixtralForCausalLM", 23),
}
HF_MODELS = ["mixtral", "mixtral_packed", "qwen2_moe", "olmoe"]


def make_models(out):
    os.makedirs(out, exist_ok=True)
    make_hf_model(out, "mixtral", transformers.MixtralConfig(
        **TRUNK, intermediate_size=12, num_local_experts=4, num_experts_per_tok=2, rms_norm_eps=1e-5),
        torch.float32, seed=1)
    make_packed(out, "mixtral", "mixtral_packed")
    make_hf_model(out, "qwen2_moe", transformers.Qwen2MoeConfig(
        **dict(TRUNK, num_hidden_layers=3), intermediate_size=20, moe_intermediate_size=12,
        shared_expert_intermediate_size=24, num_experts=4, num_experts_per_tok=2, norm_topk_prob=False,
        mlp_only_layers=[1], tie_word_embeddings=True, rms_norm_eps=1e-6),
        torch.bfloat16, seed=2, max_shard_size="10KB")
    make_hf_model(out, "olmoe", transformers.OlmoeConfig(
        **TRUNK, intermediate_size=12, num_experts=4, num_experts_per_tok=2, norm_topk_prob=False,
        clip_qkv=0.6, attention_bias=True, rms_norm_eps=1e-5),
        torch.float16, seed=3)
    for name, (config, _, seed) in MONE_MODELS.items():
        make_mone_model(out, name, config, seed)
    print("wrote", ", ".join(HF_MODELS + list(MONE_MODELS)), "to", out)


def check_exports(out, mone):
    ids = torch.randint(0, VOCAB, (B, T), generator=torch.Generator().manual_seed(99))
    with tempfile.TemporaryDirectory() as tmp:
        for name in HF_MODELS + list(MONE_MODELS):
            exported = os.path.join(tmp, name)
            subprocess.run([mone, "export", "--checkpoint", os.path.join(out, name), "--to", exported], check=True)
            arch = json.load(open(os.path.join(exported, "config.json")))["architectures"][0]
            model = transformers.AutoModelForCausalLM.from_pretrained(exported, torch_dtype=torch.float32,
                                                                      attn_implementation="eager").eval()
            if name in MONE_MODELS:
                expected_arch = MONE_MODELS[name][1]
                if arch != expected_arch:
                    sys.exit(f"{name}: exported as {arch}, expected {expected_arch}")
                write_logits(os.path.join(out, f"{name}.export_logits.safetensors"), ids, logits_of(model, ids))
                print(f"{name}: exported as {arch}; transformers' logits stored")
                continue
            ref = load_file(os.path.join(out, f"{'mixtral' if name == 'mixtral_packed' else name}.logits.safetensors"))
            got = logits_of(model, ref["input_ids"])
            err = ((got - ref["logits"]).abs().max() / ref["logits"].abs().max()).item()
            print(f"{name}: exported as {arch}; transformers' logits of the export vs the original: {err:.2e}")
            if err > 1e-6:
                sys.exit(f"{name}: the export computes different logits")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="tests/data/hf")
    parser.add_argument("--mone", help="the mone binary: check its exports instead of making the models")
    args = parser.parse_args()
    if transformers.__version__ != "4.45.2":
        sys.exit(f"transformers {transformers.__version__}: the reference is 4.45.2")
    if args.mone:
        check_exports(args.out, args.mone)
    else:
        make_models(args.out)


if __name__ == "__main__":
    main()
