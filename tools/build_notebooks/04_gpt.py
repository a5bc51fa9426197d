# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/04_gpt.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/04_gpt.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 04 · The GPT: from token ids to next-token probabilities
#
# Notebook 03 built causal self-attention. A GPT is that layer stacked into *blocks*, fed by two
# embedding tables and read out by the same table that embedded the tokens. The whole model is
# `minigpt/nn/gpt.py` (about 200 lines); this notebook takes it apart with a tiny example, then scales it
# up on paper to GPT-2 and GPT-3.
#
# **Learning goals.** After this notebook you can
#
# 1. write the model in four lines — $h_0 = UW_e + W_p$, $h_l = \text{block}(h_{l-1})$,
#    $P = \text{softmax}(\text{LN}(h_n)W_e^\top)$ — and give the shape of every tensor on the way;
# 2. explain the *residual stream*: blocks read from it through a LayerNorm and write back by addition;
# 3. say what moving LayerNorm from after each sublayer (post-LN, the 2017 Transformer and GPT-1) to before
#    it (pre-LN, GPT-2) changes, and measure it: gradient scale at initialisation and speed of training;
# 4. explain the tied output head and what it saves;
# 5. count parameters by formula ($\approx 12\,n_\text{layer} d^2$ plus embeddings) and reproduce the GPT-2 and
#    GPT-3 size tables to within a few percent; say where the parameters go as models grow;
# 6. estimate training compute with $C \approx 6ND$ and check it against GPT-3's published figure.
#
# **Run time.** With `MINIGPT_QUICK=1` (what CI uses) the notebook runs in well under a minute on 2 CPU cores.
# Without it, the pre-LN vs post-LN training comparison runs 4× longer and shows what happens after the plateau
# (each cell prints its time).

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import course, no_grad, ops
from minigpt.data.toyweb import generate_corpus
from minigpt.nn.gpt import GPT, GPTConfig, count_params
from minigpt.nn.layers import Linear
from minigpt.stages.pretrain import PretrainConfig, prepare, train
from minigpt.tokenizer import CharTokenizer

MINIGPT_QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: shorter training, same code
np.set_printoptions(precision=4, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", MINIGPT_QUICK)

# %% [markdown]
# ## 1. The model in four lines
#
# GPT-1 (Radford et al. 2018) writes the whole forward pass as
#
# $$h_0 = U W_e + W_p, \qquad h_l = \text{block}(h_{l-1}) \;\; (l = 1..n), \qquad
#   P(u) = \text{softmax}(h_n W_e^\top).$$
#
# * $U$ is the context as one-hot rows, $(T, V)$; $W_e$ the token embedding table $(V, C)$, so $UW_e$ just picks
#   one row of $W_e$ per token. $W_p$ $(T, C)$ holds one learned vector per *position*: attention by itself
#   cannot tell order, so position has to be added in.
# * Each block is attention (tokens exchange information) followed by an MLP (each token computes on its own).
# * The output uses $W_e$ again, transposed: the score of token $u$ is the dot product of the final hidden state with
#   $u$'s embedding. This is the **tied head**.
#
# GPT-2 (Radford et al. 2019) made two changes we keep: LayerNorm moved to the *input* of each sublayer (pre-LN),
# and one more LayerNorm after the last block, so the head reads $\text{LN}(h_n)$:
#
# ```
#   token ids (B, T)
#        │
#   W_e[ids] + W_p[0..T)                          h0: (B, T, C)
#        │
#   ┌────┼──────────────── block, × n_layer ──────────────────────────┐
#   │    x ─────┬──────────────────(+)─────┬────────────────(+)──► x  │
#   │           └─ LN ─ attention ──┘      └─ LN ─ MLP ──────┘        │
#   └─────────────────────────────────────────────────────────────────┘
#        │
#       LN_f
#        │
#     · W_eᵀ   (the same table as at the bottom)   → logits (B, T, V) → softmax → P(next token)
# ```
#
# The horizontal line through each block is the **residual stream**: every sublayer *reads* a normalised copy of
# it and *adds* its output back. Nothing ever overwrites it.

# %% [markdown]
# ## 2. Shapes, stage by stage
#
# A tiny model on a character vocabulary, so every number fits on screen: $V = 77$ characters (plus special
# tokens) of the toy web corpus, context $T = 8$, width $C = 16$, 4 heads of size 4, 2 blocks. We push a batch of
# two 8-character snippets through the model *by hand*, calling the model's own sub-modules one at a time, and
# record each shape. At the end we check that the hand-made result equals `model(idx)`.

# %%
text = generate_corpus(n_docs=500, seed=0)
tok = CharTokenizer.train(text)
cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=2, n_head=4, n_embd=16)
model = GPT(cfg, seed=0)
idx = np.array([tok.encode("Weather "), tok.encode("Math pra")])  # (B, T) = (2, 8)
B, T = idx.shape
C, nh = cfg.n_embd, cfg.n_head
hs = C // nh
stages = [("token ids", idx.shape)]

with no_grad():
    tok_emb = model.wte(idx)  # (B, T, C): row idx[b, t] of W_e
    pos_emb = model.wpe(np.arange(T))  # (T, C): row t of W_p
    x = tok_emb + pos_emb  # (B, T, C): broadcast over the batch
    stages += [("token embeddings  U·W_e", tok_emb.shape), ("position embeddings  W_p", pos_emb.shape),
               ("h0 = U·W_e + W_p", x.shape)]
    for i, blk in enumerate(model.blocks):
        h = blk.ln1(x)  # (B, T, C)
        qkv = blk.attn.qkv(h).data  # (B, T, 3C)
        q, k, v = qkv.reshape(B, T, 3, nh, hs).transpose(2, 0, 3, 1, 4)  # each (B, nh, T, hs)
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hs)  # (B, nh, T, T)
        att = np.where(np.tril(np.ones((T, T), bool)), att, -np.inf)  # causal: no peeking ahead
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)  # (B, nh, T, hs) → (B, T, C)
        attn_out = blk.attn.proj(minigpt.Tensor(y))  # (B, T, C)
        x = x + attn_out
        fc = blk.mlp.fc(blk.ln2(x))  # (B, T, 4C)
        x = x + blk.mlp.proj(ops.gelu(fc))  # (B, T, C)
        if i == 0:
            stages += [("block 1: LN1(x)", h.shape), ("  qkv = LN1(x)·W_qkv", qkv.shape),
                       ("  q, k, v split into heads", q.shape), ("  attention weights softmax(qkᵀ/√hs)", att.shape),
                       ("  heads merged back", y.shape), ("  x + attn", x.shape), ("  MLP hidden (4C)", fc.shape),
                       ("  x + MLP", x.shape)]
    stages.append((f"after all {cfg.n_layer} blocks", x.shape))
    hn = model.ln_f(x)  # (B, T, C)
    logits = hn.data @ model.wte.weight.data.T  # (B, T, V): the tied head
    stages += [("LN_f(h_n)", hn.shape), ("logits = LN_f(h_n)·W_eᵀ", logits.shape)]

for name, shape in stages:
    print(f"{name:40s} {str(tuple(shape)):>14s}")
ref, _ = model(idx)
print("\nhand-made logits == model(idx):", np.allclose(logits, ref.data, atol=1e-5))

# %% [markdown]
# Two things to notice. The batch and time axes $(B, T)$ ride along untouched through every stage: only the last
# axis changes ($C \to 3C \to$ heads $\to C \to 4C \to C \to V$). And the only place where positions talk to each
# other is the $(T, T)$ attention matrix; everything else acts on each position separately.
#
# The softmax of the logits is the model's prediction for the *next* character at every position at once. At
# initialisation it is close to uniform — the loss is close to $\ln V$:

# %%
p = np.exp(ref.data - ref.data.max(-1, keepdims=True))
p /= p.sum(-1, keepdims=True)
print(f"max probability at init: {p.max():.4f}  (uniform would be 1/V = {1 / cfg.vocab_size:.4f})")
targets = np.array([tok.encode("eather f"), tok.encode("ath prac")])  # the next character at each position
print(f"loss at init: {model(idx, targets)[1].item():.4f}   ln V = {np.log(cfg.vocab_size):.4f}")

# %% [markdown]
# ## 3. The embedding tables
#
# $UW_e$ with one-hot rows $U$ is a matrix product, but nobody computes it that way: multiplying by a one-hot row
# selects one row of $W_e$. `Embedding` does the lookup (and its backward adds each row's gradient into the rows
# that were picked, with `np.add.at`). Same numbers:

# %%
U = np.eye(cfg.vocab_size, dtype=np.float32)[idx]  # (B, T, V) one-hot rows
print("U·W_e == W_e[idx]:", np.allclose(U @ model.wte.weight.data, model.wte(idx).data))
print(f"W_e: {model.wte.weight.shape} (one row per token)   W_p: {model.wpe.weight.shape} (one row per position)")
print(f"the context window is the number of rows of W_p: a {cfg.block_size + 1}-token input has no position vector")

# %% [markdown]
# ## 4. The residual stream, and pre-LN vs post-LN
#
# The original Transformer (Vaswani et al. 2017) and GPT-1 normalise *after* adding each sublayer's output
# (**post-LN**); GPT-2 normalises the sublayer's *input* and leaves the sum alone (**pre-LN**):
#
# $$\text{post-LN:}\;\; x \leftarrow \text{LN}(x + F(x)) \qquad\qquad \text{pre-LN:}\;\; x \leftarrow x + F(\text{LN}(x))$$
#
# With pre-LN the residual stream is a straight road from the embeddings to the output: the gradient of the loss
# reaches every block through an identity path. With post-LN every gradient must pass through the LayerNorm of
# every later block. Xiong et al. (2020, *On Layer Normalization in the Transformer Architecture*) work out the
# consequence at initialisation: with post-LN the gradient of the last layers' weights stays large however deep
# the network is, while with pre-LN it shrinks like $1/\sqrt{L}$. Large gradients near the output are why post-LN
# models need a learning-rate warmup to train at all.
#
# `GPTConfig(ln_position="post")` switches our blocks to post-LN (same parameters, different wiring). First the
# gradients at initialisation. Xiong et al. use Xavier initialisation, $\text{std} = \sqrt{2/(\text{fan-in} +
# \text{fan-out})}$; we re-initialise our Linear layers that way for this experiment (GPT-2's own initialisation
# scales the residual projections by $1/\sqrt{2L}$ and blurs the comparison). We measure
# $\lVert\partial L/\partial W_2\rVert$ of each block's MLP output matrix on one batch of toy-web text.

# %%
corpus_cfg = PretrainConfig(data="toyweb", n_chars=200_000, seed=0)
tok, train_ids, val_ids = prepare(corpus_cfg)
rng = np.random.default_rng(0)
starts = rng.integers(0, len(train_ids) - 65, 8)
xb = np.stack([train_ids[s:s + 64] for s in starts]).astype(np.int64)  # (8, 64)
yb = np.stack([train_ids[s + 1:s + 65] for s in starts]).astype(np.int64)


def xavier_(model, seed=1):
    """Re-initialise every Linear weight with Xavier's normal init (as in Xiong et al. 2020)."""
    r = np.random.default_rng(seed)
    for mod in model.modules():
        if isinstance(mod, Linear):
            out_f, in_f = mod.weight.shape
            mod.weight.data[...] = r.standard_normal((out_f, in_f)) * np.sqrt(2.0 / (in_f + out_f))
    return model


def mlp_grad_norms(n_layer, ln_position):
    m = xavier_(GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=64, n_layer=n_layer, n_head=4, n_embd=64,
                              ln_position=ln_position), seed=0))
    m(xb, yb)[1].backward()
    return np.array([np.linalg.norm(b.mlp.proj.weight.grad) for b in m.blocks])


depths = [3, 6, 12, 24]
grads = {(L, pos): mlp_grad_norms(L, pos) for L in depths for pos in ("pre", "post")}

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
for pos, style in (("pre", "o-"), ("post", "s-")):
    g = grads[(24, pos)]
    ax1.plot(np.arange(1, 25), g, style, ms=3, label=f"{pos}-LN")
    ax2.loglog(depths, [grads[(L, pos)][-1] for L in depths], style, label=f"{pos}-LN")
ax1.set(xlabel="block (1 = nearest the input)", ylabel="‖∂L/∂W₂‖ (MLP output matrix)",
        title="24 blocks, at initialisation", ylim=(0, None))
ref_line = grads[(depths[0], "pre")][-1] * np.sqrt(depths[0] / np.array(depths))
ax2.loglog(depths, ref_line, "k:", label="∝ 1/√L")
ax2.set(xlabel="number of blocks L", ylabel="‖∂L/∂W₂‖ of the last block", title="last block vs depth")
ax2.set_xticks(depths, [str(L) for L in depths]); ax2.minorticks_off()
ax1.legend(); ax2.legend()
plt.tight_layout(); plt.show()
for L in depths:
    print(f"L={L:2d}: last-block gradient  pre-LN {grads[(L, 'pre')][-1]:.4f}   post-LN {grads[(L, 'post')][-1]:.4f}"
          f"   ratio post/pre {grads[(L, 'post')][-1] / grads[(L, 'pre')][-1]:.2f}")

# %% [markdown]
# The right panel is Xiong et al.'s theorem in numbers: the pre-LN gradient of the last block falls roughly like
# $1/\sqrt{L}$, the post-LN one does not, so at 24 blocks the same learning rate moves post-LN's top layers
# several times further. On the left, post-LN's gradients are largest near the output, as in the paper's Figure 3;
# pre-LN's shrink towards the output because each block adds to the residual stream, so later LayerNorms divide
# by a larger norm. (The exact profile depends on the initialisation; the scaling with depth is the robust part.)
#
# Does it matter for training? Two 6-block models, identical except for `ln_position`, trained with the same
# recipe (GPT-2 initialisation, AdamW, warmup + cosine) on the toy web:

# %%
steps = 120 if MINIGPT_QUICK else 480
curves = {}
for pos in ("pre", "post"):
    run_cfg = PretrainConfig(out_dir=f"runs/04_ln_{pos}", force=True,
                             model=GPTConfig(block_size=64, n_layer=6, n_head=4, n_embd=32, ln_position=pos),
                             batch_size=8, max_iters=steps, optim=dict(lr=3e-3, min_lr=3e-4, warmup_iters=steps // 10),
                             eval_interval=steps, eval_iters=10, ckpt_interval=10**9, seed=0)
    t0 = time.time()
    res = train(run_cfg, None, tok, train_ids, val_ids, progress=False)  # the model: GPT(run_cfg.model, seed=0)
    curves[pos] = res
    print(f"{pos}-LN: {steps} steps in {time.time() - t0:.1f}s, final val loss {res['val_loss']:.3f}")

plt.figure(figsize=(6, 3.6))
for pos, res in curves.items():
    h = np.array(res["history"]["train_loss"])
    k = 10
    plt.plot(np.convolve(h, np.ones(k) / k, mode="valid"), label=f"{pos}-LN")
counts = np.bincount(train_ids, minlength=tok.vocab_size)
freq = counts[counts > 0] / counts.sum()
unigram = float(-(freq * np.log(freq)).sum())  # the best loss that ignores the context
plt.axhline(np.log(tok.vocab_size), color="gray", ls=":", label="ln V (uniform guess)")
plt.axhline(unigram, color="k", ls="--", lw=1, label=f"unigram entropy {unigram:.2f}")
plt.xlabel("step"); plt.ylabel("train loss (10-step mean)"); plt.title("6 blocks, same recipe"); plt.legend()
plt.show()

# %% [markdown]
# Both models quickly learn how often each character occurs: the loss falls to the dashed line, the *unigram
# entropy*, which is the best any model can do while ignoring the context. Going below it means using the context.
# The pre-LN model goes straight through; the post-LN model sits on the plateau — for the whole run in quick mode;
# in full mode it leaves it after a couple of hundred steps and stays behind. Same parameters, same data, same optimizer — only the position of the LayerNorms differs. This easier
# optimisation is why GPT-2, GPT-3 and almost every later model (LLaMA too, with RMSNorm) are pre-norm.
#
# The residual stream itself looks different in the two designs: post-LN renormalises it after every sublayer, so
# its size is pinned; in pre-LN each block adds to it, so its size grows with depth (which is why GPT-2 added the
# final LayerNorm `ln_f` before the head).

# %%
with no_grad():
    for pos, res in curves.items():
        mdl = res["model"]
        x = mdl.wte(xb) + mdl.wpe(np.arange(64))
        rms = [float(np.sqrt((x.data ** 2).mean()))]
        for blk in mdl.blocks:
            x = blk(x)
            rms.append(float(np.sqrt((x.data ** 2).mean())))
        print(f"{pos:4s}-LN residual stream RMS after the embeddings and each block: {np.round(rms, 2)}")

# %% [markdown]
# ## 5. The tied head
#
# The head needs a $(C, V)$ matrix that turns a hidden state into one score per token. GPT reuses $W_e^\top$ instead
# of learning a separate matrix (Press & Wolf 2017 showed it helps language models): a token that is embedded
# near a hidden state $h$ also scores high when the model outputs $h$. In code the head is one line,
# `ops.linear(h, self.wte.weight)`; the model has no second matrix, and the gradient of $W_e$ collects
# contributions from both ends.

# %%
names = [n for n, _ in model.named_parameters()]
print("parameters named like a head:", [n for n in names if "head" in n] or "none — the head is wte.weight")
gpt2_small = GPTConfig(vocab_size=50257, block_size=1024, n_layer=12, n_head=12, n_embd=768)
saved = gpt2_small.vocab_size * gpt2_small.n_embd
print(f"GPT-2 small: tying saves V·C = {saved:,} parameters, "
      f"{saved / count_params(gpt2_small):.0%} of its {count_params(gpt2_small):,}")

# %% [markdown]
# ## 6. Counting parameters: GPT-2 and GPT-3
#
# Per block, with biases: the QKV projection $C \cdot 3C + 3C$, the attention output $C^2 + C$, the MLP
# $C \cdot 4C + 4C$ and $4C \cdot C + C$, two LayerNorms $2 \cdot 2C$. In all
#
# $$12C^2 + 13C \text{ per block,} \qquad N = n_\text{layer}(12C^2 + 13C) + VC + TC + 2C .$$
#
# Without biases (`bias=False`, as in LLaMA) every Linear loses its bias vector and a LayerNorm keeps only its
# gain $\gamma$; an untied head would add a $C \times V$ matrix of its own. The number of heads does not appear:
# splitting $C$ into heads reshapes the same matrices.
#
# Counting this way is exercise **04.1**, `gpt_param_count(vocab_size, block_size, n_layer, n_embd, bias,
# tied_head)` in `exercises/ex04_gpt.py`. The tables below are computed with `course.check`, which runs your
# version beside the reference solution: where the two disagree it says on which config, and the notebook
# continues with the reference. (The library's `count_params` evaluates the same formula, and a test checks it
# against a real model.) With GPT-2's vocabulary
# ($V = 50257$) and the published depths and widths, the count reproduces the papers' tables:

# %%
GPT2_TABLE = [("117M", 117e6, 12, 768), ("345M", 345e6, 24, 1024), ("762M", 762e6, 36, 1280),
              ("1542M", 1542e6, 48, 1600)]  # Radford et al. 2019, Table 2; n_ctx = 1024
GPT3_TABLE = [("Small", 125e6, 12, 768), ("Medium", 350e6, 24, 1024), ("Large", 760e6, 24, 1536),
              ("XL", 1.3e9, 24, 2048), ("2.7B", 2.7e9, 32, 2560), ("6.7B", 6.7e9, 32, 4096),
              ("13B", 13e9, 40, 5140), ("175B", 175e9, 96, 12288)]  # Brown et al. 2020, Table 2.1; n_ctx = 2048


def size_table(title, rows, n_ctx):
    print(f"{title}\n{'model':>8s} {'layers':>6s} {'d_model':>7s} {'published':>11s} {'counted':>14s} {'error':>7s}")
    out = []
    for name, published, L, d in rows:
        n = course.check("gpt_param_count", vocab_size=50257, block_size=n_ctx, n_layer=L, n_embd=d)
        out.append((name, L, d, published, n))
        print(f"{name:>8s} {L:6d} {d:7d} {published / 1e6:10,.0f}M {n / 1e6:13,.1f}M {(n - published) / published:+7.1%}")
    return out


gpt2_rows = size_table("GPT-2", GPT2_TABLE, 1024)
print()
gpt3_rows = size_table("GPT-3", GPT3_TABLE, 2048)

# %% [markdown]
# Every model but the smallest GPT-2 lands within 3% — the rounding of a name. Two known oddities:
#
# * **GPT-2 "117M".** The released small checkpoint has exactly 124,439,808 parameters — the number the count
#   gives. The paper's 117M is a widely noted discrepancy (the larger GPT-2 rows are also a little under the count).
# * **GPT-3 13B, $d_\text{model} = 5140$.** That is what Table 2.1 prints, but it is not divisible by the 40 heads
#   of size 128 the same table lists; $40 \times 128 = 5120$ is almost certainly what was trained. Both give ≈ 13B.
#
# ## 7. Where the parameters go
#
# The $12C^2$ per block splits into $4C^2$ for attention ($W_{qkv}$ and the output projection) and $8C^2$ for the
# MLP — two thirds of every block is MLP. The embeddings grow only like $C$, so they matter in small models and
# vanish in large ones:

# %%
def breakdown(V, T, L, d):
    emb = V * d + T * d
    attn = L * (4 * d * d + 4 * d)
    mlp = L * (8 * d * d + 5 * d)
    ln = L * 4 * d + 2 * d
    total = emb + attn + mlp + ln
    assert total == count_params(GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=1, n_embd=d))
    return np.array([emb, attn, mlp, ln]) / total


labels = [name for name, *_ in GPT3_TABLE]
parts = np.array([breakdown(50257, 2048, L, d) for _, _, L, d in GPT3_TABLE])  # (sizes, 4)
fig, ax = plt.subplots(figsize=(9, 3.6))
bottom = np.zeros(len(labels))
for j, (part, color) in enumerate(zip(["embeddings", "attention", "MLP", "LayerNorms"],
                                      ["tab:orange", "tab:blue", "tab:green", "tab:gray"])):
    ax.bar(labels, parts[:, j], bottom=bottom, label=part, color=color)
    bottom += parts[:, j]
ax.set(ylabel="fraction of parameters", title="GPT-3 family: where the parameters go")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1)); plt.tight_layout(); plt.show()
print(f"embeddings: {parts[0, 0]:.0%} of GPT-3 Small, {parts[-1, 0]:.2%} of GPT-3 175B")

# %% [markdown]
# This is why scaling-law papers (Kaplan et al. 2020) count only the **non-embedding** parameters
# $N \approx 12\,n_\text{layer} C^2$: that is the part whose size predicts the loss, and the part that costs compute.
#
# ## 8. Compute: about 6 FLOPs per parameter per token
#
# In the forward pass every weight takes part in one multiply and one add per token: $2N$ FLOPs. The backward pass
# needs two matrix products per weight matrix (gradient with respect to the input and to the weight): $4N$. So
# training costs about
#
# $$C \approx 6 N D \quad\text{FLOPs for } D \text{ training tokens}$$
#
# (attention adds $\approx 6\, n_\text{layer} T C$ per token, small unless the context is long). GPT-3 175B was trained on
# 300 billion tokens:

# %%
n175 = gpt3_rows[-1][4]
print(f"6·N·D = 6 × {n175:.3e} × 3e11 = {6 * n175 * 3e11:.3e} FLOPs   (Brown et al. 2020, Table D.1: 3.14e23)")

# %% [markdown]
# And our NumPy engine? Time one training step (forward + backward) of a small GPT and divide:

# %%
mcfg = GPTConfig(vocab_size=tok.vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128)
m = GPT(mcfg, seed=0)
n_params = count_params(mcfg)
m(xb, yb)[1].backward()  # warm-up
t0 = time.perf_counter()
reps = 3
for _ in range(reps):
    m.zero_grad()
    m(xb, yb)[1].backward()
dt = (time.perf_counter() - t0) / reps
flops = 6 * n_params * xb.size
print(f"N = {n_params:,}; one step on {xb.size} tokens: {dt * 1e3:.0f} ms → {flops / dt / 1e9:.1f} GFLOP/s (6N rule)")
print(f"at that rate GPT-3's training would take {6 * n175 * 3e11 / (flops / dt) / 3.15e7:.2e} years")

# %% [markdown]
# ## 7. Where a training step spends its time
#
# A GFLOP/s figure says how fast we are, not *why*. Profile before you guess: Python's own `cProfile` times every
# function, and each op of the engine is a `Function` with a `forward` and a `backward`, so the profile reads as a
# list of ops. One full training step (forward, backward, AdamW) of the model above:

# %%
import cProfile
import pstats

from minigpt.autograd import Function
from minigpt.optim import AdamW


def op_names():
    # (file, first line) of every forward/backward -> "Class.method", to label the profile
    names, todo = {}, list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        for meth in ("forward", "backward"):
            if meth in cls.__dict__:
                f = cls.__dict__[meth].__func__
                names[(f.__code__.co_filename, f.__code__.co_firstlineno)] = f"{cls.__name__}.{meth}"
    return names


opt = AdamW(m.parameters(), lr=1e-3)
def train_step():
    _, loss = m(xb, yb)
    loss.backward()
    opt.step()
    opt.zero_grad()

train_step()  # warm-up
n_steps = 5
prof = cProfile.Profile()
prof.runcall(lambda: [train_step() for _ in range(n_steps)])
stats, names = pstats.Stats(prof).stats, op_names()
ms = {}
for (file, line, func), (_, _, tottime, cumtime, _) in stats.items():
    if (file, line) in names:  # cumtime: an op's time including the NumPy calls it makes
        ms[names[(file, line)]] = ms.get(names[(file, line)], 0) + cumtime / n_steps * 1e3
    elif func == "step" and file.endswith("optim.py"):
        ms["AdamW.step"] = cumtime / n_steps * 1e3
for wrapper in ("PackedAttention.forward", "PackedAttention.backward"):  # they wrap Attention.*
    ms.pop(wrapper, None)
top = sorted(ms.items(), key=lambda kv: kv[1])[-10:]
plt.figure(figsize=(6, 3.5))
plt.barh([k for k, _ in top], [v for _, v in top])
plt.xlabel("ms per training step"); plt.title(f"one step, {xb.size} tokens, {n_params:,} parameters")
plt.show()
gemm = ms.get("Linear.forward", 0) + ms.get("Linear.backward", 0)
print(f"Linear (the GEMMs) {gemm:.1f} ms of {sum(ms.values()):.1f} ms in ops")

# %% [markdown]
# The matrix products (`Linear`) take about half: they run in BLAS on every core at close to the chip's peak.
# The other half is *memory-bound* elementwise work — attention's softmax, GELU, LayerNorm, AdamW — where NumPy
# makes one pass over memory per operation and the arithmetic hardly matters.
#
# And it hides a trap. LayerNorm and softmax need a sum or a max over each *row* of a short last axis (128 features,
# 64 keys). NumPy reduces such an axis one row at a time, paying a fixed cost per row; the same sums written as a
# matrix–vector product go to BLAS:

# %%
x = np.random.default_rng(0).standard_normal((768, 128)).astype(np.float32)  # B·T rows of C features
ones = np.ones(128, dtype=np.float32)


def usec(f, n=300):
    f()
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t0) / n * 1e6


timings = {"x.sum(axis=-1)": usec(lambda: x.sum(axis=-1)), "x @ ones": usec(lambda: x @ ones),
           "x.max(axis=-1)": usec(lambda: x.max(axis=-1)), "x.max() (whole array)": usec(lambda: x.max()),
           "x * x (no broadcast)": usec(lambda: x * x)}
for k, v in timings.items():
    print(f"{k:24s} {v:6.1f} µs")
print("same numbers:", np.allclose(x.sum(axis=-1), x @ ones, atol=1e-4))

# %% [markdown]
# The engine uses this everywhere it sums rows (`backend.rowsum`, `backend.colsum`: LayerNorm, attention, bias
# gradients), and its attention softmax shifts scores by one max per head instead of one per row (softmax does not
# change under a shift; `ops/attention.py` explains how it stays safe). GELU computes ½(1 + tanh u) as the equal
# 1/(1 + e^{-2u}), because NumPy's float32 `exp` is about twice as fast as its `tanh`, and AdamW updates its
# moments in place. None of it changes a result beyond float rounding: the tests compare every op with PyTorch
# and with finite differences.
#
# How that compares with PyTorch 2.13 eager (same weights and batches, `benchmarks/train_cpu.py`) depends on the
# CPU, so each figure names its machine:
#
# | machine | threads | minigpt ÷ torch tokens/s |
# |---|---|---|
# | 2-core AMD EPYC, AVX2, idle, with the compiled loops of the next section (`benchmarks/results/train_cpu_sweep_2threads.json`) | 2 | 1.11, 1.05, 1.01, 1.14 (the four configs) |
# | the same EPYC, idle, one thread (`benchmarks/results/train_cpu_sweep_1thread_idle.json`) | 1 | 1.22, 1.05, 1.10, 1.31 |
# | 2-core AMD EPYC with AVX-512 (Zen 4), idle, with the compiled loops; torch on MKL + oneDNN (`benchmarks/results/train_cpu_sweep_2threads_avx512.json`) | 2 | 1.24, 1.08, 1.01, 1.07 |
# | the same Zen 4 EPYC, idle, one thread (`benchmarks/results/train_cpu_sweep_1thread_avx512.json`) | 1 | 1.21, 1.19, 1.12, 1.31 |
# | 2-core AMD EPYC, AVX2, shared with a dozen busy processes, NumPy expressions only (`benchmarks/results/train_cpu_sweep.json`) | 1 | 1.01, 1.12, 0.94, 1.04 (the four configs, under load) |
# | 2-core machine noted as AVX-512, idle, NumPy expressions only (`benchmarks/results/train_cpu.json`) | 2 / 1 | 1.02–1.06 / 1.16 (nanoGPT CPU config) |
# | 2-core Sapphire Rapids-class AVX-512 server, idle, where torch runs MKL + oneDNN (issue 20, before GELU-by-exp) | 2 / 1 | 0.66–0.69 (four configs) / 0.78 |
#
# `python benchmarks/train_cpu.py --sweep` prints, for four model sizes, the step split into GEMM, attention,
# elementwise, optimizer and Python time next to what the machine itself can do — the same GEMMs in a tight loop,
# the bytes the elementwise ops must move at the measured memory bandwidth — so on any CPU you can see which
# part of a step is the library's limit and which is the engine's overhead.

# %% [markdown]
# ### One loop instead of many passes
#
# NumPy evaluates GELU, $x \cdot 1/(1 + e^{-2c(x + kx^3)})$, as about eight ufunc calls: each reads a whole
# (768, 512) array and writes another, and its float32 `exp` alone costs a few nanoseconds per element. A loop that
# reads $x$ once, keeps every temporary in a register and writes $y$ once does the same work in one pass. Python
# cannot run such a loop fast, but numba (the `fast` extra) compiles a plain Python loop over an array to machine
# code. `minigpt/kernels/cpu.py` holds these loops: the very functions the CUDA kernels of notebook 10 provide
# (GELU, softmax, LayerNorm, cross-entropy, AdamW, attention's causal softmax), for the CPU.
#
# The exponential is written out too, as arithmetic the compiler can run eight lanes at a time in AVX2 registers:
# $x = n \ln 2 + r$ with $|r| \le \tfrac12 \ln 2$, so $e^x = 2^n e^r$; $e^r$ is its Taylor series to $r^6$ (the
# next term is under one float32 ulp), and $2^n$ is a float whose exponent bits are $n + 127$. The NumPy
# expressions stay the reference: the ops take the compiled loop only for float32 NumPy arrays, the tests check
# each loop against them, and `MINIGPT_FUSED=0` turns the loops off. The same GELU both ways:

# %%
from minigpt import ops
from minigpt.autograd import Tensor
from minigpt.ops.dispatch import cpu_kernels, fused_cpu

hidden = np.random.default_rng(0).standard_normal((768, 512)).astype(np.float32)  # an MLP's hidden layer


def gelu_fwd_bwd():
    t = Tensor(hidden, requires_grad=True)
    ops.gelu(t).backward(np.ones_like(hidden))


gelu_us = {}
with fused_cpu(False):
    gelu_us["NumPy expressions"] = usec(gelu_fwd_bwd, 50)
if cpu_kernels(hidden) is not None:  # numba installed
    gelu_us["one compiled loop"] = usec(gelu_fwd_bwd, 50)
plt.figure(figsize=(6, 1.6))
plt.barh(list(gelu_us), list(gelu_us.values()))
plt.xlabel("µs per GELU forward + backward, (768, 512) float32")
plt.show()
with fused_cpu(False):
    numpy_y = ops.gelu(Tensor(hidden)).data
print("largest difference:", float(np.abs(ops.gelu(Tensor(hidden)).data - numpy_y).max()))

# %% [markdown]
# ## Recap
#
# * A GPT is $h_0 = UW_e + W_p$, a stack of blocks that read the residual stream through LayerNorm and add to it,
#   and a head that scores tokens against the same embedding table: $P = \text{softmax}(\text{LN}(h_n) W_e^\top)$.
# * Shapes: $(B, T)$ ids → $(B, T, C)$ everywhere inside → $(B, T, V)$ logits; positions meet only in the
#   $(B, n_h, T, T)$ attention weights.
# * Pre-LN keeps an identity path through the residual stream: gradients at the top shrink like $1/\sqrt{L}$ instead
#   of staying large, and training starts faster; GPT-2 onwards use it.
# * Tying the head saves $VC$ parameters (31% of GPT-2 small).
# * $N \approx 12\,n_\text{layer}C^2 + VC$ reproduces the GPT-2 and GPT-3 tables within 3%; MLPs hold two thirds of
#   each block; embeddings fade from ~30% to ~0.3% of the model as it grows.
# * Training compute $C \approx 6ND$: $3.1 \times 10^{23}$ FLOPs for GPT-3.
#
# **Graded exercise.** Exercise **04.1** `gpt_param_count` in `exercises/ex04_gpt.py`: the parameter count of §6
# from a config, with or without biases and a tied head. Check it with `minigpt grade --only 04.1` (or
# `MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_04_1_gpt_param_count`). The attention exercise of
# notebook 03 is the heart of every block, and notebook 05's exercises train and sample this model.
# To explore on your own:
#
# 1. Count the parameters of LLaMA-7B (32 layers, $d = 4096$, SwiGLU MLP with hidden size 11008, no biases,
#    untied head, $V = 32000$) by hand and compare with 6.7B.
# 2. Untie the head (add a separate `Linear(C, V)`): how many parameters does the tiny model above gain, and what
#    fraction is that?
# 3. Repeat the gradient experiment with GPT-2's own initialisation (`GPT(cfg)` without `xavier_`). What changes?
