"""Data parallelism: the comm layer, bucketed gradient all-reduce and ZeRO-1, one process vs `mpiexec -n 2`.

The multi-rank tests run tests/dist_worker.py under `mpiexec` (pip install -e '.[dist]') and are
skipped only when no MPI launcher is installed. Golden values are the one-process run of the same
training (plain AdamW, the whole batch in one process): data parallelism must not change the result.

    python -m pytest tests/test_dist.py -q
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minigpt import dist
from minigpt.nn.module import Parameter
from minigpt.optim import AdamW
from minigpt.zero import ZeroAdamW

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "dist_worker.py"
sys.path.insert(0, str(ROOT / "tests"))
import dist_worker  # noqa: E402

MPIEXEC = shutil.which("mpiexec")
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason="no MPI launcher (mpiexec): pip install -e '.[dist]'")


def child_env(**extra):
    """os.environ for a child process that imports this checkout's minigpt, plus `extra`."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **extra)


def mpirun(n, *args, timeout=240, env=None):
    """Run `mpiexec -n n python tests/dist_worker.py args` with one BLAS thread per rank."""
    env = child_env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", **(env or {}))
    res = subprocess.run([MPIEXEC, "-n", str(n), sys.executable, str(WORKER), *map(str, args)],
                         capture_output=True, text=True, env=env, timeout=timeout)
    assert res.returncode == 0, f"mpiexec failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def weights(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def assert_close(a, b, atol=3e-5):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=atol, err_msg=k)


# -----------------------------------------------------------------------------
# world of one, no launcher needed

def test_world_of_one_is_the_identity():
    comm = dist.Comm()
    a = np.arange(3, dtype=np.float32)
    assert comm.allreduce(a) is a and comm.broadcast(a) is a
    np.testing.assert_array_equal(comm.allgather(a), a[None])
    assert comm.sum_floats(1.5, 2) == (1.5, 2.0) and comm.is_main


def test_make_buckets_worked_example():
    """Sizes 3, 3, 10 float32 = 12, 12, 40 bytes; 24-byte buckets -> [0, 1] then [2] (too big, alone)."""
    ps = [Parameter(np.zeros(n, np.float32)) for n in (3, 3, 10)]
    assert dist.make_buckets(ps, bucket_bytes=24) == [[0, 1], [2]]
    assert dist.make_buckets(ps, bucket_bytes=1 << 20) == [[0, 1, 2]]


def test_micro_batches_split_across_ranks():
    class Two(dist.Comm):
        size = 2

    one, r0, r1 = dist.Comm(), Two(), Two()
    r1.rank = 1
    assert list(dist.my_micro_batches(4, one)) == [0, 1, 2, 3]
    assert list(dist.my_micro_batches(4, r0)) == [0, 2] and list(dist.my_micro_batches(4, r1)) == [1, 3]
    assert list(dist.my_micro_batches(3, r1)) == [1]  # uneven is allowed: the sum is still the whole batch
    with pytest.raises(ValueError, match="grad_accum=1 is smaller than the number of ranks"):
        dist.my_micro_batches(1, r0)


def test_zero_on_one_rank_equals_adamw():
    """With one rank the shard is everything: ZeroAdamW and AdamW give the same weights and state."""
    m1, o1 = dist_worker.train(steps=3, grad_accum=2)
    m2, o2 = dist_worker.train(steps=3, grad_accum=2, zero=True)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    s1, s2 = o1.state_dict(), o2.state_dict()
    assert s1.keys() == s2.keys() and s1["t"] == s2["t"] == 3
    for k in s1:
        np.testing.assert_array_equal(s1[k], s2[k], err_msg=k)


def test_zero_shards_cover_the_parameters_once():
    """Ψ = 10 + 7 = 17 numbers over 3 ranks: chunks of ⌈17/3⌉ = 6 → [0,6) [6,12) [12,17)."""
    class Of3(dist.Comm):
        size = 3

    ps = [Parameter(np.ones((2, 5), np.float32)), Parameter(np.ones(7, np.float32))]
    pieces = []
    for r in range(3):
        c = Of3()
        c.rank = r
        pieces.append(ZeroAdamW(ps, comm=c).pieces)
    assert pieces == [[(0, 0, 6)], [(0, 6, 10), (1, 0, 2)], [(1, 2, 7)]]
    mem = ZeroAdamW(ps, comm=c).memory_bytes()
    assert mem["adam_moments"] == 2 * 5 * 4 and mem["adam_moments_unsharded"] == 2 * 17 * 4


# -----------------------------------------------------------------------------
# under mpiexec

@needs_mpi
def test_two_ranks_equal_one_process(tmp_path):
    """4 AdamW steps of a tiny GPT, 4 micro-batches per step: 2 ranks (2 micro-batches each) = 1 process."""
    mpirun(2, tmp_path, "--steps", 4, "--grad-accum", 4)
    r0, r1 = weights(tmp_path / "rank0.npz"), weights(tmp_path / "rank1.npz")
    assert_close(r0, r1, atol=0)  # the same all-reduced gradients on both ranks: identical weights
    model, _ = dist_worker.train(steps=4, grad_accum=4)
    assert_close(r0, {k: np.asarray(v) for k, v in model.state_dict().items()})
    start = {k: np.asarray(v) for k, v in dist_worker.tiny_model().state_dict().items()}
    assert max(np.abs(r0[k] - start[k]).max() for k in r0) > 1e-3  # it trained: the test can fail


@needs_mpi
def test_zero1_two_ranks_equal_unsharded_and_resume_with_any_n(tmp_path):
    """ZeRO-1 on 2 ranks = plain AdamW in one process; its checkpoint resumes on 1 rank with plain AdamW."""
    ck = tmp_path / "ck.npz"
    mpirun(2, tmp_path / "a", "--steps", 2, "--grad-accum", 2, "--zero", "--save-optim", ck)
    mpirun(1, tmp_path / "b", "--steps", 4, "--grad-accum", 2, "--resume-from", ck, "--start", 2)
    mpirun(2, tmp_path / "c", "--steps", 4, "--grad-accum", 2, "--zero")
    whole, _ = dist_worker.train(steps=4, grad_accum=2)
    whole = {k: np.asarray(v) for k, v in whole.state_dict().items()}
    c0, c1 = weights(tmp_path / "c" / "rank0.npz"), weights(tmp_path / "c" / "rank1.npz")
    assert_close(c0, c1, atol=0)
    assert_close(c0, whole)
    assert_close(weights(tmp_path / "b" / "rank0.npz"), whole)  # 2 ranks sharded → 1 rank unsharded
    sharded, full = map(int, (tmp_path / "c" / "memory0.txt").read_text().split())
    assert abs(sharded - full / 2) <= 8  # each of 2 ranks keeps half the moments (±1 element of padding)


@needs_mpi
def test_benchmark_reports_both_rank_counts():
    """benchmarks/dist.py in a tiny configuration: tokens/s for 1 and 2 ranks and the all-reduce's share."""
    env = child_env()
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dist.py"), "--steps", "2", "--warmup", "1",
                          "--n-layer", "1", "--n-embd", "32", "--batch-size", "2", "--block-size", "16",
                          "--bucket-sweep", "1", "1024"], capture_output=True, text=True, env=env, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)
    one, two = out["runs"]
    assert (one["ranks"], two["ranks"]) == (1, 2) and out["threads_per_rank"] == 1
    assert one["allreduce_bytes_per_rank"] == 0 and one["allreduce_share"] < 0.01  # one rank: nothing sent
    assert two["allreduce_bytes_per_rank"] == 4 * two["params"]  # every float32 gradient goes on the wire once
    assert 0 < two["allreduce_share"] < 1 and two["tokens_per_s"] > 0
    assert [s["buckets"] for s in two["bucket_sweep"]][-1] == 1


@needs_mpi
@pytest.mark.slow
def test_benchmark_reports_ppo_for_both_rank_counts():
    """benchmarks/dist.py --stage ppo, tiny: rollouts/s for 1 and 2 ranks and the gradient all-reduce's share."""
    env = child_env()
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dist.py"), "--stage", "ppo", "--steps", "2",
                          "--warmup", "1", "--n-layer", "1", "--n-embd", "32", "--rollout-batch", "4",
                          "--minibatch-size", "4", "--max-new-tokens", "6"], capture_output=True, text=True, env=env,
                         timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)
    one, two = out["runs"]
    assert out["benchmark"] == "dist-ppo" and (one["ranks"], two["ranks"]) == (1, 2)
    assert one["allreduce_share"] < 0.01 and 0 < two["allreduce_share"] < 1  # one rank sends nothing
    assert len(two["parts_s_per_iter_per_rank"]) == 2 and two["rollouts_per_s"] > 0
    assert one["response_tokens_per_s"] > 0 and one["iters_timed"] == 2


# -----------------------------------------------------------------------------
# the stages, through the one loop: `mpiexec -n 2` = one process

def stage_weights(run_dir):
    from minigpt.checkpoint import load_checkpoint
    config, state = load_checkpoint(str(Path(run_dir) / "ckpt"))
    return config, {k: np.asarray(v) for k, v in state.items()}


def losses(run_dir):
    from minigpt.loop import read_metrics
    return [r["train_loss"] for r in read_metrics(Path(run_dir) / "metrics.jsonl")]


@needs_mpi
def test_pretrain_on_two_ranks_equals_one_process(tmp_path):
    """8 steps, 4 micro-batches each, dropout 0.1: 2 ranks end with the one-process weights and losses;
    rank 0 alone wrote the metrics (one row per step) and the checkpoint (which records 2 ranks)."""
    dist_worker.pretrain(tmp_path / "one")
    mpirun(2, "pretrain", tmp_path / "two")
    c1, w1 = stage_weights(tmp_path / "one")
    c2, w2 = stage_weights(tmp_path / "two")
    assert (c1["ranks"], c2["ranks"]) == (1, 2) and c2["step"] == 8
    assert_close(w1, w2, atol=3e-5)
    l1, l2 = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert len(l2) == 8 and np.allclose(l1, l2, rtol=0, atol=1e-5)
    assert l1[-1] < l1[0] - 0.05  # it trained


@needs_mpi
def test_pretrain_resumes_with_any_number_of_ranks_and_zero1(tmp_path):
    """Stopped at step 6 (checkpoint of step 4) by 2 ranks with ZeRO-1 and resumed by 1 process — or the
    other way round: both end where the uninterrupted one-process run ends."""
    dist_worker.pretrain(tmp_path / "whole")
    _, whole = stage_weights(tmp_path / "whole")
    mpirun(2, "pretrain", tmp_path / "a", 6, env={"MINIGPT_ZERO": "1"})
    dist_worker.pretrain(tmp_path / "a", resume=True)
    dist_worker.pretrain(tmp_path / "b", stop_at=6)
    mpirun(2, "pretrain", tmp_path / "b", "--resume", env={"MINIGPT_ZERO": "1"})
    for run in ("a", "b"):
        config, w = stage_weights(tmp_path / run)
        assert config["step"] == 8
        assert_close(w, whole, atol=3e-5)


@needs_mpi
@pytest.mark.parametrize("stage", ["dpo", "sft", "sft_aux"])
def test_alignment_stage_on_two_ranks_equals_one_process(tmp_path, stage):
    """DPO (7 pairs per step) and SFT (5 demonstrations of different lengths per step, token-weighted) have one
    batch per step: 2 ranks split its rows (3 + 4, 2 + 3), weight their losses by their share and sum the
    gradients, and end with the one-process weights and logged losses. With GPT-1's auxiliary LM loss (sft_aux,
    λ = 0.5) the all-token mean L1 is over the whole batch's tokens too (each rank weighs it by its share of them;
    weighing it by the share of rows instead ended 2.8e-4 away)."""
    res = getattr(dist_worker, stage)(tmp_path / "one")
    mpirun(2, stage, tmp_path / "two")
    c1, w1 = stage_weights(tmp_path / "one")
    c2, w2 = stage_weights(tmp_path / "two")
    assert (c1["ranks"], c2["ranks"]) == (1, 2)
    assert_close(w1, w2, atol=3e-5)
    from minigpt.loop import read_metrics
    l1 = [r["loss"] for r in read_metrics(tmp_path / "one" / "metrics.jsonl")]
    l2 = [r["loss"] for r in read_metrics(tmp_path / "two" / "metrics.jsonl")]
    assert len(l1) == len(l2) > 2 and np.allclose(l1, l2, rtol=0, atol=1e-5)
    assert abs(l1[-1] - l1[0]) > 1e-3, res["history"]["loss"]  # it trained
    if stage.startswith("sft"):  # the logged L2 (and L1) are the whole batch's token means, as in one process
        for key in ("l2", "l1") if stage == "sft_aux" else ("l2",):
            a = [r[key] for r in read_metrics(tmp_path / "one" / "metrics.jsonl")]
            b = [r[key] for r in read_metrics(tmp_path / "two" / "metrics.jsonl")]
            assert np.allclose(a, b, rtol=0, atol=1e-5), key


# -----------------------------------------------------------------------------
# PPO and GRPO: each rank rolls out a share of the prompts

def test_per_row_seeds_sample_the_same_responses_in_any_batch():
    """With one seed per prompt a response does not depend on its batch: 5 prompts of 3 lengths sampled together
    equal the first 2 and the last 3 sampled apart (what 2 ranks do); one seed for the batch does not split so."""
    from align_helpers import tiny_gpt, world_tok
    from minigpt.generate import sample_batch
    model = tiny_gpt(world_tok(), seed=4)
    prompts = [[5, 6, 7], [8, 9], [5, 6, 7], [10, 11, 12, 13], [9, 9]]
    seeds = [(11, i) for i in range(5)]
    whole = sample_batch(model, prompts, 8, (0,), temperature=1.0, seed=seeds)
    assert whole == (sample_batch(model, prompts[:2], 8, (0,), temperature=1.0, seed=seeds[:2])
                     + sample_batch(model, prompts[2:], 8, (0,), temperature=1.0, seed=seeds[2:]))
    one_stream = sample_batch(model, prompts, 8, (0,), temperature=1.0, seed=11)
    assert one_stream[2:] != sample_batch(model, prompts[2:], 8, (0,), temperature=1.0, seed=11)
    with pytest.raises(ValueError, match="one per prompt"):
        sample_batch(model, prompts, 8, (0,), seed=seeds[:4])


def test_rollout_share_weighs_minibatch_rows_by_their_tokens():
    """4 rollouts with 5, 3, 1, 2 response tokens; rank 0 holds rows 0-1, rank 1 rows 2-3. Minibatch [3, 0]
    has 2 + 5 = 7 tokens: rank 0 computes row 0 (local 0) with weight 5/7, rank 1 row 3 (local 1) with 2/7."""
    from minigpt.stages.ppo import RolloutShare

    class Of2(dist.Comm):
        size = 2

        def allreduce(self, a, op="sum"):  # what the two ranks' all-reduce gives: both halves filled in
            a[:] = [5, 3, 1, 2]
            return a

    r0, r1 = Of2(), Of2()
    r1.rank = 1
    s0, s1 = RolloutShare(4, [5, 3], 0, r0), RolloutShare(4, [1, 2], 2, r1)
    (i0, w0), (i1, w1) = s0.rows(np.array([3, 0])), s1.rows(np.array([3, 0]))
    assert i0.tolist() == [0] and i1.tolist() == [1]
    assert (w0, w1) == (5 / 7, 2 / 7)
    idx, w = s1.rows(np.array([0, 1]))  # a minibatch without rows of rank 1: nothing to compute, weight 0
    assert len(idx) == 0 and w == 0
    whole = RolloutShare(4, [5, 3, 1, 2])  # one process: every row, weight 1
    assert whole.rows(np.array([3, 0]))[0].tolist() == [3, 0] and whole.rows(np.array([3, 0]))[1] == 1.0


@needs_mpi
@pytest.mark.parametrize("stage", ["ppo", "grpo"])
def test_rl_stage_on_two_ranks_equals_one_process(tmp_path, stage):
    """PPO (5 rollouts per iteration: 2 + 3 on 2 ranks; whitening, adaptive KL, PPO-ptx, value model) and GRPO
    (3 prompts × 2 samples: 1 + 2 prompts) split each rollout across the ranks, yet end with the one-process
    policy (and value model) and log the same global numbers. Each rank rolled out only its share."""
    from minigpt.checkpoint import load_tensors
    from minigpt.loop import read_metrics
    res = getattr(dist_worker, stage)(tmp_path / "one")
    mpirun(2, stage, tmp_path / "two")
    c1, w1 = stage_weights(tmp_path / "one")
    c2, w2 = stage_weights(tmp_path / "two")
    assert (c1["ranks"], c2["ranks"]) == (1, 2) and c1["step"] == c2["step"] == 2
    assert_close(w1, w2, atol=1e-4)  # AdamW turns float-summation noise in near-zero gradients into ~1e-5 steps
    start = {k: np.asarray(v) for k, v in dist_worker.rl_world()[0].state_dict().items()}
    assert max(np.abs(w1[k] - start[k]).max() for k in w1) > 5e-3  # it trained: 1e-4 is a real bound
    if stage == "ppo":
        v1, v2 = (load_tensors(str(tmp_path / d / "ckpt" / "value_model.safetensors")) for d in ("one", "two"))
        assert_close({k: np.asarray(v) for k, v in v1.items()}, {k: np.asarray(v) for k, v in v2.items()}, atol=1e-4)
    m1, m2 = read_metrics(tmp_path / "one" / "metrics.jsonl"), read_metrics(tmp_path / "two" / "metrics.jsonl")
    assert len(m1) == len(m2) == 2
    for a, b in zip(m1, m2):
        for k in a:
            if k != "time" and a[k] is not None:
                assert abs(a[k] - b[k]) <= 1e-5 * max(1.0, abs(a[k])), (k, a[k], b[k])
    per_iter = 5 if stage == "ppo" else 3
    assert (tmp_path / "one" / "rollouts0.txt").read_text().split() == [str(2 * per_iter)]
    mine = [int((tmp_path / "two" / f"rollouts{r}.txt").read_text()) for r in (0, 1)]
    assert mine == [2 * (per_iter // 2), 2 * (per_iter - per_iter // 2)]  # the prompts were split, not repeated
    assert res["history"]["kl"][-1] != 0  # the policy left the reference: the rollouts of later iterations differ


def test_row_split_needs_a_stage_that_splits_rows():
    """One process never splits rows; under a split each rank keeps a contiguous share and its weight
    (5 rows: 0:2 and 2:5, weights 0.4 and 0.6; 1 row: rank 1 takes it, rank 0 recomputes it with weight 0)."""
    class Two(dist.Comm):
        size = 2

    rows = np.arange(5)
    assert dist.my_rows(rows) is rows  # no loop around: all rows
    r0, r1 = Two(), Two()
    r1.rank = 1
    with dist.RowSplit(True, r0) as s0:
        np.testing.assert_array_equal(dist.my_rows(rows), [0, 1])
    with dist.RowSplit(True, r1) as s1:
        np.testing.assert_array_equal(dist.my_rows(rows), [2, 3, 4])
    assert (s0.fraction, s1.fraction) == (0.4, 0.6)
    with dist.RowSplit(True, r0) as s0:
        assert dist.my_rows([7]) == [7] and s0.fraction == 0  # no row of its own: all of them, weight 0
    with dist.RowSplit(True, r1) as s1:
        assert dist.my_rows([7]) == [7] and s1.fraction == 1


@needs_mpi
def test_an_error_on_one_rank_ends_all_ranks(tmp_path):
    """Rank 0 alone claims the run directory; when it refuses (a run is already there), every rank must end
    promptly with an error instead of waiting forever in a collective."""
    run = tmp_path / "run"
    dist_worker.pretrain(run, max_iters=2)
    env = child_env(OMP_NUM_THREADS="1")
    args = ["--data", "toyweb", "--n-chars", "20000", "--max-iters", "2", "--out-dir", str(run)]
    res = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "minigpt.cli", "pretrain", *args],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode != 0
    assert "already holds a run" in res.stderr


@pytest.mark.cuda
@needs_mpi
def test_nccl_collectives_on_the_gpu():
    """CuPy arrays go through NCCL (one rank: the communicator is real, the sums are trivial)."""
    code = ("from minigpt import dist; import cupy as cp\n"
            "c = dist.get_comm(); a = cp.arange(6, dtype=cp.float32)\n"
            "assert float(c.allreduce(a.copy()).sum()) == 15.0\n"
            "assert c.allgather(a).shape == (1, 6) and float(c.broadcast(a.copy()).sum()) == 15.0\n"
            "print('nccl ok')")
    env = child_env(MINIGPT_DEVICE="cuda")
    res = subprocess.run([MPIEXEC, "-n", "1", sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=240)
    assert res.returncode == 0 and "nccl ok" in res.stdout, res.stderr[-3000:]


# -----------------------------------------------------------------------------
# `minigpt pipeline` starts itself as two ranks (dist.auto_ranks)

def test_auto_ranks_follows_the_cores_the_launcher_and_the_variable(monkeypatch):
    monkeypatch.setenv("MINIGPT_RANKS", "auto")
    monkeypatch.setattr(dist, "usable_cores", lambda: 2)
    monkeypatch.setattr(dist.shutil, "which", lambda name: "/usr/bin/mpiexec")
    monkeypatch.setattr(dist.importlib.util, "find_spec", lambda name: object())
    assert dist.auto_ranks() == 2
    monkeypatch.setattr(dist, "usable_cores", lambda: 1)
    assert dist.auto_ranks() == 1  # one core: nothing to gain
    monkeypatch.setattr(dist, "usable_cores", lambda: 8)
    monkeypatch.setattr(dist.importlib.util, "find_spec", lambda name: None)
    assert dist.auto_ranks() == 1  # no mpi4py: one process
    monkeypatch.setenv("MINIGPT_RANKS", "3")
    assert dist.auto_ranks() == 3
    monkeypatch.setenv("PMI_RANK", "0")
    assert dist.auto_ranks() == 1  # started by mpiexec: already a rank, starts none
    monkeypatch.delenv("PMI_RANK")
    monkeypatch.setenv("MINIGPT_RANKS", "two")
    with pytest.raises(ValueError, match="MINIGPT_RANKS='two'"):
        dist.auto_ranks()
    with pytest.raises(ValueError, match="pip install -e '.\\[dist\\]'"):
        dist.run_as_ranks(2, ["-c", "pass"])  # asked for ranks without mpi4py: say what to install


def _pipeline(out, *flags, ranks="auto", timeout=300):
    env = child_env(MINIGPT_RANKS=ranks, TQDM_DISABLE="1")
    return subprocess.run([sys.executable, "-m", "minigpt", "pipeline", "--quick", "--out-dir", str(out), *flags],
                          capture_output=True, text=True, env=env, timeout=timeout)


@needs_mpi
@pytest.mark.skipif(dist.usable_cores() < 2, reason="one core: the pipeline runs as one process")
def test_pipeline_command_runs_as_two_ranks_with_one_report(tmp_path):
    two, one = _pipeline(tmp_path / "two"), _pipeline(tmp_path / "one", ranks="1")
    assert two.returncode == 0 and one.returncode == 0, two.stderr[-3000:] + one.stderr[-3000:]
    assert "2 data-parallel ranks" in two.stderr and "data-parallel" not in one.stderr
    assert two.stdout.count("report card") == one.stdout.count("report card") == 1  # rank 0 alone prints
    assert two.stdout.count("pretrain done") == one.stdout.count("pretrain done") == 1
    m2, m1 = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("two", "one"))
    # same training as one process, to float rounding (the summed gradient is the whole batch's)
    assert abs(m2["stages"]["pretrain"]["val_loss"] - m1["stages"]["pretrain"]["val_loss"]) < 1e-3
    assert m2["total"]["cpu_s"] > 0


@needs_mpi
@pytest.mark.skipif(dist.usable_cores() < 2, reason="one core: the pipeline runs as one process")
def test_ctrl_c_reaches_both_ranks_and_leaves_a_checkpoint(tmp_path):
    """Ctrl-C in a terminal signals the whole foreground process group: `minigpt`, mpiexec and the ranks."""
    out = tmp_path / "run"
    env = child_env(MINIGPT_RANKS="auto", TQDM_DISABLE="1")
    proc = subprocess.Popen([sys.executable, "-m", "minigpt", "pipeline", "--quick", "--pretrain.max-iters", "100000",
                             "--out-dir", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    metrics = out / "pretrain" / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) >= 5):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]
    assert "resume with: minigpt pipeline" in stderr
    assert (out / "pretrain" / "ckpt" / "model.safetensors").exists()
