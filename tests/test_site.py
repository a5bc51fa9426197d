"""The course site (mkdocs.yml): `mkdocs build` renders notebooks/README.md and every notebook offline.

The default test builds the pages without running the notebooks (MINIGPT_SITE_EXECUTE=false; about a
minute); the slow test is the real thing — every notebook executed in quick mode, figures in the pages.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def build(out: Path, execute: bool, timeout: int):
    pytest.importorskip("mkdocs_jupyter")
    env = dict(os.environ, MINIGPT_SITE_EXECUTE="true" if execute else "false", NO_MKDOCS_2_WARNING="1")
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--site-dir", str(out)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return res


def check_pages(out: Path):
    """index.html links every notebook; each has a page with its cells and its .ipynb to download."""
    index = (out / "index.html").read_text()
    for nb in NOTEBOOKS:
        assert f"{nb.stem}/" in index, f"the index does not link {nb.name}"
        page = out / nb.stem / "index.html"
        assert page.is_file(), f"no page for {nb.name}"
        html = page.read_text()
        assert html.count("jp-Cell ") >= 3 and f'id="{nb.stem[:2]}-' in html, f"{nb.name} rendered no cells"
        assert (out / nb.stem / nb.name).is_file(), f"{nb.name} is not offered for download"
        assert "fonts.googleapis.com" not in html, "pages must not load web fonts"


def test_site_builds_offline_without_running_the_notebooks(tmp_path):
    build(tmp_path / "site", execute=False, timeout=900)
    check_pages(tmp_path / "site")
    assert not (tmp_path / "site" / "runs").exists()


@pytest.mark.slow
def test_site_builds_with_every_notebook_executed_in_quick_mode(tmp_path):
    build(tmp_path / "site", execute=True, timeout=3600)
    check_pages(tmp_path / "site")
    page = (tmp_path / "site" / "00_overview" / "index.html").read_text()
    assert "data:image/png;base64" in page, "notebook 00's figures are missing from its page"
    assert "report card" in page.lower()
