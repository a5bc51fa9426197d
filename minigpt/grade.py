r"""`minigpt grade`: score the course exercises with the graded checks in tests/graded/.

Every exercise runs in its own `python -m pytest tests/graded -m <marker>` subprocess, with
MINIGPT_IMPL naming the implementation, an alarm per test and a wall-clock timeout per exercise.
So a student function that loops forever, segfaults, returns NaN or raises costs only the points
of its own exercise. Points come from `@pytest.mark.points(n)` on each check (default 1).
Status per exercise: pass, fail (some checks failed: partial points), not attempted (every check
hit the exercise's NotImplementedError stub), timeout, crash, error (the checks could not run),
skipped (e.g. no C++ compiler for the CUDA shim).

    minigpt grade                         # your exercises/ (MINIGPT_IMPL, default "exercises")
    minigpt grade --impl solutions        # the reference: must be full score
    minigpt grade --only 05.1 08.2        # a few exercises
    minigpt grade --json grade.json       # also write the report for an LMS ("--json" alone: JSON to stdout)

Exit status: 0 full score; 1 points missing (including "all exercises not attempted");
2 the grader itself could not run (bad arguments, graded checks not found).
"""
from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from minigpt import course

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TESTS = ROOT / "tests" / "graded"
DEFAULT_TIMEOUT = 120.0  # seconds per exercise (its whole pytest process)
DEFAULT_TEST_TIMEOUT = 20.0  # seconds per graded check


class GradeError(RuntimeError):
    """The grader cannot run at all (as opposed to a student's code failing)."""


# -----------------------------------------------------------------------------
# running pytest in a subprocess
def _env(impl: str, impl_path: str | None, report: Path, test_timeout: float) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["MINIGPT_IMPL"] = impl
    if impl_path:
        env["MINIGPT_IMPL_PATH"] = str(Path(impl_path).resolve())
    else:
        env.pop("MINIGPT_IMPL_PATH", None)
    env["MINIGPT_GRADE_REPORT"] = str(report)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the one plugin the checks need; saves ~3 s per process
    # pytest-timeout stops an endless Python loop inside one check (SIGALRM; it fails that check only)
    env["PYTEST_ADDOPTS"] = f"-p pytest_timeout --timeout={test_timeout:g} --timeout-method=signal {env.get('PYTEST_ADDOPTS', '')}".strip()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # exercises run in parallel: one BLAS thread each
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run_pytest(args: list[str], env: dict, timeout: float, workdir: Path) -> tuple[int | None, str, float]:
    """Run pytest; returns (returncode or None on timeout, the output's tail, seconds)."""
    log_path = workdir / "pytest.log"
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-q", "--tb=short", "--no-header"]
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole session: pytest and anything it started
            proc.wait()
            rc = None
    seconds = time.perf_counter() - start
    tail = log_path.read_bytes()[-4000:].decode("utf-8", "replace")
    return rc, tail, seconds


def _read_report(path: Path) -> dict:
    try:
        return json.loads(path.read_text())["tests"]
    except (OSError, ValueError, KeyError):
        return {}


def collect(tests_dir: Path = DEFAULT_TESTS) -> dict[str, dict]:
    """{nodeid: {name, marker, points, ...}} of every graded check (one pytest --collect-only run)."""
    if not tests_dir.is_dir():
        raise GradeError(f"graded checks not found at {tests_dir} (pass --tests DIR)")
    with tempfile.TemporaryDirectory(prefix="minigpt-grade-") as tmp:
        report = Path(tmp) / "collect.json"
        env = _env("solutions", None, report, 0)
        rc, tail, _ = _run_pytest([str(tests_dir), "--collect-only", "-m", ""], env, 120, Path(tmp))
        tests = _read_report(report)
    if rc != 0 or not tests:
        raise GradeError(f"could not collect the graded checks in {tests_dir} (pytest exit {rc}):\n{tail}")
    return tests


# -----------------------------------------------------------------------------
# one exercise
def _status(ex: course.Exercise, tests: list[dict], rc: int | None, timeout: float, tail: str) -> tuple[str, str]:
    counted = [t for t in tests if t["outcome"] != "skipped"]
    failed = [t for t in counted if t["outcome"] != "passed"]
    if rc is None:
        return "timeout", f"stopped after {timeout:g} s (an endless loop?); checks not finished count 0"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return "crash", f"the check process died from {name} (a segfault or abort in native code?)"
    if not tests:
        return "error", f"no graded checks ran (pytest exit {rc}):\n{tail[-1500:]}"
    if not counted:
        return "skipped", tests[0]["message"] or "all checks skipped"
    if all(t["stub"] == ex.id for t in counted):
        return "not attempted", ""
    if not failed:
        return "pass", ""
    if any(t["outcome"] == "not run" for t in failed):
        return "error", f"checks did not run (pytest exit {rc}):\n{tail[-1500:]}"
    others = sorted({t["stub"] for t in failed if t["stub"] and t["stub"] != ex.id})
    detail = f"{len(failed)} of {len(counted)} checks failed"
    if others:
        detail += f"; it calls exercise {', '.join(others)}, which is not done yet"
    return "fail", detail


def run_exercise(ex: course.Exercise, impl: str, expected: dict[str, dict], impl_path: str | None = None,
                 tests_dir: Path = DEFAULT_TESTS, timeout: float = DEFAULT_TIMEOUT,
                 test_timeout: float = DEFAULT_TEST_TIMEOUT) -> dict:
    """Run the graded checks of one exercise against `impl`; returns its result record."""
    mine = {nid: dict(t) for nid, t in expected.items() if t["marker"] == ex.marker}
    files = sorted({t["file"] for t in mine.values()}) or [str(tests_dir)]  # collect only the files that matter
    with tempfile.TemporaryDirectory(prefix=f"minigpt-grade-{ex.id}-") as tmp:
        report = Path(tmp) / "report.json"
        env = _env(impl, impl_path, report, test_timeout)
        rc, tail, seconds = _run_pytest([*files, "-m", ex.marker], env, timeout, Path(tmp))
        for nid, outcome in _read_report(report).items():
            if nid in mine:
                mine[nid].update(outcome)
    tests = list(mine.values())
    status, detail = _status(ex, tests, rc, timeout, tail) if tests else ("error", f"no graded checks carry the marker {ex.marker}")
    counted = [t for t in tests if t["outcome"] != "skipped"]
    return {
        "id": ex.id,
        "function": ex.function,
        "title": ex.title,
        "marker": ex.marker,
        "status": status,
        "points": sum(t["points"] for t in counted if t["outcome"] == "passed"),
        "max_points": sum(t["points"] for t in counted),
        "detail": detail,
        "duration_s": round(seconds, 2),
        "tests": [{k: t[k] for k in ("name", "points", "outcome", "message")} for t in tests],
    }


# -----------------------------------------------------------------------------
# all exercises
def select(only) -> list[course.Exercise]:
    if not only:
        return list(course.EXERCISES)
    chosen = []
    for key in only:
        match = [ex for ex in course.EXERCISES if key in (ex.id, ex.marker, ex.function)]
        if not match:
            raise GradeError(f"unknown exercise {key!r}; use an id like 05.1, a marker or a function name: "
                             + ", ".join(ex.id for ex in course.EXERCISES))
        chosen += [ex for ex in match if ex not in chosen]
    return chosen


def _check_importable(impl: str, impl_path: str | None) -> None:
    """Fail early (exit 2) on a misspelt implementation instead of failing every check."""
    search = [str(Path(impl_path).resolve())] if impl_path else []
    search += [str(ROOT)] + sys.path
    top = impl.split(".")[0]
    if importlib.machinery.PathFinder.find_spec(top, search) is None:
        where = f" in {impl_path}" if impl_path else ""
        raise GradeError(f"cannot find the implementation package {impl!r}{where}; expected exercises, solutions or a package/module name")


def grade(impl: str | None = None, only=None, impl_path: str | None = None, jobs: int = 2,
          timeout: float = DEFAULT_TIMEOUT, test_timeout: float = DEFAULT_TEST_TIMEOUT,
          tests_dir: Path = DEFAULT_TESTS) -> dict:
    """Grade the chosen exercises of implementation `impl`; returns the JSON-ready report."""
    impl = impl or course.impl_name()
    start = time.perf_counter()
    exercises = select(only)
    _check_importable(impl, impl_path)
    expected = collect(Path(tests_dir))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda ex: run_exercise(ex, impl, expected, impl_path, Path(tests_dir), timeout, test_timeout), exercises))
    score = sum(r["points"] for r in results)
    max_score = sum(r["max_points"] for r in results)
    graded = [r for r in results if r["status"] != "skipped"]
    return {
        "impl": impl,
        "score": score,
        "max_score": max_score,
        "full_score": score == max_score and all(r["status"] in ("pass", "skipped") for r in results),
        "all_not_attempted": bool(graded) and all(r["status"] == "not attempted" for r in graded),
        "counts": {s: sum(r["status"] == s for r in results) for s in ("pass", "fail", "not attempted", "timeout", "crash", "error", "skipped")},
        "duration_s": round(time.perf_counter() - start, 2),
        "exercises": results,
    }


def _num(x: float) -> str:
    return f"{x:g}"


def summary_line(report: dict) -> str:
    score, top = _num(report["score"]), _num(report["max_score"])
    if report["full_score"]:
        return f"{score}/{top} points: full score"
    if report["all_not_attempted"]:
        return f"{score}/{top} points: all {len(report['exercises'])} exercises not attempted"
    parts = [f"{n} {s}" for s, n in report["counts"].items() if n]
    return f"{score}/{top} points: " + ", ".join(parts)


def format_table(report: dict) -> str:
    lines = [f"minigpt grade: implementation {report['impl']!r}", "", f"  {'ex':<5} {'function':<22} {'points':>7}  status"]
    for r in report["exercises"]:
        pts = f"{_num(r['points'])}/{_num(r['max_points'])}"
        lines.append(f"  {r['id']:<5} {r['function']:<22} {pts:>7}  {r['status']}")
        if r["status"] not in ("pass", "not attempted"):
            if r["detail"]:
                lines.append(f"{'':9}{r['detail'].splitlines()[0]}")
            shown = [t for t in r["tests"] if t["outcome"] == "failed"][:3]
            for t in shown:
                msg = " ".join(t["message"].split())
                lines.append(f"{'':9}x {t['name']}: {msg[:200]}")
    lines += ["", f"  {'total':<28} {_num(report['score']) + '/' + _num(report['max_score']):>7}", "",
              summary_line(report) + f"   ({report['duration_s']:.1f} s)"]
    return "\n".join(lines)


def write_json(report: dict, path: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(report, f, indent=1)
    os.replace(tmp, target)


# -----------------------------------------------------------------------------
# CLI
def _positive(kind):
    """An argparse type: `kind(text)`, which must be > 0 ('--timeout 0' would fail every exercise)."""
    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def add_cli_args(parser) -> None:
    parser.add_argument("--impl", default=None, help="exercises | solutions | a package name (default: $MINIGPT_IMPL or exercises)")
    parser.add_argument("--impl-path", default=None, help="directory put first on sys.path to find --impl")
    parser.add_argument("--only", nargs="+", default=None, metavar="EX", help="exercise ids (05.1), markers or function names")
    parser.add_argument("--jobs", type=_positive(int), default=2, help="exercises graded in parallel (default 2)")
    parser.add_argument("--timeout", type=_positive(float), default=DEFAULT_TIMEOUT, help="seconds per exercise (default %(default)g)")
    parser.add_argument("--test-timeout", type=_positive(float), default=DEFAULT_TEST_TIMEOUT, help="seconds per check (default %(default)g)")
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                        help="write the report as JSON to PATH; without PATH print JSON instead of the table")
    parser.add_argument("--tests", default=str(DEFAULT_TESTS), help="folder of graded checks (default: tests/graded)")


def cli_main(args) -> int:
    try:
        report = grade(impl=args.impl, only=args.only, impl_path=args.impl_path, jobs=args.jobs,
                       timeout=args.timeout, test_timeout=args.test_timeout, tests_dir=Path(args.tests))
    except GradeError as err:
        print(f"minigpt grade: {err}", file=sys.stderr)
        return 2
    if args.json == "-":
        print(json.dumps(report, indent=1))
    else:
        print(format_table(report))
        if args.json:
            write_json(report, args.json)
            print(f"report written to {args.json}")
    return 0 if report["full_score"] else 1
