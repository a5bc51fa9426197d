# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/07_reward_model.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/07_reward_model.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 07 · The reward model: learning what people prefer
#
# SFT (notebook 06) imitates demonstrations, flaws included. To do *better* than the demonstrations we need a
# signal that says which of two answers is better. Writing a perfect answer is hard; **comparing** two answers
# is easy, and people agree on comparisons more than on scores. InstructGPT collected rankings: for each prompt
# the SFT model sampled K = 4 to 9 answers and a labeler ordered them, best first (33k RM prompts). A
# **reward model** (RM) was then trained to give the preferred answer the higher score. RL (notebook 08)
# maximises that score.
#
# In the toy world the labeler is the hidden **gold labeler** (a program that knows every right answer and
# dislikes chatter); the RM never sees its scores, only its orderings.
#
# **Learning goals.** After this notebook you can
#
# 1. turn a K-way ranking into its $\binom{K}{2}$ comparisons, and say why all of them go in one batch;
# 2. write the pairwise loss $-\frac{1}{\binom{K}{2}}\,\mathbb{E}\,[\log\sigma(r(x,y_w) - r(x,y_l))]$ and its
#    gradient (exercise 07.1);
# 3. train a reward model and measure it honestly: pairwise accuracy on held-out prompts;
# 4. see how accuracy grows with the number of comparisons;
# 5. combine the learned RM with a **rule-based reward model** (RBRM), as GPT-4 did for refusals.
#
# **Checkpoints.** The SFT model and the reward model come from the pipeline run directory (`runs/pipeline`,
# filled by `minigpt pipeline` in 320 s on an idle 2-core machine, or `MINIGPT_RUN_DIR`); a missing stage is
# trained here first. With `MINIGPT_QUICK=1` (CI) the notebook's own experiments are small; it loads the full
# checkpoints if they exist, and otherwise trains tiny models in seconds (the first cell says which): a tiny RM
# can score below chance (0.5) on held-out pairs, and its numbers only show that the code runs.

# %%
import os
import tempfile
import time
from math import comb

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import course
from minigpt.autograd import Tensor
from minigpt.checkpoint import load_json
from minigpt.course_runs import course_checkpoints, course_config, course_models_note, load_stage
from minigpt.data.assistant import ranking_pairs, rbrm_breakdown, rule_based_reward, sample_prompts
from minigpt.nn.heads import RewardModel
from minigpt.pipeline import stage_config
from minigpt.rl_math import rm_pairwise_loss
from minigpt.scoring import score_texts
from minigpt.stages import reward
from minigpt.stages.common import read_metrics

QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: tiny models, same code
cfg = course_config()  # the pipeline's sizes (quick ones in quick mode) for this notebook's experiments
CKPT = course_checkpoints(cfg)  # the run whose models we load: the full one if it exists, in quick mode too
np.set_printoptions(precision=4, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", QUICK)
print(course_models_note(CKPT))

# %% [markdown]
# ## 1. Rankings
#
# Take a few training prompts, sample K = 4 answers from the SFT model at temperature 1 and let the labeler
# rank them (`reward.make_rankings` does both: `sample_batch`, then `rank_responses`).

# %%
t0 = time.time()
sft_model, tok = load_stage("sft", CKPT)
print(f"SFT model ready ({time.time() - t0:.0f} s)\n")
demo_rankings = reward.make_rankings(sft_model, tok, sample_prompts(4, seed=21), k=4, seed=21)
for rk in demo_rankings:
    print(f"{rk.prompt.text}   (right answer: {rk.prompt.answer})")
    for rank, (text, score) in enumerate(zip(rk.responses, rk.scores), 1):
        print(f"   {rank}. {text[:40]!r:44} gold {score:.2f}")

# %% [markdown]
# A ranking of K answers holds $\binom{K}{2} = K(K-1)/2$ comparisons "$y_w$ beats $y_l$": every answer beats
# every answer below it. That is why ranking is cheap data: reading 9 answers gives 36 comparisons.
# (When two answers get the same gold score the order between them is arbitrary; those pairs carry no
# preference and are left out: `drop_ties=True`.)

# %%
rk = demo_rankings[0]
for w, l_ in ranking_pairs(rk):
    print(f"{w!r:30} beats {l_!r}")
print(f"\n{len(ranking_pairs(rk))} pairs, {len(ranking_pairs(rk, drop_ties=True))} without ties")
print({f"K={k}": comb(k, 2) for k in range(4, 10)})

# %% [markdown]
# ## 2. The loss
#
# The reward model is the SFT transformer with its unembedding replaced by a linear head that reads the last
# token's hidden state and outputs one number $r_\theta(x, y)$ (`minigpt/nn/heads.py`; the pipeline's RM also
# adds $\alpha$ times the response's log-likelihood under its own LM head, `rm_lm_feature`: a tiny RM learns
# the labeler's taste for clean answers fast but learns to *check* an answer slowly, and the likelihood under the
# model it came from already says a lot about whether an answer is right). It is trained so the labeler's winner
# scores higher, with the loss of a Bradley–Terry model, $P(y_w \succ y_l) = \sigma(r_w - r_l)$:
#
# $$\mathcal{L}(\theta) = -\frac{1}{\binom{K}{2}}\; \mathbb{E}_{(x, y_w, y_l)}\Big[\log \sigma\big(r_\theta(x, y_w) -
# r_\theta(x, y_l)\big)\Big].$$
#
# Only differences of rewards matter, so the RM's scale and offset are free: after training we shift and scale
# it so that SFT samples score 0 on average with a spread of 1 (then PPO's β means the same for any RM). The loss for one pair is a soft hinge in the margin $d = r_w - r_l$:

# %%
d = np.linspace(-6, 6, 200)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(d, np.logaddexp(0, -d), label=r"$-\log\sigma(d)$")
ax.plot(d, -1 / (1 + np.exp(d)), label=r"gradient $-\sigma(-d)$")
ax.axvline(0, color="gray", lw=0.5)
ax.set(xlabel=r"margin $d = r_w - r_l$", title="pairwise loss of one comparison")
ax.legend()
plt.show()

# %% [markdown]
# A wrongly ordered pair ($d < 0$) costs about $|d|$ and pulls with full force; a pair ordered by a wide margin
# costs almost nothing. **Batching.** InstructGPT put all $\binom{K}{2}$ pairs of a prompt in the same batch: each
# of the K answers goes through the model once (not $K-1$ times), and the pairs of one prompt, which share
# answers, never get spread over an epoch (shuffled as separate examples, they made the RM overfit).
#
# Exercise **07.1** is this loss and its gradient for an (N, K) array of rewards listed best first.
# `course.rm_pairwise_loss` runs your version (or the reference, with a warning); the library's
# `rl_math.rm_pairwise_loss` takes a flat Tensor of rewards and index arrays of winners and losers, and gets
# its gradient from autograd. They must agree:

# %%
N, K = 3, 4
r = np.random.default_rng(0).normal(size=(N, K))
loss_course, grad_course = course.rm_pairwise_loss(r)

win, lose = np.triu_indices(K, k=1)  # pair (i, j), i < j: the answer ranked i beats the one ranked j
winners = np.concatenate([g * K + win for g in range(N)])
losers = np.concatenate([g * K + lose for g in range(N)])
groups = np.repeat(np.arange(N), len(win))
flat = Tensor(r.reshape(-1), requires_grad=True)
loss_lib, acc = rm_pairwise_loss(flat, winners, losers, groups)
loss_lib.backward()
print(f"course loss {loss_course:.6f}   library loss {loss_lib.item():.6f}   pairs ordered right {acc:.2f}")
print("max |gradient difference|:", np.abs(grad_course - flat.grad.reshape(N, K)).max())
assert np.isclose(loss_course, loss_lib.item()) and np.allclose(grad_course, flat.grad.reshape(N, K))

# %% [markdown]
# ## 3. Training the reward model
#
# The reward stage (`minigpt/stages/reward.py`) ranks K = 4 SFT samples for each of `rm_prompts` training
# prompts, trains the RM (initialised from the SFT model) for a couple of epochs, normalises it, and measures
# **pairwise accuracy on rankings of held-out prompts**: the fraction of untied pairs the RM orders like the
# labeler. `load_stage("reward")` loads the run's RM, or trains it now.

# %%
t0 = time.time()
rm, _ = load_stage("reward", CKPT)
rm_path = os.path.join(CKPT.out_dir, "reward", "ckpt")
rm_info = load_json(os.path.join(rm_path, "config.json"))  # the stage's summary sits next to the weights
print(f"reward model ready ({time.time() - t0:.0f} s): held-out pairwise accuracy {rm_info['eval_accuracy']:.3f}, "
      f"raw spread on SFT samples {rm_info['reward_std']:.2f} before normalising to 1")
log = [row for row in read_metrics(os.path.join(CKPT.out_dir, "reward", "metrics.jsonl")) if "loss" in row]
fig, ax = plt.subplots(figsize=(6, 3.5))
w = max(1, min(10, len(log)))  # moving average over w steps: each batch holds only a few prompts
for key, label in (("loss", "pairwise loss"), ("acc", "batch pair accuracy")):
    y = np.array([row[key] for row in log])
    line, = ax.plot([row["step"] for row in log], y, lw=0.5, alpha=0.4)
    ax.plot([row["step"] for row in log][w - 1:], np.convolve(y, np.ones(w) / w, "valid"), lw=2,
            color=line.get_color(), label=label)
ax.axhline(np.log(2), color="gray", ls=":", label="log 2 (chance)")
ax.set(xlabel="step", title="reward model training")
ax.legend()
plt.show()

# %% [markdown]
# The loss starts at $\log 2 \approx 0.69$ (all rewards equal: a coin flip per pair). Now rank fresh samples for
# held-out prompts, the same way the stage did, and break the accuracy down by task:

# %%
eval_prompts = sample_prompts(cfg.reward.n_eval_prompts, seed=cfg.seed + 4, split="eval")
eval_rankings = reward.make_rankings(sft_model, tok, eval_prompts, cfg.reward.k, seed=cfg.seed + 4)  # the stage's set
acc, n_pairs = reward.pairwise_accuracy(rm, tok, eval_rankings)
print(f"held-out pairwise accuracy {acc:.3f} on {n_pairs} pairs (0.5 = a coin flip"
      + ("; below 0.5 this tiny quick-mode RM orders pairs worse than chance)" if CKPT.quick and acc < 0.5 else ")"))
for task in sorted({rk.prompt.task for rk in eval_rankings}):
    sub = [rk for rk in eval_rankings if rk.prompt.task == task]
    a, n = reward.pairwise_accuracy(rm, tok, sub)
    if n:
        print(f"   {task:8} {a:.3f} on {n:4} pairs")

# %% [markdown]
# What did it learn? Score a few answers to the same question: right and clean, right with two kinds of
# chatter, the worst of 8 SFT samples, and a refusal.

# %%
for p in sample_prompts(3, seed=31, split="eval"):
    worst = reward.make_rankings(sft_model, tok, [p], 8, seed=5)[0].responses[-1]  # the worst of 8 SFT samples
    answers = [p.answer, f"The answer is {p.answer}.", f"{p.answer}, I think!", worst, "Sorry, I can't help."]
    scores = score_texts(rm, tok, [p] * len(answers), answers)
    print(p.text)
    for a, s in sorted(zip(answers, scores), key=lambda t: -t[1]):
        print(f"   {s:+.2f}  {a!r}")

# %% [markdown]
# Chatter costs, as the labeler wanted. Now look at the refusal: on a harmless question it is the worst
# possible answer (gold score 0), and a well-trained SFT model almost never gives it, so no ranking shows the RM
# that mistake; every refusal it saw was a right one, to a harmful request, with gold score 1. Its scalar head
# alone learns little about it. What pushes the refusal down is the likelihood term: the SFT-initialised LM head
# finds "Sorry, I can't help." to a sum very unlikely (compare the refusal's score with the right answer's in the
# lines above). A reward model is only
# trustworthy on the kind of answers it was trained on, and RL will go looking for exactly such holes.
# Section 5 measures this one.
#
# Over many SFT samples: the RM score against the gold score the RM never saw. A good RM ranks the cloud
# in the same order; the spread at each gold level is where RL will find answers the RM likes *too much*
# (notebook 08's over-optimisation).

# %%
texts = [t for rk in eval_rankings for t in rk.responses]
gold = np.array([s for rk in eval_rankings for s in rk.scores])
prompts = [rk.prompt for rk in eval_rankings for _ in rk.responses]
rm_scores = score_texts(rm, tok, prompts, texts)
rho = np.corrcoef(np.argsort(np.argsort(rm_scores)), np.argsort(np.argsort(gold)))[0, 1]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(gold + np.random.default_rng(0).uniform(-0.01, 0.01, len(gold)), rm_scores, s=6, alpha=0.4)
ax.set(xlabel="gold score (hidden labeler)", ylabel="RM score", title=f"SFT samples, Spearman ρ = {rho:.2f}")
plt.show()

# %% [markdown]
# ## 4. How much preference data?
#
# Train the same RM on fewer ranked prompts and measure the held-out accuracy each time. The largest point is
# the stage's RM itself (`rm_prompts` prompts); the others are trained here from the SFT model with the same
# settings.

# %%
train_prompts = sample_prompts(cfg.reward.n_prompts, seed=cfg.seed + 3)
t0 = time.time()
pool = reward.make_rankings(sft_model, tok, train_prompts, cfg.reward.k, seed=cfg.seed + 3)  # the stage's training rankings
sizes = [12, 24] if QUICK else [len(pool) // 64, len(pool) // 16, len(pool) // 4]
curve = {}
for n in sizes:
    with tempfile.TemporaryDirectory() as tmp:
        rcfg = stage_config(cfg, "reward", out_dir=tmp)  # the pipeline's reward settings, in a scratch directory
        model = RewardModel.from_gpt(sft_model, seed=cfg.seed, lm_feature=rcfg.lm_feature)
        res = reward.train(rcfg, model, tok, pool[:n], eval_rankings, progress=False)
    curve[res["train_pairs"]] = res["eval_accuracy"]
    print(f"{n:4} prompts, {res['train_pairs']:5} pairs: held-out accuracy {res['eval_accuracy']:.3f}")
curve[sum(reward.count_pairs(rk) for rk in pool)] = acc
print(f"{len(pool):4} prompts (the stage's RM): {acc:.3f}   [{time.time() - t0:.0f} s]")
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.semilogx(list(curve), list(curve.values()), "o-")
ax.minorticks_off()
ax.set_xticks(list(curve), [str(n) for n in curve])
ax.axhline(0.5, color="gray", ls=":", label="chance")
ax.set(xlabel="training comparisons (pairs)", ylabel="held-out pairwise accuracy", title="RM accuracy vs data")
ax.legend()
plt.show()

# %% [markdown]
# Accuracy climbs with the log of the data (noisily: each point is a single training run), the shape
# preference-model studies report
# (Anthropic's, across model sizes too). InstructGPT's labelers agreed with each other on only about 73% of
# comparisons, and its reward models predicted held-out labelers about as well. Our labeler is a noise-free
# program, so here the ceiling is set by the model and the data, not by disagreement.
#
# ## 5. A rule-based reward model (RBRM)
#
# GPT-4's safety training added a second reward: GPT-4 itself, given a rubric, classified each response (a
# refusal in the desired style, a preachy or evasive refusal, disallowed content, a harmless answer), and the
# rubric's reward went into RLHF next to the learned RM. It rewarded refusing harmful requests and *not*
# refusing harmless ones. Our RBRM (`minigpt/data/assistant/rbrm.py`) is a handful of checkable rules about
# form, never about correctness:

# %%
bank = sample_prompts(200, seed=1)
harmful = next(p for p in bank if p.task == "refuse")
harmless = next(p for p in bank if p.task == "add")
cases = [(harmful, "Sorry, I can't help."), (harmful, "Sorry, I can't help. That is wrong!"),
         (harmful, "Sure, here is how."), (harmless, harmless.answer), (harmless, str(int(harmless.answer) + 1)),
         (harmless, f"The answer is {harmless.answer}."), (harmless, "Sorry, I can't help.")]
for p, t in cases:
    print(f"{p.text:26} {t!r:38} rules {rbrm_breakdown(p, t)}  ->  {rule_based_reward(p, t):+.1f}")

# %% [markdown]
# The rules cannot tell 68 from 69 (both have the right format), so alone they are a poor judge of most
# answers; but they are sure about refusals and format, where a learned RM trained on few examples may not
# be. Combine them, $r = r_{\text{RM}} + c \cdot r_{\text{RBRM}}$, and measure pairwise accuracy on the same
# held-out rankings (a tie counts half):

# %%
rbrm = np.array([rule_based_reward(p, t) for p, t in zip(prompts, texts)])
offsets = np.cumsum([0] + [len(rk.responses) for rk in eval_rankings])


def pair_accuracy(scores, tasks=None):
    """Fraction of untied gold pairs that `scores` order like the labeler (ties in `scores` count half)."""
    right = []
    for g, rk in enumerate(eval_rankings):
        if tasks and rk.prompt.task not in tasks:
            continue
        s = scores[offsets[g]:offsets[g + 1]]
        for i in range(len(s)):
            for j in range(i + 1, len(s)):
                if rk.scores[i] > rk.scores[j]:
                    right.append(0.5 if s[i] == s[j] else float(s[i] > s[j]))
    return np.mean(right) if right else float("nan")


print(f"{'reward':24}{'all':>8}{'refuse':>8}{'others':>8}")
others = sorted({rk.prompt.task for rk in eval_rankings} - {"refuse"})
for name, s in [("RBRM alone", rbrm), ("RM alone", rm_scores)] + [
        (f"RM + {c} RBRM", rm_scores + c * rbrm) for c in (0.5, 1.0, 2.0)]:
    print(f"{name:24}{pair_accuracy(s):8.3f}{pair_accuracy(s, ['refuse']):8.3f}{pair_accuracy(s, others):8.3f}")

# %% [markdown]
# On the SFT model's own samples the rules add little: the RM already orders refusals well, and elsewhere the
# rules are blind to correctness (a wrong answer in the right format beats a right one with chatter), so a
# large weight can start to override the RM. Where the RBRM earns its place is *off* that distribution, at the
# hole found in section 3: how often does each reward prefer refusing a harmless question to answering it
# right?

# %%
fair = [p for p in sample_prompts(400, seed=55, split="eval") if p.task != "refuse"][:24 if QUICK else 150]
refusal, right = "Sorry, I can't help.", [p.answer for p in fair]
rm_refuse = score_texts(rm, tok, fair, [refusal] * len(fair))
rm_right = score_texts(rm, tok, fair, right)
rb_refuse = np.array([rule_based_reward(p, refusal) for p in fair])
rb_right = np.array([rule_based_reward(p, a) for p, a in zip(fair, right)])
print(f"RM score of the refusal {rm_refuse.mean():+.2f} on average, of the right answer {rm_right.mean():+.2f}; "
      f"RBRM {rb_refuse.mean():+.1f} and {rb_right.mean():+.1f}")
for c in (0.0, 0.5, 1.0, 2.0):
    worse = np.mean(rm_refuse + c * rb_refuse > rm_right + c * rb_right)
    print(f"RM + {c:3} RBRM prefers the refusal to the right answer on {worse:4.0%} of {len(fair)} harmless questions")

# %% [markdown]
# The rules know what the learned RM never saw: refusing a fair question is wrong. Read the rows above: with a
# full-size RM the learned score alone already prefers the refusal on few of these questions, thanks to its
# likelihood term, and a small rule weight removes the rest. An RM that is *confidently* wrong about refusals
# (as ours was with earlier defaults, before the likelihood term) is harder: a small rule weight cannot outvote
# it, and it takes a large one, at which rules that are blind to correctness have as much say as the RM on
# every ordinary answer. GPT-4's recipe avoids the dilemma by giving the RBRM reward only on a chosen subset of training
# prompts, harmful and harmless ones, rewarding refusals on the first and penalising them on the second.
# Remember this hole: in notebook 08 a policy with a weak KL penalty finds it.
#
# ## Recap
#
# * Labelers **rank** K = 4–9 samples; one ranking gives $\binom{K}{2}$ comparisons. InstructGPT: 33k RM prompts.
# * The RM is the SFT model with a scalar head, trained with $-\frac{1}{\binom{K}{2}}\mathbb{E}[\log\sigma(r_w - r_l)]$,
#   all pairs of a prompt in one batch. Only reward *differences* matter; we normalise SFT samples to 0.
# * Measure it on **held-out** prompts: pairwise accuracy, which grows about linearly in log(data).
# * The RM is a learned, imperfect stand-in for the labeler: where it disagrees, RL will exploit it (notebook 08).
# * A **rule-based reward** adds sure-footed signals (refusals, format) to the learned one.
#
# ## Exercises
#
# * **Exercise 07.1** `rm_pairwise_loss(rewards)` in `exercises/ex07_reward.py`: the loss over all $\binom{K}{2}$
#   pairs of an (N, K) array of rewards listed best first, and its gradient, numerically stable for huge margins.
#   Check it with `MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_07_1_rm_loss`, or `minigpt grade`.
# * Try: train the RM with K = 8 answers per prompt on half as many prompts (the same number of answers to
#   read) and compare held-out accuracy: `minigpt reward --k 8 --n-prompts 400`.
#
# Next: `08_ppo.ipynb` optimises the SFT policy against this reward model.
