"""Graded checks for exercise 02.4: layernorm_backward (solutions/ex02_autograd.py)."""
import numpy as np
import pytest

pytestmark = pytest.mark.ex_02_4_layernorm_backward


def layernorm_ref(x, w, b, eps):
    """Forward LayerNorm over the last axis, biased variance (divide by C)."""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


@pytest.mark.points(2)
def test_worked_example(impl):
    dx, dw, db = impl.layernorm_backward(np.array([0.0, 2.0]), np.array([1.0, 1.0]), np.array([1.0, 0.0]), eps=0.0)
    np.testing.assert_allclose(dx, [0.0, 0.0], atol=1e-12, err_msg="with C = 2, x_hat is always +-1, so dx = 0")
    np.testing.assert_allclose(dw, [-1.0, 0.0], atol=1e-12, err_msg="dw = sum of dy * x_hat")
    np.testing.assert_allclose(db, [1.0, 0.0], atol=1e-12, err_msg="db = sum of dy")


@pytest.mark.parametrize("shape, eps", [((4, 6), 1e-5), ((2, 3, 5), 1e-5), ((3, 4), 0.5)])
def test_central_differences(impl, numgrad, shape, eps):
    rng = np.random.default_rng(205)
    C = shape[-1]
    x, dy = rng.normal(size=shape) * 0.5, rng.normal(size=shape)
    w, b = rng.normal(size=C), rng.normal(size=C)
    dx, dw, db = impl.layernorm_backward(x, w, dy, eps=eps)
    assert (np.shape(dx), np.shape(dw), np.shape(db)) == (shape, (C,), (C,)), (
        f"shapes must be dx {shape}, dw ({C},), db ({C},); got {np.shape(dx)}, {np.shape(dw)}, {np.shape(db)} "
        "(sum dw and db over ALL leading dims)"
    )
    loss = lambda x_, w_, b_: float(np.sum(dy * layernorm_ref(x_, w_, b_, eps)))
    np.testing.assert_allclose(dx, numgrad(lambda v: loss(v, w, b), x), rtol=1e-5, atol=1e-7,
                               err_msg=f"dx differs from central differences (biased variance over the last axis, eps={eps} inside the sqrt)")
    np.testing.assert_allclose(dw, numgrad(lambda v: loss(x, v, b), w), rtol=1e-5, atol=1e-7, err_msg="dw differs from central differences")
    np.testing.assert_allclose(db, numgrad(lambda v: loss(x, w, v), b), rtol=1e-5, atol=1e-7, err_msg="db differs from central differences")


def test_single_feature(impl):
    """C = 1: x_hat is always 0, so dx = 0, dw = 0 and db = sum of dy."""
    dx, dw, db = impl.layernorm_backward(np.array([[3.0], [-2.0]]), np.array([2.0]), np.array([[1.0], [4.0]]))
    assert np.all(np.isfinite(dx)), "C = 1 (zero variance) must not give NaN: eps keeps sqrt(var + eps) > 0"
    np.testing.assert_allclose(dx, 0.0, atol=1e-9, err_msg="with C = 1 the output does not depend on x, so dx = 0")
    np.testing.assert_allclose(dw, [0.0], atol=1e-9, err_msg="with C = 1, x_hat = 0 so dw = 0")
    np.testing.assert_allclose(db, [5.0], err_msg="db = sum of dy")


# -----------------------------------------------------------------------------
# property: rows of very different scales, offsets of ±1e3, float32
from hypothesis import given, strategies as st  # noqa: E402

from _props import expect_close, float_dtypes, offsets, seeds, tol  # noqa: E402


@pytest.mark.points(3)
@given(seed=seeds, rows=st.integers(1, 4), C=st.integers(2, 6), offset=offsets, dtype=float_dtypes, eps=st.sampled_from([1e-5, 0.1]))
def test_property_jacobian_of_the_normalisation(impl, seed, rows, C, offset, dtype, eps):
    """dx = J (dy ⊙ w) per row with J = (I − 11ᵀ/C − x̂ x̂ᵀ/C) / sqrt(σ² + ε); dw = Σ dy ⊙ x̂; db = Σ dy."""
    rng = np.random.default_rng(seed)
    low = -3 if offset == 0 else (0 if dtype == "float32" else -1)  # float32 cannot hold a spread of 1e-3 around 1e3
    scale = 10.0 ** rng.integers(low, 4, size=(rows, 1))
    x = (rng.normal(size=(rows, C)) * scale + offset).astype(dtype)
    w, dy = rng.normal(size=C).astype(dtype), rng.normal(size=(rows, C)).astype(dtype)
    X, W, DY = (v.astype(np.float64) for v in (x, w, dy))
    mu = X.mean(-1, keepdims=True)
    var = ((X - mu) ** 2).mean(-1, keepdims=True)
    xhat = (X - mu) / np.sqrt(var + eps)
    dx_ref = np.stack([(np.eye(C) - 1.0 / C - np.outer(xhat[r], xhat[r]) / C) @ (DY[r] * W) / np.sqrt(var[r, 0] + eps) for r in range(rows)])
    dx, dw, db = impl.layernorm_backward(x, w, dy, eps=eps)
    inputs = {"x": x, "w": w, "dy": dy, "eps": eps}
    big = float(np.max(np.abs(dx_ref))) + 1.0
    expect_close(dx, dx_ref, "dx = (I − 11ᵀ/C − x̂x̂ᵀ/C)(dy ⊙ w) / sqrt(σ² + ε), σ² the biased variance of the row", inputs, **tol(dtype, big))
    expect_close(dw, (DY * xhat).sum(0), "dw = Σ_rows dy ⊙ x̂", inputs, **tol(dtype, float(np.abs(DY).sum()) + 1))
    expect_close(db, DY.sum(0), "db = Σ_rows dy", inputs, **tol(dtype, float(np.abs(DY).sum()) + 1))
