# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/00_overview.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/00_overview.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 00 · Overview: from a pile of text to an assistant
#
# ChatGPT-style assistants are built in four stages (Ouyang et al. 2022, *InstructGPT*). This course builds
# every one of them from scratch — the autograd engine, the tokenizer, the transformer, and the three
# alignment stages — and runs them on a toy world small enough to train on a laptop CPU in minutes.
#
# **Learning goals.** After this notebook you can
#
# 1. name the four stages, the data each one needs, and its scale in real systems;
# 2. say what a *base* model does (it completes documents) and what an *assistant* does (it answers);
# 3. run the whole recipe with one function call and read its report card;
# 4. find the notebook that opens up each part.
#
# Run it top to bottom. Without `MINIGPT_QUICK` the cell below runs the default pipeline: 320 s on an idle
# 2-core machine (`benchmarks/results/pipeline.json`; longer on a busy one), and its numbers are the ones the
# course quotes. With `MINIGPT_QUICK=1` (what CI uses) it shows the report card of your full run if
# `runs/pipeline` holds one, and otherwise runs a tiny version of the pipeline in seconds, whose numbers only
# show that the code runs.

# %%
import os

import matplotlib.pyplot as plt

from minigpt import figures
from minigpt.checkpoint import load_json
from minigpt.course_runs import course_config
from minigpt.evaluate import format_report_card
from minigpt.pipeline import PipelineConfig, run_pipeline

MINIGPT_QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: a tiny run, same code

# %% [markdown]
# ## The four stages
#
# | stage | data | objective | at real scale (InstructGPT / GPT-3) | in this course |
# |---|---|---|---|---|
# | 1. pretraining | raw documents | predict the next token, $L_1 = -\sum_i \log P(u_i \mid u_{<i})$ | ~300B tokens of web text, books, code; BPE vocab of ~50k tokens (≈0.75 English words per token) | the toy world's documents, character tokens |
# | 2. supervised fine-tuning (SFT) | prompt → demonstration pairs written by contractors | the same loss, on the assistant's tokens only | ~13k prompts, 16 epochs (InstructGPT); 10k–100k high-quality demonstrations in general | a few thousand demonstrations from *imperfect* contractors |
# | 3. reward model (RM) | K = 4–9 responses per prompt, ranked by people | $-\frac{1}{\binom{K}{2}}\,\mathbb{E}\,\log\sigma(r(x,y_w)-r(x,y_l))$ over all pairs | ~33k prompts | rankings by a hidden *gold labeler* program |
# | 4. reinforcement learning (PPO) | prompts only | maximise the RM's score minus a per-token KL penalty to the SFT model | ~31k prompts; labelers preferred the RLHF model's outputs ~85% of the time over GPT-3's | a few thousand rollouts |
#
# The **toy assistant world** (`minigpt/data/assistant.py`) makes every stage measurable: its tasks
# (arithmetic, reversing, sorting, counting, looking up invented facts, refusing harmful requests)
# have known answers, so a program — the *gold labeler* — can score any response. It stands in for
# the human raters: it ranks responses for the reward model and it referees the final comparison.

# %% [markdown]
# ## The whole recipe in one cell
#
# `run_pipeline` pretrains a small GPT on the world's documents, fine-tunes it on the contractors'
# demonstrations, trains a reward model on the gold labeler's rankings of SFT samples, and improves the
# SFT model with PPO against that reward model. Then the base, SFT and PPO models answer the same
# held-out prompts and the gold labeler grades them. The command-line twin is `minigpt pipeline`.

# %%
full_run = os.path.join(course_config(quick=False).out_dir, "metrics.json")  # what `minigpt pipeline` writes
if MINIGPT_QUICK and os.path.exists(full_run):
    report = load_json(full_run)
    print(f"quick mode: showing your full run's report ({full_run}); `minigpt pipeline` reruns it")
else:
    if MINIGPT_QUICK:
        print("quick mode and no full run in runs/pipeline: a tiny pipeline trained in seconds, "
              "whose numbers only show that the code runs")
    cfg = PipelineConfig(out_dir="runs/overview-quick" if MINIGPT_QUICK else "runs/overview", quick=MINIGPT_QUICK,
                         force=True)  # this notebook's own run: re-running the cell trains it again
    report = run_pipeline(cfg, progress=True, log=print)

# %% [markdown]
# ## The report card
#
# Each stage's time and loss, then the evaluation on held-out prompts: exact-match accuracy and mean gold
# score of each model, win rates judged by the gold labeler (ties count half), the reward model's accuracy
# on held-out pairs, and how far PPO moved from the SFT model (KL) — RL must improve the answers *without*
# drifting into text the reward model was never trained on.

# %%
print(format_report_card(report))
PIPE = figures.load("pipeline.json")  # the measured default run, for comparison
if PIPE:
    print(f"\nthe measured default run (benchmarks/results/pipeline.json, {PIPE['wall_s']:.0f} s on an idle 2-core "
          f"machine): win rate PPO vs SFT {PIPE['win_rates']['PPO vs SFT']:.3f}, SFT vs base "
          f"{PIPE['win_rates']['SFT vs base']:.3f}; reward model held-out pairwise accuracy "
          f"{PIPE['rm_heldout_pair_accuracy']:.3f}")

# %% [markdown]
# ## Base model vs assistant
#
# The same held-out prompts, answered by the three models. The **base** model was only trained to
# continue documents, so given a question it tends to continue writing rather than answer. The **SFT**
# model imitates the contractors' answers — including their mistakes and their sloppy extra words. The
# **PPO** model was pushed by the reward model towards answers the gold labeler likes.
#
# (In quick mode the models are tiny and barely trained: expect gibberish from all three. The default run
# shows the pattern clearly.)

# %%
for ex in report["examples"][:6]:
    print(f"prompt: {ex['prompt']!r}   (correct answer: {ex['answer']!r})")
    for name in ("base", "sft", "ppo"):
        print(f"  {name:>4}: {ex[name]!r}")
    print()

# %% [markdown]
# ## The numbers as a picture
#
# Accuracy and mean gold score of the three models on held-out prompts, and the PPO training curves:
# the reward model's score goes up while the KL to the SFT model is held near its target by the adaptive
# penalty.

# %%
names = ["base", "sft", "ppo"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
axes[0].bar(names, [report["models"][n]["accuracy"] for n in names], color=["#999", "#4a90d9", "#e07b39"])
axes[0].set_title("exact-match accuracy (held-out)")
axes[1].bar(names, [report["models"][n]["gold_score"] for n in names], color=["#999", "#4a90d9", "#e07b39"])
axes[1].set_title("mean gold-labeler score")
h = report["history"]["ppo"]
axes[2].plot(h["score"], label="RM score")
if "kl" in h:
    axes[2].plot(h["kl"], label="KL to SFT (nats)")
axes[2].set_xlabel("PPO iteration")
axes[2].legend()
axes[2].set_title("PPO")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Where each piece is built
#
# | notebook | opens up |
# |---|---|
# | 01 tokenization | bytes, BPE, special tokens |
# | 02 autograd | `Tensor`, `backward`, gradcheck, fused backward passes |
# | 03 attention | QKV, causal mask, O(N²) cost, sparse and flash-style attention, KV cache |
# | 04 gpt | the transformer, parameter counts of GPT-2/GPT-3 |
# | 05 pretraining | next-token loss, AdamW, sampling, predictable scaling |
# | 06 sft | chat template, prompt masking, few-shot vs fine-tuned |
# | 07 reward model | rankings → pairs, the pairwise loss, rule-based rewards |
# | 08 ppo | rollouts, KL penalty, GAE, clipping, over-optimisation |
# | 09 beyond | DPO, GRPO, best-of-N, chain-of-thought, LoRA, LLaMA blocks, quantization, retrieval |
# | 10 gpu kernels | CUDA softmax, layernorm, flash attention — on a GPU or the CPU shim |
# | 11 model family | GPT-1 … GPT-4, BERT, Codex, LLaMA, Alpaca, Anthropic HH, GLM at toy scale |
#
# ## Recap
#
# - Pretraining makes a document completer; SFT teaches it the assistant format from demonstrations; a reward
#   model learns people's (here: the gold labeler's) preferences from rankings; PPO optimises the policy
#   against it while a KL penalty keeps it close to the SFT model.
# - Every number above is measured on held-out prompts by a labeler the models never see.
#
# **Exercises.** The course's exercises live in `exercises/` (one file per notebook); each notebook points
# to its own. Check your work any time with `minigpt grade`.
