"""The wheel a student installs: licence metadata, only the `minigpt` package, the course files as
package data, and the commands working outside a checkout (`python -m minigpt`, `--version`, `lab`).

The wheel is built once (pip wheel, no build isolation: the installed setuptools builds it) and unpacked
into a folder that stands in for site-packages; the commands then run from a folder outside the checkout.
A real `pip install .` into a fresh virtual environment is the slow test at the end.
"""
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from minigpt import coursefiles

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    (path,) = out.glob("minigpt-*.whl")
    return path


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory):
    """The wheel unpacked: what `pip install` would put into site-packages."""
    folder = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(folder)
    return folder


def run_installed(site, *args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MINIGPT_IMPL_PATH")}
    env["PYTHONPATH"] = str(site)  # the unpacked wheel, not the checkout
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


# -----------------------------------------------------------------------------
def test_pyproject_license_and_build_backend():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT" and meta["project"]["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in meta["build-system"]["requires"])


def test_extras_agree_on_cuda_and_never_pull_a_newer_torch():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(r.startswith("cupy-cuda12x[ctk]") for r in extras["gpu"])
    assert any(r.startswith("cupy-cuda13x[ctk]") for r in extras["gpu13"])
    nvrtc = [r for r in extras["dev"] if r.startswith("nvidia-cuda-nvrtc")]
    assert nvrtc == ["nvidia-cuda-nvrtc-cu12"], "dev's NVRTC must be CUDA 12, the major of the gpu extra"
    (torch,) = extras["torch"]
    from packaging.specifiers import SpecifierSet
    spec = SpecifierSet(torch.removeprefix("torch"))
    assert "2.13.0" in spec and "2.13.0+cpu" in spec  # what CI runs
    assert not any(v in spec for v in ("2.13.1", "2.14.0", "2.14.1", "2.15.0")), f"{torch} admits a newer torch"


def test_constraints_pin_every_requirement_and_ci_uses_them():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    assert pins["torch"] == "2.13.0"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(meta["dependencies"]) + [r for x in ("course", "dev", "site", "torch", "dist") for r in meta["optional-dependencies"][x]]
    import re
    for req in wanted:
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower().replace("_", "-")
        assert name == "minigpt" or name in pins, f"{name} is not pinned in constraints.txt: python tools/constraints.py"
    assert "-c constraints.txt" in (ROOT / ".ci" / "run").read_text()


def test_wheel_holds_minigpt_only_with_course_files_and_kernels(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"minigpt", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}, tops
    for name in coursefiles.SHIPPED:  # everything the checkout has there, but caches
        for f in (ROOT / name).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts and ".ipynb_checkpoints" not in f.parts:
                assert f"minigpt/_course/{f.relative_to(ROOT).as_posix()}" in names, f"{f.relative_to(ROOT)} not in the wheel"
    assert "minigpt/_course/solutions/ex10_softmax.cu" in names
    for cu in (ROOT / "minigpt" / "kernels").glob("*.cu"):
        assert f"minigpt/kernels/{cu.name}" in names
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta and any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_commands_run_from_the_installed_package(site, tmp_path):
    import minigpt
    res = run_installed(site, "-m", "minigpt", "--version", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == f"minigpt {minigpt.__version__}", res.stderr
    res = run_installed(site, "-c", "from minigpt import coursefiles; print(coursefiles.root())", cwd=tmp_path)
    assert res.returncode == 0 and Path(res.stdout.strip()) == site / "minigpt" / "_course", res.stdout + res.stderr
    res = run_installed(site, "-m", "minigpt", "lab", "--no-launch", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    work = tmp_path / "minigpt-course"
    assert sorted(p.name for p in (work / "notebooks").glob("*.ipynb")) == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert (work / "exercises" / "ex05_pretraining.py").read_text() == (ROOT / "exercises" / "ex05_pretraining.py").read_text()
    assert f"MINIGPT_IMPL_PATH {work}" in res.stdout  # the JupyterHub kernel line names the folder
    (work / "exercises" / "ex05_pretraining.py").write_text("# my work\n")
    assert run_installed(site, "-m", "minigpt", "lab", "--no-launch", cwd=tmp_path).returncode == 0
    assert (work / "exercises" / "ex05_pretraining.py").read_text() == "# my work\n", "lab overwrote a student's work"


def test_exercises_resolve_from_the_installed_package(site, tmp_path):
    """The notebooks' `course.<fn>` finds the shipped solutions, and a student's exercises/ beats the template."""
    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "from minigpt import course\n"
            "print(course.merge([1, 2, 3, 1, 2], (1, 2), 4), course.solution('merge').__module__)\n"
            "print(course.Implementation('exercises').resolve('merge').__module__, course.Implementation('exercises').resolve('merge')([1, 2], (1, 2), 9))")
    student = tmp_path / "student"
    (student / "exercises").mkdir(parents=True)
    (student / "exercises" / "__init__.py").write_text("")
    (student / "exercises" / "ex01_bpe.py").write_text("def merge(ids, pair, idx):\n    return ['mine']\n")
    env_code = f"import os; os.environ['MINIGPT_IMPL_PATH'] = {str(student)!r}\n" + code
    res = run_installed(site, "-c", env_code, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    first, second = res.stdout.splitlines()
    assert first == "['mine'] solutions.ex01_bpe", first  # course.merge: the student's; solution: the shipped reference
    assert second == "exercises.ex01_bpe ['mine']", second
    # no student folder: the shipped template's stub falls back to the reference
    res = run_installed(site, "-c", code.rsplit("\n", 1)[0], cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "[4, 3, 4] solutions.ex01_bpe", res.stdout + res.stderr[-2000:]


def test_version_and_python_m_in_the_checkout():
    import minigpt
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "minigpt.__version__"}
    for cmd in (["-m", "minigpt", "--version"], ["-m", "minigpt", "-V"]):
        res = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0 and res.stdout.strip() == f"minigpt {minigpt.__version__}"
    res = subprocess.run([sys.executable, "-m", "minigpt", "nope"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "unknown command" in res.stderr


def test_coursefiles_rejects_unknown_folders():
    with pytest.raises(ValueError, match="unknown course folder"):
        coursefiles.path("secrets")
    assert coursefiles.in_checkout() and coursefiles.root() == ROOT


# -----------------------------------------------------------------------------
@pytest.mark.slow
def test_pip_install_into_a_fresh_venv(tmp_path):
    """`pip install .` into a new virtual environment (no system packages), then the commands, outside the checkout."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    res = subprocess.run([str(py), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), f"{ROOT}[course]"],
                         capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MINIGPT_IMPL_PATH")}
    import minigpt
    res = subprocess.run([str(venv / "bin" / "minigpt"), "--version"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert res.stdout.strip() == f"minigpt {minigpt.__version__}", res.stderr
    res = subprocess.run([str(py), "-m", "minigpt", "pipeline", "--quick", "--out-dir", str(tmp_path / "run")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


@pytest.mark.slow
def test_grade_from_the_installed_wheel(wheel, tmp_path):
    """The wheel installed (--no-deps; --ignore-installed, as the checkout's editable install is visible) into a
    fresh venv that sees this interpreter's packages, run outside the checkout: `minigpt grade --impl solutions`
    finds the wheel's graded checks and solutions and gives full marks."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    res = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", str(wheel)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MINIGPT_IMPL", "MINIGPT_IMPL_PATH")}
    where = subprocess.run([str(py), "-c", "import minigpt; print(minigpt.__file__)"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), f"the venv must import its own minigpt, not the checkout's: {where.stdout}{where.stderr}"
    report_path = tmp_path / "report.json"
    res = subprocess.run([str(venv / "bin" / "minigpt"), "grade", "--impl", "solutions", "--json", str(report_path)],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=1500)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = json.loads(report_path.read_text())
    from minigpt import course
    assert report["full_score"] and report["score"] == report["max_score"] > 100
    assert [r["id"] for r in report["exercises"]] == [ex.id for ex in course.EXERCISES]
