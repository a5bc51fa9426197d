"""Graded checks for exercise 05.1: cross_entropy (solutions/ex05_pretraining.py)."""
import math

import numpy as np
import pytest

pytestmark = pytest.mark.ex_05_1_cross_entropy


def loss_ref(logits, targets, ignore_index=-100):
    """Mean of logsumexp(z) - z_y over non-ignored positions, with Python floats."""
    z = np.asarray(logits, dtype=np.float64).reshape(-1, np.shape(logits)[-1])
    terms = []
    for row, y in zip(z, np.ravel(targets)):
        if y == ignore_index:
            continue
        top = max(row)
        terms.append(top + math.log(sum(math.exp(v - top) for v in row)) - row[y])
    return sum(terms) / len(terms) if terms else 0.0


@pytest.mark.points(2)
def test_worked_example(impl):
    loss, dlogits = impl.cross_entropy(np.array([[0.0, 0.0], [0.0, math.log(3.0)]]), np.array([0, -100]))
    assert math.isclose(float(loss), math.log(2.0), rel_tol=1e-6), f"loss = ln 2 from row 0 only, got {loss}"
    np.testing.assert_allclose(dlogits, [[-0.5, 0.5], [0.0, 0.0]], atol=1e-7, err_msg="dlogits = (softmax - onehot) / N, zero on the ignored row")


def test_uniform_logits_give_log_vocab(impl):
    V, N = 8, 5
    loss, dlogits = impl.cross_entropy(np.zeros((N, V)), np.arange(N))
    assert math.isclose(float(loss), math.log(V), rel_tol=1e-6), f"uniform logits over V = {V}: loss must be ln V = {math.log(V):.4f}, got {loss}"
    expected = np.full((N, V), 1.0 / V)
    expected[np.arange(N), np.arange(N)] -= 1.0
    np.testing.assert_allclose(dlogits, expected / N, atol=1e-7, err_msg="dlogits must be (softmax - onehot) / N: the mean's 1/N belongs in the gradient too")


@pytest.mark.points(2)
def test_mean_over_non_ignored_tokens(impl):
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [5.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    targets = np.array([0, -100, 1, -100])
    loss, dlogits = impl.cross_entropy(logits, targets)
    assert math.isclose(float(loss), loss_ref(logits, targets), rel_tol=1e-6), (
        f"loss must be the mean over the {2} non-ignored tokens, not over all {4} tokens: expected {loss_ref(logits, targets):.6f}, got {loss}"
    )
    np.testing.assert_allclose(np.asarray(dlogits)[[1, 3]], 0.0, atol=0, err_msg="ignored positions must get exactly zero gradient")
    assert np.allclose(np.sum(dlogits, axis=-1), 0.0, atol=1e-7), "each row of dlogits must sum to 0 (softmax - onehot)"


def test_custom_ignore_index(impl):
    logits = np.array([[1.0, 2.0], [3.0, -1.0]])
    loss, _ = impl.cross_entropy(logits, np.array([1, 0]), ignore_index=0)
    assert math.isclose(float(loss), loss_ref(logits, [1, 0], ignore_index=0), rel_tol=1e-6), "use the ignore_index argument, not a hard-coded -100"


def test_all_targets_ignored(impl):
    with np.errstate(all="ignore"):
        loss, dlogits = impl.cross_entropy(np.ones((2, 3, 4)), np.full((2, 3), -100))
    assert float(loss) == 0.0, f"with every target ignored the loss must be 0.0 (no NaN from 0/0), got {loss}"
    assert np.shape(dlogits) == (2, 3, 4) and np.all(np.asarray(dlogits) == 0.0), "with every target ignored dlogits must be all zeros"


@pytest.mark.points(2)
def test_huge_logits_stay_finite(impl):
    logits = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4]], dtype=np.float32)
    with np.errstate(all="ignore"):
        loss, dlogits = impl.cross_entropy(logits, np.array([0, 1]))
    assert np.isfinite(float(loss)) and np.all(np.isfinite(dlogits)), f"property: logits of ±1e4 give a finite loss and gradient\nACTUAL:   loss = {loss!r}, dlogits = {dlogits!r}\nEXPECTED: loss = 5000.0, dlogits = [[0, 0, 0], [0.5, -0.5, 0]]"
    assert math.isclose(float(loss), (0.0 + 1e4) / 2, rel_tol=1e-4), f"row 0 costs ~0 and row 1 costs ~1e4, mean 5000; got {loss}"
    np.testing.assert_allclose(dlogits, [[0.0, 0.0, 0.0], [0.5, -0.5, 0.0]], atol=1e-6, err_msg="gradient with huge logits")


@pytest.mark.points(3)
def test_random_3d_batch_against_reference_and_central_differences(impl, numgrad):
    rng = np.random.default_rng(501)
    B, T, V = 2, 5, 7
    logits = rng.normal(size=(B, T, V)) * 3
    targets = rng.integers(0, V, size=(B, T))
    targets[0, 1] = targets[1, 4] = -100
    loss, dlogits = impl.cross_entropy(logits, targets)
    assert math.isclose(float(loss), loss_ref(logits, targets), rel_tol=1e-6), f"loss differs from the reference: {loss} vs {loss_ref(logits, targets)}"
    assert np.shape(dlogits) == (B, T, V), f"dlogits must have the logits' shape {(B, T, V)}, got {np.shape(dlogits)}"
    np.testing.assert_allclose(dlogits, numgrad(lambda z: loss_ref(z, targets), logits), rtol=1e-5, atol=1e-8, err_msg="dlogits differs from central differences of the loss")


# -----------------------------------------------------------------------------
# property: rows of very different scales, offsets of ±1e3, ties, int / float32 logits, ignored rows
from hypothesis import given, strategies as st  # noqa: E402

from _props import dtypes, expect_close, offsets, rows_with_scales, seeds, tol  # noqa: E402


def grad_ref(logits, targets, ignore_index):
    """(softmax(z) − onehot(y)) / N on counted rows, 0 on ignored rows; softmax row by row with Python floats."""
    z = np.asarray(logits, dtype=np.float64).reshape(-1, np.shape(logits)[-1])
    y = np.ravel(targets)
    n = int(np.sum(y != ignore_index))
    out = np.zeros_like(z)
    for i, (row, t) in enumerate(zip(z, y)):
        if t == ignore_index:
            continue
        top = max(row)
        e = [math.exp(v - top) for v in row]
        out[i] = [w / sum(e) for w in e]
        out[i, t] -= 1.0
    return (out / max(n, 1)).reshape(np.shape(logits))


@pytest.mark.points(2)
@pytest.mark.parametrize("part", ["loss", "gradient"])  # two checks: a wrong gradient does not cost the loss's points
@given(seed=seeds, B=st.integers(1, 3), T=st.integers(1, 4), V=st.integers(1, 6), offset=offsets, ties=st.booleans(),
       dtype=dtypes, ignore_index=st.sampled_from([-100, -1]))
def test_property(impl, part, seed, B, T, V, offset, ties, dtype, ignore_index):
    """loss = mean over counted positions of logsumexp(z) − z_y; dlogits = (softmax(z) − onehot(y)) / N, 0 where ignored."""
    rng = np.random.default_rng(seed)
    logits = rows_with_scales(rng, (B, T, V), dtype, offset, ties)  # each row of the batch at its own scale
    targets = np.where(rng.random((B, T)) < 0.3, ignore_index, rng.integers(0, V, size=(B, T)))
    loss, dlogits = impl.cross_entropy(logits, targets, ignore_index=ignore_index)
    inputs = {"logits": logits, "targets": targets, "ignore_index": ignore_index}
    if part == "loss":
        expect_close(float(loss), loss_ref(logits, targets, ignore_index), "loss = (1/N) Σ_{y ≠ ignore_index} [logsumexp(z) − z_y]",
                     inputs, **tol(dtype, 1.0 + float(np.max(np.abs(logits)))))
    else:
        expect_close(dlogits, grad_ref(logits, targets, ignore_index), "dlogits = (softmax(z) − onehot(y)) / N, 0 where ignored",
                     inputs, **tol("float32" if dtype == "float32" else "float64"))
