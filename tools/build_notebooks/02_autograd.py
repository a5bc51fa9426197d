# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/02_autograd.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/02_autograd.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 02 · Autograd: how `loss.backward()` works
#
# Every model in this course — the GPT, the reward model, the PPO policy — is trained by the same
# loop: compute a loss, call `loss.backward()`, let the optimizer nudge every weight against its
# gradient. This notebook opens up `backward()`. The whole engine is `minigpt/autograd.py`
# (one `Tensor` class, one `Function` base class, about 300 lines) plus one file per family of ops in
# `minigpt/ops/`.
#
# **Learning goals.** After this notebook you can
#
# 1. work the chain rule by hand on a small expression graph, and get the same numbers from `minigpt.Tensor`;
# 2. read and write a `Function` (forward beside backward), and explain why backward visits the graph in
#    reverse topological order;
# 3. explain why gradients *add up* when a value is used twice, and why broadcasting needs `unbroadcast`;
# 4. check any backward against finite differences with `gradcheck`, and say why it needs float64;
# 5. derive the fused backward passes of softmax, cross-entropy and layer norm, and verify them numerically;
# 6. train a small network end to end with the engine.
#
# Run it top to bottom. `MINIGPT_QUICK=1` (what CI uses) runs shorter loops and smaller sweeps; the
# numbers change a little, the conclusions do not.

# %%
import inspect
import os

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import Tensor, course, gradcheck, nn, no_grad, ops
from minigpt.autograd import Function, _topo_sort, unbroadcast
from minigpt.optim import AdamW
from minigpt.timing import best_time

MINIGPT_QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: smaller runs, same code
rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", MINIGPT_QUICK)

# %% [markdown]
# ## 1. A tiny expression graph, by hand
#
# Take four numbers and the expression
#
# $$L = (a\cdot b + c)\cdot f, \qquad a = 2,\; b = -3,\; c = 10,\; f = -2 .$$
#
# Name every intermediate result: $e = a b$, $d = e + c$, $L = d f$. Each line is one *node* of a graph,
# and each node only needs to know its **local derivative** — how its output moves when one of its inputs
# moves:
#
# | node | local derivatives |
# |---|---|
# | $e = a b$ | $\partial e/\partial a = b$, $\;\partial e/\partial b = a$ |
# | $d = e + c$ | $\partial d/\partial e = 1$, $\;\partial d/\partial c = 1$ |
# | $L = d f$ | $\partial L/\partial d = f$, $\;\partial L/\partial f = d$ |
#
# The **chain rule** glues them: $\dfrac{\partial L}{\partial a} = \dfrac{\partial L}{\partial d}\,
# \dfrac{\partial d}{\partial e}\,\dfrac{\partial e}{\partial a}$. Going *backwards* from $L$ we can reuse
# each product: once we know $\partial L/\partial d$, one multiplication gives $\partial L/\partial e$, and
# so on. That is reverse-mode differentiation (backpropagation): one backward sweep yields the gradient with
# respect to *every* input, for a small constant multiple of the cost of the forward pass.

# %%
# forward: one line per node
a, b, c, f = 2.0, -3.0, 10.0, -2.0
e = a * b  # -6
d = e + c  # 4
L = d * f  # -8

# backward: start from dL/dL = 1 and multiply by one local derivative per step
dL_dL = 1.0
dL_dd = dL_dL * f  # ∂(d·f)/∂d = f
dL_df = dL_dL * d  # ∂(d·f)/∂f = d
dL_de = dL_dd * 1.0  # ∂(e+c)/∂e = 1
dL_dc = dL_dd * 1.0  # ∂(e+c)/∂c = 1
dL_da = dL_de * b  # ∂(a·b)/∂a = b
dL_db = dL_de * a  # ∂(a·b)/∂b = a
hand = {"a": dL_da, "b": dL_db, "c": dL_dc, "f": dL_df, "e": dL_de, "d": dL_dd, "L": dL_dL}
print("L =", L)
print("gradients by hand:", hand)

# %% [markdown]
# A gradient is a promise: "if $a$ grows by a tiny $h$, $L$ grows by about $6h$". Check the promise by
# actually nudging $a$:

# %%
h = 1e-6
L_nudged = ((a + h) * b + c) * f
print(f"(L(a+h) - L(a)) / h = {(L_nudged - L) / h:.6f}   vs   dL/da by hand = {dL_da}")

# %% [markdown]
# ## 2. The same graph with `minigpt.Tensor`
#
# A `Tensor` wraps a NumPy array. Every operation on tensors that require gradients records **which
# `Function` made the result and from which inputs** (`t._ctx`). That record *is* the graph. The helper below
# walks it (before `backward()`, which frees it) and draws one box per tensor; the gradient in each box is
# the one we derived by hand.

# %%
def draw_graph(root, grads=None, ax=None, title=None):
    """Draw the graph that produced `root`: one box per Tensor (name, op, value, grad), arrows input -> output."""
    nodes = _topo_sort(root)  # every input before its outputs (section 4)
    pos = {id(t): i for i, t in enumerate(nodes)}
    edges, op = [], {}
    for t in nodes:
        if t._ctx is not None:
            fn, ctx = t._ctx
            args = [x.name or "?" if isinstance(x, Tensor) else repr(x) for x in ctx.inputs]
            op[id(t)] = f"{fn.__name__}({', '.join(args)})"
            edges += [(pos[id(x)], pos[id(t)]) for x in ctx.inputs if isinstance(x, Tensor) and id(x) in pos]
    col = {}
    for i, t in enumerate(nodes):  # column = 1 + the deepest input's column; leaves start at 0
        col[i] = 1 + max([col[s] for s, d in edges if d == i], default=-1)
    for i in range(len(nodes)):  # draw each leaf just left of its first consumer
        if id(nodes[i]) not in op:
            col[i] = max(0, min([col[d] for s, d in edges if s == i], default=1) - 1)
    row, used = {}, {}
    for i in range(len(nodes)):
        row[i] = used.get(col[i], 0)
        used[col[i]] = row[i] + 1
    ax = ax or plt.subplots(figsize=(2.4 * (max(col.values()) + 1), 1.6 * max(used.values()) + 0.6))[1]
    xy = {i: (2.4 * col[i], -1.6 * row[i]) for i in range(len(nodes))}
    for i, t in enumerate(nodes):
        name = t.name or "?"
        val = f"{t.item():.4g}" if t.size == 1 else f"shape {t.shape}"
        label = f"{name}" + (f" = {op[id(t)]}" if id(t) in op else "") + f"\ndata {val}"
        if grads and name in grads:
            label += f"\ngrad {grads[name]:.4g}"
        ax.text(*xy[i], label, ha="center", va="center", fontsize=9, family="monospace",
                bbox=dict(boxstyle="round", fc="#e8f0fe" if id(t) in op else "#fff3d6", ec="gray"))
    for s, d in edges:  # an edge that skips a column bends around the boxes in between
        bend = -0.4 if col[d] - col[s] > 1 else 0.0
        ax.annotate("", xy=xy[d], xytext=xy[s], arrowprops=dict(
            arrowstyle="->", color="gray", shrinkA=28, shrinkB=28, connectionstyle=f"arc3,rad={bend}"))
    xs = [p[0] for p in xy.values()]
    ys = [p[1] for p in xy.values()]
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.2)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 1.4)
    ax.axis("off")
    ax.set_title(title or "yellow: leaves (inputs), blue: computed by a Function")
    return ax


def scalar(value, name):
    """A 0-d float64 tensor that requires grad (float64: so we can compare to the hand values exactly)."""
    return Tensor(np.array(value, dtype=np.float64), requires_grad=True, name=name)


ta, tb, tc, tf = scalar(2.0, "a"), scalar(-3.0, "b"), scalar(10.0, "c"), scalar(-2.0, "f")
te = ta * tb
td = te + tc
tL = td * tf
te.name, td.name, tL.name = "e", "d", "L"
draw_graph(tL, grads=hand)
plt.show()

# %% [markdown]
# Now let the engine do the backward sweep. Only **leaves** (tensors we created, like weights) keep their
# `.grad`; the intermediate gradients are passed along and dropped.

# %%
tL.backward()
for t in (ta, tb, tc, tf):
    print(f"d L / d {t.name}: engine {float(t.grad):+.1f}   hand {hand[t.name]:+.1f}")
    assert np.isclose(float(t.grad), hand[t.name])

# %% [markdown]
# ## 3. How an op is written: `Function`
#
# Every op in `minigpt/ops/` is a subclass of `Function` with two static methods, side by side:
#
# * `forward(ctx, *arrays)` computes the result on plain NumPy arrays and stashes what backward will need
#   in `ctx` (`ctx.save_for_backward(...)`);
# * `backward(ctx, grad)` receives $g = \partial L/\partial(\text{output})$ and returns
#   $\partial L/\partial(\text{input})$ for each input — the *vector–Jacobian product* $J^\top g$, computed
#   without ever building $J$.
#
# Here is the natural logarithm, exactly as it sits in `minigpt/ops/elementwise.py`:

# %%
print(inspect.getsource(minigpt.ops.elementwise.Log))

# %% [markdown]
# Read `backward` against the table in section 1: $\partial(\ln x)/\partial x = 1/x$, so the gradient for `x`
# is `g / x`, with `x` saved by `forward` for exactly this. Multiplication is written the same way, with two
# inputs: by the table, the gradient reaching `a` is $g$ times the *other* input, and likewise for `b`. One
# detail we will come back to in section 6: when `a` and `b` have different shapes, that product has the
# output's shape, not the input's. Writing multiplication's backward yourself is exercise 02.1, and section 6
# runs it.
#
# `Function.apply` is the glue. It unwraps the tensors, calls `forward`, and — only if some input requires
# a gradient and we are not inside `no_grad()` — remembers `(Function, ctx)` on the output:

# %%
print(inspect.getsource(Function.apply))

# %% [markdown]
# Writing a new op takes a dozen lines. The engine has no sigmoid, so let us add one.
# With $y = \sigma(x) = 1/(1+e^{-x})$, the local derivative is $\sigma'(x) = y(1-y)$: cheapest to compute from
# the *output*, so that is what forward saves.

# %%
class Sigmoid(Function):
    r"""y = 1 / (1 + e^{-x});  dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = 1.0 / (1.0 + np.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * y * (1.0 - y)


x = Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
Sigmoid.apply(x).sum().backward()
print("sigmoid'(x) from backward:", x.grad, "  expected at x=0: 0.25")

# %% [markdown]
# ## 4. Topological order
#
# `backward()` may call a node's `backward` only when that node's gradient is **complete**, i.e. after every
# node that consumed it has passed its share back. Listing the nodes so that each comes after all of its inputs
# (a *topological order*) and walking that list in reverse guarantees it. The engine builds the list with an
# explicit stack instead of recursion:

# %%
print(inspect.getsource(_topo_sort))

# %% [markdown]
# On a "diamond" — $x$ feeds two branches that meet again — the order puts $x$ first and the loss last; the
# backward pass walks it from the right:

# %%
x = scalar(0.5, "x")
u = x.tanh()
v = x * 3.0
w = u * v
u.name, v.name, w.name = "u", "v", "w"
print("topological order:", [t.name for t in _topo_sort(w) if t.name])
print("backward visits:  ", [t.name for t in reversed(_topo_sort(w)) if t.name])

# %% [markdown]
# Why not recursion? A recursive depth-first search needs one Python stack frame per node on the longest path,
# and Python stops at about 1000 frames. Graphs can be deep: every layer adds several nodes to the longest
# path, and a loop over steps (a recurrent model, a long unrolled computation) adds more per step. The
# iterative version does not care — here is a chain of 5000 multiplications, $y = x \cdot 1.0001^{5000}$:

# %%
x = scalar(1.0, "x")
y = x
for _ in range(5000):
    y = y * 1.0001
y.backward()
print(f"dy/dx = {float(x.grad):.6f}   expected 1.0001**5000 = {1.0001 ** 5000:.6f}")

# %% [markdown]
# ## 5. A value used twice: gradients add up
#
# If $x$ feeds two nodes, a small change in $x$ moves $L$ through **both** paths, and the two effects add
# (the multivariable chain rule). For
#
# $$L = x\,y + x \qquad\Rightarrow\qquad \frac{\partial L}{\partial x} = y + 1 .$$
#
# In `Tensor.backward` this is the line `grads[key] = grads[key] + ig`: every consumer *adds* its
# contribution into the gradient waiting for the node.

# %%
x, y = scalar(3.0, "x"), scalar(-4.0, "y")
m = x * y
L = m + x
m.name, L.name = "m", "L"
draw_graph(L, grads={"x": -4.0 + 1.0, "y": 3.0, "m": 1.0, "L": 1.0},
           title="x reaches L by two paths: through m (∂ = y) and directly (∂ = 1)")
plt.show()
L.backward()
print("dL/dx =", float(x.grad), " (expected y + 1 =", -4.0 + 1.0, ")")

# %% [markdown]
# The same rule applies across calls: leaves **accumulate** `.grad` over several `backward()` calls. That is
# a feature (summing gradients of several micro-batches) and a classic bug (forgetting to reset). Build the
# graph again and call backward a second time, without and with `zero_grad()`:

# %%
(x * y + x).backward()  # second backward, x.grad not reset
print("after a 2nd backward without reset:", float(x.grad), " <- doubled")
x.zero_grad()
(x * y + x).backward()
print("after zero_grad() + backward:      ", float(x.grad))

# %% [markdown]
# ## 6. Broadcasting and `unbroadcast`
#
# NumPy lets us add a bias of shape `(C,)` to activations of shape `(B, T, C)`: the bias is *broadcast*,
# i.e. reused at every `(b, t)` position. By section 5, a reused value collects the **sum** of the gradients
# of all its uses. So the backward of any broadcasting op must sum the upstream gradient back down to the
# input's shape:
#
# * over every leading axis that broadcasting *added* (the input had fewer dimensions), and
# * over every axis where the input had size 1 and was *stretched* (summed with `keepdims`).
#
# Worked example: `x` of shape `(3, 1)` plus `y` of shape `(2, 3, 4)` gives `z` of shape `(2, 3, 4)`.
# Axis 0 of `z` was added to `x`, axis 2 stretched `x`'s size-1 axis, so each `x[i, 0]` was used
# $2 \times 4 = 8$ times and its gradient is a sum of 8 numbers.

# %%
x = Tensor(rng.standard_normal((3, 1)), requires_grad=True)
y = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
z = x + y
print("x", x.shape, "+ y", y.shape, "-> z", z.shape)
g = np.ones(z.shape)  # upstream gradient dL/dz = 1 everywhere
z.backward(g)
print("x.grad (each entry counts its uses):", x.grad.ravel(), " shape", x.grad.shape)
print("y.grad shape", y.grad.shape)

# %% [markdown]
# `unbroadcast(grad, shape)` in `minigpt/autograd.py` does exactly this, and every binary op calls it:

# %%
print(inspect.getsource(unbroadcast))
g = rng.standard_normal((2, 3, 4))
manual = g.sum(axis=(0, 2), keepdims=True)[0]  # added axis 0 summed away, stretched axis 2 kept as size 1
print("unbroadcast((2,3,4) -> (3,1)) equals summing axes 0 and 2:", np.allclose(unbroadcast(g, (3, 1)), manual))
for out_shape, in_shape in [((8, 16, 32), (32,)), ((8, 16, 32), (16, 1)), ((8, 16, 32), (8, 1, 32)), ((5, 4), ())]:
    print(f"grad {str(out_shape):13s} -> input {str(in_shape):11s}: result shape {unbroadcast(np.ones(out_shape), in_shape).shape}")

# %% [markdown]
# The bias case, `(B, T, C) + (C,)`, gives $\partial L/\partial b_c = \sum_{b,t} g_{b,t,c}$ — the formula you
# will see in every linear layer. We will check broadcasting backward passes with `gradcheck` in a moment.

# %% [markdown]
# ### 6.1 Multiplication with broadcasting: exercise 02.1
#
# Put sections 3 and 6 together for $c = a \odot b$. In the output's shape, the gradient reaching `a` is
# $g \odot b$ (with `b` broadcast); then every axis that broadcasting added or stretched for `a` is summed
# away, and the same for `b`. Exercise **02.1** `mul_backward(a, b, grad)` is this backward on plain arrays
# (`exercises/ex02_autograd.py`). `course.check` runs your version beside the reference on the input below —
# `a` of shape `(3, 1)` (added axis and stretched axis), `b` of shape `(2, 3, 4)` — and, if they disagree,
# says which exercise, on which input, with the command that grades it, and continues with the reference. The
# engine's `Mul` must give the same gradients:

# %%
a_np, b_np = rng.standard_normal((3, 1)), rng.standard_normal((2, 3, 4))
g_np = rng.standard_normal((2, 3, 4))
da_ex, db_ex = course.check("mul_backward", a_np, b_np, g_np)
a_t, b_t = Tensor(a_np, requires_grad=True), Tensor(b_np, requires_grad=True)
(a_t * b_t).backward(g_np)
print("exercise 02.1 shapes:", da_ex.shape, db_ex.shape, "| same as the engine's Mul:",
      np.allclose(da_ex, a_t.grad), np.allclose(db_ex, b_t.grad))

# %% [markdown]
# ### 6.2 Matrix product: exercise 02.2
#
# For $C = AB$ with $A$ of shape $(n, k)$ and $B$ of shape $(k, m)$, each entry $C_{ij} = \sum_p A_{ip}B_{pj}$.
# The entry $A_{ip}$ appears in every $C_{ij}$ of row $i$, with coefficient $B_{pj}$, so
#
# $$\frac{\partial L}{\partial A_{ip}} = \sum_j G_{ij} B_{pj} \quad\Longrightarrow\quad
#   \frac{\partial L}{\partial A} = G B^\top, \qquad\text{and likewise}\qquad \frac{\partial L}{\partial B} = A^\top G,$$
#
# with $G = \partial L/\partial C$. A shape check makes these impossible to get wrong: $G B^\top$ is
# $(n, m)(m, k) = (n, k)$, the shape of $A$. In a model, `x @ w` multiplies a batch `x` of shape `(B, T, C)` by
# one weight `w` of shape `(C, D)`: the leading axes are batch axes that broadcast like an elementwise op, so
# `w`, used by all $B$ batch entries, collects the **sum** of their $X_b^\top G_b$ (section 5 again).
#
# Exercise **02.2** `matmul_backward(a, b, grad)` is this backward for batched, broadcast products. Checked on
# exactly that case — `a` of shape `(4, 2, 3)`, one `b` of shape `(3, 5)` — against the engine's matmul:

# %%
a_np, b_np = rng.standard_normal((4, 2, 3)), rng.standard_normal((3, 5))
g_np = rng.standard_normal((4, 2, 5))
da_ex, db_ex = course.check("matmul_backward", a_np, b_np, g_np)
a_t, b_t = Tensor(a_np, requires_grad=True), Tensor(b_np, requires_grad=True)
(a_t @ b_t).backward(g_np)
print("exercise 02.2 shapes:", da_ex.shape, db_ex.shape, "| same as the engine's matmul:",
      np.allclose(da_ex, a_t.grad), np.allclose(db_ex, b_t.grad))

# %% [markdown]
# ## 7. `gradcheck`: trust, but verify
#
# A wrong backward does not crash; it trains slowly or not at all, and such bugs can hide for weeks. So every
# op is checked against the definition of the derivative, with **central differences**:
#
# $$\frac{\partial L}{\partial x_i} \approx \frac{L(x + h\,e_i) - L(x - h\,e_i)}{2h}.$$
#
# Two errors compete. Taylor expansion gives a *truncation* error $\approx \frac{h^2}{6}|f'''|$ that shrinks as
# $h \to 0$. But $L(x \pm h e_i)$ are rounded to the float's precision $\varepsilon_{\text{mach}}$, and their
# difference is divided by $2h$: a *rounding* error $\approx \varepsilon_{\text{mach}}|f|/h$ that grows as
# $h \to 0$. The total is smallest near $h \approx \varepsilon_{\text{mach}}^{1/3}$. Measure it on
# $f(x) = \sin(x)\,e^{x}$ at $x = 0.7$:

# %%
def f_np(x):
    return np.sin(x) * np.exp(x)


x0 = 0.7
exact = (np.cos(x0) + np.sin(x0)) * np.exp(x0)  # f'(x) = (cos x + sin x) e^x
hs = np.logspace(-12, 0, 49)
fig, ax = plt.subplots(figsize=(6.5, 4))
for dtype, color in [(np.float32, "tab:red"), (np.float64, "tab:blue")]:
    xd = dtype(x0)
    errs = [abs(float((f_np(xd + dtype(h)) - f_np(xd - dtype(h))) / (2 * dtype(h))) - exact) for h in hs]
    errs = np.maximum(errs, 1e-17)  # h too small for float32: x + h == x, the estimate is 0
    best = int(np.argmin(errs))
    eps_m = np.finfo(dtype).eps
    ax.loglog(hs, errs, "o-", ms=3, color=color,
              label=f"{dtype.__name__}: best error {errs[best]:.1e} at h={hs[best]:.0e}  (ε^(1/3)={eps_m ** (1 / 3):.0e})")
ax.set(xlabel="step h", ylabel="|finite difference - exact|", title="central differences: truncation vs rounding")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# In float32 the error never gets much below $10^{-5}$–$10^{-6}$, and only for a well-chosen $h$: a bug as
# small as a stray factor $1.00001$ would pass, and with $h < 10^{-7}$ the estimate is pure noise (or exactly 0,
# once $x + h$ rounds to $x$). In float64 the check is good to about $10^{-10}$ over a wide range of $h$,
# including `gradcheck`'s default $h = 10^{-6}$. That is why `gradcheck` insists on float64 inputs (the
# models themselves train in float32):

# %%
try:
    gradcheck(ops.tanh, [Tensor(np.ones(3, dtype=np.float32), requires_grad=True)])
except TypeError as err:
    print("TypeError:", err)

# %% [markdown]
# `minigpt.gradcheck(fn, inputs)` contracts the output with a fixed random vector $w$ (so every output element
# matters), runs backward once, then perturbs every input element by $\pm h$ with $h = 10^{-6}$ and compares.
# It passes for our sigmoid, for a broadcasting multiply and for a whole linear + GELU layer…

# %%
def f64(*shape):
    """A random float64 tensor that requires grad."""
    return Tensor(rng.standard_normal(shape), requires_grad=True)


print("sigmoid:            ", gradcheck(Sigmoid.apply, [f64(4, 3)]))
print("mul (4,1,3)*(5,1):  ", gradcheck(lambda a, b: a * b, [f64(4, 1, 3), f64(5, 1)]))
print("div (2,3)/(3,):     ", gradcheck(lambda a, b: a / (b * b + 1.0), [f64(2, 3), f64(3)]))
print("gelu(linear(x)):    ", gradcheck(lambda x, w, b: ops.gelu(ops.linear(x, w, b)), [f64(2, 5, 4), f64(3, 4), f64(3)]))

# %% [markdown]
# …and it catches a bug. Here is a sigmoid whose backward forgot the factor $(1 - y)$ — a plausible slip:

# %%
class BuggySigmoid(Sigmoid):
    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * y  # bug: should be g * y * (1 - y)


try:
    gradcheck(BuggySigmoid.apply, [f64(4, 3)])
except AssertionError as err:
    print("AssertionError:", err)

# %% [markdown]
# ## 8. Fused backward passes, derived
#
# We could build softmax out of `exp`, `sum` and `/` and let the engine differentiate it. The library instead
# writes a few ops as single **fused** Functions with a hand-derived backward: fewer intermediate arrays to
# keep alive, fewer passes over memory, and better numerics. Deriving them is the core skill of this notebook.
#
# ### 8.1 Softmax
#
# For one row, $y_i = e^{x_i} / \sum_k e^{x_k}$. Differentiate the quotient:
#
# $$\frac{\partial y_i}{\partial x_j} = \frac{\delta_{ij} e^{x_i}\sum_k e^{x_k} - e^{x_i}e^{x_j}}{\left(\sum_k e^{x_k}\right)^2}
#   = y_i(\delta_{ij} - y_j).$$
#
# The backward needs $\partial L/\partial x_j = \sum_i g_i \,\partial y_i/\partial x_j$ with $g = \partial L/\partial y$:
#
# $$\frac{\partial L}{\partial x_j} = \sum_i g_i y_i (\delta_{ij} - y_j) = y_j g_j - y_j \sum_i g_i y_i
#   \quad\Longrightarrow\quad \boxed{\;\frac{\partial L}{\partial x} = y \odot \big(g - \langle g, y\rangle\big)\;}$$
#
# $O(n)$ work and memory per row, where the Jacobian $J = \operatorname{diag}(y) - y y^\top$ has $n^2$ entries
# (for a 50k vocabulary: 2.5 billion). Three checks: against the explicit Jacobian, against `gradcheck`, and
# against softmax composed from primitive ops:

# %%
xrow, grow = rng.standard_normal(6), rng.standard_normal(6)
yrow = np.exp(xrow - xrow.max())
yrow /= yrow.sum()
J = np.diag(yrow) - np.outer(yrow, yrow)  # J[i, j] = ∂y_i/∂x_j
print("J^T g == y ⊙ (g - <g,y>):", np.allclose(J.T @ grow, yrow * (grow - grow @ yrow)))
print("gradcheck softmax, last axis:", gradcheck(lambda t: ops.softmax(t, axis=-1), [f64(3, 7)]))
print("gradcheck softmax, axis 0:   ", gradcheck(lambda t: ops.softmax(t, axis=0), [f64(3, 7)]))


def softmax_composite(t):
    """Softmax from primitive ops; the engine differentiates it node by node."""
    ex = (t - t.max(axis=-1, keepdims=True)).exp()
    return ex / ex.sum(axis=-1, keepdims=True)


xs = f64(4, 9)
gup = rng.standard_normal((4, 9))
ops.softmax(xs).backward(gup)
g_fused, xs.grad = xs.grad, None
out = softmax_composite(xs)
print("graph nodes: fused", len(_topo_sort(ops.softmax(xs))), " composite", len(_topo_sort(out)))
out.backward(gup)
print("fused == composite gradient:", np.allclose(g_fused, xs.grad))

# %% [markdown]
# Exercise **02.3** `softmax_backward(y, dy, axis)` is this backward, given the softmax *output* $y$ (which is
# what the forward saves). `course.check` runs yours on a softmax over **axis 0** of a `(3, 7)` batch — the
# sum $\langle g, y\rangle$ must run along the softmax axis, not the last one — against the engine:

# %%
xs0 = f64(3, 7)
g0 = rng.standard_normal((3, 7))
ys0 = ops.softmax(xs0, axis=0)
ys0.backward(g0)
dx_ex = course.check("softmax_backward", ys0.data, g0, axis=0)
print("exercise 02.3 == engine's softmax backward (axis 0):", np.allclose(dx_ex, xs0.grad))

# %% [markdown]
# The fused op is also faster — one saved array instead of several, and no intermediate graph nodes. Time
# forward + backward on a batch of float32 rows the size of a small model's logits:

# %%
xb = Tensor(rng.standard_normal((64, 2048)).astype(np.float32), requires_grad=True)
gb = np.ones(xb.shape, dtype=np.float32)
t_fused = 1e3 * best_time(lambda: ops.softmax(xb).backward(gb), repeat=5)
t_comp = 1e3 * best_time(lambda: softmax_composite(xb).backward(gb), repeat=5)
print(f"softmax fwd+bwd on {xb.shape}: fused {t_fused:.2f} ms, composite {t_comp:.2f} ms")

# %% [markdown]
# ### 8.2 Cross-entropy (fused with log-softmax)
#
# For logits $z \in \mathbb{R}^V$ and target class $t$, the loss is $\ell = -\log \operatorname{softmax}(z)_t
# = -z_t + \log\sum_k e^{z_k}$. Its derivative is remarkably simple:
#
# $$\frac{\partial \ell}{\partial z_j} = -\delta_{jt} + \frac{e^{z_j}}{\sum_k e^{z_k}} = p_j - \delta_{jt},
#   \qquad p = \operatorname{softmax}(z).$$
#
# "Predicted distribution minus the one-hot target." For a batch of $N$ rows where $M$ targets are not
# `ignore_index` (padding, prompt tokens), $L = \frac1M\sum_n \ell_n$ and
#
# $$\boxed{\;\frac{\partial L}{\partial z_{n}} = \frac{p_n - \mathrm{onehot}(t_n)}{M}\;} \quad(\text{zero for ignored rows}).$$
#
# Every gradient row sums to zero (shifting all logits changes nothing). Check the formula, the gradcheck,
# and those two facts:

# %%
N, V = 5, 7
z = f64(N, V)
t = np.array([3, 0, -100, 6, 3])  # row 2 is ignored (ignore_index=-100), so M = 4
ops.cross_entropy(z, t).backward()
p = np.exp(z.data - z.data.max(1, keepdims=True))
p /= p.sum(1, keepdims=True)
keep = t != -100
expected = (p - np.eye(V)[np.where(keep, t, 0)]) * keep[:, None] / keep.sum()
print("dL/dz == (p - onehot)/M:", np.allclose(z.grad, expected))
print("row sums of dL/dz:", z.grad.sum(axis=1))
print("gradcheck cross_entropy:", gradcheck(lambda zz: ops.cross_entropy(zz, t), [f64(N, V)]))

# %% [markdown]
# Fusing also matters for *numerics*. Computing `log(softmax(z))` in two steps underflows: with logits
# $[0, 200]$ in float32, $\operatorname{softmax}(z)_0 = e^{-200} \approx 10^{-87}$ rounds to 0 and its log is
# $-\infty$. The fused op works with $z_t - \max z - \log\sum e^{z - \max z}$ and never forms the tiny number:

# %%
zbig = Tensor(np.array([[0.0, 200.0]], dtype=np.float32), requires_grad=True)
with np.errstate(divide="ignore"):
    two_step = -np.log(ops.softmax(zbig).data[0, 0])
print("two steps: -log(softmax(z))[0] =", two_step)
print("fused:     cross_entropy(z, 0) =", ops.cross_entropy(zbig, np.array([0])).item())

# %% [markdown]
# ### 8.3 Layer normalization
#
# Per row of $C$ numbers: $\mu = \frac1C\sum_i x_i$, $\sigma^2 = \frac1C\sum_i (x_i-\mu)^2$,
# $r = (\sigma^2 + \epsilon)^{-1/2}$, $\hat x_i = (x_i - \mu)\,r$, and $y_i = w_i \hat x_i + b_i$.
# The parameter gradients are the easy part: $\partial L/\partial w = \sum_{\text{rows}} g \odot \hat x$,
# $\partial L/\partial b = \sum_{\text{rows}} g$ (summed over rows, exactly as `unbroadcast` would).
#
# For $x$, let $\hat g = g \odot w$ be the gradient reaching $\hat x$. The subtlety: $\mu$ and $r$ depend on
# *every* $x_j$ of the row. Their derivatives:
#
# $$\frac{\partial \mu}{\partial x_j} = \frac1C, \qquad
#   \frac{\partial \sigma^2}{\partial x_j} = \frac2C (x_j - \mu) \;\;(\text{the } \mu \text{ term vanishes since } \textstyle\sum_i (x_i-\mu) = 0),
#   \qquad \frac{\partial r}{\partial x_j} = -\tfrac12 r^3 \frac{\partial \sigma^2}{\partial x_j} = -\frac{r^2 \hat x_j}{C}.$$
#
# So by the product rule
#
# $$\frac{\partial \hat x_i}{\partial x_j} = r\Big(\delta_{ij} - \frac1C\Big) + (x_i-\mu)\frac{\partial r}{\partial x_j}
#   = r\Big(\delta_{ij} - \frac1C - \frac{\hat x_i \hat x_j}{C}\Big),$$
#
# and contracting with $\hat g$:
#
# $$\boxed{\;\frac{\partial L}{\partial x} = r\Big(\hat g - \operatorname{mean}(\hat g) - \hat x \odot \operatorname{mean}(\hat g \odot \hat x)\Big)\;}$$
#
# Exercise **02.4** `layernorm_backward(x, w, dy, eps)` implements this (returning $\partial L/\partial x$,
# $\partial L/\partial w$, $\partial L/\partial b$). `course.check` runs yours on narrow rows far from zero —
# $x \approx 10^4 \pm 10^{-2}$, where computing $\sigma^2$ as $\overline{x^2} - \mu^2$ cancels catastrophically, even
# in float64 — against the engine's `LayerNorm`:

# %%
x_far = 1e4 + 1e-2 * rng.standard_normal((2, 3, 8))  # σ ≈ 0.01 on top of 10^4
w_ln, b_ln, g_ln = rng.standard_normal(8), rng.standard_normal(8), rng.standard_normal((2, 3, 8))
dx_ex, dw_ex, db_ex = course.check("layernorm_backward", x_far, w_ln, g_ln, eps=1e-5, rtol=1e-5, atol=1e-8)
tx, tw, tb = (Tensor(v, requires_grad=True) for v in (x_far, w_ln, b_ln))
ops.layernorm(tx, tw, tb, eps=1e-5).backward(g_ln)
print("exercise 02.4 == engine's layernorm backward (dx, dw, db):",
      [bool(np.allclose(e, t.grad, rtol=1e-5, atol=1e-8)) for e, t in zip((dx_ex, dw_ex, db_ex), (tx, tw, tb))])

# %% [markdown]
# Verify: gradcheck for all three inputs, and agreement with layer norm composed of primitive ops.
# The formula also predicts two facts we can test: $y$ does not change if we shift a row ($x + c$) or scale it
# ($\lambda x$, up to $\epsilon$), so the gradient must be orthogonal to both directions — each row of
# $\partial L/\partial x$ sums to 0, and has zero dot product with $\hat x$.

# %%
print("gradcheck layernorm (x, w, b):", gradcheck(lambda a, w, b: ops.layernorm(a, w, b), [f64(3, 4, 6), f64(6), f64(6)]))


def layernorm_composite(t, w, b, eps=1e-5):
    mu = t.mean(axis=-1, keepdims=True)
    xc = t - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    return xc / (var + eps).sqrt() * w + b


xl, wl, bl = f64(5, 8), f64(8), f64(8)
gl = rng.standard_normal((5, 8))
ops.layernorm(xl, wl, bl).backward(gl)
fused = [t.grad for t in (xl, wl, bl)]
for t in (xl, wl, bl):
    t.grad = None
layernorm_composite(xl, wl, bl).backward(gl)
print("fused == composite (dx, dw, db):", [bool(np.allclose(a, t.grad)) for a, t in zip(fused, (xl, wl, bl))])
# the invariances are exact for ε = 0 (with ε > 0 scaling leaves a tiny trace ∝ ε/σ²), so use a tiny ε here
xl.grad = None
ops.layernorm(xl, wl, bl, eps=1e-12).backward(gl)
xhat = (xl.data - xl.data.mean(-1, keepdims=True)) / xl.data.std(-1, keepdims=True)
print("row sums of dL/dx:", xl.grad.sum(-1))
print("rows of dL/dx · x̂:", (xl.grad * xhat).sum(-1))

# %% [markdown]
# ## 9. Putting it to work: a tiny network, trained
#
# Everything above is enough to train a model. Two interleaved half-moons in 2-D, two classes; a 2-layer MLP
# $\text{logits} = W_2 \tanh(W_1 x + b_1) + b_2$ built from `minigpt.nn.Linear`; the fused cross-entropy; and
# AdamW from `minigpt.optim`. The training loop is the same five lines the GPT will use.

# %%
def two_moons(n, noise, rng):
    """n points (n/2 per class) on two interleaved half circles, with Gaussian noise."""
    k = n // 2
    ang = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(ang[:k]), np.sin(ang[:k])], 1)
    lower = np.stack([1 - np.cos(ang[k:]), 0.5 - np.sin(ang[k:])], 1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    return (X - [0.5, 0.25]).astype(np.float32), np.repeat([0, 1], [k, n - k])


class MLP(nn.Module):
    def __init__(self, hidden, rng, dtype=np.float32):
        self.fc1 = nn.Linear(2, hidden, rng=rng, std=1.0, dtype=dtype)  # inputs are O(1): a wide first layer
        self.fc2 = nn.Linear(hidden, 2, rng=rng, std=hidden ** -0.5, dtype=dtype)

    def forward(self, x):  # (N, 2) -> (N, 2) logits
        return self.fc2(ops.tanh(self.fc1(x)))


X, Y = two_moons(300, 0.12, np.random.default_rng(1))
print("data:", X.shape, "labels:", np.bincount(Y))

# %% [markdown]
# Before training anything, gradcheck the *whole model*: a float64 copy of the MLP, the loss as a function of
# all its parameters at once (gradcheck perturbs the parameter tensors in place):

# %%
small = MLP(hidden=6, rng=np.random.default_rng(2), dtype=np.float64)
idx = np.arange(0, len(X), 30)  # 10 points from both classes
Xs = Tensor(X[idx].astype(np.float64))
print("parameters:", [(n, p.shape) for n, p in small.named_parameters()])
print("gradcheck of the loss w.r.t. every parameter:",
      gradcheck(lambda *params: ops.cross_entropy(small(Xs), Y[idx]), small.parameters()))

# %%
model = MLP(hidden=32, rng=np.random.default_rng(3))
opt = AdamW(model.parameters(), lr=0.02, weight_decay=0.0)
steps = 300 if MINIGPT_QUICK else 1500
Xt, losses = Tensor(X), []
for step in range(steps):
    loss = ops.cross_entropy(model(Xt), Y)  # forward
    opt.zero_grad()
    loss.backward()  # the whole of this notebook, in one call
    opt.step()
    losses.append(loss.item())
with no_grad():
    acc = (model(Xt).numpy().argmax(1) == Y).mean()
print(f"final loss {losses[-1]:.4f}, training accuracy {acc:.1%}")

# %%
gx, gy = np.meshgrid(np.linspace(-1.8, 2.2, 200), np.linspace(-1.3, 1.3, 150))
grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
with no_grad():
    prob1 = ops.softmax(model(Tensor(grid))).numpy()[:, 1].reshape(gx.shape)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.semilogy(losses)
ax1.set(xlabel="step", ylabel="cross-entropy", title="training loss (AdamW, full batch)")
ax2.contourf(gx, gy, prob1, levels=20, cmap="RdBu_r", alpha=0.6)
ax2.contour(gx, gy, prob1, levels=[0.5], colors="k")
ax2.scatter(X[:, 0], X[:, 1], c=Y, cmap="RdBu_r", edgecolors="k", s=12)
ax2.set(title=f"decision boundary (p=0.5), accuracy {acc:.0%}", aspect="equal")
plt.show()

# %% [markdown]
# ## Recap
#
# * A `Tensor` records the `Function` and inputs that made it; that record is the graph. `backward()` sorts it
#   topologically (iteratively, no recursion limit) and walks it in reverse, calling each `backward` once its
#   gradient is complete.
# * Each `backward` returns the vector–Jacobian product $J^\top g$, never the Jacobian itself.
# * A value used twice receives the **sum** of its gradients — including values reused by broadcasting, which
#   is what `unbroadcast` sums back to the input's shape. Leaves accumulate `.grad` across calls: reset it.
# * `gradcheck` compares with central differences in float64; in float32 rounding error swamps the test.
# * Fused ops: softmax $y \odot (g - \langle g,y\rangle)$; cross-entropy $(p - \mathrm{onehot})/M$; layer norm
#   $r(\hat g - \overline{\hat g} - \hat x\, \overline{\hat g \hat x})$. Fewer nodes, less memory, better numerics.
#
# ## Exercises
#
# Write these backward passes yourself in `exercises/ex02_autograd.py` (each docstring has the signature,
# the shapes and a worked example; the derivations are above), then check them with `minigpt grade` (or one at
# a time, e.g. `minigpt grade --only 02.1 --verbose`). Each runs above through `course.check`:
#
# * **Exercise 02.1** `mul_backward(a, b, grad)` — backward of `a * b` with broadcasting (section 6.1).
# * **Exercise 02.2** `matmul_backward(a, b, grad)` — backward of a batched `a @ b` with broadcast batch dims (section 6.2).
# * **Exercise 02.3** `softmax_backward(y, dy, axis)` — section 8.1.
# * **Exercise 02.4** `layernorm_backward(x, w, dy, eps)` — section 8.3.
#
# Next: `03_attention.ipynb` puts these pieces together into the attention layer at the heart of the GPT.
