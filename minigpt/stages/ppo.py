r"""Stage 4, reinforcement learning from the reward model with PPO (InstructGPT's PPO-ptx).

Each iteration:
1. rollout   sample a response y for a batch of prompts x from the policy π (starts as SFT);
2. score     r(x, y) from the reward model (+ optional rule-based reward, - a penalty if the
             response never closed with <|end|>), placed on the last response token;
3. shape     per-token KL penalty against the frozen SFT policy π_ref:
                 r_t = -β (log π(a_t|s_t) - log π_ref(a_t|s_t)) + [t = last] · r(x, y)
4. GAE       advantages A_t and returns R_t from r_t and the value model V(s_t), A whitened;
5. update    several epochs over minibatches: the policy on the clipped surrogate (+ γ ·
             pretraining LM loss: PPO-ptx), the value model (its own trunk, initialised from
             the RM as in InstructGPT) on the clipped value loss; then adapt β toward a target KL.

The reward and value models never see the gold labeler; it is only logged, to show what the RM
score is worth. PAD (<|pad|>) fills the batch after a response; EOS (<|end|>) is a real action
the policy takes and is trained on; padded positions are masked out of every loss.

Under data parallelism (`mpiexec -n N minigpt ppo …`) each rank rolls out a contiguous share of the
iteration's prompts: response i is sampled from its own generator seeded by (iteration seed, i), so
the ranks together sample exactly the one-process rollout. Statistics that span the batch (the
whitening of the advantages, the logged means) are summed over the ranks, and every minibatch of
the global order is computed by each rank on the rows it holds, its loss weighted by their share of
the minibatch's tokens (`RolloutShare`): the summed gradients are the one-process gradients.

    minigpt ppo --init runs/sft/ckpt --reward runs/reward/ckpt --out-dir runs/ppo --iters 40
"""
import time
from dataclasses import dataclass, field

import numpy as np

from minigpt import dist, rl_math
from minigpt.autograd import no_grad
from minigpt.backend import to_numpy, xp
from minigpt.config import Config, in_range, moved_into, nonnegative, positive
from minigpt.data.assistant import gold_score, make_pretrain_corpus, rule_based_reward, sample_prompts
from minigpt.data.tokens import encode_array, get_batch
from minigpt.generate import sample_batch
from minigpt.loop import Loop, adamw, optimizer_step
from minigpt.nn.heads import ValueModel
from minigpt.optim import OptimConfig
from minigpt.scoring import response_logprobs, response_values, score_texts
from minigpt.stages.common import load_model
from minigpt.stages.reward import load_reward_model
from minigpt.tokenizer.chat_template import chat_ids, decode_response, encode_prompt, pad_batch


@dataclass
class RLConfig(Config):
    r"""What PPO and GRPO share (each adds its own fields after these): the policy and the reward model to start
    from, the rollouts, the clipped update, the optimizer, the seeds and the checkpoints."""
    MOVED = moved_into("optim", OptimConfig)  # configs saved before the optimizer fields moved into `optim`

    init: str = "runs/sft/ckpt"  # SFT checkpoint: the initial policy and the reference
    reward: str = "runs/reward/ckpt"  # reward-model checkpoint
    n_prompts: int = 2000  # pool of train-split prompts to draw rollouts from
    iters: int = 40  # iterations (rollout + update)
    ppo_epochs: int = 2  # passes over each rollout
    minibatch_size: int = 32  # sequences per gradient step
    optim: OptimConfig = field(  # AdamW at a constant learning rate (PPO: the value model uses it too, with vf_lr)
        default_factory=lambda: OptimConfig(lr=3e-5, beta2=0.95))
    temperature: float = 1.0  # rollout sampling temperature
    max_new_tokens: int = 40  # longest response
    clip_eps: float = 0.2  # ratio clip ε
    missing_eos_penalty: float = 1.0  # subtracted from the score of a response without <|end|>
    data_seed: int = 3  # seeds the prompt pool
    seed: int = 1337  # seeds rollouts and minibatch order
    ckpt_interval: int = 10  # iterations between checkpoints (and at the end)
    resume: bool = False  # continue from out_dir/ckpt if present
    force: bool = False  # start over even if out_dir already holds a run

    def validate(self):
        positive(self, "n_prompts", "iters", "ppo_epochs", "minibatch_size", "max_new_tokens", "clip_eps",
                 "ckpt_interval")
        nonnegative(self, "temperature", "missing_eos_penalty", "data_seed", "seed")


@dataclass
class PPOConfig(RLConfig):
    out_dir: str = "runs/ppo"  # where checkpoints and metrics go
    rollout_batch: int = 64  # prompts per rollout
    init_kl_coef: float = 0.1  # β, weight of the per-token KL penalty
    target_kl: float = 0.0  # adaptive β steers the KL (nats per response) toward this; 0 = fixed β
    kl_horizon: int = 2000  # adaptive controller horizon (in rollout samples)
    gamma: float = 1.0  # discount
    lam: float = 0.95  # GAE λ
    vf_clip: float = 0.2  # value clip
    vf_lr: float = 1e-4  # learning rate of the value model (its own trunk, initialised from the RM)
    whiten_advantages: bool = True  # normalise advantages over each rollout
    ptx_coef: float = 0.0  # γ of PPO-ptx: weight of the pretraining LM loss (0 = plain PPO)
    ptx_batch: int = 8  # pretraining sequences per minibatch when ptx_coef > 0
    rbrm_coef: float = 0.0  # weight of the rule-based reward added to the RM score

    def validate(self):
        super().validate()
        positive(self, "rollout_batch", "kl_horizon", "vf_clip", "vf_lr", "ptx_batch")
        nonnegative(self, "init_kl_coef", "target_kl", "ptx_coef", "rbrm_coef")
        in_range(self, "gamma", 0.0, 1.0, hi_open=False)
        in_range(self, "lam", 0.0, 1.0, hi_open=False)


# -----------------------------------------------------------------------------
# one rollout

def rollout(policy, value_model, ref, rm, tok, prompts, cfg, beta, seed, first=0, comm=None):
    """Sample, score and shape one batch; returns a dict of arrays and the response texts.

    Response i is sampled from its own generator, seeded by (seed, first + i): a rank that rolls out
    prompts first, first + 1, ... of an iteration samples what one process would. `comm` (data
    parallelism) whitens the advantages over all ranks' tokens; None: this batch alone.
    """
    comm = comm or dist.Comm()
    ids = chat_ids(tok)
    contexts = [encode_prompt(tok, p.text) for p in prompts]
    responses = sample_batch(policy, contexts, cfg.max_new_tokens, (ids["end"], ids["eot"]),
                             temperature=cfg.temperature, seed=[(seed, first + i) for i in range(len(contexts))])
    texts = [decode_response(tok, r) for r in responses]
    rm_scores = score_texts(rm, tok, prompts, texts)
    closed = np.array([len(r) > 0 and r[-1] in (ids["end"], ids["eot"]) for r in responses])
    scores = rm_scores - cfg.missing_eos_penalty * (~closed)
    if cfg.rbrm_coef:
        scores = scores + cfg.rbrm_coef * np.array([rule_based_reward(p, t) for p, t in zip(prompts, texts)])
    x, _ = pad_batch([c + r for c, r in zip(contexts, responses)], ids["pad"])
    plens = np.array([len(c) for c in contexts])
    rlens = np.array([len(r) for r in responses])
    with no_grad():
        logp, logits, mask = response_logprobs(policy, xp.asarray(x), plens, rlens)
        ref_logp, _, _ = response_logprobs(ref, xp.asarray(x), plens, rlens)
        values = response_values(value_model, xp.asarray(x), plens, rlens)
    logp, values, ref_logp = (to_numpy(t.data).astype(np.float64) for t in (logp, values, ref_logp))
    rewards, kl = rl_math.kl_shaped_rewards(logp, ref_logp, scores, mask, beta)
    adv, returns = rl_math.gae(rewards, values * mask, mask, cfg.gamma, cfg.lam)
    if cfg.whiten_advantages:
        adv = rl_math.whiten(adv, mask, total=comm.sum_floats)  # over the whole batch, all ranks
    return {"x": x, "plens": plens, "rlens": rlens, "mask": mask, "logp": logp, "values": values * mask,
            "adv": adv, "returns": returns, "texts": texts, "scores": scores, "rm_scores": rm_scores,
            "kl": kl.sum(axis=1), "entropy": rl_math.entropy(to_numpy(logits), mask), "closed": closed,
            "gold": np.array([gold_score(p, t) for p, t in zip(prompts, texts)])}


# -----------------------------------------------------------------------------
# data parallelism: which rows of a rollout this rank holds

class RolloutShare:
    r"""This rank's rows [lo, hi) of a rollout of B rows (one process: all of them), and how to weigh them.

    Every rank walks the same minibatches of global row indices and computes each on the rows it holds.
    With n_r of a minibatch's n response tokens on rank r, its token-mean loss is weighted by n_r / n, so
    the weighted losses, and their gradients, add up over the ranks to the whole minibatch's:

        Σ_r (n_r / n) · (1/n_r) Σ_{t ∈ rank r} ℓ_t  =  (1/n) Σ_t ℓ_t

    Example: minibatch rows [3, 0] with 2 and 5 response tokens, rank 0 holding row 0: weight 5/7.
    """

    def __init__(self, B, rlens, lo=0, comm=None):
        self.comm = comm or dist.Comm()
        self.lo, self.hi = lo, lo + len(rlens)
        all_rlens = np.zeros(B)
        all_rlens[self.lo:self.hi] = rlens
        self.rlens = self.comm.allreduce(all_rlens)  # every row's response length, on every rank

    def minibatches(self, epochs, size, rng):
        """An update's minibatches: `epochs` passes over the rollout, each in a new order drawn from rng, `size`
        rows at a time; yields (epoch, this rank's rows of the minibatch, their weights) as `rows` gives them."""
        for epoch in range(epochs):
            order = rng.permutation(len(self.rlens))
            for s in range(0, len(order), size):
                yield (epoch, *self.rows(order[s:s + size]))

    def rows(self, idx):
        """(this rank's rows of minibatch idx, as local indices; their share of its tokens)."""
        mine = idx[(idx >= self.lo) & (idx < self.hi)]
        return mine - self.lo, float(self.rlens[mine].sum() / self.rlens[idx].sum())


def global_means(batch, comm, keys=("scores", "rm_scores", "gold", "kl", "rlens", "closed")):
    """Means over the whole rollout (all ranks' rows) of per-row arrays, and the token-mean entropy."""
    tokens = float(batch["mask"].sum())
    n, n_tokens, entropy, *sums = comm.sum_floats(len(batch["x"]), tokens, batch["entropy"] * tokens,
                                                  *(float(np.sum(batch[k])) for k in keys if k in batch))
    out = dict(zip([k for k in keys if k in batch], (v / n for v in sums)))
    out["entropy"] = entropy / n_tokens
    return out


# -----------------------------------------------------------------------------
# the update

def ppo_update(policy, value_model, opt, vopt, batch, cfg, rng, ptx_data=None, share=None):
    """Several epochs of minibatch updates on one rollout; returns per-minibatch stats (first one first).

    share (data parallelism): this rank holds rows share.lo..share.hi of the rollout (`RolloutShare`);
    None: one process holding all of it. The logged stats are those of the whole minibatch.
    """
    share = share or RolloutShare(len(batch["x"]), batch["rlens"])
    comm = share.comm
    stats = []
    for epoch, idx, w in share.minibatches(cfg.ppo_epochs, cfg.minibatch_size, rng):
        loss, parts, absmax = None, [0.0] * 6, 0.0  # loss, pg_loss, clipfrac, approx_kl, ratio_mean, ptx_loss
        if len(idx):  # this rank holds some of the minibatch's rows
            plens, rlens = batch["plens"][idx], batch["rlens"][idx]
            x = batch["x"][idx][:, :int((plens + rlens).max())]
            R = int(rlens.max())
            mask, old_logp = batch["mask"][idx][:, :R], batch["logp"][idx][:, :R]
            logp, _, _ = response_logprobs(policy, xp.asarray(x), plens, rlens)
            pg_loss, st = rl_math.ppo_policy_loss(logp, old_logp, batch["adv"][idx][:, :R], mask, cfg.clip_eps)
            loss = pg_loss * w
            parts[1:5] = [pg_loss.item() * w] + [st[k] * w for k in ("clipfrac", "approx_kl", "ratio_mean")]
            absmax = st["log_ratio_absmax"]
        if cfg.ptx_coef and ptx_data is not None:
            px, py = get_batch(ptx_data, cfg.ptx_batch, policy.config.block_size, rng)  # same on every rank
            lo, hi = dist.my_share(len(px), comm)  # ... and each computes its rows of it
            if hi > lo:
                ptx_loss = policy(xp.asarray(px[lo:hi]), xp.asarray(py[lo:hi]))[1]
                term = ptx_loss * (cfg.ptx_coef * (hi - lo) / len(px))
                loss = term if loss is None else loss + term
                parts[5] = ptx_loss.item() * (hi - lo) / len(px)
        if loss is not None:
            loss.backward()
            parts[0] = loss.item()
        total, pg, clipfrac, approx_kl, ratio_mean, ptx = comm.sum_floats(*parts)
        st = {"pg_loss": pg, "clipfrac": clipfrac, "approx_kl": approx_kl, "ratio_mean": ratio_mean,
              "log_ratio_absmax": comm.max_floats(absmax)[0], "epoch": epoch}
        if cfg.ptx_coef and ptx_data is not None:
            st["ptx_loss"] = ptx
        st["grad_norm"] = optimizer_step(opt, cfg.optim.grad_clip, loss=total, reduce="sum")
        # the value model: its own loss, gradient and optimizer
        vparts = [0.0, 0.0]
        if len(idx):
            values = response_values(value_model, xp.asarray(x), plens, rlens)
            vf_loss, vst = rl_math.ppo_value_loss(values, batch["values"][idx][:, :R],
                                                  batch["returns"][idx][:, :R], mask, cfg.vf_clip)
            (vf_loss * w).backward()
            vparts = [vf_loss.item() * w, vst["vf_clipfrac"] * w]
        vf, vf_clipfrac = comm.sum_floats(*vparts)
        optimizer_step(vopt, cfg.optim.grad_clip, loss=vf, reduce="sum")
        st.update(vf_loss=vf, vf_clipfrac=vf_clipfrac)
        stats.append(st)
    return stats


def train(cfg, policy, ref, rm, tok, prompts, ptx_data=None, *, progress=True, callback=None, stop_at=None):
    """Run PPO through the one loop (one step = one rollout + its updates); returns a dict with the policy,
    value model, history (per iteration) and checkpoint (policy and value model, one unit)."""
    rng, comm = start_rl(cfg, policy, ref, rm, cfg.rollout_batch, "rollout-batch")
    value_model = ValueModel.from_reward_model(rm).eval()
    kl_ctl = (rl_math.AdaptiveKLController(cfg.init_kl_coef, cfg.target_kl, cfg.kl_horizon) if cfg.target_kl > 0
              else rl_math.FixedKLController(cfg.init_kl_coef))

    def iteration(step, _):
        mine, lo = draw_prompts(prompts, cfg.rollout_batch, rng, comm)
        beta = kl_ctl.beta
        batch = rollout(policy, value_model, ref, rm, tok, mine, cfg, beta, seed=int(rng.integers(2**31)), first=lo,
                        comm=comm)
        st = ppo_update(policy, value_model, opt, vopt, batch, cfg, rng, ptx_data,
                        RolloutShare(cfg.rollout_batch, batch["rlens"], lo, comm))
        m = global_means(batch, comm)
        kl_ctl.update(m["kl"], cfg.rollout_batch)
        return {"score": m["scores"], "rm_score": m["rm_scores"],
                "gold": m["gold"], "kl": m["kl"], "beta": beta, "entropy": m["entropy"],
                "resp_len": m["rlens"], "closed": m["closed"],
                "pg_loss": float(np.mean([s["pg_loss"] for s in st])),
                "vf_loss": float(np.mean([s["vf_loss"] for s in st])),
                "clipfrac": float(np.mean([s["clipfrac"] for s in st])),
                "approx_kl": float(np.mean([s["approx_kl"] for s in st])),
                "first_ratio": st[0]["ratio_mean"], "first_clipfrac": st[0]["clipfrac"],
                "first_log_ratio_absmax": st[0]["log_ratio_absmax"],
                "ptx_loss": float(np.mean([s["ptx_loss"] for s in st])) if "ptx_loss" in st[0] else None}

    def get_state():
        return {"rng": rng.bit_generator.state, "beta": kl_ctl.beta}

    def set_state(state):
        rng.bit_generator.state = state["rng"]
        kl_ctl.beta = state["beta"]

    t0 = time.time()
    data = (prompts, ptx_data if ptx_data is not None else "no ptx", *rm.state_dict().values(),
            *ref.state_dict().values())
    with Loop(cfg, "ppo", tok, steps=cfg.iters, data=data, progress=progress, callback=callback,
              desc="ppo") as loop:
        opt = adamw(policy.parameters(), cfg.optim)
        vopt = adamw(value_model.parameters(), cfg.optim, lr=cfg.vf_lr)
        history = loop.run({"model": policy, "value_model": value_model}, {"model": opt, "value_model": vopt},
                           iteration_fn=iteration, finish=lambda: {"final_beta": kl_ctl.beta},
                           state=(get_state, set_state), show=("score", "gold", "kl"), stop_at=stop_at)
    return {"model": policy, "value_model": value_model, "tokenizer": tok, "history": history, "ckpt": loop.ckpt_dir,
            "seconds": time.time() - t0, "final_beta": kl_ctl.beta}


# -----------------------------------------------------------------------------
# checks and loading

def check_compatible(policy, ref, rm):
    """Policy, reference and reward model must share the vocabulary (same tokenizer)."""
    v = policy.config.vocab_size
    for name, m in (("reference policy", ref), ("reward model", rm)):
        if m.config.vocab_size != v:
            raise ValueError(f"the {name} has vocab_size={m.config.vocab_size} but the policy has {v}: "
                             f"they were trained with different tokenizers")


def start_rl(cfg, policy, ref, rm, per_iter, flag):
    """What PPO and GRPO do before their first rollout: check that the three models share a vocabulary, switch
    off dropout (old and new log-probs must come from the same function) and check that every rank gets prompts
    (`per_iter` prompts per iteration, set by --`flag`). Returns (rng, comm): the run's one random stream,
    seeded by cfg.seed and the same on every rank (the loop checkpoints it), and the communicator."""
    check_compatible(policy, ref, rm)
    ref.eval()
    policy.eval()
    comm = dist.get_comm()
    if per_iter < comm.size:
        raise ValueError(f"{flag.replace('-', '_')}={per_iter} is smaller than the number of ranks ({comm.size}): "
                         f"each rank rolls out a share of the prompts; use --{flag} {comm.size} or more")
    return np.random.default_rng(cfg.seed), comm


def draw_prompts(prompts, n, rng, comm):
    """One iteration's n prompts, drawn from the pool with the run's stream: (this rank's share, index of its first)."""
    pick = rng.choice(len(prompts), size=n, replace=len(prompts) < n)
    lo, hi = dist.my_share(n, comm)  # this rank's prompts of the rollout
    return [prompts[i] for i in pick[lo:hi]], lo


def same_tokenizer(a, b):
    return type(a) is type(b) and a._to_json() == b._to_json() and a.special_tokens == b.special_tokens


def load_for_ppo(init, reward, ref=None):
    """(policy, reference, reward model, tokenizer) with clear errors for wrong or mismatched checkpoints."""
    try:
        policy, tok, _ = load_model(init, expect_stage=("sft", "ppo"))
        reference, _, _ = load_model(ref or init, expect_stage=("sft", "ppo"))
    except ValueError as e:
        raise ValueError(f"the policy must be an SFT (or PPO) checkpoint, not a reward model or base model: {e}") from e
    rm, rm_tok, _ = load_reward_model(reward)
    if not same_tokenizer(tok, rm_tok):
        raise ValueError(f"the reward model in {reward} was trained with a different tokenizer than the policy in "
                         f"{init} (mismatched tokenizer/checkpoint)")
    chat_ids(tok)
    return policy, reference, rm, tok


def run(cfg, progress=True):
    policy, ref, rm, tok = load_for_ppo(cfg.init, cfg.reward)
    ptx = None
    if cfg.ptx_coef:
        docs = make_pretrain_corpus(1000, seed=cfg.data_seed)
        ptx = encode_array(tok, "<|endoftext|>".join(docs))
    return train(cfg, policy, ref, rm, tok, sample_prompts(cfg.n_prompts, seed=cfg.data_seed), ptx, progress=progress)


# -----------------------------------------------------------------------------
# CLI

def summary(cfg, res):
    """`minigpt ppo`'s one line about a finished run (res: what run(cfg) returned)."""
    h = res["history"]
    return (f"ppo: {cfg.iters} iterations in {res['seconds']:.1f}s; RM score {h['score'][0]:.3f} -> {h['score'][-1]:.3f}, "
            f"KL {h['kl'][-1]:.3f} nats, entropy {h['entropy'][0]:.3f} -> {h['entropy'][-1]:.3f}; checkpoint in {res['ckpt']}")
