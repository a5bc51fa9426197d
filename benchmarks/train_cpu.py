"""Training speed (and, with --full, final loss) of minigpt vs PyTorch eager on the CPU, as JSON.

Config: nanoGPT's CPU baby model — n_layer 4, n_head 4, n_embd 128, block 64, batch 12,
dropout 0, AdamW lr 1e-3 with warmup + cosine. Both models start from the same weights,
see the same batches in the same order and run in this one process.

    python benchmarks/train_cpu.py                 # tokens/s over 40 steps each, in 5 alternating blocks
    python benchmarks/train_cpu.py --full          # + 2000-iter Shakespeare (char) runs, val loss of both (slow)
    python benchmarks/train_cpu.py --sweep         # four configurations, each with its step's time split

--sweep runs the configurations of issue 20 (nanoGPT's CPU model; 4 layers x 256 wide, block 128;
6 layers x 384 wide, block 256, batch 8; the CPU model with a vocabulary of 8192, on character data
so only the output layer grows) and, for each, splits minigpt's step into GEMM, attention,
elementwise, optimizer and Python time beside this machine's limits (benchmarks/step_profile.py).
On a shared machine the seconds move with the load; the ratio, timed in alternating blocks, is the
figure to compare, and the JSON records the load average.
"""
import argparse
import json
import os
import platform
import sys
import time

if "--threads" in sys.argv:  # must be set before NumPy loads its BLAS
    _n = sys.argv[sys.argv.index("--threads") + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = _n

import numpy as np  # noqa: E402

from minigpt.data.tokens import get_batch  # noqa: E402
from minigpt.nn import GPT, GPTConfig  # noqa: E402
from minigpt import optim  # noqa: E402
from minigpt.optim import AdamW, cosine_lr  # noqa: E402

CFG = dict(n_layer=4, n_head=4, n_embd=128, block_size=64)
BATCH, LR, MIN_LR, WARMUP, WD, BETAS, CLIP = 12, 1e-3, 1e-4, 100, 0.1, (0.9, 0.99), 1.0


def minigpt_trainer(cfg, seed):
    model = GPT(cfg, seed=seed)
    opt = AdamW(model.parameters(), lr=LR, betas=BETAS, weight_decay=WD)

    def step(x, y, lr):
        opt.lr = lr
        _, loss = model(x, y)
        loss.backward()
        optim.clip_grad_norm(opt.params, CLIP)  # looked up at call time: step_profile times it
        opt.step()
        opt.zero_grad()
        return loss.item()

    def evaluate(x, y):
        from minigpt.autograd import no_grad
        with no_grad():
            return model(x, y)[1].item()
    return model, step, evaluate


def torch_trainer(cfg, state, decayed, device="cpu", compiled=False):
    """The PyTorch twin from the same weights; batches may be NumPy arrays or tensors already on `device`."""
    import torch

    from minigpt.torch_ref import TorchGPT
    model = TorchGPT(cfg)
    model.load_minigpt_state(state)
    model.to(device)
    forward = torch.compile(model) if compiled else model  # compiled on its first call
    decay_set = {model.torch_name(d) for d in decayed}
    decay = [p for n, p in model.named_parameters() if n in decay_set]
    no_decay = [p for n, p in model.named_parameters() if n not in decay_set]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS)

    def step(x, y, lr):
        for g in opt.param_groups:
            g["lr"] = lr
        _, loss = forward(torch.as_tensor(x, device=device), torch.as_tensor(y, device=device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    def evaluate(x, y):
        with torch.no_grad():
            return forward(torch.as_tensor(x, device=device), torch.as_tensor(y, device=device))[1].item()
    return model, step, evaluate


def char_ids(text):
    """Character-level token ids of `text` (int64) and the vocabulary size."""
    from minigpt.tokenizer import CharTokenizer
    tok = CharTokenizer.train(text)
    return np.asarray(tok.encode(text, allowed_special="all"), dtype=np.int64), tok.vocab_size


def decay_names(model):
    """Names of the parameters minigpt's AdamW decays (matrices), for the torch twin's param groups."""
    return [n for (n, _), d in zip(model.named_parameters(), AdamW(model.parameters(), weight_decay=WD).decay) if d]


def throughput(steps, data, iters, rounds=5, seed=0, batch=BATCH, block_size=CFG["block_size"]):
    """Tokens/s of each trainer in `steps` ({name: step}), timed in alternating blocks of iters/rounds
    steps on the same batches, so that a machine speeding up or slowing down during the run (other
    tenants, clock boost) shifts every trainer alike instead of biasing the ratio. The first step of
    each block is not timed: NumPy's BLAS and torch keep their own worker threads, which spin for a
    while after their last call and would steal the cores at every switch."""
    rng = np.random.default_rng(seed)
    batches = [get_batch(data, batch, block_size, rng) for _ in range(iters)]
    for step in steps.values():
        for x, y in batches[:5]:
            step(x, y, LR)  # warmup
    seconds, timed = dict.fromkeys(steps, 0.0), dict.fromkeys(steps, 0)
    for chunk in np.array_split(np.arange(iters), rounds):
        for name, step in steps.items():
            step(*batches[chunk[0]], LR)  # untimed: lets the other library's worker threads go idle first
            t0 = time.perf_counter()
            for i in chunk[1:]:
                step(*batches[i], LR)
            seconds[name] += time.perf_counter() - t0
            timed[name] += len(chunk) - 1
    return {name: timed[name] * batch * block_size / seconds[name] for name in steps}


def full_run(step, evaluate, train, val, iters, seed):
    for it in range(iters):
        x, y = get_batch(train, BATCH, CFG["block_size"], np.random.default_rng([seed, it]))
        step(x, y, cosine_lr(it, LR, WARMUP, iters, MIN_LR))
    rng = np.random.default_rng([seed, 7919])
    return float(np.mean([evaluate(*get_batch(val, BATCH, CFG["block_size"], rng)) for _ in range(200)]))


SWEEP = [  # name, model shape, batch, vocabulary (None: the characters of the text)
    ("nanogpt_cpu", dict(n_layer=4, n_head=4, n_embd=128, block_size=64), 12, None),
    ("l4_h4_c256_t128", dict(n_layer=4, n_head=4, n_embd=256, block_size=128), 12, None),
    ("l6_h6_c384_t256", dict(n_layer=6, n_head=6, n_embd=384, block_size=256), 8, None),
    ("nanogpt_cpu_vocab8192", dict(CFG), 12, 8192),
]


def machine_info():
    """CPU model, core count, SIMD level and library versions, for the JSON."""
    model, flags, family = platform.processor() or platform.machine(), "", None
    try:
        with open("/proc/cpuinfo") as f:
            info = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines() if ":" in line)
        info = {k.strip(): v.strip() for k, v in info.items()}
        model, flags = info["model name"], " " + info["flags"]
        family = f"family {info['cpu family']} model {info['model']}"  # a VM may name every EPYC just "AMD EPYC"
    except (OSError, KeyError, ValueError):
        pass
    simd = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "unknown"
    out = {"cpu": model, "cpu_id": family, "cpus": os.cpu_count(), "simd": simd, "numpy": np.__version__,
           "python": platform.python_version()}
    from minigpt.ops.dispatch import fused_cpu_on
    out["fused_cpu_kernels"] = fused_cpu_on()  # minigpt/kernels/cpu.py (numba), or the NumPy ops
    if out["fused_cpu_kernels"]:
        import numba
        out["numba"] = numba.__version__
    try:
        import torch
        out["torch"] = torch.__version__
    except ImportError:
        pass
    return out


def sweep(text, threads, iters, seed):
    """Tokens/s of both frameworks and minigpt's time split for each SWEEP configuration."""
    from step_profile import split_step
    ids, char_vocab = char_ids(text)
    train = ids[: int(0.9 * len(ids))]
    runs = []
    for name, shape, batch, vocab in SWEEP:
        cfg = GPTConfig(vocab_size=vocab or char_vocab, dropout=0.0, **shape)
        model, step, _ = minigpt_trainer(cfg, seed)
        steps = {"minigpt": step}
        try:
            _, steps["torch"], _ = torch_trainer(cfg, model.state_dict(), decay_names(model))
        except ImportError:
            pass
        run = {"name": name, "config": {**shape, "batch": batch, "vocab": cfg.vocab_size}}
        tps = throughput(steps, train, iters, rounds=max(1, min(5, iters // 2)), batch=batch,
                         block_size=shape["block_size"])
        run.update({f"{k}_tokens_per_s": round(v, 1) for k, v in tps.items()})
        if "torch" in tps:
            run["ratio_minigpt_over_torch"] = round(tps["minigpt"] / tps["torch"], 3)
        rng = np.random.default_rng(seed)
        batches = [get_batch(train, batch, shape["block_size"], rng) for _ in range(7)]
        largest = batch * shape["block_size"] * max(4 * shape["n_embd"], cfg.vocab_size) * 4
        clock = time.process_time if threads == 1 else time.perf_counter   # see step_profile's docstring
        run["split_ms_per_step"] = split_step(lambda x, y: step(x, y, LR), batches, largest, clock=clock)
        run["split_clock"] = "process CPU time" if threads == 1 else "wall"
        print(f"{name}: ratio {run.get('ratio_minigpt_over_torch')}, split {run['split_ms_per_step']}",
              file=sys.stderr)
        runs.append(run)
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=40, help="timed steps per framework")
    ap.add_argument("--full", action="store_true", help="also train 2000 iters on Shakespeare and compare val loss")
    ap.add_argument("--full-iters", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS / torch threads for both")
    ap.add_argument("--sweep", action="store_true", help="four configurations, each with its time split")
    args = ap.parse_args()
    if args.sweep:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            pass
        from minigpt.data.toyweb import generate_corpus
        load0 = os.getloadavg()[0]
        runs = sweep(generate_corpus(n_chars=200_000, seed=0), args.threads, args.iters, args.seed)
        print(json.dumps({"benchmark": "train_cpu_sweep", "threads": args.threads, "timed_iters": args.iters,
                          "machine": machine_info(), "load_average_1min": [round(load0, 2),
                                                                           round(os.getloadavg()[0], 2)],
                          "runs": runs}, indent=1))
        return
    if args.full:
        from minigpt.data.shakespeare import load_text
        text = load_text(download=True)
    else:
        from minigpt.data.toyweb import generate_corpus
        text = generate_corpus(n_chars=200_000, seed=0)
    ids, vocab = char_ids(text)
    n = int(0.9 * len(ids))
    train, val = ids[:n], ids[n:]
    cfg = GPTConfig(vocab_size=vocab, dropout=0.0, **CFG)
    out = {"benchmark": "train_cpu", "config": {**CFG, "batch": BATCH, "vocab": vocab},
           "threads": args.threads}
    model, step, evaluate = minigpt_trainer(cfg, args.seed)
    state0 = model.state_dict()
    decayed = decay_names(model)
    steps = {"minigpt": step}
    try:
        import torch
        torch.set_num_threads(args.threads)
        have_torch = True
    except ImportError:
        have_torch = False
    if have_torch:
        _, steps["torch"], _ = torch_trainer(cfg, state0, decayed)
    for name, tps in throughput(steps, train, args.iters).items():
        out[f"{name}_tokens_per_s"] = round(tps, 1)
    if have_torch:
        out["ratio_minigpt_over_torch"] = round(out["minigpt_tokens_per_s"] / out["torch_tokens_per_s"], 3)
    if args.full:
        model, step, evaluate = minigpt_trainer(cfg, args.seed)
        t0 = time.time()
        out["minigpt_val_loss"] = round(full_run(step, evaluate, train, val, args.full_iters, args.seed), 4)
        out["minigpt_seconds"] = round(time.time() - t0, 1)
        if have_torch:
            _, tstep, tevaluate = torch_trainer(cfg, state0, decayed)
            t0 = time.time()
            out["torch_val_loss"] = round(full_run(tstep, tevaluate, train, val, args.full_iters, args.seed), 4)
            out["torch_seconds"] = round(time.time() - t0, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
