r"""Helpers of the property-based graded checks: adversarial inputs and failure messages that teach.

Every property check draws its inputs with hypothesis (`derandomize=True` in conftest.py: the
same examples on every run) from the classes of inputs where wrong solutions hide:

  - rows of one batch whose scales differ by orders of magnitude (1e-3 .. 1e3),
  - offsets of ±1e3 (an overflow, or an initial value such as max = 0, shows up there),
  - ties (values rounded to a coarse grid),
  - integer and float32 inputs (the reference works in float64 on the same values),
  - empty and length-1 axes, masks padded on the left or on the right.

and compares the student's answer with a float64 reference written independently of the
solution. On a mismatch `expect_close` raises one message that states the property (the
formula), shows the input, and ACTUAL vs EXPECTED in full — hypothesis first shrinks the input
to a small one, so the message stays readable. No guessed causes.
"""
from __future__ import annotations

import sys

import numpy as np
from hypothesis import strategies as st

DTYPES = ("float64", "float32", "int64")
SCALES = (1e-3, 1e-2, 1.0, 1e2, 1e3)
OFFSETS = (0.0, 1e3, -1e3)


def fmt(x) -> str:
    """An array or value in full (no '...'), with enough digits to see the difference."""
    if isinstance(x, np.ndarray):
        return np.array2string(x, threshold=sys.maxsize, max_line_width=120, precision=10, separator=", ")
    return repr(x)


def show_inputs(inputs: dict) -> str:
    return "\n".join(f"  {name} = {fmt(value)}".replace("\n", "\n      ") for name, value in inputs.items())


def failure(prop: str, inputs: dict, actual, expected, note: str = "") -> AssertionError:
    text = f"property: {prop}\ninput:\n{show_inputs(inputs)}\nACTUAL:   {fmt(actual)}\nEXPECTED: {fmt(expected)}"
    if note:
        text += f"\n{note}"
    return AssertionError(text)


def expect_close(actual, expected, prop: str, inputs: dict, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Assert |actual − expected| <= atol + rtol |expected| elementwise (shapes equal, no NaN/inf mismatch)."""
    expected = np.asarray(expected, dtype=np.float64)
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        raise failure(prop, inputs, actual, expected, "the answer is not numeric") from None
    if got.shape != expected.shape:
        raise failure(prop, inputs, actual, expected, f"shape {got.shape} instead of {expected.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~((got == expected) | (np.abs(got - expected) <= atol + rtol * np.abs(expected)))
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0]) if bad.ndim else ()
        note = f"{int(bad.sum())} of {bad.size} entries differ; first at index {i}: actual {got[i]!r}, expected {expected[i]!r} (rtol={rtol:g}, atol={atol:g})"
        raise failure(prop, inputs, np.asarray(actual), expected, note)


def linear_gradient(f, shape) -> np.ndarray:
    """Exact gradient of a scalar function f that is linear in its array argument: entry i is f(e_i)."""
    g = np.zeros(shape)
    for i in np.ndindex(*shape):
        e = np.zeros(shape)
        e[i] = 1.0
        g[i] = f(e)
    return g


def expect_bilinear_gradients(backward, a, b, grad, product, props: tuple[str, str], dtype: str) -> None:
    """For c = product(a, b), linear in each of a and b: `backward(a, b, grad)` must give da = Σ grad ⊙
    product(e_i, b) for each entry i of a (and db likewise), the exact gradient, whatever broadcasting product
    does; the tolerance scales with the largest an entry of them can be, (max|a| + max|b|)·max|grad|·grad.size."""
    da, db = backward(a, b, grad)
    A, B, G = (np.asarray(v, dtype=np.float64) for v in (a, b, grad))
    big = lambda x: np.max(np.abs(x), initial=0)  # noqa: E731
    scale = 1.0 + float(big(G) * (big(A) + big(B)) * max(1, G.size))
    inputs = {"a": a, "b": b, "grad": grad}
    expect_close(da, linear_gradient(lambda e: float(np.sum(G * product(e, B))), A.shape), props[0], inputs, **tol(dtype, scale))
    expect_close(db, linear_gradient(lambda e: float(np.sum(G * product(A, e))), B.shape), props[1], inputs, **tol(dtype, scale))


def expect_central_differences(backward, product, shape_a, shape_b, seed: int, numgrad, hint: str,
                                atol: float) -> None:
    """The fixed-shape check of a product's backward (02.1, 02.2): for normal a, b, grad drawn from `seed`,
    `backward(a, b, grad)` gives da and db of the shapes of a and b (`hint` says how to get there) that match
    central differences `numgrad` of L(a, b) = Σ grad ⊙ product(a, b)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    grad = rng.normal(size=np.shape(product(a, b)))
    da, db = backward(a, b, grad)
    for name, d, x in (("da", da, a), ("db", db, b)):
        if np.shape(d) != np.shape(x):
            raise AssertionError(f"{name} must have {name[1]}'s shape {np.shape(x)}, got {np.shape(d)}: {hint}")
    loss = lambda a_, b_: float(np.sum(grad * product(a_, b_)))  # noqa: E731 - L with dL/dc = grad
    np.testing.assert_allclose(da, numgrad(lambda x: loss(x, b), a), rtol=1e-6, atol=atol,
                               err_msg="da differs from central differences")
    np.testing.assert_allclose(db, numgrad(lambda x: loss(a, x), b), rtol=1e-6, atol=atol,
                               err_msg="db differs from central differences")


def expect_equal(actual, expected, prop: str, inputs: dict) -> None:
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        a, e = np.asarray(actual), np.asarray(expected)
        if a.shape != e.shape or not np.array_equal(a, e):
            raise failure(prop, inputs, actual, expected)
    elif actual != expected:
        raise failure(prop, inputs, actual, expected)


# -----------------------------------------------------------------------------
# strategies: a seed plus a few adversarial choices; the arrays are built from them
seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from(DTYPES)
float_dtypes = st.sampled_from(("float64", "float32"))
scales = st.sampled_from(SCALES)
offsets = st.sampled_from(OFFSETS)


def rows_with_scales(rng, shape, dtype="float64", offset=0.0, ties=False, base=1.0):
    """A (..., C) array whose rows (and batch entries) each get their own scale 10^k, k in -3..3."""
    shape = tuple(shape)
    lead = shape[:-1]
    row_scale = 10.0 ** rng.integers(-3, 4, size=lead + (1,)) if shape else 1.0
    x = rng.normal(size=shape) * base * row_scale + offset
    if ties:
        x = np.round(x / (base * row_scale)) * (base * row_scale)
    return cast(x, dtype)


def cast(x, dtype):
    x = np.asarray(x)
    if dtype == "int64":
        return np.round(x).astype(np.int64)
    return x.astype(dtype)


def tol(dtype: str, scale: float = 1.0) -> dict:
    """Tolerances for answers computed from inputs of `dtype` (float32 inputs may be worked in float32)."""
    if dtype == "float32":
        return {"rtol": 2e-3, "atol": 2e-4 * scale}
    return {"rtol": 1e-6, "atol": 1e-9 * scale}


def _broadcast_to(draw, dims) -> tuple:
    """A shape that broadcasts to `dims`: a trailing part of it with each entry kept or set to 1 (a missing
    leading axis and a size-1 axis are the two ways to broadcast)."""
    nd = draw(st.integers(0, len(dims)))
    return tuple(d if draw(st.booleans()) else 1 for d in dims[len(dims) - nd:])


@st.composite
def broadcast_pair(draw):
    """Shapes of a and b for a ⊙ b (02.1): any two that broadcast together, up to 3 axes of size 1..3."""
    out = draw(st.lists(st.integers(1, 3), max_size=3))
    return _broadcast_to(draw, out), _broadcast_to(draw, out)


@st.composite
def matmul_shapes(draw):
    """Shapes (..., n, k) and (..., k, m) of a and b for a @ b (02.2), their batch dims broadcasting together."""
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    return _broadcast_to(draw, batch) + (n, k), _broadcast_to(draw, batch) + (k, m)
