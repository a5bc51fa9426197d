"""08.3 kl_penalized_rewards row by row: the real tokens' indices by np.flatnonzero, the score on the last of them."""
import numpy as np


def kl_penalized_rewards(logp, logp_ref, score, beta, mask):
    diff = np.asarray(logp) - np.asarray(logp_ref)
    m = np.asarray(mask, dtype=bool)
    score = np.asarray(score)
    dtype = diff.dtype if diff.dtype.kind == "f" else np.float64
    out = np.zeros(m.shape, dtype=dtype)
    for b in range(m.shape[0]):
        real = np.flatnonzero(m[b])
        out[b, real] = -beta * diff[b, real]
        if real.size:
            out[b, real[-1]] += score[b]
    return out
