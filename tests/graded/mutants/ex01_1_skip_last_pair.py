"""Mutant of 01.1: the loop stops one pair early, so the last pair is never counted."""


def get_pair_counts(ids, counts=None):
    counts = {} if counts is None else counts
    for i in range(len(ids) - 2):
        pair = (int(ids[i]), int(ids[i + 1]))
        counts[pair] = counts.get(pair, 0) + 1
    return counts
