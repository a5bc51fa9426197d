"""Pretraining: the loss goes down, resume reproduces the uninterrupted run exactly."""
import dataclasses

import numpy as np

from minigpt.nn.gpt import GPTConfig
from minigpt.stages.common import load_model, read_metrics
from minigpt.stages.pretrain import PretrainConfig, prepare, train


def _cfg(tmp_path, **kw):
    model = GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=16, dropout=kw.pop("dropout", 0.0))
    base = dict(out_dir=str(tmp_path), model=model, batch_size=8, max_iters=40,
                optim=dict(warmup_iters=5, lr=3e-3), eval_interval=20, eval_iters=4, ckpt_interval=20, n_chars=20_000, seed=3)
    base.update(kw)
    return PretrainConfig(**base)


def test_loss_decreases_and_checkpoint_loads(tmp_path):
    cfg = _cfg(tmp_path)
    tok, tr, va = prepare(cfg)
    res = train(cfg, None, tok, tr, va, progress=False)
    h = res["history"]
    assert np.mean(h["train_loss"][-5:]) < np.mean(h["train_loss"][:5]) - 0.5
    assert res["val_loss"] < np.log(tok.vocab_size)  # better than uniform
    model, tok2, conf = load_model(res["ckpt"], expect_stage="pretrain")
    assert conf["step"] == 40 and tok2.vocab_size == tok.vocab_size


def test_resume_reproduces_losses_exactly(tmp_path):
    full = _cfg(tmp_path / "full", max_iters=12, ckpt_interval=4, eval_interval=4, dropout=0.1)
    tok, tr, va = prepare(full)
    train(full, None, tok, tr, va, progress=False)
    part = _cfg(tmp_path / "part", max_iters=12, ckpt_interval=4, eval_interval=4, dropout=0.1)
    train(part, None, tok, tr, va, progress=False, stop_at=6)  # "crash" at step 6: last checkpoint is step 4
    train(dataclasses.replace(part, resume=True), None, tok, tr, va, progress=False)
    a = read_metrics(tmp_path / "full" / "metrics.jsonl")
    b = read_metrics(tmp_path / "part" / "metrics.jsonl")
    assert [r["step"] for r in b] == list(range(12))
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    assert [r.get("val_loss") for r in a] == [r.get("val_loss") for r in b]
