"""Graded checks for exercise 02.3: softmax_backward (solutions/ex02_autograd.py)."""
import numpy as np
import pytest

pytestmark = pytest.mark.ex_02_3_softmax_backward


def softmax_ref(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.points(2)
def test_worked_example(impl):
    dx = impl.softmax_backward(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(dx, [0.25, -0.25], err_msg="dx = y * (dy - sum(dy * y))")


@pytest.mark.parametrize("shape, axis", [((4, 7), -1), ((5, 3), 0), ((2, 3, 4), 1), ((6,), 0)])
def test_central_differences(impl, numgrad, shape, axis):
    rng = np.random.default_rng(203)
    x, dy = rng.normal(size=shape), rng.normal(size=shape)
    dx = impl.softmax_backward(softmax_ref(x, axis), dy, axis=axis)
    assert np.shape(dx) == shape, f"dx must have shape {shape}, got {np.shape(dx)}"
    expected = numgrad(lambda x_: float(np.sum(dy * softmax_ref(x_, axis))), x)
    np.testing.assert_allclose(dx, expected, rtol=1e-5, atol=1e-8, err_msg=f"dx differs from central differences (softmax along axis={axis}; the sum over dy*y must be along that axis, keepdims)")


def test_gradient_rows_sum_to_zero(impl):
    """Softmax is shift-invariant, so each row of dx sums to 0."""
    rng = np.random.default_rng(204)
    y = softmax_ref(rng.normal(size=(3, 5)), -1)
    dx = impl.softmax_backward(y, rng.normal(size=(3, 5)))
    np.testing.assert_allclose(np.sum(dx, axis=-1), 0.0, atol=1e-12, err_msg="each row of dx must sum to 0 (softmax(x + c) = softmax(x))")


def test_length_one_axis_and_one_hot_rows(impl):
    dx = impl.softmax_backward(np.ones((3, 1)), np.array([[2.0], [-1.0], [5.0]]))
    np.testing.assert_allclose(dx, 0.0, atol=1e-12, err_msg="a softmax over one element is constant 1, so its gradient is 0")
    y = softmax_ref(np.array([[1000.0, 0.0, -1000.0]]), -1)  # one-hot from huge logits
    dx = impl.softmax_backward(y, np.array([[1.0, 2.0, 3.0]]))
    assert np.all(np.isfinite(dx)), f"one-hot y (from huge logits) must give finite dx, got {dx}"
    np.testing.assert_allclose(dx, 0.0, atol=1e-12, err_msg="a saturated (one-hot) softmax has zero gradient")


# -----------------------------------------------------------------------------
# property: rows of very different scales and offsets, ties, float32, either axis
from hypothesis import given, strategies as st  # noqa: E402

from _props import expect_close, float_dtypes, offsets, seeds, tol  # noqa: E402


@pytest.mark.points(3)
@given(seed=seeds, rows=st.integers(1, 4), cols=st.integers(1, 6), offset=offsets, ties=st.booleans(), dtype=float_dtypes, axis=st.sampled_from([-1, 0]))
def test_property_jacobian_vector_product(impl, seed, rows, cols, offset, ties, dtype, axis):
    """dx = Jᵀ dy per row, with the softmax Jacobian J = diag(y) − y yᵀ (each row of the batch on its own)."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-3, 4, size=(rows, 1))
    x = rng.normal(size=(rows, cols)) * scale + offset
    if ties:
        x = np.round(x / scale) * scale
    y = softmax_ref(x, -1).astype(dtype)
    dy = (rng.normal(size=(rows, cols)) * 10.0 ** rng.integers(-3, 4, size=(rows, 1))).astype(dtype)
    Y, DY = y.astype(np.float64), dy.astype(np.float64)
    expected = np.stack([(np.diag(Y[r]) - np.outer(Y[r], Y[r])) @ DY[r] for r in range(rows)])
    if axis == 0:  # the same rows, laid out along axis 0
        y, dy, expected = y.T.copy(), dy.T.copy(), expected.T
    dx = impl.softmax_backward(y, dy, axis=axis)
    expect_close(dx, expected, f"dx = (diag(y) − y yᵀ) dy along axis={axis}", {"y": y, "dy": dy, "axis": axis},
                 **tol(dtype, float(np.max(np.abs(DY)))))
