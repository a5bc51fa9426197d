"""08.1 gae as a plain Python loop over rows and time steps, in float64, cast to the result type at the end."""
import numpy as np


def gae(rewards, values, gamma=1.0, lam=0.95, last_value=0.0, dones=None):
    r, V = np.asarray(rewards), np.asarray(values)
    if r.shape != V.shape:
        raise ValueError(f"rewards {r.shape} and values {V.shape} differ in shape")
    out_dtype = np.result_type(r, V, np.float32)
    T = r.shape[-1]
    lead = r.shape[:-1]
    r2, V2 = r.reshape(-1, T).astype(np.float64), V.reshape(-1, T).astype(np.float64)
    last = np.broadcast_to(np.asarray(last_value, dtype=np.float64), lead).reshape(-1)
    done = np.zeros(r2.shape, dtype=bool) if dones is None else np.asarray(dones, dtype=bool).reshape(-1, T)
    adv = np.zeros_like(r2)
    for row in range(r2.shape[0]):
        a_next, v_next = 0.0, float(last[row])
        for t in range(T - 1, -1, -1):
            if done[row, t]:
                a_next, v_next = 0.0, 0.0
            delta = r2[row, t] + gamma * v_next - V2[row, t]
            a_next = delta + gamma * lam * a_next
            adv[row, t] = a_next
            v_next = V2[row, t]
    adv = adv.reshape(r.shape)
    return adv.astype(out_dtype), (adv + V2.reshape(r.shape)).astype(out_dtype)
