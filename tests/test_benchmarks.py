"""The benchmark scripts' own logic, in their fast modes (timings are printed, never asserted)."""
import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert [r["chars"] for r in out["long_chunk"]["han"]] == [300]
