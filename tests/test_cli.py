"""The CLI dispatcher: help lists every command, unknown commands fail clearly."""
import subprocess
import sys

from minigpt.cli import COMMANDS, main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command(capsys):
    assert main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err


def test_every_command_has_help():
    for name in COMMANDS:
        r = subprocess.run([sys.executable, "-m", "minigpt.cli", name, "--help"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, (name, r.stderr[-500:])
        assert f"minigpt {name}" in r.stdout


def test_lab_prints_command(capsys):
    assert main(["lab", "--print"]) == 0
    assert "jupyterlab" in capsys.readouterr().out


def test_a_stage_command_trains_and_prints_its_summary_line(tmp_path, capsys):
    rc = main(["pretrain", "--out-dir", str(tmp_path / "run"), "--data", "toyweb", "--n-chars", "4000", "--max-iters", "2",
               "--optim.warmup-iters", "1", "--batch-size", "2", "--eval-iters", "1", "--model.block-size", "16",
               "--model.n-layer", "1", "--model.n-embd", "16", "--model.n-head", "2"])
    assert rc == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("pretrain: 2 steps in") and "checkpoint in" in last
