r"""Run course notebooks top to bottom in a fresh kernel, the way CI does (quick mode by default).

Notebooks must run top to bottom in a fresh kernel in quick mode (MINIGPT_QUICK=1) within a time
budget; tests/test_notebooks.py runs every one of them with this tool. The standard tools do the rest:

    python tools/notebooks.py run notebooks/05_pretraining.ipynb --timeout 180
    nbstripout --keep-id notebooks/*.ipynb        # strip outputs (commit notebooks stripped)
    jupytext --sync notebooks/*.ipynb             # keep each notebook and its tools/build_notebooks/ script in step
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
QUICK_ENV = {"MINIGPT_QUICK": "1", "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}


def notebooks(paths=None) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def run(path: Path, timeout: float = 180.0, quick: bool = True) -> float:
    """Execute a notebook top to bottom in a fresh kernel (outputs are not saved); returns seconds.

    Raises nbclient's CellExecutionError (with the failing cell's traceback) or TimeoutError.
    The whole notebook shares one `timeout` budget; the caller should also bound the process.
    """
    from nbclient import NotebookClient

    if quick:
        os.environ.update(QUICK_ENV)  # the kernel inherits this process's environment
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=int(timeout), kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if seconds > timeout:
        raise TimeoutError(f"{path.name} ran {seconds:.0f} s, over its {timeout:g} s budget")
    return seconds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute notebooks (default: all of notebooks/) in quick mode")
    r.add_argument("paths", nargs="*")
    r.add_argument("--timeout", type=float, default=180.0, help="seconds per notebook (default 180)")
    r.add_argument("--full", action="store_true", help="do not set MINIGPT_QUICK=1")
    args = ap.parse_args(argv)
    paths = notebooks(args.paths)
    if not paths:
        print("no notebooks found")
        return 0
    failed = 0
    for path in paths:
        try:
            print(f"{path.name}: ok in {run(path, args.timeout, quick=not args.full):.1f} s", flush=True)
        except Exception as err:  # report every notebook, then fail
            failed += 1
            print(f"{path.name}: FAILED\n{err}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
