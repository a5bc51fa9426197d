r"""The course's checkpoint cache: a notebook asks for a stage's model and gets it, trained first if it is missing.

`load_stage("sft")` returns the SFT model and tokenizer from `course_config().out_dir` (where
`minigpt pipeline` writes), training the pretrain and SFT stages first if they are not on disk,
exactly as the pipeline would. Quick checkpoints (MINIGPT_QUICK=1, used by CI) are retrained when
the library's code changed since they were made; an interrupted stage is resumed.

    python -c "from minigpt.course_runs import load_stage; print(load_stage('pretrain')[0].config)"
"""
import dataclasses
import os
import time

from minigpt.checkpoint import checkpoint_dir, load_json, save_json
from minigpt.data.assistant import world_tokenizer
from minigpt.loop import RunLock
from minigpt.pipeline import (PipelineConfig, code_fingerprint, ppo_stage, pretrain_stage, quick_config, reward_stage,
                              saved_pipeline_config, sft_stage, stamped_fingerprint)
from minigpt.stages.common import load_model
from minigpt.stages.reward import load_reward_model

STAGES = ("pretrain", "sft", "reward", "ppo")


def course_config(quick=None, out_dir=None):
    """The PipelineConfig the notebooks use: quick sizes if MINIGPT_QUICK=1, checkpoints in `out_dir`,
    else $MINIGPT_RUN_DIR, else <repo>/runs/pipeline (where `minigpt pipeline` writes; the quick run goes
    to runs/pipeline-quick so that its tiny models never stand in for the real ones)."""
    quick = os.environ.get("MINIGPT_QUICK") == "1" if quick is None else quick
    if out_dir is None:
        out_dir = os.environ.get("MINIGPT_RUN_DIR") or os.path.join(_runs_root(), "pipeline-quick" if quick else "pipeline")
    cfg = PipelineConfig(out_dir=out_dir, quick=quick)
    return quick_config(cfg) if quick else cfg


def course_checkpoints(cfg=None):
    """Where the notebooks load their stage models from: the full run (course_config(quick=False)) when it
    holds all four stages, in quick mode too, so that a student who ran `minigpt pipeline` sees real models;
    otherwise `cfg` (the quick run's tiny models, trained on demand). The notebooks keep `cfg`'s sizes for
    their own experiments either way."""
    cfg = course_config() if cfg is None else cfg
    if not cfg.quick:
        return cfg
    full = course_config(quick=False)
    if all(_checkpoint_state(os.path.join(full.out_dir, s, "ckpt")) == "complete" for s in STAGES):
        return full
    return cfg


def course_models_note(ckpt_cfg):
    """One line for a notebook to print: which models its numbers come from."""
    if ckpt_cfg.quick:
        return (f"models: tiny ones trained in seconds ({ckpt_cfg.out_dir}; no full run in runs/pipeline): their "
                f"numbers only show that the code runs")
    quick = os.environ.get("MINIGPT_QUICK") == "1"
    return f"models: the full-size pipeline checkpoints in {ckpt_cfg.out_dir}" + (
        " (quick mode: this notebook's own experiments stay small)" if quick else "")


def _runs_root():
    """<repo>/runs in a source checkout (so notebooks/ and the repo root share it), else ./runs."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(repo, "runs") if os.path.exists(os.path.join(repo, "pyproject.toml")) else "runs"


def _checkpoint_state(directory):
    """None (no checkpoint), "partial" (a run stopped before its end) or "complete"."""
    try:
        conf = load_json(os.path.join(checkpoint_dir(directory), "config.json"))
    except (FileNotFoundError, ValueError):
        return None
    return "partial" if conf.get("complete") is False else "complete"  # no "complete" key: older, finished


def stage_checkpoint(stage, cfg=None, progress=True, log=print):
    """The checkpoint directory of `stage` ("pretrain", "sft", "reward", "ppo") under cfg.out_dir.

    Stages already on disk are reused; the missing ones up to `stage` are trained in order, each
    from the checkpoint before it, exactly as run_pipeline would (and a retrained stage retrains
    the ones after it). Quick checkpoints are also retrained when the library's code changed since
    they were made (they take seconds; a full run is yours to redo). cfg: course_config() if None.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    cfg = course_config() if cfg is None else (quick_config(cfg) if cfg.quick else cfg)

    def ckpt(name):
        return os.path.join(cfg.out_dir, name, "ckpt")

    code = code_fingerprint() if cfg.quick else None
    saved = saved_pipeline_config(cfg.out_dir)
    other_kind = saved is not None and bool(saved.get("quick")) != bool(cfg.quick)  # never a quick run for a full one
    retrain = False  # once a stage is retrained, the ones after it must follow
    for name in STAGES[:STAGES.index(stage) + 1]:
        state = _checkpoint_state(ckpt(name))
        how = dict(force=True)
        if other_kind:
            log(f"{cfg.out_dir} holds a {'quick' if saved.get('quick') else 'full'} run, not a "
                f"{'quick' if cfg.quick else 'full'} one: training the {name} stage again")
        elif state is None:
            log(f"no {name} checkpoint in {cfg.out_dir}: training one ({'quick' if cfg.quick else 'full'} sizes)")
        elif retrain:
            log(f"retraining the {name} stage: the stage before it was retrained")
        elif code is not None and stamped_fingerprint(cfg, name) != code:
            log(f"the quick {name} checkpoint in {cfg.out_dir} was made by other code: retraining it")
        elif state == "partial":
            log(f"the {name} stage in {cfg.out_dir} was interrupted: resuming it")
            how = dict(resume=True, force=False)
        else:
            continue
        retrain = True
        with RunLock(cfg.out_dir):
            os.makedirs(cfg.out_dir, exist_ok=True)
            save_json(os.path.join(cfg.out_dir, "pipeline_config.json"), dataclasses.asdict(cfg))
        run_cfg = dataclasses.replace(cfg, **how)
        t0 = time.time()
        if name == "pretrain":
            pretrain_stage(run_cfg, world_tokenizer(cfg.pretrain.tokenizer, cfg.n_docs, cfg.seed), progress)
        elif name == "sft":
            model, tok, _ = load_model(ckpt("pretrain"), expect_stage="pretrain")
            sft_stage(run_cfg, model, tok, progress)
        elif name == "reward":
            model, tok, _ = load_model(ckpt("sft"), expect_stage="sft")
            reward_stage(run_cfg, model, tok, progress)
        else:
            rm, tok, _ = load_reward_model(ckpt("reward"))
            ppo_stage(run_cfg, ckpt("sft"), rm, tok, progress=progress)
        log(f"{name} done in {time.time() - t0:.0f} s -> {ckpt(name)}")
    return ckpt(stage)


def load_stage(stage, cfg=None, progress=True, log=print):
    """(model, tokenizer) of a stage, trained first if missing (stage_checkpoint); the reward stage
    gives a RewardModel, the others a GPT."""
    path = stage_checkpoint(stage, cfg, progress, log)
    model, tok, _ = load_reward_model(path) if stage == "reward" else load_model(path, expect_stage=stage)
    return model, tok
