r"""Build .ipynb notebooks from "percent" scripts (the format jupytext and VS Code use).

A source file is a plain Python script, so it also runs top to bottom with `python`:

    # %% [markdown]
    # # A title
    # Some prose with $\LaTeX$.

    # %%
    x = 1 + 1

Markdown cells are comment lines with the leading "# " removed; code cells are
copied as they are. The notebook is written without outputs (what we commit).

    python tools/build_notebooks/percent.py                      # every source in this folder
    python tools/build_notebooks/percent.py 02_autograd.py       # one of them
"""
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE.parent.parent / "notebooks"
SOURCE = re.compile(r"^\d\d_\w+\.py$")  # e.g. 02_autograd.py -> notebooks/02_autograd.ipynb


# -----------------------------------------------------------------------------
def parse(text: str):
    """Split a percent script into [(kind, source)], kind 'markdown' or 'code'."""
    cells, kind, lines = [], None, []

    def flush():
        src = "\n".join(lines).strip("\n")
        if kind is not None and src:
            cells.append((kind, src))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            if line and not line.startswith("#"):
                raise ValueError(f"markdown cell line does not start with '#': {line!r}")
            lines.append(line[2:] if line.startswith("# ") else line[1:])
        elif kind == "code":
            lines.append(line)
    flush()
    return cells


def build(src: Path, out: Path):
    nb = new_notebook(cells=[new_markdown_cell(s) if k == "markdown" else new_code_cell(s)
                             for k, s in parse(src.read_text(encoding="utf-8"))])
    for i, cell in enumerate(nb.cells):
        cell.id = f"{src.stem[:2]}-{i:03d}"  # stable ids: rebuilding gives a byte-identical file
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".ipynb.tmp")  # atomic write
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, out)
    print(f"wrote {out} ({len(nb.cells)} cells)")


def main(argv):
    names = argv or sorted(p.name for p in HERE.iterdir() if SOURCE.match(p.name))
    for name in names:
        src = HERE / Path(name).name
        build(src, OUT_DIR / (src.stem + ".ipynb"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
