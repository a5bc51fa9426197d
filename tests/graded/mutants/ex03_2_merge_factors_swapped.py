"""Mutant of 03.2 (merge order wrong: each part's sum is rescaled with the other part's maximum)."""
import numpy as np


def online_softmax(x, block):
    x = np.asarray(x)
    if x.ndim != 2 or block < 1:
        raise ValueError("x must be (R, C), block >= 1")
    x = x.astype(np.float64)
    R, C = x.shape
    m = np.full(R, -np.inf)
    s = np.zeros(R)
    for j in range(0, C, block):
        xb = x[:, j:j + block]
        mb = xb.max(axis=1)
        with np.errstate(invalid="ignore"):
            m_new = np.maximum(m, mb)
            shift = np.where(np.isneginf(m_new), 0.0, m_new)
            sb = np.exp(xb - np.where(np.isneginf(mb), 0.0, mb)[:, None]).sum(axis=1)
            s = s * np.exp(np.where(np.isneginf(mb), -np.inf, mb) - shift) + sb * np.exp(m - shift)
        m = m_new
    return m, s
