# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/10_gpu_kernels.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/10_gpu_kernels.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 10 · GPU kernels: from the CUDA thread hierarchy to flash attention
#
# The engine of this course runs on NumPy; on a GPU it runs on CuPy, and the ops that matter most
# (softmax, layernorm, cross-entropy, GELU, AdamW, attention) have **hand-written CUDA kernels** in
# `minigpt/kernels/*.cu`. This notebook reads and runs them — without a GPU. A small emulator
# (`minigpt/kernels/shim/cuda_shim.h`) compiles the *same* `.cu` text with g++ and runs every CUDA
# thread as a CPU thread, so we can check each kernel against a NumPy reference anywhere.
#
# **Learning goals**
# 1. Name the levels of the CUDA thread hierarchy (grid → block → warp → thread) and compute a thread's global index.
# 2. Explain memory coalescing and count the memory sectors a warp touches.
# 3. Follow softmax from a naive kernel to a fused one (online max/sum, warp shuffles) and count its global memory traffic.
# 4. See why a missing `__syncthreads()` is a bug, and watch the emulator catch it.
# 5. Understand flash attention's tiling: an online softmax over key tiles gives exactly the naive result, with O(T) memory.
# 6. Place kernels on a roofline and tell memory-bound from compute-bound work.
#
# Everything below runs on the CPU. If a GPU with CuPy is present, the last section also shows real timings.

# %%
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import course
from minigpt.kernels import compile_report, emulate, launch, registry, runner, source

QUICK = os.environ.get("MINIGPT_QUICK") == "1"
HAVE_GPU = launch.is_available()
assert emulate.compiler() is not None, "this notebook runs the kernels on the CPU shim, which needs g++ (C++20)"
print(f"quick mode: {QUICK}   GPU with CuPy: {HAVE_GPU}   C++ compiler: {emulate.compiler()}")
print("kernels in the registry:", ", ".join(k.name for k in registry.KERNELS))

# %% [markdown]
# ## 1. The thread hierarchy
#
# A kernel launch `kernel<<<grid, block>>>(args)` starts `grid` **blocks** of `block` **threads** each.
# Every thread runs the same function and tells itself apart by built-in variables:
#
# | variable | meaning |
# | --- | --- |
# | `threadIdx.x` | my index inside my block, `0 … blockDim.x-1` |
# | `blockIdx.x` | my block's index in the grid, `0 … gridDim.x-1` |
# | `blockDim.x`, `gridDim.x` | the launch sizes |
#
# The hardware runs a block's threads in groups of 32 consecutive threads, a **warp**, which execute one
# instruction at a time together. Threads of a block can share fast on-chip **shared memory** and wait for each
# other at `__syncthreads()`; threads of different blocks cannot. The usual global index is
# `i = blockIdx.x * blockDim.x + threadIdx.x`.
#
# Below is a real CUDA kernel. The emulator compiles it with g++ and runs each of its threads as a `std::thread`.

# %%
WHO_AM_I = r'''
extern "C" __global__ void who_am_i(int* block, int* thread, int* warp, int* lane, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;   // my global index
    if (i >= n) return;                              // the last block may stick out past n
    block[i] = blockIdx.x;
    thread[i] = threadIdx.x;
    warp[i] = threadIdx.x / 32;
    lane[i] = threadIdx.x % 32;
}
'''
n, threads_per_block = 150, 64
grid = (n + threads_per_block - 1) // threads_per_block          # ceil(150 / 64) = 3 blocks
outs = [np.full(n, -1, dtype=np.int32) for _ in range(4)]
emulate.build(WHO_AM_I, label="who_am_i").launch("who_am_i", grid, threads_per_block, 0, *outs, n)
block_id, thread_id, warp_id, lane_id = outs
for i in (0, 31, 32, 63, 64, 149):
    print(f"element {i:3d}: block {block_id[i]}, thread {thread_id[i]:2d}, warp {warp_id[i]}, lane {lane_id[i]:2d}")

# %%
fig, ax = plt.subplots(figsize=(11, 2.4))
ax.imshow(np.stack([block_id, block_id * 2 + warp_id]), aspect="auto", cmap="tab10", interpolation="nearest")
ax.set_yticks([0, 1], ["block", "block · warp"])
ax.set_xlabel("element i = blockIdx.x * blockDim.x + threadIdx.x")
for b in range(grid):
    ax.text(b * threads_per_block + 2, 0, f"block {b}", va="center", color="white", fontsize=9)
ax.set_title(f"{n} elements, {grid} blocks of {threads_per_block} threads = 2 warps each (the last block is only partly used)")
plt.show()

# %% [markdown]
# ## 2. Memory coalescing
#
# Global memory is read in 32-byte **sectors** (8 floats). When the 32 threads of a warp load one float each,
# the memory system serves the *set of distinct sectors* they touch. If the 32 addresses are neighbours, that is
# 4 sectors (128 bytes) — **coalesced**. If each thread reads from a different row of a matrix, it is 32 sectors,
# and 7/8 of every sector fetched is wasted for this load.
#
# Two ways to walk a `(N, C)` matrix in a softmax kernel:
# * **thread per row** (`softmax_fwd_v1`): at step `j`, thread `t` reads `x[t*C + j]` — addresses `C` floats apart;
# * **warp per row** (`softmax_fwd_v2`): at step `j`, lane `l` reads `x[row*C + 32*j + l]` — 32 neighbours.

# %%
C = 1000            # row length (floats)
lanes = np.arange(32)
patterns = {"thread per row (v1), step j=0": lanes * C,             # float index each lane reads
            "warp per row (v2), step j=0": lanes}
fig, axes = plt.subplots(2, 1, figsize=(11, 4), sharex=True)
for ax, (title, idx) in zip(axes, patterns.items()):
    sectors = np.unique(idx * 4 // 32)                              # 4 bytes per float, 32-byte sectors
    for sec in sectors:                                             # the 32-byte sectors fetched
        ax.axvspan(sec * 8, sec * 8 + 8, color="C1", alpha=0.4, lw=0)
    ax.scatter(idx, lanes, s=10)
    ax.set_ylabel("lane")
    ax.set_title(f"{title}: {len(sectors)} sectors = {32 * len(sectors)} bytes moved for 128 useful", fontsize=10)
axes[-1].set_xlabel("float index in memory (orange: 32-byte sectors fetched)")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## 3. Softmax: naive → fused
#
# Each `.cu` file opens with its manual. Here is softmax's:

# %%
text = (source.KERNEL_DIR / "softmax.cu").read_text()
print(text[: text.index("#include")])

# %% [markdown]
# The trick in v2/v3 is the **online** max/sum. After seeing $x_1..x_n$ keep $m = \max x$ and
# $s = \sum e^{x - m}$. A new value $x$ updates them as
# $$m' = \max(m, x), \qquad s' = s\,e^{m - m'} + e^{x - m'},$$
# and two partial pairs $(m_a, s_a), (m_b, s_b)$ merge the same way. So one pass gives both the max and the sum,
# and the 32 lanes of a warp can each summarize their part of the row and then merge pairs with
# `__shfl_xor_sync` (registers to registers, no memory). A quick check of the identity on one long row:

# %%
rng = np.random.default_rng(0)
row = rng.standard_normal(1000) * 50
m, s = -np.inf, 0.0
for x in row:                                   # one pass, as one CUDA lane would do it
    m_new = max(m, x)
    s = s * math.exp(m - m_new) + math.exp(x - m_new)
    m = m_new
print("online  :", m, s)
print("two-pass:", row.max(), np.exp(row - row.max()).sum())

# %% [markdown]
# Now run all three forward versions and the backward **on the CPU emulator**, on ragged sizes
# (not multiples of the block size) and logits of ±10⁴, at several block sizes. `runner.check` compares every output with
# the float64 NumPy reference using `|out − ref| ≤ atol + rtol·|ref|`. Output buffers start as NaN, so an element no
# thread wrote would show up as a mismatch.

# %%
names = ["softmax_fwd_v1", "softmax_fwd_v2", "softmax_fwd_v3", "softmax_bwd"]
for name in names:
    k = registry.get(name)
    sizes_list = k.test_sizes[:2] if QUICK else k.test_sizes
    for sizes in sizes_list:
        for threads in k.threads_per_block:
            ok, msg = runner.check(k, sizes, threads)
            print(("OK  " if ok else "FAIL") + f" {name:15s} threads={threads:3d} sizes={sizes}")
            assert ok, msg

# %% [markdown]
# Exercise **10.1** is the simplest of these designs written by you: `softmax_rows_kernel` in
# `exercises/ex10_softmax.cu`, one block per row, each thread striding over the row, the block's maximum and then
# its sum combined in shared memory with `__syncthreads()` between the steps (sections 1–3); `softmax_rows` in
# `exercises/ex10_softmax.py` compiles it on the same CPU shim and launches it. `course.check` runs yours beside the
# reference kernel on a ragged row length (not a multiple of the 32 threads), rows shifted by up to $10^3$ (where
# `expf` alone overflows) and a single-element row; if they disagree it names the exercise, the input and the command
# that grades it, and the notebook goes on with the reference:

# %%
x_ex = rng.standard_normal((3, 77)).astype(np.float32) + np.array([[0.0], [1e3], [-1e3]], dtype=np.float32)
y_ex = course.check("softmax_rows", x_ex, block_size=32, rtol=1e-5, atol=1e-7)
y_np = np.exp(x_ex - x_ex.max(1, keepdims=True)); y_np /= y_np.sum(1, keepdims=True)
print("exercise 10.1 on rows shifted by 0, +1e3, -1e3: max |y - NumPy| =", np.abs(y_ex - y_np).max(),
      "| row sums", y_ex.sum(1))
print("a row of one element:", course.check("softmax_rows", np.array([[5.0]], dtype=np.float32), block_size=32))

# %% [markdown]
# ### Counting global memory traffic
#
# A softmax must read $x$ once and write $y$ once: 8 bytes per element. What do the versions actually move?
#
# * **NumPy-style chain** (`m = x.max(); t = x - m; e = exp(t); s = e.sum(); y = e / s`): every op is its own
#   kernel that reads its input from memory and writes its output back.
# * **v1**: reads the row three times (max, sum, write) and writes it once — but the reads are uncoalesced, so
#   in the worst case every float costs a 32-byte sector (caches soften this on a real GPU).
# * **v2 / v3**: one pass for the online max/sum, one pass to write: 2 reads + 1 write, coalesced.

# %%
traffic = {  # (reads, writes) of an (N, C) float32 array, per element
    "NumPy chain": (1 + 1 + 1 + 1 + 1, 1 + 1 + 1),   # max, sub, exp, sum, div reads; sub, exp, div writes
    "v1 (thread/row)": (3, 1),
    "v2/v3 (fused, online)": (2, 1),
    "minimum": (1, 1),
}
bytes_per_elem = {k: 4 * (r + w) for k, (r, w) in traffic.items()}
bytes_per_elem["v1, uncoalesced worst case"] = 32 * 3 + 4   # each read costs a whole 32-byte sector
fig, ax = plt.subplots(figsize=(8, 3))
ax.barh(list(bytes_per_elem), list(bytes_per_elem.values()), color=["grey", "C3", "C2", "C0", "C3"])
ax.set_xlabel("bytes of global memory traffic per element"); ax.invert_yaxis()
for y, v in enumerate(bytes_per_elem.values()):
    ax.text(v, y, f" {v}", va="center")
plt.show()
N, C = 8 * 1024, 50304   # e.g. GPT-2's vocabulary over 8 sequences of 1024 tokens
for k, v in bytes_per_elem.items():
    print(f"{k:28s} {v * N * C / 1e9:6.2f} GB  ->  {v * N * C / 3.35e12 * 1e3:6.2f} ms at ~3.35 TB/s")

# %% [markdown]
# ### Why `__syncthreads()` matters
#
# In `softmax_fwd_v3` each warp writes its (max, sum) pair to shared memory, then every warp reads all pairs.
# The barrier marked `(B1)` makes sure every pair is written before anyone reads. Delete it and a fast warp reads
# slots that a slow warp has not filled yet. The emulator can make this visible: in **chaos mode** it delays warps
# by random amounts and pauses threads after every barrier.

# %%
k = registry.get("softmax_fwd_v3")
good = (source.KERNEL_DIR / k.file).read_text()
line = next(l for l in good.splitlines() if "(B1)" in l)
print("removing:", line.strip())
racy = good.replace(line, line.replace("__syncthreads();", ";"))

problem = runner.make_problem(k, {"N": 4, "C": 300})
ref = k.reference(problem)["y"]
for label, text in (("with the barrier", good), ("without it", racy)):
    y = problem["y"].copy()
    emulate.launch("softmax_fwd_v3", 4, 128, 0, y, problem["x"], 4, 300, source=text, chaos_us=300, seed=1)
    ok, msg = runner.compare(y, ref, k.rtol, k.atol, "y")
    head, *mismatches = msg.splitlines()
    print(f"{label:17s}:", head.removesuffix("; first:"), f"(first: {mismatches[0].strip()})" if mismatches else "")

# %% [markdown]
# ## 4. Flash attention: tiles and an online softmax
#
# Naive attention builds the $T \times T$ score matrix $S = QK^\top/\sqrt{d}$ per head, applies the causal mask and
# the softmax, and multiplies by $V$. For $T = 1024$ and 48 heads that is 48·1024²·4 bytes ≈ 200 MB written and read
# back — per layer. **Flash attention** never stores $S$: a block of threads owns a tile of query rows, walks over
# **tiles of keys** staged in shared memory, and keeps for each query row a running max $m$, normaliser $\ell$ and
# unnormalised output $a$:
# $$m' = \max(m, \max_j S_{ij}), \quad \ell' = \ell\, e^{m - m'} + \sum_j e^{S_{ij} - m'}, \quad
# a' = a\, e^{m - m'} + \sum_j e^{S_{ij} - m'} v_j, \qquad o_i = a / \ell .$$
# With a causal mask, tiles above the diagonal are skipped entirely.

# %%
T, BR, BC = 64, 16, 16
state = np.zeros((T // BR, T // BC))
for qi in range(T // BR):
    for kj in range(T // BC):
        q_lo, q_hi, k_lo = qi * BR, (qi + 1) * BR - 1, kj * BC
        if k_lo > q_hi:
            state[qi, kj] = 0          # entirely masked: skipped
        elif k_lo + BC - 1 <= q_lo:
            state[qi, kj] = 2          # entirely visible
        else:
            state[qi, kj] = 1          # on the diagonal: partly masked
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.imshow(state, cmap="Blues", vmin=0, vmax=2.5)
ax.set_xlabel(f"key tile ({BC} keys)"); ax.set_ylabel(f"query tile ({BR} queries = one block)")
ax.set_title(f"T={T}: {int((state > 0).sum())} of {state.size} tiles computed")
plt.show()

# %% [markdown]
# The tiled update gives exactly the naive result. Here is one query row done both ways in NumPy:

# %%
rng = np.random.default_rng(1)
T, hs, i = 50, 8, 37                          # query row i sees keys 0..37
q, k, v = rng.standard_normal((3, T, hs))
s = k[: i + 1] @ q[i] / math.sqrt(hs)         # its visible scores
naive = np.exp(s - s.max()) / np.exp(s - s.max()).sum() @ v[: i + 1]

m, l, acc = -np.inf, 0.0, np.zeros(hs)
for j0 in range(0, i + 1, 16):                # key tiles of 16
    st = s[j0: j0 + 16]
    m_new = max(m, st.max())
    l = l * math.exp(m - m_new) + np.exp(st - m_new).sum()
    acc = acc * math.exp(m - m_new) + np.exp(st - m_new) @ v[j0: j0 + len(st)]
    m = m_new
print("max |tiled - naive| =", np.abs(acc / l - naive).max())

# %% [markdown]
# And the real kernels — forward, and the backward (which recomputes $P$ from the saved log-sum-exp instead of
# storing it) — against the naive NumPy reference, on the emulator:

# %%
for name in ("attention_fwd", "attention_bwd"):
    k = registry.get(name)
    for sizes in (k.test_sizes[:1] if QUICK else k.test_sizes):
        for threads in k.threads_per_block:
            ok, msg = runner.check(k, sizes, threads)
            print(("OK  " if ok else "FAIL") + f" {name:14s} threads={threads} sizes={sizes}")
            assert ok, msg
T, heads, hs = 1024, 48, 64
print(f"\nnaive scores: {heads * T * T * 4 / 1e6:.0f} MB per layer;  flash keeps per row only m, l (and lse): "
      f"{heads * T * 4 / 1e6:.2f} MB")

# %% [markdown]
# ## 5. What the compiler says: registers and spills
#
# Without a GPU we can still compile for one. NVRTC (the compiler CuPy uses) reports per kernel the registers per
# thread and any **spills** to slow local memory. An H100 SM has 65,536 registers and runs at most 2,048 threads
# and 32 blocks at once, so a kernel using $r$ registers with $b$ threads per block fits at most
# $\min(\lfloor 65536 / (r\,b) \rfloor, 2048/b, 32)$ blocks per SM (shared memory can lower that further).

# %%
if compile_report.nvrtc() is None:
    print("NVRTC is not installed (pip install nvidia-cuda-nvrtc); skipping")
else:
    files = ["softmax.cu"] if QUICK else ["softmax.cu", "attention.cu"]
    print(f"{'kernel':26s} {'regs':>5s} {'spill B':>8s} {'smem B':>7s}  blocks/SM at 64 threads")
    for f in files:
        ok, log = compile_report.compile_nvrtc((source.KERNEL_DIR / f).read_text(), "sm_90", name=f)
        for fn, fig in sorted(compile_report.parse_ptxas(log).items()):
            spill = fig["spill_stores"] + fig["spill_loads"]
            blocks = min(65536 // (fig["registers"] * 64), 2048 // 64, 32)
            print(f"{fn:26s} {fig['registers']:5d} {spill:8d} {fig['static_smem']:7d}  {blocks:3d}")

# %% [markdown]
# ## 6. The roofline
#
# A kernel doing $F$ flops while moving $B$ bytes has **arithmetic intensity** $I = F/B$. On a device with memory
# bandwidth $\beta$ and peak compute $\pi$, it can at best reach $\min(\pi, \beta I)$ flop/s. We use approximate H100
# SXM figures: $\beta \approx 3.35$ TB/s (HBM3) and $\pi \approx 67$ TFLOP/s FP32 without tensor cores, so the ridge is
# at $I \approx 20$ flop/byte. The kernels' bytes and (rough) flops come from the registry at their benchmark sizes.

# %%
BW, PEAK = 3.35e12, 67e12        # approximate H100 SXM: HBM3 bytes/s, FP32 non-tensor flop/s
I = np.logspace(-2, 3, 200)
fig, ax = plt.subplots(figsize=(8, 5))
ax.loglog(I, np.minimum(PEAK, BW * I) / 1e12, "k-", lw=2, label="roofline (approx. H100)")
markers = "osD^v<>p"


def intensity_of(name):
    nbytes, flops = registry.get(name).traffic(registry.get(name).bench_size)
    return flops / nbytes


for n, k in enumerate(registry.KERNELS):
    nbytes, flops = k.traffic(k.bench_size)
    intensity = flops / nbytes
    attainable = min(PEAK, BW * intensity)
    ax.plot(intensity, attainable / 1e12, markers[n % len(markers)], color=plt.cm.tab20(n), label=k.name)
# matmul_v1 as written: every output element reads a row of A and a column of B from global memory
s = registry.get("matmul_v1").bench_size
v1_bytes = 4 * (2 * s["M"] * s["N"] * s["K"] + s["M"] * s["N"])  # 2K loads per output + the write
v1_I = 2 * s["M"] * s["N"] * s["K"] / v1_bytes
ax.plot(v1_I, min(PEAK, BW * v1_I) / 1e12, "x", ms=10, mew=2, color="crimson", label="matmul_v1 as written")
print(f"matmul ideal traffic: I = {intensity_of('matmul_v1'):.0f} flop/byte; matmul_v1 as written: I = {v1_I:.2f}")
ax.axvline(PEAK / BW, ls=":", c="grey")
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
ax.set_xlabel("arithmetic intensity (flop / byte)"); ax.set_ylabel("attainable TFLOP/s")
ax.set_title("memory-bound (left of the ridge) vs compute-bound (right)")
plt.show()

# %% [markdown]
# Everything except matmul and attention sits far left: softmax, layernorm, GELU, AdamW and cross-entropy are
# **memory-bound**, so the only way to speed them up is to move fewer bytes (fusing, coalescing) — the flops are
# free. Matmul and attention (at their ideal, perfectly reused traffic) are compute-bound; `matmul_v1` and
# `matmul_v2` share that ideal point, since the registry counts the bytes that *must* move. As written, though,
# the naive `matmul_v1` reads a row of $A$ and a column of $B$ from global memory for every output (the red
# cross): its intensity drops to about a quarter of a flop per byte, deep in the memory-bound region. Tiling
# (`matmul_v2`) reuses each loaded tile across a block of outputs, which moves it back toward the ideal point.

# %% [markdown]
# ## 7. Real timings (only with a GPU)
#
# `benchmarks/kernels.py` validates each kernel first, then times it with CUDA events and reports GB/s against the
# device's peak (memory clock × bus width × 2). Without a GPU it validates on the emulator instead — emulator
# timings say nothing about GPU speed.

# %%
script = Path(minigpt.__file__).resolve().parents[1] / "benchmarks" / "kernels.py"
if HAVE_GPU and script.exists():
    out = subprocess.run([sys.executable, str(script), "--only", "softmax", "--repeats", "5" if QUICK else "20"],
                         capture_output=True, text=True)
    report = json.loads(out.stdout)
    print(report["device"])
    for r in report["results"]:
        for b in r.get("blocks", []):
            print(f"{r['kernel']:16s} block={b['block']:4d} {b['ms']:8.3f} ms {b['GBps']:8.1f} GB/s "
                  f"({b.get('frac_peak_bw', float('nan')):.0%} of peak)")
        if "torch" in r:
            print(f"{'  torch':16s} {'':10s} {r['torch']['ms']:8.3f} ms {r['torch']['GBps']:8.1f} GB/s")
else:
    print("no GPU here: see the benchmark's JSON on a GPU machine (python benchmarks/kernels.py)")

# %% [markdown]
# ## Recap
#
# * A launch is a **grid of blocks of threads**; 32 consecutive threads form a **warp**. Threads of a block share
#   shared memory and meet at `__syncthreads()`.
# * **Coalesced** access (neighbouring lanes, neighbouring addresses) moves 4 sectors per warp load instead of 32.
# * Softmax went from 3 uncoalesced passes (v1) to one online max/sum pass plus one write pass (v2/v3), merged with
#   **warp shuffles** — 12 bytes per element instead of 16 or more.
# * A missing barrier is a data race; the emulator's chaos mode turns it into a wrong answer.
# * **Flash attention** tiles the keys, keeps a running max/normaliser per query row, and never stores the
#   $T\times T$ matrix; the backward recomputes $P$ from the saved log-sum-exp.
# * The **roofline** says which kernels are memory-bound (most of them) and which compute-bound (matmul, attention).
#
# ## Exercises
#
# * **Exercise 10.1** (graded) `softmax_rows_kernel` in `exercises/ex10_softmax.cu`: a row softmax with one
#   block per row, strided coalesced loads and two shared-memory tree reductions separated by `__syncthreads()`
#   (sections 1–3). `exercises/ex10_softmax.py` runs it on this notebook's CPU shim; section 3 runs it through
#   `course.check`. Check it with `minigpt grade` (or alone: `minigpt grade --only 10.1 --verbose`).
#
# Further practice (ungraded; the registry-driven tests check anything you add to it):
#
# 1. **matmul v3**: let each thread of `matmul_v2` compute a 4×1 strip of $C$ (register tiling). Add it to
#    `matmul.cu` and to the registry; the tests then check it automatically.
# 2. **fast math**: replace `expf` by `__expf` in `softmax_fwd_v2` and measure the largest error against the reference.
# 3. **the second barrier**: remove the barrier marked `(B2)` in `matmul_v2` and find a chaos setting that exposes it.
# 4. **vectorized loads**: write a `gelu_fwd_v2` that reads and writes `float4` (4 floats per thread per step). What
#    must be true of `n` and of the pointers?
