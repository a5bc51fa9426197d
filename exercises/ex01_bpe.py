# GENERATED from solutions/ex01_bpe.py by tools/make_exercises.py.
# Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
r"""Exercises for notebook 01 (tokenization): the two steps inside byte-pair-encoding training.

BPE training repeats: count every adjacent pair of token ids, take the most frequent pair,
give it a new id and replace the pair by that id everywhere. `get_pair_counts` and `merge`
are the body of that loop (the library's trainer in minigpt/tokenizer/ does the same at scale).

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m "ex_01_1_pair_counts or ex_01_2_merge"
"""
from __future__ import annotations


# -----------------------------------------------------------------------------
def get_pair_counts(ids, counts=None):
    r"""Exercise 01.1: count how often each adjacent pair of token ids occurs.

    For ids = [x_0, x_1, ..., x_{n-1}] the pairs are (x_i, x_{i+1}) for i = 0 .. n-2.
    Overlapping pairs all count: [5, 5, 5] holds the pair (5, 5) twice.
    A sequence shorter than 2 has no pairs.

    Args:
        ids: a sequence of ints (a list or a 1-D integer array).
        counts: optional dict to add into, so you can count over many chunks of text;
            it is updated in place and returned (an empty dict too).
    Returns:
        dict mapping (int, int) -> int.

    Example: ids = [1, 2, 3, 1, 2] -> {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 01.1: get_pair_counts() is not written yet (your code goes between the markers)")
    ### END SOLUTION


def merge(ids, pair, idx):
    r"""Exercise 01.2: replace every occurrence of `pair` in `ids` by the new token id `idx`.

    Scan left to right: where (ids[i], ids[i+1]) == pair, emit idx and step over both tokens;
    otherwise emit ids[i] and step one. Occurrences therefore never overlap:
    [5, 5, 5] with pair (5, 5) becomes [idx, 5], not [idx, idx].
    Returns a new list of ints; `ids` itself is not modified.

    Example: ids = [1, 2, 3, 1, 2], pair = (1, 2), idx = 4 -> [4, 3, 4]
    """
    ### BEGIN SOLUTION
    raise NotImplementedError("exercise 01.2: merge() is not written yet (your code goes between the markers)")
    ### END SOLUTION
