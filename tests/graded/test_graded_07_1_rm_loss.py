"""Graded checks for exercise 07.1: rm_pairwise_loss (solutions/ex07_reward.py)."""
import math

import numpy as np
import pytest

pytestmark = pytest.mark.ex_07_1_rm_loss


def loss_ref(rewards):
    """Double loop over prompts and pairs i < j (i ranked above j), with Python floats."""
    total, count = 0.0, 0
    for row in np.asarray(rewards, dtype=np.float64).tolist():
        for i in range(len(row)):
            for j in range(i + 1, len(row)):
                total += math.log1p(math.exp(-(row[i] - row[j])))
                count += 1
    return total / count


@pytest.mark.points(2)
def test_k2_worked_example(impl):
    loss, grad = impl.rm_pairwise_loss(np.array([[1.0, 0.0]]))
    assert math.isclose(float(loss), math.log1p(math.exp(-1.0)), rel_tol=1e-6), f"K = 2, r = [1, 0]: loss = log(1 + e^-1) = 0.3133, got {loss}"
    s = 1.0 / (1.0 + math.e)  # sigma(-1)
    np.testing.assert_allclose(grad, [[-s, s]], rtol=1e-6, err_msg="d loss / d r_winner = -sigma(-(r_w - r_l)), the loser gets the opposite")


def test_winner_is_listed_first(impl):
    good, _ = impl.rm_pairwise_loss(np.array([[3.0, -3.0]]))
    bad, _ = impl.rm_pairwise_loss(np.array([[-3.0, 3.0]]))
    assert float(good) < 0.01 < 5.0 < float(bad), (
        f"rewards are listed best first: r = [3, -3] agrees with the ranking (loss ~0.0025), r = [-3, 3] does not (~6.0); got {good}, {bad}"
    )


def test_equal_rewards_give_log2(impl):
    loss, grad = impl.rm_pairwise_loss(np.zeros((3, 4)))
    assert math.isclose(float(loss), math.log(2.0), rel_tol=1e-6), f"equal rewards: every pair costs ln 2, got {loss}"
    # each response is in K-1 = 3 pairs; winner of (K-1-k) and loser of k pairs; each pair contributes -/+ 0.5 / (N * C(K,2))
    expected = np.array([[-3.0, -1.0, 1.0, 3.0]] * 3) * 0.5 / (3 * 6)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, err_msg="gradient over all C(4,2) = 6 pairs, averaged over N * C(K,2)")


@pytest.mark.points(2)
def test_k3_averages_over_all_pairs(impl):
    """r = [2, 1, 0]: pairs (0,1), (0,2), (1,2) have gaps 1, 2, 1, so loss = (2 log(1+e^-1) + log(1+e^-2)) / 3."""
    loss, _ = impl.rm_pairwise_loss(np.array([[2.0, 1.0, 0.0]]))
    expected = (2 * math.log1p(math.exp(-1)) + math.log1p(math.exp(-2))) / 3
    assert math.isclose(float(loss), expected, rel_tol=1e-6), (
        f"average over all C(K,2) = 3 pairs, not only the K - 1 = 2 neighbours and not a sum: expected {expected:.6f}, got {loss}"
    )


@pytest.mark.points(3)
def test_k9_random_against_reference_and_central_differences(impl, numgrad):
    rng = np.random.default_rng(701)
    rewards = rng.normal(size=(4, 9)) * 2
    loss, grad = impl.rm_pairwise_loss(rewards)
    assert math.isclose(float(loss), loss_ref(rewards), rel_tol=1e-6), f"K = 9: loss over all 36 pairs differs: expected {loss_ref(rewards):.6f}, got {loss}"
    assert np.shape(grad) == (4, 9), f"the gradient must have the rewards' shape (4, 9), got {np.shape(grad)}"
    np.testing.assert_allclose(grad, numgrad(loss_ref, rewards), rtol=1e-5, atol=1e-9, err_msg="K = 9: gradient differs from central differences")


def test_huge_reward_gaps_stay_finite(impl):
    with np.errstate(all="ignore"):
        loss_ok, grad_ok = impl.rm_pairwise_loss(np.array([[1e4, -1e4]]))
        loss_bad, grad_bad = impl.rm_pairwise_loss(np.array([[-1e4, 1e4]]))
    assert all(np.isfinite(float(x)) for x in (loss_ok, loss_bad)), f"property: reward gaps of ±2e4 give a finite loss\nACTUAL:   {loss_ok!r}, {loss_bad!r}\nEXPECTED: 0.0, 20000.0"
    assert math.isclose(float(loss_ok), 0.0, abs_tol=1e-6) and math.isclose(float(loss_bad), 2e4, rel_tol=1e-6), f"got {loss_ok}, {loss_bad}"
    np.testing.assert_allclose(grad_ok, [[0.0, 0.0]], atol=1e-9, err_msg="a pair already ranked right by a huge gap has ~zero gradient")
    np.testing.assert_allclose(grad_bad, [[-1.0, 1.0]], rtol=1e-6, err_msg="a pair ranked wrong by a huge gap has gradient -1 / +1")


def test_needs_two_responses(impl):
    with pytest.raises(ValueError):
        impl.rm_pairwise_loss(np.array([[1.0], [2.0]]))


# -----------------------------------------------------------------------------
# property: rows of very different scales, gaps of ±1e3, ties, int / float32 rewards
from hypothesis import given, strategies as st  # noqa: E402

from _props import dtypes, expect_close, offsets, rows_with_scales, seeds, tol  # noqa: E402


def softplus(x):
    """log(1 + e^x) for any float x, without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def references(rewards):
    """(loss, gradient) by a double loop over pairs i < j of each row, in Python floats."""
    R = np.asarray(rewards, dtype=np.float64)
    N, K = R.shape
    C = N * K * (K - 1) / 2
    loss, grad = 0.0, np.zeros((N, K))
    for n in range(N):
        for i in range(K):
            for j in range(i + 1, K):
                d = R[n, i] - R[n, j]
                loss += softplus(-d) / C
                s = math.exp(-softplus(d))  # σ(−d)
                grad[n, i] -= s / C
                grad[n, j] += s / C
    return loss, grad


rm_case = dict(seed=seeds, N=st.integers(1, 3), K=st.integers(2, 6), offset=offsets, ties=st.booleans(), dtype=dtypes)


def run_case(impl, seed, N, K, offset, ties, dtype):
    """One drawn case: (rewards, the implementation's (loss, grad), the reference's (loss, grad))."""
    rewards = rows_with_scales(np.random.default_rng(seed), (N, K), dtype, offset, ties)
    return rewards, impl.rm_pairwise_loss(rewards), references(rewards)


@pytest.mark.points(2)
@given(**rm_case)
def test_property_loss(impl, seed, N, K, offset, ties, dtype):
    """loss = mean over prompts and pairs i < j of log(1 + exp(−(r_i − r_j)))."""
    rewards, (loss, _), (ref, _) = run_case(impl, seed, N, K, offset, ties, dtype)
    expect_close(float(loss), ref, "loss = 1/(N·C(K,2)) Σ_n Σ_{i<j} log(1 + e^{−(r_i − r_j)})", {"rewards": rewards},
                 **tol(dtype, 1.0 + float(np.max(np.abs(np.asarray(rewards, dtype=np.float64))))))


@pytest.mark.points(2)
@given(**rm_case)
def test_property_gradient(impl, seed, N, K, offset, ties, dtype):
    """d loss/d r_i = −Σ_{j>i} σ(r_j − r_i)/C + Σ_{j<i} σ(r_i − r_j)/C, C = N·C(K,2)."""
    rewards, (_, grad), (_, ref) = run_case(impl, seed, N, K, offset, ties, dtype)
    expect_close(grad, ref, "winner i gets −σ(−(r_i − r_j))/C and loser j gets +σ(−(r_i − r_j))/C, summed over pairs", {"rewards": rewards},
                 **tol("float32" if dtype == "float32" else "float64", 1.0 / (N * K)))
