"""Time `minigpt grade --impl solutions` of this checkout against an older grader, back to back, as JSON.

The sandboxed grader (issue 18) must not take more than twice the time of the grader it replaced
(commit 1df4bd1, no sandbox). Check the old one out beside this one and time both, alternating, in
one run, so that both see the same load on a shared machine:

    git worktree add /tmp/old 1df4bd1
    python benchmarks/grade_time.py --old /tmp/old --rounds 3 --out benchmarks/results/grade_time.json

Each run is a fresh `python -m minigpt.cli grade --impl solutions --json FILE` process with its own
checkout first on PYTHONPATH; the figure is the wall time of that process (start-up, collection and
every exercise), and the grader's own per-exercise times are kept. The order alternates every round
(new, old / old, new). The load average (`os.getloadavg`) is recorded before and after each run:
above the machine's core count the seconds are disturbed, the ratio less so.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_grader(checkout: Path, only: list[str] | None) -> dict:
    """One `minigpt grade --impl solutions` run of the grader in `checkout`; its wall time and report."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    env.pop("MINIGPT_IMPL", None)
    with tempfile.TemporaryDirectory(prefix="grade-time-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "minigpt.cli", "grade", "--impl", "solutions", "--json", str(out)]
        if only:
            cmd += ["--only", *only]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        res = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - start
        if res.returncode != 0 or not out.is_file():
            raise SystemExit(f"grading with {checkout} failed (exit {res.returncode}):\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
        report = json.loads(out.read_text())
    return {"wall_s": round(wall, 2), "grader_s": report["duration_s"], "score": report["score"], "max_score": report["max_score"],
            "exercises": len(report["exercises"]), "per_exercise_s": {r["id"]: r["duration_s"] for r in report["exercises"]},
            "load_1min_before": round(load, 2), "load_1min_after": round(os.getloadavg()[0], 2)}


def git_head(checkout: Path) -> str:
    res = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return res.stdout.strip() or "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", type=Path, required=True, help="checkout of the grader to compare with (e.g. a worktree at 1df4bd1)")
    ap.add_argument("--new", type=Path, default=ROOT, help="checkout of the grader under test (default: this one)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of (new, old) runs, order alternating (default 2)")
    ap.add_argument("--only", nargs="+", default=None, help="grade only these exercises (default: all of each grader)")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here (atomically)")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    if not (args.old / "minigpt" / "grade.py").is_file():
        ap.error(f"--old {args.old} holds no minigpt/grade.py (git worktree add {args.old} 1df4bd1)")
    runs = []
    for r in range(args.rounds):
        order = ("new", "old") if r % 2 == 0 else ("old", "new")
        for which in order:
            res = run_grader(args.new if which == "new" else args.old, args.only)
            runs.append({"round": r, "grader": which, **res})
            print(f"round {r} {which}: {res['wall_s']:.1f} s (load {res['load_1min_before']:.1f})", file=sys.stderr)
    new = [x["wall_s"] for x in runs if x["grader"] == "new"]
    old = [x["wall_s"] for x in runs if x["grader"] == "old"]
    ratios = [n / o for n, o in zip(new, old)]
    out = {
        "benchmark": "grade_time",
        "what": "wall time of `minigpt grade --impl solutions` (all exercises of each grader), new vs old, alternating",
        "new": {"checkout": str(args.new), "commit": git_head(args.new)},
        "old": {"checkout": str(args.old), "commit": git_head(args.old)},
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(), "python": platform.python_version()},
        "rounds": args.rounds,
        "new_wall_s": new, "old_wall_s": old,
        "ratio_per_round": [round(x, 3) for x in ratios],
        "ratio_of_medians": round(statistics.median(new) / statistics.median(old), 3),
        "runs": runs,
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.out.parent, prefix=f".{args.out.name}.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
