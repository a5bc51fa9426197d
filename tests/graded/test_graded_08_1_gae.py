"""Graded checks for exercise 08.1: gae (solutions/ex08_ppo.py)."""
import numpy as np
import pytest

pytestmark = pytest.mark.ex_08_1_gae


def gae_ref(r, V, gamma, lam, last_value):
    """The closed form A_t = sum_l (gamma lam)^l delta_{t+l}, one Python loop per t (no recursion)."""
    T = len(r)
    values = list(V) + [last_value]
    delta = [r[t] + gamma * values[t + 1] - values[t] for t in range(T)]
    adv = [sum((gamma * lam) ** (l - t) * delta[l] for l in range(t, T)) for t in range(T)]
    return np.array(adv), np.array(adv) + np.array(V)


@pytest.mark.points(2)
def test_worked_example(impl):
    adv, ret = impl.gae(np.array([0.0, 1.0]), np.array([0.5, 0.5]), gamma=1.0, lam=0.5, last_value=0.0)
    np.testing.assert_allclose(adv, [0.25, 0.5], err_msg="A_0 = delta_0 + gamma * lambda * A_1 = 0 + 0.5 * 0.5 (lambda must scale the recursion)")
    np.testing.assert_allclose(ret, [0.75, 1.0], err_msg="returns = advantages + values")


def test_lambda_zero_is_td_error(impl):
    r, V = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.4])
    adv, _ = impl.gae(r, V, gamma=0.9, lam=0.0, last_value=0.7)
    np.testing.assert_allclose(adv, r + 0.9 * np.array([0.1, -0.4, 0.7]) - V, err_msg="lambda = 0: A_t = delta_t = r_t + gamma V_{t+1} - V_t")


def test_lambda_one_is_monte_carlo(impl):
    r, V = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.4])
    adv, ret = impl.gae(r, V, gamma=1.0, lam=1.0, last_value=0.7)
    to_go = np.array([1.0 - 2.0 + 0.5, -2.0 + 0.5, 0.5]) + 0.7
    np.testing.assert_allclose(adv, to_go - V, err_msg="gamma = lambda = 1: A_t = (sum of future rewards + last_value) - V_t")
    np.testing.assert_allclose(ret, to_go, err_msg="gamma = lambda = 1: returns are the rewards-to-go plus the bootstrap value")


def test_length_one_bootstraps_last_value(impl):
    adv, ret = impl.gae(np.array([[2.0]]), np.array([[0.5]]), gamma=0.9, lam=0.95, last_value=np.array([1.0]))
    np.testing.assert_allclose(adv, [[2.0 + 0.9 * 1.0 - 0.5]], err_msg="T = 1: A = r + gamma * last_value - V (bootstrap from last_value)")
    np.testing.assert_allclose(ret, [[2.0 + 0.9]], err_msg="returns = A + V")


@pytest.mark.points(3)
def test_random_batch_against_closed_form(impl):
    rng = np.random.default_rng(801)
    B, T, gamma, lam = 3, 9, 0.97, 0.9
    r, V, last = rng.normal(size=(B, T)), rng.normal(size=(B, T)), rng.normal(size=B)
    adv, ret = impl.gae(r, V, gamma=gamma, lam=lam, last_value=last)
    assert np.shape(adv) == (B, T) and np.shape(ret) == (B, T), f"advantages and returns must be (B, T) = {(B, T)}"
    for b in range(B):
        a_ref, r_ref = gae_ref(r[b], V[b], gamma, lam, last[b])
        np.testing.assert_allclose(adv[b], a_ref, rtol=1e-6, atol=1e-9, err_msg=f"row {b}: advantages differ from sum_l (gamma lambda)^l delta_(t+l)")
        np.testing.assert_allclose(ret[b], r_ref, rtol=1e-6, atol=1e-9, err_msg=f"row {b}: returns = advantages + values")


@pytest.mark.points(2)
def test_dones_cut_the_episode(impl):
    rng = np.random.default_rng(802)
    r, V = rng.normal(size=7), rng.normal(size=7)
    dones = np.array([0, 0, 1, 0, 0, 0, 0], dtype=bool)  # episode 1 = steps 0..2, episode 2 = steps 3..6
    adv, _ = impl.gae(r, V, gamma=0.9, lam=0.8, last_value=0.4, dones=dones)
    a1, _ = gae_ref(r[:3], V[:3], 0.9, 0.8, 0.0)
    a2, _ = gae_ref(r[3:], V[3:], 0.9, 0.8, 0.4)
    np.testing.assert_allclose(adv, np.concatenate([a1, a2]), rtol=1e-6, atol=1e-9,
                               err_msg="dones[t]: the episode ends after step t, so V_(t+1) and A_(t+1) count as 0 there")
