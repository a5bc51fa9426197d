r"""Direct Preference Optimization (DPO, Rafailov et al. 2023): RLHF without a reward model or RL.

PPO maximises E[r(x, y)] - β KL(π ‖ π_ref) with a learned reward r. That objective has a closed-form
optimum, π*(y|x) ∝ π_ref(y|x) · exp(r(x, y)/β); solved for r it says every policy defines an
*implicit reward*

    r̂(x, y) = β · (log π(y|x) - log π_ref(y|x))        (up to a term in x only, which cancels below)

Put r̂ into the reward model's pairwise loss, -log σ(r(x, y_w) - r(x, y_l)), and train the policy
directly on the labeler's preference pairs (y_w preferred to y_l):

    L_DPO = -E log σ( β [ (log π_θ(y_w|x) - log π_ref(y_w|x)) - (log π_θ(y_l|x) - log π_ref(y_l|x)) ] )

log π(y|x) = Σ_t log π(y_t | x, y_<t) sums over the response tokens (its <|end|> included).
No sampling during training, no value head, no reward model: one supervised-looking loss. β plays
the role of PPO's KL coefficient: small β lets π move far from π_ref. The gradient pushes up
y_w and down y_l, weighted by σ(r̂_l - r̂_w): how wrong the implicit reward still orders the pair.

Data: the same gold-labeler rankings the reward model is trained on (reward.make_rankings), each
K-way ranking expanded to its non-tied (winner, loser) pairs.

    minigpt dpo --init runs/pipeline/sft/ckpt --out-dir runs/dpo --beta 0.1
"""
import time
from dataclasses import dataclass, field

import numpy as np

from minigpt import dist, ops
from minigpt.autograd import Tensor, no_grad
from minigpt.backend import to_numpy
from minigpt.config import Config, ConfigError, moved_into, nonnegative, positive
from minigpt.data.assistant import ranking_pairs, sample_prompts
from minigpt.loop import Loop, adamw
from minigpt.optim import CosineOptimConfig
from minigpt.scoring import sequence_logprobs
from minigpt.stages.common import load_model
from minigpt.stages.reward import make_rankings
from minigpt.tokenizer.chat_template import chat_ids, encode_prompt


@dataclass
class DPOConfig(Config):
    MOVED = moved_into("optim", CosineOptimConfig)  # configs saved before the optimizer fields moved into `optim`

    init: str = "runs/sft/ckpt"  # SFT checkpoint: the initial policy and π_ref
    out_dir: str = "runs/dpo"  # where checkpoints and metrics go
    n_prompts: int = 800  # train prompts whose K samples the labeler ranks
    k: int = 4  # responses per ranking
    beta: float = 0.1  # β: strength of the implicit KL anchor to π_ref
    epochs: int = 2  # passes over the preference pairs
    batch_size: int = 32  # pairs per step (each pair: two sequences)
    optim: CosineOptimConfig = field(  # AdamW, warmup + cosine, gradient clipping
        default_factory=lambda: CosineOptimConfig(lr=1e-4, min_lr=1e-5, warmup_iters=5, beta2=0.95))
    data_seed: int = 2  # seeds prompts and samples
    seed: int = 1337  # seeds batch order
    ckpt_interval: int = 500  # steps between checkpoints (and at the end)
    resume: bool = False  # continue from out_dir/ckpt if present
    force: bool = False  # start over even if out_dir already holds a run

    def validate(self):
        positive(self, "n_prompts", "beta", "epochs", "batch_size", "ckpt_interval")
        nonnegative(self, "data_seed", "seed")
        if self.k < 2:
            raise ConfigError("k", f"must be ≥ 2 (a preference pair needs two responses), got {self.k}")


# -----------------------------------------------------------------------------
# the loss

def dpo_loss(pi_w, pi_l, ref_w, ref_l, beta):
    r"""-mean log σ(β[(π_w - ref_w) - (π_l - ref_l)]) for sequence log-probabilities (B,).

    pi_w, pi_l: Tensors (log π_θ of the chosen / rejected responses); ref_w, ref_l: arrays.
    Returns (loss, stats): accuracy = fraction of pairs whose implicit reward r̂_w > r̂_l,
    margin = mean r̂_w - r̂_l, chosen / rejected = mean implicit rewards.
    """
    ref_w, ref_l = (np.asarray(to_numpy(a), dtype=pi_w.dtype) for a in (ref_w, ref_l))
    r_w = (pi_w - Tensor(ref_w)) * beta  # implicit rewards r̂ = β (log π - log π_ref), (B,)
    r_l = (pi_l - Tensor(ref_l)) * beta
    margin = r_w - r_l
    loss = -ops.log_sigmoid(margin).mean()
    m = to_numpy(margin.data)
    return loss, {"accuracy": float((m > 0).mean()), "margin": float(m.mean()),
                  "chosen": float(to_numpy(r_w.data).mean()), "rejected": float(to_numpy(r_l.data).mean())}


# -----------------------------------------------------------------------------
# data

def preference_pairs(rankings):
    """[(prompt text, chosen text, rejected text)] from gold-labeler Rankings; tied pairs dropped."""
    return [(rk.prompt.text, win, lose) for rk in rankings for win, lose in ranking_pairs(rk, drop_ties=True)]


def encode_pairs(tok, pairs, block_size):
    """(contexts, chosen ids, rejected ids): chat-template prompt and responses ending in <|end|>,
    each response cut so that context + response fits the context window (as sampling does)."""
    end = chat_ids(tok)["end"]
    ctx, win, lose = [], [], []
    for prompt, w, lo in pairs:
        c = encode_prompt(tok, prompt)
        room = block_size - len(c)
        if room < 1:
            raise ValueError(f"prompt {prompt!r} leaves no room for a response in block_size={block_size}")
        ctx.append(c)
        win.append((tok.encode_ordinary(w) + [end])[:room])
        lose.append((tok.encode_ordinary(lo) + [end])[:room])
    return ctx, win, lose


def reference_logprobs(ref, contexts, responses, pad_id, batch_size=64):
    """log π_ref(y|x) for every pair, computed once before training (π_ref is frozen): array (N,)."""
    out = []
    was = ref.training
    ref.eval()
    with no_grad():
        for s in range(0, len(contexts), batch_size):
            out.append(to_numpy(sequence_logprobs(ref, contexts[s:s + batch_size], responses[s:s + batch_size],
                                                  pad_id).data))
    ref.train(was)
    return np.concatenate(out).astype(np.float64)


# -----------------------------------------------------------------------------
# training

def train(cfg, policy, ref, tok, pairs, *, progress=True, callback=None, stop_at=None):
    """DPO on [(prompt, chosen, rejected)] text triples through the one loop; returns a dict of results
    (policy trained in place)."""
    if not pairs:
        raise ValueError("DPO needs at least one (prompt, chosen, rejected) preference pair")
    if cfg.beta <= 0:
        raise ValueError(f"DPO's β must be > 0, got {cfg.beta}")
    pad = chat_ids(tok)["pad"]
    ctx, win, lose = encode_pairs(tok, pairs, policy.config.block_size)
    ref_w = reference_logprobs(ref, ctx, win, pad)
    ref_l = reference_logprobs(ref, ctx, lose, pad)
    n = len(pairs)
    steps_per_epoch = -(-n // cfg.batch_size)
    orders = [np.random.default_rng([cfg.seed, epoch]).permutation(n) for epoch in range(cfg.epochs)]

    def loss_fn(step, rng):
        epoch, b = divmod(step, steps_per_epoch)
        idx = dist.my_rows(orders[epoch][b * cfg.batch_size:(b + 1) * cfg.batch_size])  # mpiexec: this rank's share
        B = len(idx)
        c = [ctx[i] for i in idx]
        lp = sequence_logprobs(policy, c + c, [win[i] for i in idx] + [lose[i] for i in idx], pad)  # (2B,)
        loss, st = dpo_loss(lp[:B], lp[B:], ref_w[idx], ref_l[idx], cfg.beta)
        return loss, {"epoch": epoch, **st}

    t0 = time.time()
    with Loop(cfg, "dpo", tok, steps=cfg.epochs * steps_per_epoch, data=(ctx, win, lose), progress=progress,
              callback=callback) as loop:
        opt = adamw(policy.parameters(), cfg.optim)
        policy.eval()  # no dropout: π_θ and π_ref must be the same function at step 0
        history = loop.run({"model": policy}, {"model": opt}, loss_fn=loss_fn, show=("loss", "accuracy"),
                           meta={"pairs": n}, stop_at=stop_at)
    return {"model": policy, "tokenizer": tok, "history": history, "ckpt": loop.ckpt_dir, "pairs": n,
            "seconds": time.time() - t0}


def run(cfg, progress=True):
    """Load the SFT model twice (policy, π_ref), rank its samples with the gold labeler, train."""
    policy, tok, _ = load_model(cfg.init, expect_stage=("sft", "ppo", "dpo", "grpo"))
    ref, _, _ = load_model(cfg.init)
    rankings = make_rankings(ref, tok, sample_prompts(cfg.n_prompts, seed=cfg.data_seed), cfg.k, seed=cfg.data_seed)
    return train(cfg, policy, ref, tok, preference_pairs(rankings), progress=progress)


# -----------------------------------------------------------------------------
# CLI

def summary(cfg, res):
    """`minigpt dpo`'s one line about a finished run (res: what run(cfg) returned)."""
    h = res["history"]
    return (f"dpo: {res['pairs']} pairs, {len(h['step'])} steps in {res['seconds']:.1f}s; loss {h['loss'][0]:.3f} -> "
            f"{h['loss'][-1]:.3f}, implicit-reward accuracy {h['accuracy'][-1]:.2f}; checkpoint in {res['ckpt']}")
