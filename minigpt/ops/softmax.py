r"""Softmax and log-softmax, fused and numerically stable.

    softmax:      y_i = e^{x_i - m} / Σ_j e^{x_j - m},   m = max_j x_j
                  dL/dx = y ⊙ (g - Σ_j g_j y_j)
    log_softmax:  y_i = x_i - m - log Σ_j e^{x_j - m}
                  dL/dx = g - softmax(x) · Σ_j g_j

Subtracting the max changes nothing mathematically but keeps e^x from
overflowing for large logits (try x = 1000 without it).

    python -c "import minigpt as m; print(m.ops.softmax(m.Tensor([1000., 1001.])).data)"
"""
from minigpt.autograd import Function
from minigpt.backend import get_xp
from minigpt.ops.dispatch import kernels


def softmax_array(x, axis=-1):
    """Stable softmax on a raw array (no graph)."""
    xp = get_xp(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


class _AlongAxis(Function):
    r"""A fused op along one axis whose backward needs only its output y: forward saves y and the axis,
    a subclass writes `fwd(ctx, x, axis) -> y` and `bwd(ctx, y, g) -> dL/dx`."""

    @classmethod
    def forward(cls, ctx, x, axis=-1):
        ctx.axis = axis
        y = cls.fwd(ctx, x, axis)
        ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        return cls.bwd(ctx, ctx.saved[0], g)


class Softmax(_AlongAxis):
    @staticmethod
    def fwd(ctx, x, axis):
        ctx.kernel = kernels(x) if axis in (-1, x.ndim - 1) else None
        return ctx.kernel.softmax_fwd(x) if ctx.kernel else softmax_array(x, axis)

    @staticmethod
    def bwd(ctx, y, g):
        if ctx.kernel:
            return ctx.kernel.softmax_bwd(y, g)
        gy = g * y
        return gy - y * gy.sum(axis=ctx.axis, keepdims=True)


class LogSoftmax(_AlongAxis):
    @staticmethod
    def fwd(ctx, x, axis):
        xp = get_xp(x)
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def bwd(ctx, y, g):
        return g - get_xp(y).exp(y) * g.sum(axis=ctx.axis, keepdims=True)


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, axis=axis)
