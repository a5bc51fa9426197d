# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/03_attention.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/03_attention.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 03 · Attention: the one layer where tokens talk to each other
#
# In a GPT every layer but one works on each position separately. The exception is **self-attention**: it
# lets the token at position $t$ read from the tokens before it. This notebook builds it up from a soft
# dictionary lookup to the multi-head, causal, tiled and cached versions the course's GPT uses
# (`minigpt/ops/attention.py`), and measures what it costs.
#
# **Learning goals.** After this notebook you can
#
# 1. explain queries, keys and values as a differentiable dictionary lookup;
# 2. say why scores are divided by $\sqrt{d}$, and show what goes wrong without it;
# 3. build the causal mask and split a model's width into heads and back;
# 4. measure the $O(T^2)$ time and memory of attention in the context length $T$;
# 5. read sparse (local + strided) attention patterns and count what they save;
# 6. follow the online softmax that lets flash-style attention work tile by tile in $O(T)$ memory;
# 7. explain why a KV cache turns the cost of each generated token from $O(T^2)$ into $O(T)$.
#
# `MINIGPT_QUICK=1` (what CI uses) measures fewer and shorter contexts; the slopes stay the same.

# %%
import os

# Timings below measure work, not thread scheduling: pin the BLAS library to one thread. This must run before
# NumPy is imported (restart the kernel if you change it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import math
import tracemalloc

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import Tensor, course, gradcheck, nn, no_grad, ops
from minigpt.timing import best_time  # the best of a few calls, in seconds (others' noise only slows a call down)

MINIGPT_QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: smaller sweeps, same code
rng = np.random.default_rng(0)
np.set_printoptions(precision=3, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", MINIGPT_QUICK)


def peak_bytes(fn):
    """Peak memory allocated while fn() runs, above what was allocated before (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def slope(x, y):
    """Exponent p of a power law y ∝ x^p, fitted on log-log axes."""
    return np.polyfit(np.log(x), np.log(y), 1)[0]


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def t_axis(ax, Ts, label="context length T"):
    """Log-log axes with the measured powers of two as plain tick labels."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [t for t in Ts if t & (t - 1) == 0]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(label)

# %% [markdown]
# ## 1. Queries, keys, values: a soft dictionary lookup
#
# A Python dictionary maps a query to the value whose key *equals* it. Attention relaxes "equals" to "is
# similar to": every key $k_j$ gets a weight from its similarity with the query $q$, the weights are made
# positive and summing to one with a softmax, and the answer is the weighted average of the values:
#
# $$\operatorname{lookup}(q) = \sum_j \operatorname{softmax}_j(\beta\, q\cdot k_j)\; v_j .$$
#
# Because every step is differentiable, the model can *learn* what to ask for (queries), how to advertise
# each token (keys) and what to hand over (values). The sharpness $\beta$ decides how "hard" the lookup is:

# %%
angles = np.deg2rad([0, 60, 150, 250])
keys = np.stack([np.cos(angles), np.sin(angles)], 1)  # 4 keys, unit vectors in 2-D
values = np.array([10.0, 20.0, 30.0, 40.0])
query = np.array([np.cos(np.deg2rad(40)), np.sin(np.deg2rad(40))])  # closest to key 1 (60°), then key 0 (0°)
fig, axes = plt.subplots(1, 3, figsize=(11, 2.8), sharey=True)
for ax, beta in zip(axes, [1, 4, 32]):
    w = ops.softmax(Tensor(beta * keys @ query)).numpy()
    ax.bar(range(4), w, color="tab:blue")
    ax.set(title=f"β={beta}: answer {w @ values:.1f}", xticks=range(4),
           xticklabels=[f"key {j}\nv={v:.0f}" for j, v in enumerate(values)], ylim=(0, 1))
axes[0].set_ylabel("weight")
plt.suptitle("query at 40°, keys at 0°, 60°, 150°, 250°: sharper β → closer to a hard lookup of key 1", y=1.05)
plt.show()

# %% [markdown]
# In a transformer the queries, keys and values are three linear projections of the same token vectors
# (hence *self*-attention): $Q = XW_Q$, $K = XW_K$, $V = XW_V$, and all queries are answered at once:
#
# $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\Big(\frac{QK^\top}{\sqrt{d}}\Big)V$$
#
# with $Q, K \in \mathbb{R}^{T\times d}$, $V \in \mathbb{R}^{T \times d_v}$ — the *scaled dot-product
# attention* of "Attention Is All You Need" (Vaswani et al., 2017). The next section is about that $\sqrt{d}$.

# %% [markdown]
# ## 2. Why divide by $\sqrt{d}$
#
# If the entries of $q$ and $k$ are independent with mean 0 and variance 1, then $q\cdot k = \sum_{i=1}^d q_i k_i$
# is a sum of $d$ independent terms of variance 1, so $\operatorname{Var}(q \cdot k) = d$. Vaswani et al. (2017)
# point out exactly this: for large $d$ the dot products grow large, pushing the softmax "into regions where
# it has extremely small gradients", and they scale by $1/\sqrt{d}$ to bring the variance back to 1. Measure it:

# %%
ds = [4, 16, 64, 256, 1024]
n = 2000 if MINIGPT_QUICK else 20000
var_raw, var_scaled = [], []
for d in ds:
    q, k = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    dots = (q * k).sum(1)
    var_raw.append(dots.var())
    var_scaled.append((dots / math.sqrt(d)).var())
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.loglog(ds, var_raw, "o-", label="Var(q·k)")
ax.loglog(ds, var_scaled, "s-", label="Var(q·k / √d)")
ax.loglog(ds, ds, "k:", label="d")
ax.set(xlabel="head size d", ylabel="variance", title="dot products of random unit-variance vectors")
ax.legend()
plt.show()
print("d:          ", ds)
print("Var(q·k):   ", np.round(var_raw, 1))
print("Var(q·k/√d):", np.round(var_scaled, 2))

# %% [markdown]
# What large scores do to the softmax: with 64 keys and unscaled scores of standard deviation $\sqrt d$, one key
# takes almost all the weight (the largest probability → 1, the entropy → 0), and the softmax Jacobian
# $\operatorname{diag}(p) - pp^\top$ — the factor every gradient has to pass through — collapses towards zero.
# With the $\sqrt d$ scaling nothing depends on $d$:

# %%
S_keys, rows = 64, 200
stats = {"raw": [], "scaled": []}
for d in ds:
    q, k = rng.standard_normal((rows, d)), rng.standard_normal((S_keys, d))
    for kind, s in [("raw", q @ k.T), ("scaled", q @ k.T / math.sqrt(d))]:
        p = ops.softmax(Tensor(s)).numpy()  # (rows, 64)
        jac2 = ((p * (1 - p)) ** 2).sum(1) + ((p[:, :, None] * p[:, None, :]) ** 2).sum((1, 2)) - (p ** 4).sum(1)
        jac = np.sqrt(np.maximum(jac2, 0.0))  # ‖diag(p) - p pᵀ‖_F per row (clip rounding below 0)
        ent = -(p * np.log(np.maximum(p, 1e-30))).sum(1)
        stats[kind].append((p.max(1).mean(), ent.mean(), jac.mean()))
fig, axes = plt.subplots(1, 3, figsize=(13, 3.3))
for i, what in enumerate(["mean of the largest weight", "entropy (nats), uniform = log 64 = 4.16",
                          "‖softmax Jacobian‖ (gradient size)"]):
    for kind, mk in [("raw", "o-"), ("scaled", "s-")]:
        axes[i].semilogx(ds, [s[i] for s in stats[kind]], mk, label="q·k" if kind == "raw" else "q·k / √d")
    axes[i].set(xlabel="head size d", title=what)
axes[0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The causal mask
#
# A language model predicts token $t+1$ from tokens $\le t$, and it trains on all positions of a sequence at
# once. If position $t$ could attend to position $t+1$ it would simply read the answer. So scores for future
# keys are set to $-\infty$ before the softmax (their weight becomes exactly 0): query $i$ may see key $j$ only if
# $j \le i$. `minigpt.ops.causal_mask(T, S, xp)` builds the boolean pattern (it also handles fewer queries than
# keys, which we will need for the KV cache):

# %%
T, d = 8, 16
mask = ops.causal_mask(T, T, np)
q, k, v = randn(1, 1, T, d), randn(1, 1, T, d), randn(1, 1, T, d)
with no_grad():
    y = ops.attention(Tensor(q), Tensor(k), Tensor(v))
scores = (q @ k.swapaxes(-1, -2))[0, 0] / math.sqrt(d)  # (T, T)
P = np.exp(np.where(mask, scores, -np.inf) - scores.max(1, keepdims=True))  # the weights, recomputed by hand
P /= P.sum(1, keepdims=True)
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.5, 4))
a1.imshow(mask, cmap="Greys")
a1.set(title="causal_mask(8, 8): black = may attend", xlabel="key j", ylabel="query i")
im = a2.imshow(P, cmap="viridis")
a2.set(title="attention weights (rows sum to 1)", xlabel="key j", ylabel="query i")
plt.colorbar(im, ax=a2)
plt.show()
print("row sums:", P.sum(1), " weight above the diagonal:", P[~mask].sum())
print("ops.attention == softmax(masked scores) @ V:", np.allclose(y.numpy()[0, 0], P @ v[0, 0], atol=1e-6))

# %% [markdown]
# Scaled scores, the causal mask and a stable softmax, batched over heads: that is exercise **03.1**,
# `causal_self_attention(q, k, v)` in `exercises/ex03_attention.py`. `course.check` runs your version beside the
# reference on the same inputs; if they disagree it says on which input and how to grade it, and the notebook
# goes on with the reference:

# %%
y_ex = course.check("causal_self_attention", q, k, v, rtol=1e-4, atol=1e-5)  # (1, 1, T, d); float32 tolerances
print("exercise 03.1 (or the reference) == ops.attention:", np.allclose(y_ex, y.numpy(), atol=1e-5))

# %% [markdown]
# The property that matters, proved directly: change the *future* tokens, and no output at an earlier
# position moves.

# %%
q2, k2, v2 = q.copy(), k.copy(), v.copy()
for a in (q2, k2, v2):
    a[..., 5:, :] = randn(1, 1, T - 5, d)  # replace tokens 5, 6, 7
with no_grad():
    y2 = ops.attention(Tensor(q2), Tensor(k2), Tensor(v2)).numpy()
print("outputs 0..4 unchanged:", np.array_equal(y.numpy()[..., :5, :], y2[..., :5, :]),
      "| outputs 5..7 changed:", not np.allclose(y.numpy()[..., 5:, :], y2[..., 5:, :]))

# %% [markdown]
# ## 4. Multiple heads
#
# One softmax gives one weighted average per query: one "question" per token. Multi-head attention asks
# several at once. The model width $C$ is cut into $n_h$ heads of size $h_s = C / n_h$; each head attends on its
# own slice, and the head outputs are concatenated back to width $C$. The matmuls cost the same as for one
# head of width $C$; only the softmax runs $n_h$ times.
#
# First, what heads buy. Two hand-built heads on one sequence: head 0's queries look for the *previous*
# position, head 1's always look for the *first* one. Same tokens, two different lookups at once:

# %%
T = 10
eye = np.eye(T, dtype=np.float32)  # token t carries a one-hot "position" vector e_t
beta = 20.0 * math.sqrt(T)  # large, so each head's softmax is nearly hard (undoes attention's 1/√d)
q_prev = beta * np.roll(eye, -1, axis=1)  # query of token t = β e_{t-1}  (token 0 wraps to e_{T-1}: masked)
q_first = beta * np.tile(eye[:1], (T, 1))  # query of every token = β e_0
qh = np.stack([q_prev, q_first])[None]  # (B=1, nh=2, T, hs=T)
kh = np.stack([eye, eye])[None]  # keys: each token advertises its position
with no_grad():
    yh = ops.attention(Tensor(qh), Tensor(kh), Tensor(kh))  # values = positions: output = where it looked
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for h, title in enumerate(["head 0: previous token", "head 1: first token"]):
    axes[h].imshow(yh.numpy()[0, h], cmap="viridis")
    axes[h].set(title=title, xlabel="position attended to", ylabel="query position")
plt.show()

# %% [markdown]
# Now the shapes in a real layer. One linear map gives $Q, K, V$ together, shape `(B, T, 3C)`; split it; reshape
# each to `(B, T, nh, hs)` and move the head axis forward to `(B, nh, T, hs)`, so that one batched matmul does
# all heads; attend; then undo: `(B, nh, T, hs)` → `(B, T, nh, hs)` → `(B, T, C)`. The library's
# `ops.packed_attention` does the same in one fused op; the two must agree:

# %%
B, T, C, nh = 2, 6, 32, 4
hs = C // nh
xin = Tensor(randn(B, T, C))
qkv_layer = nn.Linear(C, 3 * C, rng=np.random.default_rng(1), std=C ** -0.5)
qkv = qkv_layer(xin)  # (B, T, 3C)
q, k, v = ops.split(qkv, 3, axis=-1)  # 3 × (B, T, C)
print("qkv", qkv.shape, "-> q", q.shape)
q, k, v = [t.reshape(B, T, nh, hs).permute(0, 2, 1, 3) for t in (q, k, v)]  # 3 × (B, nh, T, hs)
print("split into heads:", q.shape, "(B, nh, T, hs)")
yheads = ops.attention(q, k, v)  # (B, nh, T, hs)
ymerged = yheads.permute(0, 2, 1, 3).reshape(B, T, C)  # (B, T, C)
print("merged back:", ymerged.shape)
print("== ops.packed_attention:", np.allclose(ymerged.numpy(), ops.packed_attention(qkv, nh).numpy(), atol=1e-6))
one_head = ops.attention(q[:, 2:3], k[:, 2:3], v[:, 2:3]).numpy()  # head 2 on its own
print("head 2 alone == its slice of the batched result:", np.allclose(one_head[:, 0], yheads.numpy()[:, 2], atol=1e-6))

# %% [markdown]
# ## 5. The cost: $O(T^2)$ in the context length
#
# The score matrix $QK^\top$ has one entry per (query, key) pair: $T^2$ per head. Computing it takes
# $O(T^2 d)$ operations, and `ops.attention` stores it — that is how its backward gets $P$. So doubling the
# context should quadruple both time and memory. Measure the forward pass of one sequence with 4 heads of size
# 32 (memory is measured with `tracemalloc`, which sees NumPy's allocations):

# %%
H, d = 4, 32
Ts = [64, 128, 256, 512, 768, 1024] if MINIGPT_QUICK else [64, 128, 256, 512, 768, 1024, 1536, 2048, 4096]
times, mems = [], []
for T in Ts:
    q, k, v = (Tensor(randn(1, H, T, d)) for _ in range(3))
    with no_grad():
        run = lambda: ops.attention(q, k, v)  # noqa: E731
        times.append(best_time(run, repeat=3 if T <= 1024 else 2))
        mems.append(peak_bytes(run))
score_bytes = [4 * H * T * T for T in Ts]  # one float32 (T, T) matrix per head
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
a1.plot(Ts, 1e3 * np.array(times), "o-", label=f"measured (fitted slope {slope(Ts, times):.2f})")
a1.plot(Ts, 1e3 * times[-1] * (np.array(Ts) / Ts[-1]) ** 2, "k:", label="∝ T²")
a1.set(ylabel="ms", title="attention forward time")
a2.plot(Ts, np.array(mems) / 2 ** 20, "o-", label=f"measured peak (slope {slope(Ts, mems):.2f})")
a2.plot(Ts, np.array(score_bytes) / 2 ** 20, "k:", label="one float32 T×T score matrix per head")
a2.set(ylabel="MiB", title="attention forward peak memory")
t_axis(a1, Ts)
t_axis(a2, Ts)
a1.legend()
a2.legend()
plt.show()

# %% [markdown]
# Memory has slope 2 exactly: $O(T^2)$ (about twice the score matrices, because the masked copy and the
# original briefly coexist). Time is $O(T^2)$ too — the fitted slope over the whole range is close to 2 — with
# wrinkles that real hardware adds: at small $T$ fixed per-call costs flatten the curve, and somewhere around
# $T = 256 \ldots 768$ it steepens when the score matrices (4 heads × $T^2$ × 4 bytes = 1 → 9 MiB) outgrow the
# CPU's caches and every pass over them has to go to slower memory. Timings on a shared machine are noisy too:
# rerun the cell and the fitted slope moves by a few tenths around 2. What stays within a small factor is the cost
# *per score*, while the number of scores grows by orders of magnitude:

# %%
for T, t, m, sb in zip(Ts, times, mems, score_bytes):
    print(f"T={T:5d}: {1e3 * t:8.2f} ms = {1e9 * t / (H * T * T):5.1f} ns per score; "
          f"peak {m / 2 ** 20:8.2f} MiB = {m / sb:.2f} × the score matrices")

# %% [markdown]
# The quadratic term is why context windows are a headline number: GPT-3's 2048 tokens mean about 4 million
# scores per head and layer, and going to 32k tokens multiplies that by 256. The rest of this notebook is about
# three ways around it: compute fewer scores (sparse patterns), never store them all (tiling), and never
# recompute them (KV cache).

# %% [markdown]
# ## 6. Sparse attention: local + strided
#
# The Sparse Transformer (Child et al., 2019) lets each query see only two kinds of keys: the last `local`
# positions, and "summary" positions every `stride` tokens. With `local = stride ≈ √T`, each query sees about
# $2\sqrt T$ keys instead of up to $T$: $O(T\sqrt T)$ scores in all. `minigpt.ops.local_strided_mask` builds the
# causal pattern:

# %%
T, L = 36, 6
local_part = ops.local_strided_mask(T, local=L, stride=T + 1)  # stride T+1: no summary column exists
strided_part = ops.local_strided_mask(T, local=1, stride=L) & ~np.eye(T, dtype=bool)  # summaries only
sparse = ops.local_strided_mask(T, local=L, stride=L)
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
for ax, m, title in zip(axes, [ops.causal_mask(T, T, np), local_part, strided_part, sparse],
                        ["dense causal", f"local: i - j < {L}", f"strided: (j+1) % {L} == 0", "local + strided"]):
    ax.imshow(m, cmap="Greys")
    ax.set(title=f"{title}\n{int(m.sum())} scores", xticks=[], yticks=[])
plt.show()

# %% [markdown]
# Does a query lose access to distant tokens? No, it takes **two hops** (two layers): from any key $j$, the
# next summary column $k \ge j$ is within `local` of it, so $k$ reads $j$ locally, and any later query reads
# $k$ through the stride. In matrix terms: $j$ reaches $i$ in two steps when $(M M)_{ij} > 0$, and that covers
# the whole causal triangle:

# %%
M = sparse.astype(np.int64)
print("one hop covers the causal triangle: ", np.array_equal(M > 0, ops.causal_mask(T, T, np)), " (it is sparse)")
print("two hops cover the causal triangle: ", np.array_equal(M @ M > 0, ops.causal_mask(T, T, np)))

# %% [markdown]
# Count the scores as the context grows (with `local = stride = ⌈√T⌉`):

# %%
Tc = [64, 128, 256, 512, 1024, 2048] if MINIGPT_QUICK else [64, 128, 256, 512, 1024, 2048, 4096, 8192]
dense_n = [T * (T + 1) // 2 for T in Tc]
sparse_n = [int(ops.local_strided_mask(T, math.ceil(math.sqrt(T)), math.ceil(math.sqrt(T))).sum()) for T in Tc]
fig, ax = plt.subplots(figsize=(5.5, 3.6))
ax.plot(Tc, dense_n, "o-", label=f"dense causal (slope {slope(Tc, dense_n):.2f})")
ax.plot(Tc, sparse_n, "s-", label=f"local + strided (slope {slope(Tc, sparse_n):.2f})")
ax.set(ylabel="scores computed", title="nonzeros of the attention mask")
t_axis(ax, Tc)
ax.legend()
plt.show()
print("saving at the longest T:", f"{dense_n[-1] / sparse_n[-1]:.0f}x fewer scores")

# %% [markdown]
# `ops.attention` accepts any boolean mask, so we can run sparse attention and check it ignores the masked
# keys. It still computes the dense $T\times T$ matrix, though: the savings need a kernel that *skips* the
# masked blocks — the Sparse Transformer wrote GPU kernels for exactly that.

# %%
T = 36
q, k, v = (Tensor(randn(1, 1, T, 8)) for _ in range(3))
with no_grad():
    ys = ops.attention(q, k, v, mask=sparse).numpy()
    k2, v2 = k.numpy().copy(), v.numpy().copy()
    hidden = ~sparse[T - 1]  # keys the last query may not see
    k2[..., hidden, :], v2[..., hidden, :] = randn(int(hidden.sum()), 8), randn(int(hidden.sum()), 8)
    ys2 = ops.attention(q, Tensor(k2), Tensor(v2), mask=sparse).numpy()
print(f"last query sees {int(sparse[T - 1].sum())} of {T} keys; changing the other {int(hidden.sum())} "
      f"leaves its output unchanged: {np.allclose(ys[..., -1, :], ys2[..., -1, :])}")

# %% [markdown]
# ## 7. Flash-style tiling: never store the $T \times T$ matrix
#
# Dense attention keeps the whole score matrix only because the softmax needs each row's maximum and sum
# before it can weight any value. The **online softmax** removes that need: walk over the keys in blocks and
# keep three running quantities per query — the maximum $m$ so far, the sum $\ell = \sum e^{s_j - m}$ so far, and
# the unnormalised output $a = \sum_j e^{s_j - m} v_j$. When a new block raises the maximum from $m$ to $m'$, all
# old terms are rescaled by $e^{m - m'}$:
#
# $$m' = \max(m, \max_{j \in \text{block}} s_j), \quad
#   \ell' = e^{m - m'}\ell + \sum_{j\in\text{block}} e^{s_j - m'}, \quad
#   a' = e^{m - m'}a + \sum_{j\in\text{block}} e^{s_j - m'}\,v_j,$$
#
# and at the end the output is $a / \ell$. FlashAttention (Dao et al., 2022) uses this to keep each tile in
# the GPU's fast on-chip memory and never write the $T\times T$ matrix to slow memory. Step by step, on one
# query's row of 12 scores, in blocks of 4:

# %%
s_row = np.array([0.3, -1.2, 2.0, 0.5, 3.1, -0.4, 1.0, 0.2, -2.0, 1.0, 0.1, 0.7])
v_row = rng.standard_normal((12, 2))
m, l, acc = -np.inf, 0.0, np.zeros(2)
print(" block | block max | running m | rescale e^(m-m') | running ℓ | a / ℓ (output so far)")
for j0 in range(0, 12, 4):
    s_blk, v_blk = s_row[j0:j0 + 4], v_row[j0:j0 + 4]
    m_new = max(m, s_blk.max())
    corr = np.exp(m - m_new)  # rescales the old terms; exp(-inf) = 0 on the first block
    e = np.exp(s_blk - m_new)
    l = corr * l + e.sum()
    acc = corr * acc + e @ v_blk
    m = m_new
    print(f" {j0:2d}-{j0 + 3:2d} | {s_blk.max():9.2f} | {m:9.2f} | {corr:16.4f} | {l:9.4f} | {acc / l}")
p_full = np.exp(s_row - s_row.max())
p_full /= p_full.sum()
print("full softmax(s) @ v:", p_full @ v_row, " matches:", np.allclose(acc / l, p_full @ v_row))

# %% [markdown]
# The running pair $(m, \ell)$ is the heart of it, and it works for any scores, not only attention's: two parts
# of a row, each summarised by its own maximum and sum, merge into the pair of their union by rescaling each sum
# to the common maximum. Exercise **03.2**, `online_softmax(x, block)` in `exercises/ex03_attention.py`, computes
# $(m, \ell)$ for every row of a score matrix, merging block after block; then each row's softmax is
# $e^{x - m}/\ell$ without a second look at the maxima. Masked scores are $-\infty$. With left padding (a batch
# of prompts of different lengths) a row's whole first block can be masked, and a row masked everywhere must
# come out as $(-\infty, 0)$, not NaN. Rows at very different scales and offsets, two of them left-padded, in
# blocks of 4, against the dense softmax:

# %%
S = rng.standard_normal((6, 12)) * np.array([[0.1], [1], [10], [100], [1], [1]]) + np.array([[0], [0], [0], [0], [-1e3], [1e3]])
S[[1, 4], :5] = -np.inf  # left padding: rows 1 and 4 mask their first 5 keys
m_ex, l_ex = course.check("online_softmax", S, 4)
P_online = np.exp(S - m_ex[:, None]) / l_ex[:, None]
P_dense = np.exp(S - S.max(1, keepdims=True))
P_dense /= P_dense.sum(1, keepdims=True)
print("row maxima:", m_ex, "\nmax |online − dense| over all weights:", np.abs(P_online - P_dense).max())

# %% [markdown]
# `ops.flash_attention` (`minigpt/ops/attention.py`) runs this merge on tiles of `tile` queries × `tile` keys.
# In outline, for each tile of queries:
#
# ```
# running max m = −∞, running sum ℓ = 0, running output acc = 0      (one of each per query row)
# for each tile of keys and values up to the diagonal (tiles entirely in the future are skipped):
#     scores of the query tile against the key tile, scaled; masked only if the tile crosses the diagonal
#     merge the tile into (m, ℓ) as exercise 03.2 does, and rescale acc by the same factor as ℓ
#     before adding the tile's probability-weighted values
# output rows = acc / ℓ;  keep the log-sum-exp m + log ℓ of every row
# ```
#
# The saved log-sum-exp lets the backward *recompute* each tile's probabilities instead of storing them.

# %% [markdown]
# Same numbers as dense attention — forward and backward, with a length that is not a multiple of the tile —
# and a gradcheck on a tiny float64 case:

# %%
T = 100
qa, ka, va = (randn(2, 3, T, 16) for _ in range(3))
grads = {}
for name, fn in [("dense", lambda q, k, v: ops.attention(q, k, v)),
                 ("flash", lambda q, k, v: ops.flash_attention(q, k, v, tile=32))]:
    q, k, v = (Tensor(a.copy(), requires_grad=True) for a in (qa, ka, va))
    out = fn(q, k, v)
    out.backward(np.ones_like(qa))
    grads[name] = [out.numpy()] + [t.grad for t in (q, k, v)]
for label, a, b in zip(["output", "dq", "dk", "dv"], grads["dense"], grads["flash"]):
    print(f"{label:6s}: max |dense - flash| = {np.abs(a - b).max():.1e}")
tiny = [Tensor(rng.standard_normal((1, 2, 7, 4)), requires_grad=True) for _ in range(3)]
print("gradcheck flash_attention (T=7, tile=3):", gradcheck(lambda q, k, v: ops.flash_attention(q, k, v, tile=3), tiny))

# %% [markdown]
# **Memory, analytically.** Per head, dense attention's largest temporary is the score matrix, $T \times T$
# floats. Flash attention's largest temporaries are a few tiles of scores, `tile × tile` each, plus the
# running $m, \ell$ of one tile of queries, the saved log-sum-exp ($T$ numbers) and the output $T \times d$
# that every version must return anyway. So the *extra*
# memory is $O(T d + \text{tile}^2)$ — linear in $T$ — instead of $O(T^2)$. Measure both (flash with
# `tile = 64`) against those formulas:

# %%
tile = 64
Tm = [256, 512, 1024, 2048] if MINIGPT_QUICK else [256, 512, 1024, 2048, 4096]
rows = []
for T in Tm:
    q, k, v = (Tensor(randn(1, H, T, d)) for _ in range(3))
    with no_grad():
        rows.append((T, peak_bytes(lambda: ops.attention(q, k, v)),
                     peak_bytes(lambda: ops.flash_attention(q, k, v, tile=tile)),
                     best_time(lambda: ops.attention(q, k, v), 2),
                     best_time(lambda: ops.flash_attention(q, k, v, tile=tile), 2)))
Tm_, dense_mem, flash_mem, dense_t, flash_t = map(np.array, zip(*rows))
out_bytes = 4 * H * Tm_ * (d + 1)  # the output (T, d) and log-sum-exp (T,) per head
tile_bytes = 4 * H * tile * tile  # one (tile, tile) tile of scores per head
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
a1.plot(Tm_, dense_mem / 2 ** 20, "o-", label=f"attention (slope {slope(Tm_, dense_mem):.2f})")
a1.plot(Tm_, flash_mem / 2 ** 20, "s-", label=f"flash_attention (slope {slope(Tm_, flash_mem):.2f})")
a1.plot(Tm_, 4 * H * Tm_ ** 2 / 2 ** 20, "k:", label="T×T scores per head")
a1.plot(Tm_, (out_bytes + tile_bytes) / 2 ** 20, "k--", label="output + one tile per head")
a1.set(ylabel="MiB", title="forward peak memory")
a1.legend(fontsize=8)
a2.plot(Tm_, 1e3 * dense_t, "o-", label="attention")
a2.plot(Tm_, 1e3 * flash_t, "s-", label=f"flash_attention (tile {tile})")
a2.set(ylabel="ms", title="forward time on this CPU")
t_axis(a1, list(Tm))
t_axis(a2, list(Tm))
a2.legend(fontsize=8)
plt.show()
for T, dm, fm, ob in zip(Tm_, dense_mem, flash_mem, out_bytes + tile_bytes):
    print(f"T={T:5d}: dense {dm / 2 ** 20:7.2f} MiB, flash {fm / 2 ** 20:5.2f} MiB "
          f"(output + one tile: {ob / 2 ** 20:5.2f} MiB)")

# %% [markdown]
# Flash attention still does $O(T^2 d)$ arithmetic — tiling changes *where* the numbers live, not how many
# there are. On a GPU that is the whole game: the tiles stay in on-chip SRAM and the $T\times T$ matrix never
# travels to and from HBM, which is where FlashAttention's speedups come from (Dao et al., 2022). Our NumPy
# version pays a Python loop per tile, yet at long contexts it can keep up with or beat the dense one on a CPU,
# for a similar reason: its tiles fit in cache. Notebook 10 writes the CUDA kernel.

# %% [markdown]
# ## 8. The KV cache: one new token costs $O(T)$, not $O(T^2)$
#
# When a GPT generates text it appends one token at a time. Without a cache, each new token reruns attention
# over the whole sequence — $O(T^2)$ scores to get one new row. But with the causal mask, the keys and values
# of earlier tokens never change when a token is appended. So keep them: the **KV cache** stores $K$ and $V$ of
# every past token, and a new token only computes its own $q, k, v$, appends $k, v$, and attends with one
# query over $T$ cached keys: $O(T\,d)$ work.
#
# First, correctness: generating token by token with a cache reproduces each row of full causal attention.
# (`ops.attention` accepts fewer queries than keys: the queries are the *last* positions.)

# %%
B, T, C = 1, 24, 16
wq, wk, wv = (nn.Linear(C, C, rng=np.random.default_rng(i), std=C ** -0.5) for i in range(3))
xs = Tensor(randn(B, T, C))
with no_grad():
    heads = lambda t: t.reshape(B, -1, 1, C).permute(0, 2, 1, 3)  # (B, T', C) -> (B, nh=1, T', C)  # noqa: E731
    full = ops.attention(heads(wq(xs)), heads(wk(xs)), heads(wv(xs))).numpy()  # (B, 1, T, C)
    K_cache = np.zeros((B, 1, T, C), np.float32)  # preallocated: one slot per position
    V_cache = np.zeros((B, 1, T, C), np.float32)
    worst = 0.0
    for t in range(T):  # the generation loop: token t arrives alone
        x_t = xs[:, t:t + 1]  # (B, 1, C)
        K_cache[:, :, t:t + 1] = heads(wk(x_t)).numpy()
        V_cache[:, :, t:t + 1] = heads(wv(x_t)).numpy()
        y_t = ops.attention(heads(wq(x_t)), Tensor(K_cache[:, :, :t + 1]), Tensor(V_cache[:, :, :t + 1]))
        worst = max(worst, float(np.abs(y_t.numpy()[:, :, 0] - full[:, :, t]).max()))
print(f"cached step t == row t of full attention for every t: max difference {worst:.1e}")

# %% [markdown]
# Now the cost of producing *one more token* when $T$ tokens are already there: with the cache, one query
# against $T$ keys; without it, the full $T\times T$ attention again.

# %%
Tk = [256, 512, 1024, 2048] if MINIGPT_QUICK else [256, 512, 1024, 2048, 4096]  # full recompute: T×T
Tk_cached = Tk + ([4096, 8192, 16384, 32768] if MINIGPT_QUICK else [8192, 16384, 32768, 65536])  # 1×T: cheap
t_cached, t_full = [], []
for T in Tk_cached:
    K, V, q_new = Tensor(randn(1, H, T, d)), Tensor(randn(1, H, T, d)), Tensor(randn(1, H, 1, d))
    with no_grad():
        t_cached.append(best_time(lambda: ops.attention(q_new, K, V), repeat=5))
        if T in Tk:
            q_all = Tensor(randn(1, H, T, d))
            t_full.append(best_time(lambda: ops.attention(q_all, K, V), repeat=3 if T <= 1024 else 2))
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(Tk, 1e3 * np.array(t_full), "o-", label=f"no cache: recompute T×T (fitted slope {slope(Tk, t_full):.2f})")
ax.plot(Tk_cached, 1e3 * np.array(t_cached), "s-", label=f"KV cache: 1×T (fitted slope {slope(Tk_cached, t_cached):.2f})")
ax.set(ylabel="ms for one new token", title="attention cost per generated token")
t_axis(ax, Tk_cached, label="tokens already in the context (T)")
ax.legend(fontsize=8)
plt.show()
i = len(Tk) - 1
print(f"at T={Tk[i]}: the cache makes the next token's attention {t_full[i] / t_cached[i]:.0f}x cheaper")

# %% [markdown]
# Without the cache the cost per token grows with slope ≈ 2; with it, slope ≈ 1 (a little less at short
# contexts, where the fixed cost of a call, tens of microseconds, dominates; a little more where $K$ and $V$
# outgrow the caches). The attention work for generating $N$ tokens thus totals $O(N^2)$ with a cache
# instead of $O(N^3)$. The price is memory: 2 (K and V) × layers × $T$ × $C$ numbers per sequence. For
# GPT-2 small (12 layers, $C = 768$) at its full 1024-token context in 16-bit floats:

# %%
n_layer, C_gpt2, T_gpt2, bytes_per = 12, 768, 1024, 2
print(f"KV cache: 2 × {n_layer} × {T_gpt2} × {C_gpt2} × {bytes_per} B = "
      f"{2 * n_layer * T_gpt2 * C_gpt2 * bytes_per / 2 ** 20:.0f} MiB per sequence")

# %% [markdown]
# The course's GPT (`minigpt/nn/gpt.py`, notebook 04) keeps such a cache per layer, and `minigpt.generate`
# uses it when sampling (notebook 05).
#
# Sampling many prompts at once (RLHF samples thousands) needs one more idea. A batch steps through its
# columns together, but prompts have different lengths. `sample_batch` **left-pads** them so that they all
# end in the same column; each row counts its positions from its own first token, and a mask keeps every
# query off the pad columns (`cache["pad"]` in `GPT.hidden`). A pad column's own query is allowed to see
# itself, so no softmax row is all $-\infty$, and nothing real ever looks at it.
#
# ## Recap
#
# * Attention is a soft dictionary lookup: $\operatorname{softmax}(QK^\top/\sqrt d)\,V$, every step differentiable.
# * $\operatorname{Var}(q\cdot k) = d$ for unit-variance entries; dividing by $\sqrt d$ keeps the softmax out of
#   its saturated, zero-gradient regime (Vaswani et al., 2017).
# * The causal mask (scores $\to -\infty$ above the diagonal) stops positions from reading the future; we
#   checked that changing future tokens leaves earlier outputs untouched.
# * Heads: `(B, T, C)` → `(B, nh, T, hs)`, attend in one batched matmul, merge back; several lookups for the
#   price of one.
# * Dense attention costs $O(T^2)$ time and memory — measured slope ≈ 2.
# * Local + strided sparse masks (Child et al., 2019) keep $O(T\sqrt T)$ scores and still connect every pair in
#   two hops.
# * The online softmax lets flash-style attention process key tiles one by one, with $O(T)$ extra memory and
#   identical results (Dao et al., 2022).
# * A KV cache makes each generated token cost $O(T)$ instead of $O(T^2)$, for $2 \cdot n_{\text{layer}} \cdot T
#   \cdot C$ numbers of memory.
#
# ## Exercises
#
# * **Exercise 03.1** `causal_self_attention(q, k, v)` in `exercises/ex03_attention.py`: causal scaled
#   dot-product attention, forward, for `(B, nh, T, hs)` inputs, with batched matmuls and a stable softmax
#   (sections 2–4). Check it with `minigpt grade` (or alone:
#   `MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_03_1_attention`).
# * **Exercise 03.2** `online_softmax(x, block)` in `exercises/ex03_attention.py`: each row's maximum and sum
#   of exponentials in one pass over blocks of columns, merging running pairs, masked rows included (section 7).
#   Check it with `minigpt grade --only 03.2`.
#
# Next: `04_gpt.ipynb` stacks attention, MLPs and layer norms into the full GPT.
