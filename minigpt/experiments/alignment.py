r"""PPO vs DPO vs GRPO on the toy assistant world, from the same SFT model and reward model.

1. world models   pretrain → SFT → reward model, as the pipeline does (cached in out_dir)
2. three aligners, with matched sampling budgets:
      PPO    64 rollouts per iteration, value head, per-token KL penalty     (stages/ppo.py)
      GRPO   16 prompts × 4 samples per iteration, group baseline, no value head (stages/grpo.py)
      DPO    the reward model's own training rankings as preference pairs, no RM, no sampling
3. evaluation     each policy answers the same held-out prompts (temperature 1); the gold labeler
                  grades them; win rate vs SFT (ties half), KL(π ‖ SFT) per response, training time.
4. inference-time best-of-N with the RM on the SFT model (gold score vs N), and reflection
                  (retry answers the RM scores below a threshold).

    python -c "from minigpt.experiments.alignment import *; print(run_alignment(AlignConfig.quick())['table'])"
"""
import dataclasses
import os
import time
from dataclasses import dataclass

import numpy as np

from minigpt.stages.common import load_model


@dataclass
class AlignConfig:
    out_dir: str = "runs/beyond/align"  # checkpoints of every model
    reuse: bool = True  # load the world models from out_dir if they are there
    seed: int = 0
    # world models (the pipeline's defaults)
    n_layer: int = 3
    n_head: int = 4
    n_embd: int = 96
    block_size: int = 72
    n_docs: int = 4000  # pretraining documents
    pretrain_iters: int = 1200
    pretrain_batch: int = 32
    pretrain_lr: float = 2e-3
    n_demos: int = 6000  # SFT demonstrations
    sft_epochs: int = 4
    sft_lr: float = 1e-3
    rm_prompts: int = 800  # ranked prompts: the RM's data, and DPO's pairs
    k: int = 4  # responses per ranking
    rm_epochs: int = 2
    rm_lr: float = 3e-4
    # aligners
    rl_iters: int = 60  # PPO and GRPO iterations, 64 sampled responses each
    ppo_lr: float = 3e-5
    ppo_kl_coef: float = 0.05  # β (adaptive, target 4 nats as in the pipeline)
    grpo_lr: float = 3e-5
    grpo_kl_coef: float = 0.05
    group_size: int = 4
    dpo_beta: float = 0.1
    dpo_epochs: int = 2
    dpo_lr: float = 5e-5
    # evaluation and inference-time techniques
    n_eval: int = 400  # held-out prompts
    bon_prompts: int = 200  # prompts for the best-of-N curve
    best_of: int = 16  # largest N
    reflect_threshold: float = 0.0  # retry answers whose RM score is below this (0 = the SFT average)
    reflect_tries: int = 4

    @classmethod
    def quick(cls, **kw):
        """A smoke-test size (tens of seconds): the numbers mean little, the code paths all run."""
        small = dict(n_layer=2, n_embd=48, n_docs=300, pretrain_iters=60, n_demos=400, sft_epochs=1, rm_prompts=48,
                     rm_epochs=1, rl_iters=3, dpo_epochs=1, n_eval=48, bon_prompts=24, best_of=4, reflect_tries=2,
                     out_dir="runs/beyond/align_quick")
        return cls(**{**small, **kw})


# -----------------------------------------------------------------------------
# 1. the world models

def world_models(cfg, progress=False, log=print):
    """(tokenizer, SFT model, reward model, the RM's train rankings, seconds per stage), trained or loaded."""
    from minigpt.data.assistant import make_demonstrations, sample_prompts
    from minigpt.nn.heads import RewardModel
    from minigpt.pipeline import pretrain_tokens, world_tokenizer
    from minigpt.stages import pretrain, reward, sft
    from minigpt.stages.reward import load_reward_model, make_rankings
    sft_dir, rm_dir = os.path.join(cfg.out_dir, "sft", "ckpt"), os.path.join(cfg.out_dir, "reward", "ckpt")
    seconds = {}
    if cfg.reuse and os.path.exists(os.path.join(rm_dir, "config.json")):
        sft_model, tok, _ = load_model(sft_dir, expect_stage="sft")
        rm, _, _ = load_reward_model(rm_dir)
        log(f"loaded SFT and reward models from {cfg.out_dir}")
    else:
        tok = world_tokenizer()
        t = time.time()
        train_ids, val_ids = pretrain_tokens(tok, cfg.n_docs, cfg.seed)
        pcfg = pretrain.PretrainConfig(
            out_dir=os.path.join(cfg.out_dir, "pretrain"), n_layer=cfg.n_layer, n_head=cfg.n_head,
            n_embd=cfg.n_embd, block_size=cfg.block_size, batch_size=cfg.pretrain_batch, max_iters=cfg.pretrain_iters,
            lr=cfg.pretrain_lr, min_lr=cfg.pretrain_lr / 10, warmup_iters=max(1, cfg.pretrain_iters // 30),
            eval_interval=max(1, cfg.pretrain_iters // 6), eval_iters=5, ckpt_interval=10**9, seed=cfg.seed)
        model = pretrain.train(pcfg, tok, train_ids, val_ids, progress=progress)["model"]
        seconds["pretrain"] = time.time() - t
        t = time.time()
        scfg = sft.SFTConfig(out_dir=os.path.join(cfg.out_dir, "sft"), n_demos=cfg.n_demos, epochs=cfg.sft_epochs,
                             lr=cfg.sft_lr, eval_interval=10**9, data_seed=cfg.seed + 1, seed=cfg.seed)
        sft_model = sft.train(scfg, model, tok, make_demonstrations(cfg.n_demos, seed=cfg.seed + 1),
                              progress=progress)["model"]
        seconds["sft"] = time.time() - t
        log(f"pretrain {seconds['pretrain']:.0f}s, SFT {seconds['sft']:.0f}s")
    t = time.time()
    rankings = make_rankings(sft_model, tok, sample_prompts(cfg.rm_prompts, seed=cfg.seed + 3), cfg.k,
                             seed=cfg.seed + 3)
    seconds["rankings"] = time.time() - t
    if not (cfg.reuse and os.path.exists(os.path.join(rm_dir, "config.json"))):
        t = time.time()
        rcfg = reward.RewardConfig(out_dir=os.path.join(cfg.out_dir, "reward"), k=cfg.k, epochs=cfg.rm_epochs,
                                   lr=cfg.rm_lr, seed=cfg.seed)
        rm = reward.train(rcfg, RewardModel.from_gpt(sft_model, seed=cfg.seed), tok, rankings,
                          progress=progress)["model"]
        seconds["reward"] = time.time() - t
    return tok, sft_model, rm, rankings, seconds


def _copy(model):
    from minigpt.nn.gpt import GPT
    m = GPT(model.config)
    m.load_state_dict(model.state_dict())
    return m


# -----------------------------------------------------------------------------
# 2. the three aligners

def align_ppo(cfg, sft_model, rm, tok, prompts, progress=False):
    from minigpt.stages import ppo
    ocfg = ppo.PPOConfig(out_dir=os.path.join(cfg.out_dir, "ppo"), iters=cfg.rl_iters, rollout_batch=16 * cfg.group_size,
                         lr=cfg.ppo_lr, init_kl_coef=cfg.ppo_kl_coef, target_kl=4.0, seed=cfg.seed)
    return ppo.train(ocfg, _copy(sft_model), _copy(sft_model), rm, tok, prompts, progress=progress)


def align_grpo(cfg, sft_model, rm, tok, prompts, progress=False):
    from minigpt.stages import grpo
    gcfg = grpo.GRPOConfig(out_dir=os.path.join(cfg.out_dir, "grpo"), iters=cfg.rl_iters, prompts_per_iter=16,
                           group_size=cfg.group_size, lr=cfg.grpo_lr, kl_coef=cfg.grpo_kl_coef, seed=cfg.seed)
    return grpo.train(gcfg, _copy(sft_model), _copy(sft_model), rm, tok, prompts, progress=progress)


def align_dpo(cfg, sft_model, tok, rankings, progress=False):
    from minigpt.stages import dpo
    dcfg = dpo.DPOConfig(out_dir=os.path.join(cfg.out_dir, "dpo"), beta=cfg.dpo_beta, epochs=cfg.dpo_epochs,
                         lr=cfg.dpo_lr, min_lr=cfg.dpo_lr / 10, seed=cfg.seed)
    return dpo.train(dcfg, _copy(sft_model), _copy(sft_model), tok, dpo.preference_pairs(rankings), progress=progress)


# -----------------------------------------------------------------------------
# 3. evaluation

def evaluate_policies(cfg, policies, sft_model, tok, eval_prompts):
    """{name: accuracy, gold score, win rate vs SFT (± stderr), KL to SFT} on the same prompts and seeds."""
    from minigpt.evaluate import compare, evaluate_model, kl_to_reference
    graded = {name: evaluate_model(m, tok, eval_prompts, temperature=1.0, seed=cfg.seed + 200)
              for name, m in policies.items()}
    out = {}
    for name, g in graded.items():
        row = {"accuracy": g["accuracy"], "exact_match": g["exact_match"], "gold_score": g["gold_score"]}
        if name != "sft":
            w = compare(g["scores"], graded["sft"]["scores"])
            kl = kl_to_reference(policies[name], sft_model, tok, eval_prompts, seed=cfg.seed + 300)
            row.update(win_rate_vs_sft=w["win_rate"], win_stderr=w["stderr"], kl_to_sft=kl["kl"],
                       entropy=kl["entropy"])
        out[name] = row
    return out


# -----------------------------------------------------------------------------
# 4. inference-time: best-of-N and reflection with the reward model

def best_of_n_experiment(cfg, policy, rm, tok, prompts):
    """Gold score of the RM's pick among the first n samples, for n = 1, 2, 4, ..., best_of."""
    from minigpt.data.assistant import gold_score
    from minigpt.inference import best_of_n_curve, sample_responses
    from minigpt.stages.reward import score_texts
    samples = sample_responses(policy, tok, prompts, cfg.best_of, seed=cfg.seed + 400)
    flat_p = [p for p in prompts for _ in range(cfg.best_of)]
    flat_t = [t for row in samples for t in row]
    proxy = score_texts(rm, tok, flat_p, flat_t).reshape(len(prompts), cfg.best_of)
    gold = np.array([gold_score(p, t) for p, t in zip(flat_p, flat_t)]).reshape(len(prompts), cfg.best_of)
    ns = [n for n in (1, 2, 4, 8, 16, 32, 64) if n <= cfg.best_of]
    curve = best_of_n_curve(proxy, gold, ns)
    curve["accuracy_best_of_n"] = [float((gold[np.arange(len(prompts)), proxy[:, :n].argmax(axis=1)] >= 0.6).mean())
                                   for n in ns]
    return curve


def reflection_experiment(cfg, policy, rm, tok, prompts):
    """Answer, score with the RM, retry the ones below the threshold: gold before vs after, tries used."""
    from minigpt.data.assistant import gold_scores
    from minigpt.evaluate import answer_prompts
    from minigpt.inference import reflect
    from minigpt.stages.reward import score_texts

    def gen(ps, attempt):
        return answer_prompts(policy, tok, ps, temperature=1.0, seed=cfg.seed + 500 + attempt)

    def score(ps, texts):
        return score_texts(rm, tok, ps, texts)

    first = gen(prompts, 0)
    texts, scores, tries = reflect(gen, score, prompts, cfg.reflect_threshold, cfg.reflect_tries)
    return {"gold_first_try": float(gold_scores(prompts, first).mean()),
            "gold_with_retries": float(gold_scores(prompts, texts).mean()),
            "mean_tries": float(tries.mean()), "retried_fraction": float((tries > 1).mean()),
            "threshold": cfg.reflect_threshold, "max_tries": cfg.reflect_tries}


# -----------------------------------------------------------------------------
# everything

def run_alignment(cfg, progress=False, log=print):
    from minigpt.data.assistant import sample_prompts
    t_all = time.time()
    tok, sft_model, rm, rankings, seconds = world_models(cfg, progress, log)
    train_prompts = sample_prompts(2000, seed=cfg.seed + 5)
    eval_prompts = sample_prompts(cfg.n_eval, seed=cfg.seed + 100, split="eval")
    results, models, pairs = {}, {"sft": sft_model}, 0
    for name, fn in (("ppo", lambda: align_ppo(cfg, sft_model, rm, tok, train_prompts, progress)),
                     ("grpo", lambda: align_grpo(cfg, sft_model, rm, tok, train_prompts, progress)),
                     ("dpo", lambda: align_dpo(cfg, sft_model, tok, rankings, progress))):
        t = time.time()
        res = fn()
        seconds[name] = time.time() - t
        models[name] = res["model"]
        results[name] = res["history"]
        pairs = res.get("pairs", pairs)
        log(f"{name} trained in {seconds[name]:.0f}s")
    table = evaluate_policies(cfg, models, sft_model, tok, eval_prompts)
    for name in ("ppo", "grpo", "dpo"):
        table[name]["train_s"] = seconds[name]
    bon = best_of_n_experiment(cfg, sft_model, rm, tok, sample_prompts(cfg.bon_prompts, seed=cfg.seed + 101,
                                                                        split="eval"))
    refl = reflection_experiment(cfg, sft_model, rm, tok, eval_prompts[:cfg.bon_prompts])
    return {"config": dataclasses.asdict(cfg), "table": table, "best_of_n": bon, "reflection": refl,
            "dpo_pairs": pairs, "rankings": len(rankings), "seconds": seconds,
            "histories": results, "wall_s": time.time() - t_all, "models": models, "reward_model": rm,
            "tokenizer": tok}
