"""Graded checks for exercise 01.1: get_pair_counts (solutions/ex01_bpe.py)."""
from collections import Counter

import numpy as np
import pytest

pytestmark = pytest.mark.ex_01_1_pair_counts


@pytest.mark.points(2)
def test_worked_example(impl):
    """[1, 2, 3, 1, 2] has pairs (1,2), (2,3), (3,1), (1,2)."""
    got = impl.get_pair_counts([1, 2, 3, 1, 2])
    assert dict(got) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}, f"got {got}"


def test_overlapping_pairs_all_count(impl):
    """[5, 5, 5, 5] has three adjacent positions, all the pair (5, 5)."""
    got = impl.get_pair_counts([5, 5, 5, 5])
    assert dict(got) == {(5, 5): 3}, f"every adjacent position counts, overlapping ones too: got {got}"


def test_short_sequences_have_no_pairs(impl):
    assert dict(impl.get_pair_counts([])) == {}, "an empty sequence has no pairs"
    assert dict(impl.get_pair_counts([7])) == {}, "a length-1 sequence has no pairs"
    assert dict(impl.get_pair_counts([7, 8])) == {(7, 8): 1}, "a length-2 sequence has exactly one pair (the last pair counts too)"


@pytest.mark.points(2)
def test_random_sequences_and_numpy_input(impl):
    rng = np.random.default_rng(101)
    for n in [2, 3, 10, 257]:
        ids = rng.integers(0, 6, size=n)
        expected = Counter(zip(ids.tolist()[:-1], ids.tolist()[1:]))  # independent count
        for given in (ids.tolist(), ids):
            got = impl.get_pair_counts(given)
            assert {(int(a), int(b)): c for (a, b), c in dict(got).items()} == dict(expected), (
                f"counts differ for a random sequence of length {n} given as {type(given).__name__}"
            )


def test_counts_accumulate_into_given_dict(impl):
    counts = {(1, 2): 5}
    got = impl.get_pair_counts([1, 2, 9], counts)
    assert got is counts, "when a counts dict is passed, update it in place and return that same dict"
    assert counts == {(1, 2): 6, (2, 9): 1}, f"add to the existing counts: got {counts}"


# -----------------------------------------------------------------------------
# property: adversarial inputs (repeats, numpy ints, an empty dict to add into)
from hypothesis import given, strategies as st  # noqa: E402

from _props import expect_equal  # noqa: E402


@pytest.mark.points(2)
@given(ids=st.lists(st.integers(0, 3), max_size=30), as_array=st.booleans(), prior=st.sampled_from([None, "empty", "some"]))
def test_property_counts_every_adjacent_pair(impl, ids, as_array, prior):
    """counts[(a, b)] = #{i : (ids[i], ids[i+1]) = (a, b)}, added into the given dict — an empty one too — which is returned."""
    given_ids = np.array(ids, dtype=np.int64) if as_array else list(ids)
    start = {"empty": {}, "some": {(0, 0): 2, (7, 7): 1}}.get(prior)
    counts = None if start is None else dict(start)
    expected = Counter(start or {})
    expected.update(zip(ids[:-1], ids[1:]))
    got = impl.get_pair_counts(given_ids) if counts is None else impl.get_pair_counts(given_ids, counts)
    inputs = {"ids": given_ids, "counts": start}
    plain = {(int(a), int(b)): int(c) for (a, b), c in dict(got).items()}
    expect_equal(plain, dict(expected), "counts[(a, b)] = number of i with (ids[i], ids[i+1]) == (a, b), plus what counts held", inputs)
    if counts is not None:
        assert got is counts, (f"property: the dict passed as counts is updated in place and returned (an empty dict too)\n"
                               f"input:\n  ids = {given_ids!r}\n  counts = {start!r}\nACTUAL:   a different dict was returned; counts is now {counts!r}\n"
                               f"EXPECTED: the same dict object, now {dict(expected)!r}")
