"""Every stage resumes bit-exactly on the CPU: a run stopped part-way (as a crash would, after its last
checkpoint) and continued with resume=True logs the same numbers as the run that never stopped."""
import copy
import dataclasses

import pytest
from align_helpers import tiny_gpt, world_tok

from minigpt.data.assistant import make_demonstrations, sample_prompts
from minigpt.loop import read_metrics
from minigpt.nn.heads import RewardModel
from minigpt.stages import dpo, grpo, ppo, reward, sft


@pytest.fixture(scope="module")
def world():
    tok = world_tok()
    model = tiny_gpt(tok)
    rankings = reward.make_rankings(model, tok, sample_prompts(24, seed=1), 4, seed=1)
    return tok, model, rankings


def run_sft(cfg, world, **kw):
    tok, model, _ = world
    return sft.train(cfg, copy.deepcopy(model), tok, make_demonstrations(48, seed=1),
                     make_demonstrations(8, seed=2, split="eval"), progress=False, **kw)


def run_reward(cfg, world, **kw):
    tok, model, rankings = world
    return reward.train(cfg, RewardModel.from_gpt(model, seed=0), tok, rankings, rankings[:6], progress=False, **kw)


def run_dpo(cfg, world, **kw):
    tok, model, rankings = world
    return dpo.train(cfg, copy.deepcopy(model), copy.deepcopy(model), tok, dpo.preference_pairs(rankings),
                     progress=False, **kw)


def run_ppo(cfg, world, **kw):
    tok, model, _ = world
    rm = RewardModel.from_gpt(tiny_gpt(tok, seed=2), seed=3)
    return ppo.train(cfg, copy.deepcopy(model), copy.deepcopy(model), rm, tok, sample_prompts(32, seed=0),
                     progress=False, **kw)


def run_grpo(cfg, world, **kw):
    tok, model, _ = world
    rm = RewardModel.from_gpt(tiny_gpt(tok, seed=2), seed=3)
    return grpo.train(cfg, copy.deepcopy(model), copy.deepcopy(model), rm, tok, sample_prompts(32, seed=0),
                      progress=False, **kw)


STAGES = {
    "ppo": (run_ppo, lambda d: ppo.PPOConfig(out_dir=d, iters=8, rollout_batch=4, minibatch_size=2, max_new_tokens=8,
                                             optim=dict(lr=1e-3), seed=0, target_kl=1.0, ckpt_interval=4)),
    "grpo": (run_grpo, lambda d: grpo.GRPOConfig(out_dir=d, iters=8, prompts_per_iter=2, group_size=2,
                                                 minibatch_size=2, max_new_tokens=8, optim=dict(lr=1e-3), seed=0,
                                                 ckpt_interval=4)),
    "sft": (run_sft, lambda d: sft.SFTConfig(out_dir=d, epochs=2, batch_size=8, eval_interval=3, ckpt_interval=4,
                                             aux_lm_coef=0.1, lora_r=0)),
    "sft-lora": (run_sft, lambda d: sft.SFTConfig(out_dir=d, epochs=2, batch_size=8, ckpt_interval=4, lora_r=2,
                                                  optim=dict(lr=3e-3))),
    "reward": (run_reward, lambda d: reward.RewardConfig(out_dir=d, epochs=3, prompts_per_batch=2, ckpt_interval=4)),
    "dpo": (run_dpo, lambda d: dpo.DPOConfig(out_dir=d, epochs=2, batch_size=8, ckpt_interval=4)),
}


def numbers(path):
    return [{k: v for k, v in r.items() if k != "time"} for r in read_metrics(path)]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_resumes_bit_exactly(tmp_path, world, name):
    run, make_cfg = STAGES[name]
    full = run(make_cfg(str(tmp_path / "full")), world)
    part = make_cfg(str(tmp_path / "part"))
    run(part, world, stop_at=6)  # "crash" at step 6: the last checkpoint is step 4
    resumed = run(dataclasses.replace(part, resume=True), world)
    a, b = numbers(tmp_path / "full" / "metrics.jsonl"), numbers(tmp_path / "part" / "metrics.jsonl")
    assert len(a) == len(full["history"]["step"]) > 6 and a == b
    for k in ("reward_bias", "eval_accuracy", "val_loss", "final_beta"):
        assert full.get(k) == resumed.get(k)
    for key in ("model", "value_model"):
        if key in full:
            for (n, p), (_, q) in zip(full[key].named_parameters(), resumed[key].named_parameters()):
                assert (p.data == q.data).all(), n
    again = run(dataclasses.replace(part, resume=True), world)  # finished: loads, trains nothing
    assert again["history"] == {k: v for k, v in full["history"].items()}
    assert {k: again.get(k) for k in ("reward_bias", "eval_accuracy", "train_accuracy")} == \
           {k: full.get(k) for k in ("reward_bias", "eval_accuracy", "train_accuracy")}


def test_ppo_checkpoint_is_one_unit_with_the_value_model(tmp_path, world):
    import json
    res = run_ppo(STAGES["ppo"][1](str(tmp_path)), world)
    files = json.loads((tmp_path / "ckpt" / "manifest.json").read_text())["files"]
    assert {"model.safetensors", "optim.safetensors", "value_model.safetensors", "value_model.optim.safetensors",
            "tokenizer.json", "config.json"} <= set(files)
    assert res["final_beta"] == json.loads((tmp_path / "ckpt" / "config.json").read_text())["final_beta"]
