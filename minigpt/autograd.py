r"""Reverse-mode automatic differentiation on NumPy/CuPy arrays.

A `Tensor` wraps an array (`.data`) and remembers the `Function` that produced it.
Calling `loss.backward()` walks that graph from the loss back to the leaves and
applies the chain rule: for y = f(x), the gradient of the loss L w.r.t. x is

    dL/dx = (dy/dx)^T · dL/dy        (vector-Jacobian product)

Each Function implements `forward` (arrays in, array out) and `backward` (the
vector-Jacobian product, gradient arrays in and out). The ops themselves live in
`minigpt/ops/`; this file only knows how to record and replay them. `Tensor`'s
operators (+, *, @, .sum(), ...) are listed in its class body; each calls one op.

    python -c "import minigpt as m; x = m.Tensor([1., 2.], requires_grad=True); (x * x).sum().backward(); print(x.grad)"
"""
import contextlib

import numpy as np

from minigpt.backend import get_xp, to_device, to_numpy, xp as default_xp

# -----------------------------------------------------------------------------
# global switch for recording the graph

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Run a block without recording the graph (evaluation, sampling, optimizer steps)."""
    global _grad_enabled
    prev, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = prev


def is_grad_enabled() -> bool:
    return _grad_enabled


# -----------------------------------------------------------------------------
# the ops behind Tensor's operators

# minigpt/ops/ is built on this file (its ops are Functions that make Tensors), so this file cannot
# import it; minigpt/ops/__init__.py registers itself here when it loads, which `import minigpt`
# (and so any `import minigpt.<module>`) always does first.
ops = None


def register_ops(module):
    """Called once by minigpt/ops/__init__.py: the module Tensor's operators call."""
    global ops
    ops = module


# -----------------------------------------------------------------------------
# broadcasting helper

def unbroadcast(grad, shape):
    """Sum `grad` back down to `shape`, undoing NumPy broadcasting.

    Example: x of shape (3, 1) added to y of shape (2, 3, 4) gives (2, 3, 4); the
    gradient for x is summed over axis 0 (added dim) and axis 2 (stretched size-1 dim).
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"unbroadcast: gradient of shape {grad.shape} cannot reduce to larger shape {shape}")
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    grad = grad.sum(axis=axes, keepdims=True) if axes else grad
    return grad.reshape(shape)


# -----------------------------------------------------------------------------
# Tensor

def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (float, int, list, tuple)) or np.isscalar(data):
        arr = default_xp.asarray(data)
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(np.float32)  # Python floats become float32, never float64
        return arr if dtype is None else arr.astype(dtype)
    if dtype is not None and data.dtype != dtype:
        return data.astype(dtype)
    return data


def raw(x):
    """The plain array behind a Tensor (or a list/array given as is), for non-differentiable inputs."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    return x


class Tensor:
    """An array plus the recipe (Function + inputs) that produced it.

    data          : the NumPy/CuPy array
    grad          : array of the same shape after backward (leaves only), else None
    requires_grad : whether gradients flow to / through this tensor
    """
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "__weakref__")
    __array_priority__ = 1000  # make `ndarray + Tensor` call Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None  # (Function subclass, Context) for non-leaves
        self.name = name

    # --- array-like facts
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    @property
    def device(self) -> str:
        return "cpu" if get_xp(self.data) is np else "cuda"

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        rg = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor(shape={self.shape}, dtype={self.dtype}{rg})\n{self.data!r}"

    def numpy(self) -> np.ndarray:
        return to_numpy(self.data)

    def item(self) -> float:
        return float(to_numpy(self.data).reshape(-1)[0]) if self.size == 1 else self._not_scalar("item")

    def _not_scalar(self, what):
        raise ValueError(f"{what}() needs a tensor with one element, got shape {self.shape}")

    def detach(self) -> "Tensor":
        """Same data, cut from the graph."""
        return Tensor(self.data)

    def to(self, dev: str) -> "Tensor":
        """Copy to 'cpu' or 'cuda' (a new leaf)."""
        return Tensor(to_device(self.data, dev), requires_grad=self.requires_grad)

    # --- operators and methods: one op each (minigpt/ops/, forward beside backward)
    __add__ = lambda a, b: ops.add(a, b)
    __radd__ = lambda a, b: ops.add(b, a)
    __sub__ = lambda a, b: ops.sub(a, b)
    __rsub__ = lambda a, b: ops.sub(b, a)
    __mul__ = lambda a, b: ops.mul(a, b)
    __rmul__ = lambda a, b: ops.mul(b, a)
    __truediv__ = lambda a, b: ops.div(a, b)
    __rtruediv__ = lambda a, b: ops.div(b, a)
    __neg__ = lambda a: ops.neg(a)
    __pow__ = lambda a, p: ops.pow(a, p)
    __matmul__ = lambda a, b: ops.matmul(a, b)
    __rmatmul__ = lambda a, b: ops.matmul(b, a)
    __getitem__ = lambda a, idx: ops.getitem(a, idx)
    sum = lambda a, axis=None, keepdims=False: ops.sum(a, axis, keepdims)
    mean = lambda a, axis=None, keepdims=False: ops.mean(a, axis, keepdims)
    max = lambda a, axis=None, keepdims=False: ops.max(a, axis, keepdims)
    reshape = lambda a, *shape: ops.reshape(a, *shape)
    permute = lambda a, *axes: ops.permute(a, *axes)
    transpose = lambda a, i=-2, j=-1: ops.transpose(a, i, j)
    T = property(lambda a: ops.transpose(a, -2, -1))
    exp = lambda a: ops.exp(a)
    log = lambda a: ops.log(a)
    sqrt = lambda a: ops.sqrt(a)
    tanh = lambda a: ops.tanh(a)
    relu = lambda a: ops.relu(a)
    softmax = lambda a, axis=-1: ops.softmax(a, axis)

    def zero_grad(self):
        self.grad = None

    # --- backward
    def backward(self, grad=None):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`, then free the graph.

        `grad` is the upstream gradient; it may be omitted only for a one-element tensor.
        Uses an iterative topological sort (no recursion limit on deep graphs).
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(was it computed under no_grad(), or from inputs without requires_grad=True?)")
        xp = get_xp(self.data)
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar (one-element) tensor, "
                                   f"got shape {self.shape}; pass grad= of that shape or reduce first (e.g. .sum())")
            grad = xp.ones_like(self.data)
        grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"backward(grad): grad has shape {grad.shape}, expected {self.shape}")

        order = _topo_sort(self)
        grads = {id(self): grad}
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if t._ctx is None:  # a leaf
                if g is not None and t.requires_grad:
                    t.grad = g if t.grad is None else t.grad + g
                continue
            fn, ctx = t._ctx
            t._ctx = None  # free the graph as we go
            if g is None:
                continue
            in_grads = fn.backward(ctx, g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            for inp, ig in zip(ctx.inputs, in_grads):
                if ig is None or not isinstance(inp, Tensor) or not inp.requires_grad:
                    continue
                if ig.shape != inp.shape:
                    raise RuntimeError(f"{fn.__name__}.backward returned a gradient of shape {ig.shape} "
                                       f"for an input of shape {inp.shape}")
                key = id(inp)
                grads[key] = ig if key not in grads else grads[key] + ig
            ctx.inputs = ctx.saved = None


def _topo_sort(root):
    """Tensors reachable from root, each after all of its inputs (iterative post-order DFS).

    subtle: a node is marked visited when it is *expanded*, not when it is pushed;
    marking at push time can emit a consumer before an input that is still waiting
    lower on the stack, and that input would then miss part of its gradient.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        if t._ctx is not None:
            for inp in t._ctx[1].inputs:
                if isinstance(inp, Tensor) and inp.requires_grad and id(inp) not in visited:
                    stack.append((inp, False))
    return order


# -----------------------------------------------------------------------------
# Function: the unit of differentiation

class Context:
    """Scratch space a Function's forward leaves for its backward."""
    __slots__ = ("inputs", "saved", "needs_grad", "__dict__")

    def save_for_backward(self, *arrays):
        self.saved = arrays


class Function:
    """Subclass and write two static methods:

        forward(ctx, *arrays, **kwargs) -> array
        backward(ctx, grad) -> one gradient per positional input (None where not needed)

    then call `MyFn.apply(*tensors_or_arrays, **kwargs)`.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = Context()
        raw = [a.data if isinstance(a, Tensor) else a for a in args]
        needs = _grad_enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if needs:
            ctx.needs_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        out = cls.forward(ctx, *raw, **kwargs)
        t = Tensor.__new__(Tensor)
        t.data, t.grad, t.requires_grad, t.name = out, None, needs, None
        t._ctx = None
        if needs:
            ctx.inputs = args
            t._ctx = (cls, ctx)
        return t


# -----------------------------------------------------------------------------
# gradient checking

def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    r"""Compare backward() with central finite differences, in float64.

    For a random projection w (so every output element matters), with
    L(x) = sum(w * fn(x)), check for each input element x_i:

        dL/dx_i  ≈  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

    within |analytic - numeric| <= atol + rtol * |numeric|.
    `inputs` are Tensors (float64, requires_grad=True) or arrays; integer
    inputs (token ids) are passed through untouched. Returns True or raises
    AssertionError naming the input and the worst element.
    """
    tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
    for i, t in enumerate(tensors):
        if t.dtype.kind == "f" and t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {t.dtype}; use float64 for finite differences")
        t.grad = None
    rng = np.random.default_rng(seed)
    out = fn(*tensors)
    xp = get_xp(out.data)
    w = xp.asarray(rng.standard_normal(out.shape))
    (out * Tensor(w)).sum().backward()

    def loss():
        with no_grad():
            return float((fn(*tensors).data * w).sum())

    for i, t in enumerate(tensors):
        if not t.requires_grad:
            continue
        analytic = to_numpy(t.grad) if t.grad is not None else np.zeros(t.shape)
        numeric = np.zeros(t.shape)
        for idx in np.ndindex(*t.shape):  # works for non-contiguous (e.g. transposed) arrays too
            orig = float(t.data[idx])
            t.data[idx] = orig + eps
            lp = loss()
            t.data[idx] = orig - eps
            lm = loss()
            t.data[idx] = orig
            numeric[idx] = (lp - lm) / (2 * eps)
        err = np.abs(analytic - numeric)
        tol = atol + rtol * np.abs(numeric)
        if not np.all(err <= tol):
            k = int(np.argmax(err - tol))
            raise AssertionError(
                f"gradcheck failed for input {i} (shape {t.shape}): element {tuple(int(i) for i in np.unravel_index(k, t.shape))} "
                f"analytic={analytic.reshape(-1)[k]:.8g} numeric={numeric.reshape(-1)[k]:.8g} "
                f"(max abs err {err.max():.3g})")
    return True
