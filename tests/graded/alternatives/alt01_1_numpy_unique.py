"""01.1 get_pair_counts, vectorised: np.unique over the (n-1, 2) array of adjacent pairs."""
import numpy as np


def get_pair_counts(ids, counts=None):
    counts = {} if counts is None else counts
    a = np.asarray(ids, dtype=np.int64).reshape(-1)
    if a.size >= 2:
        pairs, n = np.unique(np.stack([a[:-1], a[1:]], axis=1), axis=0, return_counts=True)
        for (left, right), c in zip(pairs.tolist(), n.tolist()):
            counts[(left, right)] = counts.get((left, right), 0) + c
    return counts
