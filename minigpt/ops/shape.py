r"""Ops that move data without arithmetic: reshape, transpose/permute, indexing,
concat, split, where/masked_fill.

Their backward moves the gradient back: reshape it, transpose with the inverse
permutation, scatter-add it into the indexed positions.

    python -c "import minigpt as m, numpy as np; x = m.Tensor(np.arange(6.).reshape(2, 3), requires_grad=True); x[:, 1].sum().backward(); print(x.grad)"
"""
import numpy as np

from minigpt.autograd import Function, Tensor, unbroadcast
from minigpt.backend import get_xp


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.axes)), None


def _is_basic(idx):
    """True for indices made only of ints, slices, None and Ellipsis (no fancy indexing)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in items)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, idx):
        ctx.args = (x.shape, x.dtype, idx)
        return x[idx]

    @staticmethod
    def backward(ctx, g):
        shape, dtype, idx = ctx.args
        xp = get_xp(g)
        gx = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(idx):
            gx[idx] = g  # basic slices never repeat an element
        elif xp is np:
            np.add.at(gx, idx, g)  # fancy indices may repeat: accumulate
        else:
            import cupyx
            cupyx.scatter_add(gx, idx, g)
        return gx, None


class Concat(Function):
    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.sizes = [x.shape[axis] for x in xs]
        ctx.axis = axis
        return get_xp(xs[0]).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        cuts = np.cumsum(ctx.sizes)[:-1]
        return tuple(get_xp(g).split(g, cuts, axis=ctx.axis))


class Where(Function):
    r"""y = cond ? a : b;  dy/da = cond, dy/db = 1 - cond (cond is not differentiable)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = (np.shape(a), np.shape(b))
        return get_xp(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved
        _, na, nb = ctx.needs_grad
        zero = g.dtype.type(0)
        ga = unbroadcast(get_xp(g).where(cond, g, zero), ctx.shapes[0]) if na else None
        gb = unbroadcast(get_xp(g).where(cond, zero, g), ctx.shapes[1]) if nb else None
        return None, ga, gb


# -----------------------------------------------------------------------------
# functional API

def reshape(x, *shape):
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Reshape.apply(x, tuple(shape))


def permute(x, *axes):
    axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    return Permute.apply(x, tuple(axes))


def transpose(x, a=-2, b=-1):
    """Swap two axes (default: the last two)."""
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(x, tuple(axes))


def getitem(x, idx):
    if isinstance(idx, Tensor):
        idx = idx.data
    elif isinstance(idx, tuple):
        idx = tuple(i.data if isinstance(i, Tensor) else i for i in idx)
    return GetItem.apply(x, idx)


def concat(xs, axis=0):
    return Concat.apply(*xs, axis=axis)


def split(x, sizes_or_n, axis=-1):
    """Split along `axis` into n equal parts or parts of the given sizes."""
    n = x.shape[axis]
    if isinstance(sizes_or_n, int):
        if n % sizes_or_n:
            raise ValueError(f"split: axis of size {n} does not divide into {sizes_or_n} equal parts")
        sizes = [n // sizes_or_n] * sizes_or_n
    else:
        sizes = list(sizes_or_n)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, not to the axis size {n}")
    out, start = [], 0
    ax = axis % x.ndim
    for s in sizes:
        idx = (slice(None),) * ax + (slice(start, start + s),)
        out.append(getitem(x, idx))
        start += s
    return out


def where(cond, a, b):
    cond = cond.data if isinstance(cond, Tensor) else cond
    return Where.apply(cond, a, b)


def masked_fill(x, mask, value):
    """Elements where `mask` is True become `value` (no gradient flows there)."""
    return where(mask, value, x)
