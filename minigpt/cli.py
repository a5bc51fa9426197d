"""The `minigpt` command line.

Each subcommand lives next to the code it drives: the module listed in COMMANDS
provides `add_cli_args(parser)` and `cli_main(args) -> int`. Modules are imported
only when their command runs, so `minigpt --help` stays instant and nothing heavy
(CuPy, matplotlib) is imported by accident.

    minigpt --help
    minigpt pipeline --quick
"""
import argparse
import importlib
import sys

# name -> (module, one-line help). Add one line per command.
COMMANDS = {
    "pretrain": ("minigpt.stages.pretrain", "pretrain a GPT by next-token prediction"),
    "sample": ("minigpt.sample_cli", "sample text from a checkpoint"),
    "lab": ("minigpt.lab", "open the course notebooks in JupyterLab"),
    "data": ("minigpt.data.cli", "fetch/prepare corpora: `data shakespeare`, `data toyweb`"),
    "grade": ("minigpt.grade", "grade the course exercises"),
    "world": ("minigpt.data.assistant.show", "print a sample of the toy assistant world (corpus, demos, grades)"),
    "sft": ("minigpt.stages.sft", "supervised fine-tuning on chat demonstrations (prompt-masked loss)"),
    "reward": ("minigpt.stages.reward", "train a reward model on K-way rankings by the gold labeler"),
    "ppo": ("minigpt.stages.ppo", "RLHF: PPO against the reward model with a KL penalty to SFT"),
    "dpo": ("minigpt.stages.dpo", "direct preference optimization on gold-labeler pairs (no reward model, no RL)"),
    "grpo": ("minigpt.stages.grpo", "group-relative policy optimization against the reward model (no value head)"),
    "pipeline": ("minigpt.pipeline", "pretrain -> sft -> reward -> ppo on the toy world, with a report card"),
    "gpt2": ("minigpt.gpt2", "load OpenAI's GPT-2 weights (Hugging Face model.safetensors) and sample from them"),
    "chat": ("minigpt.chat", "talk to a checkpoint (base models complete text, SFT/PPO models answer)"),
}


def _usage() -> str:
    lines = ["usage: minigpt <command> [options]   (also: python -m minigpt; minigpt --version)", "", "commands:"]
    for name, (_, help_) in COMMANDS.items():
        lines.append(f"  {name:<10} {help_}")
    lines += ["", "Run `minigpt <command> --help` for the options of one command."]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        from minigpt import __version__
        print(f"minigpt {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print(f"minigpt: unknown command {name!r}; expected one of {sorted(COMMANDS)}", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"minigpt {name}", description=help_)
    module.add_cli_args(parser)
    args = parser.parse_args(argv[1:])
    from minigpt.loop import Interrupted, NonFiniteError
    try:
        return int(module.cli_main(args) or 0)
    except Interrupted as e:  # SIGINT/SIGTERM: the loop saved a checkpoint and printed how to resume
        return e.exit_code
    except (NonFiniteError, FileExistsError) as e:
        print(f"minigpt {name}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
