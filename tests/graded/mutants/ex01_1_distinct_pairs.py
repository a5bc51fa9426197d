"""Mutant of 01.1: records which pairs occur (count 1 each) instead of how often."""


def get_pair_counts(ids, counts=None):
    counts = {} if counts is None else counts
    for pair in set(zip([int(t) for t in ids[:-1]], [int(t) for t in ids[1:]])):
        counts[pair] = counts.get(pair, 0) + 1
    return counts
