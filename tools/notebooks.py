r"""Keep the course notebooks clean and runnable: strip outputs, check they are stripped, run them.

Notebooks are committed without outputs (small diffs, no stale numbers) and must run top to bottom
in a fresh kernel in quick mode (MINIGPT_QUICK=1) within a time budget; CI runs every one of them.

    python tools/notebooks.py strip                      # strip notebooks/*.ipynb in place
    python tools/notebooks.py strip --check              # exit 1 if any notebook holds outputs
    python tools/notebooks.py run notebooks/05_pretraining.ipynb --timeout 180
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
QUICK_ENV = {"MINIGPT_QUICK": "1", "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}
VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled")


# -----------------------------------------------------------------------------
# stripping
def notebooks(paths=None) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def problems(nb) -> list[str]:
    """Why a notebook is not stripped (empty list: it is)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            found.append(f"cell {i} has outputs or an execution count")
        if any(k in cell.get("metadata", {}) for k in VOLATILE_CELL_KEYS):
            found.append(f"cell {i} has volatile metadata")
    if "widgets" in nb.metadata:
        found.append("notebook metadata holds widget state")
    return found


def strip(nb):
    """Remove outputs, execution counts and volatile metadata, in place; returns nb."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in VOLATILE_CELL_KEYS:
            cell.get("metadata", {}).pop(key, None)
    nb.metadata.pop("widgets", None)
    return nb


def write_atomic(nb, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, path)


# -----------------------------------------------------------------------------
# running
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


# -----------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("strip", help="strip outputs (in place), or --check that they are stripped")
    s.add_argument("paths", nargs="*")
    s.add_argument("--check", action="store_true")
    r = sub.add_parser("run", help="execute notebooks in quick mode")
    r.add_argument("paths", nargs="*")
    r.add_argument("--timeout", type=float, default=180.0, help="seconds per notebook (default 180)")
    r.add_argument("--full", action="store_true", help="do not set MINIGPT_QUICK=1")
    args = ap.parse_args(argv)
    paths = notebooks(args.paths)
    if not paths:
        print("no notebooks found")
        return 0
    if args.cmd == "strip":
        bad = 0
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            found = problems(nb)
            if found and args.check:
                bad += 1
                print(f"{path}: not stripped ({'; '.join(found[:3])}); run python tools/notebooks.py strip")
            elif found:
                write_atomic(strip(nb), path)
                print(f"stripped {path}")
        return 1 if bad else 0
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
