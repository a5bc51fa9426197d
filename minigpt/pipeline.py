r"""The whole recipe in one command: pretrain → SFT → reward model → PPO on the toy assistant world.

Everything is generated locally (no network): the world's documents for pretraining, its
contractors' demonstrations for SFT, gold-labeler rankings of SFT samples for the reward model,
and train-split prompts for PPO. At the end the base, SFT and PPO models answer the same held-out
eval prompts and the gold labeler grades them; the report card prints per-stage time, losses,
accuracy, win rates (ties half), the RM's held-out pairwise accuracy, KL(PPO ‖ SFT) and entropy.
Checkpoints, metrics.json, report_card.txt and plots go under `out_dir`.

    minigpt pipeline                 # the default run (320 s on an idle 2-core machine: benchmarks/results/pipeline.json)
    minigpt pipeline --quick         # a tiny smoke run (≈ 1 minute), into runs/pipeline-quick
    minigpt pipeline --resume        # continue a stopped run: finished stages load, the stopped one resumes
"""
import dataclasses
import hashlib
import os
import time
from dataclasses import dataclass, field

import numpy as np

from minigpt import dist
from minigpt.checkpoint import load_json, save_json
from minigpt.config import Config, ConfigError, apply_preset, nonnegative, positive, upgrade, with_presets
from minigpt.data.assistant import chars_per_token, make_demonstrations, pretrain_tokens, sample_prompts, world_tokenizer
from minigpt.evaluate import compare, evaluate_model, format_report_card, kl_to_reference
from minigpt.loop import RESUME_MAY_CHANGE, RunLock, _differences
from minigpt.nn.gpt import GPTConfig
from minigpt.nn.heads import RewardModel
from minigpt.stages import ppo, pretrain, reward, sft
from minigpt.stages.common import load_model
from minigpt.stages.ppo import PPOConfig
from minigpt.stages.pretrain import PretrainConfig
from minigpt.stages.reward import RewardConfig, make_rankings
from minigpt.stages.sft import SFTConfig
from minigpt.viz import plot_pipeline


# -----------------------------------------------------------------------------
# the config: one config per stage, each with the pipeline's defaults

# Fields of a stage config that the pipeline sets itself (where it writes, what it starts from, its seeds,
# resume/force): they are not flags of `minigpt pipeline`.
PIPELINE_SETS = ("out_dir", "init", "reward", "seed", "data_seed", "resume", "force")


def default_pretrain():
    """Pretraining in the pipeline: a 3-block width-96 model, 2000 steps (the held-out facts need ~2000 to stick)."""
    return PretrainConfig(model=GPTConfig(n_layer=3, n_head=4, n_embd=96, block_size=72),  # the longest chat is 66 tokens
                          batch_size=32, max_iters=2000, optim=dict(lr=2e-3, min_lr=2e-4, warmup_iters=66),
                          eval_interval=333, eval_iters=5)


def default_sft():
    """SFT in the pipeline: 57600 demonstrations, 2 epochs (more distinct demonstrations beat more epochs)."""
    return SFTConfig(n_demos=57600, epochs=2, optim=dict(lr=1e-3), eval_interval=10**9)


def default_reward():
    """The reward model in the pipeline: 1600 train prompts ranked, with the LM-likelihood feature."""
    return RewardConfig(n_prompts=1600, n_eval_prompts=250, k=4, epochs=3, optim=dict(lr=3e-4), lm_feature=True)


def default_ppo():
    """PPO in the pipeline: 150 iterations from β = 0.2, adaptive toward 2 nats per response."""
    return PPOConfig(iters=150, rollout_batch=64, optim=dict(lr=1e-4), init_kl_coef=0.2, target_kl=2.0)


# The --quick preset: {dotted field: value}. `--quick` applies it before the other flags, so every flag given
# wins (`--quick --ppo.iters 8` keeps 8, `--quick --pretrain.model.n-layer 3` keeps 3, the default); in Python,
# quick_config / run_pipeline apply it to the fields left at their default. Checked against PipelineConfig on
# import: it cannot name a field that is gone.
QUICK = {"out_dir": "runs/pipeline-quick",  # never over the full run the notebooks load
         "pretrain.model.n_layer": 2, "pretrain.model.n_embd": 48, "n_docs": 300, "pretrain.max_iters": 60,
         "pretrain.optim.warmup_iters": 2, "pretrain.eval_interval": 10, "sft.n_demos": 800, "sft.epochs": 1,
         "reward.n_prompts": 48, "reward.n_eval_prompts": 24, "reward.epochs": 1, "ppo.iters": 4,
         "ppo.rollout_batch": 16, "n_eval": 48}


@dataclass
class PipelineConfig(Config):
    PRESETS = {"quick": QUICK}  # (not a field)
    MOVED = {"tokenizer": "pretrain.tokenizer"}  # configs saved before the tokenizer's one home (not a field)

    out_dir: str = "runs/pipeline"  # run directory (each stage writes out_dir/<stage>/)
    quick: bool = False  # tiny smoke run: the QUICK preset for every value not given (into runs/pipeline-quick)
    resume: bool = False  # continue a stopped run: finished stages are loaded, the interrupted one resumes
    force: bool = False  # start over even if out_dir already holds another run
    seed: int = 0  # seeds every stage (stage seeds = seed; data seeds = seed + a fixed offset per stage)
    n_docs: int = 4000  # world documents for pretraining (~150 characters each)
    pretrain: PretrainConfig = field(  # stage 1: next-token prediction on the world's documents; tokenizer "char" (one id per character of the world's alphabet) or "bpe:N" (byte-level BPE, N ids, trained on those documents)
        default_factory=default_pretrain, metadata={"cli_skip": PIPELINE_SETS + ("data", "n_chars")})
    sft: SFTConfig = field(  # stage 2: supervised fine-tuning on contractor demonstrations
        default_factory=default_sft, metadata={"cli_skip": PIPELINE_SETS})
    reward: RewardConfig = field(  # stage 3: reward model on gold-labeler rankings of SFT samples
        default_factory=default_reward, metadata={"cli_skip": PIPELINE_SETS})
    ppo: PPOConfig = field(  # stage 4: PPO against the reward model, KL-anchored to SFT
        default_factory=default_ppo, metadata={"cli_skip": PIPELINE_SETS})
    # evaluation
    n_eval: int = 400  # held-out eval prompts
    eval_samples: int = 1  # samples per prompt and model
    eval_temperature: float = 1.0  # how the models answer (1.0: as sampled during RL)

    def validate(self):
        positive(self, "n_docs", "n_eval", "eval_samples")
        nonnegative(self, "seed", "eval_temperature")
        spec = self.pretrain.tokenizer  # the world's tokenizer: no saved file (a path) in the pipeline
        if spec != "char":
            n = spec[4:] if spec.startswith("bpe:") else ""
            if not (n.isdigit() and 256 + 8 <= int(n) <= 65535):  # bytes + specials; ids stored as uint16
                raise ConfigError("pretrain.tokenizer", f"must be 'char' or 'bpe:N' with 264 ≤ N ≤ 65535, got {spec!r}")


def quick_config(cfg):
    """`cfg` as a quick run: the QUICK preset on every field left at its default, once (a config that
    `minigpt pipeline --quick` parsed already has it, its explicit flags winning: it comes back unchanged)."""
    return with_presets(dataclasses.replace(cfg, quick=True) if not cfg.quick else cfg)


apply_preset(PipelineConfig(), QUICK)  # the preset is valid (raises ConfigError on import otherwise)


def stage_config(cfg, stage, **pipeline_sets):
    """cfg.<stage> with what the pipeline decides itself: its directory (out_dir/<stage>), the run's seed and
    resume/force, and `pipeline_sets` (data seeds; another out_dir)."""
    sets = {"out_dir": os.path.join(cfg.out_dir, stage), "seed": cfg.seed, "resume": cfg.resume, "force": cfg.force,
            **pipeline_sets}
    return dataclasses.replace(getattr(cfg, stage), **sets)


# -----------------------------------------------------------------------------
# code fingerprints: each stage records which code trained it (course_runs retrains stale quick checkpoints)

def _stamp_path(cfg, stage):
    return os.path.join(cfg.out_dir, stage, "code_fingerprint.txt")


def _stamp(cfg, stage):
    """Record which code trained this stage (stage_checkpoint retrains stale quick checkpoints)."""
    if not dist.get_comm().is_main:  # under mpiexec: rank 0 alone writes
        return
    with open(_stamp_path(cfg, stage), "w") as f:
        f.write(code_fingerprint() + "\n")


def stamped_fingerprint(cfg, stage):
    """The code fingerprint a stage's checkpoint was made with (None if unknown)."""
    path = _stamp_path(cfg, stage)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().strip()


def code_fingerprint():
    """A short hash of the library's Python source: quick checkpoints made by other code are retrained."""
    root = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames.sort()
        for name in sorted(f for f in filenames if f.endswith(".py")):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, root).encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:16]


# -----------------------------------------------------------------------------
# the stages, one function each (run_pipeline chains them; stage_checkpoint runs the missing ones)

class _Timer:
    """Wall seconds, and CPU seconds summed over the ranks (every rank calls done() at the same points)."""

    def __init__(self):
        self.wall, self.cpu = time.time(), time.process_time()

    def done(self, **summary):
        cpu, = dist.get_comm().sum_floats(time.process_time() - self.cpu)
        return {"wall_s": time.time() - self.wall, "cpu_s": cpu, **summary}


def pretrain_stage(cfg, tok, progress=True):
    """Pretrain a GPT on the world's documents into out_dir/pretrain; pretrain.train's result dict."""
    train_ids, val_ids = pretrain_tokens(tok, cfg.n_docs, cfg.seed)
    res = pretrain.train(stage_config(cfg, "pretrain"), None, tok, train_ids, val_ids, progress=progress)
    res["train_ids"], res["val_ids"] = train_ids, val_ids
    _stamp(cfg, "pretrain")
    return res


def sft_stage(cfg, model, tok, progress=True):
    """Fine-tune `model` (trained in place) on contractor demonstrations into out_dir/sft; sft.train's dict."""
    scfg = stage_config(cfg, "sft", data_seed=cfg.seed + 1)
    demos = make_demonstrations(scfg.n_demos, seed=scfg.data_seed)
    val = make_demonstrations(scfg.n_val, seed=cfg.seed + 2, split="eval")
    res = sft.train(scfg, model, tok, demos, val, progress=progress)
    _stamp(cfg, "sft")
    return res


def train_rankings(cfg, sft_model, tok):
    """The reward model's training data: K samples of the SFT model per train prompt, ranked by the gold labeler."""
    rcfg = cfg.reward
    return make_rankings(sft_model, tok, sample_prompts(rcfg.n_prompts, seed=cfg.seed + 3), rcfg.k, rcfg.temperature,
                         rcfg.max_new_tokens, seed=cfg.seed + 3)


def reward_stage(cfg, sft_model, tok, progress=True):
    """Rank K samples of the SFT model per prompt with the gold labeler, train a reward model on them
    into out_dir/reward; reward.train's dict plus the training rankings under "rankings"."""
    rcfg = stage_config(cfg, "reward", data_seed=cfg.seed + 3)
    rankings = train_rankings(cfg, sft_model, tok)
    eval_prompts = sample_prompts(rcfg.n_eval_prompts, seed=cfg.seed + 4, split="eval")
    eval_rankings = reward.make_rankings(sft_model, tok, eval_prompts, rcfg.k, rcfg.temperature, rcfg.max_new_tokens,
                                         seed=cfg.seed + 4)
    res = reward.train(rcfg, RewardModel.from_gpt(sft_model, seed=cfg.seed, lm_feature=rcfg.lm_feature), tok,
                       rankings, eval_rankings, progress=progress)
    _stamp(cfg, "reward")
    res["rankings"] = rankings
    return res


def ppo_stage(cfg, sft_ckpt, rm, tok, ptx_ids=None, progress=True):
    """PPO from the SFT checkpoint (policy and frozen reference) against `rm` into out_dir/ppo; ppo.train's
    dict plus the reference model under "ref". `ptx_ids`: pretraining tokens for PPO-ptx (made if None)."""
    policy, _, _ = load_model(sft_ckpt, expect_stage="sft")
    ref, _, _ = load_model(sft_ckpt, expect_stage="sft")
    ocfg = stage_config(cfg, "ppo", data_seed=cfg.seed + 5)
    if ptx_ids is None and ocfg.ptx_coef:
        ptx_ids = pretrain_tokens(tok, cfg.n_docs, cfg.seed)[0]
    res = ppo.train(ocfg, policy, ref, rm, tok, sample_prompts(ocfg.n_prompts, seed=ocfg.data_seed), ptx_data=ptx_ids,
                    progress=progress)
    res["ref"] = ref
    _stamp(cfg, "ppo")
    return res


def run_pipeline(cfg, progress=True, log=print):
    """Run all four stages and the evaluation; returns the report dict (also saved as metrics.json).

    The run directory has one writer (a lock). With cfg.resume, stages whose checkpoint is complete are
    loaded instead of trained and the interrupted one continues from its last checkpoint (the numbers
    are those of an uninterrupted run); a new run over another one needs cfg.force.
    """
    if cfg.quick:
        cfg = quick_config(cfg)
    comm = dist.get_comm()
    if not comm.is_main:  # under mpiexec: rank 0 alone tells how the stages went
        log = lambda *args, **kw: None  # noqa: E731
    with RunLock(cfg.out_dir):
        if comm.is_main:  # under mpiexec: rank 0 alone claims the run directory, the others wait for it
            claim_pipeline_dir(cfg)
        comm.barrier()
        return _run_pipeline(cfg, progress, log)


def claim_pipeline_dir(cfg):
    """Refuse a run over another pipeline run in cfg.out_dir (its pipeline_config.json differs) unless
    force; refuse resume across a changed config, naming the difference. Then record cfg there."""
    saved = saved_pipeline_config(cfg.out_dir)
    if saved is not None and not cfg.force:
        diff = _differences(saved, dataclasses.asdict(cfg), RESUME_MAY_CHANGE)
        if diff and cfg.resume:
            raise ValueError(f"--resume refused: the run in {cfg.out_dir} was made with another config: "
                             f"{'; '.join(diff)}")
        if diff:
            kind = "quick" if saved.get("quick") else "full"
            raise FileExistsError(f"{cfg.out_dir} already holds another ({kind}) pipeline run ({'; '.join(diff[:4])}): "
                                  f"pass --resume to continue it or --force to start over")
    os.makedirs(cfg.out_dir, exist_ok=True)
    save_json(os.path.join(cfg.out_dir, "pipeline_config.json"), dataclasses.asdict(cfg))


def saved_pipeline_config(out_dir):
    """The config a run directory was made with (its pipeline_config.json: "quick" marks a quick run), or None."""
    path = os.path.join(out_dir, "pipeline_config.json")
    if not os.path.exists(path):
        return None
    return upgrade(PipelineConfig, load_json(path))  # saved before a field moved (PipelineConfig.MOVED): the same run


def _run_pipeline(cfg, progress, log):
    out = cfg.out_dir
    t_all = _Timer()
    stages, models, hist = {}, {}, {}
    eval_prompts = sample_prompts(cfg.n_eval, seed=cfg.seed + 100, split="eval")

    def evaluate(name, model, mode="chat"):
        t = _Timer()
        models[name] = evaluate_model(model, tok, eval_prompts, mode=mode, temperature=cfg.eval_temperature,
                                      seed=cfg.seed + 200, n_samples=cfg.eval_samples)
        return t.done()["wall_s"]

    # 1. pretraining
    t = _Timer()
    tok = world_tokenizer(cfg.pretrain.tokenizer, cfg.n_docs, cfg.seed)
    res = pretrain_stage(cfg, tok, progress)
    train_ids = res["train_ids"]
    hist["pretrain"] = res["history"]
    eval_s = evaluate("base", res["model"], mode="base")
    cpt = chars_per_token(tok, res["val_ids"])
    per_char = "nats/char" if cfg.pretrain.tokenizer == "char" else f"nats/token = {res['val_loss'] / cpt:.3f} nats/char"
    stages["pretrain"] = t.done(summary=f"val loss {res['val_loss']:.3f} {per_char}", val_loss=res["val_loss"],
                                val_loss_per_char=res["val_loss"] / cpt, chars_per_token=cpt,
                                eval_s=eval_s)
    log(f"pretrain done: {stages['pretrain']['summary']} ({stages['pretrain']['wall_s']:.0f}s)")

    # 2. SFT (continues the pretrained model in place; the base checkpoint stays on disk)
    t = _Timer()
    res = sft_stage(cfg, res["model"], tok, progress)
    sft_model = res["model"]
    hist["sft"] = res["history"]
    eval_s = evaluate("sft", sft_model)
    stages["sft"] = t.done(summary=f"val loss {res['val_loss']:.3f} (assistant tokens)", val_loss=res["val_loss"],
                           train_loss=res["train_loss"], eval_s=eval_s)
    sft_ckpt = res["ckpt"]
    log(f"sft done: {stages['sft']['summary']} ({stages['sft']['wall_s']:.0f}s)")

    # 3. reward model
    t = _Timer()
    res = reward_stage(cfg, sft_model, tok, progress)
    rm = res["model"]
    hist["reward"] = res["history"]
    rm_report = {k: res[k] for k in ("eval_accuracy", "eval_pairs", "train_accuracy", "train_pairs", "reward_bias",
                                     "reward_std")}
    stages["reward"] = t.done(summary=f"held-out pairwise acc {res['eval_accuracy']:.3f} ({res['eval_pairs']} pairs)",
                              **rm_report)
    log(f"reward done: {stages['reward']['summary']} ({stages['reward']['wall_s']:.0f}s)")

    # 4. PPO (policy and reference start as copies of the SFT checkpoint)
    t = _Timer()
    res = ppo_stage(cfg, sft_ckpt, rm, tok, ptx_ids=train_ids, progress=progress)
    policy, ref = res["model"], res["ref"]
    h = res["history"]
    hist["ppo"] = h
    eval_s = evaluate("ppo", policy)
    kl = kl_to_reference(policy, ref, tok, eval_prompts, seed=cfg.seed + 300)
    stages["ppo"] = t.done(summary=f"RM score {h['score'][0]:+.2f} → {h['score'][-1]:+.2f}, KL {kl['kl']:.2f} nats, "
                                   f"β {res['final_beta']:.3f}", final_beta=res["final_beta"], eval_s=eval_s)
    log(f"ppo done: {stages['ppo']['summary']} ({stages['ppo']['wall_s']:.0f}s)")

    # report
    total = t_all.done()
    wins = {"SFT vs base": compare(models["sft"]["scores"], models["base"]["scores"]),
            "PPO vs SFT": compare(models["ppo"]["scores"], models["sft"]["scores"]),
            "PPO vs base": compare(models["ppo"]["scores"], models["base"]["scores"])}
    report = {"title": "quick smoke run" if cfg.quick else "default run", "config": dataclasses.asdict(cfg),
              "stages": stages, "total": total, "n_eval": cfg.n_eval, "eval_samples": cfg.eval_samples,
              "eval_temperature": cfg.eval_temperature,
              "models": {k: {kk: vv for kk, vv in v.items() if kk not in ("scores", "texts")} for k, v in models.items()},
              "win_rates": wins, "reward_model": rm_report, "kl": kl, "history": hist,
              "examples": [{"prompt": p.text, "answer": p.answer, **{k: models[k]["texts"][i] for k in models}}
                           for i, p in enumerate(eval_prompts[:12])]}
    save_json(os.path.join(out, "metrics.json"), _jsonable(report))
    card = format_report_card(report)
    if not dist.get_comm().is_main:  # under mpiexec: rank 0 alone writes the report
        return report
    with open(os.path.join(out, "report_card.txt"), "w") as f:
        f.write(card + "\n")
    try:
        report["plots"] = plot_pipeline(report, os.path.join(out, "plots"))
    except ImportError:  # matplotlib is a dev extra
        report["plots"] = []
    return report


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


# -----------------------------------------------------------------------------
# CLI

def main(cfg):
    """`minigpt pipeline`: run it, print the report card."""
    report = run_pipeline(cfg)
    print()
    print(format_report_card(report))
    print(f"\nrun directory: {report['config']['out_dir']} (metrics.json, report_card.txt, plots/, */ckpt)")
    return 0
