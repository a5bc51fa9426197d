r"""Group Relative Policy Optimization (GRPO, Shao et al. 2024, DeepSeekMath): PPO without a value head.

PPO needs a value function V(s_t) as a baseline, i.e. a second network to train. GRPO gets its
baseline from the samples instead: for each prompt x draw a *group* of G responses y_1..y_G, score
them with the reward model, and compare each with its siblings:

    A_i = (r_i - mean(r_1..r_G)) / (std(r_1..r_G) + ε)          (population std; one A per response)

Every token of response i gets the same advantage A_i. The update is PPO's clipped surrogate, with
the KL to the SFT policy as a loss term (not folded into the reward), using the non-negative,
unbiased per-token estimator (Schulman's k3)

    ρ_t = π_θ(a_t|s_t) / π_old(a_t|s_t)
    KL_t = π_ref/π_θ - log(π_ref/π_θ) - 1          (≥ 0, with expectation KL(π_θ ‖ π_ref))
    L = -mean_t min(ρ_t A, clip(ρ_t, 1-ε, 1+ε) A) + β · mean_t KL_t

Means run over every real response token of the batch (each token weighs the same, as in the
"Dr. GRPO"/DAPO variants; the paper first averages within a response). A group whose G rewards are
all equal teaches nothing (all A = 0): it is the spread inside a group that carries the signal.
Rollouts, scores and log-probabilities reuse the PPO stage's code (ppo.py, rl_math.py).

Under data parallelism (`mpiexec -n N minigpt grpo …`) each rank rolls out a contiguous share of the
iteration's prompts, whole groups, so the group advantages need nothing from the other ranks; response
j is sampled from its own generator seeded by (iteration seed, j), and minibatches are split as in PPO
(ppo.RolloutShare): N ranks compute what one process computes.

    minigpt grpo --init runs/pipeline/sft/ckpt --reward runs/pipeline/reward/ckpt --out-dir runs/grpo
"""
import time
from dataclasses import dataclass

import numpy as np

from minigpt import ops, rl_math
from minigpt.autograd import Tensor, no_grad
from minigpt.backend import to_numpy, xp
from minigpt.config import nonnegative, positive
from minigpt.data.assistant import gold_score, sample_prompts
from minigpt.generate import sample_batch
from minigpt.loop import Loop, adamw, optimizer_step
from minigpt.scoring import response_logprobs, score_texts
from minigpt.stages.ppo import RLConfig, RolloutShare, draw_prompts, global_means, load_for_ppo, start_rl
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_prompt, pad_batch


@dataclass
class GRPOConfig(RLConfig):
    out_dir: str = "runs/grpo"  # where checkpoints and metrics go
    prompts_per_iter: int = 16  # prompts per rollout ...
    group_size: int = 4  # ... each answered G times (16 × 4 = PPO's 64 responses)
    kl_coef: float = 0.05  # β, weight of the KL(π ‖ π_ref) loss term
    adv_eps: float = 1e-4  # ε in the group normalisation

    def validate(self):
        super().validate()
        positive(self, "prompts_per_iter", "group_size", "adv_eps")
        nonnegative(self, "kl_coef")


# -----------------------------------------------------------------------------
# the math

def group_advantages(scores, group_size, eps=1e-4):
    r"""(r - group mean) / (group std + ε) for scores (N,) laid out as N/G consecutive groups of G.

    Example: scores [1, 0, 0, 1, 2, 2], G = 2 → groups [1, 0], [0, 1], [2, 2]: means .5, .5, 2;
    stds .5, .5, 0 → [1, -1, -1, 1, 0, 0] (up to ε).
    """
    s = np.asarray(scores, dtype=np.float64)
    if group_size < 2 or s.ndim != 1 or len(s) % group_size:
        raise ValueError(f"scores must be 1-D with a length divisible by group_size ≥ 2, got {s.shape} and "
                         f"group_size={group_size}")
    g = s.reshape(-1, group_size)  # (P, G)
    adv = (g - g.mean(axis=1, keepdims=True)) / (g.std(axis=1, keepdims=True) + eps)
    return adv.reshape(-1)


def grpo_loss(logp, old_logp, ref_logp, advantages, mask, clip_eps=0.2, kl_coef=0.05):
    r"""Clipped surrogate with one advantage per sequence + β · mean k3 estimate of KL(π_θ ‖ π_ref).

    logp: Tensor (B, T); old_logp, ref_logp, mask: arrays (B, T); advantages: (B,).
    Returns (loss, stats) with the policy part (pg_loss), the mean KL_t (kl) and PPO's clip stats.
    """
    mask = np.asarray(mask)
    adv = np.asarray(advantages, dtype=np.float64)[:, None] * mask  # (B, T): A_i on every token of response i
    pg_loss, stats = rl_math.ppo_policy_loss(logp, np.asarray(old_logp), adv, mask, clip_eps)
    d = Tensor(np.asarray(ref_logp, dtype=logp.dtype)) - logp  # log(π_ref / π_θ), (B, T)
    kl = ops.exp(d) - d - 1.0  # k3: ≥ 0, zero where π_θ = π_ref
    kl_loss = rl_math.masked_mean(kl, mask)
    stats.update(pg_loss=pg_loss.item(), kl=kl_loss.item())
    return pg_loss + kl_loss * kl_coef, stats


# -----------------------------------------------------------------------------
# rollouts

def rollout(policy, ref, rm, tok, prompts, cfg, seed, first=0):
    """G samples per prompt, RM scores, group advantages, old and reference log-probabilities.

    Response j of the batch is sampled from its own generator, seeded by (seed, first·G + j): a rank that
    rolls out prompts first, first + 1, ... of an iteration samples what one process would.
    """
    ids = chat_ids(tok)
    group = [p for p in prompts for _ in range(cfg.group_size)]  # each prompt G times, consecutively
    contexts = [encode_prompt(tok, p.text) for p in group]
    start = first * cfg.group_size
    responses = sample_batch(policy, contexts, cfg.max_new_tokens, (ids["end"], ids["eot"]),
                             temperature=cfg.temperature, seed=[(seed, start + j) for j in range(len(contexts))])
    texts = [decode_response(tok, r) for r in responses]
    closed = np.array([len(r) > 0 and r[-1] in (ids["end"], ids["eot"]) for r in responses])
    scores = score_texts(rm, tok, group, texts) - cfg.missing_eos_penalty * (~closed)
    x, _ = pad_batch([c + r for c, r in zip(contexts, responses)], ids["pad"])
    plens, rlens = np.array([len(c) for c in contexts]), np.array([len(r) for r in responses])
    with no_grad():
        logp, logits, mask = response_logprobs(policy, xp.asarray(x), plens, rlens)
        ref_logp, _, _ = response_logprobs(ref, xp.asarray(x), plens, rlens)
    logp, ref_logp = (to_numpy(t.data).astype(np.float64) for t in (logp, ref_logp))
    return {"x": x, "plens": plens, "rlens": rlens, "mask": mask, "logp": logp, "ref_logp": ref_logp,
            "adv": group_advantages(scores, cfg.group_size, cfg.adv_eps), "scores": scores, "texts": texts,
            "kl": ((logp - ref_logp) * mask).sum(axis=1), "entropy": rl_math.entropy(to_numpy(logits), mask),
            "closed": closed, "gold": np.array([gold_score(p, t) for p, t in zip(group, texts)])}


def grpo_update(policy, opt, batch, cfg, rng, share=None):
    """Epochs of minibatch steps on one rollout; returns per-minibatch stats (of the whole minibatch).

    share (data parallelism): the rows of the rollout this rank holds (ppo.RolloutShare); None: all of it.
    """
    share = share or RolloutShare(len(batch["x"]), batch["rlens"])
    stats = []
    for _, idx, w in share.minibatches(cfg.ppo_epochs, cfg.minibatch_size, rng):
        parts = [0.0] * 4  # loss, pg_loss, kl, clipfrac: this rank's token-weighted share
        if len(idx):
            plens, rlens = batch["plens"][idx], batch["rlens"][idx]
            R = int(rlens.max())
            x = batch["x"][idx][:, :int((plens + rlens).max())]
            logp, _, mask = response_logprobs(policy, xp.asarray(x), plens, rlens)
            loss, st = grpo_loss(logp, batch["logp"][idx][:, :R], batch["ref_logp"][idx][:, :R],
                                 batch["adv"][idx], mask, cfg.clip_eps, cfg.kl_coef)
            (loss * w).backward()
            parts = [loss.item() * w] + [st[k] * w for k in ("pg_loss", "kl", "clipfrac")]
        total, pg_loss, kl, clipfrac = share.comm.sum_floats(*parts)
        optimizer_step(opt, cfg.optim.grad_clip, loss=total, reduce="sum")
        stats.append({"pg_loss": pg_loss, "kl": kl, "clipfrac": clipfrac})
    return stats


# -----------------------------------------------------------------------------
# training

def train(cfg, policy, ref, rm, tok, prompts, *, progress=True, callback=None, stop_at=None):
    """Run GRPO through the one loop (one step = one rollout + its updates); returns a dict with the policy,
    per-iteration history and checkpoint path."""
    rng, comm = start_rl(cfg, policy, ref, rm, cfg.prompts_per_iter, "prompts-per-iter")  # (whole groups per rank)

    def iteration(step, _):
        mine, lo = draw_prompts(prompts, cfg.prompts_per_iter, rng, comm)
        batch = rollout(policy, ref, rm, tok, mine, cfg, seed=int(rng.integers(2**31)), first=lo)
        G = cfg.group_size
        st = grpo_update(policy, opt, batch, cfg, rng,
                         RolloutShare(cfg.prompts_per_iter * G, batch["rlens"], lo * G, comm))
        m = global_means(batch, comm, keys=("scores", "gold", "kl", "rlens", "closed"))
        zero_spread = comm.sum_floats(float((batch["scores"].reshape(-1, G).std(axis=1) == 0).sum()))[0]
        return {"score": m["scores"], "gold": m["gold"], "kl": m["kl"], "entropy": m["entropy"],
                "resp_len": m["rlens"], "closed": m["closed"], "pg_loss": float(np.mean([s["pg_loss"] for s in st])),
                "kl_loss": float(np.mean([s["kl"] for s in st])),
                "clipfrac": float(np.mean([s["clipfrac"] for s in st])),
                "zero_adv_groups": zero_spread / cfg.prompts_per_iter}

    def set_state(state):
        rng.bit_generator.state = state["rng"]

    t0 = time.time()
    data = (prompts, *rm.state_dict().values(), *ref.state_dict().values())
    with Loop(cfg, "grpo", tok, steps=cfg.iters, data=data, progress=progress, callback=callback) as loop:
        opt = adamw(policy.parameters(), cfg.optim)
        history = loop.run({"model": policy}, {"model": opt}, iteration_fn=iteration,
                           state=(lambda: {"rng": rng.bit_generator.state}, set_state),
                           show=("score", "gold", "kl"), stop_at=stop_at)
    return {"model": policy, "tokenizer": tok, "history": history, "ckpt": loop.ckpt_dir, "seconds": time.time() - t0}


def run(cfg, progress=True):
    policy, ref, rm, tok = load_for_ppo(cfg.init, cfg.reward)
    return train(cfg, policy, ref, rm, tok, sample_prompts(cfg.n_prompts, seed=cfg.data_seed), progress=progress)


# -----------------------------------------------------------------------------
# CLI

def summary(cfg, res):
    """`minigpt grpo`'s one line about a finished run (res: what run(cfg) returned)."""
    h = res["history"]
    return (f"grpo: {cfg.iters} iterations in {res['seconds']:.1f}s; "
            f"RM score {h['score'][0]:.3f} -> {h['score'][-1]:.3f}, "
            f"KL {h['kl'][-1]:.3f} nats; checkpoint in {res['ckpt']}")
