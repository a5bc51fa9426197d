"""09.2 grpo_advantages one group at a time with np.std (population, ddof=0)."""
import numpy as np


def grpo_advantages(rewards, group_size, eps=1e-4):
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"rewards must be 1-D, got shape {r.shape}")
    if int(group_size) != group_size or group_size < 1 or r.shape[0] % int(group_size):
        raise ValueError(f"group_size must be a positive integer dividing {r.shape[0]}, got {group_size}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    G = int(group_size)
    out = np.zeros_like(r)
    for start in range(0, r.shape[0], G):
        group = r[start:start + G]
        centred = group - group.mean()
        spread = group.std()
        if spread + eps > 0:
            out[start:start + G] = np.where(centred == 0.0, 0.0, centred / (spread + eps))
    return out
