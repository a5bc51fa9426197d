r"""LLaMA's block vs GPT-2's on one budget, weight quantization of the result, and LoRA fine-tuning.

1. blocks     pretrain the same-size model on the world's corpus five ways, same steps, batches
              and learning rate: GPT-2 (LayerNorm, GELU MLP, learned positions), each LLaMA change
              alone (RMSNorm, SwiGLU, RoPE), and all three (the LLaMA block). Validation loss,
              parameters, time.
2. quantize   the trained GPT-2 model's matrices to INT8 per channel, INT4 per channel and INT4 in
              groups of 32/16 (also with the tied embedding kept in float32): size, weight error,
              validation-loss change.
3. LoRA       supervised fine-tuning of the pretrained model with all weights vs with rank-r
              adapters on every Linear of the blocks (SFTConfig.lora_r; the rest frozen): trainable parameters,
              memory for gradients and AdamW state, validation loss, accuracy.

    python -c "from minigpt.experiments.blocks import *; print(run_blocks(BlocksConfig.quick())['blocks'])"
"""
import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np
from minigpt.data.assistant import make_demonstrations, pretrain_tokens, sample_prompts, world_tokenizer
from minigpt.evaluate import evaluate_model
from minigpt.nn.gpt import GPT, GPTConfig, count_params
from minigpt.nn.lora import add_lora, count_trainable, training_memory
from minigpt.quantize import dequantize, quantize, quantized_copy
from minigpt.stages import pretrain, sft
from minigpt.stages.pretrain import estimate_loss

VARIANTS = {  # name -> GPTConfig options
    "gpt2": dict(norm="layernorm", mlp="gelu", pos="learned"),
    "rmsnorm": dict(norm="rmsnorm", mlp="gelu", pos="learned"),
    "swiglu": dict(norm="layernorm", mlp="swiglu", pos="learned"),
    "rope": dict(norm="layernorm", mlp="gelu", pos="rope"),
    "llama": dict(norm="rmsnorm", mlp="swiglu", pos="rope"),
}


@dataclass
class BlocksConfig:
    out_dir: str = "runs/beyond/blocks"
    seed: int = 0
    variants: tuple = tuple(VARIANTS)  # which blocks to train
    model: GPTConfig = field(  # every variant's size (the variant sets norm, mlp, pos; vocab_size: the tokenizer's)
        default_factory=lambda: GPTConfig(n_layer=3, n_head=4, n_embd=96, block_size=72))
    n_docs: int = 4000  # world documents (pretraining corpus)
    iters: int = 600  # pretraining steps per variant
    batch_size: int = 32
    lr: float = 2e-3
    eval_batches: int = 40  # validation batches (fixed) for the loss and for quantization
    group_size: int = 32  # INT4 group size for the quantized assistant's accuracy
    # LoRA vs full SFT, from the pretrained GPT-2 model
    n_demos: int = 12800  # one epoch: 400 steps of 32
    sft_epochs: int = 1
    sft_lr: float = 1e-3
    lora_lr: float = 3e-3
    lora_r: int = 8
    lora_alpha: float = 16.0
    n_eval: int = 300  # held-out prompts for accuracy

    @classmethod
    def quick(cls, **kw):
        small = dict(variants=("gpt2", "llama"), model=GPTConfig(n_layer=2, n_head=4, n_embd=48, block_size=72),
                     n_docs=300, iters=40, eval_batches=8,
                     n_demos=200, n_eval=48, out_dir="runs/beyond/blocks_quick")
        return cls(**{**small, **kw})


# -----------------------------------------------------------------------------
# 1. GPT-2 vs LLaMA blocks

def val_loss(model, val_ids, cfg):
    return estimate_loss(model, val_ids, cfg.batch_size, cfg.model.block_size, cfg.eval_batches, seed=cfg.seed + 1)


def compare_blocks(cfg, tok, train_ids, val_ids, progress=False, log=print):
    """{variant: params, val loss, seconds, tokens/s} and the trained models."""
    rows, models = {}, {}
    for name in cfg.variants:
        pcfg = pretrain.PretrainConfig(
            out_dir=os.path.join(cfg.out_dir, name), model=dataclasses.replace(cfg.model, **VARIANTS[name]),
            batch_size=cfg.batch_size, max_iters=cfg.iters,
            optim=dict(lr=cfg.lr, min_lr=cfg.lr / 10, warmup_iters=max(1, cfg.iters // 30)), eval_interval=10**9, eval_iters=1, ckpt_interval=10**9,
            seed=cfg.seed)
        res = pretrain.train(pcfg, None, tok, train_ids, val_ids, progress=progress)
        model = res["model"]
        rows[name] = {"params": count_params(model.config), "val_loss": val_loss(model, val_ids, cfg),
                      "train_loss_last50": float(np.mean(res["history"]["train_loss"][-50:])),
                      "seconds": res["seconds"], "tokens_per_s": res["tokens_per_s"], **VARIANTS[name]}
        models[name] = model
        log(f"{name}: val loss {rows[name]['val_loss']:.4f}, {rows[name]['params']:,} params, {res['seconds']:.0f}s")
    return rows, models


# -----------------------------------------------------------------------------
# 2. quantization

def quantization_report(model, loss_fn, group_sizes=(32, 16)):
    """{scheme: bytes, ratio, bits/weight, relative RMS weight error, loss, relative loss change} for FP32,
    INT8 per channel, INT4 per channel, INT4 in groups of each size, and INT4 groups of 32 with the tied
    embedding / output head kept in float32 ("linear layers only")."""
    base = loss_fn(model)
    state = model.state_dict()
    fp32 = sum(p.data.nbytes for p in model.parameters())
    out = {"fp32": {"bytes": fp32, "ratio": 1.0, "weight_error": 0.0, "loss": base, "rel_change": 0.0}}
    schemes = ([("int8", 8, None, ()), ("int4_channel", 4, None, ())] +
               [(f"int4_g{g}", 4, g, ()) for g in group_sizes] + [("int4_g32_linear_only", 4, 32, ("wte.weight",))])
    for name, bits, g, skip in schemes:
        q, rep = quantized_copy(model, bits=bits, group_size=g, skip=skip)
        mats = [w for k, w in state.items() if w.ndim >= 2 and k not in skip]
        err2 = sum(float(((w - dequantize(quantize(w, bits, g))) ** 2).sum()) for w in mats)
        norm2 = sum(float((w.astype(np.float64) ** 2).sum()) for w in mats)
        loss = loss_fn(q)
        out[name] = {"bytes": rep["quantized_bytes"], "ratio": rep["ratio"],
                     "bits_per_weight": rep["bits_per_quantized_weight"], "weight_error": (err2 / norm2) ** 0.5,
                     "loss": loss, "rel_change": (loss - base) / base}
    return out


# -----------------------------------------------------------------------------
# 3. LoRA vs full fine-tuning

def lora_vs_full(cfg, base_model, tok, progress=False, log=print):
    """SFT the same pretrained model twice (all weights / LoRA adapters only) with the same data and steps."""
    demos = make_demonstrations(cfg.n_demos, seed=cfg.seed + 1)
    val = make_demonstrations(200, seed=cfg.seed + 2, split="eval")
    prompts = sample_prompts(cfg.n_eval, seed=cfg.seed + 100, split="eval")
    out = {}
    for name in ("full", "lora"):
        model = GPT(base_model.config)
        model.load_state_dict(base_model.state_dict())
        r = cfg.lora_r if name == "lora" else 0
        probe = GPT(base_model.config)  # count what will train, on a copy (sft.train adds the adapters itself)
        if r:
            add_lora(probe, r=r, alpha=cfg.lora_alpha, targets=sft.LORA_TARGETS)
        trainable, mem = count_trainable(probe), training_memory(probe)
        scfg = sft.SFTConfig(out_dir=os.path.join(cfg.out_dir, f"sft_{name}"), epochs=cfg.sft_epochs,
                             optim=dict(lr=cfg.lora_lr if r else cfg.sft_lr), eval_interval=10**9, seed=cfg.seed, lora_r=r,
                             lora_alpha=cfg.lora_alpha)
        t = time.time()
        res = sft.train(scfg, model, tok, demos, val, progress=progress)  # adapters merged at the end
        seconds = time.time() - t
        g = evaluate_model(model, tok, prompts, temperature=0.0, seed=cfg.seed)
        out[name] = {"trainable_params": trainable, "total_params": model.num_parameters(),
                     "train_memory_bytes": mem["total"], "grad_and_optimizer_bytes": mem["grads"] + mem["optimizer"],
                     "val_loss": res["val_loss"], "accuracy": g["accuracy"], "seconds": seconds}
        log(f"SFT {name}: {trainable:,} trainable, val loss {res['val_loss']:.3f}, accuracy {g['accuracy']:.3f}")
        if name == "full":
            out["quantized_sft_accuracy"] = quantized_accuracy(model, tok, prompts, cfg)
    return out


def quantized_accuracy(model, tok, prompts, cfg):
    """Greedy accuracy on held-out prompts of the SFT model in FP32, INT8 and INT4 (groups)."""
    out = {"fp32": evaluate_model(model, tok, prompts, temperature=0.0, seed=cfg.seed)["accuracy"]}
    for name, bits, g in (("int8", 8, None), (f"int4_g{cfg.group_size}", 4, cfg.group_size)):
        q, _ = quantized_copy(model, bits=bits, group_size=g)
        out[name] = evaluate_model(q, tok, prompts, temperature=0.0, seed=cfg.seed)["accuracy"]
    return out


# -----------------------------------------------------------------------------
# everything

def run_blocks(cfg, progress=False, log=print):
    t0 = time.time()
    tok = world_tokenizer()
    train_ids, val_ids = pretrain_tokens(tok, cfg.n_docs, cfg.seed)
    blocks, models = compare_blocks(cfg, tok, train_ids, val_ids, progress, log)
    base = models["gpt2"]
    quant = quantization_report(base, lambda m: val_loss(m, val_ids, cfg))
    lora = lora_vs_full(cfg, base, tok, progress, log)
    return {"config": dataclasses.asdict(cfg), "blocks": blocks, "quantization": quant, "lora": lora,
            "wall_s": time.time() - t0, "models": models, "tokenizer": tok, "val_ids": val_ids}
