r"""Graded checks for exercise 09.2: grpo_advantages (solutions/ex09_beyond.py).

GRPO (Shao et al. 2024, DeepSeekMath): for the G responses r_1..r_G of one prompt,

    A_i = (r_i − mean(r)) / (std(r) + ε),    std = population standard deviation (divide by G)

with the groups laid out consecutively in the (N,) batch. Properties checked, each in its own
test: the worked example; the population (not the sample) std; a group of equal rewards gives
zeros, not NaN; G = 1 gives zeros; each group is normalised on its own (scales 1e-3 and 1e3 in
one batch); ε is added to the std (not to the variance, and not left out); consecutive groups;
integer rewards; an empty batch; bad input raises; and, on adversarial batches (per-group
scales 1e-3..1e3, offsets ±1e3, ties, int/float32, G = 1..6), the answer against a float64
reference written here.
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from _props import dtypes, expect_close, failure, offsets, rows_with_scales, seeds

pytestmark = pytest.mark.ex_09_2_grpo_advantages


def reference(rewards, G, eps=1e-4):
    """Group by group in Python floats: mean, population std (Σ (r − mean)² / G), then (r − mean) / (std + ε)."""
    values = np.asarray(rewards, dtype=np.float64).tolist()
    out = []
    for start in range(0, len(values), G):
        group = values[start:start + G]
        mean = math.fsum(group) / G
        std = math.sqrt(math.fsum((x - mean) ** 2 for x in group) / G)
        out += [0.0 if x == mean else (x - mean) / (std + eps) for x in group]
    return np.array(out, dtype=np.float64)


def call(impl, rewards, G, **kw):
    with np.errstate(all="ignore"):
        return impl.grpo_advantages(np.asarray(rewards), G, **kw)


@pytest.mark.points(2)
def test_worked_example(impl):
    """[1, 0, 0, 1, 2, 2], G = 2: groups [1, 0], [0, 1], [2, 2]; std 0.5, 0.5, 0 -> ±0.5/0.5001 and 0, 0."""
    a = 0.5 / 0.5001
    expect_close(call(impl, [1.0, 0.0, 0.0, 1.0, 2.0, 2.0], 2), [a, -a, -a, a, 0.0, 0.0],
                 "A_i = (r_i − group mean) / (group std + 1e-4)", {"rewards": [1, 0, 0, 1, 2, 2], "group_size": 2})


@pytest.mark.points(2)
def test_population_std(impl):
    """[0, 1, 2], G = 3: population std √(2/3) ≈ 0.8165 (divide by G), not the sample std 1 (divide by G − 1)."""
    s = math.sqrt(2.0 / 3.0)
    expect_close(call(impl, [0.0, 1.0, 2.0], 3), [-1.0 / (s + 1e-4), 0.0, 1.0 / (s + 1e-4)],
                 "std is the population standard deviation: √(Σ (r − mean)² / G)", {"rewards": [0, 1, 2], "group_size": 3})


@pytest.mark.points(2)
def test_equal_rewards_give_zeros_not_nan(impl):
    """A group whose responses all score the same teaches nothing: advantages exactly 0, never NaN."""
    x = [0.7, 0.7, 0.7, 0.7, -3.0, 5.0, 1.0, 1.0]
    got = call(impl, x, 4)
    expect_close(got, reference(x, 4), "equal rewards in a group: A = 0 (0 / (0 + ε)), not NaN", {"rewards": x, "group_size": 4})


def test_group_of_one_gives_zero(impl):
    """G = 1: each response is its own baseline, so every advantage is 0 (finite: the population std of one value is 0)."""
    x = [3.0, -1.0, 250.0]
    expect_close(call(impl, x, 1), [0.0, 0.0, 0.0], "G = 1: r − mean = 0, std = 0, A = 0", {"rewards": x, "group_size": 1})


@pytest.mark.points(2)
def test_each_group_on_its_own_scale(impl):
    """Scales 1e-3 and 1e3 in one batch: both groups give advantages of order 1 (normalised per group, not per batch)."""
    x = [0.0, 1e-3, -2e3, 0.0]
    s_small, s_big = 0.5e-3, 1e3
    want = [-s_small / (s_small + 1e-4), s_small / (s_small + 1e-4), -s_big / (s_big + 1e-4), s_big / (s_big + 1e-4)]
    expect_close(call(impl, x, 2), want, "each group of G is normalised by its own mean and std", {"rewards": x, "group_size": 2})


def test_eps_is_added_to_the_std(impl):
    """Group [0, 2e-4]: std 1e-4, so A = ±1e-4 / (1e-4 + 1e-4) = ±0.5 (ε on the std, not under the square root)."""
    expect_close(call(impl, [0.0, 2e-4], 2), [-0.5, 0.5], "A = (r − mean) / (std + ε) with ε = 1e-4", {"rewards": [0, 2e-4], "group_size": 2})


def test_eps_argument_is_used(impl):
    expect_close(call(impl, [0.0, 1.0], 2, eps=0.5), [-0.5, 0.5], "A = ±0.5 / (0.5 + ε) with ε = 0.5",
                 {"rewards": [0, 1], "group_size": 2, "eps": 0.5})


def test_groups_are_consecutive(impl):
    """[0, 10, 1, 11], G = 2: the groups are [0, 10] and [1, 11] (consecutive), not [0, 1] and [10, 11]."""
    a = 5.0 / 5.0001
    expect_close(call(impl, [0.0, 10.0, 1.0, 11.0], 2), [-a, a, -a, a], "responses 0..G−1 form group 0, G..2G−1 group 1, ...",
                 {"rewards": [0, 10, 1, 11], "group_size": 2})


def test_integer_rewards_give_float_advantages(impl):
    got = call(impl, np.array([3, 1, 2, 2], dtype=np.int64), 2)
    a = 1.0 / 1.0001
    expect_close(got, [a, -a, 0.0, 0.0], "integer rewards: the advantages are real numbers", {"rewards": [3, 1, 2, 2], "group_size": 2})
    if np.asarray(got).dtype != np.float64:
        raise failure("the advantages are a float64 array", {"rewards": [3, 1, 2, 2]}, np.asarray(got).dtype, np.dtype("float64"))


def test_empty_batch(impl):
    got = call(impl, np.zeros(0), 4)
    if np.shape(got) != (0,):
        raise failure("N = 0 responses: an empty (0,) array", {"rewards": [], "group_size": 4}, got, np.zeros(0))


@pytest.mark.parametrize("bad", ["not a multiple", "group size 0", "2-D", "negative eps"])
def test_bad_input_raises(impl, bad):
    args = {"not a multiple": (np.zeros(5), 2, 1e-4), "group size 0": (np.zeros(4), 0, 1e-4),
            "2-D": (np.zeros((2, 2)), 2, 1e-4), "negative eps": (np.zeros(4), 2, -1.0)}[bad]
    with pytest.raises(ValueError):
        impl.grpo_advantages(args[0], args[1], eps=args[2])


# -----------------------------------------------------------------------------
# property: groups with their own scales (1e-3 .. 1e3), offsets ±1e3, ties, int / float32 rewards, G = 1..6
@pytest.mark.points(3)
@given(seed=seeds, P=st.integers(1, 4), G=st.integers(1, 6), dtype=dtypes, offset=offsets, ties=st.booleans())
def test_property_against_reference(impl, seed, P, G, dtype, offset, ties):
    """A_i = (r_i − mean of its group) / (population std of its group + 1e-4), in float64."""
    rng = np.random.default_rng(seed)
    rewards = rows_with_scales(rng, (P, G), dtype, offset, ties).reshape(-1)  # row p = group p, its own scale
    got = call(impl, rewards, G)
    expect_close(got, reference(rewards, G), "A_i = (r_i − group mean) / (population group std + 1e-4), groups of G consecutive rewards",
                 {"rewards": rewards, "group_size": G}, rtol=1e-6, atol=1e-9)
