"""09.4 lora_merge in W's own dtype: a float32 W is merged with float32 arithmetic (as LoRALinear.merge does)."""
import numpy as np


def lora_merge(W, A, B, alpha):
    W, A, B = np.asarray(W), np.asarray(A), np.asarray(B)
    if W.ndim != 2 or A.ndim != 2 or B.ndim != 2 or A.shape[0] < 1 or A.shape[1] != W.shape[1] or B.shape != (W.shape[0], A.shape[0]):
        raise ValueError(f"shapes do not fit: W {W.shape}, A {A.shape}, B {B.shape}")
    dtype = W.dtype if W.dtype.kind == "f" else np.float64
    return W.astype(dtype) + (alpha / A.shape[0]) * (B @ A).astype(dtype)
