"""The one training loop: checkpoints as units, resume checks, run-directory ownership, NaN guard,
strict JSON metrics. (Real SIGINT/SIGKILL on a `minigpt pretrain` subprocess: test_interrupts.py.)"""
import dataclasses
import json
import math
import os

import numpy as np
import pytest

import minigpt.checkpoint as ckpt_mod
from minigpt.checkpoint import load_checkpoint, save_checkpoint
from minigpt.config import override
from minigpt.loop import Loop, MetricsLog, NonFiniteError, RunLock, fit, optimizer_step, read_metrics
from minigpt.nn.gpt import GPTConfig
from minigpt.stages.common import load_model
from minigpt.stages.pretrain import PretrainConfig, prepare, train


def _cfg(tmp_path, **kw):
    base = dict(out_dir=str(tmp_path), model=GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=16), batch_size=4,
                max_iters=8,
                optim=dict(warmup_iters=2, lr=3e-3), eval_interval=4, eval_iters=2, ckpt_interval=2, n_chars=20_000, seed=3)
    base.update(kw)
    return PretrainConfig(**base)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return prepare(_cfg(tmp_path_factory.mktemp("d")))


# -----------------------------------------------------------------------------
# a checkpoint is a unit

HOOK_POINTS = ["model.safetensors", "optim.safetensors", "config.json", "manifest.json", "swap"]


class Boom(Exception):
    pass


@pytest.mark.parametrize("point", HOOK_POINTS)
def test_a_save_killed_between_files_leaves_the_old_checkpoint(tmp_path, monkeypatch, point):
    d = tmp_path / "ckpt"
    old = {"w": np.zeros(3, np.float32)}
    save_checkpoint(d, old, {"step": 1}, optim_state={"t": 1, "m.0": np.zeros(3, np.float32)})

    def hook(label):
        if label == point:
            raise Boom(label)
    monkeypatch.setattr(ckpt_mod, "_between_files", hook)
    with pytest.raises(Boom):
        save_checkpoint(d, {"w": np.ones(3, np.float32)}, {"step": 2}, optim_state={"t": 2, "m.0": np.ones(3, np.float32)})
    monkeypatch.setattr(ckpt_mod, "_between_files", None)
    conf, state = load_checkpoint(d)  # the old one, whole (read from .ckpt.old-* if the swap was cut)
    assert conf == {"step": 1} and np.array_equal(state["w"], old["w"])
    ckpt_mod.recover(d)  # what the next writer does first
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]  # no temporary or old directories left
    assert load_checkpoint(d)[0] == {"step": 1}
    save_checkpoint(d, {"w": np.ones(3, np.float32)}, {"step": 2})
    assert load_checkpoint(d)[0] == {"step": 2} and sorted(os.listdir(tmp_path)) == ["ckpt"]


def test_a_torn_checkpoint_fails_naming_the_file(tmp_path):
    d = tmp_path / "ckpt"
    save_checkpoint(d, {"w": np.zeros(4, np.float32)}, {"step": 1}, optim_state={"t": 1})
    save_checkpoint(tmp_path / "other", {"w": np.ones(4, np.float32)}, {"step": 9})
    os.replace(tmp_path / "other" / "model.safetensors", d / "model.safetensors")  # newer weights, older config
    with pytest.raises(ValueError, match="model.safetensors does not match its sha256"):
        load_checkpoint(d)
    save_checkpoint(d, {"w": np.zeros(4, np.float32)}, {"step": 1}, optim_state={"t": 1})
    os.unlink(d / "optim.safetensors")
    with pytest.raises(ValueError, match="optim.safetensors is listed in manifest.json but missing"):
        load_checkpoint(d)


def test_checkpoint_files_are_world_readable_like_other_files(tmp_path):
    save_checkpoint(tmp_path / "ckpt", {"w": np.zeros(2, np.float32)}, {"step": 1})
    umask = os.umask(0)
    os.umask(umask)
    for name in ("ckpt", "ckpt/model.safetensors", "ckpt/config.json"):
        mode = os.stat(tmp_path / name).st_mode & 0o777
        assert mode & 0o044 == 0o044 & ~umask, (name, oct(mode))


# -----------------------------------------------------------------------------
# metrics are strict JSON

def test_metrics_write_nan_as_null(tmp_path):
    log = MetricsLog(str(tmp_path / "m.jsonl"))
    log.write(step=0, loss=float("nan"), g=float("inf"), n=np.float32(1.5))
    text = (tmp_path / "m.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text
    row = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert row["loss"] is None and row["g"] is None and row["n"] == 1.5


# -----------------------------------------------------------------------------
# a run directory has one owner

def test_a_second_writer_is_refused(tmp_path, data):
    tok, tr, va = data
    with RunLock(str(tmp_path)):
        with pytest.raises(RuntimeError, match="being written by another run"):
            train(_cfg(tmp_path), None, tok, tr, va, progress=False)
    train(_cfg(tmp_path), None, tok, tr, va, progress=False)  # the lock is free again


def test_a_new_run_over_an_old_one_needs_resume_or_force(tmp_path, data):
    tok, tr, va = data
    train(_cfg(tmp_path), None, tok, tr, va, progress=False)
    before = (tmp_path / "ckpt" / "model.safetensors").read_bytes()
    with pytest.raises(FileExistsError, match="--resume to continue it or --force"):
        train(_cfg(tmp_path, max_iters=3), None, tok, tr, va, progress=False)
    assert (tmp_path / "ckpt" / "model.safetensors").read_bytes() == before
    assert len(read_metrics(tmp_path / "metrics.jsonl")) == 8
    res = train(_cfg(tmp_path, max_iters=3, force=True), None, tok, tr, va, progress=False)
    assert load_model(res["ckpt"])[2]["step"] == 3 and len(read_metrics(tmp_path / "metrics.jsonl")) == 3
    again = train(_cfg(tmp_path, max_iters=3), None, tok, tr, va, progress=False)  # the same run again: allowed
    assert again["history"]["train_loss"] == res["history"]["train_loss"]


def test_resume_of_a_finished_run_trains_nothing_and_returns_its_history(tmp_path, data):
    tok, tr, va = data
    a = train(_cfg(tmp_path), None, tok, tr, va, progress=False)
    b = train(_cfg(tmp_path, resume=True), None, tok, tr, va, progress=False)
    assert b["history"]["train_loss"] == a["history"]["train_loss"] and b["val_loss"] == a["val_loss"]


# -----------------------------------------------------------------------------
# resume checks tokenizer, data and config

@pytest.mark.parametrize("change, match", [
    ({"model.n_head": 4}, r"model.n_head: 2 → 4"),
    ({"model.norm": "rmsnorm"}, r"model.norm: 'layernorm' → 'rmsnorm'"),
    ({"optim.lr": 1e-2}, r"optim.lr: 0.003 → 0.01"),
    (dict(n_chars=21_000), "other data"),
    (dict(tokenizer="bpe:300"), "another tokenizer"),
])
def test_resume_refuses_a_different_setup(tmp_path, data, change, match):
    tok, tr, va = data
    cfg = _cfg(tmp_path)
    train(cfg, None, tok, tr, va, progress=False, stop_at=4)
    new = override(cfg, {"resume": True, **change})
    tok2, tr2, va2 = prepare(new) if {"n_chars", "tokenizer"} & set(change) else (tok, tr, va)
    with pytest.raises(ValueError, match=match):
        train(new, None, tok2, tr2, va2, progress=False)


def test_a_checkpoint_saved_before_the_optimizer_fields_moved_resumes(tmp_path, data):
    """Its config.json holds lr, warmup_iters, ... at the top (as minigpt wrote them before `optim`): the same
    run, so resume continues it and logs the numbers of the run that never stopped."""
    tok, tr, va = data
    full = train(_cfg(tmp_path / "full"), None, tok, tr, va, progress=False)
    cfg = _cfg(tmp_path / "part")
    train(cfg, None, tok, tr, va, progress=False, stop_at=4)
    ckpt = ckpt_mod.checkpoint_dir(str(tmp_path / "part" / "ckpt"))
    conf = json.loads(open(os.path.join(ckpt, "config.json")).read())
    saved = conf["train_config"]
    saved.update(saved.pop("optim"))  # the old, flat layout
    assert saved["lr"] == 3e-3 and saved["warmup_iters"] == 2
    with open(os.path.join(ckpt, "config.json"), "wb") as f:
        f.write(ckpt_mod.json_bytes(conf))
    manifest = json.loads(open(os.path.join(ckpt, ckpt_mod.MANIFEST)).read())  # as if written so
    manifest["files"]["config.json"] = {"sha256": ckpt_mod._sha256(os.path.join(ckpt, "config.json")),
                                        "bytes": os.path.getsize(os.path.join(ckpt, "config.json"))}
    with open(os.path.join(ckpt, ckpt_mod.MANIFEST), "wb") as f:
        f.write(ckpt_mod.json_bytes(manifest))
    resumed = train(dataclasses.replace(cfg, resume=True), None, tok, tr, va, progress=False)
    assert resumed["history"]["train_loss"] == full["history"]["train_loss"]
    with pytest.raises(ValueError, match=r"optim.lr: 0.003 → 0.01"):  # and a real difference is still named
        train(override(cfg, {"resume": True, "max_iters": 9, "optim.lr": 1e-2}), None, tok, tr, va, progress=False)


# -----------------------------------------------------------------------------
# non-finite values stop the run; NaN weights are never saved

@pytest.mark.parametrize("lr", [1e3, float("nan")])
def test_non_finite_training_stops_and_keeps_the_last_good_checkpoint(tmp_path, data, lr):
    tok, tr, va = data
    cfg = _cfg(tmp_path, optim=dict(warmup_iters=0, lr=3e-3), max_iters=50, ckpt_interval=1)
    cfg.optim.lr = lr  # set after construction: the config itself refuses lr=nan (tests/test_config.py); the loop must too
    with pytest.raises(NonFiniteError, match=r"pretrain stopped at step \d+: .*non-finite|pretrain stopped at step \d+"
                       ) as e:
        train(cfg, None, tok, tr, va, progress=False)
    assert f"lr={lr}" in str(e.value) and "learning rate" in str(e.value)
    if (tmp_path / "ckpt").exists():  # whatever was saved is finite
        _, state = load_checkpoint(tmp_path / "ckpt")
        assert all(np.isfinite(v).all() for v in state.values())


def test_optimizer_step_leaves_weights_alone_on_a_nan_gradient():
    from minigpt.nn.module import Parameter
    from minigpt.optim import AdamW
    p = Parameter(np.ones(3, np.float32))
    p.grad = np.array([1.0, np.nan, 0.0], np.float32)
    with pytest.raises(NonFiniteError, match="gradient norm is nan"):
        optimizer_step(AdamW([p]), 1.0)
    assert np.array_equal(p.data, np.ones(3, np.float32)) and p.grad is None


def test_fit_matches_a_hand_written_adamw_loop():
    """fit = the loop without files; same numbers as the explicit sequence it replaces."""
    from minigpt.nn.gpt import GPT, GPTConfig
    from minigpt.optim import AdamW, clip_grad_norm, cosine_lr
    seq = np.array([[1, 2, 3, 4, 5, 6, 7, 0, 1]])
    a = GPT(GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=2, n_embd=16), seed=0)
    b = GPT(GPTConfig(vocab_size=8, block_size=8, n_layer=1, n_head=2, n_embd=16), seed=0)
    h = fit(a, lambda step, rng: a(seq[:, :-1], seq[:, 1:])[1], steps=5, lr=1e-2, warmup=2)
    opt = AdamW(b.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=0.0)
    ref = []
    for step in range(5):
        opt.lr = cosine_lr(step, 1e-2, 2, 5, 1e-3)
        loss = b(seq[:, :-1], seq[:, 1:])[1]
        loss.backward()
        clip_grad_norm(opt.params, 1.0)
        opt.step()
        opt.zero_grad()
        ref.append(loss.item())
    assert h["loss"] == ref and all(math.isfinite(v) for v in ref)


def test_loop_rejects_zero_steps(tmp_path):
    with pytest.raises(ValueError, match="at least 1 step"):
        Loop(_cfg(tmp_path), "pretrain", steps=0)


def test_a_validation_split_too_short_fails_before_any_work(tmp_path, data):
    tok, tr, va = data
    with pytest.raises(ValueError, match="validation split has 10 tokens"):
        train(_cfg(tmp_path), None, tok, tr, va[:10], progress=False)
    assert not (tmp_path / "ckpt").exists()
