"""Graded checks for exercise 03.2: online_softmax (solutions/ex03_attention.py).

The reference sees each row whole, in float64: m = max(row), s = fsum(exp(v − m)) (0 for a row of
only −inf) — no blocks, no running values. Checked properties:
  - the docstring's worked examples;
  - m is each row's maximum, exactly, whatever the block size (an initial value of 0 shows on negative rows);
  - s = Σ exp(x − m) when a later block raises the maximum (the old sum must be rescaled);
  - masked (−inf) entries, a first block of only −inf, a fully masked row: (−inf, 0), never NaN;
  - rows of one element: (x, 1);
  - random rows with per-row scales 1e-3..1e3, offsets ±1e3, masks, every block size from 1 to past C,
    float64, float32 and int64: m and s against the reference;
  - x not 2-D or block < 1: ValueError.
"""
import math

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

from _props import cast, expect_close, failure, offsets, rows_with_scales, seeds, tol

pytestmark = pytest.mark.ex_03_2_online_softmax
INF = math.inf


def reference(x):
    """(m, s) per row, each row whole: m = max, s = fsum(exp(v − m)); a row of only −inf (or empty) is (−inf, 0)."""
    x = np.asarray(x, dtype=np.float64)
    m = np.array([max(row, default=-INF) for row in x.tolist()])
    s = np.array([math.fsum(math.exp(v - mi) for v in row) if mi > -INF else 0.0 for row, mi in zip(x.tolist(), m)])
    return m, s


def run(impl, x, block):
    out = impl.online_softmax(x, block)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise failure("online_softmax returns the pair (m, s)", {"x": x, "block": block}, out, reference(x))
    return out


def expect_m(m, want, x, block, prop="m = the maximum of each row"):
    m = np.asarray(m, dtype=np.float64)
    if m.shape != want.shape or not np.array_equal(m, want):  # a max is exact (also −inf)
        raise failure(prop, {"x": x, "block": block}, m, want)


def expect_s(s, want, x, block, prop="s = Σ_j exp(x_j − m) over each row", dtype="float64"):
    expect_close(s, want, prop, {"x": x, "block": block}, **tol(dtype, 1.0))


# -----------------------------------------------------------------------------
@pytest.mark.points(2)
def test_worked_examples(impl):
    """[[1, 3, 2]], blocks of 2: m = 3, s = e^-2 + 1 + e^-1; masked rows: [[-inf, -inf, 5], [-inf]*3] -> m = [5, -inf], s = [1, 0]."""
    x = np.array([[1.0, 3.0, 2.0]])
    m, s = run(impl, x, 2)
    expect_m(m, np.array([3.0]), x, 2, "the docstring's first example")
    expect_s(s, np.array([1 + math.exp(-1) + math.exp(-2)]), x, 2, "the docstring's first example")
    x = np.array([[-INF, -INF, 5.0], [-INF, -INF, -INF]])
    m, s = run(impl, x, 2)
    expect_m(m, np.array([5.0, -INF]), x, 2, "the docstring's second example")
    expect_s(s, np.array([1.0, 0.0]), x, 2, "the docstring's second example")


def test_max_of_negative_rows(impl):
    """Rows of negative scores (around −1e3): the maximum is negative, not the 0 a running max might start from."""
    x = np.array([[-1003.0, -1001.0, -1002.0, -1000.5], [-2.0, -7.0, -1.0, -3.0]])
    for block in (1, 2, 3, 4):
        m, _ = run(impl, x, block)
        expect_m(m, reference(x)[0], x, block, "m = the maximum of each row (all entries negative)")


@pytest.mark.points(2)
def test_later_block_raises_the_max(impl):
    """The maximum grows block after block (ascending rows): the sum kept so far must be rescaled each time."""
    x = np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [-5.0, -3.0, 0.0, 10.0, 20.0, 30.0]])
    for block in (1, 2, 4):
        m, s = run(impl, x, block)
        expect_s(s, reference(x)[1], x, block, "s = Σ_j exp(x_j − m) when later blocks raise the maximum")


def test_blocks_merge_symmetrically(impl):
    """The maximum in the first block, then in the last: the sum must be right both ways round."""
    for x in (np.array([[9.0, 1.0, 2.0, 3.0]]), np.array([[1.0, 2.0, 3.0, 9.0]]), np.array([[2.0, 9.0, 1.0, 8.5]])):
        for block in (1, 2, 3):
            _, s = run(impl, x, block)
            expect_s(s, reference(x)[1], x, block)


@pytest.mark.points(2)
def test_masked_entries_and_rows(impl):
    """−inf entries count as exp(−inf) = 0; a first block of only −inf; a fully masked row is (−inf, 0); no NaN."""
    x = np.array([[-INF, -INF, -INF, 2.0, 1.0, -INF],   # first two blocks of 2 fully masked
                  [3.0, -INF, 1.0, -INF, -INF, -INF],    # right padding
                  [-INF, -INF, -INF, -INF, -INF, -INF],  # everything masked
                  [-INF, 0.5, -INF, 0.5, -INF, 0.5]])
    want_m, want_s = reference(x)
    for block in (1, 2, 3, 4, 6):
        with np.errstate(all="ignore"):
            m, s = run(impl, x, block)
        expect_m(m, want_m, x, block, "m = row max; −inf for a fully masked row")
        expect_s(s, want_s, x, block, "s = Σ exp(x − m) over the unmasked entries; 0 for a fully masked row (not NaN)")


def test_rows_of_one_element(impl):
    """C = 1: m = x, s = 1 (and −inf, 0 for a masked one)."""
    x = np.array([[3.5], [-1e3], [1e3], [-INF]])
    for block in (1, 4):
        with np.errstate(all="ignore"):
            m, s = run(impl, x, block)
        expect_m(m, x[:, 0], x, block, "one element per row: m = x")
        expect_s(s, np.array([1.0, 1.0, 1.0, 0.0]), x, block, "one element per row: s = 1 (0 if masked)")


@pytest.mark.points(3)
@settings(phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])  # no "explain" phase: it costs ~10x the run
@given(seed=seeds, R=st.integers(1, 5), C=st.integers(1, 12), block=st.integers(1, 14), offset=offsets,
       masked=st.booleans(), dtype=st.sampled_from(["float64", "float32", "int64"]))
def test_property_against_whole_rows(impl, seed, R, C, block, offset, masked, dtype):
    """Any block size, rows at scales 1e-3..1e3 and offsets ±1e3, some entries masked: m and s as if each row were seen whole."""
    rng = np.random.default_rng(seed)
    x = rows_with_scales(rng, (R, C), "float64", offset=offset)
    x = cast(x, dtype)
    if masked:
        x = x.astype(np.float32 if dtype == "float32" else np.float64)
        x[rng.random((R, C)) < 0.3] = -INF
        x[:, : min(block, C)][rng.random(R) < 0.3] = -INF  # some rows: the whole first block masked
    want_m, want_s = reference(x)
    with np.errstate(all="ignore"):
        m, s = run(impl, x, block)
    expect_m(m, want_m, x, block, "m = each row's maximum (any block size, scale, offset, mask)")
    expect_s(s, want_s, x, block, "s = Σ_j exp(x_j − m) per row (any block size, scale, offset, mask)",
             dtype="float32" if x.dtype == np.float32 else "float64")


def test_bad_input_is_a_value_error(impl):
    """x must be (R, C) and block an int >= 1."""
    for x, block in [(np.zeros((2, 3)), 0), (np.zeros((2, 3)), -1), (np.zeros(3), 2), (np.zeros((1, 2, 3)), 2)]:
        with pytest.raises(ValueError):
            impl.online_softmax(x, block)
            raise AssertionError(f"online_softmax(x of shape {x.shape}, block={block}) returned instead of raising ValueError")
