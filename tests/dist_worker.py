"""A tiny data-parallel training run for tests/test_dist.py: the comm layer and ZeRO-1 outside any stage.

Each rank trains the same small GPT on its micro-batches of each step (dist.my_micro_batches),
sums gradients with dist.allreduce_grads, clips, steps AdamW (or ZeroAdamW) and finally writes its
weights to OUT/rank<r>.npz. Run as one process or under mpiexec; the run must not depend on N.

    mpiexec -n 2 python tests/dist_worker.py OUT --steps 4 --grad-accum 4 [--zero] [--resume-from F] [--save-optim F]
    mpiexec -n 2 python tests/dist_worker.py pretrain OUT_DIR [STOP_AT] [--resume]    # the real stage, on the loop
    mpiexec -n 2 python tests/dist_worker.py dpo|sft|sft_aux OUT_DIR                   # alignment stages (rows split)
    mpiexec -n 2 python tests/dist_worker.py ppo|grpo OUT_DIR                          # RL stages (rollouts split)
"""
import argparse
import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # align_helpers

import numpy as np

from minigpt import dist
from minigpt.backend import to_numpy
from minigpt.data.tokens import get_batch
from minigpt.nn.gpt import GPT, GPTConfig
from minigpt.optim import AdamW, clip_grad_norm
from minigpt.zero import ZeroAdamW

SEED = 5


def tiny_model():
    return GPT(GPTConfig(vocab_size=32, block_size=16, n_layer=2, n_head=2, n_embd=32), seed=SEED)


def corpus():
    return np.random.default_rng(SEED).integers(0, 32, size=2000).astype(np.uint16)


def train(steps, grad_accum, batch_size=3, zero=False, state=None, start=0, lr=3e-3):
    """Train the tiny model from `start` to `steps`; returns (model, optimizer)."""
    comm = dist.get_comm()
    model = tiny_model()
    params = model.parameters()
    opt = (ZeroAdamW if zero else AdamW)(params, lr=lr, betas=(0.9, 0.99), weight_decay=0.1)
    if state is not None:
        model.load_state_dict({k[len("model."):]: v for k, v in state.items() if k.startswith("model.")})
        opt.load_state_dict({k[len("optim."):]: (int(v) if k == "optim.t" else v)
                             for k, v in state.items() if k.startswith("optim.")})
    dist.broadcast_params(params)
    buckets = dist.make_buckets(params, bucket_bytes=16 << 10)  # small buckets: several of them
    data = corpus()
    for step in range(start, steps):
        for micro in dist.my_micro_batches(grad_accum):
            x, y = get_batch(data, batch_size, 16, np.random.default_rng([SEED, step, micro]))
            _, loss = model(x, y)
            (loss * (1.0 / grad_accum)).backward()
        dist.allreduce_grads(params, buckets)
        clip_grad_norm(params, 1.0)
        opt.step()
        opt.zero_grad()
    return model, opt


def checkpoint_arrays(model, opt):
    """Model weights and optimizer state as one flat dict of arrays (np.savez, no pickle)."""
    out = {f"model.{k}": to_numpy(v) for k, v in model.state_dict().items()}
    for k, v in opt.state_dict().items():
        out[f"optim.{k}"] = np.asarray(v) if k == "t" else to_numpy(v)
    return out


def pretrain(out_dir, stop_at=None, resume=False, max_iters=8, **overrides):
    """A tiny `minigpt pretrain` run through the one loop (dropout on, 4 micro-batches per step)."""
    from minigpt.stages.pretrain import PretrainConfig, prepare, train
    from minigpt.nn.gpt import GPTConfig
    cfg = PretrainConfig(out_dir=str(out_dir), data="toyweb", n_chars=20_000,
                         model=GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=32, dropout=0.1), batch_size=3, grad_accum=4, max_iters=max_iters, optim=dict(warmup_iters=2),
                         eval_interval=4, eval_iters=1, ckpt_interval=4, seed=3, resume=resume, **overrides)
    tok, tr, va = prepare(cfg)
    return train(cfg, None, tok, tr, va, progress=False, stop_at=stop_at)


def dpo(out_dir):
    """A tiny DPO run (one batch of 7 pairs per step, no micro-batches): under mpiexec the rows are split."""
    from align_helpers import tiny_gpt, world_tok
    from minigpt.stages import dpo as dpo_stage
    tok = world_tok()
    policy, ref = tiny_gpt(tok, seed=5), tiny_gpt(tok, seed=5)
    pairs = [(f"What is {a}+{b}?", str(a + b), f"The answer is {a + b + 1}.") for a in range(4) for b in range(4)]
    cfg = dpo_stage.DPOConfig(out_dir=str(out_dir), epochs=2, batch_size=7, optim=dict(lr=3e-3, min_lr=3e-3, warmup_iters=0),
                              beta=0.5)
    return dpo_stage.train(cfg, policy, ref, tok, pairs, progress=False)


def sft(out_dir, aux_lm_coef=0.0):
    """A tiny SFT run (batches of 5 demonstrations of different lengths, token-weighted loss)."""
    from align_helpers import tiny_gpt, world_tok
    from minigpt.stages import sft as sft_stage
    tok = world_tok()
    demos = [(f"What is {a}+{b}?", f"{a}+{b} is {a + b}." if a % 2 else str(a + b)) for a in range(5) for b in range(3)]
    cfg = sft_stage.SFTConfig(out_dir=str(out_dir), epochs=2, batch_size=5, optim=dict(lr=3e-3), eval_interval=100,
                              aux_lm_coef=aux_lm_coef)
    return sft_stage.train(cfg, tiny_gpt(tok, seed=6), tok, demos, progress=False)


def sft_aux(out_dir):
    """SFT with GPT-1's auxiliary LM loss (λ = 0.5): its all-token mean must be over the whole batch too."""
    return sft(out_dir, aux_lm_coef=0.5)


def rl_world():
    """(policy, reference, reward model, tokenizer, prompts) for the tiny PPO and GRPO runs."""
    from align_helpers import tiny_gpt, world_tok
    from minigpt.data.assistant import sample_prompts
    from minigpt.nn.heads import RewardModel
    tok = world_tok()
    rm = RewardModel.from_gpt(tiny_gpt(tok, seed=2), seed=3)
    return tiny_gpt(tok, seed=1), tiny_gpt(tok, seed=1), rm, tok, sample_prompts(32, seed=0)


@contextlib.contextmanager
def count_rollouts(stage, out_dir):
    """While inside, each call of stage.rollout adds its prompts to OUT_DIR/rollouts<rank>.txt (then restored)."""
    rank, inner, seen = dist.get_comm().rank, stage.rollout, []

    def counted(policy, *args, **kw):
        seen.append(len(args[4] if stage.__name__.endswith(".ppo") else args[3]))  # the prompts argument
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"rollouts{rank}.txt"), "w") as f:
            f.write(f"{sum(seen)}\n")
        return inner(policy, *args, **kw)
    stage.rollout = counted
    try:
        yield
    finally:
        stage.rollout = inner


def ppo(out_dir):
    """A tiny PPO run: 2 iterations of 5 rollouts (2 + 3 on 2 ranks), minibatches of 3 and 2, whitening, PPO-ptx on
    3 pretraining rows per minibatch and the adaptive KL controller (fed the global KL)."""
    from minigpt.data.assistant import make_pretrain_corpus
    from minigpt.stages import ppo as ppo_stage
    policy, ref, rm, tok, prompts = rl_world()
    ptx = np.array(tok.encode("<|endoftext|>".join(make_pretrain_corpus(20, seed=0)), allowed_special="all"))
    cfg = ppo_stage.PPOConfig(out_dir=str(out_dir), iters=2, rollout_batch=5, minibatch_size=3, ppo_epochs=2,
                              max_new_tokens=6, optim=dict(lr=3e-3), vf_lr=3e-3, target_kl=1.0, kl_horizon=10, ptx_coef=0.5,
                              ptx_batch=3, seed=0)
    with count_rollouts(ppo_stage, out_dir):
        return ppo_stage.train(cfg, policy, ref, rm, tok, prompts, ptx_data=ptx, progress=False)


def grpo(out_dir):
    """A tiny GRPO run: 2 iterations of 3 prompts × 2 samples (1 + 2 prompts on 2 ranks), minibatches of 4."""
    from minigpt.stages import grpo as grpo_stage
    policy, ref, rm, tok, prompts = rl_world()
    cfg = grpo_stage.GRPOConfig(out_dir=str(out_dir), iters=2, prompts_per_iter=3, group_size=2, minibatch_size=4,
                                max_new_tokens=6, optim=dict(lr=3e-3), seed=0)
    with count_rollouts(grpo_stage, out_dir):
        return grpo_stage.train(cfg, policy, ref, rm, tok, prompts, progress=False)


def main():
    if sys.argv[1] == "pretrain":  # dist_worker.py pretrain OUT_DIR [STOP_AT] [--resume]
        stop = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else None
        pretrain(sys.argv[2], stop_at=stop, resume="--resume" in sys.argv)
        return
    if sys.argv[1] in ("dpo", "sft", "sft_aux", "ppo", "grpo"):  # dist_worker.py STAGE OUT_DIR
        globals()[sys.argv[1]](sys.argv[2])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--grad-accum", type=int, default=4)
    ap.add_argument("--zero", action="store_true")
    ap.add_argument("--resume-from", default=None, help="npz from --save-optim: continue from its step")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--save-optim", default=None, help="write model + optimizer state here (rank 0)")
    a = ap.parse_args()
    state = dict(np.load(a.resume_from, allow_pickle=False)) if a.resume_from else None
    model, opt = train(a.steps, a.grad_accum, zero=a.zero, state=state, start=a.start)
    comm = dist.get_comm()
    arrays = checkpoint_arrays(model, opt) if a.save_optim else None  # collective for ZeroAdamW
    os.makedirs(a.out, exist_ok=True)
    np.savez(os.path.join(a.out, f"rank{comm.rank}.npz"), **{k: to_numpy(v) for k, v in model.state_dict().items()})
    if a.save_optim and comm.is_main:
        np.savez(a.save_optim, **arrays)
    if isinstance(opt, ZeroAdamW):
        mem = opt.memory_bytes()
        with open(os.path.join(a.out, f"memory{comm.rank}.txt"), "w") as f:
            f.write(f"{mem['adam_moments']} {mem['adam_moments_unsharded']}\n")


if __name__ == "__main__":
    main()
