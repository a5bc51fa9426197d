"""The ways into the course besides a clone: Colab (badge + install cell), Binder (.binder/), conda
(environment.yml) and a JupyterHub (README). Each notebook starts with the same two generated cells."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import onramps  # noqa: E402

CONDA_NAMES = {"matplotlib": "matplotlib-base"}  # conda-forge's name for matplotlib without a GUI toolkit


def requirement_names(reqs):
    return {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in reqs}


def conda_names(path):
    names = set()
    for line in path.read_text().splitlines():
        m = re.match(r"\s+- ([A-Za-z0-9_.-]+)", line)
        if m and m.group(1) != "pip:":
            names.add(m.group(1).lower())
    return names


def test_every_notebook_starts_with_the_onramp_cells():
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "onramps.py"), "--check"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_onramp_check_catches_a_notebook_without_them(tmp_path):
    stem = "00_overview"
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    markdown, code = onramps.cells(stem)
    assert onramps.has_onramp([c.source for c in nb.cells]) and [c.source for c in nb.cells[:2]] == [markdown, code]
    nb.cells = nb.cells[2:]
    assert not onramps.has_onramp([c.source for c in nb.cells])
    again = onramps.update_notebook(nb, stem, markdown, code)
    assert [c.source for c in again.cells[:2]] == [markdown, code] and again.cells[0].id == "00-onramp-badges"
    script = tmp_path / f"{stem}.py"
    script.write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n")
    once = onramps.update_script(script, markdown, code)
    script.write_text(once)
    assert onramps.update_script(script, markdown, code) == once, "rewriting must replace the block, not stack a second one"


def test_badges_point_at_the_repository_and_this_notebook():
    repo = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"].removeprefix("https://github.com/")
    markdown, code = onramps.cells("05_pretraining")
    assert f"colab.research.google.com/github/{repo}/blob/main/notebooks/05_pretraining.ipynb" in markdown
    assert f"mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/notebooks/05_pretraining.ipynb" in markdown
    assert f"minigpt @ git+https://github.com/{repo}" in code


def test_readme_install_urls_name_the_same_repository():
    """The README's `git+https://github.com/...` installs name pyproject's Repository, like the badges."""
    import re
    repo = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"].removeprefix("https://github.com/")
    named = set(re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", (ROOT / "README.md").read_text()))
    assert named == {repo}, f"README installs from {sorted(named)}, pyproject's Repository is {repo}"


@pytest.mark.parametrize("on_colab", [False, True])
def test_install_cell_runs_pip_only_on_colab(monkeypatch, on_colab):
    _, code = onramps.cells("00_overview")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(code, "<onramp cell>", "exec"), {})
    if not on_colab:
        assert calls == []
    else:
        (cmd, kw), = calls
        assert cmd[:5] == [sys.executable, "-m", "pip", "install", "-q"] and cmd[5].startswith("minigpt @ git+https://github.com/")
        assert kw == {"check": True}


def test_binder_and_conda_environments_list_the_dependencies():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    course = requirement_names(meta["dependencies"] + extras["course"])
    dev = requirement_names([r for r in extras["dev"] if not r.startswith("minigpt[")])
    binder = conda_names(ROOT / ".binder" / "environment.yml")
    conda = conda_names(ROOT / "environment.yml")
    for name in course:
        assert CONDA_NAMES.get(name, name) in binder, f"{name} missing from .binder/environment.yml"
        assert CONDA_NAMES.get(name, name) in conda, f"{name} missing from environment.yml"
    for name in dev:
        assert CONDA_NAMES.get(name, name) in conda, f"{name} missing from environment.yml"
    assert not any("torch" in n or "cupy" in n or "nvidia" in n for n in binder), "Binder is CPU-only and torch-free"
    for path in (ROOT / ".binder" / "environment.yml", ROOT / "environment.yml"):
        assert "-e " not in path.read_text().split("dependencies:")[1], f"{path.name}: repo2docker/conda install it before the source is there"
    post = (ROOT / ".binder" / "postBuild").read_text()
    assert post.startswith("#!") and "pip install --no-deps -e ." in post
    assert (ROOT / ".binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_readme_says_how_to_use_a_jupyterhub():
    readme = (ROOT / "README.md").read_text()
    assert "python -m ipykernel install --user --name minigpt" in readme
