"""Graded checks for exercise 10.1: the row-softmax CUDA kernel (solutions/ex10_softmax.cu), on the CPU shim.

Skipped, not failed, where the CPU shim (minigpt.kernels.emulate and a C++20 compiler) is missing.
"""
import numpy as np
import pytest

pytestmark = pytest.mark.ex_10_1_softmax_kernel


def softmax_ref(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def softmax_rows(impl):
    fn = impl.softmax_rows

    def run(x, **kw):
        try:
            return np.asarray(fn(x, **kw))
        except RuntimeError as err:
            if type(err).__name__ == "ShimUnavailable":
                pytest.skip(f"CPU CUDA shim unavailable: {err}")
            raise

    return run


def close(y, ref, what):
    ref = np.asarray(ref, dtype=np.float64)
    assert np.shape(y) == ref.shape, f"{what}: y must have the input's shape {ref.shape}, got {np.shape(y)}"
    assert np.all(np.isfinite(y)), f"{what}: y must be finite; ACTUAL y = {y!r}"
    bad = np.abs(y - ref) > 1e-6 + 1e-5 * np.abs(ref)
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        raise AssertionError(f"{what}: {int(bad.sum())} of {bad.size} entries wrong; first at {i}: got {y[i]:.7g}, expected {ref[i]:.7g}")


@pytest.mark.points(2)
def test_worked_example(softmax_rows):
    close(softmax_rows(np.array([[0.0, np.log(3.0)]], dtype=np.float32)), [[0.25, 0.75]], "x = [0, ln 3]")


def test_single_column_and_single_row(softmax_rows):
    close(softmax_rows(np.array([[3.0], [-7.0], [0.0]], dtype=np.float32)), np.ones((3, 1)), "C = 1: every y is 1")
    x = np.random.default_rng(1001).normal(size=(1, 50)).astype(np.float32)
    close(softmax_rows(x), softmax_ref(x), "N = 1")


@pytest.mark.points(3)
@pytest.mark.parametrize("C", [5, 64, 300, 1000])
def test_rows_longer_and_shorter_than_the_block(softmax_rows, C):
    """block = 64 threads: C = 5 leaves threads idle, C = 300 and 1000 need the strided loop j += blockDim.x."""
    x = np.random.default_rng(1002 + C).normal(size=(6, C)).astype(np.float32) * 3
    close(softmax_rows(x, block_size=64), softmax_ref(x), f"C = {C}, block = 64")


@pytest.mark.points(2)
def test_any_power_of_two_block_size(softmax_rows):
    x = np.random.default_rng(1003).normal(size=(4, 200)).astype(np.float32)
    for block in (32, 128, 256):
        close(softmax_rows(x, block_size=block), softmax_ref(x), f"block = {block} (the tree reduction must work for every power of two)")


@pytest.mark.points(2)
def test_large_logits_need_the_max(softmax_rows):
    x = np.random.default_rng(1004).normal(size=(5, 70)).astype(np.float32)
    shifted = x + np.float32(1000.0)  # compare with the softmax of the float32 values actually passed
    close(softmax_rows(shifted), softmax_ref(shifted), "x + 1000 (expf(1000) overflows unless the row max is subtracted first)")
    close(softmax_rows(x * 100.0), softmax_ref(x * 100.0), "x * 100")


def test_masked_entries_and_batch_shape(softmax_rows):
    x = np.random.default_rng(1005).normal(size=(2, 3, 40)).astype(np.float32)
    x[..., 30:] = -np.inf  # masked positions, as in causal attention
    y = softmax_rows(x)
    close(y, softmax_ref(x), "(2, 3, 40) input with -inf entries")
    assert np.all(y[..., 30:] == 0.0), "masked (-inf) entries must get probability exactly 0"


# -----------------------------------------------------------------------------
# property: rows of very different scales, all-negative rows (−1e3: the running max must start at −inf), −inf entries
from hypothesis import given, settings, strategies as st  # noqa: E402

from _props import failure, offsets, seeds  # noqa: E402


@pytest.mark.points(3)
@settings(max_examples=12)  # each example launches a block of std::threads per row
@given(seed=seeds, N=st.integers(1, 3), C=st.sampled_from([1, 3, 63, 64, 65, 130]), offset=offsets,
       block=st.sampled_from([32, 64, 128]), masked=st.booleans())
def test_property_rows(softmax_rows, seed, N, C, offset, block, masked):
    """y[i, j] = exp(x[i, j] − m_i) / Σ_k exp(x[i, k] − m_i), m_i the row max, whatever the row's scale or offset."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(N, C)) * 10.0 ** rng.integers(-3, 3, size=(N, 1)) + offset).astype(np.float32)
    if masked and C > 1:
        x[:, rng.integers(1, C):] = -np.inf  # the first entry of every row stays finite
    y = softmax_rows(x, block_size=block)
    ref = softmax_ref(x)
    ok = np.shape(y) == ref.shape and np.all(np.isfinite(y)) and np.all(np.abs(y - ref) <= 1e-6 + 1e-5 * np.abs(ref))
    if not ok:
        raise failure("y = softmax of each row (one block per row)", {"x": x, "block_size": block}, y, ref)
