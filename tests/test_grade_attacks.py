"""Attacks on `minigpt grade`, as a hostile student would try them: each must score 0 (or be refused),
leave the grader healthy and the checkout unchanged.

One student package carries one attack per exercise function, so a single grading run covers
most of them; the attack in a package's `__init__` (forge the results, then `os._exit(0)`) and
a modified tests/graded get runs of their own. What each attack tries:

  forged results      write "passed" records to every file descriptor and report file it can find, exit 0
  patched pytest      rewrite pytest's report objects from the student's module
  imported solutions  `from solutions.ex03_attention import *`, also via the repository path or the wheel copy
  poisoned conftest   append to tests/graded/conftest.py (and to the grader's private copy)
  memory bomb         allocate 20 GiB
  fork bomb           fork until the system refuses, children keep forking
  file bomb           write a 1 GiB file
  setsid escape       a grandchild in its own session that would outlive the grader
  output flood        print 200 MB
  patched numpy       make numpy.testing.assert_allclose / np.allclose always pass
  forged skip         raise pytest's Skipped so the check would not count
  lying value         return an object whose == is always True

    python -m pytest tests/test_grade_attacks.py -q
"""
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minigpt import grade

ROOT = Path(__file__).resolve().parents[1]
SLEEP_MARK = "3600.4242"  # the escaped grandchild runs `sleep 3600.4242`

if not sys.platform.startswith("linux"):
    pytest.skip("the grading sandbox is Linux-only", allow_module_level=True)


def checkout_digest() -> str:
    """One hash over every file the grader must never change."""
    h = hashlib.sha256()
    for folder in ("tests/graded", "solutions", "exercises", "minigpt"):
        for p in sorted((ROOT / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def escaped_sleepers() -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[:2] == [b"sleep", SLEEP_MARK.encode()]:
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


ATTACKS = r'''
import glob
import os
import sys
import time

import numpy as np

ROOT = {root!r}


def get_pair_counts(ids, counts=None):  # memory bomb
    big = np.ones((20 << 30) // 8)
    return {{(0, 0): int(big.sum())}}


def merge(ids, pair, idx):  # fork bomb: the parent returns a wrong answer, the children keep forking
    for _ in range(4):
        try:
            if os.fork() == 0:
                while True:
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.05)
        except OSError:
            break
    return [idx]


def mul_backward(a, b, grad):  # file bomb
    with open("bomb.bin", "wb") as f:
        for _ in range(1024):
            f.write(b"\0" * (1 << 20))
    return a, b


def matmul_backward(a, b, grad):  # setsid escape: a grandchild in its own session
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", {sleep!r}])
        os._exit(0)
    return a, b


def softmax_backward(y, dy, axis=-1):  # output flood
    line = "x" * 999 + "\n"
    for _ in range(200_000):
        sys.stdout.write(line)
    return dy


def layernorm_backward(x, w, dy, eps=1e-5):  # patched numpy: every comparison "passes"
    import numpy.testing
    numpy.testing.assert_allclose = lambda *a, **k: None
    numpy.testing.assert_array_equal = lambda *a, **k: None
    np.allclose = lambda *a, **k: True
    np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(w)


def causal_self_attention(q, k, v):  # imported solutions, three ways
    for where in (None, ROOT, os.path.join(os.path.dirname(np.__file__), "..")):
        if where:
            sys.path.insert(0, where)
        try:
            from solutions.ex03_attention import causal_self_attention as reference
            return reference(q, k, v)
        except Exception:
            pass
    try:
        import minigpt
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(minigpt.__file__)), ".."))
        from solutions.ex03_attention import causal_self_attention as reference
        return reference(q, k, v)
    except Exception:
        pass
    return q


def cross_entropy(logits, targets, ignore_index=-100):  # poisoned conftest: the checkout and any copy it can find
    poison = "\nimport pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    yield\n"
    targets_ = [os.path.join(ROOT, "tests", "graded", "conftest.py")] + glob.glob("/tmp/minigpt-checks-*/graded/conftest.py")
    for path in targets_:
        try:
            with open(path, "a") as f:
                f.write(poison)
        except OSError:
            pass
    return -1.0, np.ones(np.shape(logits))


def adamw_step(p, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):  # forged results on every fd
    record = b'{{"nodeid": "x", "outcome": "passed"}}\n'
    for fd in range(64):
        try:
            os.write(fd, record)
        except OSError:
            pass
    for path in glob.glob("/proc/*/fd/*"):
        try:
            with open(path, "wb") as f:
                f.write(record)
        except OSError:
            pass
    os._exit(0)


def top_k_top_p_filter(logits, k=None, p=None):  # patched pytest reporting
    try:
        import _pytest.reports
        _pytest.reports.TestReport.outcome = "passed"
        _pytest.reports.BaseReport.failed = property(lambda self: False)
    except Exception:
        pass
    return logits


def sft_targets(token_ids, assistant_start_id, end_id, ignore_index=-100):  # forged skip
    import pytest
    pytest.skip("not applicable here")


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.0


def rm_pairwise_loss(rewards):  # a lying value
    return AlwaysEqual(), AlwaysEqual()
'''

FORGED_INIT = r'''
import json
import os

record = json.dumps({"nodeid": "x", "outcome": "passed", "points": 1000}).encode() + b"\n"
for fd in range(3, 64):
    try:
        os.write(fd, record)
    except OSError:
        pass
for name in ("MINIGPT_GRADE_REPORT", "MINIGPT_GRADE_FD"):
    if os.environ.get(name):
        try:
            with open(os.environ[name], "w") as f:
                json.dump({"tests": {}}, f)
        except OSError:
            pass
os._exit(0)
'''


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Grade the attack package once; returns (report, digest before, digest after, seconds, children's max RSS)."""
    folder = tmp_path_factory.mktemp("attacker")
    (folder / "attacker.py").write_text(ATTACKS.format(root=str(ROOT), sleep=SLEEP_MARK))
    before = checkout_digest()
    start = time.perf_counter()
    report = grade.grade(impl="attacker", impl_path=str(folder), jobs=2, timeout=90, test_timeout=10,
                         only=["01.1", "01.2", "02.1", "02.2", "02.3", "02.4", "03.1", "05.1", "05.2", "05.3", "06.1", "07.1"])
    seconds = time.perf_counter() - start
    time.sleep(0.2)
    return report, before, checkout_digest(), seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


ATTACK_OF = {"01.1": "memory bomb", "01.2": "fork bomb", "02.1": "file bomb", "02.2": "setsid escape", "02.3": "output flood",
             "02.4": "patched numpy", "03.1": "imported solutions", "05.1": "poisoned conftest", "05.2": "forged results",
             "05.3": "patched pytest", "06.1": "forged skip", "07.1": "lying value"}


@pytest.mark.parametrize("ex_id", sorted(ATTACK_OF))
def test_attack_scores_zero(attacked, ex_id):
    report = attacked[0]
    r = next(r for r in report["exercises"] if r["id"] == ex_id)
    assert r["points"] == 0 and r["max_points"] > 0, f"{ATTACK_OF[ex_id]}: scored {r['points']}/{r['max_points']} ({r['status']}: {r['detail']})"
    assert r["status"] in ("fail", "crash", "timeout"), f"{ATTACK_OF[ex_id]}: status {r['status']}"
    assert all(t["outcome"] != "skipped" for t in r["tests"]), f"{ATTACK_OF[ex_id]}: a check was skipped"


def test_report_is_what_the_checks_found(attacked):
    report = attacked[0]
    assert report["score"] == 0 and report["max_score"] == sum(r["max_points"] for r in report["exercises"])
    assert not any(t["name"] == "x" for r in report["exercises"] for t in r["tests"]), "a forged record reached the report"


def test_checkout_unchanged_and_no_escaped_process(attacked):
    _, before, after, _, _ = attacked
    assert before == after, "the attacks changed files in the checkout"
    assert not escaped_sleepers(), "a setsid grandchild outlived the grader"


def test_grader_stays_healthy(attacked):
    report, _, _, seconds, max_rss_kb = attacked
    assert seconds < 300, f"grading the attacks took {seconds:.0f} s"
    flood = next(r for r in report["exercises"] if r["id"] == "02.3")
    assert all(len(t["message"]) <= 8000 for t in flood["tests"]), "a check's message is not capped"
    assert max_rss_kb < 2 * 1024 * 1024, f"a grader process grew to {max_rss_kb / 1024:.0f} MiB"
    assert json.dumps(report)  # the report is plain data


def test_forged_results_from_the_package_init_score_zero(tmp_path):
    pkg = tmp_path / "forger"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(FORGED_INIT)
    before = checkout_digest()
    report = grade.grade(impl="forger", impl_path=str(tmp_path), jobs=1, timeout=180, test_timeout=10, only=["01.2"])
    r = report["exercises"][0]
    assert r["points"] == 0 and report["score"] == 0, r
    # the forged bytes garble the answer pipe, or the exit is seen as a crash ("timeout" only on a very busy machine)
    assert r["status"] in ("crash", "fail", "timeout"), r
    assert all(t["outcome"] in ("failed", "not run") for t in r["tests"]), r["tests"]
    assert checkout_digest() == before


def test_modified_graded_checks_are_refused(tmp_path):
    import shutil

    copy = tmp_path / "graded"
    shutil.copytree(ROOT / "tests" / "graded", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "conftest.py", "a") as f:
        f.write("\n# poisoned\n")
    with pytest.raises(grade.GradeError, match=r"conftest\.py differs from its checksum"):
        grade.grade(impl="exercises", only=["01.2"], tests_dir=copy)
    (copy / "conftest.py").write_bytes((ROOT / "tests" / "graded" / "conftest.py").read_bytes())
    (copy / "test_graded_99_1_extra.py").write_text("def test_free_points():\n    pass\n")
    with pytest.raises(grade.GradeError, match=r"test_graded_99_1_extra\.py is not in SHA256SUMS"):
        grade.grade(impl="exercises", only=["01.2"], tests_dir=copy)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-m", "minigpt", "grade", "--tests", str(copy), "--only", "01.2"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert res.returncode == 2 and "were modified, so they are not run" in res.stderr, res.stderr
