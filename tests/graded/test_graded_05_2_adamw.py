"""Graded checks for exercise 05.2: adamw_step (solutions/ex05_pretraining.py)."""
import math

import numpy as np
import pytest

pytestmark = pytest.mark.ex_05_2_adamw


def adamw_ref(p, g, m, v, t, lr, b1, b2, eps, wd):
    """One AdamW step for one scalar weight, in Python floats."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
    p = p - lr * wd * p - lr * mhat / (math.sqrt(vhat) + eps)
    return p, m, v


@pytest.mark.points(2)
def test_first_step_moves_by_lr_times_sign(impl):
    p, m, v = impl.adamw_step(np.array([1.0, 1.0]), np.array([0.5, -2.0]), np.zeros(2), np.zeros(2), 1, 0.1)
    np.testing.assert_allclose(p, [0.9, 1.1], rtol=1e-6, err_msg="bias-corrected first step: m_hat = g, v_hat = g^2, so p moves by lr * sign(g)")
    np.testing.assert_allclose(m, [0.05, -0.2], rtol=1e-6, err_msg="m = (1 - beta1) g on the first step (m stores the UNcorrected moment)")
    np.testing.assert_allclose(v, [0.00025, 0.004], rtol=1e-6, err_msg="v = (1 - beta2) g^2 on the first step (v stores the UNcorrected moment)")


@pytest.mark.points(2)
def test_weight_decay_is_decoupled(impl):
    """g = 0: Adam's part is 0 / (0 + eps) = 0, so only p <- p - lr * wd * p acts: [2, -3] -> [1.9, -2.85]."""
    p, _, _ = impl.adamw_step(np.array([2.0, -3.0]), np.zeros(2), np.zeros(2), np.zeros(2), 1, 0.5, weight_decay=0.1)
    np.testing.assert_allclose(p, [1.9, -2.85], rtol=1e-6,
                               err_msg="weight decay must shrink p directly (p -= lr * wd * p), not be added to the gradient as in Adam + L2")


@pytest.mark.points(3)
def test_many_steps_against_scalar_reference(impl):
    rng = np.random.default_rng(502)
    lr, (b1, b2), eps, wd = 0.01, (0.8, 0.95), 1e-6, 0.05
    p = rng.normal(size=(3, 4))
    m, v = np.zeros_like(p), np.zeros_like(p)
    ref = [(float(x), 0.0, 0.0) for x in p.ravel()]
    for t in range(1, 8):
        g = rng.normal(size=p.shape)
        p, m, v = impl.adamw_step(p, g, m, v, t, lr, betas=(b1, b2), eps=eps, weight_decay=wd)
        ref = [adamw_ref(pi, gi, mi, vi, t, lr, b1, b2, eps, wd) for (pi, mi, vi), gi in zip(ref, g.ravel())]
        np.testing.assert_allclose(np.ravel(p), [r[0] for r in ref], rtol=1e-6, atol=1e-9,
                                   err_msg=f"p after step t={t} differs (bias correction uses beta^t with t starting at 1; eps goes after the sqrt)")
        np.testing.assert_allclose(np.ravel(m), [r[1] for r in ref], rtol=1e-6, atol=1e-12, err_msg=f"m after step t={t}")
        np.testing.assert_allclose(np.ravel(v), [r[2] for r in ref], rtol=1e-6, atol=1e-12, err_msg=f"v after step t={t}")


def test_eps_after_the_square_root(impl):
    """t = 1, g = 1e-3, eps = 1e-3: step = lr * 1e-3 / (1e-3 + 1e-3) = lr / 2 (eps inside the sqrt would give ~0.03 lr)."""
    p, _, _ = impl.adamw_step(np.array([0.0]), np.array([1e-3]), np.zeros(1), np.zeros(1), 1, 1.0, eps=1e-3)
    np.testing.assert_allclose(p, [-0.5], rtol=1e-6, err_msg="eps is added to sqrt(v_hat), not inside the sqrt")


def test_inputs_are_not_modified(impl):
    p, g, m, v = np.ones(3), np.full(3, 0.5), np.full(3, 0.1), np.full(3, 0.2)
    impl.adamw_step(p, g, m, v, 3, 0.1, weight_decay=0.1)
    assert np.all(p == 1.0) and np.all(g == 0.5) and np.all(m == 0.1) and np.all(v == 0.2), "adamw_step must return new arrays and leave its inputs unchanged"


# -----------------------------------------------------------------------------
# property: gradients from 1e-8 (where ε matters) to 1e2, late steps, float32
from hypothesis import given, strategies as st  # noqa: E402

from _props import expect_close, float_dtypes, seeds, tol  # noqa: E402


@pytest.mark.points(2)
@given(seed=seeds, t=st.sampled_from([1, 2, 3, 10, 1000]), betas=st.sampled_from([(0.9, 0.999), (0.8, 0.95), (0.0, 0.5)]),
       wd=st.sampled_from([0.0, 0.01, 0.5]), lr=st.sampled_from([1e-3, 0.1]), eps=st.sampled_from([1e-8, 1e-3]), dtype=float_dtypes)
def test_property_one_step_against_scalar_reference(impl, seed, t, betas, wd, lr, eps, dtype):
    """m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − lr (m̂/(√v̂ + ε) + wd p), m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)."""
    rng = np.random.default_rng(seed)
    shape = (3, 4)
    p = rng.normal(size=shape).astype(dtype)
    g = (rng.normal(size=shape) * 10.0 ** rng.integers(-8, 3, size=(3, 1))).astype(dtype)  # each row its own scale
    m = (rng.normal(size=shape) * 0.1).astype(dtype) if t > 1 else np.zeros(shape, dtype)
    v = (rng.random(size=shape) * 0.01).astype(dtype) if t > 1 else np.zeros(shape, dtype)
    new_p, new_m, new_v = impl.adamw_step(p, g, m, v, t, lr, betas=betas, eps=eps, weight_decay=wd)
    ref = [adamw_ref(float(pi), float(gi), float(mi), float(vi), t, lr, betas[0], betas[1], eps, wd)
           for pi, gi, mi, vi in zip(p.ravel(), g.ravel(), m.ravel(), v.ravel())]
    inputs = {"p": p, "g": g, "m": m, "v": v, "t": t, "lr": lr, "betas": betas, "eps": eps, "weight_decay": wd}
    expect_close(np.ravel(new_m), [r[1] for r in ref], "m ← β1 m + (1 − β1) g", inputs, **tol(dtype, 1.0))
    expect_close(np.ravel(new_v), [r[2] for r in ref], "v ← β2 v + (1 − β2) g²", inputs, **tol(dtype, 1.0))
    expect_close(np.ravel(new_p), [r[0] for r in ref], "p ← p − lr (m̂ / (√v̂ + ε) + weight_decay · p)", inputs, **tol(dtype, 1.0))
