r"""The on-ramp cells at the top of every course notebook: Colab and Binder badges, and a Colab-only install.

Each notebook (and its paired script in tools/build_notebooks/) starts with two generated cells:

  1. a markdown cell with an "Open in Colab" and a "launch Binder" badge for that notebook;
  2. a code cell that pip-installs the course package when — and only when — it runs on Colab
     (`google.colab` is imported there); in JupyterLab, on Binder, a JupyterHub or in CI it does nothing.

Both are made from the repository URL in pyproject.toml ([project.urls] Repository), so moving the
course is one edit and one command:

    python tools/onramps.py            # (re)write the cells in every notebook and script
    python tools/onramps.py --check    # exit 1 if any notebook lacks them or they are stale (CI)
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCRIPTS = ROOT / "tools" / "build_notebooks"
BADGE_MARK = "[![Open In Colab]"
INSTALL_MARK = "# Colab only: install the course package"


def repository() -> str:
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)/?", url)
    if not m:
        raise ValueError(f"[project.urls] Repository must be https://github.com/OWNER/NAME, got {url!r}")
    return f"{m.group(1)}/{m.group(2)}"


def cells(stem: str, repo: str | None = None) -> tuple[str, str]:
    """(markdown, code) sources of the on-ramp cells of notebooks/<stem>.ipynb."""
    repo = repo or repository()
    path = f"notebooks/{stem}.ipynb"
    markdown = (f"{BADGE_MARK}(https://colab.research.google.com/assets/colab-badge.svg)]"
                f"(https://colab.research.google.com/github/{repo}/blob/main/{path}) "
                f"[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/{path})")
    code = (f"{INSTALL_MARK} (nothing happens anywhere else)\n"
            "import sys\n\n"
            "if \"google.colab\" in sys.modules:\n"
            "    import subprocess\n"
            f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"minigpt @ git+https://github.com/{repo}\",\n"
            "                    \"tiktoken\", \"pytest-timeout\"], check=True)")
    return markdown, code


def has_onramp(sources: list[str]) -> bool:
    return len(sources) >= 2 and sources[0].startswith(BADGE_MARK) and sources[1].startswith(INSTALL_MARK)


def script_block(markdown: str, code: str) -> str:
    md = "\n".join("# " + line if line else "#" for line in markdown.splitlines())
    return f"# %% [markdown]\n{md}\n\n# %%\n{code}\n\n"


def update_script(path: Path, markdown: str, code: str) -> str:
    text = path.read_text(encoding="utf-8")
    if text.startswith("# %% [markdown]\n# " + BADGE_MARK):  # drop the old block: its two cells
        headers = [m.start() for m in re.finditer(r"^# %%", text, flags=re.M)]
        text = text[headers[2]:] if len(headers) > 2 else ""
    return script_block(markdown, code) + text


def update_notebook(nb, stem: str, markdown: str, code: str):
    if has_onramp([c.source for c in nb.cells]):
        nb.cells = nb.cells[2:]
    md_cell, code_cell = nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(code)
    md_cell.id, code_cell.id = f"{stem[:2]}-onramp-badges", f"{stem[:2]}-onramp-colab"  # stable ids
    nb.cells = [md_cell, code_cell] + nb.cells
    return nb


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if a notebook needs updating")
    args = ap.parse_args(argv)
    repo, stale = repository(), []
    for nb_path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        markdown, code = cells(nb_path.stem, repo)
        nb = nbformat.read(nb_path, as_version=4)
        if [c.source for c in nb.cells[:2]] != [markdown, code]:
            stale.append(nb_path.name)
            if not args.check:
                write_atomic(nb_path, nbformat.writes(update_notebook(nb, nb_path.stem, markdown, code)) + "\n")
        script = SCRIPTS / f"{nb_path.stem}.py"
        if script.exists() and not script.read_text(encoding="utf-8").startswith(script_block(markdown, code)):
            stale.append(script.relative_to(ROOT).as_posix())
            if not args.check:
                write_atomic(script, update_script(script, markdown, code))
    if args.check:
        if stale:
            print("on-ramp cells missing or stale in: " + ", ".join(stale) + "\nrun: python tools/onramps.py")
        return 1 if stale else 0
    print(f"updated {len(stale)} files" if stale else "all on-ramp cells up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
