r"""Embedding lookup: row `ids[...]` of a (V, C) table.

    y[..., :] = W[ids[...], :]
    dL/dW[v] = Σ over positions p with ids[p] = v of dL/dy[p]   (a scatter-add)

The scatter must *add*: the same token can appear many times in a batch.

    python -c "import minigpt as m, numpy as np; W = m.Tensor(np.eye(3), requires_grad=True); m.ops.embedding(W, np.array([2, 2])).sum().backward(); print(W.grad)"
"""
import numpy as np

from minigpt.autograd import Function, raw
from minigpt.backend import get_xp


class Embedding(Function):
    @staticmethod
    def forward(ctx, w, ids):
        if ids.dtype.kind not in "iu":
            raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
        V = w.shape[0]
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= V):
            bad = int(ids.max()) if int(ids.max()) >= V else int(ids.min())
            raise IndexError(f"embedding: token id {bad} out of range for a vocabulary of {V} (valid ids 0..{V - 1})")
        ctx.save_for_backward(ids)
        ctx.wshape = w.shape
        return w[ids]

    @staticmethod
    def backward(ctx, g):
        (ids,) = ctx.saved
        V, C = ctx.wshape
        xp = get_xp(g)
        gw = xp.zeros((V, C), dtype=g.dtype)
        flat_ids, flat_g = ids.reshape(-1), g.reshape(-1, C)
        if not flat_ids.size:
            return gw, None
        if xp is np:  # sort, then sum each run of equal ids: ~6x faster than np.add.at(gw, flat_ids, flat_g)
            order = np.argsort(flat_ids, kind="stable")
            ids_sorted = flat_ids[order]
            starts = np.flatnonzero(np.r_[True, ids_sorted[1:] != ids_sorted[:-1]])
            gw[ids_sorted[starts]] = np.add.reduceat(flat_g[order], starts, axis=0)
        else:
            import cupyx
            cupyx.scatter_add(gw, flat_ids, flat_g)
        return gw, None


def embedding(w, ids):
    return Embedding.apply(w, raw(ids))
