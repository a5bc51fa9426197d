"""Graded checks for exercise 08.2: ppo_clip_loss (solutions/ex08_ppo.py)."""
import math

import numpy as np
import pytest

pytestmark = pytest.mark.ex_08_2_ppo_clip


def loss_ref(logp_new, logp_old, adv, eps, mask):
    """-mean of min(rho A, clip(rho) A) over masked tokens, element by element."""
    terms = []
    for ln, lo, a, m in zip(np.ravel(logp_new), np.ravel(logp_old), np.ravel(adv), np.ravel(mask)):
        if m:
            rho = math.exp(ln - lo)
            terms.append(min(rho * a, min(max(rho, 1 - eps), 1 + eps) * a))
    return -sum(terms) / len(terms) if terms else 0.0


@pytest.mark.points(3)
def test_clipping_table(impl):
    logp_new = np.log([1.5, 1.5, 0.5, 0.5])
    adv = np.array([1.0, -1.0, 1.0, -1.0])
    loss, grad = impl.ppo_clip_loss(logp_new, np.zeros(4), adv, eps=0.2)
    assert math.isclose(float(loss), 0.15, rel_tol=1e-6), (
        f"objective per token = min(rho A, clip(rho) A) = [1.2, -1.5, 0.5, -0.8], loss = -mean = 0.15; got {loss} "
        "(the min is pessimistic: clip only where it lowers the objective)"
    )
    np.testing.assert_allclose(grad, np.array([0.0, 1.5, -0.5, 0.0]) / 4, rtol=1e-6, atol=1e-12,
                               err_msg="d loss/d logp_new = -rho A / N where the unclipped term is the min, 0 where clipping is active")


def test_ratio_one_is_vanilla_policy_gradient(impl):
    adv = np.array([[0.5, -2.0, 1.0]])
    logp = np.array([[-1.0, -0.3, -2.0]])
    loss, grad = impl.ppo_clip_loss(logp, logp, adv)
    assert math.isclose(float(loss), -np.mean(adv), rel_tol=1e-6), "with logp_new == logp_old (rho = 1) the loss is -mean(A)"
    np.testing.assert_allclose(grad, -adv / 3, rtol=1e-6, err_msg="with rho = 1 the gradient is -A / N")


@pytest.mark.points(2)
def test_mask_means_over_real_tokens(impl):
    logp_new = np.array([[0.1, -0.2, 5.0], [0.0, 0.3, 7.0]])
    mask = np.array([[1, 1, 0], [1, 1, 0]], dtype=bool)
    adv = np.array([[1.0, -1.0, 100.0], [0.5, 2.0, -100.0]])
    loss, grad = impl.ppo_clip_loss(logp_new, np.zeros((2, 3)), adv, eps=0.2, mask=mask)
    expected = loss_ref(logp_new, np.zeros((2, 3)), adv, 0.2, mask)
    assert math.isclose(float(loss), expected, rel_tol=1e-6), f"mean over the 4 masked-in tokens only (padding excluded from sum and count): expected {expected:.6f}, got {loss}"
    np.testing.assert_allclose(np.asarray(grad)[:, 2], 0.0, atol=0, err_msg="padding tokens get zero gradient")
    loss0, grad0 = impl.ppo_clip_loss(logp_new, np.zeros((2, 3)), adv, mask=np.zeros((2, 3), dtype=bool))
    assert float(loss0) == 0.0 and np.all(np.asarray(grad0) == 0.0), "with no real token the loss is 0.0 and the gradient zero (no NaN)"


@pytest.mark.points(3)
def test_random_against_reference_and_central_differences(impl, numgrad):
    rng = np.random.default_rng(803)
    shape = (3, 8)
    logp_old = rng.normal(size=shape) - 2.0
    logp_new = logp_old + rng.normal(size=shape) * 0.4  # some ratios inside, some outside [0.8, 1.2]
    adv = rng.normal(size=shape)
    mask = rng.random(shape) < 0.8
    for eps in (0.2, 0.1):
        loss, grad = impl.ppo_clip_loss(logp_new, logp_old, adv, eps=eps, mask=mask)
        assert math.isclose(float(loss), loss_ref(logp_new, logp_old, adv, eps, mask), rel_tol=1e-6), f"eps={eps}: loss differs from the reference"
        expected = numgrad(lambda x: loss_ref(x, logp_old, adv, eps, mask), logp_new)
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-8, err_msg=f"eps={eps}: gradient differs from central differences")


# -----------------------------------------------------------------------------
# property: masks padded on the left or the right, rows of very different scales, float32
from hypothesis import given, strategies as st  # noqa: E402

from _props import expect_close, float_dtypes, seeds, tol  # noqa: E402


def grad_ref(logp_new, logp_old, adv, eps, mask):
    """−ρA/N where ρA ≤ clip(ρ)A (the unclipped term is the min) on counted tokens, else 0."""
    n = int(np.sum(mask))
    out = np.zeros(np.shape(logp_new))
    for i in np.ndindex(*np.shape(logp_new)):
        if mask[i]:
            rho = math.exp(float(logp_new[i]) - float(logp_old[i]))
            a = float(adv[i])
            if rho * a <= min(max(rho, 1 - eps), 1 + eps) * a:
                out[i] = -rho * a / n
    return out


@st.composite
def ppo_batch(draw):
    seed, B, T = draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    rng = np.random.default_rng(seed)
    side = draw(st.sampled_from(["none", "right", "left"]))
    lengths = rng.integers(0, T + 1, size=B)
    pos = np.arange(T)[None, :]
    mask = None if side == "none" else (pos < lengths[:, None]) if side == "right" else (pos >= T - lengths[:, None])
    logp_old = rng.normal(size=(B, T)) - 2.0
    logp_new = logp_old + rng.normal(size=(B, T)) * 0.4
    adv = rng.normal(size=(B, T)) * 10.0 ** rng.integers(-3, 4, size=(B, 1))
    return logp_new, logp_old, adv, mask, draw(st.sampled_from([0.1, 0.2, 0.3]))


def run_case(impl, batch, dtype):
    """One drawn batch in `dtype`: (inputs, keyword arguments, the mask counted, the implementation's (loss, grad))."""
    logp_new, logp_old, adv, mask, eps = (x.astype(dtype) if isinstance(x, np.ndarray) and x.dtype != bool else x for x in batch)
    kwargs = {"eps": eps} if mask is None else {"eps": eps, "mask": mask}
    out = impl.ppo_clip_loss(logp_new, logp_old, adv, **kwargs)
    m = np.ones(np.shape(logp_new), dtype=bool) if mask is None else mask
    return (logp_new, logp_old, adv, eps), kwargs, m, out


def shown(logp_new, logp_old, adv, kwargs):
    """The inputs a failure message shows."""
    return {"logp_new": logp_new, "logp_old": logp_old, "advantages": adv, **kwargs}


@pytest.mark.points(2)
@given(batch=ppo_batch(), dtype=float_dtypes)
def test_property_loss(impl, batch, dtype):
    """loss = −mean over counted tokens of min(ρA, clip(ρ, 1−ε, 1+ε)A), ρ = exp(logp_new − logp_old)."""
    (logp_new, logp_old, adv, eps), kwargs, m, (loss, _) = run_case(impl, batch, dtype)
    ref = loss_ref(logp_new.astype(np.float64), logp_old.astype(np.float64), adv.astype(np.float64), eps, m)
    expect_close(float(loss), ref, "loss = −(1/N) Σ_{mask} min(ρA, clip(ρ, 1−ε, 1+ε)A)",
                 shown(logp_new, logp_old, adv, kwargs), **tol(dtype, float(np.max(np.abs(adv))) * 2))


@pytest.mark.points(2)
@given(batch=ppo_batch(), dtype=float_dtypes)
def test_property_gradient(impl, batch, dtype):
    """d loss / d logp_new = −ρA/N where the unclipped term is the min, 0 where clipping is active or the token is masked out."""
    (logp_new, logp_old, adv, eps), kwargs, m, (_, grad) = run_case(impl, batch, dtype)
    ref = grad_ref(logp_new, logp_old, adv, eps, m) if m.any() else np.zeros(np.shape(logp_new))
    expect_close(grad, ref, "dlogp_new = −ρA/N on counted tokens where ρA ≤ clip(ρ)A, else 0",
                 shown(logp_new, logp_old, adv, kwargs), **tol(dtype, float(np.max(np.abs(adv))) * 2))
