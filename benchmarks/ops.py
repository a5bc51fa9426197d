"""Forward+backward time of the core ops, minigpt vs PyTorch (CPU), as JSON.

Both run in this one process on the same inputs; `ratio` = torch time / minigpt
time (above 1 means minigpt is faster).

    python benchmarks/ops.py [--repeat 20]
"""
import argparse
import json

import numpy as np

from minigpt import ops
from minigpt.autograd import Tensor
from minigpt.timing import best_time


def cases(rng):
    """name -> (minigpt fn on Tensors, torch fn on tensors, input arrays, needs-grad flags)."""
    out = {}
    for n in (128, 512):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        out[f"matmul_{n}x{n}"] = (lambda x, y: x @ y, lambda x, y: x @ y, [a, b])
    for shape in ((768, 65), (768, 512), (64, 4, 64, 64)):
        x = rng.standard_normal(shape).astype(np.float32)
        out[f"softmax_{'x'.join(map(str, shape))}"] = (lambda t: ops.softmax(t), lambda t: t.softmax(-1), [x])
    for n, c in ((768, 128), (4096, 384)):
        x = rng.standard_normal((n, c)).astype(np.float32)
        w, b = np.ones(c, np.float32), np.zeros(c, np.float32)
        out[f"layernorm_{n}x{c}"] = (lambda t, w, b: ops.layernorm(t, w, b),
                                     lambda t, w, b: __import__("torch").nn.functional.layer_norm(t, (t.shape[-1],), w, b),
                                     [x, w, b])
    for n, v in ((768, 65), (768, 4096)):
        z = rng.standard_normal((n, v)).astype(np.float32)
        t = rng.integers(0, v, n)
        out[f"cross_entropy_{n}x{v}"] = (lambda z, t=t: ops.cross_entropy(z, t),
                                         lambda z, t=t: __import__("torch").nn.functional.cross_entropy(
                                             z, __import__("torch").tensor(t)), [z])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    try:
        import torch
        torch.set_num_threads(max(1, torch.get_num_threads()))
    except ImportError:
        torch = None
    results = {}
    for name, (fn, tfn, arrays) in cases(rng).items():
        def ours():
            xs = [Tensor(a, requires_grad=True) for a in arrays]
            y = fn(*xs)
            y.backward(np.ones(y.shape, np.float32))
        row = {"minigpt_ms": 1e3 * best_time(ours, args.repeat, warmup=1)}
        if torch is not None:
            def theirs():
                xs = [torch.tensor(a, requires_grad=True) for a in arrays]
                y = tfn(*xs)
                y.backward(torch.ones_like(y))
            row["torch_ms"] = 1e3 * best_time(theirs, args.repeat, warmup=1)
            row["ratio"] = row["torch_ms"] / row["minigpt_ms"]
        results[name] = {k: round(v, 4) for k, v in row.items()}
    print(json.dumps({"benchmark": "ops_fwd_bwd_cpu", "results": results}, indent=2))


if __name__ == "__main__":
    main()
