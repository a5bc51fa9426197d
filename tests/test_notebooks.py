"""Every course notebook is committed stripped and runs top to bottom in quick mode.

Each notebook runs in a fresh kernel with MINIGPT_QUICK=1 TQDM_DISABLE=1 MPLBACKEND=Agg, in its own
process bounded by NOTEBOOK_TIMEOUT seconds (the same as `python tools/notebooks.py run NB`).

    python -m pytest tests/test_notebooks.py -q
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nbtool  # noqa: E402

NOTEBOOK_TIMEOUT = 600  # a hang guard: quick mode takes ~1–2 min per notebook on an idle 2-core machine
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NONE_YET = pytest.param(None, marks=pytest.mark.skip(reason="no notebooks/*.ipynb yet"), id="none")


def run_tool(*args, timeout):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(ROOT / "tools" / "notebooks.py"), *args], capture_output=True, text=True, env=env, timeout=timeout)


# -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS or [NONE_YET], ids=lambda p: p.name if p else "none")
def test_notebook_is_stripped(path):
    found = nbtool.problems(nbformat.read(path, as_version=4))
    assert not found, f"{path.name} is not stripped ({'; '.join(found[:3])}): run python tools/notebooks.py strip"


@pytest.mark.parametrize("path", NOTEBOOKS or [NONE_YET], ids=lambda p: p.name if p else "none")
def test_notebook_runs_in_quick_mode(path):
    try:
        res = run_tool("run", str(path), "--timeout", str(NOTEBOOK_TIMEOUT), timeout=NOTEBOOK_TIMEOUT + 60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name} did not finish within {NOTEBOOK_TIMEOUT} s in quick mode")
    assert res.returncode == 0, f"{path.name} failed in quick mode:\n{res.stdout[-6000:]}\n{res.stderr[-3000:]}"


# -----------------------------------------------------------------------------
# the tool itself, on a tiny notebook
def tiny_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tiny"),
        nbformat.v4.new_code_cell("import os\nassert os.environ['MINIGPT_QUICK'] == '1'\nfrom minigpt import course\nprint(course.impl_name())"),
    ]
    return nb


def test_strip_and_check(tmp_path):
    path = tmp_path / "t.ipynb"
    nb = tiny_notebook()
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    nb.cells[1].execution_count = 3
    nb.cells[1].metadata["ExecuteTime"] = {"start": "now"}
    nbformat.write(nb, path)
    assert nbtool.main(["strip", "--check", str(path)]) == 1
    assert nbtool.main(["strip", str(path)]) == 0
    assert nbtool.main(["strip", "--check", str(path)]) == 0
    cleaned = nbformat.read(path, as_version=4)
    assert cleaned.cells[1].outputs == [] and cleaned.cells[1].execution_count is None and cleaned.cells[1].source == nb.cells[1].source


def test_run_executes_in_quick_mode_and_reports_errors(tmp_path):
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(tiny_notebook(), good)
    broken = tiny_notebook()
    broken.cells.append(nbformat.v4.new_code_cell("raise ValueError('cell failed on purpose')"))
    nbformat.write(broken, bad)
    res = run_tool("run", str(good), str(bad), timeout=120)
    assert res.returncode == 1
    assert "good.ipynb: ok" in res.stdout, res.stdout + res.stderr
    assert "bad.ipynb: FAILED" in res.stdout and "cell failed on purpose" in res.stdout


def test_notebooks_match_their_build_scripts(tmp_path, monkeypatch):
    """Each notebooks/NN_*.ipynb built from tools/build_notebooks/NN_*.py is what the script builds now."""
    import importlib.util
    here = Path(__file__).resolve().parents[1] / "tools" / "build_notebooks"
    spec = importlib.util.spec_from_file_location("percent", here / "percent.py")
    percent = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(percent)
    scripts = sorted(p for p in here.glob("[0-9][0-9]_*.py"))
    assert scripts, "no notebook build scripts found"
    for src in scripts:
        out = tmp_path / (src.stem + ".ipynb")
        percent.build(src, out)
        committed = here.parents[1] / "notebooks" / out.name
        assert out.read_text() == committed.read_text(), (
            f"{committed.name} differs from its build script: run python tools/build_notebooks/percent.py")
