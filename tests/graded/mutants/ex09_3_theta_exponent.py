"""Mutant of 09.3: θ_i = base^{−i/hs} (the exponent misses its factor 2), so the slow pairs turn too fast."""
import numpy as np


def rope_rotate(x, positions, base=10000.0):
    x = np.asarray(x)
    pos = np.asarray(positions, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] % 2 or pos.ndim != 1 or len(pos) != x.shape[-2]:
        raise ValueError("bad input")
    h = x.shape[-1] // 2
    phi = pos[:, None] * base ** (-np.arange(h) / x.shape[-1])
    x1, x2 = x[..., :h].astype(np.float64), x[..., h:].astype(np.float64)
    out = np.concatenate([x1 * np.cos(phi) - x2 * np.sin(phi), x1 * np.sin(phi) + x2 * np.cos(phi)], axis=-1)
    return out.astype(np.float32 if x.dtype == np.float32 else np.float64)
