"""Real interrupts on a `minigpt pretrain` subprocess: after SIGINT, SIGTERM or SIGKILL (at a random
moment or between the files of a save), `--resume` reproduces the uninterrupted run's losses exactly."""
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

from minigpt.loop import read_metrics
from minigpt.nn.gpt import GPTConfig
from minigpt.stages.pretrain import PretrainConfig, prepare, train

STEPS, CKPT = 300, 20
ARGS = ["pretrain", "--data", "toyweb", "--n-chars", "20000", "--model.n-layer", "1", "--model.n-head", "2",
        "--model.n-embd", "16", "--model.block-size", "16", "--batch-size", "4", "--eval-iters", "2",
        "--eval-interval", "50", "--max-iters", str(STEPS), "--ckpt-interval", str(CKPT), "--optim.warmup-iters", "10",
        "--model.dropout", "0.1"]
# the `minigpt` command, run from this checkout; `hook` may install a checkpoint fault hook first
LAUNCH = ("import sys, os, signal\nsys.argv[0] = 'minigpt'\n{hook}\n"
          "from minigpt.cli import main\nsys.exit(main())")
KILL_AT = ("import minigpt.checkpoint as c\ncalls = []\n"
           "def hook(label):\n    calls.append(label)\n"
           "    if label == {label!r} and calls.count(label) == 2: os.kill(os.getpid(), signal.SIGKILL)\n"
           "c._between_files = hook")


def minigpt(args, hook="", **kw):
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, "-c", LAUNCH.format(hook=hook), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run's losses (in process, same config as ARGS)."""
    cfg = PretrainConfig(out_dir=str(tmp_path_factory.mktemp("ref")), data="toyweb", n_chars=20000,
                         model=GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=16, dropout=0.1), batch_size=4,
                         eval_iters=2, eval_interval=50, max_iters=STEPS, ckpt_interval=CKPT, optim=dict(warmup_iters=10))
    tok, tr, va = prepare(cfg)
    train(cfg, None, tok, tr, va, progress=False)
    return read_metrics(os.path.join(cfg.out_dir, "metrics.jsonl"))


def losses(rows):
    return [(r["step"], r["train_loss"], r.get("val_loss")) for r in rows]


def wait_for_rows(path, n, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout and proc.poll() is None:
        if os.path.exists(path) and sum(1 for _ in open(path)) >= n:
            return
        time.sleep(0.05)
    pytest.fail(f"the run did not reach {n} logged steps (rc {proc.poll()})")


def resume_and_compare(out, reference):
    p = minigpt(ARGS + ["--out-dir", out, "--resume"])
    stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 0, stderr[-3000:]
    assert losses(read_metrics(os.path.join(out, "metrics.jsonl"))) == losses(reference)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)])
def test_a_signal_saves_prints_the_resume_command_and_resume_is_exact(tmp_path, reference, sig, code):
    out = str(tmp_path / "run")
    p = minigpt(ARGS + ["--out-dir", out])
    wait_for_rows(os.path.join(out, "metrics.jsonl"), 30, p)
    p.send_signal(sig)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == code, stderr[-3000:]
    assert "Traceback" not in stderr
    line = next(x for x in stderr.splitlines() if x.startswith("resume with: "))
    cmd = shlex.split(line[len("resume with: "):])
    assert cmd[0] == "minigpt" and cmd[-1] == "--resume"
    rows = read_metrics(os.path.join(out, "metrics.jsonl"))
    assert len(rows) < STEPS  # it really stopped early
    p = minigpt(cmd[1:])  # the printed command, as the user would paste it
    stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 0, stderr[-3000:]
    assert losses(read_metrics(os.path.join(out, "metrics.jsonl"))) == losses(reference)


def test_sigkill_mid_run_then_resume_is_exact(tmp_path, reference):
    out = str(tmp_path / "run")
    p = minigpt(ARGS + ["--out-dir", out])
    wait_for_rows(os.path.join(out, "metrics.jsonl"), 45, p)
    p.kill()
    p.communicate(timeout=60)
    resume_and_compare(out, reference)


@pytest.mark.parametrize("label", ["swap", pytest.param("model.safetensors", marks=pytest.mark.slow),
                                   pytest.param("manifest.json", marks=pytest.mark.slow)])
def test_sigkill_between_the_files_of_a_save_then_resume_is_exact(tmp_path, reference, label):
    """Deterministic: the process kills itself at a given point of its second checkpoint save."""
    out = str(tmp_path / "run")
    p = minigpt(ARGS + ["--out-dir", out], hook=KILL_AT.format(label=label))
    p.communicate(timeout=300)
    assert p.returncode == -signal.SIGKILL
    leftovers = [f for f in os.listdir(out) if f.startswith(".ckpt.")]
    assert leftovers  # the killed save left its temporary (or the renamed-aside old) directory
    resume_and_compare(out, reference)
    assert not [f for f in os.listdir(out) if f.startswith(".ckpt.")]  # cleaned up by the resumed run


def test_a_new_run_into_a_killed_run_refuses_without_resume(tmp_path):
    out = str(tmp_path / "run")
    p = minigpt(ARGS + ["--out-dir", out], hook=KILL_AT.format(label="swap"))
    p.communicate(timeout=300)
    p = minigpt(ARGS + ["--out-dir", out])
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 1 and "--resume to continue it or --force to start over" in stderr
