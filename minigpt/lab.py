"""`minigpt lab`: open the course notebooks in JupyterLab.

In a clone of the course repository it opens the clone's notebooks/. From an installed package
(`pip install minigpt...`) it first makes a working folder (default ./minigpt-course) holding a
copy of the notebooks and of the exercise templates — never overwriting what is already there, so
your work is safe — and opens that; your exercises/ there is what the notebooks and `minigpt grade`
use (MINIGPT_IMPL_PATH points at the folder).

    minigpt lab                       # clone: jupyter lab notebooks/ ; installed: ./minigpt-course
    minigpt lab --dir ~/course        # installed: another working folder
    minigpt lab --no-launch           # only make the working folder (e.g. on a JupyterHub)
    minigpt lab --print               # only print the command
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from minigpt import coursefiles

DEFAULT_DIR = "minigpt-course"


def notebooks_dir():
    """notebooks/ of this checkout, or None when minigpt is an installed package."""
    return str(coursefiles.CHECKOUT / "notebooks") if coursefiles.in_checkout() else None


def make_workspace(folder) -> list[str]:
    """Copy the shipped notebooks/ and exercises/ into folder (each only if absent); returns what was copied."""
    folder = Path(folder)
    return [name for name in ("notebooks", "exercises") if coursefiles.copy_to(name, folder / name)]


def add_cli_args(p):
    p.add_argument("--dir", default=None, help=f"working folder of an installed package (default ./{DEFAULT_DIR}); "
                   "notebooks/ and exercises/ are copied there once")
    p.add_argument("--no-launch", action="store_true", help="only make the working folder, do not start JupyterLab")
    p.add_argument("--print", dest="dry_run", action="store_true", help="print the command instead of running it")


def cli_main(args):
    env = dict(os.environ)
    nb = notebooks_dir()
    if nb is None or args.dir:
        folder = Path(args.dir or DEFAULT_DIR).resolve()
        if args.dry_run:
            print(f"# would copy notebooks/ and exercises/ into {folder} (those absent)")
        else:
            copied = make_workspace(folder)
            print(f"minigpt lab: working folder {folder}" + (f" (copied {', '.join(copied)})" if copied else ""))
        nb = str(folder / "notebooks")
        env["MINIGPT_IMPL_PATH"] = str(folder)  # the kernels import the student's exercises/ from here
    cmd = [sys.executable, "-m", "jupyterlab", nb]
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    if args.no_launch:
        print(f"open {nb} in Jupyter" + (f"; kernels need MINIGPT_IMPL_PATH={env['MINIGPT_IMPL_PATH']} to find your exercises "
              f"(python -m ipykernel install --user --name minigpt --env MINIGPT_IMPL_PATH {env['MINIGPT_IMPL_PATH']})"
              if "MINIGPT_IMPL_PATH" in env else ""))
        return 0
    if not _has_jupyterlab():
        print("minigpt lab: JupyterLab is not installed; run: pip install jupyterlab", file=sys.stderr)
        return 2
    return subprocess.call(cmd, env=env)


def _has_jupyterlab():
    import importlib.util
    return shutil.which("jupyter-lab") is not None or importlib.util.find_spec("jupyterlab") is not None
