"""Predictable scaling on the toy web: fit loss vs compute on small GPTs, predict bigger ones, as JSON.

Trains the ladder of minigpt.scaling (same steps for every width, so compute C = 6·N·D grows with N),
fits L(C) = a·C^(−b) + L∞ with L∞ = the toy web's known entropy per token, predicts the loss of
the target widths before training them, then trains them and reports predicted vs actual.

    python benchmarks/scaling.py --quick            # CI ladder: widths 8..24 → 32, about 20 s on 2 cores
    python benchmarks/scaling.py                    # widths 8..32 (600 steps) → 48, 64, about 2 minutes
    python benchmarks/scaling.py --widths 8 12 16 --targets 24 32 --steps 500
"""
import argparse
import json
import sys
import time
from dataclasses import replace

from minigpt.scaling import QUICK, ScalingConfig, run_scaling


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small CI ladder (minigpt.scaling.QUICK)")
    ap.add_argument("--widths", type=int, nargs="+", help="n_embd of the runs that make the fit")
    ap.add_argument("--targets", type=int, nargs="+", help="n_embd of the predicted runs")
    ap.add_argument("--steps", type=int, help="optimizer steps per run")
    ap.add_argument("--tokens-per-param", type=float, help="D = k·N tokens per run instead of fixed steps")
    ap.add_argument("--lr", type=float, help="peak learning rate")
    ap.add_argument("--seed", type=int, help="seed of corpus, init and batches")
    args = ap.parse_args(argv)

    cfg = QUICK if args.quick else ScalingConfig()
    over = {"widths": tuple(args.widths) if args.widths else None,
            "targets": tuple(args.targets) if args.targets else None,
            "steps": args.steps, "tokens_per_param": args.tokens_per_param, "lr": args.lr, "seed": args.seed}
    cfg = replace(cfg, **{k: v for k, v in over.items() if v is not None})
    t0 = time.time()
    res = run_scaling(cfg, log=lambda s: print(s, file=sys.stderr))  # progress to stderr, JSON to stdout
    res["seconds"] = time.time() - t0
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
