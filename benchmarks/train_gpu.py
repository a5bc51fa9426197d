"""Training speed of minigpt on the GPU (CuPy + the hand-written kernels) vs PyTorch on CUDA, as JSON.

Config: nanoGPT's shakespeare_char GPU "baby GPT": n_layer 6, n_head 6, n_embd 384, block 256,
batch 64, dropout 0, AdamW lr 1e-3 (betas, weight decay and gradient clipping as in
train_cpu.py, whose trainers this script reuses). A timed step is forward + backward + clip +
AdamW. Both models start from the same weights, see the same batches in the same order and
run in this one process; their losses after the timed steps should agree closely.
Target (issue #5): minigpt reaches at least 0.7x torch's tokens/s on this config.

    python benchmarks/train_gpu.py                     # 5 warmup + 20 timed steps each
    python benchmarks/train_gpu.py --no-kernels        # CuPy expressions only (MINIGPT_KERNELS=0)
    python benchmarks/train_gpu.py --torch-compile     # torch.compile'd twin (compiles during warmup)
    python benchmarks/train_gpu.py --cpu-smoke         # tiny config on NumPy + torch CPU: tests the script

Without CuPy or a GPU it prints {"skipped": ...} and exits 0. The flash attention path
(--attn flash, the default) is the one that runs the attention kernel on the GPU.
"""
import argparse
import json
import os
import sys
import time

GPU_CFG = {"n_layer": 6, "n_head": 6, "n_embd": 384, "block_size": 256}
GPU_BATCH = 64
SMOKE_CFG = {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 32}
SMOKE_BATCH = 4
TARGET_RATIO = 0.7
SKIPPED = "no CUDA device (cupy not installed or no GPU)"


# ----------------------------------------------------------------------------
# data: the same (x, y) batches for both frameworks

def token_ids(kind, seed):
    """A token stream and its vocabulary size: the toy web corpus by characters, or uniform random ids."""
    import numpy as np
    if kind == "random":  # speed does not depend on the data; 65 = Shakespeare's character vocabulary
        return np.random.default_rng(seed).integers(0, 65, size=1_000_000, dtype=np.int64), 65
    from train_cpu import char_ids

    from minigpt.data.toyweb import generate_corpus
    return char_ids(generate_corpus(n_chars=200_000, seed=0))


def make_batches(ids, n, batch, block, seed):
    import numpy as np

    from minigpt.data.tokens import get_batch
    rng = np.random.default_rng(seed)
    return [get_batch(ids, batch, block, rng) for _ in range(n)]


# ----------------------------------------------------------------------------
# timing

def timed_run(step, batches, warmup, lr, sync):
    r"""Run `warmup` untimed steps, then time the rest between two device synchronisations.

    Returns (tokens/s over the timed steps, the loss of every step). Each step's
    loss.item() also waits for the device, as a training loop that logs the loss would.
    """
    B, T = batches[0][0].shape
    losses = [step(x, y, lr) for x, y in batches[:warmup]]
    sync()
    t0 = time.perf_counter()
    losses += [step(x, y, lr) for x, y in batches[warmup:]]
    sync()
    seconds = time.perf_counter() - t0
    return (len(batches) - warmup) * B * T / seconds, losses


def gpu_facts():
    """Device name and what the two frameworks do with float32 matmuls (TF32 would not be a fair fight)."""
    import cupy
    from kernels import device_info  # benchmarks/kernels.py
    info = device_info()  # name, SM count, compute capability, HBM peak
    facts = {"device": info["name"], "gpu": info, "cupy": cupy.__version__,
             "cupy_tf32": os.environ.get("CUPY_TF32", "0") == "1"}
    try:
        import torch
        facts["torch_float32_matmul_precision"] = torch.get_float32_matmul_precision()
    except ImportError:
        pass
    return facts


def torch_or_reason(device):
    """(torch module, None) when torch can run on `device`, else (None, why not)."""
    try:
        import torch
    except ImportError:
        return None, "torch not installed (pip install -e '.[torch]')"
    if device == "cuda" and not torch.cuda.is_available():
        return None, f"torch {torch.__version__} has no CUDA support here"
    return torch, None


# ----------------------------------------------------------------------------
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=None, help="timed steps per framework (20; 3 with --cpu-smoke)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first (at least 1)")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--cpu-smoke", action="store_true",
                    help=f"tiny config {SMOKE_CFG} batch {SMOKE_BATCH} on the CPU, 3 timed steps (checks the script)")
    ap.add_argument("--no-kernels", action="store_true", help="minigpt without the hand-written kernels")
    ap.add_argument("--torch-compile", action="store_true", help="torch.compile the torch model (default eager)")
    ap.add_argument("--attn", choices=("flash", "naive"), default="flash", help="minigpt attention implementation")
    ap.add_argument("--data", choices=("toyweb", "random"), default="toyweb")
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args(argv)
    if args.cpu_smoke:
        args.device = "cpu"
    if args.steps is None:
        args.steps = 3 if args.cpu_smoke else 20
    if args.steps < 1 or args.warmup < 1:
        ap.error(f"--steps and --warmup must be at least 1, got {args.steps} and {args.warmup}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # minigpt picks its array module when first imported: choose before any minigpt import
    os.environ["MINIGPT_DEVICE"] = "auto" if args.device == "cuda" else "cpu"
    if args.no_kernels:
        os.environ["MINIGPT_KERNELS"] = "0"
    if args.cpu_smoke:  # one thread each: the smoke run checks logic, and must not fight other jobs for cores
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from minigpt import backend
    if args.device == "cuda" and backend.device() != "cuda":
        print(json.dumps({"benchmark": "train_gpu", "skipped": SKIPPED}, indent=2))
        return 0
    from minigpt.nn import GPTConfig
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # sibling scripts, however this one was started
    from train_cpu import LR, decay_names, minigpt_trainer, torch_trainer

    small = args.cpu_smoke  # (it implies --device cpu)
    shape, batch = (SMOKE_CFG, SMOKE_BATCH) if small else (GPU_CFG, GPU_BATCH)
    ids, vocab = token_ids(args.data, args.seed)
    cfg = GPTConfig(vocab_size=vocab, dropout=0.0, attn_impl=args.attn, **shape)
    batches = make_batches(ids, args.warmup + args.steps + 1, batch, cfg.block_size, args.seed)
    held_out = batches.pop()  # evaluated by both after training
    out = {"benchmark": "train_gpu", "mode": "cpu-smoke" if small else args.device,
           "config": {**shape, "batch": batch, "vocab": vocab, "dropout": 0.0, "lr": LR, "attn_impl": args.attn},
           "data": args.data, "warmup_steps": args.warmup, "timed_steps": args.steps,
           "minigpt_kernels": args.device == "cuda" and not args.no_kernels, "torch_compile": args.torch_compile}
    if args.device == "cuda":
        import cupy
        out.update(gpu_facts())
        sync_minigpt = cupy.cuda.Device().synchronize
        pool = cupy.get_default_memory_pool()
    else:
        import platform
        out["device"] = f"cpu ({platform.machine()}, {os.cpu_count()} cores)"
        sync_minigpt, pool = (lambda: None), None

    # --- minigpt
    model, step, evaluate = minigpt_trainer(cfg, args.seed)
    state0 = model.state_dict()  # host copy of the initial weights, for the torch twin
    model.to(args.device)
    on_dev = [(backend.to_device(x, args.device), backend.to_device(y, args.device)) for x, y in batches]
    tps, losses = timed_run(step, on_dev, args.warmup, LR, sync_minigpt)
    out["minigpt_tokens_per_s"] = round(tps, 1)
    out["minigpt_first_loss"], out["minigpt_last_loss"] = round(losses[0], 6), round(losses[-1], 6)
    out["minigpt_eval_loss"] = round(evaluate(*[backend.to_device(a, args.device) for a in held_out]), 6)
    if pool is not None:  # CuPy's pool keeps freed blocks, so what it holds now ≈ its peak
        out["minigpt_pool_MB"] = round(pool.total_bytes() / 2**20, 1)
    decayed = decay_names(model)
    del model, step, evaluate, on_dev
    if pool is not None:
        pool.free_all_blocks()  # hand minigpt's memory back before torch starts

    # --- torch
    torch, why = torch_or_reason(args.device)
    if torch is None:
        out["torch_skipped"] = why
        print(json.dumps(out, indent=2))
        return 0
    dev = torch.device(args.device)
    if args.cpu_smoke:
        torch.set_num_threads(1)
    sync_torch = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    _, tstep, tevaluate = torch_trainer(cfg, state0, decayed, device=dev, compiled=args.torch_compile)
    on_dev = [(torch.as_tensor(x, device=dev), torch.as_tensor(y, device=dev)) for x, y in batches]
    tps, losses = timed_run(tstep, on_dev, args.warmup, LR, sync_torch)
    out["torch_version"] = torch.__version__
    out["torch_tokens_per_s"] = round(tps, 1)
    out["torch_first_loss"], out["torch_last_loss"] = round(losses[0], 6), round(losses[-1], 6)
    out["torch_eval_loss"] = round(tevaluate(*held_out), 6)
    if args.device == "cuda":
        out["torch_peak_allocated_MB"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        out["torch_peak_reserved_MB"] = round(torch.cuda.max_memory_reserved() / 2**20, 1)

    # --- comparison
    out["ratio_minigpt_over_torch"] = round(out["minigpt_tokens_per_s"] / out["torch_tokens_per_s"], 3)
    if args.device == "cuda":
        out["target_ratio"] = TARGET_RATIO
        out["meets_target"] = out["ratio_minigpt_over_torch"] >= TARGET_RATIO
    out["eval_loss_abs_diff"] = round(abs(out["minigpt_eval_loss"] - out["torch_eval_loss"]), 6)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
