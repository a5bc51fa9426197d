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
