r"""Measured figures for the course notebooks: what a full run printed, kept so the prose can quote it.

A notebook's markdown never types a measured number by hand. It either points at the number its own
cell prints, or quotes a figure saved from a full-size run, which its cells print next to this run's
("this run / full run", as notebook 09 does with benchmarks/results/beyond.json). The figures of the
notebooks' full runs live in benchmarks/results/notebooks.json, one section per notebook:

    FULL = figures.full_run("06_sft")                       # {} when no full run was recorded
    figures.record("06_sft", {"per_task": {...}})           # saves only in a full run with MINIGPT_RECORD=1

tests/test_quoted_figures.py scans every notebook's markdown for figures and checks each one against
these files within a stated tolerance, so the text cannot drift from the data.

    MINIGPT_RECORD=1 python tools/notebooks.py run --full notebooks/06_sft.ipynb   # refresh 06's figures
"""
import datetime
import json
import os
import platform
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
NOTEBOOKS_FILE = RESULTS_DIR / "notebooks.json"


def load(name="notebooks.json"):
    """A results file of benchmarks/results as a dict ({} if it is missing, e.g. in an installed package)."""
    path = RESULTS_DIR / name
    return json.loads(path.read_text()) if path.exists() else {}


def full_run(notebook):
    """The figures a full run of `notebook` (e.g. "06_sft") recorded, or {}."""
    return load().get(notebook, {}).get("figures", {})


def quick():
    return os.environ.get("MINIGPT_QUICK") == "1"


def record(notebook, figures, note=""):
    """Save `figures` (JSON-able) as the full-run figures of `notebook`, merged into what is there.

    Does nothing in quick mode or without MINIGPT_RECORD=1, so running a notebook never rewrites the
    project's results by accident. Returns True if it wrote.
    """
    if quick() or os.environ.get("MINIGPT_RECORD") != "1":
        return False
    data = load()
    entry = data.setdefault(notebook, {"figures": {}})
    entry["figures"].update(json.loads(json.dumps(figures, default=float)))
    entry["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "loadavg": [round(x, 2) for x in os.getloadavg()], "note": note or entry.get("machine", {}).get("note", "")}
    entry["date"] = datetime.date.today().isoformat()
    tmp = NOTEBOOKS_FILE.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, NOTEBOOKS_FILE)
    return True
