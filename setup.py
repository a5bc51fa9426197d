"""Build hook: put the course material into the wheel (everything else is in pyproject.toml).

The wheel carries the `minigpt` package only (no top-level `solutions`/`exercises` packages). The
reference solutions, the exercise templates, the graded checks and the notebooks go in as package
data under `minigpt/_course/`, so that `minigpt grade`, `minigpt lab` and the notebooks' exercise
fallback work from an installed package (`minigpt.coursefiles` finds them). Editable installs
skip the copy: they read the checkout itself.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("solutions", "exercises", "tests/graded", "notebooks")  # = minigpt.coursefiles.SHIPPED
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache")


class BuildWithCourse(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            src = ROOT / name
            if not src.is_dir():
                raise FileNotFoundError(f"{src} is missing: the wheel would lack the course's {name}/")
            dest = Path(self.build_lib) / "minigpt" / "_course" / name
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithCourse})
