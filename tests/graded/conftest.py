r"""Shared setup of the graded checks: which implementation runs, points, per-test timeout, JSON report.

The checks import nothing from solutions/ or exercises/ directly: the `impl` fixture resolves each
function in the implementation named by MINIGPT_IMPL, with no fallback. In the repository's own
test run (MINIGPT_IMPL unset) that is "solutions", so CI proves the reference earns full marks;
students grade their own work with `minigpt grade` (default: exercises) or

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_05_1_cross_entropy

Each test carries one exercise marker (ex_NN_M_name) and `@pytest.mark.points(n)` (default 1).
The grader (minigpt/grade.py) sets MINIGPT_GRADE_REPORT=<file> to receive per-test outcomes as JSON,
written after every test so that a segfault still leaves the earlier results, and runs pytest-timeout
(--timeout=<seconds>) to stop an endless Python loop inside one test.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import pytest

from minigpt import course

GRADED_IMPL = os.environ.get("MINIGPT_IMPL", "").strip() or "solutions"


def pytest_report_header(config):
    return f"graded checks run against: {GRADED_IMPL} (set MINIGPT_IMPL=exercises to check your own work)"


# -----------------------------------------------------------------------------
@pytest.fixture
def impl():
    """The implementation under test: `impl.cross_entropy(...)` is the student's (or reference) function."""
    return course.Implementation(GRADED_IMPL)


def numerical_gradient(f, x, eps=1e-6):
    r"""Central differences of the scalar function f at x (float64): (f(x + ε e_i) − f(x − ε e_i)) / 2ε."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(x)
        flat[i] = old - eps
        down = f(x)
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


@pytest.fixture
def numgrad():
    return numerical_gradient


# -----------------------------------------------------------------------------
# JSON report for the grader
_REPORT_PATH = os.environ.get("MINIGPT_GRADE_REPORT")
_report: dict = {"tests": {}}


def _exercise_marker(item) -> str | None:
    names = [m.name for m in item.iter_markers() if m.name.startswith("ex_")]
    return names[0] if names else None


def _points(item) -> float:
    mark = item.get_closest_marker("points")
    return float(mark.args[0]) if mark and mark.args else 1.0


def _save() -> None:
    folder = os.path.dirname(os.path.abspath(_REPORT_PATH))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".grade-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(_report, f)
    os.replace(tmp, _REPORT_PATH)


def pytest_collection_finish(session):
    if not _REPORT_PATH:
        return
    for item in session.items:
        _report["tests"][item.nodeid] = {
            "name": item.name,
            "file": str(item.path),
            "marker": _exercise_marker(item),
            "points": _points(item),
            "outcome": "not run",
            "message": "",
            "stub": None,
        }
    _save()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not _REPORT_PATH or item.nodeid not in _report["tests"]:
        return
    if rep.when != "call" and not (rep.failed or rep.skipped):
        return
    entry = _report["tests"][item.nodeid]
    if entry["outcome"] == "failed":  # keep the first failure (a teardown error must not hide it)
        return
    entry["outcome"] = rep.outcome
    if call.excinfo is not None:
        err = call.excinfo.value
        if course.is_stub_error(err):
            entry["stub"] = str(err).split(":", 1)[0].removeprefix("exercise ").strip()
        if rep.skipped:
            entry["message"] = str(rep.longrepr[-1]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        else:
            text = f"{type(err).__name__}: {err}"
            entry["message"] = text if len(text) < 2000 else text[:2000] + " ..."
    _save()
