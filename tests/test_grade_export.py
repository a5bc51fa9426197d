"""The instructor exports of `minigpt grade`: Gradescope's results.json and JUnit XML.

The layouts are checked on a hand-made report (fast): Gradescope's autograder reads a top-level
`score` and a list `tests`, each with `name`, `score`, `max_score`, `output` and `status`; a CI
system reads JUnit's testsuites/testsuite/testcase counts. The slow test grades a small student
package end to end through the CLI (one exercise right, one wrong) and parses both files.

    python -m pytest tests/test_grade_export.py -q -m "slow or not slow"
"""
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from minigpt import grade

ROOT = Path(__file__).resolve().parents[1]


def check(name, outcome, message="", points=1.0):
    return {"name": name, "points": points, "outcome": outcome, "message": message, "doc": ""}


# a report as grade.grade returns it: one exercise passed, one failed two of its three checks, one skipped
REPORT = {
    "impl": "student", "impl_path": None, "score": 4.0, "max_score": 9.0, "full_score": False, "all_not_attempted": False,
    "counts": {"pass": 1, "fail": 1, "not attempted": 0, "timeout": 0, "crash": 0, "error": 0, "skipped": 1},
    "duration_s": 3.5,
    "exercises": [
        {"id": "01.1", "function": "get_pair_counts", "title": "BPE: count adjacent pairs", "marker": "ex_01_1_pair_counts",
         "status": "pass", "points": 3.0, "max_points": 3.0, "detail": "", "duration_s": 1.0,
         "tests": [check("test_a", "passed", points=2.0), check("test_b", "passed")]},
        {"id": "01.2", "function": "merge", "title": "BPE: merge a pair into a new id", "marker": "ex_01_2_merge",
         "status": "fail", "points": 1.0, "max_points": 6.0, "detail": "2 of 3 checks failed", "duration_s": 1.5,
         "tests": [check("test_c", "passed"), check("test_d", "failed", "property: no overlap\nACTUAL:   [4, 4]\nEXPECTED: [4, 5]", 2.0),
                   check("test_e", "failed", "AssertionError: <&> must be escaped", 3.0)]},
        {"id": "10.1", "function": "softmax_rows", "title": "row-softmax CUDA kernel", "marker": "ex_10_1_softmax_kernel",
         "status": "skipped", "points": 0.0, "max_points": 0.0, "detail": "no C++ compiler", "duration_s": 0.2,
         "tests": [check("test_f", "skipped", "no C++ compiler")]},
    ],
}


def test_gradescope_layout():
    out = json.loads(json.dumps(grade.gradescope(REPORT)))  # plain JSON all the way down
    assert out["score"] == 4.0
    assert [t["name"].split()[0] for t in out["tests"]] == ["01.1", "01.2", "10.1"]
    for t in out["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "status"}, t
        assert t["status"] in ("passed", "failed") and isinstance(t["output"], str)
    one, two, _ = out["tests"]
    assert (one["score"], one["max_score"], one["status"]) == (3.0, 3.0, "passed")
    assert (two["score"], two["max_score"], two["status"]) == (1.0, 6.0, "failed")
    assert "x test_d (2 pt)" in two["output"] and "EXPECTED: [4, 5]" in two["output"] and "x test_e (3 pt)" in two["output"]
    assert "test_c" not in two["output"], "only failed checks are listed"
    assert sum(t["score"] for t in out["tests"]) == out["score"]


def test_junit_layout():
    root = ET.fromstring(grade.junit_xml(REPORT))
    assert root.tag == "testsuites" and root.get("tests") == "6"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["01.1 get_pair_counts", "01.2 merge", "10.1 softmax_rows"]
    counts = {name: (s.get("tests"), s.get("failures"), s.get("skipped")) for name, s in suites.items()}
    assert counts == {"01.1 get_pair_counts": ("2", "0", "0"), "01.2 merge": ("3", "2", "0"), "10.1 softmax_rows": ("1", "0", "1")}
    failures = suites["01.2 merge"].findall("testcase/failure")
    assert [f.get("message") for f in failures] == ["property: no overlap", "AssertionError: <&> must be escaped"]
    assert failures[1].text == "AssertionError: <&> must be escaped"  # escaped on the way out, intact on the way back
    assert len(suites["10.1 softmax_rows"].findall("testcase/skipped")) == 1
    assert all(len(list(c)) == 0 for c in suites["01.1 get_pair_counts"].findall("testcase")), "a passed check has no child"


STUDENT = '''
from collections import Counter


def get_pair_counts(ids, counts=None):  # right: Counter over zip
    counts = {} if counts is None else counts
    for pair, n in Counter(zip(map(int, ids[:-1]), map(int, ids[1:]))).items():
        counts[pair] = counts.get(pair, 0) + n
    return counts


def merge(ids, pair, idx):  # wrong: replaces overlapping occurrences too
    return [idx if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair) else int(x) for i, x in enumerate(ids)]
'''


@pytest.mark.slow
def test_cli_writes_gradescope_json_and_junit_xml(tmp_path):
    (tmp_path / "student.py").write_text(STUDENT)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    results, xml = tmp_path / "out" / "results.json", tmp_path / "out" / "grade.xml"
    res = subprocess.run([sys.executable, "-m", "minigpt.cli", "grade", "--impl", "student", "--impl-path", str(tmp_path),
                          "--only", "01.1", "01.2", "--format", "gradescope", "--json", str(results), "--junitxml", str(xml)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert res.returncode == 1, f"points are missing: exit 1\n{res.stdout}\n{res.stderr}"
    out = json.loads(results.read_text())
    tests = {t["name"].split()[0]: t for t in out["tests"]}
    assert set(tests) == {"01.1", "01.2"}
    assert tests["01.1"]["status"] == "passed" and tests["01.1"]["score"] == tests["01.1"]["max_score"] > 0
    assert tests["01.2"]["status"] == "failed" and tests["01.2"]["score"] < tests["01.2"]["max_score"]
    assert out["score"] == tests["01.1"]["score"] + tests["01.2"]["score"]
    failed_in_json = tests["01.2"]["output"].count("\nx test_")
    root = ET.parse(xml).getroot()
    suites = {s.get("name").split()[0]: s for s in root.findall("testsuite")}
    assert int(suites["01.1"].get("failures")) == 0 and int(suites["01.2"].get("failures")) == failed_in_json > 0
    assert int(root.get("tests")) == sum(len(s.findall("testcase")) for s in suites.values()) == sum(int(s.get("tests")) for s in suites.values())
