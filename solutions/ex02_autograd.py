r"""Exercises for notebook 02 (autograd): hand-derived backward passes on NumPy arrays.

Each function receives the forward inputs (or outputs) and `grad` = dL/d(output) and returns
dL/d(input) for every input, with exactly the input's shape. The engine in minigpt/ops/ does
the same inside `Function.backward`; here you write the math yourself and gradcheck it.

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m "ex_02_1_mul_backward"
"""
from __future__ import annotations

import numpy as np


# -----------------------------------------------------------------------------
def mul_backward(a, b, grad):
    r"""Exercise 02.1: gradients of c = a * b (elementwise, with NumPy broadcasting).

    Forward: c = a ⊙ b, where a and b broadcast to c's shape.
    Local derivatives: ∂c/∂a = b and ∂c/∂b = a, so in c's shape
        da_full = grad ⊙ b,    db_full = grad ⊙ a.
    Undo the broadcasting: a dimension that broadcasting added on the left, or that had
    size 1 and was stretched, fed the same input value into many outputs, so its gradient
    is the SUM over that dimension. Sum da_full down to a.shape and db_full down to b.shape
    (keep size-1 dims as size 1).

    Args:
        a, b: arrays of any shapes that broadcast together (0-d arrays too).
        grad: dL/dc, shaped like np.broadcast_shapes(a.shape, b.shape).
    Returns:
        (da, db) with da.shape == a.shape and db.shape == b.shape.

    Example: a = [[1], [2]] (2, 1), b = [10, 20, 30] (3,), grad = ones((2, 3))
        da_full = [[10, 20, 30], [10, 20, 30]] -> da = [[60], [60]]     (summed over axis 1)
        db_full = [[1, 1, 1], [2, 2, 2]]       -> db = [3, 3, 3]        (summed over axis 0)
    """
    ### BEGIN SOLUTION
    a, b, grad = np.asarray(a), np.asarray(b), np.asarray(grad)

    def sum_to(g, shape):
        while g.ndim > len(shape):  # dims added on the left
            g = g.sum(axis=0)
        for axis, size in enumerate(shape):  # dims stretched from size 1
            if size == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis, keepdims=True)
        return g

    return sum_to(grad * b, a.shape), sum_to(grad * a, b.shape)
    ### END SOLUTION


def matmul_backward(a, b, grad):
    r"""Exercise 02.2: gradients of c = a @ b (batched matrix product, broadcast batch dims).

    a: (..., n, k), b: (..., k, m), c: (..., n, m); both inputs are at least 2-D. The leading
    "batch" dims broadcast like an elementwise op, e.g. x (B, T, C) @ w (C, D).
    For one product c = a b:   dL/da = grad bᵀ,   dL/db = aᵀ grad.
    Batched: transpose only the last two axes, then sum each result over the batch dims its
    input was broadcast along (exactly as in 02.1), so da.shape == a.shape, db.shape == b.shape.

    Example: a = [[1, 2]] (1, 2), b = [[3], [4]] (2, 1), grad = [[1]]
        -> da = grad bᵀ = [[3, 4]],  db = aᵀ grad = [[1], [2]]
    Example (broadcast): a (4, 2, 3), b (3, 5) -> db = Σ over the 4 batch entries of a_iᵀ grad_i, shape (3, 5).
    """
    ### BEGIN SOLUTION
    a, b, grad = np.asarray(a), np.asarray(b), np.asarray(grad)
    da = grad @ np.swapaxes(b, -1, -2)  # (..., n, k)
    db = np.swapaxes(a, -1, -2) @ grad  # (..., k, m)

    def sum_to(g, shape):
        while g.ndim > len(shape):  # batch dims added on the left
            g = g.sum(axis=0)
        for axis, size in enumerate(shape):  # batch dims stretched from size 1
            if size == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis, keepdims=True)
        return g

    return sum_to(da, a.shape), sum_to(db, b.shape)
    ### END SOLUTION


def softmax_backward(y, dy, axis=-1):
    r"""Exercise 02.3: backward of y = softmax(x) along `axis`, given the OUTPUT y.

    y_i = e^{x_i} / Σ_j e^{x_j}, whose Jacobian is ∂y_i/∂x_j = y_i (δ_ij − y_j). Chain rule:
        dx_j = Σ_i dy_i · y_i (δ_ij − y_j) = y_j (dy_j − Σ_i dy_i y_i)
    so   dx = y ⊙ (dy − sum(dy ⊙ y, axis, keepdims=True)).
    No T×T Jacobian is ever built: O(n) memory, not O(n²).

    Args:
        y: softmax output, any shape; dy: dL/dy, same shape; axis: the softmax axis.
    Returns:
        dx: dL/dx, same shape as y.

    Example: y = [0.5, 0.5], dy = [1, 0] -> Σ dy·y = 0.5 -> dx = [0.5·0.5, 0.5·(−0.5)] = [0.25, −0.25]
    """
    ### BEGIN SOLUTION
    y, dy = np.asarray(y), np.asarray(dy)
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))
    ### END SOLUTION


def layernorm_backward(x, w, dy, eps=1e-5):
    r"""Exercise 02.4: backward of LayerNorm over the last axis.

    Forward, per row of C = x.shape[-1] numbers:
        μ = (1/C) Σ_i x_i,    σ² = (1/C) Σ_i (x_i − μ)²      (biased variance, divide by C)
        x̂ = (x − μ) / sqrt(σ² + ε),    y = x̂ ⊙ w + b
    Backward, with g = dy ⊙ w (the gradient that reaches x̂) and means over the last axis:
        dx = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / sqrt(σ² + ε)
        dw = Σ over all leading dims of dy ⊙ x̂,      db = Σ over all leading dims of dy
    (The two mean terms come from μ and σ depending on every x_i of the row.)

    Args:
        x: (..., C) input; w: (C,) gain; dy: (..., C) = dL/dy; eps: ε above. Rows may sit far
            from 0 (x ≈ 1e3 ± 1): compute σ² from x − μ, not as E[x²] − μ², which cancels.
    Returns:
        (dx, dw, db) shaped like x, w, w.

    Example (C = 2, w = [1, 1], ε = 0): x = [0, 2] -> μ = 1, σ = 1, x̂ = [−1, 1];
        dy = [1, 0] -> g = [1, 0], mean(g) = 0.5, mean(g x̂) = −0.5
        dx = [1 − 0.5 − 0.5, 0 − 0.5 + 0.5] = [0, 0]   (with C = 2, x̂ is always ±1),
        dw = [−1, 0], db = [1, 0]
    """
    ### BEGIN SOLUTION
    x, w, dy = np.asarray(x), np.asarray(w), np.asarray(dy)
    mu = x.mean(axis=-1, keepdims=True)  # (..., 1)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)  # (..., 1)
    rstd = 1.0 / np.sqrt(var + eps)  # (..., 1)
    xhat = (x - mu) * rstd  # (..., C)
    g = dy * w  # (..., C)
    dx = (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True)) * rstd
    lead = tuple(range(x.ndim - 1))
    dw = (dy * xhat).sum(axis=lead)  # (C,)
    db = dy.sum(axis=lead)  # (C,)
    return dx, dw, db
    ### END SOLUTION
