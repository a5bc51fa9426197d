r"""Ops for the alignment stages: log-probabilities of chosen tokens, and log-sigmoid.

token_logprobs: the log-probability a model gives to the ids it actually saw or sampled,
fused with the log-softmax so the (B, T, V) log-probabilities never need a gather op:

    y_bt = z_bt[a_bt] - log Σ_v exp(z_btv)                  z: logits (B, T, V), a: ids (B, T)
    dL/dz_btv = g_bt · (onehot(a_bt)_v - softmax(z_bt)_v)

log_sigmoid: the reward model's pairwise loss and DPO use log σ(x), computed stably:

    log σ(x) = -log(1 + e^{-x}) = min(x, 0) - log(1 + e^{-|x|})
    d/dx log σ(x) = 1 - σ(x) = σ(-x)

    python -c "import minigpt as m, numpy as np; print(m.ops.token_logprobs(m.Tensor(np.zeros((1, 2, 4))), np.array([[0, 3]])).data, np.log(1/4))"
"""
from minigpt.autograd import Function, raw
from minigpt.backend import get_xp


class TokenLogProbs(Function):
    @staticmethod
    def forward(ctx, logits, ids):
        xp = get_xp(logits)
        ids = xp.asarray(ids)  # ids given as a NumPy array follow GPU logits to the device
        if ids.shape != logits.shape[:-1]:
            raise ValueError(f"token_logprobs: ids shape {ids.shape} must equal logits shape without the "
                             f"vocabulary dim {logits.shape[:-1]} (logits are {logits.shape})")
        if ids.dtype.kind not in "iu":
            raise TypeError(f"token_logprobs: ids must be integer token ids, got dtype {ids.dtype}")
        V = logits.shape[-1]
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            raise ValueError(f"token_logprobs: token id out of range 0..{V - 1}")
        m = logits.max(axis=-1, keepdims=True)
        e = xp.exp(logits - m)  # (B, T, V)
        s = e.sum(axis=-1, keepdims=True)  # (B, T, 1)
        picked = xp.take_along_axis(logits, ids[..., None], axis=-1)  # (B, T, 1)
        ctx.save_for_backward(e, s, ids)
        return (picked - m - xp.log(s))[..., 0]  # (B, T)

    @staticmethod
    def backward(ctx, g):
        e, s, ids = ctx.saved
        xp = get_xp(e)
        grad = e / s  # softmax, (B, T, V)
        grad *= -g[..., None]
        xp.put_along_axis(grad, ids[..., None], xp.take_along_axis(grad, ids[..., None], axis=-1) + g[..., None],
                          axis=-1)
        return grad, None


class LogSigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = get_xp(x)
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp = get_xp(x)
        # σ(-x) without overflow: e^{-x}/(1+e^{-x}) for x ≥ 0, 1/(1+e^{x}) for x < 0
        ex = xp.exp(-xp.abs(x))
        sig_neg = xp.where(x >= 0, ex / (1 + ex), 1 / (1 + ex))
        return g * sig_neg.astype(x.dtype)


def token_logprobs(logits, ids):
    """log softmax(logits)[..., ids]: (B, T, V) logits and (B, T) int ids → (B, T)."""
    return TokenLogProbs.apply(logits, raw(ids))


def log_sigmoid(x):
    """Elementwise log σ(x), stable for large |x|."""
    return LogSigmoid.apply(x)
