r"""Graded checks for exercise 09.4: lora_merge (solutions/ex09_beyond.py).

LoRA (Hu et al. 2021): a frozen W (d_out, d_in) plus a rank-r adapter B (d_out, r) A (r, d_in),
scaled by α/r. Merged:

    W' = W + (α / r) · B A,    r = the number of rows of A

Properties checked, each in its own test: the worked example (r = 1); the scale is α/r, not α
(α ≠ r); non-square shapes; B A, not its transpose, on a square W; W, A and B are not changed in
place; float32 stays float32 and float64 stays float64; bad shapes raise; and, on adversarial
inputs (rows of W, A, B with their own scales 1e-3..1e3, offsets ±1e3, int/float32/float64,
d = 1, r = 1..4), W' against a float64 reference written here with explicit sums.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from _props import cast, expect_close, failure, rows_with_scales, seeds, tol

pytestmark = pytest.mark.ex_09_4_lora_merge


def reference(W, A, B, alpha):
    """W'[o, i] = W[o, i] + (α / r) Σ_k B[o, k] A[k, i], entry by entry in Python floats."""
    W, A, B = (np.asarray(a, dtype=np.float64) for a in (W, A, B))
    r = A.shape[0]
    out = W.copy()
    for o in range(W.shape[0]):
        for i in range(W.shape[1]):
            out[o, i] += alpha / r * sum(float(B[o, k]) * float(A[k, i]) for k in range(r))
    return out


def inputs(W, A, B, alpha):
    return {"W": np.asarray(W), "A": np.asarray(A), "B": np.asarray(B), "alpha": alpha}


@pytest.mark.points(2)
def test_worked_example(impl):
    """r = 1, α = 2: W + 2 · [1, −1]ᵀ [1, 2, 3]."""
    x = inputs([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [[1.0, 2.0, 3.0]], [[1.0], [-1.0]], 2.0)
    expect_close(impl.lora_merge(**x), [[3, 4, 6], [-2, -3, -6]], "W' = W + (α/r) B A with r = 1, α = 2", x)


@pytest.mark.points(2)
def test_scale_is_alpha_over_r(impl):
    """r = 2, α = 8: the adapter counts (α/r) = 4 times, not α = 8 times."""
    A = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    B = np.array([[1.0, 1.0], [0.0, 1.0]])
    x = inputs(np.zeros((2, 3)), A, B, 8.0)
    expect_close(impl.lora_merge(**x), 4.0 * (B @ A), "scale = α / r = 8 / 2 = 4 (r = rows of A)", x)


def test_alpha_smaller_than_r(impl):
    rng = np.random.default_rng(941)
    W, A, B = rng.normal(size=(3, 5)), rng.normal(size=(4, 5)), rng.normal(size=(3, 4))
    x = inputs(W, A, B, 1.0)
    expect_close(impl.lora_merge(**x), reference(W, A, B, 1.0), "α = 1, r = 4: W' = W + B A / 4", x)


@pytest.mark.points(2)
def test_non_square(impl):
    """d_out = 2, d_in = 7, r = 3: W' has W's shape (2, 7)."""
    rng = np.random.default_rng(942)
    W, A, B = rng.normal(size=(2, 7)), rng.normal(size=(3, 7)), rng.normal(size=(2, 3))
    x = inputs(W, A, B, 6.0)
    expect_close(impl.lora_merge(**x), reference(W, A, B, 6.0), "non-square W (2, 7), A (3, 7), B (2, 3): W' = W + (α/r) B A", x)


def test_product_order_on_a_square_weight(impl):
    """W square (3, 3), r = 1: B A = [0, 1, 0]ᵀ[1, 0, 0] puts the 1 at row 1, column 0 (its transpose would be at row 0, column 1)."""
    x = inputs(np.zeros((3, 3)), [[1.0, 0.0, 0.0]], [[0.0], [1.0], [0.0]], 1.0)
    want = np.zeros((3, 3))
    want[1, 0] = 1.0
    expect_close(impl.lora_merge(**x), want, "ΔW = B A (d_out × d_in), not (B A)ᵀ or A-first", x)


@pytest.mark.points(2)
def test_inputs_are_not_changed(impl):
    """The merged weight is a new array: W (and A, B) stay as they were, so merging twice does not add twice."""
    rng = np.random.default_rng(943)
    W, A, B = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=(4, 2))
    W0, A0, B0 = W.copy(), A.copy(), B.copy()
    out = impl.lora_merge(W, A, B, 4.0)
    for name, now, before in (("W", W, W0), ("A", A, A0), ("B", B, B0)):
        if not np.array_equal(now, before):
            raise failure(f"lora_merge leaves {name} unchanged (it returns a new array)", inputs(W0, A0, B0, 4.0), now, before)
    if out is W:
        raise failure("the merged weight is a new array, not W itself", inputs(W0, A0, B0, 4.0), "W", "a new array")


def test_dtype_follows_w(impl):
    rng = np.random.default_rng(944)
    for dtype in (np.float32, np.float64):
        W, A, B = (rng.normal(size=s).astype(dtype) for s in ((3, 4), (2, 4), (3, 2)))
        got = np.asarray(impl.lora_merge(W, A, B, 16.0))
        if got.dtype != dtype:
            raise failure("the merged weight keeps W's dtype (float32 stays float32, float64 stays float64)",
                          inputs(W, A, B, 16.0), got.dtype, np.dtype(dtype))


@pytest.mark.parametrize("bad", ["A columns", "B rows", "ranks differ", "rank 0", "1-D W"])
def test_bad_shapes_raise(impl, bad):
    W, A, B = {"A columns": ((3, 4), (2, 5), (3, 2)), "B rows": ((3, 4), (2, 4), (4, 2)), "ranks differ": ((3, 4), (2, 4), (3, 3)),
               "rank 0": ((3, 4), (0, 4), (3, 0)), "1-D W": ((4,), (2, 4), (1, 2))}[bad]
    with pytest.raises(ValueError):
        impl.lora_merge(np.zeros(W), np.zeros(A), np.zeros(B), 1.0)


# -----------------------------------------------------------------------------
# property: rows with their own scales, offsets ±1e3, int / float32 / float64, d = 1, r = 1..4, α ≠ r
@pytest.mark.points(3)
@given(seed=seeds, d_out=st.integers(1, 6), d_in=st.integers(1, 6), r=st.integers(1, 4),
       alpha=st.sampled_from((0.5, 1.0, 3.0, 8.0, 32.0)), dtype=st.sampled_from(("float64", "float32", "int64")),
       offset=st.sampled_from((0.0, 1e3, -1e3)))
def test_property_against_reference(impl, seed, d_out, d_in, r, alpha, dtype, offset):
    """W' = W + (α/r) B A, entrywise."""
    rng = np.random.default_rng(seed)
    W = rows_with_scales(rng, (d_out, d_in), dtype, offset)
    A = cast(rng.normal(size=(r, d_in)) * 10.0 ** rng.integers(-3, 4, size=(r, 1)), dtype)
    B = cast(rng.normal(size=(d_out, r)) * 10.0 ** rng.integers(-3, 4, size=(d_out, 1)), dtype)
    got = impl.lora_merge(W, A, B, alpha)
    want = reference(W, A, B, alpha)
    scale = 1.0 + float(np.abs(np.asarray(W, dtype=np.float64)).max()) + alpha * float(
        (np.abs(np.asarray(B, dtype=np.float64)) @ np.abs(np.asarray(A, dtype=np.float64))).max()) / r
    expect_close(got, want, "W' = W + (α/r) B A, r = rows of A", inputs(W, A, B, alpha), **tol(dtype if dtype == "float32" else "float64", scale))
