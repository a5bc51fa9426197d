"""09.4 lora_merge as a sum of r rank-one outer products B[:, k] A[k, :] (einsum), scaled by α / r."""
import numpy as np


def lora_merge(W, A, B, alpha):
    W, A, B = np.asarray(W), np.asarray(A), np.asarray(B)
    if W.ndim != 2 or A.ndim != 2 or B.ndim != 2 or A.shape[0] < 1:
        raise ValueError(f"need 2-D W, A (r, d_in), B (d_out, r); got {W.shape}, {A.shape}, {B.shape}")
    r = A.shape[0]
    if A.shape[1] != W.shape[1] or B.shape != (W.shape[0], r):
        raise ValueError(f"shapes do not fit: W {W.shape}, A {A.shape}, B {B.shape}")
    update = np.einsum("ok,ki->oi", B.astype(np.float64), A.astype(np.float64)) * (alpha / r)
    out_dtype = W.dtype if W.dtype in (np.float32, np.float64) else np.float64
    return (W.astype(np.float64) + update).astype(out_dtype)
