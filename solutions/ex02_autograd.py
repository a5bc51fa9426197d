r"""Exercises for notebook 02 (autograd): hand-derived backward passes on NumPy arrays.

Each function receives the forward inputs (or outputs) and `grad` = dL/d(output) and returns
dL/d(input) for every input, with exactly the input's shape. The engine in minigpt/ops/ does
the same inside `Function.backward`; notebook 02 derives each one, here you write it yourself.

    minigpt grade --only 02.1 --verbose
"""
from __future__ import annotations

import numpy as np


# -----------------------------------------------------------------------------
def mul_backward(a, b, grad):
    r"""Exercise 02.1: gradients of c = a * b (elementwise, with NumPy broadcasting). Notebook 02, §3 and §6.

    Args:
        a, b: arrays of any shapes that broadcast together (0-d arrays too).
        grad: dL/dc, shaped like np.broadcast_shapes(a.shape, b.shape).
    Returns:
        (da, db) = (dL/da, dL/db) with da.shape == a.shape and db.shape == b.shape.

    Example: a = [[1], [2]] (2, 1), b = [10, 20, 30] (3,), grad = ones((2, 3))
        -> da = [[60], [60]] (2, 1),   db = [3, 3, 3] (3,)
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
    r"""Exercise 02.2: gradients of c = a @ b (batched matrix product, broadcast batch dims). Notebook 02, §6.2.

    Args:
        a: (..., n, k), b: (..., k, m), both at least 2-D; the leading batch dims broadcast like an
            elementwise op, e.g. x (B, T, C) @ w (C, D).
        grad: dL/dc, (..., n, m) with the broadcast batch dims.
    Returns:
        (da, db) = (dL/da, dL/db) with da.shape == a.shape and db.shape == b.shape.

    Example: a = [[1, 2]] (1, 2), b = [[3], [4]] (2, 1), grad = [[1]] (1, 1)
        -> da = [[3, 4]] (1, 2),   db = [[1], [2]] (2, 1)
    Example (broadcast): a = ones((4, 1, 2)), b = ones((2, 3)), grad = ones((4, 1, 3))
        -> da = 3 * ones((4, 1, 2)),   db = 4 * ones((2, 3))
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
    r"""Exercise 02.3: backward of y = softmax(x) along `axis`, given the OUTPUT y. Notebook 02, §8.1.

    Build no (n, n) Jacobian: O(n) memory per row.

    Args:
        y: softmax output, any shape; dy: dL/dy, same shape; axis: the softmax axis.
    Returns:
        dx: dL/dx, same shape as y.

    Example: y = [0.5, 0.5], dy = [1, 0] -> dx = [0.25, -0.25]
    """
    ### BEGIN SOLUTION
    y, dy = np.asarray(y), np.asarray(dy)
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))
    ### END SOLUTION


def layernorm_backward(x, w, dy, eps=1e-5):
    r"""Exercise 02.4: backward of y = LayerNorm(x) * w + b over the last axis. Notebook 02, §8.3.

    The forward normalises each row of C = x.shape[-1] numbers by its mean and its biased variance
    (divide by C), with eps added to the variance.

    Args:
        x: (..., C) input; w: (C,) gain; dy: (..., C) = dL/dy; eps: added to the variance. Rows may sit
            far from 0 (x ≈ 1e3 ± 1): the variance must not lose its digits to cancellation there.
    Returns:
        (dx, dw, db) = (dL/dx, dL/dw, dL/db) shaped like x, w, w.

    Example (C = 2, w = [1, 1], eps = 0): x = [0, 2], dy = [1, 0]
        -> dx = [0, 0]  (with C = 2 each normalised entry is ±1 whatever x is),  dw = [-1, 0],  db = [1, 0]
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
