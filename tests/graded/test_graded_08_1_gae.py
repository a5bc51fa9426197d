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
    np.testing.assert_allclose(adv, [0.25, 0.5], err_msg="r = [0, 1], V = [0.5, 0.5], gamma = 1, lambda = 0.5, last_value = 0: delta = [0, 0.5], A_1 = delta_1 = 0.5, A_0 = delta_0 + gamma lambda A_1 = 0.25")
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


# -----------------------------------------------------------------------------
# property: batches with dones per row, int / float32 inputs, T = 1, rows of very different scales
from hypothesis import given, strategies as st  # noqa: E402

from _props import dtypes, expect_close, seeds, tol  # noqa: E402


def advantages_ref(r, V, gamma, lam, last, dones):
    """Per row: split at dones into episodes, A_t = Σ_l (γλ)^l δ_{t+l} inside each episode, V after an episode's end = 0."""
    r, V = np.asarray(r, dtype=np.float64), np.asarray(V, dtype=np.float64)
    B, T = r.shape
    out = np.zeros((B, T))
    for b in range(B):
        start = 0
        for t in range(T):
            if dones[b, t] or t == T - 1:
                boot = 0.0 if dones[b, t] else float(last[b])
                out[b, start:t + 1] = gae_ref(r[b, start:t + 1], V[b, start:t + 1], gamma, lam, boot)[0]
                start = t + 1
    return out


@pytest.mark.points(3)
@given(seed=seeds, B=st.integers(1, 3), T=st.integers(1, 6), dtype=dtypes, gamma=st.sampled_from([1.0, 0.99, 0.5]),
       lam=st.sampled_from([0.0, 0.5, 0.95, 1.0]), with_dones=st.booleans(), scalar_last=st.booleans())
def test_property_advantages(impl, seed, B, T, dtype, gamma, lam, with_dones, scalar_last):
    """A_t = Σ_l (γλ)^l δ_{t+l}, δ_t = r_t + γ V_{t+1} − V_t, episodes cut after each done (row by row)."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-2, 3, size=(B, 1))
    cast = (lambda x: np.round(x).astype(np.int64)) if dtype == "int64" else (lambda x: x.astype(dtype))
    r, V = cast(rng.normal(size=(B, T)) * scale * 3), cast(rng.normal(size=(B, T)) * scale * 3)
    last = float(rng.normal()) if scalar_last else rng.normal(size=B)
    dones = rng.random((B, T)) < 0.3 if with_dones else np.zeros((B, T), dtype=bool)
    kwargs = {"gamma": gamma, "lam": lam, "last_value": last}
    if with_dones:
        kwargs["dones"] = dones
    adv, _ = impl.gae(r, V, **kwargs)
    ref = advantages_ref(r, V, gamma, lam, np.broadcast_to(last, (B,)), dones)
    expect_close(adv, ref, "A_t = Σ_l (γλ)^l δ_{t+l} within each episode (V and A after a done count 0)",
                 {"rewards": r, "values": V, **kwargs}, **tol("float32" if dtype == "float32" else "float64", float(np.max(np.abs(ref))) + 1))


@pytest.mark.points(1)
@given(seed=seeds, B=st.integers(1, 3), T=st.integers(1, 6), dtype=dtypes)
def test_property_returns_are_advantages_plus_values(impl, seed, B, T, dtype):
    """returns = advantages + values (checked against the function's own advantages: a wrong A costs only the advantage checks)."""
    rng = np.random.default_rng(seed)
    cast = (lambda x: np.round(x).astype(np.int64)) if dtype == "int64" else (lambda x: x.astype(dtype))
    r, V = cast(rng.normal(size=(B, T)) * 3), cast(rng.normal(size=(B, T)) * 3)
    adv, ret = impl.gae(r, V, gamma=0.9, lam=0.8, last_value=0.5)
    expect_close(ret, np.asarray(adv, dtype=np.float64) + V, "returns = advantages + values", {"rewards": r, "values": V},
                 **tol("float32" if dtype == "float32" else "float64", 10.0))
