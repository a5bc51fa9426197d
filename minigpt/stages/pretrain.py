r"""Stage 1, pretraining: next-token prediction on a document corpus.

Given tokens u_1..u_N, minimise the average negative log-likelihood of each
token given the ones before it (Radford et al. 2018, L1):

    L1 = -1/N Σ_i log P(u_i | u_{i-k}, ..., u_{i-1})

with AdamW, linear warmup + cosine decay, global-norm gradient clipping and
gradient accumulation. Checkpoints every `ckpt_interval` steps; `--resume`
continues from the last one and reproduces the uninterrupted run exactly (each
step's batch and dropout masks come from a generator seeded by (seed, step)).

    minigpt pretrain --data toyweb --max-iters 300 --out-dir runs/pretrain
    minigpt pretrain --data shakespeare --tokenizer char --max-iters 2000     # nanoGPT's CPU config
    minigpt pretrain --norm rmsnorm --mlp swiglu --pos rope                   # LLaMA-style blocks
"""
import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from minigpt.autograd import no_grad
from minigpt.backend import xp
from minigpt.checkpoint import load_checkpoint
from minigpt.data.tokens import get_batch, train_val_split
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.optim import AdamW, clip_grad_norm, cosine_lr
from minigpt.stages.common import MetricsLog, add_dataclass_args, from_args, save_stage


@dataclass
class PretrainConfig:
    out_dir: str = field(default="runs/pretrain", metadata={"help": "where checkpoints and metrics go"})
    data: str = field(default="toyweb", metadata={"help": "toyweb | shakespeare | path to a .txt file"})
    tokenizer: str = field(default="char", metadata={"help": "char | bpe:<vocab size> | path to a tokenizer JSON"})
    # model (GPTConfig fields; vocab_size comes from the tokenizer)
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads
    n_embd: int = 128  # model width
    block_size: int = 64  # context length
    dropout: float = 0.0  # dropout probability
    attn_impl: str = "naive"  # naive | flash
    norm: str = "layernorm"  # layernorm (GPT-2) | rmsnorm (LLaMA)
    mlp: str = "gelu"  # gelu (GPT-2) | swiglu (LLaMA)
    pos: str = "learned"  # learned (GPT-2) | rope (LLaMA)
    # optimisation
    batch_size: int = 12  # sequences per micro-batch
    grad_accum: int = 1  # micro-batches per optimizer step
    max_iters: int = 2000  # optimizer steps
    lr: float = 1e-3  # peak learning rate
    min_lr: float = 1e-4  # final learning rate of the cosine
    warmup_iters: int = 100  # linear warmup steps
    weight_decay: float = 0.1  # AdamW decoupled decay (matrices only)
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # max global gradient norm (0 = off)
    # bookkeeping
    eval_interval: int = 250  # steps between validation estimates
    eval_iters: int = 20  # batches per validation estimate
    ckpt_interval: int = 500  # steps between checkpoints (and at the end)
    n_chars: int = 300_000  # size of a generated corpus (toyweb)
    seed: int = 1337  # seeds the model init, batches and dropout
    resume: bool = False  # continue from out_dir/ckpt if present


# -----------------------------------------------------------------------------
# data

def load_text(cfg):
    """The training text named by cfg.data."""
    if cfg.data == "toyweb":
        from minigpt.data.toyweb import generate_corpus
        return generate_corpus(n_chars=cfg.n_chars, seed=cfg.seed)
    if cfg.data == "shakespeare":
        from minigpt.data.shakespeare import load_text as shakespeare_text
        return shakespeare_text(download=True)
    if os.path.exists(cfg.data):
        with open(cfg.data, encoding="utf-8") as f:
            return f.read()
    raise ValueError(f"data must be 'toyweb', 'shakespeare' or an existing text file, got {cfg.data!r}")


def build_tokenizer(spec, text):
    """char | bpe:<vocab> (trained on `text`) | path to a saved tokenizer."""
    from minigpt.tokenizer import BPETokenizer, CharTokenizer, load_tokenizer
    if spec == "char":
        return CharTokenizer.train(text)
    if spec.startswith("bpe:"):
        return BPETokenizer.train(text, vocab_size=int(spec[4:]))
    if os.path.exists(spec):
        return load_tokenizer(spec)
    raise ValueError(f"tokenizer must be 'char', 'bpe:<vocab size>' or a tokenizer JSON path, got {spec!r}")


def prepare(cfg):
    """(tokenizer, train ids, val ids) for a config: 90/10 split of the encoded text."""
    text = load_text(cfg)
    tok = build_tokenizer(cfg.tokenizer, text)
    ids = np.asarray(tok.encode(text, allowed_special="all"), dtype=np.uint16 if tok.vocab_size < 65536 else np.int64)
    train, val = train_val_split(ids, 0.1)
    return tok, train, val


# -----------------------------------------------------------------------------
# training

def estimate_loss(model, arr, batch_size, block_size, iters, seed):
    """Mean loss over `iters` random batches (fixed seed: the same batches every call)."""
    rng = np.random.default_rng([seed, 7919])
    was = model.training
    model.eval()
    losses = []
    with no_grad():
        for _ in range(iters):
            x, y = get_batch(arr, batch_size, block_size, rng)
            losses.append(model(xp.asarray(x), xp.asarray(y))[1].item())
    model.train(was)
    return float(np.mean(losses))


def model_config(cfg, vocab_size):
    return GPTConfig(vocab_size=vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer, n_head=cfg.n_head,
                     n_embd=cfg.n_embd, dropout=cfg.dropout, attn_impl=cfg.attn_impl, norm=cfg.norm, mlp=cfg.mlp,
                     pos=cfg.pos)


def train(cfg, tok, train_ids, val_ids, model=None, progress=True, callback=None, stop_at=None):
    """Pretrain (or continue training) a GPT; returns a dict of results.

    `callback(step, metrics)` is called after each evaluation (for notebook plots).
    `stop_at` ends the loop early at that step, as an interruption would (for testing resume).
    """
    ckpt_dir = os.path.join(cfg.out_dir, "ckpt")
    model = model or GPT(model_config(cfg, tok.vocab_size), seed=cfg.seed)
    opt = AdamW(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    start = 0
    if cfg.resume and os.path.exists(os.path.join(ckpt_dir, "config.json")):
        conf, state, ostate = load_checkpoint(ckpt_dir, with_optim=True)
        model.load_state_dict(state)
        if ostate is not None:
            opt.load_state_dict(ostate)
        start = int(conf["step"])
    log = MetricsLog(os.path.join(cfg.out_dir, "metrics.jsonl"), keep_before_step=start if cfg.resume else None)
    history = {"step": [], "train_loss": [], "eval_step": [], "val_loss": []}
    t0 = time.time()
    bar = tqdm(range(start, cfg.max_iters), desc="pretrain", disable=not progress, initial=start, total=cfg.max_iters)
    for step in bar:
        if stop_at is not None and step >= stop_at:
            break
        lr = cosine_lr(step, cfg.lr, cfg.warmup_iters, cfg.max_iters, cfg.min_lr)
        opt.lr = lr
        model.reseed(hash((cfg.seed, step)) % (2**32))
        loss_sum = 0.0
        for micro in range(cfg.grad_accum):
            x, y = get_batch(train_ids, cfg.batch_size, cfg.block_size, np.random.default_rng([cfg.seed, step, micro]))
            _, loss = model(xp.asarray(x), xp.asarray(y))
            (loss * (1.0 / cfg.grad_accum)).backward()
            loss_sum += loss.item()
        gnorm = clip_grad_norm(opt.params, cfg.grad_clip) if cfg.grad_clip > 0 else None
        opt.step()
        opt.zero_grad()
        train_loss = loss_sum / cfg.grad_accum
        history["step"].append(step)
        history["train_loss"].append(train_loss)
        row = {"step": step, "train_loss": train_loss, "lr": lr, "grad_norm": gnorm}
        last = step == cfg.max_iters - 1
        if (step + 1) % cfg.eval_interval == 0 or last:
            row["val_loss"] = estimate_loss(model, val_ids, cfg.batch_size, cfg.block_size, cfg.eval_iters, cfg.seed)
            history["eval_step"].append(step)
            history["val_loss"].append(row["val_loss"])
            bar.set_postfix(train=f"{train_loss:.3f}", val=f"{row['val_loss']:.3f}")
            if callback:
                callback(step, row)
        log.write(**row)
        if (step + 1) % cfg.ckpt_interval == 0 or last:
            save_stage(ckpt_dir, model, tok, "pretrain", optimizer=opt,
                       extra={"step": step + 1, "train_config": dataclasses.asdict(cfg)})
    elapsed = time.time() - t0
    tokens = (cfg.max_iters - start) * cfg.grad_accum * cfg.batch_size * cfg.block_size
    return {"model": model, "tokenizer": tok, "history": history, "ckpt": ckpt_dir, "seconds": elapsed,
            "tokens_per_s": tokens / max(elapsed, 1e-9),
            "val_loss": history["val_loss"][-1] if history["val_loss"] else None}


def run(cfg, progress=True):
    tok, tr, va = prepare(cfg)
    return train(cfg, tok, tr, va, progress=progress)


# -----------------------------------------------------------------------------
# CLI

def add_cli_args(parser):
    add_dataclass_args(parser, PretrainConfig)


def cli_main(args):
    cfg = from_args(PretrainConfig, args)
    res = run(cfg)
    print(f"pretrain: {cfg.max_iters} steps in {res['seconds']:.1f}s ({res['tokens_per_s']:.0f} tok/s), "
          f"val loss {res['val_loss']:.4f}; checkpoint in {res['ckpt']}")
    return 0
