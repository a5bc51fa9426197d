r"""Stage 2, supervised fine-tuning (SFT): imitate demonstrations written in the chat template.

A pretrained model completes documents. Fine-tuning it on (prompt, response) demonstrations
teaches it to answer. Each demonstration becomes one sequence (chat_template.py) and the loss
counts only the assistant's tokens (prompt masking):

    L2 = -1/|A| Σ_{t ∈ A} log P(u_t | u_<t)          A = assistant tokens (response + <|end|>)

GPT-1 also kept the language-modelling loss on the fine-tuning text as an auxiliary objective:

    L3 = L2 + λ · L1,    L1 = -1/|S| Σ_{t ∈ S} log P(u_t | u_<t)     S = every real token

Subtle: batches are drawn from length-sorted pools (less padding), so one batch holds only short
answers ("68") and another only long ones ("The answer is 68."). A per-batch token mean would then
give each token of a short answer more weight than each token of a long one, and the model would
under-imitate long answers (here: chatter). So each batch's token mean is rescaled by
(assistant tokens in the batch) / (their average per batch over the data set): every token of the
data set counts the same, as in the maximum-likelihood objective.

The demonstrations come from the toy world's imperfect contractors (errors and chatter), and
SFT imitates them, flaws included; RL (ppo.py) then has room to do better.

    minigpt sft --init runs/pretrain/ckpt --out-dir runs/sft --epochs 2
    minigpt sft --init runs/pretrain/ckpt --out-dir runs/sft_lora --lora-r 8 --optim.lr 3e-3     # LoRA adapters only
"""
import time
from dataclasses import dataclass, field

import numpy as np

from minigpt import dist, ops
from minigpt.autograd import no_grad
from minigpt.backend import xp
from minigpt.config import Config, moved_into, nonnegative, positive
from minigpt.data.assistant import make_demonstrations
from minigpt.loop import Loop, adamw
from minigpt.nn.lora import add_lora, merge_lora
from minigpt.optim import CosineOptimConfig
from minigpt.ops import IGNORE_INDEX
from minigpt.stages.common import load_model
from minigpt.tokenizer.chat_template import chat_ids, pad_batch, sft_example


@dataclass
class SFTConfig(Config):
    MOVED = moved_into("optim", CosineOptimConfig)  # configs saved before the optimizer fields moved into `optim`

    init: str = "runs/pretrain/ckpt"  # pretrained checkpoint to start from
    out_dir: str = "runs/sft"  # where checkpoints and metrics go
    n_demos: int = 4000  # contractor demonstrations (train split)
    n_val: int = 300  # held-out demonstrations (eval split) for the validation loss
    epochs: int = 2  # passes over the demonstrations (InstructGPT: 16)
    batch_size: int = 32  # sequences per step
    optim: CosineOptimConfig = field(  # AdamW, warmup + cosine, gradient clipping
        default_factory=lambda: CosineOptimConfig(lr=1e-3, min_lr=1e-4, warmup_iters=20))
    aux_lm_coef: float = 0.0  # λ in L3 = L2 + λ·L1 (GPT-1's auxiliary LM loss; 0 = off)
    lora_r: int = 0  # > 0: train only rank-r LoRA adapters on the blocks' Linears (nn/lora.py), merged at the end
    lora_alpha: float = 16.0  # LoRA scale α (the update is (α/r)·B·A)
    eval_interval: int = 50  # steps between validation losses
    data_seed: int = 1  # seeds the demonstrations
    seed: int = 1337  # seeds batch order and dropout
    ckpt_interval: int = 500  # steps between checkpoints (and at the end)
    resume: bool = False  # continue from out_dir/ckpt if present
    force: bool = False  # start over even if out_dir already holds a run

    def validate(self):
        positive(self, "n_demos", "n_val", "epochs", "batch_size", "lora_alpha", "eval_interval", "ckpt_interval")
        nonnegative(self, "aux_lm_coef", "lora_r", "data_seed", "seed")


LORA_TARGETS = ("attn.qkv", "attn.proj", "mlp.fc", "mlp.proj", "mlp.gate", "mlp.up")  # every Linear of a block

# -----------------------------------------------------------------------------
# data

def encode_demos(tok, demos, block_size):
    """[(inputs, targets)] for a list of (Prompt or str, response); raises if one does not fit."""
    out = []
    for prompt, response in demos:
        text = prompt if isinstance(prompt, str) else prompt.text
        out.append(sft_example(tok, text, response, block_size=block_size))
    return out


def make_batch(examples, pad_id):
    """(x, y_masked, y_all) arrays (B, T): inputs, assistant-only targets (L2), all-token targets (L1)."""
    x, lengths = pad_batch([e[0] for e in examples], pad_id)
    y, _ = pad_batch([e[1] for e in examples], IGNORE_INDEX)
    y_all = np.full_like(x, IGNORE_INDEX)
    for i, (inp, _) in enumerate(examples):
        y_all[i, :len(inp) - 1] = inp[1:]  # next real token (the last target, <|end|>, is in y only)
    y_all = np.where(y != IGNORE_INDEX, y, y_all)  # every real next token, including the final <|end|>
    return x, y, y_all


def epoch_batches(lengths, batch_size, rng, pool=16):
    """One epoch's batches of example indices: shuffled, but each batch drawn from a pool of
    `pool` batches sorted by length, so a batch pads to a similar length (less wasted compute)."""
    order = rng.permutation(len(lengths))
    batches = []
    span = batch_size * pool
    for s in range(0, len(order), span):
        chunk = sorted(order[s:s + span], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def assistant_tokens(y):
    """How many targets of y (one example's list or a batch array) are trained on (not IGNORE_INDEX)."""
    return np.count_nonzero(np.asarray(y) != IGNORE_INDEX)


def token_weight(y, tokens_per_example):
    r"""Weight of one batch's token-mean loss so that every assistant token of the data set counts the same:
    $w_b = n_b / (\bar n \cdot B)$, with $n_b$ the batch's assistant tokens (targets != IGNORE_INDEX), $B$ its rows
    and $\bar n$ the mean assistant tokens per example. Then the mean over batches of $w_b \cdot \text{mean}_b$
    is the token mean over the whole data set (for batches of equal B). e.g. y = [[5, IGNORE_INDEX], [7, 8]], n̄ = 2 -> 3/4."""
    return assistant_tokens(y) / (tokens_per_example * len(y))


def lm_tokens(example):
    """How many targets the LM loss L1 counts in one (inputs, targets) example: every next real token
    (make_batch's y_all: inputs[1:], then the last target if it is trained on). e.g. ([5, 6, 7], [-100, 7, 9]) -> 3."""
    inputs, targets = example
    return len(inputs) - 1 + int(targets[-1] != IGNORE_INDEX)


def sft_losses(model, x, y, y_all, aux_lm_coef, weight=1.0, aux_weight=1.0):
    """(loss to minimise, L2, L1 or None) for one batch; `weight` scales the L2 term of the loss
    (the token-count correction of the module docstring; the returned L2 itself is the plain mean)
    and `aux_weight` the L1 term (data parallelism's correction, see `train`)."""
    logits, l2 = model(xp.asarray(x), xp.asarray(y), ignore_index=IGNORE_INDEX)
    loss = l2 * weight if weight != 1.0 else l2
    if aux_lm_coef == 0:
        return loss, l2, None
    l1 = ops.cross_entropy(logits, xp.asarray(y_all), ignore_index=IGNORE_INDEX)
    return loss + (aux_lm_coef * aux_weight) * l1, l2, l1


def eval_loss(model, examples, pad_id, batch_size=64, all_tokens=False):
    """Mean assistant-token loss L2 over examples (token-weighted); all_tokens=True: the LM loss L1
    over every real token (prompt included)."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    with no_grad():
        for i in range(0, len(examples), batch_size):
            x, y, y_all = make_batch(examples[i:i + batch_size], pad_id)
            y = y_all if all_tokens else y
            n = int((y != IGNORE_INDEX).sum())
            total += model(xp.asarray(x), xp.asarray(y), ignore_index=IGNORE_INDEX)[1].item() * n
            count += n
    model.train(was)
    return total / max(count, 1)


# -----------------------------------------------------------------------------
# training

def train(cfg, model, tok, demos, val_demos=(), *, progress=True, callback=None, stop_at=None):
    """Fine-tune `model` on demonstrations [(prompt, response)] through the one loop; returns a dict of results.

    The history holds per-step train loss (L2, and L1 if λ > 0) and periodic validation L2.
    """
    ids = chat_ids(tok)
    block_size = model.config.block_size
    train_ex = encode_demos(tok, demos, block_size)
    val_ex = encode_demos(tok, val_demos, block_size)
    if not train_ex:
        raise ValueError("SFT needs at least one demonstration")
    lengths = [len(e[0]) for e in train_ex]
    schedule = [(epoch, rows) for epoch in range(cfg.epochs)
                for rows in epoch_batches(lengths, cfg.batch_size, np.random.default_rng([cfg.seed, epoch]))]
    n_assistant = [assistant_tokens(e[1]) for e in train_ex]
    n_lm = [lm_tokens(e) for e in train_ex]
    tokens_per_example = np.mean(n_assistant)

    def token_share(counts, rows, batch):
        """Under mpiexec the loop weights this rank's loss by its share of the batch's rows; a token mean over
        the whole batch needs its share of the tokens instead: this factor turns the one into the other
        (1 when this rank holds the whole batch)."""
        if len(rows) == len(batch):
            return 1.0
        return sum(counts[i] for i in rows) * len(batch) / (sum(counts[i] for i in batch) * len(rows))

    def loss_fn(step, rng):
        epoch, batch = schedule[step]
        rows = dist.my_rows(batch)  # under mpiexec: this rank's share of the batch
        x, y, y_all = make_batch([train_ex[i] for i in rows], ids["pad"])
        l1_share = token_share(n_lm, rows, batch) if cfg.aux_lm_coef else 1.0  # L1: mean over all the batch's tokens
        loss, l2, l1 = sft_losses(model, x, y, y_all, cfg.aux_lm_coef, token_weight(y, tokens_per_example), l1_share)
        logged = {"l2": l2.item() * token_share(n_assistant, rows, batch)}  # the whole batch's means, once summed
        if l1 is not None:
            logged["l1"] = l1.item() * l1_share
        return loss, {"epoch": epoch, **logged}

    def evaluate(step):
        return {"val_loss": eval_loss(model, val_ex, ids["pad"])}

    def finish():
        if cfg.lora_r:
            merge_lora(model)  # a plain GPT again: the checkpoint loads like any SFT model
        return {}

    t0 = time.time()
    with Loop(cfg, "sft", tok, steps=len(schedule), data=(train_ex, val_ex), progress=progress,
              callback=callback) as loop:
        if cfg.lora_r and not loop.complete:
            add_lora(model, r=cfg.lora_r, alpha=cfg.lora_alpha, targets=LORA_TARGETS, seed=cfg.seed)
        opt = adamw(model.parameters(), cfg.optim)
        model.train()
        history = loop.run({"model": model}, {"model": opt}, loss_fn=loss_fn, evaluate=evaluate if val_ex else None,
                           finish=finish, show=("l2", "val_loss"), stop_at=stop_at)
    for k in ("loss", "l2", "l1", "eval_step", "val_loss"):
        history.setdefault(k, [])
    return {"model": model, "tokenizer": tok, "history": history, "ckpt": loop.ckpt_dir, "seconds": time.time() - t0,
            "val_loss": history["val_loss"][-1] if history["val_loss"] else None,
            "train_loss": float(np.mean(history["l2"][-10:]))}


def run(cfg, progress=True):
    """Load the pretrained model, make the demonstrations, fine-tune."""
    model, tok, _ = load_model(cfg.init, expect_stage=("pretrain", "sft"))
    chat_ids(tok)  # clear error if the tokenizer lacks the chat tokens
    demos = make_demonstrations(cfg.n_demos, seed=cfg.data_seed)
    val = make_demonstrations(cfg.n_val, seed=cfg.data_seed + 1000, split="eval")
    return train(cfg, model, tok, demos, val, progress=progress)


# -----------------------------------------------------------------------------
# CLI

def summary(cfg, res):
    """`minigpt sft`'s one line about a finished run (res: what run(cfg) returned)."""
    return (f"sft: {len(res['history']['step'])} steps in {res['seconds']:.1f}s, train loss {res['train_loss']:.4f}, "
            f"val loss {res['val_loss']:.4f}; checkpoint in {res['ckpt']}")
