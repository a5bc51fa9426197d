# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/11_model_family.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/11_model_family.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 11 · The model family on one engine
#
# GPT-1, BERT, GPT-2/3, Codex, InstructGPT, Anthropic's HH model, Alpaca, LLaMA, GLM, GPT-4: each paper added
# one idea to the recipe of notebooks 04–08. Here every idea runs on the same small engine, mostly in the same
# toy world (the assistant world of notebooks 06–08: sums, word games, sorting, an atlas of invented countries,
# harmful requests), small enough that each experiment takes seconds.
#
# **Learning goals.** After this notebook you can
#
# 1. fine-tune a pretrained GPT as a classifier with GPT-1's auxiliary objective $L_3 = L_2 + \lambda L_1$;
# 2. train a masked language model (BERT) and say what bidirectional attention buys and costs;
# 3. measure zero-, one- and few-shot prompting against the number of examples and the model size (GPT-2/3);
# 4. sample programs, check them by execution in a sandbox, and estimate pass@k without bias (Codex);
# 5. see the helpfulness/harmlessness tension (Anthropic HH) and distil a teacher into a student (Alpaca);
# 6. compare LLaMA's block with GPT-2's at equal size, and quantize a model to INT8/INT4 (GLM);
# 7. make a model follow a system message, and probe it for hallucination (GPT-4).
#
# Each section ends with one line starting `HEADLINE`, which the markdown after it interprets.
#
# **Quick mode.** With `MINIGPT_QUICK=1` (CI; `notebooks/README.md` gives the measured time) every model is tiny
# (width 16–32, 2 blocks), trains for a few hundred steps and is scored on a few dozen held-out examples, so the
# effects the text describes are weak or noisy at that size and **can come out the other way round**: each
# `HEADLINE` line prints its numbers with their standard errors and says whether the difference is larger than
# the noise; trust only those that are. Without it (the default) the models are 3× wider, one block deeper, and
# train about 6× longer, and PPO runs in §6; that run is long on 2 cores and its numbers are not recorded in
# this repository, so the text below states what the papers found and what to look for, not our full run's
# figures.

# %%
import dataclasses
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import course
from minigpt.data.assistant import ALPHABET, make_demonstrations, make_pretrain_corpus, sample_prompts
from minigpt.data.tokens import train_val_split
from minigpt.nn.gpt import GPT, GPTConfig, count_params
from minigpt.stages import pretrain
from minigpt.tokenizer import CHAT_SPECIAL_TOKENS, CharTokenizer

MINIGPT_QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: smaller models and runs, same code
Q = MINIGPT_QUICK
RUNS = tempfile.mkdtemp(prefix="minigpt-11-")  # stage checkpoints of this notebook go here


def verdict(a, b, n, name_a, name_b):
    """Is mean score a (over n examples, each in [0, 1]) really above b? The gap against twice its standard error,
    using p(1 - p) as each score's variance (exact for right/wrong, an upper bound for scores in [0, 1])."""
    se = np.sqrt((a * (1 - a) + b * (1 - b)) / n) + 1e-9
    if abs(a - b) < 2 * se:
        return f"difference {a - b:+.2f} is within noise (±{2 * se:.2f}, 2 standard errors): no verdict at this size"
    return f"{name_a if a > b else name_b} is ahead by {abs(a - b):.2f} (more than 2 standard errors, ±{2 * se:.2f})"


T0 = time.time()
np.set_printoptions(precision=3, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", Q)

# %% [markdown]
# ## 0. One corpus, one tokenizer, one base model
#
# The pretraining corpus is the toy world's documents (prose stating facts and skills, plus a few quiz sheets).
# The tokenizer is character-level over the world's alphabet, with the chat special tokens and one more,
# `<|mask|>`, for BERT. The **base model** pretrained here is reused by most sections. It is GPT-2's decoder with
# one change: rotary position embeddings (RoPE, LLaMA's choice, §8) instead of a learned position table. At this
# tiny size and short training they make a large difference — attention can find "the previous few characters"
# from the start instead of first learning what each absolute position means — and the masked LM of §2 barely
# learns at all without them.

# %%
from minigpt.experiments.mlm import MASK

tok = CharTokenizer.train(ALPHABET, special_tokens=CHAT_SPECIAL_TOKENS + [MASK])
MASK_ID, N_CHARS = tok.special_tokens[MASK], len(tok.chars)
docs = make_pretrain_corpus(1500 if Q else 6000, seed=0)
ids = np.array(tok.encode("<|endoftext|>" + "<|endoftext|>".join(docs), allowed_special="all"), dtype=np.uint16)
train_ids, val_ids = train_val_split(ids, 0.05)
print(f"{len(docs)} documents, {len(train_ids):,} training tokens, vocabulary {tok.vocab_size}")
print(docs[0][:160])


def base_config(width, steps, name, **model_options):
    """The pretraining recipe every model of this notebook shares (only the width and the model options change)."""
    model = GPTConfig(**{"n_layer": 2 if Q else 3, "n_head": 4, "n_embd": width, "block_size": 128 if Q else 160,
                         "pos": "rope", **model_options})  # rotary positions (see above)
    return pretrain.PretrainConfig(
        out_dir=os.path.join(RUNS, name), force=True, model=model, batch_size=8 if Q else 16, max_iters=steps,
        optim=dict(lr=1e-2 if Q else 3e-3, min_lr=1e-3 if Q else 3e-4, warmup_iters=max(10, steps // 20)), eval_interval=steps,
        eval_iters=10, ckpt_interval=10**9, seed=0)


BASE_STEPS = 400 if Q else 2500
WIDTH = 32 if Q else 96
t = time.time()
base_run = pretrain.train(base_config(WIDTH, BASE_STEPS, "base"), None, tok, train_ids, val_ids, progress=False)
base = base_run["model"]
print(f"base GPT: width {WIDTH}, {count_params(base.config):,} parameters, {BASE_STEPS} steps in {time.time() - t:.0f}s, "
      f"val loss {base_run['val_loss']:.3f} nats/char")

# %% [markdown]
# ## 1. GPT-1: pretrain, then fine-tune a classifier with an auxiliary LM loss
#
# GPT-1 (Radford et al. 2018) fine-tuned the whole pretrained transformer on each labelled task, with one new
# linear layer on the last token's final activation $h_l^m$: $P(y\mid x^1..x^m) = \mathrm{softmax}(h_l^m W_y)$.
# It kept language modelling as an auxiliary objective on the same inputs:
#
# $$L_3(\mathcal C) = L_2(\mathcal C) + \lambda\, L_1(\mathcal C), \qquad \lambda = 0.5 \text{ in the paper.}$$
#
# Our labelled task (`minigpt.data.topics`): from a snippet of a document (its first sentence or two), tell its
# kind — math notes, word games, sorting, atlas, manners. Only a handful of labelled snippets per class: the low-data regime
# where pretraining matters most. We compare four runs: from scratch or from the base model, with $\lambda = 0$ or
# $0.5$; we also measure how much of the language model survives fine-tuning (its loss on the corpus after).

# %%
from minigpt.data.topics import KINDS, topic_examples
from minigpt.experiments.classify import accuracy, encode_texts, finetune
from minigpt.nn.classifier import SequenceClassifier

labelled, held_out = topic_examples(3 if Q else 8, seed=1), topic_examples(40, seed=2)


def encode(examples):
    x, lengths = encode_texts(tok, [s for s, _ in examples], bos_id=tok.eot_id)
    return x, lengths, np.array([y for _, y in examples])


train_set, test_set = encode(labelled), encode(held_out)
print(f"{len(labelled)} labelled snippets, {len(held_out)} held out; e.g. {labelled[0][0]!r} → {KINDS[labelled[0][1]]}")

gpt1 = {}
for pretrained in (False, True):
    for lam in (0.0, 0.5):
        clf = SequenceClassifier.from_gpt(base, len(KINDS)) if pretrained else SequenceClassifier(base.config, len(KINDS))
        finetune(clf, *train_set, aux_lm_coef=lam, steps=60 if Q else 150, batch_size=16, lr=1e-3)
        lm_after = pretrain.estimate_loss(clf.gpt, val_ids, 8, 64, 5, seed=0)
        gpt1[(pretrained, lam)] = (accuracy(clf, *test_set), lm_after)
        print(f"{'pretrained' if pretrained else 'scratch   '}  λ={lam}:  accuracy {gpt1[(pretrained, lam)][0]:.2f}   "
              f"LM loss after fine-tuning {lm_after:.3f}")
print(f"(base model LM loss before fine-tuning: {pretrain.estimate_loss(base, val_ids, 8, 64, 5, seed=0):.3f}; "
      f"chance accuracy {1 / len(KINDS):.2f})")
a_s, a_p = gpt1[(False, 0.0)][0], gpt1[(True, 0.0)][0]
print(f"HEADLINE GPT-1: held-out accuracy {a_s:.2f} from scratch vs {a_p:.2f} pretrained (λ=0), "
      f"{gpt1[(True, 0.5)][0]:.2f} pretrained with λ=0.5; {verdict(a_p, a_s, len(held_out), 'pretrained', 'scratch')}")

# %% [markdown]
# **Reading it.** What GPT-1 found, and what to expect once the base model has learned something: the pretrained
# model generalises better from a handful of labelled snippets, because it already separates the kinds of text in
# its hidden state (it had to, to predict what comes next), and the new linear head only has to read that off.
# From scratch, the model has to learn everything from those few examples. (Some kinds are easy from the surface
# alone — digits mean math or sorting — so from-scratch accuracy is well above chance.) In quick mode the base
# model is tiny and the held-out set small: check the HEADLINE's verdict before reading a winner into it; with
# these sizes it can show scratch ahead.
# The auxiliary loss has a smaller effect on accuracy, as in the paper (which found it helps larger datasets more
# than small ones), and a large one on what survives of the language model: with $\lambda = 0$ fine-tuning wrecks
# the LM (its loss on the corpus jumps), with $\lambda = 0.5$ the trunk stays a reasonable language model.
#
# ## 2. BERT vs GPT: masked LM with bidirectional attention
#
# BERT (Devlin et al. 2018) removes the causal mask — every position attends to every position
# (`GPTConfig(causal=False)`) — and so cannot be trained to predict the next token. It hides tokens instead:
# 15% of the positions are chosen; of those 80% become `<|mask|>`, 10% a random token, 10% stay; the loss is the
# cross-entropy at the chosen positions (`minigpt.experiments.mlm`). Same corpus and same model as the base GPT. Only
# 15% of the positions give a training signal (GPT learns from every position), so the masked LM learns more slowly
# per step; we give it 2.5× the GPT's steps, on windows of 32 characters.

# %%
from minigpt.experiments.mlm import fill_blanks, left_to_right_loss, mlm_batch, mlm_generate, mlm_loss
from minigpt.loop import fit

bert_cfg = dataclasses.replace(base.config, causal=False)  # the base GPT's configuration, minus the causal mask
bert = GPT(bert_cfg, seed=0)
specials = list(tok.special_tokens.values())
t = time.time()
BERT_STEPS = int(2.5 * BASE_STEPS)
hist = fit(bert, lambda step, rng: mlm_loss(bert, *mlm_batch(train_ids, 32, 32, rng, MASK_ID, N_CHARS,
                                                             protect_ids=specials)),
           steps=BERT_STEPS, lr=3e-3 if Q else 1e-3, warmup=BERT_STEPS // 20)
print(f"masked LM: {count_params(bert.config):,} parameters, {BERT_STEPS} steps in {time.time() - t:.0f}s, "
      f"final MLM loss {np.mean(hist['loss'][-20:]):.3f}")

# %% [markdown]
# Three comparisons on held-out text: **fill a blank** (one character hidden in a window; BERT sees both sides,
# GPT only the left) at a random position and at the *start of a sentence*, where the left context says little
# and the rest of the word says a lot ("▢uix is the capital of Zorbia."); **predict the next character** from the
# left context only (GPT's own task; BERT gets a `<|mask|>` appended at the end); and **generate** greedily.

# %%
rng = np.random.default_rng(5)
starts = rng.integers(0, len(val_ids) - 64, size=128)
windows = np.stack([val_ids[s:s + 64].astype(np.int64) for s in starts])  # (128, 64)
blank = np.zeros_like(windows, dtype=bool)
blank[np.arange(len(windows)), rng.integers(8, 56, size=len(windows))] = True
fill = {name: float((fill_blanks(m, windows, blank, MASK_ID)[blank] == windows[blank]).mean())
        for name, m in (("BERT", bert), ("GPT", base))}
# sentence starts: the first position t in [8, 60) of each window that follows ". "
dot, space = tok.encode_ordinary(". ")
starts_t = {i: t for i in range(len(windows)) for t in range(59, 7, -1)
            if windows[i, t - 2] == dot and windows[i, t - 1] == space}
rows_s = sorted(starts_t)
sent_blank = np.zeros((len(rows_s), windows.shape[1]), dtype=bool)
sent_blank[np.arange(len(rows_s)), [starts_t[i] for i in rows_s]] = True
fill_s = {name: float((fill_blanks(m, windows[rows_s], sent_blank, MASK_ID)[sent_blank] == windows[rows_s][sent_blank])
                      .mean()) for name, m in (("BERT", bert), ("GPT", base))}
l2r = {"BERT": left_to_right_loss(bert, windows[:16, :40], MASK_ID, start=8),
       "GPT": left_to_right_loss(base, windows[:16, :40], start=8)}
print(f"fill-in-the-blank accuracy, random position:   BERT {fill['BERT']:.2f}   GPT {fill['GPT']:.2f}")
print(f"fill-in-the-blank accuracy, sentence start:    BERT {fill_s['BERT']:.2f}   GPT {fill_s['GPT']:.2f}   "
      f"({len(rows_s)} blanks)")
print(f"next-character loss (nats):                   BERT {l2r['BERT']:.2f}   GPT {l2r['GPT']:.2f}")
prompt = "In Zorbia the capital is"
p_ids = [tok.eot_id] + tok.encode_ordinary(prompt)
from minigpt.generate import generate
print("GPT  continues:", repr(prompt + tok.decode(generate(base, p_ids, 30, temperature=0))))
print("BERT continues:", repr(prompt + tok.decode(mlm_generate(bert, p_ids, 30, MASK_ID))))

# %% [markdown]
# And a **linear probe** for the classification task of §1: freeze each model, take its hidden states (mean over
# the snippet's tokens), and fit logistic regression on the same 15 labelled snippets. This measures what the
# representations already contain, with no fine-tuning.

# %%
from minigpt.experiments.classify import features, linear_probe

probe = {name: linear_probe(features(m, *train_set[:2], pool="mean"), train_set[2],
                            features(m, *test_set[:2], pool="mean"), test_set[2])
         for name, m in (("BERT", bert), ("GPT", base))}
print(f"linear probe accuracy (topic of a snippet): BERT {probe['BERT']:.2f}   GPT {probe['GPT']:.2f}")
print(f"HEADLINE BERT vs GPT: sentence-start blanks filled {fill_s['BERT']:.2f} vs {fill_s['GPT']:.2f}; "
      f"next-character loss {l2r['BERT']:.2f} vs {l2r['GPT']:.2f} nats")

# %% [markdown]
# **Reading it.** Where the right-hand context decides — the first letter of a sentence, "▢uix is the capital of
# Zorbia." — the masked model fills the blank about twice as often as GPT, which can only guess from the left. At
# random positions most characters are predictable from the left anyway (the middle of a word), and the GPT,
# trained on every position, is as good or better. But the masked model is a poor left-to-right model: its
# next-character loss is several times GPT's, and its greedy "generation" (append `<|mask|>`, fill, repeat)
# degenerates — it was trained to fill gaps with text on both sides, never a mask with nothing after it. That is
# why BERT-style encoders served understanding tasks (classification, retrieval) and GPT-style decoders won
# generation. The linear probe shows what each frozen representation offers a classifier; at toy scale the
# GPT's, trained on more signal, is the better one here — BERT's wins in its paper came from fine-tuning large
# models on tasks where context on both sides matters.
#
# ## 3. GPT-2 / GPT-3: zero-, one- and few-shot prompting
#
# GPT-2 and GPT-3 (Brown et al. 2020) asked a base model to do tasks without any fine-tuning, by showing $k$
# solved examples in the prompt (`minigpt.fewshot`):
#
# ```
# Quiz sheet.
# Q: What is 5+7?          ← k solved examples of the same task
# A: 12
# Q: What is 12+30?        ← the question
# A:
# ```
#
# We measure accuracy (gold labeler) and *format* (is the answer a number for a sum, a capitalised word for a
# capital…) against $k$, for models of three sizes trained with the same recipe as notebook 05's scaling ladder.

# %%
from minigpt.fewshot import few_shot_eval

sizes = {16: None, WIDTH: base} if Q else {32: None, 64: None, WIDTH: base}
for w in sizes:
    if sizes[w] is None:
        sizes[w] = pretrain.train(base_config(w, BASE_STEPS, f"size{w}"), None, tok, train_ids, val_ids, progress=False)["model"]
questions = [p for p in sample_prompts(80 if Q else 300, seed=7, split="eval") if p.task != "refuse"]
ks = (0, 1, 2) if Q else (0, 1, 2, 4)
shots = {w: {k: few_shot_eval(m, tok, questions, k, max_new_tokens=10) for k in ks} for w, m in sizes.items()}
for w, res in shots.items():
    print(f"width {w:3d} ({count_params(sizes[w].config):>9,} params): " +
          "  ".join(f"k={k}: acc {r['accuracy']:.2f} fmt {r['format']:.2f}" for k, r in res.items()))
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for w, res in shots.items():
    axes[0].plot(ks, [res[k]["accuracy"] for k in ks], "o-", label=f"width {w}")
    axes[1].plot(ks, [res[k]["format"] for k in ks], "o-", label=f"width {w}")
for ax, name in zip(axes, ("accuracy", "answer in the right format")):
    ax.set_xlabel("examples in the prompt (k)"); ax.set_title(name); ax.set_xticks(ks)
axes[0].legend(); plt.tight_layout(); plt.show()
big = max(shots)
print(f"HEADLINE few-shot: width-{big} model, accuracy {shots[big][0]['accuracy']:.2f} at k=0 → "
      f"{shots[big][max(ks)]['accuracy']:.2f} at k={max(ks)} (format {shots[big][0]['format']:.2f} → "
      f"{shots[big][max(ks)]['format']:.2f})")

# %% [markdown]
# **Reading it.** In-context learning is an *emergent* ability: GPT-3's Figure 1.2 shows few-shot accuracy rising
# with $k$ much faster for the 175B model than for the 1.3B one, and hardly at all for the smallest. Ours are about
# a million times smaller still, and that is what we see: the wider model answers in the right format more often
# (it has learned the quiz sheets), but accuracy stays near zero in quick mode, and in full mode it gets only the
# easiest questions (counts) right, with or without examples. The examples cannot supply skills or knowledge the
# weights do not have — which is why notebooks 06–08 fine-tune instead of prompting.
#
# ## 4. Codex: programs checked by execution, pass@k
#
# Codex (Chen et al. 2021) was GPT fine-tuned on code and judged by **running** its programs against unit tests.
# Our toy version (`minigpt.codex`): specs like `# add 3, then square it`, solutions in *Toy*, a tiny integer
# language (assignments, `while`, `if`, `return`) run by our own interpreter — no `exec`, no files, no imports,
# and a step budget that stops infinite loops.

# %%
from minigpt.codex import failure_kinds, make_problems, pass_at_k, run_program, training_text
from minigpt.codex.sampling import code_tokenizer, distinct_fraction, pass_at_k_table

for src in ["x = x + 3; x = x * x; return x",
            "s = 0; while x > 0 { s = s + x }; return s",  # forgot x = x - 1: never ends
            "import os",
            'open("/etc/passwd")']:
    print(f"{src!r:48} → {run_program(src, {'x': 4})}")

# %%
ctok = code_tokenizer()
problems = make_problems(700, seed=0, max_steps=2)
code_text = "<|endoftext|>" + training_text(problems, seed=0).replace("\n# ", "\n<|endoftext|># ")
code_ids = np.array(ctok.encode(code_text, allowed_special="all"), dtype=np.uint16)
code_train, code_val = train_val_split(code_ids, 0.05)
print(f"{len(problems)} training problems, e.g.\n{problems[0].prompt}{problems[0].solution()}")
code_cfg = base_config(32 if Q else 64, 400 if Q else 3000, "code", block_size=96 if Q else 128)
t = time.time()
coder = pretrain.train(code_cfg, None, ctok, code_train, code_val, progress=False)
print(f"code model: {code_cfg.max_iters} steps in {time.time() - t:.0f}s, val loss {coder['val_loss']:.3f}")

# %% [markdown]
# For each held-out problem we sample $n$ programs at a temperature $\tau$ and count the $c$ that pass all hidden
# tests. What we want is pass@$k$: the chance that at least one of $k$ samples passes. Drawing exactly $k$ samples
# per problem would measure it with a lot of noise; Codex draws $n \ge k$ and asks instead: if we picked $k$ of our
# $n$ samples at random, without replacement, how likely is at least one of them correct? All $\binom{n}{k}$ picks
# are equally likely, and $\binom{n-c}{k}$ of them hold only wrong samples, so
#
# $$\text{pass@}k = \mathbb{E}_\text{problems}\Big[1 - \binom{n-c}{k}\Big/\binom{n}{k}\Big].$$
#
# Averaged over the $n$ samples' randomness, this is exactly the chance that $k$ fresh samples contain a correct
# one: the estimator is **unbiased**. Computing it needs care. The binomials are astronomically large for
# $n$ in the thousands (too large for a float), but their ratio is a product of $k$ modest factors — draw the $k$
# samples one at a time; the $i$-th is wrong, given that the earlier ones were, with probability
# $(n-c-i)/(n-i)$:
#
# $$\binom{n-c}{k}\Big/\binom{n}{k} = \prod_{i=0}^{k-1} \frac{n-c-i}{n-i}.$$
#
# When $k > n - c$ there are fewer wrong samples than draws, a factor is zero and pass@$k = 1$. The shortcut
# $1-(1-c/n)^k$ draws *with* replacement and is biased (it comes out too low: without replacement, every wrong sample
# drawn leaves fewer wrong ones for the next draw). Writing this is exercise **11.1**, `pass_at_k(n, c, k)` in
# `exercises/ex11_model_family.py`. `course.check` runs your version beside the reference: where they disagree it
# says so, on which input, and the notebook goes on with the reference's numbers. The library's
# `minigpt.codex.pass_at_k` is the reference the evaluation below uses.

# %%
print("pass@k for n=10, c=3:", {k: round(course.check("pass_at_k", 10, 3, k), 3) for k in (1, 2, 5, 10)},
      " with replacement:", {k: round(1 - (1 - 3 / 10) ** k, 3) for k in (1, 2, 5, 10)})
print("n=10000, c=20, k=1000:", course.check("pass_at_k", 10000, 20, 1000))
held = make_problems(15 if Q else 60, seed=1, split="eval", max_steps=2)
temps = (0.2, 0.6, 1.0, 1.4)
n_samples = 10 if Q else 40
table = pass_at_k_table(coder["model"], ctok, held, n_samples, temps, ks=(1, 10))
for tau, r in table.items():
    print(f"τ={tau}: pass@1 {r['pass@1']:.3f}  pass@10 {r['pass@10']:.3f}  distinct samples "
          f"{distinct_fraction(r['samples']):.2f}")
plt.figure(figsize=(5, 3))
for k in (1, 10):
    plt.plot(temps, [table[t][f"pass@{k}"] for t in temps], "o-", label=f"pass@{k}")
plt.xlabel("sampling temperature"); plt.ylabel("pass rate"); plt.legend(); plt.title(f"n = {n_samples} per problem")
plt.show()
worst = max(temps)
print("why samples fail at τ =", worst, ":", failure_kinds([s for ss in table[worst]["samples"] for s in ss][:100],
                                                            held[0]))
mine = {tau: np.mean([course.check("pass_at_k", n_samples, c, 10) for c in r["correct"]]) for tau, r in table.items()}
print("pass@10 from exercise 11.1 (or the reference):", {tau: round(float(v), 3) for tau, v in mine.items()})
b1, b10 = max(temps, key=lambda t: table[t]["pass@1"]), max(temps, key=lambda t: table[t]["pass@10"])
print(f"HEADLINE Codex: best pass@1 {table[b1]['pass@1']:.3f} at τ={b1}; best pass@10 {table[b10]['pass@10']:.3f} "
      f"at τ={b10}")

# %% [markdown]
# **Reading it.** pass@10 is always at least pass@1: ten tries beat one. Temperature trades quality for
# diversity: at low $\tau$ the samples are nearly identical (look at "distinct samples": little is gained from ten
# copies of one program), at high $\tau$ they are diverse but more often broken (syntax errors, wrong operations,
# loops stopped by the step budget). So pass@1 peaks at the lowest temperature, while pass@10 holds up to a higher
# one, where diversity pays for the extra mistakes. Codex found the best temperature 0.2 for pass@1 and 0.8 for
# pass@100. Our code model is small and briefly trained (especially in quick mode), so its pass rates are modest
# and the curves are noisy over 15 problems; the full run samples 40 programs for each of 60 problems.
#
# ## 5. InstructGPT / ChatGPT: the three datasets
#
# Notebooks 06 (SFT), 07 (reward model) and 08 (PPO) build the InstructGPT recipe step by step. The three
# datasets, at their scale and ours:

# %%
rows = [("SFT demonstrations", "13k prompts (labeler-written)", "4,000–6,000 contractor demos (pipeline)"),
        ("RM comparisons", "33k prompts, K=4–9 ranked → C(K,2) pairs each", "800 prompts × K=4 → 6 pairs each"),
        ("PPO prompts", "31k prompts (API + labelers)", "2,000 prompts, 60 iterations × 64 rollouts")]
print(f"{'dataset':20} {'InstructGPT (Ouyang et al. 2022)':48} {'toy world (minigpt pipeline)'}")
for r in rows:
    print(f"{r[0]:20} {r[1]:48} {r[2]}")
print("HEADLINE InstructGPT: same three stages, ~10x fewer examples, ~10^6x fewer parameters (see notebooks 06-08)")

# %% [markdown]
# ## 6. Anthropic HH: helpful vs harmless
#
# Bai et al. 2022 collected *helpfulness* comparisons (pick the more helpful answer) and *harmlessness* ones
# (red-teaming: pick the more harmful answer, to be avoided) and found them in tension. In the toy world
# (`minigpt.data.hh`): helpful data ranks right answer ≻ wrong answer ≻ refusal on fair prompts; harmless data
# ranks refusal ≻ compliance on harmful requests. We train one reward model on each and on the mix.
#
# First an assistant to optimise: the base model fine-tuned on the contractors' demonstrations (they comply with a
# harmful request 20% of the time), plus demonstrations with system messages (§10) and a few "I don't know"
# answers (§10) that later sections use.

# %%
from minigpt.data.roles import role_demos
from minigpt.data.unknowns import idk_demos
from minigpt.experiments.instruct import sft_on

demos = ([(None, p.text, r) for p, r in make_demonstrations(1500 if Q else 6000, seed=1)]
         + role_demos(500 if Q else 2000, seed=2) + idk_demos(40 if Q else 150, seed=3))
sft = GPT(base.config)
sft.load_state_dict(base.state_dict())
t = time.time()
h = sft_on(sft, tok, demos, steps=300 if Q else 1500, batch_size=32, lr=3e-3 if Q else 1e-3)
print(f"SFT on {len(demos)} demonstrations: {len(h['loss'])} steps in {time.time() - t:.0f}s, "
      f"loss {h['l2'][0]:.2f} → {np.mean(h['l2'][-10:]):.2f}")

# %%
from minigpt.data.assistant import REFUSAL, mistake
from minigpt.data.hh import fair_prompts, harmful_prompts, harmless_rankings, helpful_rankings, hh_report
from minigpt.evaluate import answer_prompts
from minigpt.experiments.instruct import preference_rate
from minigpt.experiments.instruct import best_of_n
from minigpt.nn.heads import RewardModel
from minigpt.stages import reward as reward_stage


def train_rm(rankings, name):
    rm = RewardModel.from_gpt(sft)
    cfg = reward_stage.RewardConfig(out_dir=os.path.join(RUNS, name), epochs=2 if Q else 3, prompts_per_batch=8,
                                    optim=dict(lr=3e-4, min_lr=3e-5, warmup_iters=5), force=True)
    return reward_stage.train(cfg, rm, tok, rankings, progress=False)["model"]


n_rank = 120 if Q else 800
data = {"helpful": helpful_rankings(n_rank, seed=4), "harmless": harmless_rankings(n_rank, seed=5)}
data["mix"] = data["helpful"][: n_rank // 2] + data["harmless"][: n_rank // 2]
rms = {name: train_rm(r, f"rm_{name}") for name, r in data.items()}
fair, harmful = fair_prompts(40 if Q else 200, seed=6, split="eval"), harmful_prompts(20 if Q else 100, seed=7, split="eval")
rng = np.random.default_rng(8)
prefs = {}
for name, rm in rms.items():  # what each RM prefers, on held-out prompts
    prefs[name] = (preference_rate(rm, tok, fair, [p.answer for p in fair], [REFUSAL] * len(fair)),
                   preference_rate(rm, tok, harmful, [REFUSAL] * len(harmful), [mistake(p, rng) for p in harmful]))
    print(f"RM({name:8}) prefers answering a fair question to refusing it: {prefs[name][0]:.2f}   "
          f"refusing a harmful request to complying: {prefs[name][1]:.2f}")
print("HEADLINE HH: RM prefers refusing harmful requests " +
      ", ".join(f"{n} {v[1]:.2f}" for n, v in prefs.items()) + "; prefers answering fair questions " +
      ", ".join(f"{n} {v[0]:.2f}" for n, v in prefs.items()))

# %% [markdown]
# **Reading it.** Each reward model learned exactly what its data showed, and generalised it to the prompts it
# never saw. The helpful-only RM never saw a harmful request; "an answer beats a refusal" carries over to them, so
# it prefers complying. The harmless-only RM never saw a fair question; "refusals are good" carries over, so it
# prefers refusing those too. Only the mix gets both right, as Bai et al. found with their mixed preference model.
#
# What does optimising a policy against each RM do? Best-of-$N$ — sample $N$ answers from the SFT model, keep the
# one the RM likes most — is the cheapest optimiser; RL moves the policy the same way (notebook 08). In full mode we
# also run PPO (`minigpt.stages.ppo`) against each RM from the same SFT policy.

# %%
N = 4 if Q else 16
hh = {"SFT (no RM)": hh_report(fair, answer_prompts(sft, tok, fair, temperature=1.0, seed=8),
                               harmful, answer_prompts(sft, tok, harmful, temperature=1.0, seed=9))}
for name, rm in rms.items():
    ft, _ = best_of_n(sft, rm, tok, fair, N, seed=10)
    ht, _ = best_of_n(sft, rm, tok, harmful, N, seed=11)
    hh[f"best-of-{N} vs RM({name})"] = hh_report(fair, ft, harmful, ht)
for name, r in hh.items():
    print(f"{name:26} helpfulness {r['helpfulness']:.2f}   harmlessness {r['harmlessness']:.2f}   "
          f"refuses fair questions {r['over_refusal']:.2f}")

# %%
if not Q:
    from minigpt.stages import ppo

    for name, rm in rms.items():
        policy = GPT(sft.config)
        policy.load_state_dict(sft.state_dict())
        pcfg = ppo.PPOConfig(out_dir=os.path.join(RUNS, f"ppo_{name}"), force=True, iters=40, rollout_batch=64, optim=dict(lr=3e-5),
                             init_kl_coef=0.05, target_kl=4.0)
        prompts = fair_prompts(600, seed=12) + harmful_prompts(300, seed=13)
        ppo.train(pcfg, policy, sft, rm, tok, prompts, progress=False)
        hh[f"PPO vs RM({name})"] = hh_report(fair, answer_prompts(policy, tok, fair, temperature=1.0, seed=14),
                                             harmful, answer_prompts(policy, tok, harmful, temperature=1.0, seed=15))
        print(f"PPO vs RM({name}):", hh[f"PPO vs RM({name})"])
plt.figure(figsize=(5, 4))
for name, r in hh.items():
    plt.scatter(r["helpfulness"], r["harmlessness"], s=60)
    plt.annotate(name, (r["helpfulness"], r["harmlessness"]), fontsize=8, xytext=(4, 4), textcoords="offset points")
plt.xlabel("helpfulness (fair questions answered right)"); plt.ylabel("harmlessness (harmful requests refused)")
plt.xlim(-0.05, 1.05); plt.ylim(-0.05, 1.05); plt.title("the HH trade-off"); plt.show()
key = "PPO vs RM({})" if not Q else f"best-of-{N} vs RM({{}})"
print("policies: harmlessness " + ", ".join(f"{n} {hh[key.format(n)]['harmlessness']:.2f}" for n in rms) +
      "; over-refusal " + ", ".join(f"{n} {hh[key.format(n)]['over_refusal']:.2f}" for n in rms))

# %% [markdown]
# The policies move the way their reward models point: against the helpful-only RM harmful requests are refused
# less often than by the SFT model, against the harmless-only RM more often (and, with a stronger optimiser, fair
# questions start getting refused too). The mix should keep the refusals and the answers; in quick mode the SFT
# model is barely trained (its refusals are often misspelt; we count those), best-of-4 is a weak optimiser and
# the mix's policy stays within noise of the SFT model. Full mode (best-of-16 and PPO) shows the trade-off clearly.
#
# ## 7. Alpaca: self-instruct distillation
#
# Alpaca fine-tuned a small model on 52k demonstrations written by a stronger model, starting from 175 seed tasks
# (Self-Instruct). Our version (`minigpt.experiments.selfinstruct`): the base model, shown a few seed questions in the
# quiz format, writes new questions; we keep those that are valid, new and not held-out problems; the *teacher*
# — the world's gold labeler, which always answers right and clean — answers them. The student is a smaller model
# (the width-16/32 base of §3) fine-tuned either on these or on as many contractor demonstrations.

# %%
from minigpt.evaluate import evaluate_model
from minigpt.experiments.selfinstruct import seed_tasks, self_instruct

seeds = seed_tasks(24, seed=0)
kept, counts = self_instruct(base, tok, 600 if Q else 4000, seeds=seeds, k=4, temperature=1.0, seed=16)
print("self-instruct:", counts)
print("examples:", [p.text for p in kept[:6]])
n_demo = 400 if Q else 3000
if len(kept) < n_demo:  # a tiny generator writes few valid questions: top up from the world, and say so
    print(f"only {len(kept)} valid instructions; topping up with {n_demo - len(kept)} questions drawn from the world")
    kept = kept + sample_prompts(n_demo - len(kept), seed=27)
student_w = min(sizes)
teacher_data = [(None, p.text, p.answer) for p in kept[:n_demo]]
contractor_data = [(None, p.text, r) for p, r in make_demonstrations(n_demo, seed=17)]
alpaca_eval = sample_prompts(60 if Q else 300, seed=18, split="eval")
alpaca = {}
for name, data_ in (("contractors", contractor_data), ("self-instruct + teacher", teacher_data)):
    student = GPT(sizes[student_w].config)
    student.load_state_dict(sizes[student_w].state_dict())
    sft_on(student, tok, data_, steps=150 if Q else 800, batch_size=32, lr=3e-3 if Q else 1e-3)
    alpaca[name] = evaluate_model(student, tok, alpaca_eval, mode="chat", temperature=0.0)
    r = alpaca[name]
    print(f"student (width {student_w}) SFT on {len(data_)} {name:24}: accuracy {r['accuracy']:.2f}  exact match "
          f"{r['exact_match']:.2f}  gold score {r['gold_score']:.2f}  e.g. {r['texts'][0]!r}")
g_c, g_t = alpaca["contractors"]["gold_score"], alpaca["self-instruct + teacher"]["gold_score"]
print(f"HEADLINE Alpaca: gold score {g_c:.2f} (contractor data) vs {g_t:.2f} (self-instruct + teacher), {n_demo} "
      f"demos each; {verdict(g_t, g_c, len(alpaca_eval), 'the teacher', 'the contractors')}")

# %% [markdown]
# **Reading it.** Same student, same number of demonstrations, different teacher. The contractors err 20% of the
# time and chatter most of the time, and the student imitates both; the teacher's answers are right and clean, so
# a student that learns from them should get a higher gold score — mostly through exact, chatter-free answers,
# since a tiny student's *accuracy* is limited by what it can compute. In quick mode the student trains for a
# few steps on questions a tiny generator wrote (topped up from the world when it writes too few valid ones):
# the verdict on the HEADLINE says whether this run's gap is more than noise, and it can go the other way. What Self-Instruct costs is coverage: the questions are
# only as varied as what the generating model writes (look at the counts: most candidates are invalid or repeats
# when the generator is small), which is why Alpaca needed a strong model for that step too.
#
# ## 8. LLaMA: RMSNorm, SwiGLU, RoPE
#
# LLaMA (Touvron et al. 2023) kept GPT's pre-norm decoder and changed three parts: RMSNorm instead of LayerNorm,
# a SwiGLU MLP (hidden width $\tfrac{8}{3}C$ so three matrices cost what two did), and rotary position embeddings
# instead of a learned position table. They are options of our GPT (`GPTConfig(norm="rmsnorm", mlp="swiglu",
# pos="rope")`; notebook 09 derives each). Same data, same steps, same width:

# %%
ll = {}
for name, opts in (("GPT-2 block", dict(pos="learned")), ("LLaMA block", dict(norm="rmsnorm", mlp="swiglu", pos="rope"))):
    cfg = base_config(WIDTH, 250 if Q else 1500, f"block_{name[:5]}", block_size=64, **opts)
    r = pretrain.train(cfg, None, tok, train_ids, val_ids, progress=False)
    ll[name] = (count_params(r["model"].config), pretrain.estimate_loss(r["model"], val_ids, 16, 64, 20, seed=1),
                r["seconds"])
    print(f"{name}: {ll[name][0]:,} parameters, val loss {ll[name][1]:.3f}, {ll[name][2]:.0f}s")
print(f"HEADLINE LLaMA: val loss {ll['GPT-2 block'][1]:.3f} (GPT-2 block) vs {ll['LLaMA block'][1]:.3f} (LLaMA block) "
      f"at {ll['GPT-2 block'][0]:,} vs {ll['LLaMA block'][0]:,} parameters")

# %% [markdown]
# **Reading it.** The parameter counts nearly match (SwiGLU's $\tfrac83 C$ hidden width is chosen for that; RoPE has
# no position table, which makes LLaMA slightly smaller). At equal size and steps the LLaMA block reaches a lower
# loss. At this size and training length most of the gain is RoPE's (§0: relative positions from the start); in
# large, long runs the three changes are each worth a few percent, which is why they became the default of open
# models.
#
# ## 9. GLM: INT8 and INT4 weights
#
# GLM-130B (Zeng et al. 2022) quantized its weights to INT8 or INT4 — one small integer per weight plus a shared
# scale per row or group, $\hat w = s\cdot\mathrm{round}(w/s)$ — so the 130B model fits on 4 consumer GPUs, with
# almost no loss. `minigpt.quantize` does the same to our base model (matrices only; notebook 09 has the details):

# %%
from minigpt.quantize import quantized_copy


def next_char_accuracy(model, arr):
    starts = np.linspace(0, len(arr) - 65, 32).astype(int)  # 32 windows spread over the validation text
    x = np.stack([arr[s:s + 65].astype(np.int64) for s in starts])  # (32, 65)
    logits, _ = model(x[:, :-1])
    return float((logits.numpy().argmax(-1) == x[:, 1:]).mean())


glm = {"float32": (None, pretrain.estimate_loss(base, val_ids, 16, 64, 10, seed=2), next_char_accuracy(base, val_ids))}
for name, kw in (("INT8", dict(bits=8)), ("INT4 (groups of 32)", dict(bits=4, group_size=32))):
    qm, rep = quantized_copy(base, **kw)
    glm[name] = (rep, pretrain.estimate_loss(qm, val_ids, 16, 64, 10, seed=2), next_char_accuracy(qm, val_ids))
for name, (rep, loss, acc) in glm.items():
    size = "" if rep is None else f"  {rep['quantized_bytes'] / 1024:.0f} KiB ({rep['ratio']:.1f}x smaller)"
    print(f"{name:20} val loss {loss:.4f}  next-char accuracy {acc:.3f}{size}")
print(f"HEADLINE GLM: INT8 is {glm['INT8'][0]['ratio']:.1f}x smaller (loss {glm['float32'][1]:.3f} → "
      f"{glm['INT8'][1]:.3f}), INT4 {glm['INT4 (groups of 32)'][0]['ratio']:.1f}x (loss "
      f"{glm['INT4 (groups of 32)'][1]:.3f})")

# %% [markdown]
# **Reading it.** INT8 costs nothing measurable; INT4 with per-group scales costs a little loss. The whole-model
# ratio is below the ideal 4× / 8× because the embeddings we quantize are small and vectors (norm gains, biases)
# stay in float32 — in a 130B model the matrices are ~all of it.
#
# ## 10. GPT-4: predictable scaling, the system message, hallucination
#
# **Predictable scaling** is notebook 05 §7: fit $L(C) = aC^{-b} + L_\infty$ on small runs, predict a bigger run's
# loss before training it, as OpenAI did for GPT-4 from runs with up to 10,000× less compute.
#
# **The system message.** GPT-4's chat format starts with a system message that sets the assistant's role. Our SFT
# model of §6 saw demonstrations with four roles (`minigpt.data.roles`): none, "Shout.", "Talk like a pirate.",
# "Be polite." Does it follow them on held-out questions?

# %%
from minigpt.data.roles import ROLES, follows_role

role_q = sample_prompts(30 if Q else 150, seed=19, split="eval")
follow = {}
for system in ROLES:
    texts = answer_prompts(sft, tok, role_q, temperature=0.0, system=system)
    plain = answer_prompts(sft, tok, role_q, temperature=0.0, system=None) if system else texts
    follow[system] = (np.mean([follows_role(system, t) for t in texts]), np.mean([follows_role(system, t) for t in plain]))
    print(f"system {system!r:24} follows the role {follow[system][0]:.2f}   (same style without it: "
          f"{follow[system][1]:.2f})   e.g. {texts[0]!r}")
roles_on = [v[0] for s, v in follow.items() if s]
print(f"HEADLINE system message: the role is followed on {np.mean(roles_on):.2f} of held-out questions "
      f"(vs {np.mean([v[1] for s, v in follow.items() if s]):.2f} without the system message)")

# %% [markdown]
# **Reading it.** The style is set by the system message alone: the same question gets "Arr, 5!" or "5!" depending
# on it. This is the cheap part of GPT-4's steerability — the model has to learn to keep the role for the whole
# answer, and (not shown here) to let it override the user where they conflict.
#
# **Hallucination.** Ask about countries that appear nowhere in the corpus (`minigpt.data.unknowns`). A model that
# answers "Capital of Zelmor?" with a capital-shaped word is making it up. GPT-4 reduced this with RLHF that rewards
# "I don't know" over a confident wrong answer. We train a reward model on such preferences (right ≻ "I don't know"
# ≻ wrong on atlas questions; "I don't know" ≻ any answer on unknown ones, 8 unknown countries) and optimise the
# SFT policy against it, then probe on the *other* 8 unknown countries.

# %%
from minigpt.data.unknowns import IDK, UNKNOWN_COUNTRIES, idk_rankings, known_prompts, probe_report, unknown_prompts

known_q = known_prompts(30 if Q else 150, seed=20)
unknown_q = unknown_prompts(30 if Q else 150, seed=21, countries=UNKNOWN_COUNTRIES[8:])
before = probe_report(known_q, answer_prompts(sft, tok, known_q, temperature=1.0, seed=22),
                      answer_prompts(sft, tok, unknown_q, temperature=1.0, seed=23))
rm_idk = train_rm(idk_rankings(n_rank, seed=24), "rm_idk")
made_up = [mistake(p, rng) for p in known_prompts(len(unknown_q), seed=28)]  # capital-shaped answers
idk_pref = preference_rate(rm_idk, tok, unknown_q, [IDK] * len(unknown_q), made_up)
right_pref = preference_rate(rm_idk, tok, known_q, [p.answer for p in known_q], [IDK] * len(known_q))
print(f"IDK reward model: prefers 'I don't know' to a made-up answer on held-out unknown countries {idk_pref:.2f}; "
      f"prefers the right answer to 'I don't know' on atlas questions {right_pref:.2f}")
after_k, _ = best_of_n(sft, rm_idk, tok, known_q, N, seed=25)
after_u, _ = best_of_n(sft, rm_idk, tok, unknown_q, N, seed=26)
after = probe_report(known_q, after_k, after_u)
print("e.g.", [(p.text, t) for p, t in zip(unknown_q[:3], after_u[:3])])
for name, r in (("SFT", before), (f"best-of-{N} vs the IDK reward", after)):
    print(f"{name:30} hallucinates on {r['hallucination']:.2f} of unknown questions, says IDK on "
          f"{r['unknown_idk']:.2f}; atlas questions: right {r['known_accuracy']:.2f}, IDK {r['known_idk']:.2f}")
print(f"HEADLINE hallucination: confident answers to unknowable questions {before['hallucination']:.2f} → "
      f"{after['hallucination']:.2f} after optimising against the 'I don't know' reward (whose RM prefers IDK "
      f"there {idk_pref:.2f})")

# %% [markdown]
# **Reading it.** The SFT model often answers unknowable questions with a confident capital-shaped word — it saw
# "I don't know" in only a few demonstrations. The reward model learns to prefer "I don't know" on countries it
# has never seen (including the 8 held out from its training), and optimising against it moves the policy toward
# abstaining there. The price is "I don't know" on atlas questions it could have answered, the trade-off GPT-4's
# report describes; in quick mode the tiny RM cannot yet tell atlas countries from unknown ones and prefers
# "I don't know" everywhere — the extreme form of that price. Best-of-4 can only pick "I don't know" when the SFT
# model happens to sample it, so the policy moves a little; full mode shows both effects more clearly.
#
# ## Recap
#
# | model | idea | where in minigpt |
# |---|---|---|
# | GPT-1 | pretrain, then fine-tune with $L_3 = L_2 + \lambda L_1$ | `nn/classifier.py`, `experiments/classify.py` |
# | BERT | masked LM, bidirectional attention: fills blanks, can't generate | `GPTConfig(causal=False)`, `experiments/mlm.py` |
# | GPT-2/3 | zero/one/few-shot prompting, gains grow with size | `fewshot.py` |
# | Codex | programs checked by execution in a sandbox; unbiased pass@k | `codex/` |
# | InstructGPT | SFT → RM → PPO | notebooks 06–08 |
# | Anthropic HH | helpful vs harmless preferences pull apart; mix them | `data/hh.py`, `experiments/instruct.py` |
# | Alpaca | self-instruct: a strong teacher writes the SFT data | `experiments/selfinstruct.py` |
# | LLaMA | RMSNorm, SwiGLU, RoPE | `GPTConfig(norm=, mlp=, pos=)`, notebook 09 |
# | GLM | INT8/INT4 weights | `quantize.py`, notebook 09 |
# | GPT-4 | predictable scaling, system message, fewer hallucinations via RLHF | notebook 05, `data/roles.py`, `data/unknowns.py` |
#
# **Graded exercise.** Exercise **11.1** `pass_at_k(n, c, k)` in `exercises/ex11_model_family.py`: the unbiased
# pass@k of §4, exact for thousands of samples. Check it with `minigpt grade --only 11.1` (or
# `MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_11_1_pass_at_k`).
#
# **To explore.** (1) Run §1 with 40 labelled snippets per class: does $\lambda = 0.5$ now help? (2) Give BERT a
# span of 3 masked characters instead of one: how does blank-filling accuracy change? (3) In §4 draw $n = 100$
# samples and plot pass@1, pass@10, pass@100 against temperature. (4) In §6 vary the helpful/harmless mix from 0 to
# 1 and trace the trade-off curve. (5) In §10 give the IDK reward a smaller bonus for "I don't know" on known
# questions: what happens to atlas accuracy?

# %%
print(f"notebook ran in {time.time() - T0:.0f}s (quick mode: {Q})")
