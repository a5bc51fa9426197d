"""Tests of the course layer: exercise generation, the registry, and minigpt.course's fallback.

    python -m pytest tests/test_course.py -q
"""
import ast
import importlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from minigpt import course

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402


# -----------------------------------------------------------------------------
# tools/make_exercises.py
def test_exercises_in_sync_with_solutions():
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"], capture_output=True, text=True)
    assert res.returncode == 0, f"exercises/ drifted from solutions/; run python tools/make_exercises.py\n{res.stdout}{res.stderr}"


def test_stub_keeps_signature_docstring_and_markers():
    src = '''import numpy as np


def f(x, k=2):
    r"""Exercise 99.1: double x.

    Example: f(1) -> 2
    """
    y = x  # given setup stays
    ### BEGIN SOLUTION
    out = y * k
    return out
    ### END SOLUTION
'''
    out = make_exercises.stub_python(src, "test.py")
    assert "def f(x, k=2):" in out and "Example: f(1) -> 2" in out and "y = x  # given setup stays" in out
    assert "out = y * k" not in out, "the solution body must be removed"
    assert out.count("### BEGIN SOLUTION") == 1 and out.count("### END SOLUTION") == 1, "markers stay so students see where to write"
    namespace = {}
    exec(compile(out, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^exercise 99\.1: f\(\)"):
        namespace["f"](1)


@pytest.mark.parametrize("src, problem", [
    ('def f():\n    """Exercise 1.1"""\n    ### BEGIN SOLUTION\n    return 1\n', "never closed"),
    ('def f():\n    """Exercise 01.1"""\n    return 1\n    ### END SOLUTION\n', "without a matching"),
    ('def f():\n    """No id here."""\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n', "names no 'Exercise NN.M'"),
    ('### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n', "inside a function"),
])
def test_malformed_solutions_are_rejected(src, problem):
    with pytest.raises(make_exercises.ExerciseError, match=re.escape(problem)):
        make_exercises.stub_python(src, "bad.py")


def test_cuda_blocks_become_sentinel_comments():
    src = "// Exercise 10.1: softmax\n__global__ void k(float* y) {\n    int i = 0;\n    // ### BEGIN SOLUTION\n    y[i] = 1.0f;\n    // ### END SOLUTION\n}\n"
    out = make_exercises.stub_cuda(src, "k.cu")
    assert "y[i] = 1.0f" not in out and make_exercises.SENTINEL in out and "exercise 10.1" in out
    assert "int i = 0;" in out and out.count("// ### BEGIN SOLUTION") == 1


def test_check_reports_drift_and_generate_repairs_it(tmp_path):
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    (sol / "__init__.py").write_text('"""pkg"""\n')
    (sol / "ex99.py").write_text('def f():\n    """Exercise 99.1: one."""\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n')
    assert make_exercises.drift(sol, ex) == ["missing: exercises/__init__.py", "missing: exercises/ex99.py", "missing: exercises/README.md"]
    make_exercises.generate(sol, ex)
    assert make_exercises.drift(sol, ex) == []
    (ex / "ex99.py").write_text("edited\n")
    (ex / "stray.py").write_text("x = 1\n")
    assert make_exercises.drift(sol, ex) == ["out of date: exercises/ex99.py", "not generated from solutions/: exercises/stray.py"]
    assert make_exercises.main(["--check", "--solutions", str(sol), "--exercises", str(ex)]) == 1
    make_exercises.generate(sol, ex)
    assert make_exercises.drift(sol, ex) == [] and not (ex / "stray.py").exists()


# -----------------------------------------------------------------------------
# the registry
def test_registry_matches_solutions_markers_and_checks(pytestconfig):
    markers = pytestconfig.getini("markers")
    registered = {m.split(":")[0].strip() for m in markers}
    graded = "".join(p.read_text() for p in (ROOT / "tests" / "graded").glob("test_*.py"))
    assert len({ex.id for ex in course.EXERCISES}) == len(course.EXERCISES) and len(course.BY_FUNCTION) == len(course.EXERCISES)
    for ex in course.EXERCISES:
        assert ex.marker in registered, f"marker {ex.marker} is not registered in pyproject.toml"
        assert f"pytest.mark.{ex.marker}" in graded, f"no graded checks carry the marker {ex.marker}"
        assert ex.marker.startswith(f"ex_{ex.id.replace('.', '_')}_"), f"marker {ex.marker} must start with ex_{ex.id.replace('.', '_')}_"
        fn = course.solution(ex.function)
        assert f"Exercise {ex.id}:" in (fn.__doc__ or ""), f"the docstring of solutions.{ex.module}.{ex.function} must start with 'Exercise {ex.id}:'"


def test_every_solution_block_belongs_to_a_registered_exercise():
    ids = set()
    for path in (ROOT / "solutions").glob("*.py"):
        tree = ast.parse(path.read_text())
        for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            doc = ast.get_docstring(fn) or ""
            if doc.startswith("Exercise "):
                ids.add(doc.split(":")[0].removeprefix("Exercise "))
    assert ids <= set(course.BY_ID), f"exercise ids in solutions/ without a registry entry: {ids - set(course.BY_ID)}"


# -----------------------------------------------------------------------------
# minigpt.course
def test_unknown_function_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no exercise function"):
        course.not_an_exercise
    assert "merge" in dir(course)


def test_strict_implementation_has_no_fallback(monkeypatch):
    monkeypatch.delenv("MINIGPT_IMPL_PATH", raising=False)
    with pytest.raises(NotImplementedError, match=r"^exercise 01\.2"):
        course.Implementation("exercises").merge([1, 2], (1, 2), 3)
    assert course.Implementation("solutions").merge([1, 2], (1, 2), 3) == [3]


def test_fallback_to_solution_warns_once(monkeypatch):
    monkeypatch.setenv("MINIGPT_IMPL", "exercises")
    monkeypatch.setattr(course, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert course.merge([1, 2, 3, 1, 2], (1, 2), 4) == [4, 3, 4]
        assert course.merge([5, 5, 5], (5, 5), 9) == [9, 5]
    msgs = [str(w.message) for w in caught if issubclass(w.category, course.ExerciseNotDoneWarning)]
    assert len(msgs) == 1, f"warn once per function, got {msgs}"
    assert "exercise 01.2 (merge) is not done yet" in msgs[0] and "exercises/ex01_bpe.py" in msgs[0]


def test_student_code_is_used_when_written(monkeypatch, tmp_path):
    pkg = tmp_path / "student_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ex01_bpe.py").write_text("def merge(ids, pair, idx):\n    return ['student']\n")
    (pkg / "ex02_autograd.py").write_text("def softmax_backward(y, dy, axis=-1):\n    raise ValueError('a real bug')\n")
    monkeypatch.setenv("MINIGPT_IMPL", "student_pkg")
    monkeypatch.setenv("MINIGPT_IMPL_PATH", str(tmp_path))
    monkeypatch.setattr(course, "_warned", set())
    assert course.merge([1, 2], (1, 2), 3) == ["student"]
    with pytest.raises(ValueError, match="a real bug"):  # only the stub's NotImplementedError falls back
        course.softmax_backward(np.ones(2) / 2, np.ones(2))
    with pytest.warns(course.ExerciseNotDoneWarning, match=r"could not be loaded"):  # no ex05 module in the package
        loss, _ = course.cross_entropy(np.zeros((1, 2)), np.array([0]))
    assert loss == pytest.approx(np.log(2))
    sys.modules.pop("student_pkg", None)
    sys.modules.pop("student_pkg.ex01_bpe", None)
    sys.modules.pop("student_pkg.ex02_autograd", None)


def test_check_reports_a_disagreement_once_and_continues_with_the_reference(monkeypatch, tmp_path, capsys):
    pkg = tmp_path / "wrong_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ex01_bpe.py").write_text("def merge(ids, pair, idx):\n    ids.append(99)\n    return ids[:1]\n\n"
                                     "def get_pair_counts(ids, counts=None):\n    raise KeyError('oops')\n")
    monkeypatch.setenv("MINIGPT_IMPL", "wrong_pkg")
    monkeypatch.setenv("MINIGPT_IMPL_PATH", str(tmp_path))
    monkeypatch.setattr(course, "_warned", set())
    monkeypatch.setattr(course, "_disagreed", set())
    ids = [1, 2, 3, 1, 2]
    assert course.check("merge", ids, (1, 2), idx=4) == [4, 3, 4]  # the reference's answer
    assert ids == [1, 2, 3, 1, 2], "the student's code runs on a copy of the arguments"
    out = capsys.readouterr().out
    assert "exercise 01.2 (merge, exercises/ex01_bpe.py) disagrees with the reference" in out
    assert "ids=[1, 2, 3, 1, 2], pair=(1, 2), idx=4" in out and "yours:        [1]" in out and "[4, 3, 4]" in out
    assert "minigpt grade --only 01.2 --verbose" in out and "continues with the reference" in out
    course.check("merge", [5, 5], (5, 5), 7)
    assert capsys.readouterr().out == "", "one message per exercise"
    assert course.check("get_pair_counts", [1, 1]) == {(1, 1): 1}
    out = capsys.readouterr().out
    assert "exercise 01.1 (get_pair_counts" in out and "yours:        raised KeyError: 'oops'" in out
    for name in ("wrong_pkg", "wrong_pkg.ex01_bpe"):
        sys.modules.pop(name, None)


def test_check_is_silent_when_the_answers_agree_and_falls_back_on_a_stub(monkeypatch, capsys):
    monkeypatch.setenv("MINIGPT_IMPL", "exercises")
    monkeypatch.setattr(course, "_warned", set())
    monkeypatch.setattr(course, "_disagreed", set())
    with pytest.warns(course.ExerciseNotDoneWarning, match=r"exercise 01\.2 \(merge\) is not done yet"):
        assert course.check("merge", [1, 2, 3], (1, 2), 4) == [4, 3]
    monkeypatch.setenv("MINIGPT_IMPL", "solutions")
    y = np.array([0.25, 0.75])
    assert np.allclose(course.check("softmax_backward", y, np.ones(2)), 0.0)
    assert capsys.readouterr().out == ""


def test_agree_compares_structure_shape_and_tolerance():
    assert course.agree((np.ones(2), 1.0), (np.ones(2) + 1e-12, 1.0))
    assert not course.agree((np.ones(2), 1.0), (np.ones(3), 1.0)), "shapes differ"
    assert not course.agree(np.ones(2), np.ones((1, 2))), "shapes differ"
    assert not course.agree([1.0, np.nan], [1.0, 2.0]) and course.agree([1.0, np.nan], [1.0, np.nan])
    assert not course.agree(1.0, 1.0 + 1e-4) and course.agree(1.0, 1.0 + 1e-4, rtol=1e-3)
    assert not course.agree("ab", ("a", "b")) and not course.agree({"a": 1}, {"a": 1, "b": 2})
    assert not course.agree("not a number", 1.0)


def test_solutions_impl_calls_the_reference_directly(monkeypatch):
    monkeypatch.setenv("MINIGPT_IMPL", "solutions")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert course.get_pair_counts([1, 1, 1]) == {(1, 1): 2}
    assert course.get_pair_counts.__doc__ == importlib.import_module("solutions.ex01_bpe").get_pair_counts.__doc__


def test_course_docs_list_every_exercise():
    doc = (ROOT / "docs" / "course.md").read_text()
    assert "## For students" in doc and "## For instructors" in doc
    for ex in course.EXERCISES:
        assert f"| {ex.id} | `{ex.function}` |" in doc and ex.marker in doc, f"docs/course.md does not list exercise {ex.id}"


def test_every_exercise_is_called_from_its_notebook():
    """Each exercise's notebook script calls `course.<function>(` or `course.check("<function>"`."""
    missing = []
    for ex in course.EXERCISES:
        text = "".join(p.read_text() for p in (ROOT / "tools" / "build_notebooks").glob(f"{ex.id[:2]}_*.py"))
        if not re.search(rf'course\.{ex.function}\(|course\.check\(\s*"{ex.function}"', text):
            missing.append(ex.id)
    assert not missing, f"exercises their notebook never calls: {missing}"


# engine code that is the answer to an exercise (issue 23 item 4: no notebook prints it)
ANSWERS = {"Mul": "02.1", "MatMul": "02.2", "Linear": "02.2", "Softmax": "02.3", "_AlongAxis": "02.3",
           "LayerNorm": "02.4", "FlashAttention": "03.2", "attention": "03.1", "CrossEntropy": "05.1",
           "AdamW": "05.2", "filter_logits": "05.3", "gae": "08.1", "ppo_clip_loss": "08.2", "solutions": "any"}


def test_no_notebook_prints_the_source_of_an_exercise_answer():
    """`inspect.getsource(...)` in a notebook script never names engine code that answers an exercise."""
    printed = []
    for script in sorted((ROOT / "tools" / "build_notebooks").glob("[0-9][0-9]_*.py")):
        for arg in re.findall(r"getsource\(([^)]*)\)", script.read_text()):
            names = set(re.findall(r"\w+", arg))
            printed += [f"{script.name}: getsource({arg}) is exercise {ANSWERS[n]}" for n in names & ANSWERS.keys()]
    assert not printed, "; ".join(printed)
