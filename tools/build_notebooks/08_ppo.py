# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/minigpt-course/minigpt/blob/main/notebooks/08_ppo.ipynb) [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/minigpt-course/minigpt/HEAD?urlpath=lab/tree/notebooks/08_ppo.ipynb)

# %%
# Colab only: install the course package (nothing happens anywhere else)
import sys

if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "minigpt @ git+https://github.com/minigpt-course/minigpt",
                    "tiktoken", "pytest-timeout"], check=True)

# %% [markdown]
# # 08 · RLHF with PPO: optimising the policy against the reward model
#
# The SFT model (notebook 06) imitates imperfect contractors; the reward model (notebook 07) has learned which
# answers the labeler prefers. Now the SFT model, the **policy**, samples answers, the RM scores them, and a
# reinforcement-learning algorithm, **PPO**, shifts probability toward the answers that score well. This is
# the step that made InstructGPT and ChatGPT: labelers preferred the 175B InstructGPT's outputs to GPT-3's about
# **85%** of the time (and to a few-shot-prompted GPT-3's 71% of the time). InstructGPT ran PPO on 31k prompts.
#
# **Learning goals.** After this notebook you can
#
# 1. write the RLHF objective: reward minus a KL penalty to the SFT policy, plus PPO-ptx's pretraining term;
# 2. dissect one PPO iteration: rollouts, per-token KL-shaped rewards, GAE advantages from a value model, the
#    clipped surrogate, several epochs of minibatch updates;
# 3. read PPO's training curves (reward, KL, entropy, value loss, clip fraction) and the adaptive KL coefficient;
# 4. measure the result as a win rate against SFT, and see the policy become "peaky" (its entropy collapses);
# 5. test for **reward over-optimisation** (the RM score rising with KL while the true, gold score does not),
#    and compare RL with best-of-N sampling at equal KL.
#
# **Checkpoints.** SFT, RM and PPO come from the pipeline run directory (`runs/pipeline`, filled by
# `minigpt pipeline` in 320 s on an idle 2-core machine, or `MINIGPT_RUN_DIR`); a missing stage is trained here
# first. Most of the notebook's own time goes to two extra PPO runs (sections 6–7); each cell prints its time.
# With `MINIGPT_QUICK=1` (CI) those runs take a handful of small iterations, and the models are the full run's
# if it exists, otherwise tiny ones trained in seconds (the first cell says which) whose numbers are noise.
# Where the text quotes a number, it comes from the measured default run, `benchmarks/results/pipeline.json`.

# %%
import dataclasses
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np

import minigpt
from minigpt import course, figures, ops, rl_math
from minigpt.autograd import Tensor, no_grad
from minigpt.backend import to_numpy
from minigpt.checkpoint import load_tensors
from minigpt.course_runs import course_checkpoints, course_config, course_models_note, load_stage, stage_checkpoint
from minigpt.data.assistant import gold_score, pretrain_tokens, sample_prompts
from minigpt.evaluate import answer_prompts, compare, evaluate_model, kl_to_reference
from minigpt.generate import sample_batch
from minigpt.nn.heads import ValueModel
from minigpt.scoring import response_logprobs, score_texts
from minigpt.stages import ppo
from minigpt.stages.common import load_model, read_metrics
from minigpt.stages.pretrain import estimate_loss
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_prompt

QUICK = os.environ.get("MINIGPT_QUICK") == "1"  # CI: tiny models, few iterations, same code
cfg = course_config()  # the pipeline's sizes (quick ones in quick mode) for this notebook's experiments
CKPT = course_checkpoints(cfg)  # the run whose models we load: the full one if it exists, in quick mode too
N_EVAL = 48 if QUICK else 400  # held-out prompts for win rates
np.set_printoptions(precision=3, suppress=True)
print("minigpt from", minigpt.__file__, "| quick mode:", QUICK)
print(course_models_note(CKPT))

# %% [markdown]
# ## 1. The objective
#
# InstructGPT maximises, over the RL policy $\pi_\phi$ (initialised from SFT),
#
# $$\text{objective}(\phi) = \mathbb{E}_{x\sim D,\ y\sim\pi_\phi(\cdot\mid x)}\Big[r_\theta(x, y) - \beta \log
# \frac{\pi_\phi(y\mid x)}{\pi^{\text{SFT}}(y\mid x)}\Big] \;+\; \gamma\, \mathbb{E}_{x\sim D_\text{pretrain}}
# \big[\log \pi_\phi(x)\big].$$
#
# * $r_\theta$ is the reward model. It is only a learned stand-in for the labeler, and the policy will find its
#   blind spots if allowed to wander far.
# * The **KL penalty** $\beta \log(\pi_\phi/\pi^{\text{SFT}})$, in expectation $\beta\,\mathrm{KL}(\pi_\phi \,\|\,
#   \pi^{\text{SFT}})$, keeps the policy near the SFT model, where the RM was trained and is trustworthy.
# * The **pretraining term** (PPO-ptx, $\gamma > 0$) keeps the policy a good language model: RLHF on its own
#   loses some performance on ordinary NLP tasks (the "alignment tax"), and mixing in pretraining gradients
#   recovers most of it.
#
# PPO is the optimiser: it needs only samples from the policy and scores for them.

# %%
t0 = time.time()
sft_path = stage_checkpoint("sft", CKPT)
sft_model, tok, _ = load_model(sft_path)
rm, _ = load_stage("reward", CKPT)
print(f"SFT and reward model ready ({time.time() - t0:.0f} s)")

# %% [markdown]
# ## 2. Running PPO and reading its curves
#
# Each PPO iteration (`minigpt/stages/ppo.py`):
#
# 1. **rollout**: sample one answer for each of `rollout_batch` training prompts from the current policy;
# 2. **score**: the RM scores each whole answer (an answer that never closes with `<|end|>` loses a point);
# 3. **shape**: turn the score into per-token rewards with a KL penalty at every token;
# 4. **advantages**: GAE from those rewards and a value model $V(s_t)$ (a copy of the RM with its own trunk,
#    as in InstructGPT, trained alongside the policy);
# 5. **update**: a few epochs of minibatch steps on the clipped surrogate + value loss (+ γ·pretraining loss),
#    then adapt β toward a target KL.
#
# `stage_checkpoint("ppo")` loads the run's PPO policy or trains it now; its metrics log has one row per iteration.

# %%
t0 = time.time()
ppo_path = stage_checkpoint("ppo", CKPT)
policy, _, ppo_info = load_model(ppo_path, expect_stage="ppo")
print(f"PPO policy ready ({time.time() - t0:.0f} s): {ppo_info['train_config']['iters']} iterations of "
      f"{ppo_info['train_config']['rollout_batch']} rollouts")
hist = read_metrics(os.path.join(CKPT.out_dir, "ppo", "metrics.jsonl"))
H = {k: np.array([row[k] for row in hist], dtype=float) for k, v in hist[0].items()
     if isinstance(v, (int, float)) and k != "time"}  # one array per logged number


def smooth(y, width=5):
    """Moving average (rollout statistics are noisy: each iteration sees a new batch of prompts)."""
    width = max(1, min(width, len(y)))
    return np.convolve(y, np.ones(width) / width, "valid")


fig, axes = plt.subplots(2, 3, figsize=(14, 6.5))
panels = [("rewards", [("rm_score", "RM score"), ("gold", "gold score (hidden)")]),
          ("KL to SFT, nats per answer", [("kl", "KL")]),
          ("entropy, nats per token", [("entropy", "policy entropy")]),
          ("β (adaptive KL coefficient)", [("beta", "β")]),
          ("value loss", [("vf_loss", "value loss")]),
          ("clip fraction", [("clipfrac", "tokens with |ρ−1| > ε")])]
for ax, (title, keys) in zip(axes.flat, panels):
    for k, label in keys:
        line, = ax.plot(H["step"], H[k], lw=0.5, alpha=0.5)
        ax.plot(smooth(H["step"]), smooth(H[k]), lw=2, color=line.get_color(), label=label)
    if title.startswith("KL"):
        ax.axhline(cfg.ppo.target_kl, color="gray", ls=":", label="target of the adaptive β")
    ax.set(title=title, xlabel="iteration")
    ax.legend()
plt.tight_layout()
plt.show()
print(f"RM score {H['rm_score'][0]:+.2f} -> {H['rm_score'][-1]:+.2f}, gold {H['gold'][0]:.2f} -> {H['gold'][-1]:.2f}, "
      f"KL {H['kl'][-1]:.2f} nats, entropy {H['entropy'][0]:.2f} -> {H['entropy'][-1]:.2f} nats/token")

# %% [markdown]
# How to read them (full-size run):
#
# * **Reward** rises: the RM score goes up first and fastest, the gold score follows, less steeply. The gap
#   between the two is the subject of section 7.
# * **KL** to SFT grows from 0; the **adaptive controller** (Ziegler et al.) raises β when the KL exceeds its
#   target and lowers it when below: $\beta \leftarrow \beta\,(1 + \text{clip}(\mathrm{KL}/\mathrm{KL}_\text{target} - 1,
#   \pm 0.2)\cdot n/\text{horizon})$, with $n$ the rollouts since the last update.
# * **Entropy** drifts down (noisily: each batch has different prompts; section 5 measures it on fixed ones):
#   the policy concentrates its probability on the answers the RM likes. RL-tuned models are known to become
#   "peaky" like this.
# * The **value loss** measures how well $V$ predicts the return. The value model starts as the RM, which
#   scores whole answers; it has to learn what a half-written answer is worth.
# * The **clip fraction** stays small: the policy moves a little per iteration, which is what PPO's clip is for.
#
# ## 3. One iteration, dissected
#
# Take a rollout from the trained policy (with the reference, value model and RM of the run) and follow its
# numbers through the three computations that are your exercises 08.3, 08.1 and 08.2.

# %%
value_model = ValueModel(policy.config)
value_model.load_state_dict(load_tensors(os.path.join(ppo_path, "value_model.safetensors")))
pcfg = ppo.PPOConfig.from_dict(ppo_info["train_config"])
beta = ppo_info["final_beta"]
prompts = sample_prompts(8, seed=42)
batch = ppo.rollout(policy, value_model, sft_model, rm, tok, prompts, pcfg, beta, seed=1)
for p, t, s, g in zip(prompts, batch["texts"], batch["scores"], batch["gold"]):
    print(f"{p.text:24} -> {t!r:26} RM {s:+.2f}   gold {g:.2f}")

# %% [markdown]
# ### 3a. Per-token rewards with a KL penalty (exercise 08.3)
#
# The RM gives one number per answer. PPO wants a reward per token (per action), so the score goes on the last
# token and every token pays the KL penalty, a one-sample estimate of $\log\pi_\phi/\pi^{\text{SFT}}$ at that token:
#
# $$r_t = -\beta\,\big(\log\pi_\phi(a_t\mid s_t) - \log\pi^{\text{SFT}}(a_t\mid s_t)\big) + [t = \text{last}]\cdot r_\theta(x, y).$$
#
# Summed over the answer, the penalty is $\beta$ times the log-ratio of the whole answer. The library's
# `rl_math.kl_shaped_rewards` and your `course.kl_penalized_rewards` must agree:

# %%
x, plens, rlens, mask = batch["x"], batch["plens"], batch["rlens"], batch["mask"]
with no_grad():
    ref_logp = to_numpy(response_logprobs(sft_model, x, plens, rlens)[0].data).astype(np.float64)
logp = batch["logp"]
rewards_lib, kl_tok = rl_math.kl_shaped_rewards(logp, ref_logp, batch["scores"], mask, beta)
rewards_course = course.kl_penalized_rewards(logp, ref_logp, batch["scores"], beta, mask > 0)
assert np.allclose(rewards_lib, rewards_course)
i = int(np.argmax(rlens))  # the longest answer of the batch
print(f"{prompts[i].text} -> {batch['texts'][i]!r}  (β = {beta:.3f}, RM score {batch['scores'][i]:+.2f})")
print(f"{'token':>8}{'log π':>9}{'log π_SFT':>11}{'KL term':>9}{'reward':>9}")
shown = list(range(rlens[i])) if rlens[i] <= 14 else list(range(10)) + list(range(rlens[i] - 3, rlens[i]))
for t in shown:
    if t == 10 and rlens[i] > 14:
        print(f"{'...':>8}")
    piece = tok.decode([int(x[i, plens[i] + t])])
    print(f"{piece!r:>8}{logp[i, t]:9.3f}{ref_logp[i, t]:11.3f}{kl_tok[i, t]:9.3f}{rewards_lib[i, t]:9.3f}")
print(f"KL of this answer: {kl_tok[i].sum():.2f} nats; mean over the batch {batch['kl'].mean():.2f}")

# %% [markdown]
# ### 3b. Advantages with GAE (exercise 08.1)
#
# Which tokens deserve the credit for the final score? The **value model** $V(s_t)$ predicts the return from
# token $t$ on; the advantage says how much better the actual outcome was. Generalised advantage estimation
# blends one-step and Monte-Carlo estimates with $\lambda$:
#
# $$\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t), \qquad A_t = \delta_t + \gamma\lambda A_{t+1}, \qquad
# \text{returns}_t = A_t + V(s_t)$$
#
# (with $V = 0$ and $A = 0$ after the last token). $\lambda = 0$: only the next reward and value;
# $\lambda = 1$: the whole remaining reward, minus $V(s_t)$. The library's `rl_math.gae` works on right-padded
# batches with a mask; `course.gae` runs on each row's real tokens:

# %%
adv_lib, ret_lib = rl_math.gae(rewards_lib, batch["values"], mask, pcfg.gamma, pcfg.lam)
for b in range(len(prompts)):
    n = rlens[b]
    adv_c, ret_c = course.gae(rewards_lib[b, :n], batch["values"][b, :n], gamma=pcfg.gamma, lam=pcfg.lam)
    assert np.allclose(adv_c, adv_lib[b, :n]) and np.allclose(ret_c, ret_lib[b, :n])
print("course.gae agrees with rl_math.gae on every answer")
fig, ax = plt.subplots(figsize=(6, 3.5))
n = rlens[i]
for lam in (0.0, 0.5, 0.95, 1.0):
    ax.plot(course.gae(rewards_lib[i, :n], batch["values"][i, :n], gamma=1.0, lam=lam)[0], ".-", label=f"λ = {lam}")
ax.plot(batch["values"][i, :n], "k:", label="V(s_t)")
ax.set(xlabel="answer token t", title=f"advantages along {batch['texts'][i]!r}")
ax.legend()
plt.show()

# %% [markdown]
# Before the update, the advantages of the whole rollout are **whitened** (mean 0, std 1) so the step size
# does not depend on the reward's scale.
#
# ### 3c. The clipped surrogate (exercise 08.2)
#
# The policy gradient raises the log-probability of tokens with positive advantage. To use each rollout for
# several epochs without stepping too far from the policy that sampled it, PPO maximises a **clipped**
# surrogate in the ratio $\rho_t = \pi_\phi(a_t\mid s_t)/\pi_{\text{old}}(a_t\mid s_t)$:
#
# $$L^{\text{CLIP}} = \mathbb{E}_t\big[\min\big(\rho_t A_t,\ \text{clip}(\rho_t, 1-\varepsilon, 1+\varepsilon)\, A_t\big)\big].$$
#
# Once $\rho$ has moved past $1 \pm \varepsilon$ in the direction the advantage wants, the gradient is zero;
# a move in the wrong direction is never clipped (the min is pessimistic):

# %%
rho = np.linspace(0.3, 1.8, 300)
eps = pcfg.clip_eps
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for ax, A in zip(axes, (1.0, -1.0)):
    ax.plot(rho, rho * A, ":", label=r"$\rho A$")
    ax.plot(rho, np.minimum(rho * A, np.clip(rho, 1 - eps, 1 + eps) * A), lw=2, label=r"$L^{CLIP}$")
    ax.axvline(1, color="gray", lw=0.5)
    ax.set(xlabel=r"ratio $\rho$", title=f"A = {A:+.0f}")
    ax.legend()
plt.show()

# %% [markdown]
# Check `course.ppo_clip_loss` against the library's `rl_math.ppo_policy_loss` (whose gradient comes from
# autograd) on this rollout, with the new log-probabilities nudged as if a few updates had happened:

# %%
adv = rl_math.whiten(adv_lib, mask)
logp_new = logp + np.random.default_rng(0).normal(0, 0.2, logp.shape) * mask
loss_c, grad_c = course.ppo_clip_loss(logp_new, logp, adv, eps=eps, mask=mask > 0)
t_new = Tensor(logp_new, requires_grad=True)
loss_l, stats = rl_math.ppo_policy_loss(t_new, logp, adv, mask, eps)
loss_l.backward()
print(f"course loss {loss_c:.6f}   library loss {loss_l.item():.6f}   clip fraction {stats['clipfrac']:.2f}")
assert np.isclose(loss_c, loss_l.item()) and np.allclose(grad_c * mask, t_new.grad * mask)

# %% [markdown]
# The full update also trains the value model (a clipped squared error against the returns, its own optimizer)
# and, for PPO-ptx, adds $\gamma$ times the pretraining LM loss on a batch of documents; it loops over `ppo_epochs` epochs of
# shuffled minibatches. With dropout off, the first minibatch of each iteration starts at exactly $\rho = 1$.
#
# ## 4. Did it work? Win rate against SFT
#
# The measure that matters is the one the policy never trained on: the gold labeler, on held-out prompts.
# Both models answer every prompt (sampled at temperature 1, as during RL); a win counts 1, a tie ½.

# %%
eval_prompts = sample_prompts(N_EVAL, seed=100, split="eval")
t0 = time.time()
res = {name: evaluate_model(m, tok, eval_prompts, mode="chat", temperature=1.0, seed=200)
       for name, m in (("SFT", sft_model), ("PPO", policy))}
for name, r in res.items():
    print(f"{name:4} accuracy {r['accuracy']:.3f}  exact {r['exact_match']:.3f}  gold {r['gold_score']:.3f}  "
          f"mean length {r['mean_chars']:.1f} chars")
w = compare(res["PPO"]["scores"], res["SFT"]["scores"])
print(f"\nwin rate PPO vs SFT: {w['win_rate']:.3f} ± {w['stderr']:.3f} ({w['wins']} wins, {w['ties']} ties, "
      f"{w['losses']} losses)   [{time.time() - t0:.0f} s]")
PIPE = figures.load("pipeline.json")  # the measured default run: same prompts, seeds and temperature
if PIPE:
    m = PIPE["models"]
    print(f"full run (benchmarks/results/pipeline.json): win rate {PIPE['win_rates']['PPO vs SFT']:.3f}; exact "
          f"{m['sft']['exact_match']:.3f} -> {m['ppo']['exact_match']:.3f}; accuracy {m['sft']['accuracy']:.3f} -> "
          f"{m['ppo']['accuracy']:.3f}")
for p, a, b in list(zip(eval_prompts, res["SFT"]["texts"], res["PPO"]["texts"]))[:10]:
    print(f"{p.text:24} SFT {a!r:26} PPO {b!r}")

# %% [markdown]
# In the measured default run (`minigpt pipeline`, `benchmarks/results/pipeline.json`, the last line above) PPO
# beats SFT in 0.711 of the comparisons (ties half) and its exact-match rate jumps from 0.253 to 0.718: it dropped
# the contractors' chatter, which the RM learned the labeler dislikes, and its answers got shorter. Accuracy rises
# far less (0.688 to 0.720), and mostly because a peaky policy samples the answer it finds most likely, as greedy decoding would,
# instead of imitating the contractors' 20% of mistakes: RL can only reinforce right answers the policy already
# samples, and the RM is least reliable exactly where the model is unsure. (Held-out facts stay wrong: SFT taught
# the model to name *some* capital, and no reward can teach it which.) InstructGPT's 175B model was preferred
# to GPT-3 175B 85% of the time, with a far stronger policy, RM and labelers; the direction is the same.
#
# ## 5. A peaky policy
#
# PPO's per-token entropy fell during training. Compare the two models' next-token distributions at the first
# token of an answer, and how many *different* answers each gives to the same prompt:

# %%
kl_info = kl_to_reference(policy, sft_model, tok, eval_prompts[:100], seed=300)
print(f"KL(PPO ‖ SFT) {kl_info['kl']:.2f} ± {kl_info['kl_stderr']:.2f} nats per answer; entropy per token "
      f"SFT {kl_info['ref_entropy']:.3f} -> PPO {kl_info['entropy']:.3f} nats")
few = eval_prompts[:8 if QUICK else 40]
for name, m in (("SFT", sft_model), ("PPO", policy)):
    with no_grad():
        top_p = [to_numpy(ops.softmax(m(np.array([encode_prompt(tok, q.text)]))[0][:, -1]).data).max() for q in few]
    outs = sample_batch(m, [encode_prompt(tok, q.text) for q in few for _ in range(16)], 40,
                        (chat_ids(tok)["end"],), seed=3)
    distinct = [len({tuple(o) for o in outs[j * 16:(j + 1) * 16]}) for j in range(len(few))]
    print(f"{name}: most likely first answer token has p = {np.mean(top_p):.2f} on average; "
          f"{np.mean(distinct):.1f} different answers in 16 samples per prompt")
q = next((q for q in eval_prompts if q.task == "reverse"), eval_prompts[0])
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for ax, (name, m) in zip(axes, (("SFT", sft_model), ("PPO", policy))):
    with no_grad():
        probs = to_numpy(ops.softmax(m(np.array([encode_prompt(tok, q.text)]))[0][:, -1]).data)[0]
    top = np.argsort(-probs)[:8]
    ax.bar([repr(tok.decode([int(j)])) for j in top], probs[top])
    ax.set(ylim=(0, 1), title=f"{name}: first answer token for {q.text!r}")
plt.show()

# %% [markdown]
# The RL policy concentrates its probability: fewer different answers, a more confident first token (for the
# SFT model, a first "T", "S" or "H" starts the contractors' "The answer is", "Sure!", "Hmm,"; PPO has learned
# that the RM dislikes them). For an assistant that is mostly what we want, one clean answer, but it costs
# diversity: RLHF models are worse at tasks that need varied samples, and their probabilities are less
# calibrated than the base model's.
#
# ## 6. PPO-ptx: paying less alignment tax
#
# Fine-tuning toward the RM drifts the model away from the document distribution it was pretrained on. Measure
# the loss on held-out pretraining documents for the SFT and PPO models, and for a PPO-ptx run (same settings,
# plus $\gamma$ times the pretraining loss in every minibatch):

# %%
doc_ids, doc_val = pretrain_tokens(tok, CKPT.n_docs, CKPT.seed)  # the base model's training and held-out text


def doc_loss(model):
    return estimate_loss(model, doc_val, 16, model.config.block_size, 4 if QUICK else 20, seed=0)


def run_ppo(**changes):
    """A PPO run from the SFT checkpoint with the stage's settings except `changes`; returns (policy, history)."""
    pol, ref = load_model(sft_path)[0], load_model(sft_path)[0]
    with tempfile.TemporaryDirectory() as tmp:
        small = {"iters": 4, "rollout_batch": 16} if QUICK else {}  # quick: a few small iterations, any model
        c = ppo.PPOConfig(**{**dict(vars(pcfg)), "out_dir": tmp, **small, **changes})
        out = ppo.train(c, pol, ref, rm, tok, sample_prompts(2000, seed=cfg.seed + 5), ptx_data=doc_ids,
                        progress=not QUICK)
    return pol, out["history"]


t0 = time.time()
gamma_ptx = 0.3  # γ: the weight of the pretraining loss
ptx_policy, ptx_hist = run_ppo(ptx_coef=gamma_ptx)
r_ptx = evaluate_model(ptx_policy, tok, eval_prompts, mode="chat", temperature=1.0, seed=200)
w_ptx = compare(r_ptx["scores"], res["SFT"]["scores"])
print(f"PPO-ptx run: {time.time() - t0:.0f} s")
print(f"{'model':10}{'doc loss':>10}{'gold':>8}{'win vs SFT':>12}")
base_model, _ = load_stage("pretrain", CKPT)
print(f"{'base':10}{doc_loss(base_model):10.3f}")
print(f"{'SFT':10}{doc_loss(sft_model):10.3f}{res['SFT']['gold_score']:8.3f}")
print(f"{'PPO':10}{doc_loss(policy):10.3f}{res['PPO']['gold_score']:8.3f}{w['win_rate']:12.3f}")
print(f"{'PPO-ptx':10}{doc_loss(ptx_policy):10.3f}{r_ptx['gold_score']:8.3f}{w_ptx['win_rate']:12.3f}")

# %% [markdown]
# Read the table: the alignment tax is steep at this scale. A tiny model fine-tuned on nothing but short chats
# forgets much of its document model (compare the base model's loss on documents with the SFT model's, and PPO's).
# The pretraining term (γ = 0.3 here) pulls PPO-ptx's document loss back toward the base model's; whether it also
# costs reward shows in the gold and win-rate columns: the two objectives compete for a very small network, and
# γ sets the exchange rate (try γ = 0.1 and γ = 1). InstructGPT, with a 175B model, found a γ at which PPO-ptx recovered most of
# the performance lost on public NLP benchmarks at little cost in labeler preference.
#
# ## 7. Reward over-optimisation, and best-of-N at equal KL
#
# The RM is a proxy. Optimise it hard enough and the policy finds answers the RM scores highly but the labeler
# does not like: Goodhart's law. Gao et al. (2022) measured it: as the KL from the initial policy grows, the
# proxy (RM) score rises steadily while the gold score rises, peaks and falls. The KL penalty is what keeps
# PPO on the good side of the peak.
#
# To see it, run PPO with a much weaker KL penalty, record RM score and gold score against KL at every
# iteration, and compare with the simplest alternative to RL: **best-of-N** (sample N answers from SFT, keep
# the one the RM likes best). Best-of-N moves the policy by an exactly known amount,
# $\mathrm{KL}_{\text{BoN}} = \log N - \frac{N-1}{N}$ nats.

# %%
t0 = time.time()
hacker, greedy_hist = run_ppo(init_kl_coef=0.005, target_kl=0.0, optim=dataclasses.replace(pcfg.optim, lr=3 * pcfg.optim.lr),
                              iters=6 if QUICK else 2 * pcfg.iters)
G = {k: np.array(greedy_hist[k], dtype=float) for k in ("kl", "rm_score", "gold")}
print(f"weak-penalty PPO run: {time.time() - t0:.0f} s, final KL {G['kl'][-1]:.1f} nats, "
      f"RM {G['rm_score'][-1]:+.2f}, gold {G['gold'][-1]:.2f}\n")
shown = eval_prompts[:10]
hacked = answer_prompts(hacker, tok, shown, mode="chat", temperature=1.0, seed=5)
for q, t, r in zip(shown, hacked, score_texts(rm, tok, shown, hacked)):
    print(f"{q.text:24} -> {t!r:28} RM {r:+.2f}   gold {gold_score(q, t):.2f}")

# %% [markdown]
# Now best-of-N from the SFT model, on training prompts, for N up to 32:

# %%
bon_prompts = sample_prompts(16 if QUICK else 150, seed=77)
Ns = [1, 2, 4] if QUICK else [1, 2, 4, 8, 16, 32]
N_max = Ns[-1]
t0 = time.time()
ctxs = [encode_prompt(tok, q.text) for q in bon_prompts for _ in range(N_max)]
ids = chat_ids(tok)
outs = sample_batch(sft_model, ctxs, 40, (ids["end"], ids["eot"]), temperature=1.0, seed=9)
texts = [decode_response(tok, o) for o in outs]
repeated = [q for q in bon_prompts for _ in range(N_max)]
rm_all = score_texts(rm, tok, repeated, texts).reshape(len(bon_prompts), N_max)  # (prompts, N_max)
gold_all = np.array([gold_score(q, t) for q, t in zip(repeated, texts)]).reshape(len(bon_prompts), N_max)
bon = {"kl": [], "rm": [], "gold": []}
for N in Ns:
    groups = N_max // N  # split the N_max samples of a prompt into disjoint groups of N and average over them
    r = rm_all.reshape(len(bon_prompts), groups, N)
    g = gold_all.reshape(len(bon_prompts), groups, N)
    pick = r.argmax(axis=-1)[..., None]
    bon["kl"].append(np.log(N) - (N - 1) / N)
    bon["rm"].append(np.take_along_axis(r, pick, -1).mean())
    bon["gold"].append(np.take_along_axis(g, pick, -1).mean())
print(f"best-of-N: {len(ctxs)} samples scored in {time.time() - t0:.0f} s")
for N, k, r, g in zip(Ns, bon["kl"], bon["rm"], bon["gold"]):
    print(f"best-of-{N:<3} KL {k:5.2f}  RM {r:+.2f}  gold {g:.3f}")
# the verdict of this run, in numbers (the text below says how to read it)
peak = int(np.argmax(bon["gold"]))
print(f"\nbest-of-N: gold {bon['gold'][0]:.3f} at N = 1, highest {bon['gold'][peak]:.3f} at N = {Ns[peak]}, "
      f"{bon['gold'][-1]:.3f} at N = {Ns[-1]} -> "
      + ("rose and fell: over-optimisation" if bon["gold"][-1] < bon["gold"][peak] - 0.01 else
         "still rising (or flat) at the largest N: no over-optimisation in this range"))
print(f"weak-penalty PPO: gold {G['gold'][-1]:.3f} at KL {G['kl'][-1]:.1f} nats (SFT: {res['SFT']['gold_score']:.3f}, "
      f"highest during the run {G['gold'].max():.3f}) -> "
      + ("fell from its peak: over-optimisation" if G["gold"][-1] < G["gold"].max() - 0.05 else
         "no fall from its peak"))

# %% [markdown]
# Both on one picture: gold score and RM score against the distance from the SFT policy.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, key, label in ((axes[0], "gold", "gold score (true objective)"), (axes[1], "rm_score", "RM score (proxy)")):
    ax.plot(np.sqrt(np.maximum(smooth(G["kl"], 8), 0)), smooth(G[key], 8), ".-", label="PPO, β = 0.005")
    ax.plot(np.sqrt(np.maximum(smooth(H["kl"], 8), 0)), smooth(H[key], 8), ".-",
            label="PPO, the stage's run (adaptive β)")
    ax.plot(np.sqrt(bon["kl"]), bon["gold" if key == "gold" else "rm"], "s-", label="best-of-N from SFT")
    ax.set(xlabel=r"$\sqrt{\mathrm{KL}(\pi \,\|\, \pi_{SFT})}$ (nats$^{1/2}$)", title=label)
    ax.legend()
plt.show()

# %% [markdown]
# (The x-axis is $d = \sqrt{\mathrm{KL}}$, as in Gao et al., who fit the gold score with $d(\alpha - \beta d)$ for
# best-of-N and $d(\alpha - \beta \log d)$ for RL: both rise, peak and fall.) What to look for:
#
# * **Over-optimisation** is the gold curve rising, peaking and falling while the RM curve keeps rising: the
#   policy has found answers the RM scores higher than the labeler would. The verdict lines under the best-of-N
#   table say whether this run shows it.
# * **Whether it shows depends on the RM and on how hard you push.** Gao et al. saw it with RMs far weaker than
#   their gold model, over tens of nats. Our RM is trained on the SFT model's own samples and is accurate on
#   them (held-out pairwise accuracy 0.917 in the measured default run), and the KL reached here is small, so
#   with the default checkpoints the gold score can simply keep rising with N, and the weakly penalised PPO run can
#   end above SFT, its RM-score curve even falling as it drifts. That is a result too: over this range the proxy
#   is good enough. To find the peak, weaken the proxy or push further: an RM trained on fewer rankings
#   (notebook 07, section 4), a lower β, more iterations, larger N.
# * When a policy does over-optimise, look at what it learned to say: typically short answers in the right
#   format, often wrong (the *form* the RM likes without the substance), or a blind spot of the RM, such as the
#   refusal of notebook 07 (with earlier defaults, whose RM scored every refusal as good, one of our runs
#   collapsed onto "Sorry, I can't help." for every question). This is Goodhart's law, and why PPO needs
#   $\beta$ and early stopping, and why GPT-4 added rule-based rewards against over-refusal.
# * The stage's run, with its adaptive β, stays near its target KL (section 2's curves).
# * **Best-of-N** is very KL-efficient at small N: it only re-weights the SFT model's own samples, so every
#   answer it returns is one the SFT model writes anyway. RL has to move the policy to get the same gains, but
#   then answers with one sample instead of N, and can keep improving past what the SFT model ever samples, if
#   its reward can be trusted that far.
#
# ## Recap
#
# * RLHF objective: $\mathbb{E}[r_\theta(x,y)] - \beta\,\mathrm{KL}(\pi\,\|\,\pi^{\text{SFT}}) + \gamma\,
#   \mathbb{E}_{\text{pretrain}}[\log\pi]$ (PPO-ptx). InstructGPT: 31k PPO prompts; labelers preferred its
#   outputs to GPT-3's ~85% of the time.
# * One PPO iteration: rollout → RM score → **per-token KL-shaped rewards** → **GAE** with a value model →
#   several epochs of the **clipped surrogate** on minibatches; an **adaptive β** steers the KL.
# * The curves to watch: reward (RM and, if you have it, a gold check), KL, entropy, value loss, clip fraction.
# * RL policies lose entropy: **peaky** distributions, less diverse samples.
# * The RM is a proxy: push KL far enough past what the RM can judge and the gold score stops following it
#   (**over-optimisation**); how far is far enough depends on the RM, and section 7 prints whether this run got
#   there. Best-of-N reaches the early gains at a known, small KL, at N times the sampling cost.
#
# ## Exercises
#
# In `exercises/ex08_ppo.py` (check with `minigpt grade`, or one at a time with
# `MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_08_1_gae`, `-m ex_08_2_ppo_clip`, `-m ex_08_3_kl_rewards`):
#
# * **Exercise 08.1** `gae(rewards, values, gamma, lam, last_value, dones)`: advantages and returns (section 3b).
# * **Exercise 08.2** `ppo_clip_loss(logp_new, logp_old, advantages, eps, mask)`: the clipped surrogate and its
#   gradient (section 3c).
# * **Exercise 08.3** `kl_penalized_rewards(logp, logp_ref, score, beta, mask)`: per-token rewards (section 3a).
# * Try: rerun the weakly penalised PPO of section 7 with `rbrm_coef=0.5` (the rule-based reward of notebook 07
#   punishes refusing a harmless question). Does the policy still learn to refuse everything? What does it find
#   instead?
#
# Next: `09_beyond.ipynb` replaces PPO with DPO and GRPO and looks at what came after.
