r"""The course exercises as the notebooks call them: the student's code first, the reference as fallback.

    from minigpt import course
    dx = course.softmax_backward(y, dy)   # exercises/ex02_autograd.py, or solutions/ while not done

`MINIGPT_IMPL` picks the implementation:
  - "exercises" (default): the student's package exercises/ (generated from solutions/);
  - "solutions": the instructors' reference package solutions/;
  - any other importable package or module defining the same functions; `MINIGPT_IMPL_PATH=DIR`
    puts DIR first on sys.path (the grader uses this for deliberately wrong "mutant" variants).
When an exercise still raises its `NotImplementedError("exercise 05.1: ...")` stub, or its file
does not even import, `course.<function>` calls the reference solution instead and warns once,
naming the exercise, so every notebook still runs top to bottom. Notebooks call their exercises
through `course.check("merge", ids, pair, idx)`: it compares the student's answer with the
reference, says which exercise disagrees on which input (with the command that grades it), and
the notebook goes on with the reference's answer. The graded checks use
`Implementation(name)` directly: no fallback there.

    MINIGPT_IMPL=solutions python -c "from minigpt import course; print(course.merge([1, 2, 3, 1, 2], (1, 2), 4))"
"""
from __future__ import annotations

import copy
import functools
import inspect
import os
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from minigpt import coursefiles
from minigpt.sandbox import Worker, WorkerError
from minigpt.sandbox_worker import resolve_function

DEFAULT_IMPL = "exercises"


# -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Exercise:
    id: str  # "05.1": notebook number . exercise number
    module: str  # file in solutions/ and exercises/, e.g. "ex05_pretraining"
    function: str  # the function the student writes
    marker: str  # pytest marker of its graded checks, e.g. "ex_05_1_cross_entropy"
    title: str  # one line for the score table


EXERCISES = [
    Exercise("01.1", "ex01_bpe", "get_pair_counts", "ex_01_1_pair_counts", "BPE: count adjacent pairs"),
    Exercise("01.2", "ex01_bpe", "merge", "ex_01_2_merge", "BPE: merge a pair into a new id"),
    Exercise("02.1", "ex02_autograd", "mul_backward", "ex_02_1_mul_backward", "backward of `a * b` with broadcasting"),
    Exercise("02.2", "ex02_autograd", "matmul_backward", "ex_02_2_matmul_backward", "backward of batched `a @ b`"),
    Exercise("02.3", "ex02_autograd", "softmax_backward", "ex_02_3_softmax_backward", "softmax backward"),
    Exercise("02.4", "ex02_autograd", "layernorm_backward", "ex_02_4_layernorm_backward", "layernorm backward"),
    Exercise("03.1", "ex03_attention", "causal_self_attention", "ex_03_1_attention", "causal self-attention forward"),
    Exercise("03.2", "ex03_attention", "online_softmax", "ex_03_2_online_softmax", "online softmax: a row's max and sum in one pass over blocks"),
    Exercise("04.1", "ex04_gpt", "gpt_param_count", "ex_04_1_gpt_param_count", "GPT parameter count from its config (GPT-2 small: 124,439,808)"),
    Exercise("05.1", "ex05_pretraining", "cross_entropy", "ex_05_1_cross_entropy", "cross-entropy with `ignore_index`, and its gradient"),
    Exercise("05.2", "ex05_pretraining", "adamw_step", "ex_05_2_adamw", "one AdamW step"),
    Exercise("05.3", "ex05_pretraining", "top_k_top_p_filter", "ex_05_3_top_k_top_p", "top-k / top-p sampling filter"),
    Exercise("06.1", "ex06_sft", "sft_targets", "ex_06_1_sft_targets", "SFT targets with the loss masked to the replies"),
    Exercise("07.1", "ex07_reward", "rm_pairwise_loss", "ex_07_1_rm_loss", "reward-model loss over all C(K,2) ranked pairs"),
    Exercise("08.1", "ex08_ppo", "gae", "ex_08_1_gae", "generalized advantage estimation"),
    Exercise("08.2", "ex08_ppo", "ppo_clip_loss", "ex_08_2_ppo_clip", "PPO clipped policy loss"),
    Exercise("08.3", "ex08_ppo", "kl_penalized_rewards", "ex_08_3_kl_rewards", "per-token rewards with a KL penalty"),
    Exercise("09.1", "ex09_beyond", "dpo_loss", "ex_09_1_dpo_loss", "DPO loss of preference pairs, and its gradient"),
    Exercise("09.2", "ex09_beyond", "grpo_advantages", "ex_09_2_grpo_advantages", "GRPO group-relative advantages"),
    Exercise("09.3", "ex09_beyond", "rope_rotate", "ex_09_3_rope", "RoPE: rotate query/key channel pairs by position"),
    Exercise("09.4", "ex09_beyond", "lora_merge", "ex_09_4_lora_merge", "LoRA: merge a trained adapter into its weight"),
    Exercise("10.1", "ex10_softmax", "softmax_rows", "ex_10_1_softmax_kernel", "row-softmax CUDA kernel, run on the CPU shim"),
    Exercise("11.1", "ex11_model_family", "pass_at_k", "ex_11_1_pass_at_k", "unbiased pass@k from n samples with c correct (Codex)"),
]
BY_ID = {ex.id: ex for ex in EXERCISES}


def markers() -> list[tuple[str, str]]:
    """(name, description) of every pytest marker the graded checks use, generated from EXERCISES."""
    return [("points(n)", "points a graded check is worth (default 1)")] + [
        (ex.marker, f"graded checks of exercise {ex.id} ({ex.function})") for ex in EXERCISES]
BY_FUNCTION = {ex.function: ex for ex in EXERCISES}


class ExerciseNotDoneWarning(UserWarning):
    """An exercise is not done yet (or its file does not import); the reference solution ran instead."""


def impl_name() -> str:
    """The implementation chosen by MINIGPT_IMPL (default "exercises")."""
    return os.environ.get("MINIGPT_IMPL", "").strip() or DEFAULT_IMPL


def is_stub_error(err: BaseException) -> bool:
    """True for the NotImplementedError raised by a generated exercise stub."""
    return isinstance(err, NotImplementedError) and str(err).startswith("exercise ")


def lookup(function: str) -> Exercise:
    if function not in BY_FUNCTION:
        raise AttributeError(f"minigpt.course has no exercise function {function!r}; known: {sorted(BY_FUNCTION)}")
    return BY_FUNCTION[function]


# -----------------------------------------------------------------------------
class Implementation:
    r"""One implementation of all exercises: a package with the exercise modules, or one module.

    `Implementation("exercises").merge` is exercises.ex01_bpe.merge; for a name whose module
    itself defines the function (a single-file mutant), that function is used directly.
    No fallback: the graded checks must see exactly the student's code.
    """

    def __init__(self, name: str | None = None, path: str | None = None):
        self.name = name or impl_name()
        self.path = path if path is not None else os.environ.get("MINIGPT_IMPL_PATH") or None

    def resolve(self, function: str):
        ex = lookup(function)
        if self.path and self.path not in sys.path:
            sys.path.insert(0, self.path)
        try:
            coursefiles.make_importable()  # solutions/ and exercises/ of the checkout or of the installed wheel
        except FileNotFoundError:  # a student release (no solutions/): exercises/ beside minigpt or in the working directory
            for folder in (str(coursefiles.CHECKOUT), os.getcwd()):
                if folder not in sys.path:
                    sys.path.append(folder)
        try:
            return resolve_function(self.name, ex.module, function)
        except AttributeError as e:
            raise AttributeError(f"{e} (exercise {ex.id})") from e

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        return self.resolve(function)

    def __repr__(self):
        return f"Implementation({self.name!r})"


class CallAborted(BaseException):
    r"""A graded call after which more inputs cost much and teach little; `error` is what happened: the
    exercise's stub or a function that cannot be imported (a SyntaxError, a missing name) fail for every
    input alike; a crash, a timeout or a garbled answer cost a worker restart (or the time limit) each.

    A BaseException, not an Exception, so that a property-based check (hypothesis) stops at once
    instead of shrinking an input that every call fails on: each shrinking step would restart the
    worker or wait out the time limit again (minutes for one check). pytest still records the
    check as failed; the graded conftest reports `error` itself.
    """

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


class RemoteImplementation:
    r"""Like `Implementation`, but every call runs in a sandboxed worker process (minigpt.sandbox).

    `RemoteImplementation("exercises").merge(ids, pair, idx)` sends the arguments to the worker,
    which imports the student's package and calls its merge; the returned plain value comes
    back. The graded checks use this, so the student's code never runs where the verdict is made.
    One worker serves all calls; a call that crashes or hangs kills it and the next call starts
    a new one. `timeout` bounds each call in seconds. A call that reaches the stub, cannot import the
    function, crashes, times out or garbles its answer raises `CallAborted` (its `error` says which).
    """

    def __init__(self, name: str | None = None, path: str | None = None, timeout: float = 60.0,
                 expose: dict | None = None, on_start=None):

        self.name = name or impl_name()
        self.path = path if path is not None else os.environ.get("MINIGPT_IMPL_PATH") or None
        self.timeout = timeout
        self.worker = Worker(self.name, self.path, expose=expose)
        self._on_start = on_start
        self._started = False

    def call(self, function: str, *args, **kwargs):
        ex = lookup(function)
        timeout = self.timeout
        if self.worker.proc is None:
            self.worker.start()
            if not self._started:  # the very first call imports the student's code (10.1 compiles its kernel)
                timeout, self._started = 3 * self.timeout, True
            if self._on_start:
                self._on_start(self.worker)
        try:
            return self.worker.call(ex.module, function, *args, timeout=timeout, **kwargs)
        except WorkerError as err:  # crash, timeout, a garbled answer: each would cost a worker restart again
            raise CallAborted(err) from None
        except Exception as err:  # noqa: BLE001 - re-raised unless every input would fail alike
            if is_stub_error(err) or getattr(err, "minigpt_stage", "call") == "resolve":
                raise CallAborted(err) from None
            raise

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        lookup(function)
        return functools.partial(self.call, function)

    def close(self) -> None:
        self.worker.close()

    def __repr__(self):
        return f"RemoteImplementation({self.name!r})"


def solution(function: str):
    """The reference solution of an exercise function."""
    return Implementation("solutions", path="").resolve(function)


# -----------------------------------------------------------------------------
_warned: set[str] = set()


def _warn_once(ex: Exercise, why: str) -> None:
    if ex.function in _warned:
        return
    _warned.add(ex.function)
    warnings.warn(
        f"exercise {ex.id} ({ex.function}) {why}: using the reference solution instead. "
        f"Write it in exercises/{ex.module}.py, then check it with `minigpt grade`.",
        ExerciseNotDoneWarning,
        stacklevel=3,
    )


def _with_fallback(ex: Exercise):
    try:
        reference = solution(ex.function)
    except (ImportError, FileNotFoundError):  # a student release has no solutions/: the student's function, stub or not
        return functools.partial(_student_only, ex)

    @functools.wraps(reference)
    def call(*args, **kwargs):
        name = impl_name()
        if name == "solutions":
            return reference(*args, **kwargs)
        try:
            fn = Implementation(name).resolve(ex.function)
        except Exception as err:  # a SyntaxError or ImportError in the student's file
            _warn_once(ex, f"could not be loaded from {name!r} ({type(err).__name__}: {err})")
            return reference(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as err:
            if not is_stub_error(err):
                raise
            _warn_once(ex, "is not done yet")
            return reference(*args, **kwargs)

    return call


def _student_only(ex: Exercise, *args, **kwargs):
    fn = Implementation(impl_name()).resolve(ex.function)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        if is_stub_error(err):
            raise NotImplementedError(f"{err}. This copy of the course has no reference solutions to fall back on: "
                                      f"write it in exercises/{ex.module}.py, then check it with `minigpt grade --only {ex.id}`") from None
        raise


# -----------------------------------------------------------------------------
# notebooks: the student's answer checked against the reference, the notebook going on with the reference
_disagreed: set[str] = set()


def check(function: str, *args, rtol: float = 1e-6, atol: float = 1e-9, **kwargs):
    r"""`course.<function>(*args, **kwargs)`, checked against the reference; returns the reference's answer.

    Notebooks call their exercises through this, so a wrong exercise cannot derail the rest of the notebook:

        p = course.check("pass_at_k", 10, 3, 2)   # 1 - C(7,2)/C(10,2) = 0.5333..., whatever yours says

    The student's function (MINIGPT_IMPL) runs on copies of the arguments. Not written yet: the reference
    runs, with the usual ExerciseNotDoneWarning. Raises, or answers differently (numbers compared with
    |yours - reference| <= atol + rtol |reference|, shapes, NaNs and infinities included): one message
    names the exercise, the input, both answers and the command that grades it, once per exercise,
    and the notebook continues with the reference's answer. With no solutions/ to compare with
    (a student release), the student's answer is returned as is.
    """
    ex = lookup(function)
    try:
        reference = solution(function)
    except (ImportError, FileNotFoundError):
        return _student_only(ex, *args, **kwargs)
    expected = reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    name = impl_name()
    if name == "solutions":
        return expected
    try:
        fn = Implementation(name).resolve(function)
    except Exception as err:  # a SyntaxError or ImportError in the student's file
        _warn_once(ex, f"could not be loaded from {name!r} ({type(err).__name__}: {err})")
        return expected
    try:
        actual = fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except NotImplementedError as err:
        if not is_stub_error(err):
            _report(ex, reference, args, kwargs, f"raised NotImplementedError: {err}", expected)
            return expected
        _warn_once(ex, "is not done yet")
        return expected
    except Exception as err:  # noqa: BLE001 - any bug of the student's: report it, go on
        _report(ex, reference, args, kwargs, f"raised {type(err).__name__}: {err}", expected)
        return expected
    if not agree(actual, expected, rtol=rtol, atol=atol):
        _report(ex, reference, args, kwargs, _show(actual), expected)
    return expected


def agree(actual, expected, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when two answers match: same structure (tuples, lists, dicts), numbers within atol + rtol |expected|."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and actual.keys() == expected.keys() and all(
            agree(actual[key], expected[key], rtol, atol) for key in expected)
    if isinstance(expected, (tuple, list)):
        return isinstance(actual, (tuple, list)) and len(actual) == len(expected) and all(
            agree(a, e, rtol, atol) for a, e in zip(actual, expected))
    if isinstance(expected, str) or expected is None:
        return actual == expected
    try:
        a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == e.shape and bool(np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True))


def _show(value, limit: int = 400) -> str:
    """A short, readable repr of an argument or answer (small arrays in full, big ones by shape)."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=24, precision=6, separator=", ")
        text = f"{text} ({value.dtype}, shape {value.shape})"
    elif isinstance(value, (tuple, list)):
        text = ("(" if isinstance(value, tuple) else "[") + ", ".join(_show(v, limit) for v in value) + (
            ")" if isinstance(value, tuple) else "]")
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _report(ex: Exercise, reference, args, kwargs, yours: str, expected) -> None:
    """Print (once per exercise) which exercise disagrees, on which input, and how to grade it."""
    if ex.function in _disagreed:
        return
    _disagreed.add(ex.function)
    try:
        named = inspect.signature(reference).bind(*args, **kwargs).arguments.items()
    except TypeError:
        named = [(f"arg{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    inputs = ", ".join(f"{k}={_show(v, 200)}" for k, v in named)
    print(f"exercise {ex.id} ({ex.function}, exercises/{ex.module}.py) disagrees with the reference\n"
          f"  on the input: {inputs}\n"
          f"  yours:        {yours}\n"
          f"  reference:    {_show(expected)}\n"
          f"Grade it with `minigpt grade --only {ex.id} --verbose`. This notebook continues with the reference's answer.")


def __getattr__(function: str):
    """`course.<exercise function>`: the chosen implementation, falling back to the solution."""
    if function.startswith("__"):
        raise AttributeError(function)
    return _with_fallback(lookup(function))


def __dir__():
    return sorted(list(globals()) + list(BY_FUNCTION))
