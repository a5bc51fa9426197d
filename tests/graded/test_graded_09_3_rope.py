r"""Graded checks for exercise 09.3: rope_rotate (solutions/ex09_beyond.py).

RoPE (Su et al. 2021) in minigpt's half-split convention: for x of shape (..., T, hs), h = hs/2,
channel pair i = (x_i, x_{i+h}) at position t is the complex number z_i = x_i + j·x_{i+h}, and

    z_i ← z_i · e^{j t θ_i},    θ_i = base^{−2i/hs}

Properties checked, each in its own test: the worked example; position 0 changes nothing; the
pairing (i, i + hs/2), the angle table θ_i and the direction of the turn, each on a one-hot
input; x is not changed in place; the dtype; bad input raises; and, on adversarial inputs
(per-row scales 1e-3..1e3, offsets ±1e3, int/float32, T = 1, hs = 2, leading dims, positions up to
4096 in any order), agreement with the complex-number reference written here, norm of every pair
preserved, and ⟨R_m q, R_n k⟩ depending only on n − m.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from _props import dtypes, expect_close, failure, offsets, rows_with_scales, seeds, tol

pytestmark = pytest.mark.ex_09_3_rope


def reference(x, positions, base=10000.0):
    """Complex numbers: z = x[..., :h] + j x[..., h:], times e^{j t θ_i}; real and imaginary parts back in the halves."""
    x = np.asarray(x, dtype=np.float64)
    h = x.shape[-1] // 2
    theta = np.array([base ** (-2.0 * i / x.shape[-1]) for i in range(h)])
    turn = np.exp(1j * np.outer(np.asarray(positions, dtype=np.float64), theta))  # (T, h)
    z = (x[..., :h] + 1j * x[..., h:]) * turn
    return np.concatenate([z.real, z.imag], axis=-1)


def call(impl, x, positions, **kw):
    return impl.rope_rotate(np.asarray(x), np.asarray(positions), **kw)


@pytest.mark.points(2)
def test_worked_example(impl):
    """x = [1, 2, 3, 4] at positions 0 and 1, base 100: θ = [1, 0.1]; at t = 1 pair (1, 3) turns 1 rad, pair (2, 4) 0.1 rad."""
    x = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    c1, s1, c2, s2 = np.cos(1.0), np.sin(1.0), np.cos(0.1), np.sin(0.1)
    want = [[1, 2, 3, 4], [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 1 * s1 + 3 * c1, 2 * s2 + 4 * c2]]
    expect_close(call(impl, x, [0, 1], base=100.0), want, "pair i = (x_i, x_{i+hs/2}) turns by t·base^{−2i/hs}", {"x": x, "positions": [0, 1], "base": 100.0})


def test_position_zero_is_the_identity(impl):
    x = np.random.default_rng(931).normal(size=(3, 1, 6))
    expect_close(call(impl, x, [0]), x, "at position 0 every angle is 0: nothing turns", {"x": x, "positions": [0]})


@pytest.mark.points(2)
def test_pairs_channel_i_with_i_plus_half(impl):
    """One-hot x = e_0 (hs = 8) at position 1: channel 0 turns towards channel 4 (half split), not channel 1 (neighbours)."""
    x = np.zeros((1, 8))
    x[0, 0] = 1.0
    want = np.zeros((1, 8))
    want[0, 0], want[0, 4] = np.cos(1.0), np.sin(1.0)
    expect_close(call(impl, x, [1]), want, "channel i is paired with channel i + hs/2 (minigpt's half-split convention)", {"x": x, "positions": [1]})


@pytest.mark.points(2)
def test_angle_table(impl):
    """hs = 8, base 10000: pair i turns by t·10000^{−2i/8}, i.e. 1, 0.1, 0.01, 0.001 rad per position."""
    x = np.zeros((1, 8))
    x[0, :4] = 1.0
    t = 3.0
    angles = t * 10000.0 ** (-2.0 * np.arange(4) / 8)
    want = np.concatenate([np.cos(angles), np.sin(angles)])[None]
    expect_close(call(impl, x, [3]), want, "θ_i = base^{−2i/hs}: pair i at position t turns by t·θ_i", {"x": x, "positions": [3]})


def test_direction_of_the_turn(impl):
    """A positive angle turns (x_i, x_{i+h}) = (1, 0) to (cos φ, +sin φ), counter-clockwise."""
    x = np.array([[1.0, 0.0]])
    got = call(impl, x, [1], base=10000.0)
    expect_close(got, [[np.cos(1.0), np.sin(1.0)]], "y_i = x_i cos φ − x_{i+h} sin φ, y_{i+h} = x_i sin φ + x_{i+h} cos φ", {"x": x, "positions": [1]})


def test_input_is_not_changed(impl):
    x = np.random.default_rng(932).normal(size=(2, 3, 4))
    before = x.copy()
    impl.rope_rotate(x, np.arange(3))
    if not np.array_equal(x, before):
        raise failure("rope_rotate returns a new array and leaves x as it was", {"x": before, "positions": [0, 1, 2]}, x, before)


def test_dtype(impl):
    x32 = np.ones((2, 4), dtype=np.float32)
    got32 = impl.rope_rotate(x32, np.arange(2))
    got_int = impl.rope_rotate(np.ones((2, 4), dtype=np.int64), np.arange(2))
    if np.asarray(got32).dtype != np.float32 or np.asarray(got_int).dtype != np.float64:
        raise failure("float32 x gives float32, integer x gives float64", {"x": "ones((2, 4)) as float32 and as int64"},
                      (np.asarray(got32).dtype, np.asarray(got_int).dtype), (np.dtype("float32"), np.dtype("float64")))


@pytest.mark.parametrize("bad", ["odd head size", "positions too short", "positions 2-D"])
def test_bad_input_raises(impl, bad):
    x, pos = {"odd head size": (np.zeros((2, 5)), np.arange(2)), "positions too short": (np.zeros((3, 4)), np.arange(2)),
              "positions 2-D": (np.zeros((2, 4)), np.zeros((2, 1)))}[bad]
    with pytest.raises(ValueError):
        impl.rope_rotate(x, pos)


# -----------------------------------------------------------------------------
# properties: rows with their own scales, offsets ±1e3, int / float32 inputs, T = 1, hs = 2, leading dims, positions up to 4096
shapes = st.tuples(st.integers(0, 2), st.integers(1, 5), st.sampled_from((2, 4, 6, 8, 16)))  # (leading dims, T, hs)
bases = st.sampled_from((10000.0, 100.0, 500000.0))


def draw(seed, shape, dtype, offset):
    lead, T, hs = shape
    rng = np.random.default_rng(seed)
    x = rows_with_scales(rng, (2,) * lead + (T, hs), dtype, offset)
    positions = rng.choice(4097, size=T, replace=False)  # distinct, unsorted, up to 4096
    return x, positions


def tolerance(dtype, x):
    return tol("float32" if dtype == "float32" else "float64", max(1.0, float(np.abs(np.asarray(x, dtype=np.float64)).max())))


@pytest.mark.points(3)
@given(seed=seeds, shape=shapes, dtype=dtypes, offset=offsets, base=bases)
def test_property_matches_complex_reference(impl, seed, shape, dtype, offset, base):
    """(x_i + j x_{i+h}) · e^{j t base^{−2i/hs}}, real and imaginary parts in the two halves."""
    x, positions = draw(seed, shape, dtype, offset)
    got = call(impl, x, positions, base=base)
    expect_close(got, reference(x, positions, base), "z_i = x_i + j·x_{i+h} is multiplied by e^{j·t·base^{−2i/hs}}",
                 {"x": x, "positions": positions, "base": base}, **tolerance(dtype, x))


@given(seed=seeds, shape=shapes, dtype=dtypes, offset=offsets)
def test_property_pair_norms_are_preserved(impl, seed, shape, dtype, offset):
    """A rotation keeps the length of every pair: y_i² + y_{i+h}² = x_i² + x_{i+h}²."""
    x, positions = draw(seed, shape, dtype, offset)
    got = np.asarray(call(impl, x, positions), dtype=np.float64)
    h = shape[2] // 2
    xf = np.asarray(x, dtype=np.float64)
    if got.shape != xf.shape:
        raise failure("the answer has x's shape", {"x": x, "positions": positions}, got.shape, xf.shape)
    t = tolerance(dtype, x)
    expect_close(np.hypot(got[..., :h], got[..., h:]), np.hypot(xf[..., :h], xf[..., h:]), "|(y_i, y_{i+h})| = |(x_i, x_{i+h})| for every pair",
                 {"x": x, "positions": positions}, rtol=t["rtol"], atol=t["atol"])


@pytest.mark.points(2)
@given(seed=seeds, hs=st.sampled_from((2, 4, 8, 16)), m=st.integers(0, 2000), n=st.integers(0, 2000), shift=st.integers(-500, 2000))
def test_property_scores_depend_on_the_offset(impl, seed, hs, m, n, shift):
    """⟨R_m q, R_n k⟩ = ⟨R_{m+s} q, R_{n+s} k⟩: the attention score sees only n − m."""
    rng = np.random.default_rng(seed)
    qk = rng.normal(size=(2, hs))  # row 0 = q, row 1 = k, at positions [m, n] (then both shifted by s)
    a, b = (np.asarray(call(impl, qk, pos), dtype=np.float64) for pos in ([m, n], [m + shift, n + shift]))
    if a.shape != (2, hs) or b.shape != (2, hs):
        raise failure("the answer has x's shape", {"x": qk}, (a.shape, b.shape), (2, hs))
    expect_close(float(b[0] @ b[1]), float(a[0] @ a[1]), "⟨R_m q, R_n k⟩ depends only on n − m",
                 {"q": qk[0], "k": qk[1], "m": m, "n": n, "shift": shift}, rtol=1e-7, atol=1e-9 * hs)
