r"""Write constraints.txt: the exact versions CI tests, for CI and for a term's students.

Resolves the CI install (`.[dev,torch,dist]`) with pip's resolver (a dry run that installs nothing),
then pins every package of that set to the version installed in this environment — the versions the
test suite just passed with — or, for a package not installed here, to the version pip resolved.

    python tools/constraints.py                 # rewrite constraints.txt (run the suite first)
    pip install -c constraints.txt -e ".[dev,torch,dist]"    # what .ci/run does

torch is pinned to 2.13.0 (a CPU build on CI; `pip install torch==2.13.0` with the CPU index elsewhere).
"""
from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = "dev,torch,dist"  # dev includes course and site
HEADER = """\
# Exact versions the CI suite passed with: `pip install -c constraints.txt -e ".[{extras}]"` (.ci/run).
# Regenerate with `python tools/constraints.py` after a green suite. A constraint installs nothing by itself.
# torch: 2.13.0 is a CPU build on CI; elsewhere add `--extra-index-url https://download.pytorch.org/whl/cpu`
# (Linux/Windows) to get the CPU wheel instead of PyPI's CUDA build (README, "PyTorch").
"""


def resolved(extras: str = EXTRAS) -> dict[str, str]:
    """{name: version} pip would install for the project with these extras, from scratch."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
                        "--report", str(report), f".[{extras}]"], cwd=ROOT, check=True)
        data = json.loads(report.read_text())
    return {i["metadata"]["name"]: i["metadata"]["version"] for i in data["install"]}


def pins(found: dict[str, str]) -> list[str]:
    lines = []
    for name in sorted(found, key=str.lower):
        if name.lower() == "minigpt":
            continue
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            version = found[name]
        if name.lower() == "torch":
            version = version.split("+")[0]  # == matches the CPU build's local label (+cpu) too
        lines.append(f"{name}=={version}")
    return lines


def main() -> int:
    text = HEADER.format(extras=EXTRAS) + "\n".join(pins(resolved())) + "\n"
    fd, tmp = tempfile.mkstemp(dir=ROOT, prefix=".constraints.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, ROOT / "constraints.txt")
    print(f"wrote constraints.txt ({text.count(chr(10)) - HEADER.count(chr(10))} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
