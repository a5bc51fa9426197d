"""Scaling-law fit on synthetic data with known parameters; document loss vs a direct computation."""
import json

import numpy as np
import pytest

from minigpt.data.toyweb import generate_corpus
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.scaling import (ScalingConfig, budget, document_loss, fit_power_law, fitting_documents,
                             non_embedding_params, predict, run_scaling)
from minigpt.tokenizer import CharTokenizer


def test_fit_hand_example():
    """C = 1, 10, 100 and L = 3, 1.2, 1.02 with L∞ = 1: L − 1 = 2, 0.2, 0.02 = 2·C^(−1) → a = 2, b = 1."""
    fit = fit_power_law([1, 10, 100], [3, 1.2, 1.02], floor=1.0)
    assert fit["a"] == pytest.approx(2.0, rel=1e-9)
    assert fit["b"] == pytest.approx(1.0, rel=1e-9)
    assert predict(fit, 1000.0) == pytest.approx(1.002, rel=1e-9)


@pytest.mark.parametrize("a, b, floor", [(40.0, 0.12, 1.3), (7.5, 0.3, 0.15), (2.0, 0.05, 0.0)])
def test_fit_recovers_known_parameters(a, b, floor):
    C = np.logspace(10, 14, 6)
    L = a * C ** (-b) + floor
    fit = fit_power_law(C, L, floor=floor)
    assert fit["a"] == pytest.approx(a, rel=1e-6) and fit["b"] == pytest.approx(b, rel=1e-6)
    free = fit_power_law(C, L)  # the floor found by search: close, not exact (grid)
    assert free["floor"] == pytest.approx(floor, abs=0.01 * (L.max() - floor) + 1e-6)
    assert predict(free, 1e16) == pytest.approx(a * 1e16 ** (-b) + floor, rel=1e-2)


def test_fit_with_noise_extrapolates():
    rng = np.random.default_rng(0)
    C = np.logspace(8, 11, 5)
    L = 3.0 * C ** (-0.2) + 0.5
    fit = fit_power_law(C, L * (1 + 0.002 * rng.standard_normal(5)), floor=0.5)
    assert fit["b"] == pytest.approx(0.2, rel=0.05)
    assert predict(fit, 1e12) == pytest.approx(3.0 * 1e12 ** (-0.2) + 0.5, rel=0.01)


def test_fit_errors():
    with pytest.raises(ValueError, match="above the floor"):
        fit_power_law([1, 10], [2.0, 0.9], floor=1.0)
    with pytest.raises(ValueError, match="equal length"):
        fit_power_law([1, 10, 100], [2.0, 1.5])
    with pytest.raises(ValueError, match="positive"):
        fit_power_law([0, 10], [2.0, 1.5])


def test_non_embedding_params():
    """2 blocks of width 16 with biases: 2·(12·16² + 13·16) = 6560, plus the final LayerNorm 2·16."""
    cfg = GPTConfig(vocab_size=77, block_size=128, n_layer=2, n_head=2, n_embd=16)
    assert non_embedding_params(cfg) == 6560 + 32


def test_document_loss_equals_per_document_average():
    """Batched, padded scoring equals a direct per-document computation with numpy log-softmax."""
    text = generate_corpus(n_docs=200, seed=0)
    tok = CharTokenizer.train(text)
    docs, floor = fitting_documents(tok, block_size=64, n_docs=12, seed=1)
    assert 0 < len(docs) < 12 and 0.05 < floor < 0.5  # stories (>63 chars) are left out
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=64, n_layer=1, n_head=2, n_embd=16), seed=0)
    total, count = 0.0, 0
    for d in docs:
        ids = [tok.eot_id] + tok.encode(d) + [tok.eot_id]
        logits = model(np.array([ids[:-1]]))[0].data[0].astype(np.float64)  # (T, V)
        m = logits.max(-1, keepdims=True)
        logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
        total -= logp[np.arange(len(ids) - 1), ids[1:]].sum()
        count += len(ids) - 1
    assert document_loss(model, tok, docs, batch_size=5) == pytest.approx(total / count, rel=1e-5)
    with pytest.raises(ValueError, match="block_size is 64"):
        document_loss(model, tok, ["x" * 80])


def test_budget_by_hand():
    """Width 16, 2 blocks, 300 steps of 8×64 tokens: N = 6592 (as above), D = 153,600, C = 6·N·D."""
    b = budget(ScalingConfig(steps=300, batch_size=8), 16, vocab_size=512)
    assert (b["params"], b["steps"], b["tokens"]) == (6592, 300, 153_600)
    assert b["compute"] == pytest.approx(6 * 6592 * 153_600)
    k = budget(ScalingConfig(tokens_per_param=20, batch_size=8), 16, vocab_size=512)
    assert k["steps"] == -(-20 * 6592 // 512)  # ceil(k·N / tokens per step) = 258


def test_run_scaling_end_to_end_json():
    """A tiny ladder runs through: fit on the small runs, one predicted target, JSON-serialisable result."""
    cfg = ScalingConfig(widths=(8, 12), targets=(16,), steps=4, n_chars=20_000, eval_docs=20, tokenizer="char")
    res = run_scaling(cfg, log=lambda s: None)
    json.dumps(res)
    assert [r["n_embd"] for r in res["runs"]] == [8, 12] and res["targets"][0]["n_embd"] == 16
    t = res["targets"][0]
    assert t["compute"] == pytest.approx(6 * t["params"] * t["tokens"])
    assert t["predicted"] == pytest.approx(float(predict(res["fit"], t["compute"])))
    assert all(r["loss"] > res["floor"] for r in res["runs"])  # 4 steps: far above the entropy floor
