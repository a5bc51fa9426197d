# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/09_beyond.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/09_beyond.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 09 · Beyond the four stages
#
# Notebooks 05–08 built the classic recipe: pretraining → SFT → reward model → PPO. This notebook looks at
# what came next, each idea at toy scale and measured:
#
# * **Alignment without PPO**: DPO (no reward model, no RL) and GRPO (no value head), on the same toy world.
# * **Inference-time compute**: best-of-N with the reward model, majority vote, chain of thought, reflection.
# * **Cheaper fine-tuning**: LoRA adapters.
# * **A newer block**: LLaMA's RMSNorm, SwiGLU and rotary position embeddings, against GPT-2's block.
# * **Smaller weights**: INT8 / INT4 quantization, as in GLM-130B.
# * **Retrieval**: look facts up instead of remembering them, and what a model says when it cannot.
#
# **Learning goals.** After this notebook you can
#
# 1. derive DPO's loss from the RLHF objective and compute it for a preference pair by hand;
# 2. compute GRPO's group-relative advantages and say why it needs no value function;
# 3. explain when best-of-N, majority vote and chain of thought help, and measure it;
# 4. count the parameters and memory LoRA saves, and check that merging an adapter changes nothing;
# 5. write RMSNorm, SwiGLU and RoPE, and show RoPE's relative-position property;
# 6. quantize a weight matrix to INT8/INT4, bound its error, and measure the loss change;
# 7. build a small retrieval pipeline (chunk, embed, search, prompt) and recognise a hallucination.
#
# **Two sets of numbers.** Every experiment runs here in quick mode (`MINIGPT_QUICK=1`, what CI uses) at toy
# sizes — those runs are too short for the models to learn much, and their numbers mostly show that the code
# runs. Next to them the notebook prints the numbers of the full-size run, `python benchmarks/beyond.py`,
# saved in `benchmarks/results/beyond.json` (its sections took 781 s on a 2-core machine). Unset `MINIGPT_QUICK` to reproduce
# those here.

# %%
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy: small matrices run faster on one thread

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import Tensor, course, gradcheck, ops
from minigpt.nn import GPT, GPTConfig, count_params

QUICK = os.environ.get("MINIGPT_QUICK") == "1"
ROOT = Path(minigpt.__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "beyond.json"
RUNS = ROOT / "runs" / "nb09"  # checkpoints of this notebook's runs (git ignores runs/)
FULL = json.loads(RESULTS.read_text())["sections"] if RESULTS.exists() else {}
rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)
print(f"minigpt from {minigpt.__file__} | quick mode: {QUICK} | full-run results: "
      f"{'found' if FULL else 'not found'} ({RESULTS.relative_to(ROOT)})")


def show(rows, cols, fmt=None, title=None, order=None):
    """Print a dict of dicts as a table: one row per key (in `order` if given), the given columns."""
    fmt, width, first = fmt or {}, [max(12, len(c) + 2) for c in cols], max(map(len, rows)) + 1
    if title:
        print(title)
    print(" " * first + "".join(f"{c:>{w}}" for c, w in zip(cols, width)))
    for name in [k for k in (order or []) if k in rows] + [k for k in rows if k not in (order or [])]:
        r = rows[name]
        print(f"{name:<{first}}" + "".join(f"{format(r[c], fmt.get(c, '.4g')) if c in r else '-':>{w}}"
                                     for c, w in zip(cols, width)))


# %% [markdown]
# ## 1. LLaMA's block: RMSNorm, SwiGLU, RoPE
#
# LLaMA (Touvron et al., 2023) keeps GPT-2's pre-norm decoder but swaps three parts. All three are ops in
# `minigpt/ops/` with hand-derived backward passes, and options of `GPTConfig`:
# `GPTConfig(norm="rmsnorm", mlp="swiglu", pos="rope")`.
#
# ### RMSNorm
#
# LayerNorm centres each row and divides by its standard deviation. RMSNorm (Zhang & Sennrich, 2019) skips the
# centring and has no bias:
#
# $$\hat x = \frac{x}{\sqrt{\tfrac1C\sum_j x_j^2 + \varepsilon}}, \qquad y = \hat x \odot w .$$
#
# Its backward is LayerNorm's without the mean term: with $\hat g = g \odot w$ and $r = 1/\mathrm{rms}(x)$,
# $\;\partial L/\partial x = r\,(\hat g - \hat x\,\overline{\hat g \odot \hat x})$. A fused op saves memory
# and time, and `gradcheck` compares it with finite differences:

# %%
x = Tensor(rng.standard_normal((2, 3, 8)), requires_grad=True)
w = Tensor(rng.standard_normal(8), requires_grad=True)
print("gradcheck rmsnorm:", gradcheck(lambda x, w: ops.rmsnorm(x, w), [x, w]))
y = ops.rmsnorm(Tensor(np.array([[3.0, 4.0]])), Tensor(np.ones(2)), eps=0.0)
print("rmsnorm([3, 4]) =", y.data, " (= [3, 4]/√12.5)")

# %% [markdown]
# ### SwiGLU
#
# GPT-2's MLP is $W_2\,\mathrm{GELU}(W_1 x)$. LLaMA's is a *gated* linear unit (Shazeer, 2020): one projection,
# passed through SiLU ($\mathrm{silu}(a) = a\,\sigma(a)$), multiplies another elementwise:
#
# $$\mathrm{MLP}(x) = W_2\big(\mathrm{silu}(W_1 x) \odot W_3 x\big).$$
#
# Three matrices instead of two, so the hidden width shrinks from $4C$ to $\tfrac23 \cdot 4C \approx 2.7C$
# (rounded up to a multiple of 8) to keep the parameter count. Backward of the fused op
# $y = \mathrm{silu}(a) \odot b$: $\;\partial L/\partial a = g \odot b \odot \sigma(a)(1 + a(1-\sigma(a)))$,
# $\;\partial L/\partial b = g \odot \mathrm{silu}(a)$.

# %%
a, b = (Tensor(rng.standard_normal((3, 5)), requires_grad=True) for _ in range(2))
print("gradcheck swiglu:", gradcheck(ops.swiglu, [a, b]))
z = np.linspace(-5, 5, 201)
fig, ax = plt.subplots(figsize=(5, 3))
for name, f in (("ReLU", ops.relu), ("GELU", ops.gelu), ("SiLU", ops.silu)):
    ax.plot(z, f(Tensor(z)).data, label=name)
ax.set(xlabel="x", ylabel="activation", title="smooth gates: GELU and SiLU dip below zero")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ### Rotary position embeddings (RoPE)
#
# GPT-2 adds a learned vector $W_p[t]$ to the token at position $t$. RoPE (Su et al., 2021) instead *rotates*
# each query and key inside attention. Split the head dimension into pairs $(x_i, x_{i+hs/2})$; at position
# $t$ rotate pair $i$ by the angle $t\,\theta_i$, $\theta_i = 10000^{-2i/hs}$:
#
# $$\begin{pmatrix} y_i \\ y_{i+hs/2} \end{pmatrix} = \begin{pmatrix} \cos t\theta_i & -\sin t\theta_i \\
#   \sin t\theta_i & \cos t\theta_i \end{pmatrix} \begin{pmatrix} x_i \\ x_{i+hs/2} \end{pmatrix}.$$
#
# Rotations keep lengths, and $R(a)^\top R(b) = R(b - a)$, so the attention score
# $\langle R_m q, R_n k\rangle = \langle q, R_{n-m} k\rangle$ depends on the positions only through the
# **offset** $n - m$. The backward pass is the inverse rotation $R(-t\theta)$. Both properties, checked:

# %%
q, k = rng.standard_normal((1, 1, 1, 16)), rng.standard_normal((1, 1, 1, 16))
Y = ops.rope(Tensor(q), [37]).data
print(f"‖q‖ = {np.linalg.norm(q):.6f}   ‖rope(q, 37)‖ = {np.linalg.norm(Y):.6f}")


def score(m, n):
    return float((ops.rope(Tensor(q), [m]).data * ops.rope(Tensor(k), [n]).data).sum())


print("score(q at 3, k at 5) =", round(score(3, 5), 6), "  score(q at 103, k at 105) =", round(score(103, 105), 6))
x4 = Tensor(rng.standard_normal((1, 2, 5, 8)), requires_grad=True)
print("gradcheck rope:", gradcheck(lambda t: ops.rope(t, np.arange(5)), [x4]))
offsets = np.arange(-40, 41)
fig, ax = plt.subplots(figsize=(6, 3))
for start in (0, 50, 500):
    ax.plot(offsets, [score(start, start + o) for o in offsets], label=f"query at position {start}", alpha=0.7)
ax.set(xlabel="key position − query position", ylabel="q·k after RoPE", title="RoPE scores depend only on the offset")
ax.legend()
plt.show()

# %% [markdown]
# The three curves lie on top of each other.
#
# **Two pairings, one idea.** Read pair $i$ as the complex number $z_i = x_i + \mathrm{j}\,x_{i+hs/2}$: the rotation is
# $z_i \mapsto z_i\,e^{\mathrm{j}\,t\theta_i}$, and $\overline{(z\,e^{\mathrm{j}m\theta})}\,(w\,e^{\mathrm{j}n\theta}) = \bar z\,w\,e^{\mathrm{j}(n-m)\theta}$ is the
# relative-position property in one line. The RoFormer paper pairs neighbours $(x_{2i}, x_{2i+1})$; minigpt (like
# LLaMA's Hugging Face port) pairs $x_i$ with $x_{i+hs/2}$, two contiguous halves. The two are the same model up to a
# fixed permutation of the head dimension, but weights trained with one pairing are wrong under the other.
#
# Exercise **09.3** writes this rotation for an array `x (..., T, hs)` in minigpt's half-split convention. It must
# agree with `ops.rope` on a batch of heads at positions that do not start at 0 (as with a KV cache):

# %%
heads = np.random.default_rng(93).standard_normal((2, 4, 6, 16))  # (B, nh, T, hs)
where = np.arange(6) + 1000  # positions 1000..1005
rot_c = course.check("rope_rotate", heads, where)
print("max |exercise 09.3 − ops.rope|:", np.abs(rot_c - ops.rope(Tensor(heads), where).data).max())

# %% [markdown]
# With a KV cache, each new token's query and key are rotated at
# their *absolute* position before the key is stored, so cached keys never need rotating again
# (`tests/test_gpt_llama.py` checks cached = uncached logits). A RoPE model also has no position table, and the
# parameter counts are close:

# %%
base = dict(vocab_size=256, block_size=64, n_layer=4, n_head=4, n_embd=128)
for name, opts in (("GPT-2 block", {}), ("LLaMA block", dict(norm="rmsnorm", mlp="swiglu", pos="rope"))):
    cfg = GPTConfig(**base, **opts)
    print(f"{name:<12} {count_params(cfg):>9,} parameters (formula) = {GPT(cfg).num_parameters():>9,} (model)")

# %% [markdown]
# ### Same budget, both blocks
#
# `minigpt.experiments.blocks` pretrains one model size on the toy world's corpus five ways — GPT-2's block,
# each LLaMA change on its own, and all three together — with the same data, steps and learning rate.

# %%
from minigpt.experiments import blocks as exp_blocks

t0 = time.time()
bcfg = (exp_blocks.BlocksConfig.quick if QUICK else exp_blocks.BlocksConfig)(out_dir=str(RUNS / "blocks"))
BLK = exp_blocks.run_blocks(bcfg, log=lambda *a: None)
print(f"({time.time() - t0:.0f} s)")
show(BLK["blocks"], ["params", "val_loss", "seconds"], {"params": ",", "val_loss": ".4f", "seconds": ".1f"},
     title=f"this run ({bcfg.iters} steps)")
if FULL.get("blocks"):
    F = FULL["blocks"]
    show(F["blocks"], ["params", "val_loss", "seconds"], {"params": ",", "val_loss": ".4f", "seconds": ".1f"},
         title=f"\nfull run ({F['config']['iters']} steps)", order=list(exp_blocks.VARIANTS))

# %% [markdown]
# In the full run (600 steps, about 350k parameters each) the LLaMA block ends with a validation loss about 8.5%
# lower than GPT-2's. Most of it comes from RoPE — the world's documents are short templates where *relative*
# position is what matters — then SwiGLU; RMSNorm alone changes little (its gain is speed and simplicity at
# scale, not quality). One seed per variant: differences of a percent are within noise.
#
# ## 2. Weight quantization (INT8, INT4)
#
# A float32 weight costs 4 bytes. Store a small integer and a shared scale instead (symmetric, no zero point):
#
# $$s = \frac{\max |w|}{q_{\max}}, \quad q = \mathrm{round}(w / s) \in [-q_{\max}, q_{\max}], \quad \hat w = q\,s,$$
#
# with $q_{\max} = 127$ (INT8) or $7$ (INT4), and one scale per output row ("per channel") or per group of $g$
# consecutive weights. Rounding moves a weight by at most half a step: $|w - \hat w| \le s/2$. GLM-130B
# (Zeng et al., 2022) quantized its weights to INT8 and even INT4 this way with almost no loss, keeping
# activations in 16-bit ("W8A16"): weights are dequantized on the fly, which saves memory and bandwidth.

# %%
from minigpt.quantize import dequantize, quantize

W = rng.standard_normal((4, 64)).astype(np.float32) * 0.02
W[0, 5] = 0.3  # one outlier in row 0
for bits, g in ((8, None), (4, None), (4, 16)):
    qt = quantize(W, bits=bits, group_size=g)
    err = np.abs(W - dequantize(qt))
    s_max = qt.scale.max()
    print(f"INT{bits} {'per channel' if g is None else f'groups of {g}':<12} max |w − ŵ| = {err.max():.5f} "
          f"(≤ max s/2 = {s_max / 2:.5f}), row 1 mean error {err[1].mean():.6f}, "
          f"row 0 mean error {err[0].mean():.6f}, {qt.bits_per_weight:.2f} bits/weight")

# %% [markdown]
# The outlier stretches row 0's scale, so every other weight in that row gets coarser; groups confine the
# damage to 16 weights. Now the whole trained GPT-2 model from section 1, measured by validation loss:

# %%
cols = ["bytes", "ratio", "weight_error", "loss", "rel_change"]
fm = {"bytes": ",", "ratio": ".2f", "weight_error": ".2%", "loss": ".4f", "rel_change": "+.3%"}
show(BLK["quantization"], cols, fm, title="this run")
if FULL.get("blocks"):
    show(FULL["blocks"]["quantization"], cols, fm, title="\nfull run", order=list(BLK["quantization"]))
    print(f"\nINT8 relative loss change (full run): {FULL['blocks']['quantization']['int8']['rel_change']:+.4%} "
          f"— well under 1%")

# %% [markdown]
# `weight_error` is the relative RMS error of the quantized matrices. Vectors (biases, norm gains) stay float32,
# so the ratio is a little under 4× (INT8) and 8× (INT4). INT8 changes nothing measurable. INT4 does: groups cut
# the weight error steadily (one extra float per group), but in the full run the loss does not follow it
# closely — *which* weights are hit matters more than the average. The most sensitive matrix is the token
# embedding, which the tied output head shares: keeping it in float32 and quantizing only the linear layers
# ("linear_only") cuts the loss increase of INT4 with groups of 32 from about 11% to 2% in the full run. Loss is a
# fine-grained measure; what users see is answers. Section 3 fine-tunes this model into an assistant; here is its greedy
# accuracy on held-out prompts before and after quantization:

# %%
for name, L in (("this run", BLK["lora"]), ("full run", FULL.get("blocks", {}).get("lora"))):
    if L:
        acc = L["quantized_sft_accuracy"]
        print(f"{name}: accuracy " + ", ".join(f"{k} {acc[k]:.3f}" for k in BLK["lora"]["quantized_sft_accuracy"]))

# %% [markdown]
# ## 3. LoRA: fine-tune a few million numbers instead of billions
#
# LoRA (Hu et al., 2021) freezes a pretrained weight $W$ and learns a low-rank change:
#
# $$y = x\,(W + \tfrac{\alpha}{r} B A)^\top, \qquad A \in \mathbb{R}^{r\times d_{in}},\; B \in \mathbb{R}^{d_{out}\times r}.$$
#
# $B$ starts at zero, so training starts exactly at the pretrained model; only $A$ and $B$ get gradients and
# AdamW state. After training, `merge()` folds $\tfrac{\alpha}{r}BA$ into $W$: no extra cost at inference.
# The scale is $\alpha/r$, not $\alpha$: with it, changing the rank $r$ does not change how far one learning-rate
# step moves the output, so $\alpha$ can stay fixed while $r$ is tuned (they coincide only at $r = 1$). The product
# is $BA$, shaped like $W$ ($d_{out}\times d_{in}$), and merging writes a new weight: a merge that adds into $W$ in
# place and is run twice adds the adapter twice.
#
# Exercise **09.4** is this merge on plain arrays. Below, `course.check` runs it on the adapter's arrays and
# `LoRALinear.merge()` must give the same weight:

# %%
from minigpt.nn import Linear
from minigpt.nn.lora import LoRALinear, add_lora, count_trainable, training_memory

lin = Linear(64, 192, rng=rng)
lora = LoRALinear(lin, r=4, alpha=8.0, rng=rng)
xin = Tensor(rng.standard_normal((2, 5, 64)).astype(np.float32))
print("B = 0 at the start, so the output is the frozen layer's:", np.array_equal(lora(xin).data, lin(xin).data))
lora.lora_B.data = rng.standard_normal(lora.lora_B.shape).astype(np.float32) * 0.1  # pretend we trained
before = lora(xin).data
W_c = course.check("lora_merge", lora.weight.data, lora.lora_A.data, lora.lora_B.data, lora.alpha,
                   rtol=1e-5, atol=1e-6)  # float32 weights: a float32 sum may differ from the reference in the last bits
lora.merge()
print(f"merged vs unmerged forward: max difference {np.abs(lora(xin).data - before).max():.2e}")
print(f"exercise 09.4 vs LoRALinear.merge(): max weight difference {np.abs(W_c - lora.weight.data).max():.2e} ({W_c.dtype})")
model = GPT(GPTConfig(vocab_size=256, block_size=64, n_layer=4, n_head=4, n_embd=128))
full_mem = training_memory(model)["total"]
add_lora(model, r=8, targets=("attn.qkv", "attn.proj", "mlp.fc", "mlp.proj"))
print(f"trainable: {count_trainable(model):,} of {model.num_parameters():,} "
      f"({count_trainable(model) / model.num_parameters():.1%}); fine-tuning memory (weights + grads + AdamW) "
      f"{full_mem / 2**20:.1f} MiB → {training_memory(model)['total'] / 2**20:.1f} MiB")

# %% [markdown]
# Memory for gradients and optimizer state shrinks with the trainable fraction; the frozen weights remain.
# At GPT-3's size, the LoRA paper cut trainable parameters 10,000× and GPU memory 3×. Here is supervised
# fine-tuning of section 1's pretrained model, all weights vs adapters on every block Linear, same data and
# steps (the adapter run uses a larger learning rate, as is usual):

# %%
cols = ["trainable_params", "grad_and_optimizer_bytes", "val_loss", "accuracy", "seconds"]
fm = {"trainable_params": ",", "grad_and_optimizer_bytes": ",", "val_loss": ".3f", "accuracy": ".3f", "seconds": ".1f"}
for name, L in (("this run", BLK["lora"]), ("full run", FULL.get("blocks", {}).get("lora"))):
    if L:
        show({k: L[k] for k in ("full", "lora")}, cols, fm, title=f"\n{name}")

# %% [markdown]
# ## 4. Alignment without PPO: DPO and GRPO
#
# ### DPO
#
# RLHF maximises $\mathbb{E}[r(x,y)] - \beta\,\mathrm{KL}(\pi\,\|\,\pi_{\text{ref}})$. That objective's optimum is
# known in closed form, $\pi^*(y|x) \propto \pi_{\text{ref}}(y|x)\,e^{r(x,y)/\beta}$. Turned around, *any* policy
# defines an implicit reward $\hat r(x,y) = \beta \log\frac{\pi(y|x)}{\pi_{\text{ref}}(y|x)}$ (plus a term in
# $x$ alone). Put it into the reward model's pairwise loss from notebook 07 and the reward model disappears
# (Rafailov et al., 2023):
#
# $$L_{\text{DPO}} = -\log\sigma\Big(\beta\Big[\log\frac{\pi_\theta(y_w|x)}{\pi_{\text{ref}}(y_w|x)} -
#   \log\frac{\pi_\theta(y_l|x)}{\pi_{\text{ref}}(y_l|x)}\Big]\Big).$$
#
# One pair by hand: $\beta = 0.5$, $\log\pi_\theta(y_w) = -1$, $\log\pi_{\text{ref}}(y_w) = -2$,
# $\log\pi_\theta(y_l) = -3$, $\log\pi_{\text{ref}}(y_l) = -2.5$. Implicit rewards $0.5$ and $-0.25$, margin
# $0.75$, loss $\ln(1 + e^{-0.75}) \approx 0.3869$:

# %%
from minigpt.stages import dpo, grpo

loss, st = dpo.dpo_loss(Tensor(np.array([-1.0]), requires_grad=True), Tensor(np.array([-3.0])),
                        np.array([-2.0]), np.array([-2.5]), beta=0.5)
print(f"DPO loss {loss.item():.4f} (by hand {math.log1p(math.exp(-0.75)):.4f}); implicit rewards "
      f"{st['chosen']:+.2f} / {st['rejected']:+.2f}")

# %% [markdown]
# **The gradient.** With the margin $m = \beta[(\log\pi_\theta(y_w) - \log\pi_{\text{ref}}(y_w)) -
# (\log\pi_\theta(y_l) - \log\pi_{\text{ref}}(y_l))]$ and $\frac{d}{dm}\big[-\log\sigma(m)\big] = \sigma(m) - 1 = -\sigma(-m)$,
#
# $$\frac{\partial L}{\partial \log\pi_\theta(y_w)} = -\beta\,\sigma(-m), \qquad
#   \frac{\partial L}{\partial \log\pi_\theta(y_l)} = +\beta\,\sigma(-m):$$
#
# push the chosen response up and the rejected one down, hard while the pair is ordered wrongly ($m < 0$,
# $\sigma(-m) \to 1$) and hardly at all once it is ordered right by a wide margin. A batch averages the loss over
# its pairs. Written literally, $-\log\frac{1}{1 + e^{-m}}$ overflows at $m = -10^3$; $\log(1 + e^{-m})$ computed
# as `np.logaddexp(0, -m)` does not.
#
# Exercise **09.1** is this loss and its gradient for a batch of pairs (`exercises/ex09_beyond.py`).
# `course.check` runs your version next to the reference on the same input; if they disagree it says so
# (with the command that grades it) and the notebook goes on with the reference. The library's `dpo.dpo_loss`,
# whose gradient comes from autograd, must agree with both:

# %%
pairs_rng = np.random.default_rng(9)
pi_w, pi_l, ref_w, ref_l = pairs_rng.normal(-12.0, 3.0, size=(4, 6))  # sequence log-probs of 6 pairs
pi_w[0], pi_l[0] = ref_w[0] - 600.0, ref_l[0] + 600.0  # one pair ordered wrongly by a margin of −120 (β = 0.1)
loss_c, d_w, d_l = course.check("dpo_loss", pi_w, pi_l, ref_w, ref_l, beta=0.1)
t_w, t_l = Tensor(pi_w, requires_grad=True), Tensor(pi_l, requires_grad=True)
loss_lib, _ = dpo.dpo_loss(t_w, t_l, ref_w, ref_l, beta=0.1)
loss_lib.backward()
print(f"exercise 09.1 loss {loss_c:.6f}   library loss {loss_lib.item():.6f}")
print("max |gradient difference|:", max(np.abs(d_w - t_w.grad).max(), np.abs(d_l - t_l.grad).max()))
print("d loss / d log π(chosen):", d_w.round(4))

# %% [markdown]
# No sampling, no value head, no reward model — one supervised-looking loss on the preference pairs. DPO here
# trains on the same gold-labeler rankings the reward model learned from.
#
# ### GRPO
#
# PPO's advantage needs a value function $V(s_t)$: a second network. GRPO (Shao et al., 2024, DeepSeekMath)
# samples a **group** of $G$ responses per prompt and uses the group as the baseline:
#
# $$A_i = \frac{r_i - \operatorname{mean}(r_1..r_G)}{\operatorname{std}(r_1..r_G) + \varepsilon},$$
#
# the same for every token of response $i$, then PPO's clipped objective plus $\beta\,\mathrm{KL}(\pi\,\|\,\pi_{\text{ref}})$
# as a loss term (estimated per token as $\frac{\pi_{\text{ref}}}{\pi} - \log\frac{\pi_{\text{ref}}}{\pi} - 1 \ge 0$).
# A group whose responses all score the same teaches nothing:

# %%
print("scores [1, 0, 0, 1, 2, 2], G = 2 → advantages", grpo.group_advantages([1, 0, 0, 1, 2, 2], 2).round(3))

# %% [markdown]
# **Which std.** The course uses the *population* standard deviation of the group,
# $\sqrt{\frac1G\sum_i (r_i - \bar r)^2}$ (NumPy's default, `ddof=0`). Other implementations divide by $G-1$
# (the sample std, PyTorch's default), which multiplies every advantage by $\sqrt{(G-1)/G}$, and is undefined for a
# group of one. The $\varepsilon$ is added to the std itself, so a group of equal rewards gets $0/\varepsilon = 0$,
# not $0/0$. Each group is normalised on its own: prompts whose rewards live on scales $10^{-3}$ and $10^{3}$ in the
# same batch both get advantages of order one. Rewards far from zero that differ only a little (around $10^3$, apart
# by $10^{-3}$) keep their spread only in float64.
#
# Exercise **09.2** computes these advantages for a batch laid out as consecutive groups. Checked against the
# library's `grpo.group_advantages` on a batch with one group of equal rewards and two very different scales:

# %%
scores = np.array([0.2, 0.9, 0.4, 0.4,  # rewards in [0, 1]
                   3e3, -1e3, 2e3, 0.0,  # a prompt scored on a scale of thousands
                   7.0, 7.0, 7.0, 7.0,  # all equal: no signal
                   1000.0005, 1000.0015, 1000.001, 1000.001])  # near 1e3, apart by 1e-3
adv_c = course.check("grpo_advantages", scores, 4)
print("max |exercise 09.2 − library|:", np.abs(adv_c - grpo.group_advantages(scores, 4)).max())
print(adv_c.reshape(4, 4).round(4))

# %% [markdown]
# ### The comparison
#
# `minigpt.experiments.alignment` trains the world's base model, SFT model and reward model (as in notebook
# 08's pipeline), then aligns copies of the SFT model three ways with matched budgets — PPO and GRPO sample 64
# responses per iteration for the same number of iterations; DPO uses the reward model's training rankings.
# Each policy answers the same held-out prompts; the hidden gold labeler grades them.

# %%
from minigpt.experiments import alignment as exp_align

t0 = time.time()
acfg = (exp_align.AlignConfig.quick if QUICK else exp_align.AlignConfig)(out_dir=str(RUNS / "align"), reuse=False)
ALN = exp_align.run_alignment(acfg, log=lambda *a: None)
print(f"({time.time() - t0:.0f} s)")
cols = ["win_rate_vs_sft", "kl_to_sft", "accuracy", "gold_score", "train_s"]
fm = {"win_rate_vs_sft": ".3f", "kl_to_sft": ".2f", "accuracy": ".3f", "gold_score": ".3f", "train_s": ".0f"}
show(ALN["table"], cols, fm, title="this run")
if FULL.get("alignment"):
    show(FULL["alignment"]["table"], cols, fm, title="\nfull run", order=list(ALN["table"]))

# %% [markdown]
# Win rate counts ties as half, so 0.5 means "no better than SFT" (± is about 0.02 here); KL is in nats per
# response, how far each policy moved from SFT. In the full run all three beat the SFT model, mostly by
# dropping the contractors' chatter (exact-match answers rise from 23% to 52–72%). The two RL methods, steered
# by a reward model of the default pipeline recipe, win 73–76% of comparisons while moving
# about 1–1.5 nats from SFT; GRPO nearly matches PPO without a value model, and trains faster for it. DPO never
# samples during training and learns only from the 7,967 fixed pairs: it wins less (60%) and drifts furthest from
# SFT (KL 2.7 nats; its β = 0.1 anchor is loose). One seed each: differences of ±0.02 are noise. Training curves
# of this run:

# %%
H = ALN["histories"]
fig, axs = plt.subplots(1, 3, figsize=(13, 3))
axs[0].plot(H["ppo"]["gold"], label="PPO")
axs[0].plot(H["grpo"]["gold"], label="GRPO")
axs[0].set(xlabel="iteration", ylabel="gold score of rollouts", title="RL: gold score while training")
axs[0].legend()
axs[1].plot(H["ppo"]["kl"], label="PPO")
axs[1].plot(H["grpo"]["kl"], label="GRPO")
axs[1].set(xlabel="iteration", ylabel="KL to SFT (nats/response)", title="how far the policy moved")
axs[1].legend()
axs[2].plot(H["dpo"]["loss"], label="loss")
axs[2].plot(H["dpo"]["accuracy"], label="implicit-reward accuracy")
axs[2].axhline(math.log(2), ls=":", c="gray")
axs[2].set(xlabel="step", title="DPO (starts at ln 2)")
axs[2].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Inference-time compute
#
# All of these leave the weights alone and spend more computation per answer.
#
# ### Best-of-N
#
# Sample $N$ answers from the SFT model, keep the one the reward model scores highest. The gold labeler tells
# us what that pick is really worth; the *oracle* curve picks by the gold score itself (the ceiling). The gap
# between them is the reward model's error — optimise a proxy hard enough and it shows.

# %%
def plot_bon(curve, ax, label):
    ax.plot(curve["n"], curve["best_of_n"], "o-", label=f"{label}: RM picks")
    ax.plot(curve["n"], curve["oracle"], "s--", label=f"{label}: oracle picks", alpha=0.6)


fig, ax = plt.subplots(figsize=(6, 3.5))
plot_bon(ALN["best_of_n"], ax, "this run")
if FULL.get("alignment"):
    plot_bon(FULL["alignment"]["best_of_n"], ax, "full run")
ax.set(xscale="log", xlabel="N (samples per prompt)", ylabel="mean gold score", title="best-of-N with the reward model")
ax.set_xticks(ALN["best_of_n"]["n"] if not FULL.get("alignment") else FULL["alignment"]["best_of_n"]["n"])
ax.get_xaxis().set_major_formatter(plt.ScalarFormatter())
ax.legend(fontsize=8)
plt.show()
for name, c in (("this run", ALN["best_of_n"]), ("full run", FULL.get("alignment", {}).get("best_of_n"))):
    if c:
        print(f"{name}: gold score " + "  ".join(f"N={n}: {s:.3f}" for n, s in zip(c["n"], c["best_of_n"])))

# %% [markdown]
# In the full run the RM's pick lifts the mean gold score from 0.62 (one sample) to 0.78 at N = 4, then gains
# little more (0.82 at N = 16): more samples also mean more chances to pick an answer the reward model overrates
# (over-optimisation of a proxy, notebook 08). The oracle curve keeps rising, to 0.91 — good answers are among
# the samples, the RM cannot always find them.
#
# ### Reflection: generate, score, retry
#
# A cheaper cousin of best-of-N: answer once, score the answer (here with the reward model), and try again
# only when the score is below a threshold — most answers cost one sample.

# %%
for name, r in (("this run", ALN["reflection"]), ("full run", FULL.get("alignment", {}).get("reflection"))):
    if r:
        print(f"{name}: gold score {r['gold_first_try']:.3f} (first try) → {r['gold_with_retries']:.3f} "
              f"(retry below RM score {r['threshold']}, ≤ {r['max_tries']} tries; {r['mean_tries']:.2f} tries on "
              f"average, {r['retried_fraction']:.0%} of prompts retried)")

# %% [markdown]
# ### Chain of thought on multi-step arithmetic
#
# The task (`minigpt/data/arith.py`): add $k+1$ digits modulo 10. Each step is a lookup in a 10×10 table, but
# the steps depend on each other. A transformer's forward pass has a fixed depth, so it can chain only a few
# lookups before it must emit a token. Writing the partial sums out gives it one step per few tokens:

# %%
from minigpt.data.arith import make_problems

for p in make_problems(3, seed=4):
    print(f"{p.prompt:<22} direct: {p.response(False):<3} worked: {p.response(True)}")

# %% [markdown]
# Two models of the same size, same problems and steps; one is trained on the answers alone, one on the worked
# steps. Then both answer held-out problems with 1 to 6 steps (training had 1 to 4). For the chain-of-thought
# model two inference-time extras: **self-consistency** (sample several chains at temperature 1, majority vote
# on the final answers) and **checked retries** (a program recomputes each written step; if one is wrong,
# sample again).

# %%
from minigpt.experiments import reasoning as exp_reason

t0 = time.time()
rcfg = (exp_reason.ReasoningConfig.quick if QUICK else exp_reason.ReasoningConfig)(out_dir=str(RUNS / "reasoning"))
RSN = exp_reason.run_reasoning(rcfg, log=lambda *a: None)
print(f"({time.time() - t0:.0f} s)")


def plot_cot(acc, chance, ax, title):
    for name, style in (("direct", "o-"), ("cot", "s-"), ("cot_self_consistency", "^--"), ("cot_checked_retries", "v:")):
        ks = sorted(int(k) for k in acc[name])
        ax.plot(ks, [acc[name][k if k in acc[name] else str(k)] for k in ks], style, label=name)
    ax.axhline(chance, c="gray", ls=":", label="chance")
    ax.set(xlabel="steps (additions)", ylabel="accuracy", ylim=(-0.05, 1.05), title=title)
    ax.legend(fontsize=7)


fig, axs = plt.subplots(1, 2 if FULL.get("reasoning") else 1, figsize=(11, 3.5), squeeze=False)
plot_cot(RSN["accuracy"], RSN["chance"], axs[0, 0], f"this run ({len(RSN['loss_curves']['cot'])} steps of training)")
if FULL.get("reasoning"):
    F = FULL["reasoning"]
    plot_cot(F["accuracy"], F["chance"], axs[0, 1], "full run")
    trained = [str(k) for k in F["config"]["train_steps"]]
    gain = np.mean([F["accuracy"]["cot"][k] - F["accuracy"]["direct"][k] for k in trained])
    print(f"full run: chain of thought adds {gain:+.2f} accuracy on average over the trained lengths "
          f"({', '.join(trained)} steps)")
plt.tight_layout()
plt.show()
for k, ex in (FULL.get("reasoning") or RSN)["examples"].items():
    print(f"{ex['prompt']:<24} answer {ex['answer']}   direct → {ex['direct']!r:<6} chain of thought → {ex['cot']!r}")

# %% [markdown]
# Short training runs (quick mode) sit on a plateau: the model has not yet learned to find the right digit in
# the prompt, and both curves stay near chance. With full training (1,500 steps each) the direct model stays at
# chance — even one-step problems, whose signal drowns in the unlearnable longer ones — while the
# chain-of-thought model solves the lengths it was trained on almost perfectly. Beyond them (5 and 6 steps) it
# falls to chance: it learned *where* operands sit for the lengths it saw, and learned position embeddings do not
# extrapolate. Self-consistency and checked retries have little left to fix where the chains are already right,
# and cannot fix a systematic error.
#
# ## 6. Retrieval: look it up instead of making it up
#
# A model's knowledge is what its weights memorised, and it answers fluently either way. The toy knowledge
# base (`minigpt/data/facts.py`): invented people, each one sentence.

# %%
from minigpt.data.facts import make_people, make_registers, questions_about
from minigpt.retrieval import VectorIndex, build_prompt, chunk_documents, fit_bag_of_words

people = make_people(8, seed=11)
docs = make_registers(people, per_doc=4)
print("a document:", docs[0][:140], "...")
chunks, source = chunk_documents(docs, max_words=9, overlap=0)
print(f"{len(docs)} documents → {len(chunks)} chunks of 9 words, e.g. {chunks[1]!r}")
vecs, embed = fit_bag_of_words(chunks)
question = questions_about(people)[6].text
idx, sims = VectorIndex(vecs).search(embed(question), k=2)
print(f"\nquestion: {question}")
for i, s in zip(idx, sims):
    print(f"  cos {s:.3f}  {chunks[i]}")
print("\nthe reader's prompt:\n" + build_prompt(question, [chunks[idx[0]]]))

# %% [markdown]
# Bag-of-words vectors weight each word by tf-idf, so rare words — the names — decide the match. The other
# embedding in `minigpt/retrieval.py`, a model's mean-pooled hidden states, is only as good as what the model
# learned to represent: a small reader trained to copy answers does not learn to tell names apart in its
# average state, and the full run shows it retrieving almost at random. (Real systems train a separate
# embedding model for retrieval, contrastively.)
#
# A small **reader** model is trained to answer from a context sentence, on people it will never be asked about.
# Then we ask it about new people: with no context, with the top chunk from either index, and with the right
# sentence.

# %%
from minigpt.experiments import rag as exp_rag

t0 = time.time()
gcfg = (exp_rag.RagConfig.quick if QUICK else exp_rag.RagConfig)(out_dir=str(RUNS / "rag"))
RAG = exp_rag.run_rag(gcfg, log=lambda *a: None)
print(f"({time.time() - t0:.0f} s)")
for name, R in (("this run", RAG), ("full run", FULL.get("rag"))):
    if R:
        print(f"{name}: accuracy " + ", ".join(f"{k} {R['accuracy'][k]:.2f}" for k in RAG["accuracy"]) +
              " | retrieval recall@1 " + ", ".join(f"{k} {v:.2f}" for k, v in R["retrieval_recall_at_1"].items()) +
              f" | majority-answer baseline {R['majority_baseline']:.2f} | answers in the right format without "
              f"retrieval {R['well_formed_without_retrieval']:.0%}")

# %% [markdown]
# ### A hallucination
#
# Without retrieval the reader has no way to know the answer — and it answers anyway, mostly in the right
# format (a town, a number):

# %%
for h in (FULL.get("rag") or RAG)["hallucinations"][:3]:
    print(f"Q: {h['question']}\n   no retrieval → {h['no_retrieval']!r} (truth {h['truth']!r})\n"
          f"   retrieved: {h['retrieved']!r}\n   with retrieval → {h['with_retrieval']!r}\n")

# %% [markdown]
# Nothing in the answer's form tells right from invented. GPT-4's report names hallucination as its main
# limitation; retrieval helps when the facts are in the index and the reader learned to use them — and a
# model can be *trained* to say "I don't know" when the context lacks the answer, which this reader never was.
#
# ## Recap
#
# * **DPO** turns the RLHF objective into a classification loss on preference pairs via the implicit reward
#   $\beta\log\pi/\pi_{\text{ref}}$: no reward model, no sampling. **GRPO** replaces PPO's value head with the
#   mean and spread of a group of samples per prompt.
# * **Best-of-N** reranks samples with the reward model; gains flatten and trail the oracle as the reward
#   model's errors take over. **Reflection** retries only the answers that score badly.
# * **Chain of thought** gives a fixed-depth network room to compute step by step; **self-consistency** votes
#   over several chains.
# * **LoRA** trains $r(d_{in} + d_{out})$ numbers per matrix instead of $d_{in}d_{out}$; merged, it costs nothing.
# * **LLaMA's block**: RMSNorm (no centring), SwiGLU (gated MLP, $\tfrac23$ width), RoPE (rotate q and k; scores
#   depend on relative offset).
# * **Quantization**: $|w - \hat w| \le s/2$; INT8 per channel leaves the loss practically unchanged; INT4 needs
#   small groups.
# * **Retrieval** puts facts in the prompt; without them a model still answers — a hallucination.
#
# ## Exercises
#
# Graded, in `exercises/ex09_beyond.py` (check with `minigpt grade`, or one at a time with
# `minigpt grade --only 09.1 --verbose`); each one runs above through `course.check`:
#
# * **Exercise 09.1** `dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta)`: DPO's loss and its
#   gradient with respect to the policy's log-probabilities (section 4).
# * **Exercise 09.2** `grpo_advantages(rewards, group_size, eps)`: group-relative advantages (section 4).
# * **Exercise 09.3** `rope_rotate(x, positions, base)`: RoPE in minigpt's half-split pairing (section 1).
# * **Exercise 09.4** `lora_merge(W, A, B, alpha)`: fold an adapter into its weight (section 3).
#
# Ungraded:
#
# * Sweep DPO's β (`dpo.DPOConfig(beta=...)`) and plot win rate against KL to SFT. Does small β move further?
# * Change `GRPOConfig.group_size` to 2 and 8 with the same number of sampled responses per iteration.
# * Train the reader with a second, distracting chunk in its context, then retrieve the top 2 chunks.
# * Quantize the SFT model of section 4 to INT4 with groups of 8, 32 and 128 and plot accuracy against size.
#
# Next: `10_gpu_kernels.ipynb` moves the engine onto the GPU.
