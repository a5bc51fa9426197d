"""The whole pipeline: a quick smoke run (default suite) and the full default run (slow), plus
`minigpt chat` on the checkpoints the quick run leaves behind."""
import io
import json
import os

import pytest

from minigpt import cli
from minigpt.pipeline import PipelineConfig, quick_config, run_pipeline


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline")
    report = run_pipeline(PipelineConfig(out_dir=str(out), quick=True), progress=False, log=lambda *a: None)
    return out, report


def test_quick_pipeline_writes_a_full_report(quick_run):
    out, report = quick_run
    assert set(report["stages"]) == {"pretrain", "sft", "reward", "ppo"}
    for st in report["stages"].values():
        assert st["wall_s"] > 0 and st["cpu_s"] > 0
    assert set(report["models"]) == {"base", "sft", "ppo"}
    for m in report["models"].values():
        assert 0.0 <= m["exact_match"] <= m["accuracy"] <= 1.0 and 0.0 <= m["gold_score"] <= 1.0
    assert set(report["win_rates"]) == {"SFT vs base", "PPO vs SFT", "PPO vs base"}
    for w in report["win_rates"].values():
        assert w["wins"] + w["ties"] + w["losses"] == report["n_eval"] * report["eval_samples"]
        assert w["win_rate"] == pytest.approx((w["wins"] + 0.5 * w["ties"]) / report["n_eval"])
    assert 0.0 <= report["reward_model"]["eval_accuracy"] <= 1.0
    assert report["kl"]["entropy"] > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["quick"] is True and metrics["config"]["n_layer"] == 2
    card = (out / "report_card.txt").read_text()
    for needle in ("pretrain", "win rate PPO vs SFT", "pairwise accuracy", "KL(PPO ‖ SFT)", "entropy"):
        assert needle in card
    for name in ("losses.png", "ppo.png", "models.png"):
        assert (out / "plots" / name).stat().st_size > 1000
    for stage in ("pretrain", "sft", "reward", "ppo"):
        cfg = json.loads((out / stage / "ckpt" / "config.json").read_text())
        assert cfg["stage"] == stage


def test_quick_config_keeps_explicit_values():
    cfg = quick_config(PipelineConfig(quick=True, ppo_iters=7))
    assert cfg.ppo_iters == 7 and cfg.n_layer == 2


def _chat(monkeypatch, capsys, ckpt, lines):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(line + "\n" for line in lines)))
    rc = cli.main(["chat", "--ckpt", str(ckpt), "--max-new-tokens", "8"])
    return rc, capsys.readouterr()


def test_chat_with_each_stage(quick_run, monkeypatch, capsys):
    out, _ = quick_run
    rc, cap = _chat(monkeypatch, capsys, out / "pretrain" / "ckpt", ["What is 2+3?"])
    assert rc == 0 and cap.out.startswith("model> ")  # a base model continues the text
    rc, cap = _chat(monkeypatch, capsys, out / "ppo" / "ckpt", ["What is 2+3?", "", "Reverse: abc"])
    assert rc == 0 and cap.out.count("assistant> ") == 2
    rc, cap = _chat(monkeypatch, capsys, out / "sft" / "ckpt", ["x" * 100, "What is 1+1?"])
    assert "context window" in cap.err and cap.out.count("assistant> ") == 1  # too long: error, then go on
    rc, cap = _chat(monkeypatch, capsys, out / "reward" / "ckpt", ["hi"])
    assert rc == 2 and "reward model scores responses" in cap.err


@pytest.mark.slow
def test_default_pipeline_meets_the_targets(tmp_path):
    """The issue's acceptance run: ≤ 10 minutes on 2 cores, RM ≥ 85%, PPO beats SFT ≥ 70%, SFT beats base."""
    report = run_pipeline(PipelineConfig(out_dir=str(tmp_path)), progress=False, log=lambda *a: None)
    failed = {k: v[1] for k, v in report["checks"].items() if not v[0]}
    if os.environ.get("MINIGPT_SKIP_TIME_CHECK"):
        failed.pop("time", None)
    assert not failed, failed
