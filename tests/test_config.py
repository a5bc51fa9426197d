"""Configs: field comments are the --help, values are checked when a config is built, --config loads a saved
one, and every bad value of the CLI ends in one line `minigpt <command>: error: ...` with exit status 2."""
import argparse
import json
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pytest
from align_helpers import tiny_checkpoints

from minigpt.cli import COMMANDS, main, parser_for
from minigpt.config import (Config, ConfigError, apply_preset, field_help, from_dict, load_config, nonnegative,
                            parse_config, positive, to_dict, with_presets)
from minigpt.nn.gpt import GPTConfig
from minigpt.stages import pretrain


@dataclass
class Inner(Config):
    width: int = 8  # how wide
    kind: Literal["a", "b"] = "a"  # which kind

    def validate(self):
        positive(self, "width")


@dataclass
class Outer(Config):
    name: str = field(default="x", metadata={"help": "from metadata"})
    rate: float = 0.5  # a rate,
    # spread over two lines
    steps: int = (
        3  # the comment of a field written over several lines
    )
    inner: Inner = field(default_factory=lambda: Inner(width=4))  # a nested config
    maybe: int | None = None  # an optional count
    seed: int = 0  # seeds it

    def validate(self):
        positive(self, "rate", "steps")
        nonnegative(self, "seed")


# -----------------------------------------------------------------------------
# the builder


def test_field_help_reads_the_comments():
    helps = field_help(Outer)
    assert helps["name"] == "from metadata"
    assert helps["rate"] == "a rate,"  # a comment line of its own is a section title, not a field's help
    assert helps["steps"] == "the comment of a field written over several lines"
    assert helps["maybe"] == "an optional count"
    assert field_help(GPTConfig)["ln_position"].startswith('"pre": x + f(LN(x))')


@pytest.mark.parametrize("build, message", [
    (lambda: Inner(kind="c"), r"Inner.kind must be one of \('a', 'b'\), got 'c'"),
    (lambda: Outer(steps="3"), "Outer.steps must be an int, got '3'"),
    (lambda: Outer(steps=True), "Outer.steps must be an int, got True"),  # a bool is not a count
    (lambda: Outer(rate=float("nan")), "Outer.rate must be > 0, got nan"),
])
def test_types_and_choices_are_checked_when_built(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_an_int_is_a_float_and_optional_takes_both():
    assert Outer(rate=1).rate == 1 and Outer(maybe=3).maybe == 3


def test_nested_flags_help_and_override():
    parser = parser_for_class(Outer)
    helps = {a.dest: a.help for a in parser._actions}
    assert helps["inner.width"] == "how wide (default: 4)"  # the parent's default for its nested config
    assert helps["maybe"] == "an optional count (default: none)"
    cfg = parse_config(Outer, ["--inner.width", "16", "--inner.kind", "b", "--maybe", "none", "--steps", "5"])
    assert cfg == Outer(steps=5, inner=Inner(width=16, kind="b"))
    assert parse_config(Outer, []) == Outer()
    with pytest.raises(ConfigError, match="^--inner.width must be > 0, got 0$"):
        parse_config(Outer, ["--inner.width", "0"])


def parser_for_class(cls):
    from minigpt.config import build_parser
    return build_parser(cls, prog="test")


def test_from_dict_names_unknown_and_bad_nested_fields():
    with pytest.raises(ConfigError, match="Outer.inner.depth is not a field"):
        from_dict(Outer, {"inner": {"depth": 2}})
    with pytest.raises(ConfigError, match="Outer.inner.width must be > 0, got -1"):
        from_dict(Outer, {"inner": {"width": -1}})
    assert from_dict(Outer, {"inner": {"kind": "b"}}).inner == Inner(width=4, kind="b")  # the rest: Outer's default


def test_a_nested_config_given_in_part_keeps_its_parents_defaults():
    """A dict for a nested config (in Python or JSON) changes only what it names, as the flags do: DPO's optimizer
    keeps DPO's β2 = 0.95 and warmup, not CosineOptimConfig's own defaults (0.99, 10)."""
    from minigpt.optim import CosineOptimConfig
    from minigpt.stages import dpo
    dpo_optim = CosineOptimConfig(lr=3e-3, min_lr=1e-5, warmup_iters=5, weight_decay=0.0, beta1=0.9, beta2=0.95,
                                  grad_clip=1.0)  # DPO's defaults as written in dpo.py before they moved, but lr
    assert dpo.DPOConfig(optim=dict(lr=3e-3)).optim == dpo_optim
    assert from_dict(dpo.DPOConfig, {"optim": {"lr": 3e-3}}).optim == dpo_optim
    assert Outer(inner=dict(kind="b")).inner == Inner(width=4, kind="b")
    with pytest.raises(ConfigError, match="Outer.inner.width must be > 0, got 0"):
        Outer(inner=dict(width=0))


# the train_config of a DPO checkpoint's config.json as minigpt saved it before the optimizer fields moved into
# `optim` (at 76b529a), with lr and warmup_iters changed from the defaults
OLD_DPO = {"init": "runs/sft/ckpt", "out_dir": "runs/dpo", "n_prompts": 800, "k": 4, "beta": 0.1, "epochs": 2,
           "batch_size": 32, "lr": 3e-4, "min_lr": 1e-05, "warmup_iters": 7, "weight_decay": 0.0, "beta1": 0.9,
           "beta2": 0.95, "grad_clip": 1.0, "data_seed": 2, "seed": 1337, "ckpt_interval": 500, "resume": False,
           "force": False}


def test_configs_saved_before_the_optimizer_fields_moved_still_load(tmp_path):
    from minigpt.optim import CosineOptimConfig, OptimConfig
    from minigpt.stages import dpo, ppo
    ckpt = tmp_path / "config.json"
    ckpt.write_text(json.dumps({"stage": "dpo", "train_config": OLD_DPO}))
    want = dpo.DPOConfig(optim=CosineOptimConfig(lr=3e-4, min_lr=1e-5, warmup_iters=7, beta2=0.95))
    assert load_config(dpo.DPOConfig, ckpt) == want and from_dict(dpo.DPOConfig, OLD_DPO) == want
    assert parse_config(dpo.DPOConfig, ["--config", str(ckpt), "--optim.beta1", "0.8"]).optim == \
        CosineOptimConfig(lr=3e-4, min_lr=1e-5, warmup_iters=7, beta1=0.8, beta2=0.95)
    # a hand-written old file naming one optimizer field keeps the stage's other defaults (PPO: β2 = 0.95)
    assert from_dict(ppo.PPOConfig, {"lr": 1e-4, "iters": 3}).optim == OptimConfig(lr=1e-4, beta2=0.95)
    with pytest.raises(ConfigError, match="lr moved to optim.lr, and both are given"):
        from_dict(dpo.DPOConfig, {"lr": 1e-4, "optim": {"lr": 1e-3}})
    # both places holding the same value (a run saved by a version that wrote both) is one setting, not a clash
    assert from_dict(dpo.DPOConfig, {"lr": 1e-4, "optim": {"lr": 1e-4, "min_lr": 0.0}}).optim.lr == 1e-4
    assert OLD_DPO["lr"] == 3e-4 and "optim" not in OLD_DPO  # upgrading copies: the caller's dict is untouched


def test_config_file_is_loaded_and_flags_override_it(tmp_path):
    saved = pretrain.PretrainConfig(max_iters=7, optim=dict(lr=3e-3), seed=5, model=GPTConfig(n_layer=1, ln_position="post"))
    ckpt = tmp_path / "config.json"  # shaped like a checkpoint's config.json
    ckpt.write_text(json.dumps({"stage": "pretrain", "train_config": saved.to_dict()}))
    assert load_config(pretrain.PretrainConfig, ckpt) == saved
    cfg = parse_config(pretrain.PretrainConfig, ["--config", str(ckpt), "--seed", "6", "--model.n-embd", "64"])
    assert cfg == pretrain.PretrainConfig(max_iters=7, optim=dict(lr=3e-3), seed=6,
                                          model=GPTConfig(n_layer=1, ln_position="post", n_embd=64))
    ckpt.write_text(json.dumps({"max_iters": 0}))
    with pytest.raises(SystemExit):
        parse_config(pretrain.PretrainConfig, ["--config", str(ckpt)])


def test_pipeline_quick_preset_names_real_fields():
    from minigpt.pipeline import QUICK, PipelineConfig, quick_config
    quick = quick_config(PipelineConfig(quick=True))
    for path, value in QUICK.items():
        obj = quick
        for part in path.split("."):
            obj = getattr(obj, part)
        assert obj == value, path


@dataclass
class Smoke(Config):
    PRESETS = {"small": {"steps": 2, "inner.width": 1}}
    small: bool = False  # the small preset
    steps: int = 3  # how many
    inner: Inner = field(default_factory=Inner)  # a nested config


def test_explicit_flags_win_over_a_preset_even_at_their_default():
    """steps=3 is the class default: given as a flag it is explicit and stays 3; the preset sets what was not given."""
    cfg = parse_config(Smoke, ["--small", "--steps", "3"])
    assert (cfg.steps, cfg.inner.width) == (3, 1)
    assert with_presets(cfg) == cfg  # parsed configs have their preset already: applying again changes nothing
    assert parse_config(Smoke, ["--small"]) == Smoke(small=True, steps=2, inner=Inner(width=1))
    assert parse_config(Smoke, ["--steps", "3"]) == Smoke()  # no switch, no preset
    # in Python, the preset goes to the fields left at their default
    assert with_presets(Smoke(small=True, steps=5)) == Smoke(small=True, steps=5, inner=Inner(width=1))


def test_preset_keeps_values_from_a_config_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(to_dict(Smoke(small=True, steps=7))))
    assert parse_config(Smoke, ["--config", str(path)]) == Smoke(small=True, steps=7, inner=Inner(width=1))


def test_preset_is_validated():
    assert apply_preset(Outer(), {"inner.width": 9, "steps": 2}) == Outer(steps=2, inner=Inner(width=9))
    assert apply_preset(Outer(steps=7), {"steps": 2}).steps == 7  # a value the user chose is kept
    with pytest.raises(ConfigError, match="inner.depth is not a field"):
        apply_preset(Outer(), {"inner.depth": 1})
    with pytest.raises(ConfigError, match="must be > 0"):
        apply_preset(Outer(), {"steps": 0})


# -----------------------------------------------------------------------------
# the CLI


def _all_parsers():
    for name in COMMANDS:
        _, parser = parser_for(name)
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    yield f"{name} {sub}", subparser


@pytest.mark.parametrize("name,parser", list(_all_parsers()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_option_of_every_command_has_help(name, parser):
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        text = (action.help or "").split("(default")[0].split("(required")[0].strip()
        assert text, f"minigpt {name} {'/'.join(action.option_strings) or action.dest} has no help text"
    if " " not in name:  # a command's own parser (not a sub-command's) documents --debug
        assert "--debug" in parser.format_help()


BAD = [
    ("pretrain", "--max-iters", "0"), ("pretrain", "--eval-interval", "0"), ("pretrain", "--ckpt-interval", "0"),
    ("pretrain", "--grad-accum", "0"), ("pretrain", "--batch-size", "0"), ("pretrain", "--eval-iters", "0"),
    ("pretrain", "--optim.lr", "-1"), ("pretrain", "--optim.lr", "nan"), ("pretrain", "--optim.lr", "inf"), ("pretrain", "--seed", "-1"),
    ("pretrain", "--model.n-embd", "0"), ("pretrain", "--model.dropout", "1.5"), ("pretrain", "--optim.beta2", "1"),
    ("pretrain", "--model.flash-tile", "0"), ("pipeline", "--pretrain.max-iters", "0"), ("pipeline", "--ppo.iters", "0"),
    ("pipeline", "--sft.n-val", "0"), ("pipeline", "--reward.k", "1"), ("pipeline", "--pretrain.model.n-head", "0"),
    ("sft", "--epochs", "0"), ("sft", "--batch-size", "0"), ("sft", "--optim.lr", "0"), ("sft", "--eval-interval", "0"),
    ("reward", "--k", "1"), ("reward", "--epochs", "0"), ("reward", "--prompts-per-batch", "0"),
    ("reward", "--temperature", "-1"),
    ("ppo", "--iters", "0"), ("ppo", "--minibatch-size", "0"), ("ppo", "--rollout-batch", "0"),
    ("ppo", "--ppo-epochs", "0"), ("ppo", "--optim.lr", "nan"), ("ppo", "--temperature", "-1"), ("ppo", "--lam", "2"),
    ("dpo", "--beta", "0"), ("dpo", "--batch-size", "0"), ("dpo", "--k", "1"),
    ("grpo", "--iters", "0"), ("grpo", "--minibatch-size", "0"), ("grpo", "--group-size", "0"),
    ("grpo", "--adv-eps", "0"), ("grpo", "--prompts-per-iter", "0"),
    ("pipeline", "--seed", "-1"), ("pipeline", "--sft.optim.lr", "0"), ("pipeline", "--ppo.optim.beta2", "1"),
    ("sample", "--num-samples", "-1"), ("sample", "--num-samples", "0"), ("sample", "--temperature", "-1"),
    ("sample", "--top-p", "0"), ("sample", "--seed", "-2"),
    ("chat", "--temperature", "-1"), ("chat", "--max-new-tokens", "0"),
    ("world", "--n", "0"), ("world", "--seed", "-1"),
    ("sft", "--optim.beta2", "1.5"), ("sft", "--ckpt-interval", "0"), ("reward", "--optim.beta1", "-0.1"), ("dpo", "--ckpt-interval", "0"),
    ("ppo", "--ckpt-interval", "0"), ("grpo", "--optim.beta1", "1"), ("dpo", "--optim.weight-decay", "-1"),
]
NEEDS = {"sample": ["--ckpt", "nowhere"], "chat": ["--ckpt", "nowhere"]}


@pytest.mark.parametrize("command,flag,value", BAD)
def test_bad_values_fail_before_any_work(command, flag, value, capsys, tmp_path):
    trains = command in ("pretrain", "sft", "reward", "ppo", "dpo", "grpo", "pipeline")
    out_dir = ["--out-dir", str(tmp_path / "run")] if trains else []
    assert main([command, *NEEDS.get(command, []), *out_dir, flag, value]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"minigpt {command}: error: {flag} must be"), err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["pretrain", "--model.attn-impl", "fast"])
    assert e.value.code == 2 and "invalid choice: 'fast'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["grade", "--timeout", "0"])
    assert e.value.code == 2 and "--timeout: must be > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["sample"])
    assert e.value.code == 2 and "required: --ckpt" in capsys.readouterr().err


def test_runtime_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, capsys):
    assert main(["sample", "--ckpt", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigpt sample: error: ") and "missing" in err and "Traceback" not in err
    with pytest.raises((OSError, ValueError)):
        main(["sample", "--ckpt", str(tmp_path / "missing"), "--debug"])
    with pytest.raises((OSError, ValueError)):
        main(["--debug", "sample", "--ckpt", str(tmp_path / "missing")])


def test_sample_refuses_a_reward_checkpoint(tmp_path, capsys):
    paths, _ = tiny_checkpoints(tmp_path)
    assert main(["sample", "--ckpt", paths["reward"], "--max-new-tokens", "2"]) == 2
    err = capsys.readouterr().err
    assert "is a 'reward' checkpoint" in err and "Traceback" not in err


def test_pretrain_refuses_a_validation_split_shorter_than_a_block(tmp_path, capsys):
    rc = main(["pretrain", "--out-dir", str(tmp_path / "run"), "--data", "toyweb", "--n-chars", "600",
               "--model.block-size", "64", "--model.n-layer", "1", "--model.n-embd", "16", "--model.n-head", "2"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "validation split has" in err and "block_size + 1 = 65" in err
    assert not (tmp_path / "run" / "ckpt").exists()


def test_check_split_directly():
    pretrain.check_split("validation", np.zeros(65, np.uint16), 64)  # exactly one sequence: fine
    with pytest.raises(ValueError, match="validation split has 64 tokens"):
        pretrain.check_split("validation", np.zeros(64, np.uint16), 64)
