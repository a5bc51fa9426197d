"""Graded checks for exercise 08.3: kl_penalized_rewards (solutions/ex08_ppo.py)."""
import numpy as np
import pytest

pytestmark = pytest.mark.ex_08_3_kl_rewards


def rewards_ref(logp, logp_ref, score, beta, mask):
    out = np.zeros(np.shape(logp))
    for b in range(out.shape[0]):
        real = [t for t in range(out.shape[1]) if mask[b][t]]
        for t in real:
            out[b, t] = -beta * (logp[b][t] - logp_ref[b][t])
        if real:
            out[b, real[-1]] += score[b]
    return out


@pytest.mark.points(2)
def test_worked_example(impl):
    r = impl.kl_penalized_rewards(np.array([[-1.0, -2.0, 0.0]]), np.array([[-1.5, -1.0, 0.0]]), np.array([2.0]), 0.1, np.array([[1, 1, 0]], dtype=bool))
    np.testing.assert_allclose(r, [[-0.05, 2.1, 0.0]], rtol=1e-6, err_msg="r_t = -beta (logp - logp_ref) on real tokens, + score on the last real token, 0 on padding")


def test_kl_sign(impl):
    r = impl.kl_penalized_rewards(np.array([[-0.5, -3.0]]), np.array([[-1.5, -1.0]]), np.array([0.0]), 1.0, np.ones((1, 2), dtype=bool))
    np.testing.assert_allclose(r, [[-1.0, 2.0]], rtol=1e-6,
                               err_msg="the KL penalty is -beta (logp - logp_ref): tokens the policy likes MORE than the reference are penalised")


def test_score_goes_on_the_last_real_token(impl):
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    z = np.zeros((3, 5))
    r = impl.kl_penalized_rewards(z, z, np.array([1.0, 2.0, 3.0]), 0.1, mask)
    expected = np.zeros((3, 5))
    expected[0, 2], expected[1, 0], expected[2, 4] = 1.0, 2.0, 3.0
    np.testing.assert_allclose(r, expected, err_msg="the RM score goes on the LAST REAL token of each row (not the first token, not the last padded position)")


def test_beta_zero_and_empty_row(impl):
    mask = np.array([[1, 1, 0], [0, 0, 0]], dtype=bool)
    logp = np.array([[-1.0, -2.0, -3.0], [-1.0, -1.0, -1.0]])
    r = impl.kl_penalized_rewards(logp, logp - 1.0, np.array([0.5, 9.0]), 0.0, mask)
    np.testing.assert_allclose(r, [[0.0, 0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-12,
                               err_msg="beta = 0 leaves only the score; a row with no real tokens is all zeros (its score has nowhere to go)")


@pytest.mark.points(2)
def test_random_batch_against_reference(impl):
    rng = np.random.default_rng(804)
    B, T = 5, 7
    logp, logp_ref = rng.normal(size=(B, T)) - 1, rng.normal(size=(B, T)) - 1
    lengths = np.array([7, 1, 4, 0, 3])
    mask = np.arange(T)[None, :] < lengths[:, None]
    score = rng.normal(size=B)
    r = impl.kl_penalized_rewards(logp, logp_ref, score, 0.05, mask)
    assert np.shape(r) == (B, T), f"rewards must be (B, T) = {(B, T)}, got {np.shape(r)}"
    np.testing.assert_allclose(r, rewards_ref(logp, logp_ref, score, 0.05, mask), rtol=1e-6, atol=1e-12, err_msg="per-token rewards differ from the reference")


# -----------------------------------------------------------------------------
# property: masks padded on the left, the right or both, empty rows, int scores, float32
from hypothesis import given, strategies as st  # noqa: E402

from _props import expect_close, float_dtypes, seeds, tol  # noqa: E402


@pytest.mark.points(3)
@given(seed=seeds, B=st.integers(1, 4), T=st.integers(1, 6), dtype=float_dtypes, beta=st.sampled_from([0.0, 0.05, 1.0]),
       side=st.sampled_from(["right", "left", "both"]), int_score=st.booleans())
def test_property_rewards(impl, seed, B, T, dtype, beta, side, int_score):
    """r_t = −β (logp_t − logp_ref_t) on real tokens, + score on the LAST real token of the row, 0 on padding."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, T + 1, size=B) if side != "right" else np.zeros(B, dtype=int)
    end = np.array([rng.integers(s, T + 1) for s in start]) if side != "left" else np.full(B, T)
    mask = (np.arange(T)[None, :] >= start[:, None]) & (np.arange(T)[None, :] < end[:, None])
    logp, logp_ref = (rng.normal(size=(2, B, T)) - 1).astype(dtype)
    score = rng.integers(-5, 6, size=B) if int_score else rng.normal(size=B) * 3
    r = impl.kl_penalized_rewards(logp, logp_ref, score, beta, mask)
    expect_close(r, rewards_ref(logp.astype(np.float64), logp_ref.astype(np.float64), score, beta, mask),
                 "r_t = −β(logp_t − logp_ref_t) where mask, + score on the last True of each row's mask, 0 elsewhere",
                 {"logp": logp, "logp_ref": logp_ref, "score": score, "beta": beta, "mask": mask}, **tol(dtype, 10.0))
