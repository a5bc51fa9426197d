"""Graded checks for exercise 05.3: top_k_top_p_filter (solutions/ex05_pretraining.py)."""
import math

import numpy as np
import pytest

pytestmark = pytest.mark.ex_05_3_top_k_top_p

PROBS = [0.5, 0.3, 0.15, 0.05]


def kept(filtered):
    return [i for i, x in enumerate(np.ravel(filtered)) if np.isfinite(x)]


def filter_ref(row, k, p):
    """One row, with Python lists: top-k by rank (ties kept), then top-p on the renormalised survivors."""
    row = [float(x) for x in row]
    alive = list(range(len(row)))
    if k:
        kth = sorted(row, reverse=True)[min(k, len(row)) - 1]
        alive = [i for i in alive if row[i] >= kth]
    if p is not None and p < 1:
        top = max(row[i] for i in alive)
        w = {i: math.exp(row[i] - top) for i in alive}
        total = sum(w.values())
        before, keep = 0.0, []
        for i in sorted(alive, key=lambda i: -row[i]):
            if before < p or not keep:
                keep.append(i)
            before += w[i] / total
        alive = keep
    return [x if i in alive else -math.inf for i, x in enumerate(row)]


@pytest.mark.points(2)
def test_worked_examples(impl):
    logits = np.log(PROBS)
    assert kept(impl.top_k_top_p_filter(logits, p=0.75)) == [0, 1], "p = 0.75: mass before tokens = [0, .5, .8, .95]; keep a token while the mass BEFORE it is < p"
    assert kept(impl.top_k_top_p_filter(logits, p=0.85)) == [0, 1, 2], "p = 0.85: the token that crosses p (mass before .8 < .85) is kept"
    assert kept(impl.top_k_top_p_filter(logits, k=2, p=0.55)) == [0], (
        "k = 2 then p = 0.55: top-p must run after top-k on the renormalised distribution [.625, .375], keeping only token 0"
    )


def test_kept_values_unchanged_removed_are_minus_inf(impl):
    logits = np.array([0.3, -1.2, 2.5, 0.9])
    out = np.asarray(impl.top_k_top_p_filter(logits, k=2))
    np.testing.assert_array_equal(out, [-np.inf, -np.inf, 2.5, 0.9], err_msg="keep the k largest logits in place (unchanged, unsorted), set the rest to -inf")
    np.testing.assert_array_equal(logits, [0.3, -1.2, 2.5, 0.9], err_msg="the input array must not be modified")


def test_k_edge_cases(impl):
    logits = np.array([[0.1, 3.0, -2.0, 1.0, 0.5]])
    np.testing.assert_array_equal(impl.top_k_top_p_filter(logits, k=1), [[-np.inf, 3.0, -np.inf, -np.inf, -np.inf]], err_msg="k = 1 keeps only the argmax")
    np.testing.assert_array_equal(impl.top_k_top_p_filter(logits, k=5), logits, err_msg="k = V keeps everything")
    np.testing.assert_array_equal(impl.top_k_top_p_filter(logits, k=50), logits, err_msg="k > V keeps everything")
    np.testing.assert_array_equal(impl.top_k_top_p_filter(logits), logits, err_msg="k = None and p = None change nothing")
    np.testing.assert_array_equal(impl.top_k_top_p_filter(logits, k=0, p=1.0), logits, err_msg="k = 0 and p = 1 change nothing")


def test_ties_with_the_kth_logit_are_kept(impl):
    assert kept(impl.top_k_top_p_filter(np.array([1.0, 2.0, 2.0, 0.0]), k=1)) == [1, 2], "logits tied with the k-th largest are kept"


def test_tiny_p_keeps_the_top_token(impl):
    logits = np.array([[0.0, 1.0, 0.5], [2.0, 2.1, -1.0]])
    out = impl.top_k_top_p_filter(logits, p=1e-9)
    assert [kept(r) for r in np.asarray(out)] == [[1], [1]], "the most likely token is always kept, however small p is"


@pytest.mark.points(2)
def test_random_batches_against_reference(impl):
    rng = np.random.default_rng(503)
    for k, p in [(None, 0.9), (5, None), (8, 0.7), (3, 0.95), (20, 0.3)]:
        logits = rng.normal(size=(4, 12)) * 2
        out = np.asarray(impl.top_k_top_p_filter(logits, k=k, p=p))
        assert out.shape == (4, 12), f"output must keep the input shape (4, 12), got {out.shape}"
        for r in range(4):
            np.testing.assert_array_equal(out[r], filter_ref(logits[r], k, p), err_msg=f"row {r} with k={k}, p={p}")


def test_huge_logits(impl):
    logits = np.array([1e4, 0.0, 1e4 - 1.0, -1e4])
    with np.errstate(all="ignore"):
        out = np.asarray(impl.top_k_top_p_filter(logits, p=0.8))
    assert not np.any(np.isnan(out)), "huge logits must not give NaN (subtract the max before exp)"
    assert kept(out) == [0, 2], "p = 0.8 with probabilities ~[0.73, 0, 0.27, 0]: keep tokens 0 and 2"


# -----------------------------------------------------------------------------
# property: rows of very different scales, offsets of ±1e3, ties, int / float32 logits
from hypothesis import given, strategies as st  # noqa: E402

from _props import dtypes, failure, offsets, rows_with_scales, seeds  # noqa: E402


def expected_kept(row, k, p, slack):
    """(the top-k set with ties, and the range of top-p counts allowed) for one row, in float64.

    Ties inside the top-p set may be broken either way (the docstring does not order equal
    probabilities), so only the NUMBER of tokens kept by top-p is fixed; `slack` accepts either
    count where the mass before a token is within rounding of p."""
    row = np.asarray(row, dtype=np.float64)
    V = len(row)
    alive = list(range(V))
    if k:
        kth = sorted(row, reverse=True)[min(k, V) - 1]
        alive = [i for i in alive if row[i] >= kth]
    if p is None or p >= 1:
        return set(alive), (len(alive), len(alive))
    top = max(row[i] for i in alive)
    probs = sorted((math.exp(row[i] - top) for i in alive), reverse=True)
    total = sum(probs)
    probs = [q / total for q in probs]

    def count(threshold):
        before, n = 0.0, 0
        for q in probs:
            if before < threshold or n == 0:
                n += 1
            before += q
        return n

    return set(alive), (count(p - slack), count(p + slack))


@pytest.mark.points(3)
@given(seed=seeds, rows=st.integers(1, 4), V=st.integers(1, 8), offset=offsets, ties=st.booleans(), dtype=dtypes,
       k=st.sampled_from([None, 0, 1, 2, 3, 9]), p=st.sampled_from([None, 1.0, 0.3, 0.5, 0.75, 0.9, 0.999]))
def test_property_kept_set(impl, seed, rows, V, offset, ties, dtype, k, p):
    """Row by row: top-k keeps logits ≥ the k-th largest; top-p then keeps, by decreasing probability, each token whose mass before it is < p."""
    rng = np.random.default_rng(seed)
    logits = rows_with_scales(rng, (rows, V), dtype, offset, ties)
    out = np.asarray(impl.top_k_top_p_filter(logits, k=k, p=p), dtype=np.float64)
    inputs = {"logits": logits, "k": k, "p": p}
    prop = "kept entries unchanged, removed ones −inf; top-k (ties kept), then top-p on the renormalised top-k distribution"
    if out.shape != logits.shape:
        raise failure(prop, inputs, out, f"an array of shape {logits.shape}")
    slack = 1e-5 if dtype == "float32" else 1e-9
    for r in range(rows):
        row = logits[r].astype(np.float64)
        kept = {i for i in range(V) if np.isfinite(out[r, i])}
        topk, (lo, hi) = expected_kept(row, k, p, slack)
        bad = [i for i in range(V) if (i in kept and out[r, i] != row[i]) or (i not in kept and out[r, i] != -np.inf)]
        probs_order = sorted(topk, key=lambda i: -row[i])
        valid_prefix = kept <= topk and all(row[i] >= row[j] for i in kept for j in topk - kept)
        if bad or not valid_prefix or not lo <= len(kept) <= hi:
            want = f"row {r}: keep {lo if lo == hi else f'{lo} to {hi}'} of the tokens {probs_order} (most likely first), the rest −inf"
            raise failure(prop, inputs, out[r], want, f"row {r} keeps {sorted(kept)}")
