"""Mutant of 09.3: the angles t·θ_i computed in float32 (x's dtype): at position 4000 they are off by ~1e-4 rad."""
import numpy as np


def rope_rotate(x, positions, base=10000.0):
    x = np.asarray(x)
    if x.ndim < 2 or x.shape[-1] % 2 or np.ndim(positions) != 1 or len(positions) != x.shape[-2]:
        raise ValueError("bad input")
    h = x.shape[-1] // 2
    theta = (np.float32(base) ** (-2 * np.arange(h, dtype=np.float32) / np.float32(x.shape[-1]))).astype(np.float32)
    phi = np.asarray(positions, dtype=np.float32)[:, None] * theta  # float32 angles
    x1, x2 = x[..., :h].astype(np.float64), x[..., h:].astype(np.float64)
    c, s = np.cos(phi).astype(np.float64), np.sin(phi).astype(np.float64)
    out = np.concatenate([x1 * c - x2 * s, x1 * s + x2 * c], axis=-1)
    return out.astype(np.float32 if x.dtype == np.float32 else np.float64)
