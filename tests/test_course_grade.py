"""Tests of `minigpt grade`: full score for the reference, "not attempted" for the stubs, isolation.

A student's function that hangs, segfaults, returns NaN or raises must cost only its own exercise.

    python -m pytest tests/test_course_grade.py -q
"""
import json
import re
import os
import subprocess
import sys
from pathlib import Path


from minigpt import course, grade

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "minigpt.cli", "grade", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_exercises_score_zero_all_not_attempted():
    res = run_cli("--impl", "exercises", "--json")
    assert res.returncode == 1, f"exit status 1 when points are missing\n{res.stderr}"
    report = json.loads(res.stdout)
    assert report["score"] == 0 and report["max_score"] > 0
    statuses = {r["id"]: r["status"] for r in report["exercises"]}
    assert set(statuses) == {ex.id for ex in course.EXERCISES}
    assert all(s == "not attempted" for s in statuses.values()), f"every stub must read as not attempted: {statuses}"
    assert report["all_not_attempted"] and not report["full_score"]
    assert grade.summary_line(report).startswith(f"0/{report['max_score']:g} points: all {len(statuses)} exercises not attempted")


def test_solutions_get_full_score(tmp_path):
    out = tmp_path / "lms" / "grade.json"
    res = run_cli("--impl", "solutions", "--json", str(out))
    assert res.returncode == 0, f"the reference solutions must get full score:\n{res.stdout}\n{res.stderr}"
    assert "full score" in res.stdout and "01.1" in res.stdout
    report = json.loads(out.read_text())
    bad = {r["id"]: (r["status"], r["detail"]) for r in report["exercises"] if r["status"] not in ("pass", "skipped")}
    assert not bad, f"exercises not passing against solutions: {bad}"
    assert report["score"] == report["max_score"] > 100
    for r in report["exercises"]:
        assert all(t["outcome"] in ("passed", "skipped") for t in r["tests"]) and r["tests"], r["id"]


def test_unknown_exercise_exits_2():
    res = run_cli("--only", "99.9")
    assert res.returncode == 2 and "unknown exercise '99.9'" in res.stderr


# a correct 05.1, read from the corpus of correct alternatives (tests/graded/alternatives), then the broken exercises
CORRECT_05_1 = (ROOT / "tests" / "graded" / "alternatives" / "alt05_1_float64_onehot.py").read_text()
FAKE_STUDENT = CORRECT_05_1 + '''
import ctypes
import signal

import numpy as np


def get_pair_counts(ids, counts=None):  # an endless Python loop: pytest-timeout's per-check alarm stops it
    while True:
        pass


def merge(ids, pair, idx):  # a segfault
    ctypes.string_at(0)


def layernorm_backward(x, w, dy, eps=1e-5):  # blocks signals and loops: the worker is killed from outside
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    while True:
        pass


def softmax_backward(y, dy, axis=-1):  # NaNs
    return np.full(np.shape(y), np.nan)


def mul_backward(a, b, grad):  # an exception
    raise RuntimeError("student bug")


def gae(rewards, values, gamma=1.0, lam=0.95, last_value=0.0, dones=None):
    raise NotImplementedError("exercise 08.3: called an unfinished exercise")
'''


def test_hang_segfault_nan_and_exceptions_cost_only_their_exercise(tmp_path):
    (tmp_path / "fake_student.py").write_text(FAKE_STUDENT)
    report = grade.grade(impl="fake_student", impl_path=str(tmp_path), jobs=2, timeout=120, test_timeout=3,
                         only=["01.1", "01.2", "02.4", "02.3", "02.1", "05.1", "08.1"])
    by_id = {r["id"]: r for r in report["exercises"]}
    assert by_id["05.1"]["status"] == "pass" and by_id["05.1"]["points"] == by_id["05.1"]["max_points"] > 0, by_id["05.1"]
    assert by_id["01.1"]["status"] == "timeout" and by_id["01.1"]["points"] == 0
    finished = [t for t in by_id["01.1"]["tests"] if t["outcome"] != "not run"]
    assert finished and all(re.search(r"longer than (3|9) s", t["message"]) for t in finished), [t["message"] for t in finished]
    assert by_id["01.2"]["status"] == "crash" and "SIGSEGV" in by_id["01.2"]["detail"] and by_id["01.2"]["points"] == 0
    assert by_id["02.4"]["status"] == "timeout" and by_id["02.4"]["points"] == 0
    for ex_id in ("02.3", "02.1"):
        assert by_id[ex_id]["status"] == "fail" and by_id[ex_id]["points"] == 0, by_id[ex_id]
    assert any("student bug" in t["message"] for t in by_id["02.1"]["tests"])
    assert by_id["08.1"]["status"] == "fail" and "exercise 08.3" in by_id["08.1"]["detail"], by_id["08.1"]
    assert report["score"] == by_id["05.1"]["max_points"] and not report["full_score"]
    table = grade.format_table(report)
    assert "crash" in table and "timeout" in table and "student bug" in table


def test_unknown_implementation_exits_2():
    res = run_cli("--impl", "no_such_student_package", "--only", "01.1")
    assert res.returncode == 2 and "cannot find the implementation package 'no_such_student_package'" in res.stderr
