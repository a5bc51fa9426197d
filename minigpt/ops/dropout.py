r"""Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p).

    y = x ⊙ m / (1 - p),  m ~ Bernoulli(1 - p)       dL/dx = g ⊙ m / (1 - p)

Scaling at train time keeps E[y] = x, so evaluation needs no change. The mask comes
from the caller's seeded `numpy.random.Generator`, so runs are reproducible.

    python -c "import minigpt as m, numpy as np; print(m.ops.dropout(m.Tensor(np.ones(8)), 0.5, np.random.default_rng(0)).data)"
"""
import numpy as np

from minigpt.autograd import Function
from minigpt.backend import get_xp


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved[0], None


def dropout(x, p, rng, training=True):
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    keep = rng.random(x.shape, dtype=np.float32) >= p
    mask = (keep * np.float32(1.0 / (1.0 - p))).astype(x.dtype)
    xp = get_xp(x.data)
    return Dropout.apply(x, mask if xp is np else xp.asarray(mask))
