"""Graded checks for exercise 03.1: causal_self_attention (solutions/ex03_attention.py)."""
import math

import numpy as np
import pytest

pytestmark = pytest.mark.ex_03_1_attention


def attention_ref(q, k, v):
    """Naive loops in float64: for each query position t, softmax over the keys s <= t."""
    B, nh, T, hs = q.shape
    y = np.zeros_like(v, dtype=np.float64)
    for b in range(B):
        for h in range(nh):
            for t in range(T):
                scores = [float(np.dot(q[b, h, t], k[b, h, s])) / math.sqrt(hs) for s in range(t + 1)]
                top = max(scores)
                weights = [math.exp(sc - top) for sc in scores]
                total = sum(weights)
                y[b, h, t] = sum(wt / total * v[b, h, s] for s, wt in enumerate(weights))
    return y


@pytest.mark.points(2)
def test_worked_example(impl):
    q = k = np.zeros((1, 1, 2, 1))
    v = np.array([1.0, 3.0]).reshape(1, 1, 2, 1)
    y = impl.causal_self_attention(q, k, v)
    np.testing.assert_allclose(np.ravel(y), [1.0, 2.0], err_msg="with equal scores, position 0 sees only v0 and position 1 averages v0 and v1")


def test_scores_scaled_by_sqrt_head_size(impl):
    """hs = 4; row 1 scores: q1.k0 / 2 = 0 and q1.k1 / 2 = ln 3, so P = [1/4, 3/4] and y1 = 0.75 (0.9 without the /2)."""
    a = math.log(3.0) / 2
    q = np.array([[0.0] * 4, [1.0] * 4]).reshape(1, 1, 2, 4)
    k = np.array([[0.0] * 4, [a] * 4]).reshape(1, 1, 2, 4)
    v = np.array([[0.0] * 4, [1.0] * 4]).reshape(1, 1, 2, 4)
    y = impl.causal_self_attention(q, k, v)
    np.testing.assert_allclose(np.asarray(y)[0, 0, 1], [0.75] * 4, rtol=1e-6, err_msg="scores must be divided by sqrt(hs) (hs = 4 here)")


@pytest.mark.points(3)
def test_random_shapes_against_naive_loops(impl):
    rng = np.random.default_rng(301)
    for shape in [(2, 3, 5, 4), (1, 1, 7, 8), (3, 2, 1, 2), (1, 4, 6, 16)]:
        q, k, v = (rng.normal(size=shape) for _ in range(3))
        y = impl.causal_self_attention(q, k, v)
        assert np.shape(y) == shape, f"y must have shape (B, nh, T, hs) = {shape}, got {np.shape(y)}"
        np.testing.assert_allclose(y, attention_ref(q, k, v), rtol=1e-6, atol=1e-9, err_msg=f"attention output differs from the reference for shape {shape}")


def test_length_one_sequence_returns_v(impl):
    rng = np.random.default_rng(302)
    q, k, v = (rng.normal(size=(2, 3, 1, 4)) for _ in range(3))
    np.testing.assert_allclose(impl.causal_self_attention(q, k, v), v, rtol=1e-6, err_msg="with T = 1 a token attends only to itself: y = v")


@pytest.mark.points(2)
def test_future_tokens_do_not_leak(impl):
    rng = np.random.default_rng(303)
    q, k, v = (rng.normal(size=(1, 2, 6, 4)) for _ in range(3))
    y = np.asarray(impl.causal_self_attention(q, k, v))
    k2, v2 = k.copy(), v.copy()
    k2[:, :, 4:] += 10.0  # change keys and values of positions 4 and 5 only
    v2[:, :, 4:] -= 10.0
    y2 = np.asarray(impl.causal_self_attention(q, k2, v2))
    np.testing.assert_allclose(y2[:, :, :4], y[:, :, :4], rtol=1e-9, atol=1e-12, err_msg="causal mask: outputs at t < 4 must not change when keys/values at s >= 4 change")
    assert not np.allclose(y2[:, :, 4:], y[:, :, 4:]), "positions 4 and 5 must see their own (changed) keys and values"


def test_large_scores_stay_finite(impl):
    rng = np.random.default_rng(304)
    q, k, v = (rng.normal(size=(1, 1, 5, 4)) for _ in range(3))
    q, k = q * 100.0, k * 100.0  # scores of order 1e4: exp overflows without subtracting the row max
    with np.errstate(all="ignore"):
        y = impl.causal_self_attention(q, k, v)
    assert np.all(np.isfinite(y)), "subtract the row max before exp: huge scores overflow exp and give NaN"
    np.testing.assert_allclose(y, attention_ref(q, k, v), rtol=1e-6, atol=1e-9, err_msg="large scores: output differs from the reference")


# -----------------------------------------------------------------------------
# property: heads whose scores differ by orders of magnitude, length 1, int / float32 inputs
from hypothesis import given, strategies as st  # noqa: E402

from _props import dtypes, expect_close, seeds, tol  # noqa: E402


@pytest.mark.points(3)
@given(seed=seeds, B=st.integers(1, 2), nh=st.integers(1, 3), T=st.integers(1, 5), hs=st.integers(1, 4), dtype=dtypes)
def test_property_against_naive_loops(impl, seed, B, nh, T, hs, dtype):
    """y[t] = Σ_{s≤t} softmax_s(q_t·k_s / √hs) v_s for every batch entry and head, each head at its own score scale."""
    rng = np.random.default_rng(seed)
    head_scale = rng.choice([0.1, 1.0, 10.0, 40.0], size=(B, nh, 1, 1))  # scores from ~0.01 up to ~1e3
    q, k = rng.normal(size=(2, B, nh, T, hs)) * head_scale
    v = rng.normal(size=(B, nh, T, hs)) * 3
    if dtype == "int64":
        q, k, v = (np.round(a).astype(np.int64) for a in (q, k, v))
    else:
        q, k, v = (a.astype(dtype) for a in (q, k, v))
    y = impl.causal_self_attention(q, k, v)
    ref = attention_ref(*(a.astype(np.float64) for a in (q, k, v)))
    expect_close(y, ref, "y = softmax(q kᵀ/√hs, causal) v, per batch entry and head", {"q": q, "k": k, "v": v},
                 **tol("float32" if dtype == "float32" else "float64", float(np.max(np.abs(v)))))
