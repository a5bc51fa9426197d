r"""Reductions: sum, mean, max over an axis (or all).

    sum:  dL/dx = broadcast(dL/dy)
    mean: dL/dx = broadcast(dL/dy) / n
    max:  dL/dx = broadcast(dL/dy) · [x == max] / (number of ties)

    python -c "import minigpt as m; x = m.Tensor([[1., 5.], [7., 2.]], requires_grad=True); x.max(axis=1).sum().backward(); print(x.grad)"
"""
import builtins

from minigpt.autograd import Function
from minigpt.backend import get_xp


def _expand(g, shape, axis, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input shape."""
    if axis is None:
        return g.reshape((1,) * len(shape)) if not keepdims else g
    if not keepdims:
        axes = (axis,) if isinstance(axis, int) else axis
        axes = sorted(a % len(shape) for a in axes)
        for a in axes:
            g = get_xp(g).expand_dims(g, a)
    return g


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.args = (x.shape, axis, keepdims)
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        shape, axis, keepdims = ctx.args
        return get_xp(g).broadcast_to(_expand(g, shape, axis, keepdims), shape).copy()


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.args = (x.shape, axis, keepdims)
        out = x.mean(axis=axis, keepdims=keepdims)
        ctx.n = x.size // builtins.max(out.size, 1)
        return out

    @staticmethod
    def backward(ctx, g):
        shape, axis, keepdims = ctx.args
        g = _expand(g, shape, axis, keepdims) * (1.0 / ctx.n)
        return get_xp(g).broadcast_to(g, shape).copy()


class Max(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        m = x.max(axis=axis, keepdims=True)
        ctx.save_for_backward(x == m)
        ctx.args = (x.shape, axis, keepdims)
        return m if keepdims else x.max(axis=axis)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        shape, axis, keepdims = ctx.args
        count = mask.sum(axis=axis, keepdims=True)
        return _expand(g, shape, axis, keepdims) * mask / count


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return Max.apply(x, axis=axis, keepdims=keepdims)
