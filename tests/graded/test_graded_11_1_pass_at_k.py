"""Graded checks for exercise 11.1: pass_at_k (solutions/ex11_model_family.py).

The expected values never come from a float product: `exact` divides Python's exact integer
binomials, 1 − C(n−c, k)/C(n, k) (int / int is correctly rounded however large), and `by_counting` enumerates every
draw of k samples out of n. Checked properties, one per check:
  - the worked examples of the docstring;
  - k = 1 gives c/n; c = 0 gives 0; c = n gives 1; k > n − c gives exactly 1; k = n gives 1 or 0;
  - small n: the fraction of all k-subsets that contain a correct sample;
  - n = 10^4 (binomials of ~3000 digits: factorials overflow a float, the naive (1 − c/n)^k is biased);
  - random n up to 3000, c, k, as Python ints, NumPy int64 and int32: |actual − exact| <= 1e-10 + 1e-9·exact;
  - bad input (c > n, c < 0, k < 1, k > n, a float n): ValueError.
"""
import itertools
import math

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

from _props import expect_close, failure

pytestmark = pytest.mark.ex_11_1_pass_at_k
TOL = {"rtol": 1e-9, "atol": 1e-10}


def exact(n, c, k):
    """1 − C(n−c, k) / C(n, k) from exact integer binomials (math.comb is 0 when k > n − c); the ratio is rounded once."""
    n, c, k = int(n), int(c), int(k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def by_counting(n, c, k):
    """Samples 0..c−1 are the correct ones; the fraction of all k-subsets of the n samples holding one of them."""
    draws = list(itertools.combinations(range(n), k))
    return sum(any(s < c for s in d) for d in draws) / len(draws)


def check(impl, n, c, k, prop):
    actual = impl.pass_at_k(n, c, k)
    expect_close(actual, exact(n, c, k), prop, {"n": n, "c": c, "k": k}, **TOL)
    if not isinstance(actual, float):
        raise failure(prop, {"n": n, "c": c, "k": k}, actual, exact(n, c, k), f"return a Python float, not {type(actual).__name__}")


# -----------------------------------------------------------------------------
@pytest.mark.points(2)
def test_worked_examples(impl):
    """Docstring: (5, 2, 2) -> 1 − C(3,2)/C(5,2) = 0.7; (10, 3, 1) -> 0.3; (10, 0, 4) -> 0; (10, 8, 3) -> 1."""
    for (n, c, k), want in [((5, 2, 2), 0.7), ((10, 3, 1), 0.3), ((10, 0, 4), 0.0), ((10, 8, 3), 1.0)]:
        expect_close(impl.pass_at_k(n, c, k), want, "the docstring's worked examples", {"n": n, "c": c, "k": k}, **TOL)


def test_one_draw_is_the_fraction_correct(impl):
    """k = 1: one draw is correct with probability c/n."""
    for n, c in [(1, 0), (1, 1), (7, 3), (200, 13), (9999, 1)]:
        expect_close(impl.pass_at_k(n, c, 1), c / n, "k = 1: pass@1 = c/n", {"n": n, "c": c, "k": 1}, **TOL)


def test_no_correct_sample_gives_zero(impl):
    for n, k in [(1, 1), (5, 3), (10000, 1), (10000, 10000)]:
        expect_close(impl.pass_at_k(n, 0, k), 0.0, "c = 0: no draw can contain a correct sample", {"n": n, "c": 0, "k": k}, atol=0, rtol=0)


def test_all_correct_gives_one(impl):
    for n, k in [(1, 1), (5, 3), (10000, 1), (10000, 10000)]:
        expect_close(impl.pass_at_k(n, n, k), 1.0, "c = n: every draw is correct", {"n": n, "c": n, "k": k}, atol=0, rtol=0)


@pytest.mark.points(2)
def test_more_draws_than_wrong_samples_give_exactly_one(impl):
    """k > n − c: fewer than k wrong samples exist, so every draw of k holds a correct one (1.0 exactly, not 1 − tiny)."""
    for n, c, k in [(5, 3, 3), (10, 8, 3), (10, 8, 10), (100, 60, 41), (100, 60, 99), (10000, 9990, 11), (10000, 5000, 7000)]:
        expect_close(impl.pass_at_k(n, c, k), 1.0, "k > n − c: pass@k = 1", {"n": n, "c": c, "k": k}, atol=0, rtol=0)


def test_k_equal_to_n(impl):
    """k = n: the one draw is all samples; pass@n = 1 if any sample is correct, else 0."""
    for n, c in [(1, 0), (1, 1), (6, 1), (6, 0), (1000, 1), (1000, 0)]:
        expect_close(impl.pass_at_k(n, c, n), float(c > 0), "k = n: 1 if c > 0 else 0", {"n": n, "c": c, "k": n}, atol=0, rtol=0)


@pytest.mark.points(2)
def test_small_n_counts_every_draw(impl):
    """n <= 7, every c and k: the fraction of all C(n, k) draws that contain a correct sample."""
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                expect_close(impl.pass_at_k(n, c, k), by_counting(n, c, k), "pass@k = share of the k-subsets with a correct sample",
                             {"n": n, "c": c, "k": k}, **TOL)


@pytest.mark.points(2)
def test_ten_thousand_samples(impl):
    """n = 10^4: C(n, k) has up to ~3000 digits (a float factorial overflows); (1 − c/n)^k is off by up to ~1e-3."""
    for c in (1, 37, 5000, 9990):
        for k in (1, 2, 100, 1000, 5000):
            check(impl, 10000, c, k, "pass@k = 1 − C(n−c, k)/C(n, k) at n = 10^4")


@pytest.mark.points(3)
@settings(phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])  # no "explain" phase: it costs ~10x the run
@given(n=st.one_of(st.integers(1, 60), st.integers(1, 3000)), c_frac=st.floats(0, 1), k_frac=st.floats(0, 1),
       kind=st.sampled_from(["int", "int64", "int32"]))
def test_property_against_exact_binomials(impl, n, c_frac, k_frac, kind):
    """For any 0 <= c <= n, 1 <= k <= n (Python or NumPy integers): pass@k = 1 − C(n−c, k)/C(n, k), a Python float."""
    c = round(c_frac * n)
    k = max(1, round(k_frac * n))
    cast = {"int": int, "int64": np.int64, "int32": np.int32}[kind]
    check(impl, cast(n), cast(c), cast(k), f"pass@k = 1 − C(n−c, k)/C(n, k) for {kind} inputs")


def test_bad_input_is_a_value_error(impl):
    """The docstring's preconditions: 0 <= c <= n, 1 <= k <= n, integers."""
    for n, c, k in [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6), (10.0, 3, 2)]:
        with pytest.raises(ValueError):
            impl.pass_at_k(n, c, k)
            raise AssertionError(f"pass_at_k({n!r}, {c!r}, {k!r}) returned instead of raising ValueError")
