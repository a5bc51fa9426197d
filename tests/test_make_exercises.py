"""tools/make_exercises.py beyond generation: the registry blocks, --new (scaffold) and --release (no solutions/).

    python -m pytest tests/test_make_exercises.py -q
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402


def test_registry_generates_markers_docs_table_and_students_readme():
    from minigpt import course

    assert make_exercises.registry_drift() == [], "run python tools/make_exercises.py"
    block = make_exercises.markers_block()
    table = make_exercises.docs_table()
    readme = (ROOT / "exercises" / "README.md").read_text()
    for ex in course.EXERCISES:
        assert f'"{ex.marker}: graded checks of exercise {ex.id} ({ex.function})",' in block
        assert f"| {ex.id} | `{ex.function}` |" in table and f"| {ex.id} | `{ex.function}` |" in readme
    assert readme != (ROOT / "solutions" / "README.md").read_text(), "exercises/README.md must be the students' own"
    assert "your code goes here" in readme and "reference implementations" in (ROOT / "solutions" / "README.md").read_text()


def test_new_scaffolds_solution_registry_checks_and_mutant(tmp_path):
    for part in ("minigpt/course.py", "solutions", "tests/graded", "tools/build_notebooks"):
        src, dst = ROOT / part, tmp_path / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__")) if src.is_dir() else shutil.copy(src, dst))
    created = make_exercises.scaffold("12.1", "shard_sizes", root=tmp_path)  # notebook 12 has no exercise yet
    names = sorted(p.relative_to(tmp_path).as_posix() for p in created)
    assert names == ["minigpt/course.py", "solutions/ex12_data_parallel.py", "tests/graded/mutants/ex12_1_todo_bug.py",
                     "tests/graded/test_graded_12_1_shard_sizes.py"], "the new module is named after notebook 12_data_parallel"
    registry = (tmp_path / "minigpt/course.py").read_text()
    line = 'Exercise("12.1", "ex12_data_parallel", "shard_sizes", "ex_12_1_shard_sizes",'
    assert line in registry and registry.index('Exercise("10.1"') < registry.index(line)
    stub = make_exercises.stub_python((tmp_path / "solutions/ex12_data_parallel.py").read_text(), "ex12.py")
    assert 'raise NotImplementedError("exercise 12.1: shard_sizes() is not written yet' in stub
    checks = (tmp_path / "tests/graded/test_graded_12_1_shard_sizes.py").read_text()
    assert "pytestmark = pytest.mark.ex_12_1_shard_sizes" in checks
    compile(checks, "checks", "exec")
    with pytest.raises(make_exercises.ExerciseError, match="already registered"):
        make_exercises.scaffold("12.1", "other", root=tmp_path)
    created = make_exercises.scaffold("03.9", "another_attention", root=tmp_path)  # notebook 03 has ex03_attention.py
    assert tmp_path / "solutions/ex03_attention.py" in created


def test_release_has_no_solutions_and_grades_as_not_attempted(tmp_path):
    dest = tmp_path / "course"
    copied = make_exercises.release(dest)
    assert not (dest / "solutions").exists() and not (dest / "tests/graded/mutants").exists()
    assert "exercises/ex05_pretraining.py" in copied and (dest / "tests/graded/SHA256SUMS").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MINIGPT_"))}
    env["PYTHONPATH"] = str(dest)
    res = subprocess.run([sys.executable, "-m", "minigpt", "grade", "--only", "01.2"], capture_output=True, text=True,
                         cwd=dest, env=env, timeout=300)
    assert res.returncode == 1 and "not attempted" in res.stdout, res.stdout + res.stderr
    import site  # -S: no site hooks, so an editable install of the checkout cannot lend its solutions/
    env["PYTHONPATH"] = os.pathsep.join([str(dest), *site.getsitepackages()])
    res = subprocess.run([sys.executable, "-S", "-c", "from minigpt import course; course.merge([1, 2], (1, 2), 3)"],
                         capture_output=True, text=True, cwd=dest, env=env, timeout=120)
    assert res.returncode != 0 and "no reference solutions to fall back on" in res.stderr, res.stderr
