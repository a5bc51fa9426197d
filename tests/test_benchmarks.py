"""The benchmark scripts' own logic, in their fast modes (timings are printed, never asserted)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(script, *args):
    """Run benchmarks/<script> in a subprocess (as a user would) and parse the JSON it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OPENBLAS_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def test_train_gpu_skips_cleanly_without_a_gpu():
    from minigpt.backend import is_cuda_available
    if is_cuda_available():
        pytest.skip("a GPU is present: the script would run the real benchmark")
    out = run_benchmark("train_gpu.py", "--steps", "1")
    assert out == {"benchmark": "train_gpu", "skipped": "no CUDA device (cupy not installed or no GPU)"}


def test_train_gpu_cpu_smoke_matches_torch():
    """Same initial weights, same batches, same optimiser settings: after 8 AdamW steps on the toy corpus
    both frameworks must report the same losses (float32, so up to rounding), and training must have
    moved the loss (4.36 → ~3.8), so equal numbers are not just two untouched initialisations."""
    pytest.importorskip("torch")
    out = run_benchmark("train_gpu.py", "--cpu-smoke")
    assert out["mode"] == "cpu-smoke"
    assert out["config"] == {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 32, "batch": 4,
                             "vocab": out["config"]["vocab"], "dropout": 0.0, "lr": 1e-3, "attn_impl": "flash"}
    assert out["warmup_steps"] + out["timed_steps"] == 8
    for name in ("minigpt", "torch"):
        assert out[f"{name}_tokens_per_s"] > 0
    assert out["ratio_minigpt_over_torch"] == pytest.approx(out["minigpt_tokens_per_s"] / out["torch_tokens_per_s"],
                                                            rel=1e-2)
    assert out["minigpt_first_loss"] == pytest.approx(out["torch_first_loss"], abs=1e-4)
    assert out["minigpt_last_loss"] == pytest.approx(out["torch_last_loss"], abs=2e-3)
    assert out["minigpt_eval_loss"] == pytest.approx(out["torch_eval_loss"], abs=2e-3)
    assert out["eval_loss_abs_diff"] < 2e-3
    assert out["minigpt_eval_loss"] < out["minigpt_first_loss"] - 0.3


@pytest.mark.cuda
def test_train_gpu_on_the_gpu_matches_torch():
    """The real config for a few steps on the device: the script runs, and where torch has CUDA the two
    trainings agree (looser than on the CPU: different kernels sum in different orders)."""
    out = run_benchmark("train_gpu.py", "--warmup", "1", "--steps", "2")
    assert out["mode"] == "cuda" and out["minigpt_kernels"] is True
    assert out["minigpt_tokens_per_s"] > 0
    if "torch_skipped" in out:
        pytest.skip(out["torch_skipped"])
    assert out["minigpt_first_loss"] == pytest.approx(out["torch_first_loss"], abs=1e-3)
    assert out["minigpt_eval_loss"] == pytest.approx(out["torch_eval_loss"], abs=1e-2)


def test_bpe_benchmark_reports_only_measured_ratios():
    """Both trainers timed on the same merges (no extrapolation); a vocabulary the text cannot fill is
    reported with the trainer's warning; encode ids agree with tiktoken (asserted inside the script)."""
    pytest.importorskip("tiktoken")
    out = run_benchmark("bpe.py", "--chars", "20000", "--vocab", "300", "4096", "--naive-merges", "20",
                        "--long", "300", "--repeat", "1", "--no-download")
    for v, run in out["training"].items():
        assert run["timed_merges"] == 20 and run["identical_merges"]
        assert run["speedup_at_equal_merges"] == pytest.approx(run["naive_seconds"] / run["fast_seconds"], rel=0.1)
        assert not any("extrapol" in k for k in run)
    assert out["training"]["4096"]["merges_learned"] < 3840
    assert "stopped after" in out["training"]["4096"]["stopped_short_warning"]
    for lang in ("english", "chinese"):
        e = out["encode"][lang]
        assert e["tokens"] > 0 and e["encode_ratio_warm"] > 0 and e["decode_slowdown"] > 0
        assert len(e["encode_ratio_cold_each_pair"]) == 1 and e["encode_ratio_cold_median"] > 0
    assert [r["chars"] for r in out["long_chunk"]["han"]] == [300]


def test_step_profile_splits_a_tiny_step():
    """The --sweep time split on a tiny model: every GEMM of the step recorded with the right shapes
    (3 per Linear: forward, dx, dW), the parts add up to the step, the patched ops are restored."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import step_profile
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from minigpt import optim
    from minigpt.nn import GPT, GPTConfig
    from minigpt.ops.matmul import Linear
    cfg = GPTConfig(vocab_size=11, n_layer=1, n_head=2, n_embd=8, block_size=4, dropout=0.0)
    model = GPT(cfg, seed=0)
    opt = optim.AdamW(model.parameters(), lr=1e-3)

    def step(x, y):
        _, loss = model(x, y)
        loss.backward()
        optim.clip_grad_norm(opt.params, 1.0)
        opt.step()
        opt.zero_grad()

    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, 11, (3, 4)), rng.integers(0, 11, (3, 4))) for _ in range(7)]
    forward_before = Linear.forward
    prof = step_profile.StepProfile()
    with prof:
        step(*batches[0])
    assert Linear.forward is forward_before and optim.AdamW.step.__name__ == "step"
    n_linear = sum(1 for g in prof.gemms if g[3] and not g[2])          # forward x2 @ Wᵀ
    assert n_linear >= 4 and len(prof.gemms) == 3 * n_linear            # qkv, proj, fc, proj2 (+ head)
    assert ((12, 8), (8, 24), False, True) in prof.gemms                # qkv: (B·T, C) @ (C, 3C)
    assert prof.attn == [(3, 2, 4, 4)]                                  # (B, nh, T, hs)
    split = step_profile.split_step(step, batches, bandwidth_bytes=1 << 20, steps=3)
    parts = ("gemm", "attention", "elementwise", "optimizer", "python")
    assert sum(split[k] for k in parts) == pytest.approx(split["step"], abs=0.05)
    assert all(split[k] > 0 for k in parts[:4]) and split["memory_bandwidth_GBps"] > 0
