"""Mutant of 09.3: writes the first half in place, then computes the second half from the already rotated values."""
import numpy as np


def rope_rotate(x, positions, base=10000.0):
    x = np.asarray(x)
    pos = np.asarray(positions, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] % 2 or pos.ndim != 1 or len(pos) != x.shape[-2]:
        raise ValueError("bad input")
    h = x.shape[-1] // 2
    phi = pos[:, None] * base ** (-2.0 * np.arange(h) / x.shape[-1])
    out = x.astype(np.float32 if x.dtype == np.float32 else np.float64)  # a copy
    x1, x2 = out[..., :h], out[..., h:]  # views into out
    x1[...] = x1 * np.cos(phi) - x2 * np.sin(phi)
    x2[...] = x1 * np.sin(phi) + x2 * np.cos(phi)  # x1 is already rotated here
    return out
