"""`minigpt lab`: open the course notebooks in JupyterLab.

    minigpt lab              # same as: jupyter lab notebooks/
    minigpt lab --print      # only print the command
"""
import os
import shutil
import subprocess
import sys


def notebooks_dir():
    """notebooks/ of this checkout (the package is installed editable from it)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")


def add_cli_args(p):
    p.add_argument("--print", dest="dry_run", action="store_true", help="print the command instead of running it")


def cli_main(args):
    nb = notebooks_dir()
    if not os.path.isdir(nb):
        print(f"minigpt lab: no notebooks/ folder at {nb} (is this a clone of the course repository?)", file=sys.stderr)
        return 2
    cmd = [sys.executable, "-m", "jupyterlab", nb]
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    if shutil.which("jupyter") is None and not _has_jupyterlab():
        print("minigpt lab: JupyterLab is not installed; run: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    return subprocess.call(cmd)


def _has_jupyterlab():
    import importlib.util
    return importlib.util.find_spec("jupyterlab") is not None
