"""Helper for the 06.1 mutants: which tokens belong to a reply, under a configurable rule."""
import numpy as np


def reply_mask(rows, start, end, include_end=True, include_start=False):
    mask = np.zeros(rows.shape, dtype=bool)
    for b in range(rows.shape[0]):
        inside = False
        for t, tok in enumerate(rows[b]):
            if inside:
                if tok == end:
                    mask[b, t] = include_end
                    inside = False
                else:
                    mask[b, t] = True
            elif tok == start:
                inside = True
                mask[b, t] = include_start
    return mask
