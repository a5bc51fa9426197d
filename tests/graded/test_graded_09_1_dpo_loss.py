r"""Graded checks for exercise 09.1: dpo_loss (solutions/ex09_beyond.py).

DPO (Rafailov et al. 2023) for B preference pairs, with m_b the margin of pair b:

    m_b  = β [(π_c,b − ref_c,b) − (π_r,b − ref_r,b)]
    loss = −(1/B) Σ_b log σ(m_b) = (1/B) Σ_b log(1 + e^{−m_b})
    d loss / d π_c,b = −β σ(−m_b) / B,    d loss / d π_r,b = +β σ(−m_b) / B

Properties checked, each in its own test: the worked example (loss, then gradient); ties give
ln 2; the chosen response is the first argument; the reference terms count; the loss is a mean
over pairs; margins of ±1e3 stay finite; β scales the margin, not the loss; bad input raises;
and, on adversarial inputs (per-pair scales 1e-3..1e3, offsets ±1e3, ties, int/float32, B = 1),
loss and gradient against a float64 reference written here.
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from _props import dtypes, expect_close, failure, offsets, rows_with_scales, seeds, tol

pytestmark = pytest.mark.ex_09_1_dpo_loss


def softplus(x):
    """log(1 + e^x) for any float x, without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def reference(pc, pr, rc, rr, beta):
    """(loss, d_chosen, d_rejected) pair by pair in Python floats."""
    rows = [np.asarray(a, dtype=np.float64).tolist() for a in (pc, pr, rc, rr)]
    B = len(rows[0])
    loss, dc, dr = 0.0, np.zeros(B), np.zeros(B)
    for b, (c, r, c0, r0) in enumerate(zip(*rows)):
        m = beta * ((c - c0) - (r - r0))
        loss += softplus(-m) / B
        pull = math.exp(-softplus(m))  # σ(−m)
        dc[b], dr[b] = -beta * pull / B, beta * pull / B
    return loss, dc, dr


def call(impl, pc, pr, rc, rr, beta):
    with np.errstate(all="ignore"):
        out = impl.dpo_loss(np.asarray(pc), np.asarray(pr), np.asarray(rc), np.asarray(rr), beta=beta)
    if not (isinstance(out, (tuple, list)) and len(out) == 3):
        raise AssertionError(f"dpo_loss must return (loss, d_chosen, d_rejected), got {out!r}")
    return out


WORKED = dict(pc=[-1.0], pr=[-3.0], rc=[-2.0], rr=[-2.5], beta=0.5)


@pytest.mark.points(2)
def test_worked_example_loss(impl):
    """β = 0.5, π_c = −1, ref_c = −2, π_r = −3, ref_r = −2.5: margin 0.75, loss = ln(1 + e^{−0.75}) ≈ 0.386871."""
    loss, _, _ = call(impl, **WORKED)
    expect_close(float(loss), math.log1p(math.exp(-0.75)), "loss = log(1 + e^{−m}), m = β[(π_c − ref_c) − (π_r − ref_r)] = 0.75", WORKED)


@pytest.mark.points(2)
def test_worked_example_gradient(impl):
    """d loss/d π_c = −β σ(−0.75) ≈ −0.160411 and d loss/d π_r = +0.160411."""
    _, dc, dr = call(impl, **WORKED)
    g = 0.5 / (1.0 + math.exp(0.75))
    expect_close(dc, [-g], "d loss / d π_chosen = −β σ(−m) / B", WORKED)
    expect_close(dr, [g], "d loss / d π_rejected = +β σ(−m) / B", WORKED)


def test_ties_give_log2(impl):
    """Zero margin in every pair (here the policy equals the reference): loss = ln 2, gradients ∓β/(2B)."""
    x = dict(pc=[-4.0, -1.0, -7.0], pr=[-2.0, -9.0, -3.0], rc=[-4.0, -1.0, -7.0], rr=[-2.0, -9.0, -3.0], beta=0.2)
    loss, dc, dr = call(impl, **x)
    expect_close(float(loss), math.log(2.0), "a zero margin costs ln 2", x)
    expect_close(dc, [-0.2 / 6] * 3, "zero margin: d loss / d π_chosen = −β · ½ / B", x)
    expect_close(dr, [0.2 / 6] * 3, "zero margin: d loss / d π_rejected = +β · ½ / B", x)


def test_chosen_is_the_first_argument(impl):
    """The policy raised the chosen response's log-prob above the reference's: loss below ln 2."""
    x = dict(pc=[-1.0], pr=[-5.0], rc=[-3.0], rr=[-5.0], beta=1.0)
    loss, dc, _ = call(impl, **x)
    expect_close(float(loss), softplus(-2.0), "margin +2 for a pair the policy already prefers: loss = log(1 + e^{−2}) ≈ 0.127", x)
    if not float(dc[0]) < 0:
        raise failure("raising log π(chosen) lowers the loss: d loss / d π_chosen < 0", x, dc, "negative")


def test_reference_terms_count(impl):
    """π_c − π_r = +1, but the reference preferred the chosen one by 3: the margin is β(1 − 3) < 0."""
    x = dict(pc=[-2.0], pr=[-3.0], rc=[-1.0], rr=[-4.0], beta=1.0)
    loss, _, _ = call(impl, **x)
    expect_close(float(loss), softplus(2.0), "margin = β[(π_c − ref_c) − (π_r − ref_r)] = −2: loss = log(1 + e^{2}) ≈ 2.127", x)


def test_loss_is_a_mean_over_pairs(impl):
    """Four copies of the worked pair: same loss as one pair, each gradient entry a quarter."""
    x = {k: (v * 4 if isinstance(v, list) else v) for k, v in WORKED.items()}
    loss, dc, _ = call(impl, **x)
    expect_close(float(loss), math.log1p(math.exp(-0.75)), "the loss is the mean over the B pairs, not the sum", x)
    expect_close(dc, [-0.5 / (1.0 + math.exp(0.75)) / 4] * 4, "the gradient of a mean: each pair's share is divided by B", x)


@pytest.mark.points(2)
def test_huge_margins_stay_finite(impl):
    """Margins of ±1e3: loss 0 for the right order, 1e3 for the wrong one; no inf, no NaN."""
    for sign in (1.0, -1.0):
        x = dict(pc=[sign * 500.0], pr=[-sign * 500.0], rc=[0.0], rr=[0.0], beta=1.0)
        loss, dc, dr = call(impl, **x)
        expect_close(float(loss), 0.0 if sign > 0 else 1000.0, "loss = log(1 + e^{−m}) stays finite for m = ±1e3", x, atol=1e-9)
        expect_close(dc, [0.0 if sign > 0 else -1.0], "d loss / d π_chosen = −β σ(−m): 0 at m = +1e3, −β at m = −1e3", x)
        expect_close(dr, [0.0 if sign > 0 else 1.0], "d loss / d π_rejected = +β σ(−m)", x)


def test_beta_scales_the_margin(impl):
    """β multiplies the margin inside σ: β = 2 on log-ratio gap 1 costs log(1 + e^{−2}), not 2·log(1 + e^{−1})."""
    x = dict(pc=[0.0], pr=[-1.0], rc=[0.0], rr=[0.0], beta=2.0)
    loss, dc, _ = call(impl, **x)
    expect_close(float(loss), softplus(-2.0), "loss = log(1 + e^{−β·gap}) with β = 2, gap = 1", x)
    expect_close(dc, [-2.0 / (1.0 + math.exp(2.0))], "d loss / d π_chosen = −β σ(−β·gap)", x)


@pytest.mark.parametrize("bad", ["lengths", "empty", "2-D", "beta"])
def test_bad_input_raises(impl, bad):
    args = {"lengths": ([0.0, 1.0], [0.0], [0.0], [0.0], 0.1), "empty": ([], [], [], [], 0.1),
            "2-D": ([[0.0]], [[0.0]], [[0.0]], [[0.0]], 0.1), "beta": ([0.0], [0.0], [0.0], [0.0], 0.0)}[bad]
    with pytest.raises(ValueError):
        impl.dpo_loss(*(np.asarray(a, dtype=np.float64) for a in args[:4]), beta=args[4])


def test_gradient_matches_central_differences(impl, numgrad):
    rng = np.random.default_rng(901)
    pc, pr, rc, rr = rng.normal(-20, 5, size=(4, 5))
    beta = 0.3
    _, dc, dr = call(impl, pc, pr, rc, rr, beta)
    expect_close(dc, numgrad(lambda v: reference(v, pr, rc, rr, beta)[0], pc), "d loss / d π_chosen = central differences of the loss",
                 {"pi_chosen": pc, "pi_rejected": pr, "ref_chosen": rc, "ref_rejected": rr, "beta": beta}, rtol=1e-5, atol=1e-9)
    expect_close(dr, numgrad(lambda v: reference(pc, v, rc, rr, beta)[0], pr), "d loss / d π_rejected = central differences of the loss",
                 {"pi_chosen": pc, "pi_rejected": pr, "ref_chosen": rc, "ref_rejected": rr, "beta": beta}, rtol=1e-5, atol=1e-9)


# -----------------------------------------------------------------------------
# property: each pair its own scale (1e-3 .. 1e3), offsets ±1e3, ties, int / float32 inputs, B = 1
betas = st.sampled_from((0.01, 0.1, 0.5, 1.0, 10.0))


def draw(seed, B, dtype, offset, ties):
    rng = np.random.default_rng(seed)
    x = rows_with_scales(rng, (B, 4), dtype, offset, ties)  # (B, 4): row b = pair b, its own scale
    return tuple(np.ascontiguousarray(x[:, j]) for j in range(4))


def tolerances(dtype, beta, arrays, B, grad=False):
    big = max(1.0, float(max(np.abs(np.asarray(a, dtype=np.float64)).max() for a in arrays)))
    if dtype == "float32":  # a float32 computation loses ~1e-7 · |x| in each margin, β times that in m
        return {"rtol": 2e-3, "atol": (beta / B if grad else 1.0) * (2e-4 + 4e-6 * beta * big)}
    return tol("float64", (beta / B) if grad else beta * big)


dpo_case = dict(seed=seeds, B=st.integers(1, 6), dtype=dtypes, offset=offsets, ties=st.booleans(), beta=betas)


def run_case(impl, seed, B, dtype, offset, ties, beta):
    """One drawn case: (the four log-prob arrays, the inputs a failure shows, the implementation's
    (loss, d_chosen, d_rejected), the reference's)."""
    arrays = draw(seed, B, dtype, offset, ties)
    inputs = dict(zip(("pi_chosen", "pi_rejected", "ref_chosen", "ref_rejected"), arrays), beta=beta)
    return arrays, inputs, call(impl, *arrays, beta), reference(*arrays, beta)


@pytest.mark.points(2)
@given(**dpo_case)
def test_property_loss(impl, seed, B, dtype, offset, ties, beta):
    """loss = (1/B) Σ_b log(1 + exp(−β[(π_c − ref_c) − (π_r − ref_r)]))."""
    arrays, inputs, (loss, _, _), (ref, _, _) = run_case(impl, seed, B, dtype, offset, ties, beta)
    expect_close(float(loss), ref, "loss = (1/B) Σ_b log(1 + e^{−m_b}), m_b = β[(π_c − ref_c) − (π_r − ref_r)]",
                 inputs, **tolerances(dtype, beta, arrays, B))


@pytest.mark.points(2)
@given(**dpo_case)
def test_property_gradient(impl, seed, B, dtype, offset, ties, beta):
    """d loss/d π_c = −β σ(−m_b)/B and d loss/d π_r = +β σ(−m_b)/B."""
    arrays, inputs, (_, dc, dr), (_, ref_c, ref_r) = run_case(impl, seed, B, dtype, offset, ties, beta)
    t = tolerances(dtype, beta, arrays, B, grad=True)
    expect_close(dc, ref_c, "d loss / d π_chosen = −β σ(−m_b) / B", inputs, **t)
    expect_close(dr, ref_r, "d loss / d π_rejected = +β σ(−m_b) / B", inputs, **t)
