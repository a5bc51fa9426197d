r"""Stage 3, the reward model (RM): learn to predict which of two responses the labeler prefers.

Data, as in InstructGPT: for each prompt x the SFT model samples K responses (K = 4..9) and the
labeler ranks them; a ranking of K gives C(K, 2) comparisons (y_w preferred to y_l). Here the
labeler is the toy world's hidden gold labeler. The RM is the SFT model with its unembedding
replaced by a scalar head read at the last token (nn/heads.py), trained with

    loss(θ) = -1/C(K,2) · E_{(x, y_w, y_l)} [ log σ(r_θ(x, y_w) - r_θ(x, y_l)) ]

where all C(K, 2) pairs of one prompt sit in the same batch, so each response runs through the
model once (rl_math.rm_pairwise_loss). `--lm-feature` adds α·log-likelihood of the response
under the RM's own LM head to the scalar (nn/heads.py says why; the pipeline uses it). Pairs whose gold scores tie carry no preference and are
left out. After training the reward is normalised on reference samples (the SFT model's own
responses): a bias is subtracted so they score 0 on average, as in InstructGPT, and the reward
is divided by their standard deviation so that PPO's β means the same for any RM. Reported: held-out pairwise accuracy, on rankings
of eval-split prompts the RM never saw.

    minigpt reward --init runs/sft/ckpt --out-dir runs/reward --k 4
"""
import os
import time
from dataclasses import dataclass, field

import numpy as np

from minigpt import dist
from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp
from minigpt.checkpoint import load_json
from minigpt.config import Config, ConfigError, moved_into, nonnegative, positive
from minigpt.data.assistant import rank_responses, sample_prompts
from minigpt.generate import sample_batch
from minigpt.loop import Loop, adamw
from minigpt.nn.heads import RewardModel
from minigpt.optim import CosineOptimConfig
from minigpt.rl_math import rm_pairwise_loss
from minigpt.scoring import encode_for_rm, score_texts
from minigpt.stages.common import load_model
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_prompt, pad_batch


@dataclass
class RewardConfig(Config):
    MOVED = moved_into("optim", CosineOptimConfig)  # configs saved before the optimizer fields moved into `optim`

    init: str = "runs/sft/ckpt"  # SFT checkpoint: samples the responses, starts the RM
    out_dir: str = "runs/reward"  # where checkpoints and metrics go
    n_prompts: int = 800  # train-split prompts to rank
    n_eval_prompts: int = 200  # eval-split prompts for held-out pairwise accuracy
    k: int = 4  # responses ranked per prompt (InstructGPT: 4 to 9)
    lm_feature: bool = False  # add α·log-likelihood of the response under the RM's LM head (nn/heads.py)
    temperature: float = 1.0  # sampling temperature of the responses
    max_new_tokens: int = 40  # longest sampled response
    epochs: int = 2  # passes over the rankings
    prompts_per_batch: int = 8  # rankings per step (each brings its K responses and their pairs)
    optim: CosineOptimConfig = field(  # AdamW, warmup + cosine, gradient clipping
        default_factory=lambda: CosineOptimConfig(lr=3e-4, min_lr=3e-5, warmup_iters=10))
    data_seed: int = 2  # seeds prompts and samples
    seed: int = 1337  # seeds the head, batch order and dropout
    ckpt_interval: int = 500  # steps between checkpoints (and at the end)
    resume: bool = False  # continue from out_dir/ckpt if present
    force: bool = False  # start over even if out_dir already holds a run

    def validate(self):
        positive(self, "n_prompts", "n_eval_prompts", "max_new_tokens", "epochs", "prompts_per_batch", "ckpt_interval")
        nonnegative(self, "temperature", "data_seed", "seed")
        if self.k < 2:
            raise ConfigError("k", f"must be ≥ 2 (a ranking needs two responses; InstructGPT used K = 4..9), got {self.k}")


# -----------------------------------------------------------------------------
# data: K samples per prompt, ranked by the gold labeler

def make_rankings(policy, tok, prompts, k, temperature=1.0, max_new_tokens=40, seed=0):
    """One gold-labeler Ranking of `k` policy samples per prompt."""
    if k < 2:
        raise ValueError(f"a ranking needs K >= 2 responses per prompt (InstructGPT used K = 4..9), got K = {k}")
    ids = chat_ids(tok)
    contexts = [encode_prompt(tok, p.text) for p in prompts for _ in range(k)]
    responses = sample_batch(policy, contexts, max_new_tokens, (ids["end"], ids["eot"]), temperature=temperature,
                             seed=seed)
    texts = [decode_response(tok, r) for r in responses]
    return [rank_responses(p, texts[i * k:(i + 1) * k]) for i, p in enumerate(prompts)]


def ranking_batch(tok, rankings, block_size):
    """Token ids (N, T), lengths (N,), response starts (N,) and pair index arrays (winners,
    losers, groups) for rankings. Responses are each encoded once; tied pairs are left out."""
    rows, starts, winners, losers, groups = [], [], [], [], []
    for g, rk in enumerate(rankings):
        base = len(rows)
        for resp in rk.responses:
            ids, start = encode_for_rm(tok, rk.prompt, resp, block_size)
            rows.append(ids)
            starts.append(start)
        K = len(rk.responses)
        for i in range(K):
            for j in range(i + 1, K):
                if rk.scores[i] > rk.scores[j]:  # best first, so i wins unless tied
                    winners.append(base + i)
                    losers.append(base + j)
                    groups.append(g)
    x, lengths = pad_batch(rows, chat_ids(tok)["pad"])
    return (x, lengths, np.array(starts), np.array(winners, dtype=np.int64), np.array(losers, dtype=np.int64),
            np.array(groups))


def count_pairs(ranking):
    """Number of (winner, loser) pairs with different gold scores in one ranking."""
    s = ranking.scores
    return sum(s[i] > s[j] for i in range(len(s)) for j in range(i + 1, len(s)))


def pairwise_accuracy(rm, tok, rankings, batch_size=32):
    """Fraction of non-tied pairs the RM orders like the labeler (r_w > r_l), and the pair count."""
    correct, total = 0, 0
    with no_grad():
        for i in range(0, len(rankings), batch_size):
            x, lengths, starts, w, l_, _ = ranking_batch(tok, rankings[i:i + batch_size], rm.config.block_size)
            if len(w) == 0:
                continue
            r = to_numpy(rm(xp.asarray(x), lengths, starts).data)
            correct += int((r[w] > r[l_]).sum())
            total += len(w)
    return correct / max(total, 1), total


# -----------------------------------------------------------------------------
# training

def train(cfg, rm, tok, rankings, eval_rankings=(), *, progress=True, callback=None, stop_at=None):
    """Train a RewardModel on rankings through the one loop; normalise it; save. Returns a dict of results."""
    rankings = [r for r in rankings if len(set(r.scores)) > 1]  # a ranking of ties has no pairs
    if not rankings:
        raise ValueError("no ranking has two responses with different gold scores: nothing to learn from")
    G = cfg.prompts_per_batch
    steps_per_epoch = (len(rankings) + G - 1) // G
    orders = [np.random.default_rng([cfg.seed, epoch]).permutation(len(rankings)) for epoch in range(cfg.epochs)]

    def loss_fn(step, rng):
        epoch, b = divmod(step, steps_per_epoch)
        group = dist.my_rows(orders[epoch][b * G:(b + 1) * G])  # under mpiexec: this rank's share of the rankings
        x, lengths, starts, w, l_, g = ranking_batch(tok, [rankings[i] for i in group],
                                                     rm.config.block_size)
        loss, acc = rm_pairwise_loss(rm(xp.asarray(x), lengths, starts), w, l_, g)
        return loss, {"epoch": epoch, "acc": acc}

    def finish():
        """Normalise: responses sampled from the SFT model (the training samples) average 0, std 1."""
        rm.eval()
        raw = score_texts(rm, tok, [r.prompt for r in rankings for _ in r.responses],
                          [t for r in rankings for t in r.responses])
        bias, std = float(raw.mean()), float(raw.std())
        normalize_reward_model(rm, bias, std)
        done["eval"] = pairwise_accuracy(rm, tok, list(eval_rankings)) if eval_rankings else (None, 0)
        return {"reward_bias": bias, "reward_std": std, "eval_accuracy": done["eval"][0]}

    done = {}
    t0 = time.time()
    data = ([(r.prompt, r.responses, r.scores) for r in rankings],
            [(r.prompt, r.responses, r.scores) for r in eval_rankings])
    with Loop(cfg, "reward", tok, steps=cfg.epochs * steps_per_epoch, data=data, progress=progress,
              callback=callback) as loop:
        opt = adamw(rm.parameters(), cfg.optim)
        rm.train()
        history = loop.run({"model": rm}, {"model": opt}, loss_fn=loss_fn, finish=finish, show=("loss", "acc"),
                           meta={"lm_feature": rm.lm_feature}, stop_at=stop_at)
        saved = (loop.saved_config if loop.complete else loop.final_config) or {}  # {} if stopped early
    rm.eval()
    train_acc, _ = pairwise_accuracy(rm, tok, rankings)
    if "eval" not in done:  # a finished run loaded from its checkpoint
        done["eval"] = pairwise_accuracy(rm, tok, list(eval_rankings)) if eval_rankings else (None, 0)
    eval_acc, n_eval_pairs = done["eval"]
    return {"model": rm, "tokenizer": tok, "history": history, "ckpt": loop.ckpt_dir, "seconds": time.time() - t0,
            "train_accuracy": train_acc, "eval_accuracy": eval_acc, "eval_pairs": n_eval_pairs,
            "train_pairs": sum(count_pairs(r) for r in rankings),
            "reward_bias": saved.get("reward_bias"), "reward_std": saved.get("reward_std")}


def normalize_reward_model(rm, mean, std):
    r"""Rescale the RM in place so that r ← (r - mean) / std: every term of r is linear in
    (head.weight, head.bias, α), so dividing them by std and shifting the bias does it."""
    std = max(std, 1e-6)
    rm.head.weight.data /= np.float32(std)
    rm.head.bias.data -= np.float32(mean)
    rm.head.bias.data /= np.float32(std)
    if rm.lm_feature:
        rm.alpha.data /= np.float32(std)


def load_reward_model(directory):
    """(RewardModel, tokenizer, config) from a reward checkpoint; a clear error for any other stage."""
    from functools import partial
    lm_feature = bool(load_json(os.path.join(directory, "config.json")).get("lm_feature", False))
    return load_model(directory, expect_stage="reward", model_cls=partial(RewardModel, lm_feature=lm_feature))


def run(cfg, progress=True):
    """Sample and rank responses of the SFT model, train the RM on them."""
    policy, tok, _ = load_model(cfg.init, expect_stage="sft")
    t0 = time.time()
    rankings = make_rankings(policy, tok, sample_prompts(cfg.n_prompts, seed=cfg.data_seed), cfg.k,
                             cfg.temperature, cfg.max_new_tokens, seed=cfg.data_seed)
    eval_rankings = make_rankings(policy, tok, sample_prompts(cfg.n_eval_prompts, seed=cfg.data_seed, split="eval"),
                                  cfg.k, cfg.temperature, cfg.max_new_tokens, seed=cfg.data_seed + 1)
    sample_s = time.time() - t0
    rm = RewardModel.from_gpt(policy, seed=cfg.seed, lm_feature=cfg.lm_feature)
    res = train(cfg, rm, tok, rankings, eval_rankings, progress=progress)
    res["sample_seconds"] = sample_s
    return res


# -----------------------------------------------------------------------------
# CLI

def summary(cfg, res):
    """`minigpt reward`'s one line about a finished run (res: what run(cfg) returned)."""
    return (f"reward: {len(res['history']['step'])} steps in {res['seconds']:.1f}s (+{res['sample_seconds']:.1f}s sampling), "
            f"train pairwise acc {res['train_accuracy']:.3f}, held-out {res['eval_accuracy']:.3f} "
            f"on {res['eval_pairs']} pairs; checkpoint in {res['ckpt']}")
