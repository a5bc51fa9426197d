r"""Matrix products: batched `matmul` and the fused `linear` layer op.

For Y = A @ B (batched over leading dims, broadcasting allowed):

    dL/dA = dL/dY @ Bᵀ        dL/dB = Aᵀ @ dL/dY

summed back over any broadcast batch dims. `linear(x, W, b)` = x @ Wᵀ + b with
W stored as (out_features, in_features), computed as one 2-D GEMM per pass.

    python -c "import minigpt as m, numpy as np; print(m.ops.matmul(m.Tensor(np.ones((2,3))), m.Tensor(np.ones((3,4)))).shape)"
"""
from minigpt.autograd import Function, unbroadcast
from minigpt.backend import colsum


def _swap(a):
    return a.swapaxes(-1, -2)


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul needs arrays with at least 2 dims, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul shape mismatch: {a.shape} @ {b.shape} — the last dim of the left "
                             f"({a.shape[-1]}) must equal the second-to-last dim of the right ({b.shape[-2]})")
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        na, nb = ctx.needs_grad
        ga = unbroadcast(g @ _swap(b), a.shape) if na else None
        gb = unbroadcast(_swap(a) @ g, b.shape) if nb else None
        return ga, gb


class Linear(Function):
    r"""y = x Wᵀ + b for x (..., in), W (out, in), b (out,).

    Backward, with x and g flattened to 2-D (N, in) and (N, out):
        dx = g W,   dW = gᵀ x,   db = Σ_n g
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.shape[-1] != w.shape[1]:
            raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
                             f"expects {w.shape[1]} (weight shape {w.shape} = (out, in))")
        x2 = x.reshape(-1, x.shape[-1])  # (N, in)
        y = x2 @ w.T  # (N, out)
        if b is not None:
            y += b
        ctx.save_for_backward(x2, w)
        ctx.xshape = x.shape
        return y.reshape(*x.shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx, g):
        x2, w = ctx.saved
        nx, nw = ctx.needs_grad[:2]
        g2 = g.reshape(-1, w.shape[0])  # (N, out)
        gx = (g2 @ w).reshape(ctx.xshape) if nx else None
        gw = g2.T @ x2 if nw else None
        gb = colsum(g2) if len(ctx.needs_grad) > 2 and ctx.needs_grad[2] else None
        return gx, gw, gb


def matmul(a, b):
    return MatMul.apply(a, b)


def linear(x, w, b=None):
    return Linear.apply(x, w, b) if b is not None else Linear.apply(x, w)
