r"""Elementwise ops with broadcasting: + - * / ** neg exp log sqrt tanh relu gelu silu swiglu.

Each op is a Function: `forward` on raw arrays, `backward` the local derivative
times the upstream gradient, summed back to each input's shape by `unbroadcast`.

    python -c "import minigpt as m; x = m.Tensor([1., 2.], requires_grad=True); m.ops.gelu(x).sum().backward(); print(x.grad)"
"""
import math

import numpy as np

from minigpt.autograd import Function, unbroadcast
from minigpt.backend import get_xp
from minigpt.ops.dispatch import kernels


def _shape(a):
    return np.shape(a)


# -----------------------------------------------------------------------------
# binary ops: d(a+b) = (1, 1), d(a-b) = (1, -1), d(ab) = (b, a), d(a/b) = (1/b, -a/b²)

class Add(Function):
    r"""a + b;  d/da = 1, d/db = 1. `Sub` is the same op with b's sign flipped."""
    sign = 1  # d(a ± b)/db

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a + b if cls.sign > 0 else a - b

    @classmethod
    def backward(cls, ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(g if cls.sign > 0 else -g, sb) if nb else None)


class Sub(Add):
    r"""a - b;  d/da = 1, d/db = -1."""
    sign = -1


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        na, nb = ctx.needs_grad
        return (unbroadcast(g * b, _shape(a)) if na else None,
                unbroadcast(g * a, _shape(b)) if nb else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        na, nb = ctx.needs_grad
        ga = unbroadcast(g / b, _shape(a)) if na else None
        gb = unbroadcast(-g * a / (b * b), _shape(b)) if nb else None
        return ga, gb


# -----------------------------------------------------------------------------
# unary ops

class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


def _ipow(x, p):
    """x**p, with small integer powers as products (x**3 on float32 is ~250x slower than x*x*x)."""
    if p == 2:
        return x * x
    if p == 3:
        return x * x * x
    if p == 1:
        return x
    if p == 0.5:
        return get_xp(x).sqrt(x)
    return x ** p


class Pow(Function):
    r"""y = x^p for a constant Python exponent p;  dy/dx = p x^{p-1}."""

    @staticmethod
    def forward(ctx, x, p):
        if not isinstance(p, (int, float)):
            raise TypeError(f"pow: exponent must be a Python number, got {type(p).__name__}")
        ctx.save_for_backward(x)
        ctx.p = p
        return _ipow(x, p)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        p = ctx.p
        return g * (p * _ipow(x, p - 1)), None


class _FromOutput(Function):
    r"""y = f(x) whose derivative is a function of y alone: forward saves y, backward returns grad(g, y) = g · dy/dx.
    A subclass names f (`fn`, a function of the array module) and writes `grad`."""
    fn = None

    @classmethod
    def forward(cls, ctx, x):
        y = getattr(get_xp(x), cls.fn)(x)
        ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        return cls.grad(g, ctx.saved[0])


class Exp(_FromOutput):
    r"""y = e^x;  dy/dx = y."""
    fn = "exp"

    @staticmethod
    def grad(g, y):
        return g * y


class Log(Function):
    r"""y = ln x;  dy/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_xp(x).log(x)

    @staticmethod
    def backward(ctx, g):
        return g / ctx.saved[0]


class Sqrt(_FromOutput):
    r"""y = √x;  dy/dx = 1/(2y)."""
    fn = "sqrt"

    @staticmethod
    def grad(g, y):
        return g / (2.0 * y)


class Tanh(_FromOutput):
    r"""y = tanh x;  dy/dx = 1 - y²."""
    fn = "tanh"

    @staticmethod
    def grad(g, y):
        return g * (1.0 - y * y)


class Relu(Function):
    r"""y = max(x, 0);  dy/dx = [x > 0]."""

    @staticmethod
    def forward(ctx, x):
        mask = x > 0
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved[0]


GELU_C = math.sqrt(2.0 / math.pi)  # a Python float: never upcasts float32 arrays


class Gelu(Function):
    r"""GELU, tanh approximation (as in GPT-2):

        y = a x,   a = ½ (1 + tanh u),   u = c (x + k x³),   c = √(2/π),  k = 0.044715
        dy/dx = a + x · ½ (1 - tanh² u) · du/dx = a + x · 2a(1 - a) · c (1 + 3k x²)

    using 1 - tanh² u = (1 - tanh u)(1 + tanh u) = 4a(1 - a), so the backward needs only
    the saved a (and x², x), not tanh u.

    The forward computes a = ½ (1 + tanh u) as the equal 1 / (1 + e^{-2u}): NumPy's float32
    exp is about twice as fast as its tanh, and the transcendental is most of this op's time
    (measured on a 2-core AVX2 EPYC: 1.36 -> 0.86 ms CPU time for a (768, 512) forward).
    """

    @staticmethod
    def forward(ctx, x):
        ctx.kernel = kernels(x)
        if ctx.kernel:  # one fused pass: CUDA (kernels/gelu.cu) or numba (kernels/cpu.py)
            ctx.save_for_backward(x)
            return ctx.kernel.gelu_fwd(x)
        xp = get_xp(x)
        x2 = x * x
        a = x2 * (-2 * GELU_C * 0.044715)  # in-place steps below: each pass over memory costs
        a -= 2 * GELU_C
        a *= x  # -2u
        with np.errstate(over="ignore"):  # e^{-2u} = inf for x below about -9.5: then a = 0, as it should
            xp.exp(a, out=a)
        a += 1.0
        xp.divide(1.0, a, out=a)  # a = 1 / (1 + e^{-2u}) = ½ (1 + tanh u)
        ctx.save_for_backward(x, x2, a)
        return a * x

    @staticmethod
    def backward(ctx, g):
        if ctx.kernel:
            return ctx.kernel.gelu_bwd(ctx.saved[0], g)
        x, x2, a = ctx.saved
        d = 1.0 - a
        d *= a
        d *= x
        du = x2 * (6 * 0.044715 * GELU_C)
        du += 2 * GELU_C  # 2 du/dx, the 2 of 2a(1 - a) folded in
        d *= du
        d += a
        d *= g
        return d


def _sigmoid(x):
    """σ(x) = ½ (1 + tanh(x/2)): the same function as 1/(1 + e^{-x}), without overflow for large |x|."""
    s = get_xp(x).tanh(x * 0.5)
    s += 1.0
    s *= 0.5
    return s


class Silu(Function):
    r"""SiLU / swish:  y = x σ(x);   dy/dx = σ(x) (1 + x (1 - σ(x))).

    Example: silu(0) = 0, silu(x) → x for large x, → 0⁻ for very negative x (min ≈ -0.278 at x ≈ -1.28).
    """

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        return g * s * (1.0 + x * (1.0 - s))


class SwiGLU(Function):
    r"""Gated linear unit with a SiLU gate (Shazeer 2020; LLaMA's MLP):

        y = silu(a) ⊙ b            a = x W_gate,  b = x W_up  (computed by the caller)
        dL/da = g ⊙ b ⊙ silu'(a),   dL/db = g ⊙ silu(a)

    with silu'(a) = σ(a) (1 + a (1 - σ(a))). a and b must have the same shape.
    """

    @staticmethod
    def forward(ctx, a, b):
        if a.shape != b.shape:
            raise ValueError(f"swiglu: gate and up projections must have the same shape, got {a.shape} and {b.shape}")
        s = _sigmoid(a)
        sa = a * s  # silu(a)
        ctx.save_for_backward(a, b, s, sa)
        return sa * b

    @staticmethod
    def backward(ctx, g):
        a, b, s, sa = ctx.saved
        na, nb = ctx.needs_grad
        ga = g * b * s * (1.0 + a * (1.0 - s)) if na else None
        gb = g * sa if nb else None
        return ga, gb


# -----------------------------------------------------------------------------
# functional API

def add(a, b): return Add.apply(a, b)
def sub(a, b): return Sub.apply(a, b)
def mul(a, b): return Mul.apply(a, b)
def div(a, b): return Div.apply(a, b)
def neg(x): return Neg.apply(x)
def pow(x, p): return Pow.apply(x, p)  # noqa: A001 (shadows builtin inside this module only)
def exp(x): return Exp.apply(x)
def log(x): return Log.apply(x)
def sqrt(x): return Sqrt.apply(x)
def tanh(x): return Tanh.apply(x)
def relu(x): return Relu.apply(x)
def gelu(x): return Gelu.apply(x)
def silu(x): return Silu.apply(x)
def swiglu(a, b): return SwiGLU.apply(a, b)
