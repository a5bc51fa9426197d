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
    minigpt pretrain --model.norm rmsnorm --model.mlp swiglu --model.pos rope   # LLaMA-style blocks
    minigpt pretrain --model.n-layer 2 --model.n-embd 64 --model.attn-impl flash
"""
import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np

from minigpt import dist
from minigpt.autograd import no_grad
from minigpt.backend import xp
from minigpt.config import Config, moved_into, nonnegative, positive
from minigpt.data.shakespeare import load_text as shakespeare_text
from minigpt.data.tokens import encode_array, get_batch, train_val_split
from minigpt.data.toyweb import generate_corpus
from minigpt.loop import Loop, adamw
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.optim import CosineOptimConfig
from minigpt.tokenizer import BPETokenizer, CharTokenizer, load_tokenizer


@dataclass
class PretrainConfig(Config):
    MOVED = moved_into("optim", CosineOptimConfig)  # configs saved before the optimizer fields moved into `optim`

    out_dir: str = "runs/pretrain"  # where checkpoints and metrics go
    data: str = "toyweb"  # toyweb | shakespeare | path to a .txt file
    tokenizer: str = "char"  # char | bpe:<vocab size> | path to a tokenizer JSON
    model: GPTConfig = field(default_factory=GPTConfig,  # the network (its vocab_size comes from the tokenizer)
                             metadata={"cli_skip": ("vocab_size",)})
    # optimisation
    batch_size: int = 12  # sequences per micro-batch
    grad_accum: int = 1  # micro-batches per optimizer step
    max_iters: int = 2000  # optimizer steps
    optim: CosineOptimConfig = field(  # AdamW, warmup + cosine, gradient clipping
        default_factory=lambda: CosineOptimConfig(lr=1e-3, min_lr=1e-4, warmup_iters=100, weight_decay=0.1))
    # bookkeeping
    eval_interval: int = 250  # steps between validation estimates
    eval_iters: int = 20  # batches per validation estimate
    ckpt_interval: int = 500  # steps between checkpoints (and at the end)
    n_chars: int = 300_000  # size of a generated corpus (toyweb)
    seed: int = 1337  # seeds the model init, batches and dropout
    resume: bool = False  # continue from out_dir/ckpt if present
    force: bool = False  # start over even if out_dir already holds a run (deletes its checkpoint and metrics)

    def validate(self):
        positive(self, "batch_size", "grad_accum", "max_iters", "eval_interval", "eval_iters", "ckpt_interval", "n_chars")
        nonnegative(self, "seed")


# -----------------------------------------------------------------------------
# data

def load_text(cfg):
    """The training text named by cfg.data."""
    if cfg.data == "toyweb":
        return generate_corpus(n_chars=cfg.n_chars, seed=cfg.seed)
    if cfg.data == "shakespeare":
        return shakespeare_text(download=True)
    if os.path.exists(cfg.data):
        with open(cfg.data, encoding="utf-8") as f:
            return f.read()
    raise ValueError(f"data must be 'toyweb', 'shakespeare' or an existing text file, got {cfg.data!r}")


def build_tokenizer(spec, text):
    """char | bpe:<vocab> (trained on `text`) | path to a saved tokenizer."""
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
    ids = encode_array(tok, text)  # a NumPy array, never one big Python list
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


def check_split(name, ids, block_size):
    """A split must hold one batch row (block_size + 1 tokens): fail before training, not at the first eval."""
    if len(ids) < block_size + 1:
        raise ValueError(f"the {name} split has {len(ids)} tokens but one sequence needs block_size + 1 = "
                         f"{block_size + 1}: use more data (e.g. a larger --n-chars) or a smaller --model.block-size")


def model_config(cfg, vocab_size):
    """The run's GPTConfig: cfg.model with the tokenizer's vocabulary size."""
    return dataclasses.replace(cfg.model, vocab_size=vocab_size)


def train(cfg, model, tok, train_ids, val_ids, *, progress=True, callback=None, stop_at=None):
    """Pretrain (or continue training) `model` through the one loop (loop.py); returns a dict of results.

    `model`: the GPT to train, or None for a new one (cfg.model with the tokenizer's vocabulary, seeded by cfg.seed).

    `callback(step, row)` is called after each evaluation (for notebook plots).
    `stop_at` ends the loop early at that step without saving, as a crash would (for testing resume).
    """
    T = cfg.model.block_size
    check_split("training", train_ids, T)
    check_split("validation", val_ids, T)
    model = GPT(model_config(cfg, tok.vocab_size), seed=cfg.seed) if model is None else model
    opt = adamw(model.parameters(), cfg.optim)

    def loss_fn(step, rng):
        x, y = get_batch(train_ids, cfg.batch_size, T, rng)
        rows = dist.my_rows(np.arange(len(x)))  # under mpiexec with grad_accum < N: this rank's share
        return model(xp.asarray(x[rows]), xp.asarray(y[rows]))[1]

    def evaluate(step):
        return {"val_loss": estimate_loss(model, val_ids, cfg.batch_size, T, cfg.eval_iters, cfg.seed)}

    t0 = time.time()
    with Loop(cfg, "pretrain", tok, steps=cfg.max_iters, data=(train_ids, val_ids), progress=progress,
              callback=callback) as loop:
        start = loop.start
        history = loop.run({"model": model}, {"model": opt}, loss_fn=loss_fn, evaluate=evaluate,
                           loss_key="train_loss", stop_at=stop_at)
    elapsed = time.time() - t0
    tokens = (cfg.max_iters - start) * cfg.grad_accum * cfg.batch_size * T
    history.setdefault("eval_step", [])
    history.setdefault("val_loss", [])
    return {"model": model, "tokenizer": tok, "history": history, "ckpt": loop.ckpt_dir, "seconds": elapsed,
            "tokens_per_s": tokens / max(elapsed, 1e-9),
            "val_loss": history["val_loss"][-1] if history["val_loss"] else None}


def run(cfg, progress=True):
    tok, tr, va = prepare(cfg)
    return train(cfg, None, tok, tr, va, progress=progress)


# -----------------------------------------------------------------------------
# CLI

def summary(cfg, res):
    """`minigpt pretrain`'s one line about a finished run (res: what run(cfg) returned)."""
    return (f"pretrain: {cfg.max_iters} steps in {res['seconds']:.1f}s ({res['tokens_per_s']:.0f} tok/s), "
            f"val loss {res['val_loss']:.4f}; checkpoint in {res['ckpt']}")
