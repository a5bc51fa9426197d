"""The `minigpt` command line.

Each command is one row of COMMANDS: the module that runs it, its config dataclass and the function
that takes that config. The flags are built from the config (minigpt/config.py): one flag per field,
the field's comment as its help, nested configs as dotted flags (`minigpt pretrain --model.n-embd 64`,
`minigpt pipeline --sft.epochs 1`), `--config FILE` to start from a saved config (a run's
pipeline_config.json, a checkpoint's config.json). A bad value stops the command before any work
starts; errors print as `minigpt <command>: error: <message>` with exit status 2 (`--debug` shows the
traceback). Modules are imported only when their command runs, so `minigpt --help` stays instant and
nothing heavy (CuPy, matplotlib) is imported by accident.

    minigpt --help
    minigpt pretrain --help
    minigpt pipeline --quick

`minigpt pipeline` runs as two data-parallel ranks (mpiexec) on a 2+ core machine with the dist extra;
MINIGPT_RANKS=1 keeps it to one process (minigpt/dist.py, auto_ranks).
"""
import argparse
import importlib
import os
import sys
from typing import NamedTuple

from minigpt import __version__, dist
from minigpt.config import build_parser, parse_config
from minigpt.loop import Interrupted, NonFiniteError


class Command(NamedTuple):
    module: str  # where the command lives (imported when it runs)
    config: str | None  # name of its config dataclass in that module (None: the module parses its own flags)
    run: str | None  # name of the function that takes the config and returns the exit status (or a stage's results)
    help: str  # one line for `minigpt --help`
    summary: str | None = None  # a stage: name of the function (cfg, results) -> the one line printed at the end


# name -> Command. Add one line per command.
COMMANDS = {
    "pipeline": Command("minigpt.pipeline", "PipelineConfig", "main",
                        "pretrain -> sft -> reward -> ppo on the toy world, with a report card"),
    "pretrain": Command("minigpt.stages.pretrain", "PretrainConfig", "run", "pretrain a GPT by next-token prediction",
                        "summary"),
    "sft": Command("minigpt.stages.sft", "SFTConfig", "run",
                   "supervised fine-tuning on chat demonstrations (prompt-masked loss)", "summary"),
    "reward": Command("minigpt.stages.reward", "RewardConfig", "run",
                      "train a reward model on K-way rankings by the gold labeler", "summary"),
    "ppo": Command("minigpt.stages.ppo", "PPOConfig", "run", "RLHF: PPO against the reward model with a KL penalty to SFT",
                   "summary"),
    "dpo": Command("minigpt.stages.dpo", "DPOConfig", "run",
                   "direct preference optimization on gold-labeler pairs (no reward model, no RL)", "summary"),
    "grpo": Command("minigpt.stages.grpo", "GRPOConfig", "run",
                    "group-relative policy optimization against the reward model (no value head)", "summary"),
    "sample": Command("minigpt.sample_cli", "SampleConfig", "main", "sample text from a checkpoint"),
    "gpt2": Command("minigpt.gpt2", None, None,
                    "load OpenAI's GPT-2 weights (Hugging Face model.safetensors) and sample from them"),
    "chat": Command("minigpt.chat", "ChatConfig", "main",
                    "talk to a checkpoint (base models complete text, SFT/PPO models answer)"),
    "world": Command("minigpt.data.assistant.show", "ShowConfig", "main",
                     "print a sample of the toy assistant world (corpus, demos, grades)"),
    "data": Command("minigpt.data.cli", None, None, "fetch/prepare corpora: `data shakespeare`, `data toyweb`"),
    "grade": Command("minigpt.grade", None, None, "grade the course exercises"),
    "lab": Command("minigpt.lab", None, None, "open the course notebooks in JupyterLab"),
}


def _usage() -> str:
    lines = ["usage: minigpt [--debug] <command> [options]   (also: python -m minigpt; minigpt --version)", "", "commands:"]
    for name, command in COMMANDS.items():
        lines.append(f"  {name:<10} {command.help}")
    lines += ["", "Run `minigpt <command> --help` for the options of one command; `--debug` shows tracebacks."]
    return "\n".join(lines)


def parser_for(name):
    """(module, ArgumentParser) of a command, every option with its help text."""
    command = COMMANDS[name]
    module = importlib.import_module(command.module)
    description = f"{command.help}\n\n{(module.__doc__ or '').strip()}"
    if command.config is not None:
        return module, build_parser(getattr(module, command.config), prog=f"minigpt {name}", description=description)
    parser = argparse.ArgumentParser(prog=f"minigpt {name}", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="on an error, show the full Python traceback")
    module.add_cli_args(parser)
    return module, parser


def run_command(name, argv) -> int:
    """Parse `argv` for command `name` and run it (errors propagate)."""
    command = COMMANDS[name]
    module, parser = parser_for(name)
    if command.config is None:
        return int(module.cli_main(parser.parse_args(argv)) or 0)
    cfg = parse_config(getattr(module, command.config), argv, parser=parser)
    result = getattr(module, command.run)(cfg)
    if command.summary:  # a stage: run(cfg) returns its results, summary(cfg, results) says them in one line
        print(getattr(module, command.summary)(cfg, result))
        return 0
    return int(result or 0)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]  # anywhere: `minigpt --debug sft ...`, `minigpt data toyweb ... --debug`
    argv = [a for a in argv[:end] if a != "--debug"] + argv[end:]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        print(f"minigpt {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print(f"minigpt: unknown command {name!r}; expected one of {sorted(COMMANDS)}", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    if dist.launched() and not dist.get_comm().is_main:  # mpiexec -n N: rank 0 alone prints its report
        sys.stdout = open(os.devnull, "w")
    try:
        if name == "pipeline" and not {"-h", "--help"} & set(argv):
            ranks = dist.auto_ranks()  # 2 on a 2+ core machine with the dist extra (dist.auto_ranks says why)
            if ranks > 1:
                return dist.run_as_ranks(ranks, ["-m", "minigpt", *(["--debug"] if debug else []), *argv])
        return run_command(name, argv[1:])
    except Interrupted as e:  # SIGINT/SIGTERM: the loop saved a checkpoint and printed how to resume
        return e.exit_code
    except (NonFiniteError, FileExistsError) as e:  # the run started and stopped: exit status 1
        if debug:
            raise
        print(f"minigpt {name}: error: {e}", file=sys.stderr)
        return dist.abort_on_failure(1)  # under mpiexec: end the other ranks too, which would wait forever
    except Exception as e:  # noqa: BLE001 -- the one place user errors become one line
        if debug:
            raise
        if isinstance(e, (ValueError, OSError)) and str(e):  # bad input: the message says what to change
            message = str(e)
        else:  # anything else may be a bug: say how to see where
            message = f"{type(e).__name__}: {e} (rerun with --debug for the traceback)"
        print(f"minigpt {name}: error: {message}", file=sys.stderr)
        return dist.abort_on_failure(2)


if __name__ == "__main__":
    sys.exit(main())
