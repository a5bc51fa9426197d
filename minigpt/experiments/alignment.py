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
from dataclasses import dataclass, field

import numpy as np

from minigpt.data.assistant import gold_score, gold_scores, sample_prompts, world_tokenizer
from minigpt.evaluate import answer_prompts, compare, evaluate_model, kl_to_reference
from minigpt.inference import best_of_n_curve, reflect, sample_responses
from minigpt.nn.gpt import GPT
from minigpt.pipeline import (PipelineConfig, ppo_stage, pretrain_stage, quick_config, reward_stage, sft_stage,
                              train_rankings)
from minigpt.scoring import score_texts
from minigpt.stages import dpo, grpo
from minigpt.stages.common import load_model
from minigpt.stages.reward import load_reward_model


def _pipeline_defaults():
    return PipelineConfig()


@dataclass
class AlignConfig:
    out_dir: str = "runs/beyond/align"  # checkpoints of every model
    reuse: bool = True  # load the SFT and reward models from out_dir if they are there
    world: object = field(default_factory=_pipeline_defaults)  # a PipelineConfig: world models and PPO settings
    # GRPO: the same iterations and responses per iteration as PPO, in groups
    group_size: int = 4  # responses per prompt (rollout_batch / group_size prompts per iteration)
    grpo_lr: float = 3e-5
    grpo_kl_coef: float = 0.05
    # DPO: on the reward model's training rankings
    dpo_beta: float = 0.1
    dpo_epochs: int = 2
    dpo_lr: float = 5e-5
    # evaluation and inference-time techniques
    n_eval: int = 400  # held-out prompts
    bon_prompts: int = 200  # prompts for the best-of-N curve and reflection
    best_of: int = 16  # largest N
    reflect_threshold: float = 0.0  # retry answers whose RM score is below this (0 = the SFT average)
    reflect_tries: int = 4

    @classmethod
    def quick(cls, **kw):
        """A smoke-test size (tens of seconds): the numbers mean little, the code paths all run."""
        small = dict(world=quick_config(PipelineConfig(quick=True)), n_eval=48, bon_prompts=24, best_of=4,
                     reflect_tries=2, dpo_epochs=1, out_dir="runs/beyond/align_quick")
        return cls(**{**small, **kw})


# -----------------------------------------------------------------------------
# 1. the world models

def world_models(cfg, progress=False, log=print):
    """(tokenizer, SFT model, reward model, the RM's train rankings, info), trained by the pipeline's own stage
    functions (cfg.world is a PipelineConfig) into cfg.out_dir, or loaded from there."""
    w = dataclasses.replace(cfg.world, out_dir=cfg.out_dir)
    sft_dir, rm_dir = os.path.join(cfg.out_dir, "sft", "ckpt"), os.path.join(cfg.out_dir, "reward", "ckpt")
    info = {}
    if cfg.reuse and os.path.exists(os.path.join(rm_dir, "config.json")):
        sft_model, tok, _ = load_model(sft_dir, expect_stage="sft")
        rm, _, _ = load_reward_model(rm_dir)
        rankings = train_rankings(w, sft_model, tok)  # the RM's training rankings again: DPO's preference data
        log(f"loaded SFT and reward models from {cfg.out_dir}")
    else:
        tok = world_tokenizer()
        t = time.time()
        model = pretrain_stage(w, tok, progress)["model"]
        info["pretrain_s"] = time.time() - t
        t = time.time()
        sft_model = sft_stage(w, model, tok, progress)["model"]
        info["sft_s"] = time.time() - t
        t = time.time()
        res = reward_stage(w, sft_model, tok, progress)
        rm, rankings = res["model"], res["rankings"]
        info.update(reward_s=time.time() - t, rm_heldout_accuracy=res["eval_accuracy"])
        log(f"pretrain {info['pretrain_s']:.0f}s, SFT {info['sft_s']:.0f}s, reward {info['reward_s']:.0f}s")
    return tok, sft_model, rm, rankings, info


def _copy(model):
    m = GPT(model.config)
    m.load_state_dict(model.state_dict())
    return m


# -----------------------------------------------------------------------------
# 2. the three aligners

def align_ppo(cfg, sft_model, rm, tok, prompts, progress=False):
    """The pipeline's PPO stage, from the SFT checkpoint in cfg.out_dir."""
    return ppo_stage(dataclasses.replace(cfg.world, out_dir=cfg.out_dir), os.path.join(cfg.out_dir, "sft", "ckpt"),
                     rm, tok, progress=progress)


def align_grpo(cfg, sft_model, rm, tok, prompts, progress=False):
    """GRPO with PPO's budget: as many iterations, rollout_batch responses each (in groups of group_size)."""
    w = cfg.world
    gcfg = grpo.GRPOConfig(out_dir=os.path.join(cfg.out_dir, "grpo"), iters=w.ppo.iters,
                           prompts_per_iter=max(1, w.ppo.rollout_batch // cfg.group_size), group_size=cfg.group_size,
                           optim=dict(lr=cfg.grpo_lr), kl_coef=cfg.grpo_kl_coef, seed=w.seed)
    return grpo.train(gcfg, _copy(sft_model), _copy(sft_model), rm, tok, prompts, progress=progress)


def align_dpo(cfg, sft_model, tok, rankings, progress=False):
    """DPO on the non-tied pairs of the reward model's own training rankings."""
    dcfg = dpo.DPOConfig(out_dir=os.path.join(cfg.out_dir, "dpo"), beta=cfg.dpo_beta, epochs=cfg.dpo_epochs,
                         optim=dict(lr=cfg.dpo_lr, min_lr=cfg.dpo_lr / 10), seed=cfg.world.seed)
    return dpo.train(dcfg, _copy(sft_model), _copy(sft_model), tok, dpo.preference_pairs(rankings), progress=progress)


# -----------------------------------------------------------------------------
# 3. evaluation

def evaluate_policies(cfg, policies, sft_model, tok, eval_prompts):
    """{name: accuracy, gold score, win rate vs SFT (± stderr), KL to SFT} on the same prompts and seeds."""
    graded = {name: evaluate_model(m, tok, eval_prompts, temperature=1.0, seed=cfg.world.seed + 200)
              for name, m in policies.items()}
    out = {}
    for name, g in graded.items():
        row = {"accuracy": g["accuracy"], "exact_match": g["exact_match"], "gold_score": g["gold_score"]}
        if name != "sft":
            w = compare(g["scores"], graded["sft"]["scores"])
            kl = kl_to_reference(policies[name], sft_model, tok, eval_prompts, seed=cfg.world.seed + 300)
            row.update(win_rate_vs_sft=w["win_rate"], win_stderr=w["stderr"], kl_to_sft=kl["kl"],
                       entropy=kl["entropy"])
        out[name] = row
    return out


# -----------------------------------------------------------------------------
# 4. inference-time: best-of-N and reflection with the reward model

def best_of_n_experiment(cfg, policy, rm, tok, prompts):
    """Gold score of the RM's pick among the first n samples, for n = 1, 2, 4, ..., best_of."""
    samples = sample_responses(policy, tok, prompts, cfg.best_of, seed=cfg.world.seed + 400)
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

    def gen(ps, attempt):
        return answer_prompts(policy, tok, ps, temperature=1.0, seed=cfg.world.seed + 500 + attempt)

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
    t_all = time.time()
    tok, sft_model, rm, rankings, info = world_models(cfg, progress, log)
    rm_accuracy = info.pop("rm_heldout_accuracy", None)  # None when the models were loaded
    seconds = {k[:-2]: v for k, v in info.items()}  # pretrain, sft, reward (when trained here)
    train_prompts = sample_prompts(cfg.world.ppo.n_prompts, seed=cfg.world.seed + 5)
    eval_prompts = sample_prompts(cfg.n_eval, seed=cfg.world.seed + 100, split="eval")
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
    bon = best_of_n_experiment(cfg, sft_model, rm, tok, sample_prompts(cfg.bon_prompts, seed=cfg.world.seed + 101,
                                                                        split="eval"))
    refl = reflection_experiment(cfg, sft_model, rm, tok, eval_prompts[:cfg.bon_prompts])
    return {"config": dataclasses.asdict(cfg), "table": table, "rm_heldout_accuracy": rm_accuracy,
            "best_of_n": bon, "reflection": refl,
            "dpo_pairs": pairs, "rankings": len(rankings), "seconds": seconds,
            "histories": results, "wall_s": time.time() - t_all, "models": models, "reward_model": rm,
            "tokenizer": tok}
