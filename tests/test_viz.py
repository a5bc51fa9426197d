"""minigpt.viz saves the pipeline's plots without touching matplotlib's backend, so a notebook's own
plots still show afterwards (notebook 00 plots right after `run_pipeline`, which calls `plot_pipeline`).

The notebook test runs in a real Jupyter kernel with MPLBACKEND unset (CI sets MPLBACKEND=Agg, which
would hide a backend switch): the kernel picks its inline backend, and the plotting cell of notebook 00
must return a PNG image.
"""
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def fake_report():
    """The fields of run_pipeline's report that plot_pipeline and notebook 00's plot read."""
    steps = [0, 1, 2, 3]
    return {
        "history": {
            "pretrain": {"step": steps, "train_loss": [3.0, 2.5, 2.2, 2.0], "eval_step": [0, 3], "val_loss": [3.1, 2.1]},
            "sft": {"step": steps, "l2": [2.0, 1.5, 1.2, 1.0], "eval_step": [3], "val_loss": [1.1]},
            "reward": {"step": steps, "loss": [0.69, 0.6, 0.5, 0.45], "acc": [0.5, 0.6, 0.7, 0.75]},
            "ppo": {"step": [0, 1, 2], "score": [0.0, 0.2, 0.3], "gold": [0.1, 0.2, 0.25], "kl": [0.0, 0.5, 1.0],
                    "beta": [0.1, 0.12, 0.11], "entropy": [1.5, 1.4, 1.3], "clipfrac": [0.0, 0.1, 0.05]},
        },
        "models": {n: {"accuracy": a, "exact_match": a, "gold_score": g}
                   for n, a, g in (("base", 0.1, 0.2), ("sft", 0.5, 0.6), ("ppo", 0.6, 0.7))},
    }


def test_plot_pipeline_writes_pngs_and_leaves_the_backend_alone(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    from minigpt.viz import plot_pipeline
    before = matplotlib.get_backend()
    paths = plot_pipeline(fake_report(), str(tmp_path / "plots"))
    assert [Path(p).name for p in paths] == ["losses.png", "ppo.png", "models.png"]
    for p in paths:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == before
    assert "matplotlib.use(" not in (ROOT / "minigpt" / "viz.py").read_text()


def test_notebook_00_plot_shows_after_the_pipeline_plots_without_mplbackend(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel chooses its own (inline) backend, as in JupyterLab
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    source = nbformat.read(ROOT / "notebooks" / "00_overview.ipynb", as_version=4)
    plot_cell = next(c for c in source.cells if c.cell_type == "code" and "plt.show()" in c.source and "report[" in c.source)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import json\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
                                  "from minigpt.viz import plot_pipeline"),
        # what run_pipeline does at its end, on a stand-in report
        nbformat.v4.new_code_cell(f"report = json.loads({json.dumps(json.dumps(fake_report()))})\n"
                                  f"paths = plot_pipeline(report, {str(tmp_path / 'plots')!r})\nprint(matplotlib.get_backend())"),
        nbformat.v4.new_code_cell(plot_cell.source),
    ]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["losses.png", "models.png", "ppo.png"]
    images = [o for o in nb.cells[2].outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) == 1, f"notebook 00's plot produced no image: {nb.cells[2].outputs}"
    backend = "".join(o.get("text", "") for o in nb.cells[1].outputs).strip()
    assert "inline" in backend, f"the kernel's backend after plot_pipeline: {backend!r}"
