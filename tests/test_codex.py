"""Codex pieces: pass@k against brute force, the Toy interpreter, its sandbox and step limits, the problems."""
import itertools
import math
import sys
import time
from fractions import Fraction

import numpy as np
import pytest

from minigpt.codex import (Problem, check_program, failure_kinds, make_problems, mean_pass_at_k, parse,
                           pass_at_k, run_program, split_of, training_text)

# -----------------------------------------------------------------------------
# pass@k


def brute_force_pass_at_k(n, c, k):
    """Fraction of all k-subsets of n samples (the first c correct) that contain a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


def test_pass_at_k_matches_enumeration_for_small_n():
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(n, c, k), abs=1e-12), (n, c, k)


def test_pass_at_k_hand_worked():
    """n=5, c=2, k=2: C(3,2)/C(5,2) = 3/10 fail → 0.7. k=1 is the plain pass rate c/n."""
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7, abs=1e-12)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3, abs=1e-12)
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 7, 4) == 1.0  # n - c = 3 < k: every 4-subset has a correct one


def test_pass_at_k_stable_for_large_n():
    """The binomials have ~100s of digits; the product form must agree with exact rational arithmetic."""
    for n, c, k in [(1000, 3, 100), (500, 250, 10), (2000, 1, 1000), (300, 17, 150)]:
        exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
        assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-9, abs=1e-12)


def test_pass_at_k_is_not_the_biased_estimate():
    """1 - (1 - c/n)^k assumes sampling with replacement: for n=4, c=1, k=4 it says 0.68, the truth is 1."""
    assert 1 - (1 - 1 / 4) ** 4 == pytest.approx(0.68359375)
    assert pass_at_k(4, 1, 4) == 1.0


def test_mean_pass_at_k_and_bad_inputs():
    assert mean_pass_at_k([0, 2, 5], n=5, k=1) == pytest.approx((0 + 0.4 + 1.0) / 3)
    for n, c, k in [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6)]:
        with pytest.raises(ValueError, match="pass@k needs"):
            pass_at_k(n, c, k)


# -----------------------------------------------------------------------------
# the Toy language


@pytest.mark.parametrize("src, x, want", [
    ("return 2 + 3 * 4", 0, 14),  # * binds tighter than +
    ("return (2 + 3) * 4", 0, 20),
    ("return 7 / 2", 0, 3),
    ("return -7 / 2", 0, -4),  # floor, like Python's //
    ("return -7 % 3", 0, 2),
    ("return 10 - 3 - 2", 0, 5),  # left associative
    ("return 1 < 2 and 2 < 1", 0, 0),
    ("return not 1 == 2", 0, 1),
    ("y = x * 2\ny = y + 1\nreturn y", 3, 7),  # newlines separate statements
    ("if x < 0 { x = -x } else { x = x + 100 }; return x", -5, 5),
    ("if x < 0 { x = -x } else { x = x + 100 }; return x", 5, 105),
    ("s = 0; while x > 0 { s = s + x; x = x - 1 }; return s", 4, 10),  # 4+3+2+1
    ("return min(x, 3) + max(x, 3) + abs(-2)", 5, 10),
])
def test_toy_programs_hand_worked(src, x, want):
    r = run_program(src, {"x": x})
    assert r.ok, r.message
    assert r.value == want


@pytest.mark.parametrize("src, kind, words", [
    ("return y", "runtime", "used before"),
    ("return 1 / 0", "runtime", "division by zero"),
    ("x = 1", "runtime", "without 'return'"),
    ("y = 2; while 1 { y = y * y }; return y", "runtime", "out of range"),
    ("x = 3 return x", "syntax", "expected ';'"),
    ("if x { return 1", "syntax", "missing '}'"),
    ("return min(1)", "syntax", "takes 2"),
    ("return " + "(" * 100 + "1" + ")" * 100, "syntax", "nesting"),
    ("return " + "1 + " * 1000 + "1", "syntax", "longer than"),
])
def test_toy_errors_are_results_not_exceptions(src, kind, words):
    r = run_program(src, {"x": 1})
    assert r.error == kind and words in r.message and r.value is None


def test_infinite_loop_is_stopped_by_the_step_budget():
    t0 = time.perf_counter()
    r = run_program("while 1 { x = x + 1 }; return x", {"x": 0}, max_steps=5000)
    assert r.error == "timeout" and r.steps == 5001
    assert time.perf_counter() - t0 < 1.0
    # the budget is deterministic: the same program fails at the same step every time
    assert run_program("while 1 { x = x + 1 }; return x", {"x": 0}, max_steps=5000).steps == 5001


def test_infinite_loop_is_stopped_by_the_clock():
    """Even with an (effectively) unlimited step budget, the wall-clock deadline ends the run."""
    t0 = time.perf_counter()
    r = run_program("while x == x { x = x + 1 }; return x", {"x": 0}, max_steps=10**12, timeout_s=0.2)
    elapsed = time.perf_counter() - t0
    assert r.error == "timeout" and "wall-clock" in r.message
    assert 0.2 <= elapsed < 2.0


ESCAPES = [
    "import os",
    "import os; return 1",
    "from os import system",
    'open("/etc/passwd")',
    "return open(1)",
    "return __import__(1)",
    "__import__('os').system('ls')",
    'exec("print(1)")',
    "return eval(1)",
    "return x.__class__",
    "return [1]",
    "return lambda: 1",
    "x = 1\n    return os",
    "return socket(1, 2)",
    "return compile(1, 2)",
    "return getattr(x, 1)",
    "while 1 { x = x }",
]


@pytest.mark.parametrize("src", ESCAPES)
def test_escape_attempts_are_just_errors(src):
    r = run_program(src, {"x": 1}, max_steps=1000)
    assert not r.ok and r.value is None


def test_interpreter_touches_nothing_outside_itself():
    """Run hostile and ordinary programs under an audit hook: no file, import, exec, socket or process event."""
    seen, active = [], [False]
    watched = ("open", "import", "exec", "compile", "socket", "subprocess", "os.", "shutil", "urllib", "ctypes")

    def hook(event, args):
        if active[0] and event.startswith(watched):
            seen.append(event)

    sys.addaudithook(hook)  # hooks cannot be removed; this one is inert outside the `active` window
    programs = ESCAPES + [p.solution() for p in make_problems(20, seed=3)]
    active[0] = True
    try:
        for src in programs:
            run_program(src, {"x": 3}, max_steps=2000)
    finally:
        active[0] = False
    assert seen == []


def test_parse_gives_a_tree_of_tuples():
    assert parse("return x + 1") == ("seq", [("return", ("bin", "+", ("var", "x"), ("int", 1)))])


def test_bad_input_names_are_rejected():
    with pytest.raises(ValueError, match="Toy identifiers"):
        run_program("return 1", {"while": 1})


# -----------------------------------------------------------------------------
# problems


def test_problem_hand_worked():
    """"add 3, then square it" on x = -4: (-4 + 3)² = 1; on 7: 100."""
    p = Problem((("add", 3), ("square", 0)))
    assert p.prompt == "# add 3, then square it\n"
    assert dict(p.tests)[-4] == 1 and dict(p.tests)[7] == 100
    assert check_program("x = x + 3; x = x * x; return x", p)
    assert check_program("return (x + 3) * (x + 3)", p)  # any correct program passes
    assert not check_program("x = x * x; x = x + 3; return x", p)  # wrong order
    assert not check_program("x = x + 3; x = x * x", p)  # no return


def test_every_solution_variant_passes_and_splits_are_disjoint():
    train, held = make_problems(300, seed=0), make_problems(60, seed=0, split="eval")
    assert not set(train) & set(held)
    assert all(split_of(p) == "train" for p in train) and all(split_of(p) == "eval" for p in held)
    rng = np.random.default_rng(0)
    assert all(check_program(p.solution(rng), p) for p in train + held)
    text = training_text(train[:10], seed=0)
    assert text.count("\n") == 20 and text.startswith("# ")


def test_failure_kinds():
    p = Problem((("sum", 0),))
    out = failure_kinds(["s = 0; while x > 0 { s = s + x }; x = s; return x",  # forgot x = x - 1: loops
                         "return x", "return (", p.solution()], p)
    assert out == {"pass": 1, "wrong": 1, "syntax": 1, "runtime": 0, "timeout": 1}
