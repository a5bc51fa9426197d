"""Mutant of 09.3: RoFormer's interleaved pairing (2i, 2i + 1) instead of minigpt's half split (i, i + hs/2)."""
import numpy as np


def rope_rotate(x, positions, base=10000.0):
    x = np.asarray(x)
    pos = np.asarray(positions, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] % 2 or pos.ndim != 1 or len(pos) != x.shape[-2]:
        raise ValueError("bad input")
    hs = x.shape[-1]
    theta = base ** (-np.arange(0, hs, 2) / hs)
    phi = pos[:, None] * theta
    a, b = x[..., 0::2].astype(np.float64), x[..., 1::2].astype(np.float64)
    out = np.empty(x.shape)
    out[..., 0::2] = a * np.cos(phi) - b * np.sin(phi)
    out[..., 1::2] = a * np.sin(phi) + b * np.cos(phi)
    return out.astype(np.float32 if x.dtype == np.float32 else np.float64)
