"""Graded checks for exercise 01.2: merge (solutions/ex01_bpe.py)."""
import numpy as np
import pytest

pytestmark = pytest.mark.ex_01_2_merge


def reference_merge(ids, pair, idx):
    """Independent reference: map ids to characters and let str.replace do the non-overlapping, left-to-right scan."""
    alphabet = {t: chr(0x4E00 + i) for i, t in enumerate(sorted(set(ids) | set(pair) | {idx}))}
    back = {c: t for t, c in alphabet.items()}
    text = "".join(alphabet[t] for t in ids).replace(alphabet[pair[0]] + alphabet[pair[1]], alphabet[idx])
    return [back[c] for c in text]


@pytest.mark.points(2)
def test_worked_example(impl):
    assert list(impl.merge([1, 2, 3, 1, 2], (1, 2), 4)) == [4, 3, 4]


def test_non_overlapping_left_to_right(impl):
    got = list(impl.merge([5, 5, 5], (5, 5), 9))
    assert got == [9, 5], f"scan left to right and skip both merged tokens, so occurrences never overlap: got {got}"
    got = list(impl.merge([5, 5, 5, 5], (5, 5), 9))
    assert got == [9, 9], f"got {got}"


def test_ends_of_the_sequence(impl):
    assert list(impl.merge([3, 1, 2], (1, 2), 4)) == [3, 4], "a pair at the very end must be merged"
    assert list(impl.merge([1, 2, 3], (1, 2), 4)) == [4, 3], "the token after the last merge must be kept"
    assert list(impl.merge([3, 1], (1, 2), 4)) == [3, 1], "a last token that does not complete the pair must be kept"
    assert list(impl.merge([1], (1, 2), 4)) == [1], "a length-1 sequence is returned unchanged"
    assert list(impl.merge([], (1, 2), 4)) == [], "an empty sequence stays empty"


def test_input_not_modified_and_order_matters(impl):
    ids = [2, 1, 1, 2]
    got = list(impl.merge(ids, (1, 2), 7))
    assert ids == [2, 1, 1, 2], "merge must return a new list and leave ids unchanged"
    assert got == [2, 1, 7], f"the pair is ordered: (2, 1) is not (1, 2); got {got}"


@pytest.mark.points(2)
def test_random_sequences(impl):
    rng = np.random.default_rng(102)
    for n in [2, 5, 40, 300]:
        ids = rng.integers(0, 4, size=n).tolist()
        pair = (int(rng.integers(0, 4)), int(rng.integers(0, 4)))
        got = [int(t) for t in impl.merge(ids, pair, 99)]
        assert got == reference_merge(ids, pair, 99), f"merge differs from the reference on a random sequence of length {n}"


# -----------------------------------------------------------------------------
# property: adversarial inputs (long runs of one token, the pair (x, x), numpy ints)
from hypothesis import given, strategies as st  # noqa: E402

from _props import expect_equal  # noqa: E402


@pytest.mark.points(2)
@given(ids=st.lists(st.integers(0, 3), max_size=30), a=st.integers(0, 3), b=st.integers(0, 3), as_array=st.booleans())
def test_property_left_to_right_non_overlapping(impl, ids, a, b, as_array):
    """merge = one left-to-right scan: (ids[i], ids[i+1]) == pair -> idx, skip both; else keep ids[i]."""
    given_ids = np.array(ids, dtype=np.int64) if as_array else list(ids)
    got = [int(t) for t in impl.merge(given_ids, (a, b), 9)]
    expect_equal(got, reference_merge(ids, (a, b), 9), "merge(ids, pair, idx) replaces each non-overlapping occurrence of pair, scanning left to right",
                 {"ids": given_ids, "pair": (a, b), "idx": 9})
