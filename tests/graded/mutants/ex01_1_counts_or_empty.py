"""Mutant of 01.1 (class: an empty dict to add into): `counts = counts or {}` drops a given empty dict."""


def get_pair_counts(ids, counts=None):
    counts = counts or {}
    for left, right in zip(ids[:-1], ids[1:]):
        pair = (int(left), int(right))
        counts[pair] = counts.get(pair, 0) + 1
    return counts
