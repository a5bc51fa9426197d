# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/12_data_parallel.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/12_data_parallel.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 12 · Data parallelism: N processes, one model, the same result
#
# Until now one process did all the work of a training step. When a model stops fitting the time we have, the
# field's first answer is **data parallelism**: start N copies of the program (*ranks*), give each a slice of
# the batch, and let them agree on one gradient before every optimizer step. The copies talk through an existing
# collective-communication library — **MPI** between CPU processes, **NCCL** between GPUs — the way llm.c and
# PyTorch's DDP do. Our engine's layer for it is `minigpt/dist.py` (about 250 lines); this notebook takes it apart.
#
# **Learning goals.** After this notebook you can
#
# 1. say why averaging the gradients of N slices gives *exactly* the gradient of the whole batch, and check it;
# 2. draw the ring all-reduce and derive its traffic, $2\frac{N-1}{N}S$ bytes sent per rank for $S$ bytes of gradient;
# 3. launch a training run with `mpiexec -n 2` and show that it ends with the same weights as one process;
# 4. explain why gradients travel in a few flat **buckets** rather than one message per tensor;
# 5. do ZeRO-1's memory arithmetic ($16\Psi \to 8\Psi + 8\Psi/N$ bytes) and see it measured;
# 6. measure communication against computation on this machine, and say what changes on GPUs;
# 7. say how PPO and GRPO split their rollouts across ranks and still compute what one process does.
#
# **Run time.** `MINIGPT_QUICK=1` (CI): under 2 minutes on 2 CPU cores. The default measures longer. Sections 3–6
# launch `mpiexec` in a subprocess and read back what the ranks wrote; without an MPI launcher
# (`pip install -e '.[dist]'` installs MPICH and mpi4py) they print how to get one and skip.

# %%
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import dist
from minigpt.data.tokens import get_batch
from minigpt.nn.gpt import GPT, GPTConfig

MINIGPT_QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: fewer timed steps, same code
ROOT = Path(minigpt.__file__).resolve().parents[1]  # the repository (benchmarks/ lives there)
MPIEXEC = shutil.which("mpiexec")
WORK = Path(tempfile.mkdtemp(prefix="dp12-"))  # where the ranks write what we read back
np.set_printoptions(precision=4, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", MINIGPT_QUICK)
print("MPI launcher:", MPIEXEC or "none — pip install -e '.[dist]' (sections 3-6 will skip)")


def mpirun(n, *args, timeout=300):
    """Run `mpiexec -n n <args>` with one BLAS thread per rank; returns its stdout (raises on failure)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([MPIEXEC, "-n", str(n), *map(str, args)], capture_output=True, text=True, env=env,
                         timeout=timeout, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"mpiexec failed ({res.returncode}):\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return res.stdout

# %% [markdown]
# ## 1. Why data parallelism, and why it changes nothing
#
# A training step's time is almost all forward and backward, and those are proportional to the number of tokens
# in the batch. The **global batch** of a step is `batch_size × grad_accum` sequences: `grad_accum` micro-batches
# whose gradients are added before the update. Nothing forces one process to compute all of them. With N ranks,
#
# * rank $r$ computes micro-batches $r, r+N, r+2N, \dots$ (`dist.my_micro_batches`),
# * the ranks **sum** their gradients (an *all-reduce*), so every rank holds the gradient of the whole batch,
# * every rank applies the same AdamW update to the same weights — they stay identical without ever sending weights.
#
# Why is that the same as one process? The loss of the step is a mean over micro-batches,
# $L = \frac{1}{M}\sum_{m=1}^{M} L_m$, and the gradient is linear: $\nabla L = \sum_m \frac{1}{M}\nabla L_m$. How the
# terms of a sum are split among processes does not change the sum — only the order of the float additions, so the
# results agree to rounding (~$10^{-7}$ relative in float32), not bit for bit.
#
# Let's check it on a small GPT in this process: the gradient of 4 micro-batches computed in one go, against two
# "ranks" that each compute two of them and then add.

# %%
cfg = GPTConfig(vocab_size=32, block_size=16, n_layer=2, n_head=2, n_embd=32)
tokens = np.random.default_rng(0).integers(0, 32, size=5000)
M = 4  # micro-batches in the global batch
batches = [get_batch(tokens, 3, 16, np.random.default_rng([0, 0, m])) for m in range(M)]


def grads_of(micro_ids):
    """Σ over the given micro-batches of ∇(L_m / M), for a fresh copy of the same model."""
    model = GPT(cfg, seed=0)
    for m in micro_ids:
        x, y = batches[m]
        (model(x, y)[1] * (1.0 / M)).backward()
    return [p.grad.copy() for p in model.parameters()]


whole = grads_of(range(M))                      # one process, the whole batch
rank0, rank1 = grads_of([0, 2]), grads_of([1, 3])  # two ranks, their micro-batches (my_micro_batches(4) on 2 ranks)
summed = [a + b for a, b in zip(rank0, rank1)]  # what the all-reduce (sum) gives both ranks
err = max(float(np.abs(a - b).max()) for a, b in zip(whole, summed))
scale = max(float(np.abs(a).max()) for a in whole)
print(f"largest gradient entry {scale:.3e}; largest difference whole vs 2 ranks summed {err:.1e} "
      f"({err / scale:.1e} relative)")
assert err <= 1e-5 * scale


# %% [markdown]
# The difference is rounding. The same argument covers *averaging*: if each rank took the mean loss of its own half
# of the batch, the mean of the two rank gradients is the gradient of the whole batch's mean — **as long as every
# rank holds the same number of tokens**. With ragged batches (SFT answers of different lengths) the per-rank means
# weigh tokens unequally, the bias notebook 06 met for micro-batches. Splitting whole micro-batches and *summing*,
# as `minigpt` does, sidesteps it: each micro-batch keeps the weight it has in the one-process run.
#
# With fewer micro-batches than ranks (`grad_accum` = 1, the default), the loop cuts each micro-batch's *rows*
# instead: rank $r$ keeps a contiguous share $f_r$ of them (`dist.my_rows`) and weights its batch-mean loss by
# $f_r$, so the ranks' losses add up to the mean over the whole batch: $\sum_r f_r \cdot 
# rac{1}{n_r}\sum_{i \in r}
# \ell_i = 
# rac{1}{n}\sum_i \ell_i$ with $f_r = n_r / n$.
#
# Randomness must follow the same rule. Each micro-batch is drawn from a generator seeded by `(seed, step, micro)`,
# never from state that earlier micro-batches advanced, so rank 1 can draw micro-batch 3 without drawing 0–2 first.
# That is also what makes a run resumable with **any** number of ranks: the checkpoint holds weights, the full AdamW
# state and the step; nothing in it depends on N.

# %% [markdown]
# ## 2. All-reduce, and the ring
#
# **All-reduce**: every rank starts with a vector $g_r$ of $S$ bytes and ends with $\sum_r g_r$. The obvious way
# is a *root*: everybody sends $g_r$ to rank 0, which adds and sends the sum back. Rank 0 then receives $(N-1)S$ and
# sends $(N-1)S$ bytes — its link is the bottleneck, and it grows with N.
#
# The **ring all-reduce** (Patarasuk & Yuan 2009; Baidu brought it to deep learning in 2017) keeps every link
# equally busy. Cut the vector into N chunks and arrange the ranks in a ring, each sending only to its right
# neighbour:
#
# 1. **reduce-scatter**, N−1 steps: at step $s$, rank $r$ sends chunk $(r - s) \bmod N$ (its running partial sum)
#    to rank $r+1$, which adds it to its own copy of that chunk. After N−1 steps rank $r$ holds the complete sum of
#    chunk $(r+1) \bmod N$.
# 2. **all-gather**, N−1 steps: the finished chunks travel once more around the ring, overwriting instead of adding.
#
# Each step a rank sends one chunk of $S/N$ bytes, for $2(N-1)$ steps:
#
# $$\text{bytes sent per rank} = 2 (N-1) \frac{S}{N} = 2\frac{N-1}{N} S \;<\; 2S \quad\text{for every } N.$$
#
# The traffic per rank hardly grows with N, which is why the ring scales to many GPUs (for very large N the $2(N-1)$
# steps' latencies start to count, and libraries switch to trees). Below, the ring drawn for N = 4, and simulated
# in NumPy on four lists, counting what each rank sends. (This is a simulation for the blackboard: the engine
# never puts home-made code on the wire — MPI and NCCL implement this, and better.)

# %%
def ring_allreduce_sim(vectors):
    """Simulate the ring all-reduce on N equal-length vectors; returns (results, elements sent per rank)."""
    N = len(vectors)
    chunks = [np.array_split(v.astype(np.float64), N) for v in vectors]  # chunks[r][c]
    sent = [0] * N
    for s in range(N - 1):                       # reduce-scatter
        msgs = [(r, (r - s) % N, chunks[r][(r - s) % N].copy()) for r in range(N)]
        for r, c, data in msgs:
            chunks[(r + 1) % N][c] += data
            sent[r] += data.size
    for s in range(N - 1):                       # all-gather: rank r owns chunk (r + 1) % N
        msgs = [(r, (r + 1 - s) % N, chunks[r][(r + 1 - s) % N].copy()) for r in range(N)]
        for r, c, data in msgs:
            chunks[(r + 1) % N][c] = data
            sent[r] += data.size
    return [np.concatenate(c) for c in chunks], sent


rng = np.random.default_rng(1)
vecs = [rng.standard_normal(1200) for _ in range(4)]
results, sent = ring_allreduce_sim(vecs)
assert all(np.allclose(r, sum(vecs)) for r in results)
print("every rank holds the sum:", all(np.allclose(r, sum(vecs)) for r in results))
print(f"elements sent per rank: {sent}   2(N-1)/N * S = {2 * 3 / 4 * 1200:.0f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
N = 4
ang = np.pi / 2 - 2 * np.pi * np.arange(N) / N
xy = np.c_[np.cos(ang), np.sin(ang)]
ax = axes[0]
for r in range(N):
    a, b = xy[r], xy[(r + 1) % N]
    ax.annotate("", xy=a + 0.78 * (b - a), xytext=a + 0.22 * (b - a), arrowprops=dict(arrowstyle="->", lw=2))
    ax.add_patch(plt.Circle(xy[r], 0.24, color=f"C{r}"))
    ax.text(*xy[r], f"rank\n{r}", ha="center", va="center", color="white", fontsize=9, weight="bold")
    mid = (a + b) / 2 * 1.3
    ax.text(*mid, f"chunk {(r - 0) % N}", ha="center", va="center", fontsize=8)
ax.set_title("ring: each rank sends only to its right neighbour\n(labels: what flows at reduce-scatter step 0)")
ax.set_xlim(-1.5, 1.5); ax.set_ylim(-1.4, 1.4); ax.set_aspect("equal"); ax.axis("off")
ax = axes[1]
table = np.array([[(r - s) % N if s < N - 1 else (r + 1 - (s - N + 1)) % N for r in range(N)]
                  for s in range(2 * (N - 1))])
ax.imshow(table, cmap="tab10", vmin=0, vmax=9, aspect="auto")
for s in range(table.shape[0]):
    for r in range(N):
        ax.text(r, s, f"c{table[s, r]}", ha="center", va="center", color="white", weight="bold")
ax.axhline(N - 1.5, color="k", lw=2)
ax.set_xticks(range(N), [f"rank {r} sends" for r in range(N)]); ax.set_yticks(range(2 * (N - 1)),
              [f"RS {s}" for s in range(N - 1)] + [f"AG {s}" for s in range(N - 1)])
ax.set_title("which chunk each rank sends at each step\n(RS = reduce-scatter: add; AG = all-gather: copy)")
plt.tight_layout(); plt.show()

# %% [markdown]
# And the traffic as N grows: the root scheme's busiest rank handles $2(N-1)S$ bytes, the ring's ranks
# $2\frac{N-1}{N}S$ each — bounded by $2S$. Measured from the simulation, next to the formulas:

# %%
Ns = [2, 3, 4, 6, 8, 12, 16]
S = 960  # elements (divisible by every N above)
measured = [max(ring_allreduce_sim([np.ones(S)] * n)[1]) / S for n in Ns]
plt.figure(figsize=(6, 3.4))
plt.plot(Ns, [2 * (n - 1) for n in Ns], "o-", label="root (rank 0): $2(N-1)S$")
plt.plot(Ns, measured, "s-", label="ring, simulated (busiest rank)")
plt.plot(Ns, [2 * (n - 1) / n for n in Ns], "k--", lw=1, label="$2(N-1)/N \\cdot S$")
plt.xlabel("ranks N"); plt.ylabel("bytes sent / S"); plt.yscale("log"); plt.legend(); plt.grid(alpha=.3)
plt.title("all-reduce traffic per rank"); plt.tight_layout(); plt.show()
assert np.allclose(measured, [2 * (n - 1) / n for n in Ns])

# %% [markdown]
# ## 3. Launching ranks: `mpiexec`
#
# `mpiexec -n 2 python script.py` starts two copies of the script; each learns its rank and the world size from
# MPI. `minigpt/dist.py` reads them (`dist.get_comm()`), and when the process was *not* started by a launcher it
# returns a world of one whose collectives do nothing — the same code runs as a plain process, and mpi4py is never
# imported. The layer's own demo all-reduces a small vector and all-gathers one number per rank:

# %%
if MPIEXEC:
    print(mpirun(2, sys.executable, "-m", "minigpt.dist"))
else:
    print("skipped: no mpiexec (pip install -e '.[dist]')")

# %% [markdown]
# Now a real training run. `mpiexec -n 2 minigpt pretrain …` trains with 2 ranks; we train the same tiny model once
# with one process and once with two, with the same global batch (`--batch-size 4 --grad-accum 2`: 2 micro-batches,
# one per rank), and compare the final weights that each run's rank 0 saved in its checkpoint.

# %%
PRETRAIN = ["--data", "toyweb", "--n-chars", "20000", "--model.n-layer", "1", "--model.n-embd", "32", "--model.n-head", "2",
            "--model.block-size", "32", "--batch-size", "4", "--grad-accum", "2", "--max-iters", "8" if MINIGPT_QUICK else "30",
            "--optim.warmup-iters", "2", "--eval-interval", "1000", "--eval-iters", "1", "--force"]


def final_weights(run_dir):
    """(ranks that trained it, {name: weights}) from a run's checkpoint."""
    from minigpt.checkpoint import load_checkpoint
    config, state = load_checkpoint(str(Path(run_dir) / "ckpt"))
    return config["ranks"], {k: np.asarray(v) for k, v in state.items()}


if MPIEXEC:
    minigpt_cli = [sys.executable, "-m", "minigpt.cli"]  # the `minigpt` command
    mpirun(1, *minigpt_cli, "pretrain", *PRETRAIN, "--out-dir", WORK / "one")
    mpirun(2, *minigpt_cli, "pretrain", *PRETRAIN, "--out-dir", WORK / "two")
    (n1, w1), (n2, w2) = final_weights(WORK / "one"), final_weights(WORK / "two")
    diff = max(float(np.abs(w1[k] - w2[k]).max()) for k in w1)
    print(f"trained by {n1} and by {n2} ranks; {len(w1)} tensors; largest |1 process − 2 ranks| = {diff:.1e}")
    assert diff < 1e-4
else:
    print("skipped: no mpiexec (pip install -e '.[dist]')")

# %% [markdown]
# Equal: two ranks computed what one did, each doing half the forward and backward work. (Here even bit for bit:
# with two micro-batches the sum has a single addition either way; with more, the order of the additions
# changes and the weights agree to rounding, ~1e-7 relative.) That is the
# contract of data parallelism in this engine — **N is a speed knob, never a hyperparameter**: learning rate,
# batch, schedule and seeds mean the same thing for any N. The tests (`tests/test_dist.py`) hold it for a
# pretraining run, an alignment stage and ZeRO-1.
#
# Only rank 0 writes the metrics log and the checkpoints; the others hold the same weights anyway.

# %% [markdown]
# ## 4. Buckets
#
# A GPT has many parameter tensors (ours: 4 per LayerNorm pair, 4 per attention, 4 per MLP, per block). One
# all-reduce per tensor pays the fixed cost of a message — latency, synchronisation, a kernel launch on a GPU —
# dozens of times per step. Copying all gradients into one flat buffer pays it once but can start only when the
# whole backward is done. The compromise every DDP implementation makes: **buckets** of a few MB, flat buffers of
# consecutive parameters, each sent as one message. (PyTorch's DDP uses 25 MB buckets and sends each as soon as its
# gradients are ready, overlapping communication with the rest of the backward; we send them after the backward,
# which is simpler and, on a CPU where the same cores do both, loses little.)
#
# `dist.make_buckets(params, bucket_bytes)` groups the parameters; `dist.allreduce_grads(params, buckets)` copies
# each bucket's gradients into one buffer, all-reduces it and hands every parameter a view of the result. The cost
# model $T(k) \approx k\,\alpha + S/\beta$ for $k$ messages of $S$ bytes in total ($\alpha$ the per-message cost,
# $\beta$ the bandwidth) says fewer buckets are cheaper until $S/\beta$ dominates. The measurement on this machine
# follows (section 6 runs it).

# %% [markdown]
# ## 5. ZeRO-1: shard the optimizer state
#
# Data parallelism copies everything to every rank. For $\Psi$ parameters in float32 with AdamW that is
#
# | per rank | plain DP | ZeRO-1 |
# | --- | --- | --- |
# | weights | $4\Psi$ | $4\Psi$ |
# | gradients | $4\Psi$ | $4\Psi$ |
# | AdamW $m$, $v$ | $8\Psi$ | $8\Psi / N$ |
# | **total** | $16\Psi$ | $8\Psi + 8\Psi/N$ |
#
# ZeRO stage 1 (Rajbhandari et al. 2020) notices that each element's AdamW update needs only that element's
# gradient and moments. So rank $r$ keeps the moments of one $N$-th of the parameters (laid end to end as one flat
# vector), updates only that shard, and the ranks then **all-gather** the updated weights. The traffic is one extra
# all-gather of the weights per step ($\frac{N-1}{N}\cdot 4\Psi$ bytes received per rank); real implementations
# replace the gradient all-reduce by a reduce-scatter so the total stays that of one all-reduce. The arithmetic is
# element for element that of `optim.AdamW`, so the weights are the same as unsharded — `tests/test_dist.py`
# checks it, and that a ZeRO checkpoint (gathered back into AdamW's layout) resumes on any number of ranks.
#
# For the GPT sizes of notebook 04, in GB per rank (float32 as here; mixed-precision training with fp32 master
# weights also spends about 16 bytes per parameter, so the numbers carry over):

# %%
for name, psi in [("GPT-2 small", 124e6), ("GPT-2 XL", 1.5e9), ("GPT-3", 175e9)]:
    row = [16 * psi / 1e9] + [(8 * psi + 8 * psi / n) / 1e9 for n in (2, 8, 64)]
    print(f"{name:12s} plain {row[0]:9.1f} GB | ZeRO-1 on 2 / 8 / 64 ranks: "
          + " / ".join(f"{v:8.1f}" for v in row[1:]))

# %% [markdown]
# And measured: `python -m minigpt.zero` builds a small GPT and reports what each rank holds.

# %%
if MPIEXEC:
    print(mpirun(2, sys.executable, "-m", "minigpt.zero"))
else:
    print("skipped: no mpiexec (pip install -e '.[dist]')")

# %% [markdown]
# ## 6. Communication vs computation, measured here
#
# `benchmarks/dist.py` trains nanoGPT's CPU baby model (4 blocks, width 128, 0.8 M parameters, 3.2 MB of gradient)
# with a fixed global batch of 2 micro-batches × 12 sequences × 64 tokens, once on 1 rank and once on 2, one BLAS
# thread per rank. It times the four parts of a step: compute (forward + backward), wait (a barrier before the
# all-reduce: the other rank was slower), all-reduce, optimizer. Timings are taken *on this machine as the notebook
# runs* — on a shared or busy machine they vary from run to run, so read the shape, not the digits.

# %%
if MPIEXEC:
    steps = 6 if MINIGPT_QUICK else 30
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dist.py"), "--steps", str(steps),
                          "--bucket-sweep", "4", "64", "1024", "16384"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])))
    assert out.returncode == 0, out.stderr[-2000:]
    bench = json.loads(out.stdout)
    runs = bench["runs"]
    print(f"machine: {bench['cpus']} CPUs, load average {bench['load_avg_1min_before']} before / "
          f"{bench['load_avg_1min_after']} after (above {bench['cpus']} means other work shared the cores)")
    for r in runs:
        parts = ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in r["parts_s"].items())
        print(f"{r['ranks']} rank(s): {r['tokens_per_s']:7.0f} tokens/s  (x{r['speedup_vs_first']:.2f})  step: {parts}; "
              f"all-reduce {r['allreduce_share']:.0%} of the step, {r['allreduce_bytes_per_rank'] / 1e6:.1f} MB")
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    left = np.zeros(len(runs))
    for i, k in enumerate(["compute", "wait", "allreduce", "optimizer"]):
        v = np.array([1e3 * r["parts_s"][k] for r in runs])
        axes[0].barh([f"{r['ranks']} rank(s)" for r in runs], v, left=left, color=f"C{i}", label=k)
        left += v
    axes[0].set_xlabel("ms per step (rank 0, median)"); axes[0].legend(); axes[0].set_title("where a step goes")
    sweep = runs[-1].get("bucket_sweep", [])
    axes[1].plot([s["buckets"] for s in sweep], [1e3 * s["allreduce_s"] for s in sweep], "o-")
    for s in sweep:
        axes[1].annotate(f"{s['bucket_kib']} KiB", (s["buckets"], 1e3 * s["allreduce_s"]), fontsize=8)
    axes[1].set_xlabel("number of buckets (messages)"); axes[1].set_ylabel("ms per gradient all-reduce")
    axes[1].set_title("bucket size vs all-reduce time (2 ranks)"); axes[1].set_xscale("log")
    plt.tight_layout(); plt.show()
else:
    print("skipped: no mpiexec (pip install -e '.[dist]')")

# %% [markdown]
# What to read in it:
#
# * **compute halves**: each rank does one micro-batch instead of two. On 2 cores this is the whole speedup —
#   and only if the cores are free; under load the 2 ranks compete with everything else and the gain shrinks.
# * **the all-reduce is small but not free**: 3.2 MB through shared memory costs milliseconds. Its share grows as
#   compute shrinks — more ranks, smaller micro-batches or a faster device all make communication the bottleneck.
#   The ratio to watch is FLOPs per byte sent: a step computes $\approx 6\Psi$ FLOPs per token but sends $\approx
#   2\cdot 4\Psi$ bytes per step whatever the batch, so larger batches per rank amortise the communication.
# * **wait** is load imbalance: a rank that finished early idles at the barrier. On a shared machine it is noise;
#   on a cluster it is the slowest node setting the pace.

# %% [markdown]
# ## 7. Alignment stages: split the rollouts too
#
# SFT, the reward model and DPO have one batch per step, like pretraining: the ranks split its rows and weight
# their losses by their share. PPO and GRPO spend most of an iteration *sampling*: a batch of prompts is rolled
# out token by token before any gradient exists. Under `mpiexec -n N minigpt ppo …` each rank rolls out a
# contiguous 1/N of the iteration's prompts (GRPO: whole groups, so each group's baseline stays on one rank).
# Three rules keep the result the one-process result:
#
# 1. **Randomness per response, not per rank.** Response $i$ is sampled from its own generator, seeded by
#    (iteration seed, $i$), so the rank that holds prompt $i$ draws the tokens one process draws for it.
# 2. **Statistics over the global batch.** PPO whitens the advantages with the mean and variance over *all*
#    response tokens: each rank all-reduces its $\sum x$, its token count and then its $\sum (x-\mu)^2$ — three
#    floats, not the rollout. The logged means, and the KL that steers the adaptive $\beta$, are summed the same way.
# 3. **Minibatches weighted by tokens.** Every rank walks the same shuffled minibatches of global row indices and
#    computes the rows it holds; holding $n_r$ of a minibatch's $n$ tokens, it weights its token-mean loss by
#    $n_r/n$, so the summed gradients are the whole minibatch's gradient.
#
# Rule 1 in one cell (no launcher needed): four prompts sampled together, or split 2 + 2 as two ranks would.

# %%
from minigpt.generate import sample_batch

toy = GPT(GPTConfig(vocab_size=32, block_size=32, n_layer=1, n_head=2, n_embd=16), seed=0)
prompts = [[1, 2, 3], [4, 5], [6, 7, 8], [9, 10, 11, 12]]
seeds = [(42, i) for i in range(len(prompts))]  # (iteration seed, global index of the response)
together = sample_batch(toy, prompts, 6, stop_ids=(), seed=seeds)
rank0, rank1 = (sample_batch(toy, prompts[a:b], 6, stop_ids=(), seed=seeds[a:b]) for a, b in ((0, 2), (2, 4)))
print("per-response generators, split 2 + 2 = together:", rank0 + rank1 == together)
shared = sample_batch(toy, prompts, 6, stop_ids=(), seed=42)  # one generator for the whole batch
print("one generator for the batch, split 2 + 2 = together:",
      shared[2:] == sample_batch(toy, prompts[2:], 6, stop_ids=(), seed=42))

# %% [markdown]
# `tests/test_dist.py` runs PPO (whitening, adaptive KL, PPO-ptx, the value model) and GRPO on 2 ranks and checks
# the final weights and every logged number against one process, and that each rank rolled out only its share.
# `python benchmarks/dist.py --stage ppo` measures the speed (`benchmarks/results/dist.json`, key `ppo`).
#
# ## 8. On GPUs: NCCL, one GPU per rank
#
# The same program runs on GPUs with `MINIGPT_DEVICE=cuda`. Each rank then takes one GPU (rank $i$ of a machine
# uses GPU $i$: `cupy.cuda.Device(local_rank).use()`) and CuPy arrays go through **NCCL** instead of MPI: rank 0
# creates an NCCL id, MPI broadcasts it, and every rank joins the NCCL communicator with it
# (`cupy.cuda.nccl.NcclCommunicator`). The gradient never leaves the GPU: NCCL runs ring (or tree) all-reduces
# over NVLink inside a machine (hundreds of GB/s) and InfiniBand between machines.
#
#     MINIGPT_DEVICE=cuda mpiexec -n 8 minigpt pretrain --grad-accum 8 --batch-size 32     # 8 GPUs, one machine
#     mpiexec -f hosts -n 16 -ppn 8 minigpt pretrain ...                                   # 2 machines × 8 GPUs
#
# What real GPU systems add on top, and this engine leaves out: overlapping each bucket's all-reduce with the rest
# of the backward (the reason for buckets in the first place), reduced-precision gradients on the wire, ZeRO-2/3
# (shard the gradients and then the weights too), tensor and pipeline parallelism for models that do not fit one GPU.
#
# ## Recap
#
# * Data parallelism splits the **global batch** across ranks; summing the gradients gives the one-process gradient,
#   so the weights stay identical and the run equals the one-process run to rounding. N is a speed knob.
# * Randomness keyed by `(seed, step, micro)` lets any rank draw any micro-batch — and resume with any N.
# * The **ring all-reduce** sends $2\frac{N-1}{N}S$ bytes per rank: reduce-scatter then all-gather.
# * Gradients travel in a few flat **buckets**: fewer messages, less per-message cost.
# * **ZeRO-1** shards AdamW's moments: $16\Psi \to 8\Psi + 8\Psi/N$ bytes per rank, same weights.
# * PPO and GRPO split the **rollouts**: one generator per response, batch statistics all-reduced, minibatch
#   losses weighted by each rank's share of the tokens.
# * On CPUs the collectives are MPI's; on GPUs NCCL's, one GPU per rank. Nothing home-made goes on the wire.
#
# ## Exercises (ungraded)
#
# 1. **Your own ring.** Write the ring all-reduce of section 2 with mpi4py's `Sendrecv` (launch it with
#    `mpiexec -n 4`), check it against `Allreduce`, and time both for 4 KB … 64 MB vectors.
# 2. **The ragged-batch trap.** Give two ranks micro-batches with different numbers of answer tokens and compare
#    "average the rank means" with "sum micro-batch contributions" against the one-process gradient.
# 3. **Overlap.** Time the backward of the last block alone. How much of section 6's all-reduce could hide behind
#    the rest of the backward if buckets were sent as soon as they were ready?
# 4. **Reduce-scatter ZeRO.** Replace the all-reduce in front of `ZeroAdamW` by a reduce-scatter (each rank only
#    needs its shard's gradient). What happens to gradient clipping, which needs the norm of the *whole* gradient?
