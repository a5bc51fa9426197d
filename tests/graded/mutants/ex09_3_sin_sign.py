"""Mutant of 09.3: the sines' signs swapped, so every pair turns the other way (by −tθ)."""
import numpy as np


def rope_rotate(x, positions, base=10000.0):
    x = np.asarray(x)
    pos = np.asarray(positions, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] % 2 or pos.ndim != 1 or len(pos) != x.shape[-2]:
        raise ValueError("bad input")
    h = x.shape[-1] // 2
    phi = pos[:, None] * base ** (-2.0 * np.arange(h) / x.shape[-1])
    x1, x2 = x[..., :h].astype(np.float64), x[..., h:].astype(np.float64)
    out = np.concatenate([x1 * np.cos(phi) + x2 * np.sin(phi), -x1 * np.sin(phi) + x2 * np.cos(phi)], axis=-1)
    return out.astype(np.float32 if x.dtype == np.float32 else np.float64)
