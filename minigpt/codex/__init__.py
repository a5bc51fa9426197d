r"""Codex at toy scale: a tiny sandboxed language (Toy), programming problems checked by execution, pass@k.

    lang.py    Toy: lexer, parser, step-budgeted interpreter (no exec, no files, no imports)
    tasks.py   problems "# add 3, then square it" with hidden tests; the unbiased pass@k estimator
    sampling.py  sample programs from a code model, pass@k per temperature (imports stages: load it explicitly)

    from minigpt.codex import run_program, make_problems, check_program, pass_at_k
    python -m minigpt.codex                    # demo
    python -m minigpt.codex "return x * x" 7   # run one program
"""
from minigpt.codex.lang import RunResult, ToyError, parse, run_program, tokenize
from minigpt.codex.tasks import (STEPS, Problem, check_program, failure_kinds, make_problems, mean_pass_at_k,
                                 pass_at_k, split_of, training_text)

__all__ = ["RunResult", "ToyError", "parse", "run_program", "tokenize", "STEPS", "Problem", "check_program",
           "failure_kinds", "make_problems", "mean_pass_at_k", "pass_at_k", "split_of", "training_text"]
