"""09.3 rope_rotate with complex numbers: channel pair (i, i + hs/2) is z = x_i + j x_{i+hs/2}, turned by e^{j φ}."""
import numpy as np


def rope_rotate(x, positions, base=10000.0):
    x = np.asarray(x)
    pos = np.asarray(positions)
    if x.ndim < 2 or x.shape[-1] % 2:
        raise ValueError(f"x needs shape (..., T, hs) with hs even, got {x.shape}")
    if pos.ndim != 1 or pos.shape[0] != x.shape[-2]:
        raise ValueError(f"positions needs shape ({x.shape[-2]},), got {pos.shape}")
    hs = x.shape[-1]
    half = hs // 2
    freq = np.exp(-np.log(float(base)) * np.arange(0, hs, 2, dtype=np.float64) / hs)  # base^(-2i/hs)
    turn = np.exp(1j * np.outer(pos.astype(np.float64), freq))  # (T, hs/2)
    z = (x[..., :half].astype(np.float64) + 1j * x[..., half:].astype(np.float64)) * turn
    out = np.concatenate([z.real, z.imag], axis=-1)
    return out.astype(np.float32 if x.dtype == np.float32 else np.float64)
