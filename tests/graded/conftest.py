r"""Shared setup of the graded checks: the sandboxed implementation under test, points, the report.

The checks never import solutions/ or exercises/. The `impl` fixture is a
`course.RemoteImplementation`: `impl.cross_entropy(logits, targets)` sends the arguments to a
sandboxed worker process (minigpt/sandbox.py) that imports the implementation named by
MINIGPT_IMPL and returns plain values (JSON + .npy, never pickle). Each check then compares those
values with an independent reference *here*, where the student's code never runs. A student
function that crashes, hangs or exits fails the check that called it (its exception or crash
is the check's message), and the next call gets a fresh worker.

In the repository's own test run (MINIGPT_IMPL unset) the implementation is "solutions", so CI
proves the reference earns full marks; students check their own work with `minigpt grade` or

    MINIGPT_IMPL=exercises python -m pytest tests/graded -m ex_05_1_cross_entropy

Each check carries one exercise marker (ex_NN_M_name) and `@pytest.mark.points(n)` (default 1).
The grader (minigpt/grade.py) runs a checksummed copy of this folder and sets
MINIGPT_GRADE_FD=<fd>: one JSON line per check goes there, a pipe the worker cannot reach.
MINIGPT_GRADE_TEST_TIMEOUT=<seconds> bounds each call into the student's code (default 60).
MINIGPT_GRADE_SHRINK=0 turns hypothesis's shrinking off (the mutation self-test sets it).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from minigpt import course
from minigpt.sandbox import WorkerError
from minigpt.textcap import cap_lines

GRADED_IMPL = os.environ.get("MINIGPT_IMPL", "").strip() or "solutions"
CALL_TIMEOUT = float(os.environ.get("MINIGPT_GRADE_TEST_TIMEOUT", "0") or 0) or 60.0

try:  # property-based checks: the same examples on every run (a grade must be reproducible)
    from hypothesis import HealthCheck, Phase, settings

    settings.register_profile("graded", derandomize=True, database=None, deadline=None, print_blob=False, max_examples=30,
                              suppress_health_check=list(HealthCheck))
    # MINIGPT_GRADE_SHRINK=0 (the mutation self-test only): stop at the first failing example instead of
    # shrinking it to a small one; whether a check fails is the same, the message shows a bigger input
    settings.register_profile("graded-no-shrink", parent=settings.get_profile("graded"), phases=[Phase.explicit, Phase.generate],
                              report_multiple_bugs=False)
    settings.load_profile("graded-no-shrink" if os.environ.get("MINIGPT_GRADE_SHRINK") == "0" else "graded")
except ImportError:  # pragma: no cover - hypothesis is a dependency of the graded checks
    pass


def pytest_report_header(config):
    return f"graded checks run against: {GRADED_IMPL} (set MINIGPT_IMPL=exercises to check your own work)"


# -----------------------------------------------------------------------------
_REPORT_FD = int(os.environ["MINIGPT_GRADE_FD"]) if os.environ.get("MINIGPT_GRADE_FD") else None


def _emit(record: dict) -> None:
    """One JSON line to the grader (a pipe inherited from it)."""
    if _REPORT_FD is None:
        return
    data = (json.dumps(record) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(_REPORT_FD, view):]


def _expose() -> dict:
    """MINIGPT_GRADE_EXPOSE=name=dir[:name=dir]: extra packages for the mutation self-test only."""
    spec = os.environ.get("MINIGPT_GRADE_EXPOSE", "")
    return dict(item.split("=", 1) for item in spec.split(os.pathsep) if "=" in item)


_REMOTE: course.RemoteImplementation | None = None


@pytest.fixture
def impl():
    """The implementation under test: `impl.cross_entropy(...)` runs the student's (or reference) function in the sandbox."""
    global _REMOTE
    if _REMOTE is None:
        _REMOTE = course.RemoteImplementation(GRADED_IMPL, timeout=CALL_TIMEOUT, expose=_expose(),
                                              on_start=lambda w: _emit({"worker": w.token, "uid": w.uid, "applied": w.applied}))
    return _REMOTE


def pytest_sessionfinish(session):
    if _REMOTE is not None:
        _REMOTE.close()


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
# the report for the grader
MAX_MESSAGE = 6000  # characters of one check's message; longer ones keep their head and tail, cut at line ends


def cap_message(text: str, limit: int = MAX_MESSAGE) -> str:
    """Cap a whole message at line boundaries (never inside a number): head and tail survive."""
    return cap_lines(text, limit, "run this exercise verbosely to see everything")


def _exercise_marker(item) -> str | None:
    names = [m.name for m in item.iter_markers() if m.name.startswith("ex_")]
    return names[0] if names else None


def _points(item) -> float:
    mark = item.get_closest_marker("points")
    return float(mark.args[0]) if mark and mark.args else 1.0


def pytest_collection_finish(session):
    for item in session.items:
        _emit({"collected": item.nodeid, "name": item.name, "file": str(item.path), "marker": _exercise_marker(item),
               "points": _points(item), "doc": (item.obj.__doc__ or "").strip().split("\n")[0] if hasattr(item, "obj") else ""})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" and not (rep.failed or rep.skipped):
        return
    record = {"nodeid": item.nodeid, "when": rep.when, "outcome": rep.outcome, "message": "", "stub": None, "kind": None}
    if call.excinfo is not None:
        err = call.excinfo.value
        if isinstance(err, course.CallAborted):  # the stub, a crash or a timeout: stopped the check at once
            err = err.error
        if course.is_stub_error(err):
            record["stub"] = str(err).split(":", 1)[0].removeprefix("exercise ").strip()
        if isinstance(err, WorkerError):
            record["kind"] = err.kind
        if rep.skipped:
            record["message"] = str(rep.longrepr[-1]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        else:
            record["message"] = cap_message(_describe(err))
    _emit(record)


def _describe(err: BaseException) -> str:
    """The failure as a student should read it: the check's own message, with any notes (e.g. the student's traceback)."""
    text = str(err).strip() if isinstance(err, AssertionError) else f"{type(err).__name__}: {err}"
    notes = getattr(err, "__notes__", None) or []
    return "\n".join([text.rstrip(), *[str(n).rstrip() for n in notes]])
