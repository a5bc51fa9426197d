r"""Cross-entropy loss fused with log-softmax.

For logits z (N, V) and targets t (N,), ignoring rows with t = ignore_index,
with M = number of non-ignored rows:

    L = -1/M Σ_n log softmax(z_n)[t_n]
    dL/dz_n = (softmax(z_n) - onehot(t_n)) / M      (0 for ignored rows)

The loss is a mean over NON-ignored targets (not over all N), so padding and
prompt tokens never dilute it. If every target is ignored, L = 0 and the
gradient is 0 (PyTorch returns nan there).

    python -c "import minigpt as m, numpy as np; print(m.ops.cross_entropy(m.Tensor(np.zeros((2, 4))), np.array([1, 3])).item(), np.log(4))"
"""

from minigpt.autograd import Function, raw
from minigpt.backend import get_xp, rowsum
from minigpt.kernels.reference import IGNORE_INDEX
from minigpt.ops.dispatch import kernels


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, targets, ignore_index=IGNORE_INDEX):
        xp = get_xp(logits)
        targets = xp.asarray(targets)  # ids given as a NumPy array follow GPU logits to the device
        V = logits.shape[-1]
        if targets.shape != logits.shape[:-1]:
            raise ValueError(f"cross_entropy: targets shape {targets.shape} must equal logits shape without "
                             f"the class dim {logits.shape[:-1]} (logits are {logits.shape})")
        if targets.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: targets must be integer class ids, got dtype {targets.dtype}")
        z = logits.reshape(-1, V)  # (N, V)
        t = targets.reshape(-1)  # (N,)
        keep = t != ignore_index
        bad = keep & ((t < 0) | (t >= V))
        if bad.any():
            raise ValueError(f"cross_entropy: target id {int(t[bad][0])} out of range for {V} classes "
                             f"(ignore_index={ignore_index})")
        ctx.kernel = kernels(z)
        if ctx.kernel:  # fused per-row loss + log-sum-exp: CUDA (kernels/crossentropy.cu) or numba (kernels/cpu.py)
            loss, _, lse = ctx.kernel.cross_entropy_fwd(z, t, ignore_index)
            ctx.save_for_backward(z, t, lse)
            ctx.args = (ignore_index, logits.shape)
            return xp.asarray(loss, dtype=logits.dtype)
        tt = xp.where(keep, t, 0)
        m = z.max(axis=1, keepdims=True)
        e = z - m
        xp.exp(e, out=e)  # (N, V), in place: with a large vocabulary each pass over (N, V) counts
        s = rowsum(e)[:, None]  # (N, 1), as a BLAS matrix-vector product
        rows = xp.arange(z.shape[0])
        logp = (z[rows, tt] - m[:, 0]) - xp.log(s[:, 0])  # (N,)
        n = int(keep.sum())
        loss = -(logp * keep).sum() / max(n, 1)
        ctx.save_for_backward(e, s, tt, keep)
        ctx.args = (n, logits.shape)
        return xp.asarray(loss, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.kernel:
            z, t, lse = ctx.saved
            ignore_index, shape = ctx.args
            return ctx.kernel.cross_entropy_bwd(z, t, lse, float(g), ignore_index).reshape(shape), None
        e, s, tt, keep = ctx.saved
        n, shape = ctx.args
        w = (keep * (float(g) / max(n, 1))).astype(e.dtype)  # (N,) each row's weight: g/M, or 0 if ignored
        p = e  # the saved exponentials become the gradient in place (backward runs once)
        p *= (w / s[:, 0])[:, None]  # w · softmax, (N, V): one pass
        p[get_xp(p).arange(p.shape[0]), tt] -= w  # - w · onehot
        return p.reshape(shape), None


def cross_entropy(logits, targets, ignore_index=IGNORE_INDEX):
    """Mean cross-entropy over non-ignored targets; `targets` is an int array or Tensor."""
    return CrossEntropy.apply(logits, raw(targets), ignore_index=ignore_index)
