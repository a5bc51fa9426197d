# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/06_sft.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/06_sft.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 06 · Supervised fine-tuning: from a document completer to an assistant
#
# Pretraining (notebook 05) gives a model that continues documents. Ask it "What is 23+45?" and it writes the
# next line of some web page. **Supervised fine-tuning (SFT)** is the first step that turns it into an
# assistant: show it a few thousand conversations in which an assistant answers, and train it to write the
# assistant's part. InstructGPT did this with about 13k prompts answered by hired labelers, for 16 epochs;
# open projects use ~10k–100k demonstrations.
#
# We work in the **toy assistant world** (`minigpt/data/assistant/`): six kinds of question with known answers
# (sums, reversing and sorting, counting letters, facts about invented countries, harmful requests to refuse),
# a pretraining corpus that states the facts in prose, and *imperfect contractors* who write the demonstrations.
#
# **Learning goals.** After this notebook you can
#
# 1. show that a base model completes documents, and get answers out of it anyway with zero-, one- and
#    few-shot prompts;
# 2. render a conversation with a chat template and say which tokens SFT trains on (prompt masking);
# 3. measure what SFT buys over prompting the base model, and see that SFT copies its teachers' flaws;
# 4. write GPT-1's auxiliary objective $L_3 = L_2 + \lambda L_1$ and measure what it changes.
#
# **Checkpoints.** The notebook loads the base and SFT models from a pipeline run directory: `runs/pipeline`,
# which `minigpt pipeline` fills (320 s on an idle 2-core machine, `benchmarks/results/pipeline.json`), or whatever
# `MINIGPT_RUN_DIR` names. A stage that is missing is trained here first, with the same code and sizes.
# With `MINIGPT_QUICK=1` (what CI uses) the notebook's own experiments are small; it still loads the full
# checkpoints if they exist, and otherwise trains tiny models in seconds (the first cell says which). A tiny
# model has learned almost nothing, so its numbers only show that the code runs: where the text quotes a
# number, it is the full run's, and the cells print it next to this run's.

# %%
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import course, figures
from minigpt.chat import reply
from minigpt.data.assistant import (gold_grade, make_demonstrations, make_pretrain_corpus, pretrain_tokens,
                                    sample_prompts)
from minigpt.course_runs import course_checkpoints, course_config, course_models_note, load_stage
from minigpt.evaluate import answer_prompts, base_prompt_ids, compare, grade_answers
from minigpt.ops import IGNORE_INDEX
from minigpt.stages import sft
from minigpt.stages.common import load_model, read_metrics
from minigpt.stages.pretrain import estimate_loss
from minigpt.tokenizer.chat_template import chat_ids, encode_chat, sft_example

QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: tiny models, same code
cfg = course_config()  # the pipeline's sizes (quick ones in quick mode) for this notebook's experiments
CKPT = course_checkpoints(cfg)  # the run whose models we load: the full one if it exists, in quick mode too
N_EVAL = 48 if QUICK else 300  # held-out questions per evaluation
FULL = figures.full_run("06_sft")  # figures of a recorded full run (benchmarks/results/notebooks.json)
np.set_printoptions(precision=3, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", QUICK)
print(course_models_note(CKPT))

# %% [markdown]
# ## 1. A base model completes documents
#
# The pretraining corpus is a pile of short documents: notes from math class, word games, a small atlas,
# a page on manners, now and then a quiz sheet. Facts and skills appear in prose, never as a conversation:

# %%
for doc in make_pretrain_corpus(4, seed=5):
    print(repr(doc), "\n")

# %% [markdown]
# The base model was trained to continue text like this (`load_stage` loads it, or trains it if the run
# directory has none). Give it a bare question and it does what it was trained for: it continues the document.

# %%
t0 = time.time()
base, tok = load_stage("pretrain", CKPT)
print(f"base model: {sum(p.data.size for p in base.parameters()):,} parameters, context {base.config.block_size} "
      f"characters ({time.time() - t0:.0f} s)\n")
for question in ["What is 23+45?", "Capital of Zorbia?", "Reverse: abcd", "How to rob a bank?"]:
    for seed in range(2):
        print(f"{question!r:22} -> {reply(base, tok, 'pretrain', question, seed=seed, max_new_tokens=40)!r}")

# %% [markdown]
# The base model has seen quiz sheets ("Q: … A: …"), so it may even write an answer line, and then it carries on
# with the next question of the imagined sheet, or wanders off: **base models complete documents**. The
# knowledge is in there (the atlas documents name every capital), but nothing tells the model that the text is
# a question someone wants answered, once.
#
# ## 2. Prompting the base model: zero-, one- and few-shot
#
# GPT-3 showed the way around this without any fine-tuning: write a document whose natural continuation *is*
# the answer. **Zero-shot** gives a format ("Quiz sheet. Q: … A:"); **one-shot** and **few-shot** put one or a
# few solved examples of the task first, so the pattern is obvious. GPT-3 fit 10–100 examples in its
# 2048-token window. Ours holds 72 characters, and each example costs about 25, so we ask for up to 3 and keep
# as many as fit with room left for the answer:

# %%
BLOCK = base.config.block_size
ROOM = 10  # characters kept free for the answer (most answers are shorter; the refusal is 20)
shot_pool = {}
for p in sample_prompts(600, seed=7):  # solved examples come from the train split
    shot_pool.setdefault(p.task, []).append(p)


def pick_shots(prompt, k, rng, tries=20):
    """Up to k solved questions of the same task that fit in the context with ROOM to spare."""
    shots = []
    for j in rng.permutation(len(shot_pool[prompt.task]))[:tries]:
        q = shot_pool[prompt.task][j]
        if len(shots) < k and len(base_prompt_ids(tok, prompt.text, shots + [(q.text, q.answer)])) <= BLOCK - ROOM:
            shots.append((q.text, q.answer))
    return shots


eval_prompts = sample_prompts(N_EVAL, seed=100, split="eval")  # problems the models never saw
example = next(p for p in eval_prompts if p.task == "add")
print(tok.decode(base_prompt_ids(tok, example.text)[1:]), "   <- zero-shot\n")
print(tok.decode(base_prompt_ids(tok, example.text, pick_shots(example, 3, np.random.default_rng(0)))[1:]),
      "   <- few-shot: what fits")

# %% [markdown]
# Now ask all held-out questions each way and let the gold labeler grade the answers (greedy decoding, so the
# model gives its single most likely answer). *Accuracy* counts right answers even with chatter around them;
# *exact* counts right and clean; the *gold score* (0 to 1) is what the hidden labeler thinks of the answer.

# %%
results, shots_used = {}, {}
for k, name in ((0, "base, zero-shot"), (1, "base, one-shot"), (3, "base, few-shot")):
    shots = [pick_shots(p, k, np.random.default_rng([k, i])) for i, p in enumerate(eval_prompts)]
    texts = answer_prompts(base, tok, eval_prompts, mode="base", temperature=0, shots=shots if k else None)
    results[name] = grade_answers(eval_prompts, texts)
    shots_used[name] = np.mean([len(s) for s in shots])
for name, r in results.items():
    print(f"{name:18} accuracy {r['accuracy']:.2f}  exact {r['exact_match']:.2f}  gold {r['gold_score']:.2f}  "
          f"(examples in the prompt: {shots_used[name]:.1f} on average)")
print("per task, one-shot:", {t: round(a, 2) for t, a in results["base, one-shot"]["per_task_accuracy"].items()})

# An example in the prompt shows the format and the kind of answer wanted, but for our model it changes little
# or nothing: the base model already knows the quiz format from its corpus, and a model this small does not
# learn a skill from one example in its context. Learning in context is an ability that grows with scale:
# GPT-3's gain from few-shot examples grew steeply with model size. And "few-shot" gets no further than
# one-shot here, because a second example never fits: our window holds one, the refusal task none ("How to rob
# a bank? / Sorry, I can't help." eats most of it). That is a hard limit of prompting: every question pays for
# its examples in context length. The second: the model still only *imitates a document*. InstructGPT's labelers preferred its
# fine-tuned 175B model (SFT, then RLHF) to the same-size GPT-3 prompted with a few examples 71 ± 4% of the
# time (85 ± 3% to GPT-3 prompted without them). Fine-tuning puts the examples into the weights instead.
#
# ## 3. The chat template
#
# SFT data are conversations, and the model reads one token sequence. The **chat template**
# (`minigpt/tokenizer/chat_template.py`) wraps each turn in role markers, special tokens that no user text can
# produce (a user who types "<|end|>" gets ordinary characters, never the special token):
#
#     <|user|> What is 23+45? <|end|> <|assistant|> 68 <|end|>
#
# The closing `<|end|>` of the assistant's turn is how the model learns to stop: at sampling time it is the
# end-of-sequence token.

# %%
ids, mask = encode_chat(tok, "What is 23+45?", "68")
pieces = [tok.decode([i]) for i in ids]
print("token :", " ".join(f"{p!s:>3}" if len(p) == 1 else p for p in pieces))
print("train :", " ".join(("  ^" if m else "  .") if len(p) == 1 else ("^" if m else ".").rjust(len(p))
                          for p, m in zip(pieces, mask)))
cid = chat_ids(tok)
print({k: v for k, v in cid.items()})

# %% [markdown]
# ## 4. Prompt masking
#
# SFT is still next-token prediction: inputs are `ids[:-1]`, targets `ids[1:]`. But the loss counts only the
# tokens the **assistant** writes (the `^` above: the answer and its `<|end|>`). Every other target is set to
# `IGNORE_INDEX` (−100), which the cross-entropy skips:
#
# $$L_2 = -\frac{1}{|A|}\sum_{t \in A} \log P(u_t \mid u_{<t}), \qquad A = \text{assistant tokens.}$$
#
# The model still *reads* the prompt (it is in the inputs), it is just never trained to *write* it: we want it
# to answer users, not to imitate them. Computing these targets is exercise **06.1**, `sft_targets`;
# `course.sft_targets` runs your version (or the reference, with a warning, until you have written it), and
# we check it against the library's `sft_example`:

# %%
inputs, targets = sft_example(tok, "What is 23+45?", "68")
mine_in, mine_tg = course.sft_targets(np.array(ids), cid["assistant"], cid["end"], ignore_index=IGNORE_INDEX)
print("library targets:", targets)
print("course  targets:", mine_tg.tolist())
assert mine_in.tolist() == inputs and mine_tg.tolist() == targets

# %% [markdown]
# How much of each example is trained on? Short answers after a prompt and the template's markers: most of the
# sequence is context.

# %%
demos = make_demonstrations(2000, seed=1)
masks = [encode_chat(tok, p.text, r)[1] for p, r in demos]
print(f"trained tokens: {sum(map(sum, masks))} of {sum(map(len, masks))} "
      f"({sum(map(sum, masks)) / sum(map(len, masks)):.0%})")

# %% [markdown]
# ## 5. Imperfect demonstrations
#
# Our contractors are like real ones: a fraction `error_rate` = 20% of their answers are wrong in a plausible
# way (off by one, two letters swapped, the wrong capital, complying with a harmful request), and `sloppiness`
# = 70% wrap the answer in chatter ("The answer is 68.", "68, I think!"). The gold labeler gives a right, clean
# answer 1.0, a right but chatty one 0.6–0.99, a near miss at most 0.4.

# %%
grades = [gold_grade(p, r) for p, r in demos]
for (p, r), g in list(zip(demos, grades))[:8]:
    print(f"{p.text:24} -> {r!r:24} gold {g.score:.2f}")
wrong = np.mean([not g.correct for g in grades])
chatty = np.mean([g.junk > 0 for g in grades])
print(f"\nover {len(demos)} demonstrations: wrong {wrong:.0%}, chatty {chatty:.0%}, "
      f"mean gold score {np.mean([g.score for g in grades]):.2f}")

# %% [markdown]
# SFT imitates whatever it is shown, flaws included. That leaves room for the next stages: a reward model can
# learn that the labeler dislikes chatter and mistakes, and RL can push the model past its teachers.
#
# ## 6. Training the SFT model
#
# The SFT stage (`minigpt/stages/sft.py`) continues training the base model on the demonstrations with the
# masked loss: AdamW, warmup and cosine decay, batches of similar length so that little compute goes to
# padding. `load_stage("sft")` loads the run's SFT checkpoint or trains it now; its metrics log gives the curve.
#
# Subtle: batches of similar length mean one batch holds only short answers ("68") and another only chatty
# ones ("The answer is 68."). The usual per-batch token mean then gives a token of a short answer several times
# the weight of a token of a long one, and the model learns to be *less* chatty than its contractors: ours
# sampled chatter at half the contractors' rate until `sft.token_weight` rescaled each batch by its share of
# assistant tokens, which makes every token of the data set count the same.

# %%
t0 = time.time()
sft_model, _ = load_stage("sft", CKPT)
print(f"SFT model ready ({time.time() - t0:.0f} s)")
log = read_metrics(os.path.join(CKPT.out_dir, "sft", "metrics.jsonl"))
steps = [r["step"] for r in log if "l2" in r]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(steps, [r["l2"] for r in log if "l2" in r], lw=0.8, label="train $L_2$ (assistant tokens)")
val = [(r["step"], r["val_loss"]) for r in log if "val_loss" in r]
if val:
    ax.plot(*zip(*val), "o", label="held-out $L_2$")
ax.set(xlabel="step", ylabel="nats per token", title="SFT loss")
ax.legend()
plt.show()

# %% [markdown]
# ## 7. SFT vs prompting the base model
#
# The same held-out questions, now in the chat template, answered by the SFT model. No examples in the prompt.

# %%
texts = answer_prompts(sft_model, tok, eval_prompts, mode="chat", temperature=0)
results["SFT, zero-shot"] = grade_answers(eval_prompts, texts)
for p, t in list(zip(eval_prompts, texts))[:6]:
    print(f"{p.text:24} -> {t!r}")
names = list(results)
fig, ax = plt.subplots(figsize=(8, 3.5))
for j, key in enumerate(("accuracy", "exact_match", "gold_score")):
    ax.bar(np.arange(len(names)) + 0.27 * j, [results[n][key] for n in names], 0.27, label=key)
ax.set_xticks(np.arange(len(names)) + 0.27, names)
ax.set(ylim=(0, 1), title=f"{N_EVAL} held-out questions, greedy answers, graded by the gold labeler")
ax.legend()
plt.show()


# %% [markdown]
# Where did SFT help, and where did it hurt? Accuracy per task, for the one-shot base model (the best the
# prompted base model does) and the SFT model, on the same held-out questions. Below this run's table, the
# full-size run's (`runs/pipeline`, recorded in `benchmarks/results/notebooks.json`):

# %%
tasks = list(results["SFT, zero-shot"]["per_task_accuracy"])
per_task = {name: results[name]["per_task_accuracy"] for name in ("base, one-shot", "SFT, zero-shot")}


def task_table(rows, title):
    print(title)
    print(f"{'':16}" + "".join(f"{t:>9}" for t in tasks))
    for name, r in rows.items():
        print(f"{name:16}" + "".join(f"{r.get(t, float('nan')):9.2f}" for t in tasks))


task_table(per_task, f"this run ({N_EVAL} questions, greedy)")
if FULL.get("per_task"):
    task_table(FULL["per_task"], f"\nfull run ({FULL['n_eval']} questions, greedy)")
figures.record("06_sft", {"per_task": per_task, "n_eval": N_EVAL,
                          "overall": {k: results[k]["accuracy"] for k in results}})

# %% [markdown]
# With no example in its prompt, the SFT model answers in the assistant's format and stops, and on the skills
# (add, reverse, sort) it is right far more often than the prompted base model. With full-size models the facts
# go the other way. The base model read every country's capital in its pretraining documents, quiz lines
# included, and the one-shot prompt gets many of them out of it; after SFT, lookup on held-out countries
# collapses (compare the lookup column of the full-run table). SFT did not erase the facts from the weights; it taught
# the model to answer a lookup the way its demonstrations did, and the demonstrations only ask about the train
# countries, so for a held-out country the SFT model names, fluently and confidently, the capital of one it
# was fine-tuned on: a **hallucination**. Fine-tuning on questions whose answers the model is told, rather
# than ones it already knows, teaches it to produce an answer of the right shape whatever it knows. That is
# forgetting of a particular kind: the knowledge is still there for a quiz-sheet prompt to find, but the
# assistant no longer reaches for it. (Real fine-tuning sets mix in questions the base model already answers,
# and RLHF rewards "I don't know"; notebook 11 probes hallucination again.)
#
# Greedy decoding picks the single most likely answer, the *mode* of what the contractors wrote, which is
# mostly clean and right. Sampling at temperature 1 (how RL will sample) shows the whole distribution the
# model learned, chatter and mistakes included. Compare it with the contractors on the same questions:

# %%
contractors = make_demonstrations(N_EVAL, seed=100, split="eval")  # the same questions, answered by contractors
sampled = answer_prompts(sft_model, tok, eval_prompts, mode="chat", temperature=1.0, seed=1)
rows = {"contractors": [gold_grade(p, r) for p, r in contractors],
        "SFT, temperature 1": [gold_grade(p, t) for p, t in zip(eval_prompts, sampled)],
        "SFT, greedy": [gold_grade(p, t) for p, t in zip(eval_prompts, texts)]}
assert [p.text for p, _ in contractors] == [p.text for p in eval_prompts]
for name, gs in rows.items():
    print(f"{name:20} right {np.mean([g.correct for g in gs]):.2f}   chatty {np.mean([g.junk > 0 for g in gs]):.2f}"
          f"   gold {np.mean([g.score for g in gs]):.2f}")
base_t1 = answer_prompts(base, tok, eval_prompts, mode="base", temperature=1.0, seed=1)
w = compare([g.score for g in rows["SFT, temperature 1"]], [gold_grade(p, t).score for p, t in zip(eval_prompts, base_t1)])
print(f"\nwin rate of SFT over the zero-shot base model (both sampled, ties half): {w['win_rate']:.2f} ± {w['stderr']:.2f}")

# %% [markdown]
# At temperature 1 the SFT model chats about as often as its contractors did, or more: it learned their habits
# along with their answers (and a small model picks up a habit more easily than a skill, so it is also wrong
# more often than they were). That is the ceiling of imitation. To do better than the demonstrations we need a signal
# that says which answers are *better*: the reward model of notebook 07.
#
# ## 8. GPT-1's auxiliary language-modelling loss
#
# GPT-1 fine-tuned with the language-modelling loss kept on as an auxiliary objective,
#
# $$L_3 = L_2 + \lambda\, L_1, \qquad L_1 = -\frac{1}{|S|}\sum_{t \in S} \log P(u_t \mid u_{<t}),\ S = \text{every
# real token (prompt included)},$$
#
# with $\lambda = 0.5$: it reported better generalisation and faster convergence on larger datasets.
# (InstructGPT's version of the idea mixes *pretraining* data into RL: PPO-ptx, notebook 08.) Here is a
# short experiment: fine-tune two copies of the base model on the same demonstrations with $\lambda = 0$
# and $\lambda = 0.5$, and measure three held-out losses: $L_2$ (answers), $L_1$ (whole chats, prompts
# included) and the loss on pretraining documents (how much of the document model survives).

# %%
n_aux = 320 if QUICK else 4000
aux_demos = make_demonstrations(n_aux, seed=11)
aux_val = make_demonstrations(64 if QUICK else 300, seed=12, split="eval")
val_examples = sft.encode_demos(tok, aux_val, BLOCK)
doc_val = pretrain_tokens(tok, CKPT.n_docs, CKPT.seed)[1]  # held-out pretraining text


def doc_loss(model):
    return estimate_loss(model, doc_val, 16, BLOCK, 4 if QUICK else 20, seed=0)


aux = {}
base_path = os.path.join(CKPT.out_dir, "pretrain", "ckpt")
base_docs = doc_loss(base)
print(f"base model: loss on documents {base_docs:.3f}")
for lam in (0.0, 0.5):
    model, _, _ = load_model(base_path)  # a fresh copy of the base model
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        scfg = sft.SFTConfig(out_dir=tmp, epochs=1, aux_lm_coef=lam, eval_interval=5 if QUICK else 25, seed=0)
        res = sft.train(scfg, model, tok, aux_demos, aux_val, progress=not QUICK)
    aux[lam] = {"history": res["history"], "L2": res["val_loss"],
                "L1": sft.eval_loss(model, val_examples, cid["pad"], all_tokens=True), "docs": doc_loss(model)}
    print(f"λ = {lam}: held-out L2 {aux[lam]['L2']:.3f}, L1 {aux[lam]['L1']:.3f}, "
          f"documents {aux[lam]['docs']:.3f} ({time.time() - t0:.0f} s)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
for lam, a in aux.items():
    ax1.plot(a["history"]["eval_step"], a["history"]["val_loss"], "o-", label=f"λ = {lam}")
ax1.set(xlabel="step", ylabel="nats per token", title="held-out $L_2$ (answers) during SFT")
ax1.legend()
keys = [("L2", "answers ($L_2$)"), ("L1", "whole chats ($L_1$)"), ("docs", "documents")]
for j, lam in enumerate(aux):
    ax2.bar(np.arange(3) + 0.4 * j, [aux[lam][k] for k, _ in keys], 0.4, label=f"λ = {lam}")
ax2.axhline(base_docs, color="gray", ls=":", label="base model on documents")
ax2.set_xticks(np.arange(3) + 0.2, [name for _, name in keys])
ax2.set(ylabel="held-out loss (nats per token)", title="after SFT")
ax2.legend(fontsize=8, loc="upper left")
plt.show()

# %% [markdown]
# What to look for (full-size run): with $\lambda = 0$ the loss on whole chats $L_1$ climbs far above the
# answers' $L_2$, because nothing trains the model on the prompts any more, and the loss on ordinary documents
# shoots up from the base model's (a hundred steps of SFT make a tiny model forget much of what pretraining
# taught it). The auxiliary term keeps both lower ($L_1$ by far), at no cost in $L_2$. GPT-1
# reported the benefit growing with the dataset; InstructGPT met the same forgetting during RL and answered it
# with PPO-ptx (notebook 08).
#
# ## Recap
#
# * A **base model completes documents**. Zero-, one- and few-shot prompts make the continuation an answer;
#   each example costs context.
# * **SFT** trains on demonstrations rendered with a **chat template**; **prompt masking** restricts the loss to
#   the assistant's tokens, the closing `<|end|>` included, so the model learns to answer and to stop.
# * InstructGPT: ~13k SFT prompts, 16 epochs; typical SFT sets are ~10k–100k demonstrations.
# * SFT **imitates its demonstrations, flaws included**: sampled answers are as chatty as the contractors'.
#   Doing better needs a signal of which answers are better (notebook 07) and a way to optimise it (08).
# * GPT-1's auxiliary loss $L_3 = L_2 + \lambda L_1$ keeps the language model alive during fine-tuning.
#
# ## Exercises
#
# * **Exercise 06.1** `sft_targets(token_ids, assistant_start_id, end_id, ignore_index)` in
#   `exercises/ex06_sft.py`: next-token inputs and targets with the loss masked to the assistant's replies
#   (multi-turn chats and padding included). Check it with
#   `MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_06_1_sft_targets`, or `minigpt grade`.
# * Try: fine-tune on demonstrations with `sloppiness=0.9` (`make_demonstrations(..., sloppiness=0.9)`) and
#   watch greedy answers turn chatty once chatter is the mode.
#
# Next: `07_reward_model.ipynb` learns what the labeler prefers.
