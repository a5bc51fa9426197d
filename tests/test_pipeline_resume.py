"""The pipeline resumes at the stage it stopped in, with the numbers of an uninterrupted run; a quick run
goes to its own directory and is never taken for a full one; a run directory is not overwritten."""
import dataclasses
import os

import pytest

import minigpt.checkpoint as ckpt_mod
from minigpt.checkpoint import load_json
from minigpt.course_runs import stage_checkpoint
from minigpt.config import override
from minigpt.pipeline import PipelineConfig, quick_config, run_pipeline

TINY = {"pretrain.model.n_layer": 1, "pretrain.model.n_head": 2, "pretrain.model.n_embd": 16, "n_docs": 60,
        "pretrain.max_iters": 12, "pretrain.batch_size": 8, "sft.n_demos": 64, "sft.epochs": 1,
        "reward.n_prompts": 12, "reward.n_eval_prompts": 6, "reward.epochs": 1, "ppo.iters": 3,
        "ppo.rollout_batch": 4, "n_eval": 6}


def tiny(**top):
    """A tiny pipeline config (dotted TINY overrides; `top` sets top-level fields such as out_dir)."""
    return override(PipelineConfig(**top), TINY)


def quiet(*a):
    pass


def numbers(report):
    return {"hist": report["history"], "models": report["models"], "wins": report["win_rates"], "kl": report["kl"],
            "rm": report["reward_model"]}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    return numbers(run_pipeline(tiny(out_dir=str(out)), progress=False, log=quiet))


@pytest.mark.parametrize("stop_in", ["sft", pytest.param("ppo", marks=pytest.mark.slow)])
def test_pipeline_resumes_at_the_stage_it_stopped_in(tmp_path, monkeypatch, reference, stop_in):
    cfg = override(tiny(out_dir=str(tmp_path)), {"sft.ckpt_interval": 1, "ppo.ckpt_interval": 1})  # save every step
    saves = []

    def interrupt(label):  # Ctrl-C right after the first complete checkpoint of the stage `stop_in`
        if label == "swap" and os.path.exists(tmp_path / stop_in / ".lock"):
            saves.append(label)
            raise KeyboardInterrupt

    monkeypatch.setattr(ckpt_mod, "_between_files", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(cfg, progress=False, log=quiet)
    monkeypatch.setattr(ckpt_mod, "_between_files", None)
    monkeypatch.undo()
    assert saves and not os.path.exists(tmp_path / "metrics.json")
    with pytest.raises(FileExistsError, match="--resume to continue it or --force"):
        run_pipeline(override(cfg, {"ppo.iters": 4}), progress=False, log=quiet)  # another run: refused
    with pytest.raises(ValueError, match="--resume refused.*3 → 4"):
        run_pipeline(override(cfg, {"ppo.iters": 4, "resume": True}), progress=False, log=quiet)
    before = os.stat(tmp_path / "pretrain" / "ckpt" / "model.safetensors").st_mtime_ns
    report = run_pipeline(dataclasses.replace(cfg, resume=True), progress=False, log=quiet)
    assert numbers(report) == reference
    assert os.stat(tmp_path / "pretrain" / "ckpt" / "model.safetensors").st_mtime_ns == before  # loaded, not retrained


def test_quick_goes_to_its_own_directory_and_is_never_taken_for_a_full_run(tmp_path):
    assert quick_config(PipelineConfig(quick=True)).out_dir == "runs/pipeline-quick"
    assert quick_config(PipelineConfig(quick=True, out_dir="x")).out_dir == "x"
    run = tmp_path / "run"
    run_pipeline(tiny(out_dir=str(run)), progress=False, log=quiet)
    # pretend this tiny run was a quick one: the marker says so, and a full config must not load it
    conf = load_json(run / "pipeline_config.json")
    ckpt_mod.save_json(run / "pipeline_config.json", dict(conf, quick=True))
    said = []
    stage_checkpoint("pretrain", override(tiny(out_dir=str(run)), {"pretrain.max_iters": 5}), progress=False,
                     log=said.append)
    assert said[0].startswith(f"{run} holds a quick run, not a full one")
    assert load_json(run / "pretrain" / "ckpt" / "config.json")["step"] == 5  # retrained with the full config
    assert load_json(run / "pipeline_config.json")["quick"] is False
