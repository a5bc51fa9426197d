"""Every course notebook is committed stripped and runs top to bottom in quick mode.

Each notebook runs in a fresh kernel with MINIGPT_QUICK=1 TQDM_DISABLE=1 MPLBACKEND=Agg, in its own
process bounded by NOTEBOOK_TIMEOUT seconds (the same as `python tools/notebooks.py run NB`). Also: every
notebook is stripped (nbstripout --keep-id) and holds the same cells as its jupytext-paired script.

    python -m pytest tests/test_notebooks.py -q
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOK_TIMEOUT = 600  # a hang guard: quick mode takes ~1–2 min per notebook on an idle 2-core machine
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NONE_YET = pytest.param(None, marks=pytest.mark.skip(reason="no notebooks/*.ipynb yet"), id="none")


def run_tool(*args, timeout):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(ROOT / "tools" / "notebooks.py"), *args], capture_output=True, text=True, env=env, timeout=timeout)


# -----------------------------------------------------------------------------
def nbstripout_verify(*paths):
    """`nbstripout --keep-id --verify PATHS`: exit 1 and name each notebook that stripping would change."""
    return subprocess.run([sys.executable, "-m", "nbstripout", "--keep-id", "--verify", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def test_notebooks_are_stripped():
    assert NOTEBOOKS, "no notebooks/*.ipynb found"
    res = nbstripout_verify(*NOTEBOOKS)
    assert res.returncode == 0, f"notebooks hold outputs: run nbstripout --keep-id notebooks/*.ipynb\n{res.stdout}{res.stderr}"


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


def test_stripped_check_catches_outputs_and_keeps_ids(tmp_path):
    path = tmp_path / "t.ipynb"
    nb = tiny_notebook()
    nb.cells[1].id = "stable-id"
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    nb.cells[1].execution_count = 3
    nb.cells[1].metadata["ExecuteTime"] = {"start": "now"}
    nbformat.write(nb, path)
    res = nbstripout_verify(path)
    assert res.returncode == 1 and "t.ipynb" in res.stdout + res.stderr
    assert subprocess.run([sys.executable, "-m", "nbstripout", "--keep-id", str(path)], timeout=120).returncode == 0
    assert nbstripout_verify(path).returncode == 0
    cleaned = nbformat.read(path, as_version=4)
    cell = cleaned.cells[1]
    assert cell.outputs == [] and cell.execution_count is None and "ExecuteTime" not in cell.metadata
    assert cell.source == nb.cells[1].source and cell.id == "stable-id"


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


# -----------------------------------------------------------------------------
# jupytext pairs (jupytext.toml): notebooks/NN_name.ipynb <-> tools/build_notebooks/NN_name.py
SCRIPTS_DIR = ROOT / "tools" / "build_notebooks"


def cells_of(nb):
    return [(c.cell_type, c.source) for c in nb.cells]


def test_every_notebook_has_its_script_and_back():
    scripts = {p.stem for p in SCRIPTS_DIR.glob("[0-9][0-9]_*.py")}
    notebooks = {p.stem for p in NOTEBOOKS}
    assert scripts and scripts == notebooks, (
        f"unpaired: notebooks without a script {sorted(notebooks - scripts)}, scripts without a notebook "
        f"{sorted(scripts - notebooks)}: run jupytext --sync on the one that exists")


@pytest.mark.parametrize("path", NOTEBOOKS or [NONE_YET], ids=lambda p: p.name if p else "none")
def test_notebook_is_in_sync_with_its_script(path):
    """The notebook and its py:percent script hold the same cells (types and sources), as jupytext reads them."""
    import jupytext
    script = SCRIPTS_DIR / (path.stem + ".py")
    if not script.exists():
        pytest.skip("unpaired (reported by test_every_notebook_has_its_script_and_back)")
    want = cells_of(jupytext.read(script, fmt="py:percent"))
    have = cells_of(nbformat.read(path, as_version=4))
    if have != want:
        first = next((i for i, (a, b) in enumerate(zip(have, want)) if a != b), min(len(have), len(want)))
        pytest.fail(f"{path.name} and {script.name} differ from cell {first} on ({len(have)} vs {len(want)} cells): "
                    f"after editing one, run jupytext --sync {path.relative_to(ROOT)}")


def test_sync_check_catches_a_stale_notebook(tmp_path):
    """The pair check can fail: a script edited without syncing no longer matches its notebook."""
    import jupytext
    script = sorted(SCRIPTS_DIR.glob("[0-9][0-9]_*.py"))[0]
    text = script.read_text(encoding="utf-8") + "\n# %%\nprint('a cell added to the script only')\n"
    edited = tmp_path / script.name
    edited.write_text(text, encoding="utf-8")
    notebook = nbformat.read(ROOT / "notebooks" / (script.stem + ".ipynb"), as_version=4)
    assert cells_of(jupytext.read(script, fmt="py:percent")) == cells_of(notebook)
    assert cells_of(jupytext.read(edited, fmt="py:percent")) != cells_of(notebook)
