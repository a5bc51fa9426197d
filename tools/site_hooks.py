"""mkdocs hooks for the course site (mkdocs.yml): run the notebooks' kernels in quick mode.

Loaded by `mkdocs build`/`serve` before any page is rendered; the Jupyter kernels that mkdocs-jupyter
starts inherit this environment. Values already set (e.g. MINIGPT_QUICK=0 for the full runs) win, except the
matplotlib backend: the pages need the inline one.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def on_startup(command, dirty, **kwargs):
    os.environ.setdefault("MINIGPT_QUICK", "1")    # the quick versions CI runs (minutes, not hours)
    os.environ.setdefault("TQDM_DISABLE", "1")     # no progress bars in the pages
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures into the page (CI's Agg would hide them)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(ROOT) not in paths:                     # this checkout's minigpt, even without an install
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + paths)
