r"""Where the course material lives: a source checkout, or the copy inside an installed wheel.

The course needs more than the `minigpt` package: the reference `solutions/`, the students'
`exercises/` template, the graded checks `tests/graded/` and the `notebooks/`. In a checkout (an
editable install included) they sit at the repository root. A wheel built from it (`pip install .`)
carries a copy of them as package data under `minigpt/_course/` (setup.py copies them at build time),
so `root()` finds them there:

    from minigpt import coursefiles
    coursefiles.root()               # .../minigpt-repo  or  .../site-packages/minigpt/_course
    coursefiles.path("tests/graded") # the graded checks
    coursefiles.copy_to("notebooks", "my-course/notebooks")   # a writable copy for a student
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent          # the repository root, when minigpt/ is a source checkout
INSTALLED = PACKAGE / "_course"    # the wheel's copy (see setup.py)
# what a wheel carries, relative to the repository root (setup.py and the tests read this)
SHIPPED = ("solutions", "exercises", "tests/graded", "notebooks")


def in_checkout() -> bool:
    """True when minigpt runs from a source checkout (solutions/ beside the package)."""
    return (CHECKOUT / "solutions" / "__init__.py").is_file() and (CHECKOUT / "pyproject.toml").is_file()


def root() -> Path:
    """The folder that holds solutions/, exercises/, tests/graded/ and notebooks/."""
    if in_checkout():
        return CHECKOUT
    if INSTALLED.is_dir():
        return INSTALLED
    raise FileNotFoundError(f"course files not found: neither a checkout at {CHECKOUT} nor a wheel copy at {INSTALLED}")


def path(name: str) -> Path:
    """One shipped folder, e.g. path("solutions"); raises if it is missing."""
    if name not in SHIPPED:
        raise ValueError(f"unknown course folder {name!r}; known: {', '.join(SHIPPED)}")
    found = root() / name
    if not found.is_dir():
        raise FileNotFoundError(f"course folder {name!r} missing at {found}")
    return found


def copy_to(name: str, dest: str | Path) -> bool:
    """Copy a shipped folder to dest (a student's writable copy); False, and nothing copied, if dest exists."""
    dest = Path(dest)
    if dest.exists():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(path(name), tmp, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    tmp.rename(dest)  # atomic: a half-copied folder never carries the final name
    return True


def make_importable() -> Path:
    """Let `import solutions` / `import exercises` find the course's packages: append root() to sys.path.

    Appended, not prepended: a student's own exercises/ (the working directory, MINIGPT_IMPL_PATH) wins.
    """
    folder = root()
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    return folder
