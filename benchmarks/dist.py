"""Data-parallel training speed: tokens/s on 1 and 2 ranks and the all-reduce's share of a step, as JSON.

Model: nanoGPT's CPU baby config (n_layer 4, n_head 4, n_embd 128, block 64). The global batch is fixed
(--grad-accum micro-batches of --batch-size sequences per step) and split across the ranks, so every run
does the same work per step and tokens/s compare directly. Each rank uses one BLAS thread. A step is
timed in four parts, every rank stopping at a barrier before the all-reduce so that waiting for the
slowest rank is not booked as communication:

    compute    forward + backward of this rank's micro-batches
    wait       barrier: the other rank was slower (load imbalance, a busy machine)
    allreduce  dist.allreduce_grads (the bytes on the wire)
    optimizer  clipping + AdamW (or ZeRO-1 AdamW with its all-gather of weights)

    python benchmarks/dist.py                          # 1 and 2 ranks, 20 timed steps each
    python benchmarks/dist.py --ranks 1 2 4 --zero     # ZeRO-1 optimizer, also 4 ranks
    python benchmarks/dist.py --bucket-sweep 4 64 1024 16384   # + the all-reduce alone per bucket size
    mpiexec -n 2 python benchmarks/dist.py --worker --out r.json   # one measurement (what the driver runs)

`--stage ppo` measures the PPO stage itself (minigpt.stages.ppo.train, rollouts split across the ranks)
on an untrained policy of the toy world (--n-layer/--n-head/--n-embd, block 96): rollouts/s and sampled
response tokens/s per iteration, and the time each rank spent in the gradient all-reduces (policy and value
model, timed after a barrier, as above) and in the small collectives of batch statistics (whitening, the
minibatch losses and logged means): those have no barrier before them, so their time includes waiting for
the slower rank (unequal shares, a busy machine). An iteration = a rollout of --rollout-batch prompts + 2
epochs of minibatch updates.

    python benchmarks/dist.py --stage ppo --n-layer 2 --n-embd 64 --iters 6
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads its BLAS
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from minigpt import dist  # noqa: E402
from minigpt.data.tokens import get_batch  # noqa: E402
from minigpt.nn import GPT, GPTConfig  # noqa: E402
from minigpt.optim import AdamW, clip_grad_norm  # noqa: E402
from minigpt.zero import ZeroAdamW  # noqa: E402

PARTS = ("compute", "wait", "allreduce", "optimizer")


def worker(a):
    """One rank's share of the measurement; rank 0 writes the JSON to a.out."""
    comm = dist.get_comm()
    cfg = GPTConfig(vocab_size=65, block_size=a.block_size, n_layer=a.n_layer, n_head=a.n_head, n_embd=a.n_embd)
    model = GPT(cfg, seed=0)
    params = model.parameters()
    opt = (ZeroAdamW if a.zero else AdamW)(params, lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    buckets = dist.make_buckets(params, a.bucket_kib << 10)
    data = np.random.default_rng(0).integers(0, 65, size=100_000).astype(np.uint16)
    times = np.zeros((a.steps, len(PARTS)))
    sent = 0
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        for micro in dist.my_micro_batches(a.grad_accum, comm):
            x, y = get_batch(data, a.batch_size, a.block_size, np.random.default_rng([0, step, micro]))
            _, loss = model(x, y)
            (loss * (1.0 / a.grad_accum)).backward()
        t1 = time.perf_counter()
        comm.barrier()
        t2 = time.perf_counter()
        sent = dist.allreduce_grads(params, buckets, comm)
        t3 = time.perf_counter()
        clip_grad_norm(params, 1.0)
        opt.step()
        opt.zero_grad()
        t4 = time.perf_counter()
        if step >= a.warmup:
            times[step - a.warmup] = (t1 - t0, t2 - t1, t3 - t2, t4 - t3)
    per_rank = comm.allgather(np.median(times, axis=0))  # (N, 4) median seconds per part
    if comm.is_main:
        step_s = float(np.median(times.sum(axis=1)))
        tokens = a.grad_accum * a.batch_size * a.block_size
        out = {"ranks": comm.size, "params": sum(p.size for p in params), "buckets": len(buckets),
               "allreduce_bytes_per_rank": sent, "tokens_per_step": tokens, "step_s": step_s,
               "tokens_per_s": tokens / step_s,
               "parts_s": {k: float(per_rank[0, i]) for i, k in enumerate(PARTS)},
               "parts_s_per_rank": per_rank.tolist(),
               "allreduce_share": float(per_rank[0, 2] / step_s)}
        if a.zero:
            out["memory_bytes_rank0"] = opt.memory_bytes()
    if a.bucket_sweep:
        sweep = bucket_sweep(params, a.bucket_sweep, comm)
        if comm.is_main:
            out["bucket_sweep"] = sweep
    if comm.is_main:
        with open(a.out, "w") as f:
            json.dump(out, f)


def ppo_worker(a):
    """One rank of the PPO measurement (rank 0 writes the JSON to a.out)."""
    from minigpt.data.assistant import sample_prompts, world_tokenizer
    from minigpt.nn.heads import RewardModel
    from minigpt.stages import ppo

    comm = dist.get_comm()
    tok = world_tokenizer()
    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=96, n_layer=a.n_layer, n_head=a.n_head, n_embd=a.n_embd)
    policy, ref = GPT(cfg, seed=1), GPT(cfg, seed=1)
    rm = RewardModel.from_gpt(GPT(cfg, seed=2), seed=3)
    timers = {"wait": 0.0, "allreduce": 0.0, "stats_collectives": 0.0}
    grads, sums, maxes = dist.allreduce_grads, comm.sum_floats, comm.max_floats

    def timed_grads(params, *args, **kw):  # the loop's gradient all-reduce, after a barrier (see the docstring)
        t0 = time.perf_counter()
        comm.barrier()
        t1 = time.perf_counter()
        out = grads(params, *args, **kw)
        timers["wait"] += t1 - t0
        timers["allreduce"] += time.perf_counter() - t1
        return out

    def timed(collective):  # the small collectives of batch statistics (a few floats each)
        def run(*values):
            t0 = time.perf_counter()
            out = collective(*values)
            timers["stats_collectives"] += time.perf_counter() - t0
            return out
        return run

    dist.allreduce_grads, comm.sum_floats, comm.max_floats = timed_grads, timed(sums), timed(maxes)
    marks = []  # (time, timers) after each iteration

    def after_step(step, row):
        marks.append((time.perf_counter(), dict(timers), row["resp_len"]))

    pcfg = ppo.PPOConfig(out_dir=os.path.join(a.out + ".run"), iters=a.warmup + a.steps, rollout_batch=a.rollout_batch,
                         minibatch_size=a.minibatch_size, ppo_epochs=2, max_new_tokens=a.max_new_tokens,
                         optim=dict(lr=1e-4),                         ckpt_interval=10_000, force=True)
    t_start = time.perf_counter()
    ppo.train(pcfg, policy, ref, rm, tok, sample_prompts(500, seed=0), progress=False, callback=after_step)
    t0, first, _ = marks[a.warmup - 1] if a.warmup else (t_start, {k: 0.0 for k in timers}, None)
    t1, last, _ = marks[-1]
    seconds = t1 - t0
    per_rank = comm.allgather(np.array([last[k] - first[k] for k in timers]) / a.steps)  # (N, 3) s per iteration
    if comm.is_main:
        tokens = sum(m[2] for m in marks[a.warmup:]) * a.rollout_batch
        iter_s = seconds / a.steps
        out = {"ranks": comm.size, "params_policy": sum(p.size for p in policy.parameters()),
               "rollout_batch": a.rollout_batch, "max_new_tokens": a.max_new_tokens, "iters_timed": a.steps,
               "iter_s": iter_s, "rollouts_per_s": a.rollout_batch / iter_s, "response_tokens_per_s": tokens / seconds,
               "parts_s_per_iter": {k: float(per_rank[0, i]) for i, k in enumerate(timers)},
               "parts_s_per_iter_per_rank": per_rank.tolist(),
               "allreduce_share": float(per_rank[0, 1] / iter_s),
               "stats_collectives_share": float(per_rank[0, 2] / iter_s)}
        with open(a.out, "w") as f:
            json.dump(out, f)


def bucket_sweep(params, sizes_kib, comm, repeats=15):
    """Median seconds of one gradient all-reduce per bucket size: [{"bucket_kib", "buckets", "allreduce_s"}]."""
    rows = []
    for kib in sizes_kib:
        buckets = dist.make_buckets(params, kib << 10)
        times = []
        for _ in range(repeats):
            for p in params:
                p.grad = np.ones(p.shape, p.dtype)
            comm.barrier()
            t0 = time.perf_counter()
            dist.allreduce_grads(params, buckets, comm)
            times.append(time.perf_counter() - t0)
        rows.append({"bucket_kib": kib, "buckets": len(buckets), "allreduce_s": float(np.median(times))})
    return rows


def launch(n, a, out):
    """mpiexec -n n python benchmarks/dist.py --worker ...; returns the JSON rank 0 wrote."""
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit("no mpiexec: pip install -e '.[dist]'")
    args = [mpiexec, "-n", str(n), sys.executable, os.path.abspath(__file__), "--worker", "--out", out]
    for k in ("stage", "steps", "warmup", "grad_accum", "batch_size", "block_size", "n_layer", "n_head", "n_embd",
              "bucket_kib", "rollout_batch", "minibatch_size", "max_new_tokens"):
        args += [f"--{k.replace('_', '-')}", str(getattr(a, k))]
    args += ["--zero"] if a.zero else []
    args += ["--bucket-sweep", *map(str, a.bucket_sweep)] if a.bucket_sweep and n > 1 else []
    subprocess.run(args, check=True)
    with open(out) as f:
        return json.load(f)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=20, help="timed steps (after --warmup untimed ones)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--grad-accum", type=int, default=2, help="micro-batches per step, split across ranks")
    ap.add_argument("--batch-size", type=int, default=12)
    ap.add_argument("--block-size", type=int, default=64)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--bucket-kib", type=int, default=dist.DEFAULT_BUCKET_BYTES >> 10)
    ap.add_argument("--bucket-sweep", type=int, nargs="*", default=[],
                    help="also time the gradient all-reduce alone for these bucket sizes (KiB)")
    ap.add_argument("--zero", action="store_true", help="ZeRO-1 (sharded AdamW) instead of AdamW")
    ap.add_argument("--stage", choices=("pretrain", "ppo"), default="pretrain",
                    help="pretrain: the step above; ppo: the PPO stage (--steps timed iterations after --warmup)")
    ap.add_argument("--rollout-batch", type=int, default=16, help="ppo: prompts per rollout, split across the ranks")
    ap.add_argument("--minibatch-size", type=int, default=8, help="ppo: sequences per gradient step")
    ap.add_argument("--max-new-tokens", type=int, default=24, help="ppo: longest response")
    ap.add_argument("--worker", action="store_true", help="run as one rank (under mpiexec)")
    ap.add_argument("--out", default=None, help="worker: where rank 0 writes its JSON")
    a = ap.parse_args(argv)
    if a.worker:
        return ppo_worker(a) if a.stage == "ppo" else worker(a)
    load_before = os.getloadavg()[0]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.ranks:
            runs.append(launch(n, a, os.path.join(tmp, f"{n}.json")))
    key = "rollouts_per_s" if a.stage == "ppo" else "tokens_per_s"
    for r in runs:
        r["speedup_vs_first"] = r[key] / runs[0][key]
    print(json.dumps({"benchmark": "dist" if a.stage == "pretrain" else "dist-ppo", "cpus": os.cpu_count(),
                      "load_avg_1min_before": round(load_before, 2), "load_avg_1min_after": round(os.getloadavg()[0], 2),
                      "threads_per_rank": int(os.environ["OMP_NUM_THREADS"]), "zero": a.zero, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
