"""minigpt.kernels.cpu: the numba CPU kernels against the NumPy ops they stand in for.

Three independent checks for every kernel: the float64 formulas of `reference.py`, the ops'
own NumPy expressions (`fused_cpu(False)`), and hypothesis-drawn shapes and magnitudes. NaN
must come through (the training loop's NaN check depends on it), and results must not
depend on the input's memory layout.
    python -m pytest tests/kernels/test_kernels_cpu.py -q
"""
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from hypothesis import given, settings, strategies as st  # noqa: E402

from minigpt import ops  # noqa: E402
from minigpt.autograd import Tensor  # noqa: E402
from minigpt.kernels import cpu as K  # noqa: E402
from minigpt.kernels import reference as R  # noqa: E402
from minigpt.ops.dispatch import cpu_kernels, fused_cpu, kernels  # noqa: E402
from minigpt.optim import AdamW  # noqa: E402


def close(got, want, rtol=1e-5, atol=1e-6):
    """float32 results against float64 ones: tolerances relative to the values' scale."""
    want = np.asarray(want, np.float64)
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol * scale)


# ----------------------------------------------------------------------------
# the exponential
def test_exp_is_within_a_few_ulps_over_the_whole_float32_range():
    x = np.linspace(-87, 88, 2_000_003, dtype=np.float32)
    y = x.copy()
    K.exp_(y)
    want = np.exp(x.astype(np.float64))
    ulps = np.abs(y - want) / np.spacing(want.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 4, f"worst {ulps.max():.2f} ulps at x = {x[ulps.argmax()]}"


def test_exp_edges_zero_below_inf_above_nan_through():
    x = np.float32([-np.inf, -1e30, -87.5, 0.0, 88.5, 1e30, np.inf, np.nan])
    y = x.copy()
    K.exp_(y)
    np.testing.assert_array_equal(y[:3], 0.0)
    assert y[3] == 1.0
    assert np.isposinf(y[4:7]).all()
    assert np.isnan(y[7])


# ----------------------------------------------------------------------------
# each kernel against the float64 reference
def test_gelu_against_reference(rng):
    x = rng.standard_normal((3, 7, 33)).astype(np.float32) * 4
    dy = rng.standard_normal(x.shape).astype(np.float32)
    close(K.gelu_fwd(x), R.gelu_fwd(x))
    close(K.gelu_bwd(x, dy), R.gelu_bwd(x, dy))


@pytest.mark.parametrize("C", [1, 37, 8192])
def test_softmax_against_reference(rng, C):
    x = rng.standard_normal((2, 3, C)).astype(np.float32) * 30
    y = K.softmax_fwd(x)
    close(y, R.softmax_fwd(x.reshape(-1, C)).reshape(x.shape), atol=1e-7)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    close(K.softmax_bwd(y, dy), R.softmax_bwd(y.reshape(-1, C), dy.reshape(-1, C)).reshape(x.shape), atol=1e-6)


def test_layernorm_against_reference(rng):
    x = rng.standard_normal((3, 5, 70)).astype(np.float32) * 3 + 4
    w, b = rng.standard_normal(70).astype(np.float32), rng.standard_normal(70).astype(np.float32)
    y, mean, rstd = K.layernorm_fwd(x, w, b)
    ry, rmean, rrstd = R.layernorm_fwd(x.reshape(-1, 70), w, b)
    close(y.reshape(-1, 70), ry, rtol=1e-4, atol=1e-5)
    close(mean.reshape(-1), rmean)
    close(rstd.reshape(-1), rrstd, rtol=1e-4)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx, dw, db = K.layernorm_bwd(dy, x, w, mean, rstd)
    rdx, rdw, rdb = R.layernorm_bwd(dy.reshape(-1, 70), x.reshape(-1, 70), w, rmean, rrstd)
    close(dx.reshape(-1, 70), rdx, rtol=1e-4, atol=1e-5)
    close(dw, rdw, rtol=1e-4, atol=1e-5)
    close(db, rdb, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("V", [5, 8192])
def test_cross_entropy_against_reference(rng, V):
    z = rng.standard_normal((9, V)).astype(np.float32) * 8
    t = rng.integers(0, V, 9)
    t[[2, 5]] = -100
    loss, losses, lse = K.cross_entropy_fwd(z, t)
    rlosses, rlse = R.cross_entropy_fwd(z, t)
    close(loss, rlosses.sum() / 7)
    close(losses, rlosses)
    close(lse, rlse)
    close(K.cross_entropy_bwd(z, t, lse, 3.0), R.cross_entropy_bwd(z, t, rlse, 3.0 / 7), atol=1e-7)


def test_adamw_against_reference(rng):
    p, g, m = (rng.standard_normal(1000).astype(np.float32) for _ in range(3))
    v = np.abs(rng.standard_normal(1000)).astype(np.float32)
    kw = dict(lr=3e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, step=7, grad_scale=0.5)
    want = R.adamw_step(p, g, m, v, **kw)
    K.adamw_step(p, g, m, v, **kw)
    for got, w in zip((p, m, v), want):
        close(got, w)


def test_adamw_refuses_copies_and_step_zero(rng):
    p = np.zeros((4, 4), np.float32)
    with pytest.raises(TypeError, match="flat contiguous float32"):
        K.adamw_step(p, p, p, p, lr=1, beta1=0.9, beta2=0.9, eps=1e-8, weight_decay=0, step=1)
    f = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="step counts from 1"):
        K.adamw_step(f, f, f, f, lr=1, beta1=0.9, beta2=0.9, eps=1e-8, weight_decay=0, step=0)


def test_cross_entropy_names_a_bad_target():
    with pytest.raises(ValueError, match="target id 5 out of range for 5 classes"):
        K.cross_entropy_fwd(np.zeros((2, 5), np.float32), np.array([0, 5]))


# ----------------------------------------------------------------------------
# through the ops: the fused path against the ops' own NumPy expressions
def _grads(fn, arrays, g, fused):
    with fused_cpu(fused):
        xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        y = fn(*xs)
        y.backward(g)
    return y.data, [x.grad for x in xs]


def _same_both_ways(fn, arrays, rng, rtol=1e-5, atol=1e-6):
    g = rng.standard_normal(fn(*[Tensor(a) for a in arrays]).shape).astype(np.float32)
    y0, g0 = _grads(fn, arrays, g, False)
    y1, g1 = _grads(fn, arrays, g, True)
    close(y1, y0, rtol, atol)
    for a, b in zip(g1, g0):
        close(a, b, rtol * 10, atol * 10)


OPS = {
    "gelu": (ops.gelu, [(4, 9, 50)]),
    "softmax": (lambda x: ops.softmax(x), [(3, 4, 37)]),
    "layernorm": (lambda x, w, b: ops.layernorm(x, w, b), [(2, 5, 40), (40,), (40,)]),
    "attention": (lambda q, k, v: ops.attention(q, k, v), [(2, 3, 11, 8)] * 3),
    "attention_kv_cache": (lambda q, k, v: ops.attention(q, k, v), [(2, 3, 1, 8), (2, 3, 13, 8), (2, 3, 13, 8)]),
    "packed_attention": (lambda qkv: ops.packed_attention(qkv, 4), [(2, 17, 48)]),
    "packed_attention_query_blocks": (lambda qkv: ops.packed_attention(qkv, 2), [(2, 150, 24)]),  # writes into dqkv
    "attention_query_blocks": (lambda q, k, v: ops.attention(q, k, v), [(1, 2, 150, 8)] * 3),  # 64 + 64 + 22
    "attention_query_blocks_kv": (lambda q, k, v: ops.attention(q, k, v), [(1, 2, 130, 8), (1, 2, 141, 8),
                                                                           (1, 2, 141, 8)]),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_fused_equals_numpy(name, rng):
    fn, shapes = OPS[name]
    _same_both_ways(fn, [rng.standard_normal(s).astype(np.float32) for s in shapes], rng)


def test_cross_entropy_op_fused_equals_numpy(rng):
    z = rng.standard_normal((6, 29)).astype(np.float32) * 10
    t = np.array([1, -100, 28, 0, -100, 5])
    _same_both_ways(lambda z: ops.cross_entropy(z, t), [z], rng)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 6), C=st.integers(1, 300), scale=st.sampled_from([1e-3, 1.0, 30.0]),
       shift=st.sampled_from([0.0, 50.0, -1e3]), seed=st.integers(0, 2**16))
def test_row_ops_fused_equal_numpy_on_drawn_inputs(rows, C, scale, shift, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, C)) * scale + shift).astype(np.float32)
    w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    t = rng.integers(0, C, rows)
    for fn, arrays in ((ops.gelu, [x]), (lambda x: ops.softmax(x), [x]),
                       (lambda x: ops.cross_entropy(x, t), [x])):
        _same_both_ways(fn, arrays, rng, rtol=1e-4, atol=1e-5)
    if C > 1 and scale > 1e-3 and shift == 0:  # op level, rows near 0: the NumPy path is accurate there
        _same_both_ways(lambda x, w, b: ops.layernorm(x, w, b), [x, w, b], rng, rtol=1e-3, atol=1e-4)
    # every row against float64: the kernel sums mean and variance in float64, so a row of mean -1000 and
    # spread 1e-3 keeps its digits (NumPy's float32 row sums lose them there)
    y, mean, rstd = K.layernorm_fwd(x, w, b)
    ry, rmean, rrstd = R.layernorm_fwd(x, w, b)
    close(y, ry, 1e-4, 1e-5)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    for got, want in zip(K.layernorm_bwd(dy, x, w, mean, rstd), R.layernorm_bwd(dy, x, w, rmean, rrstd)):
        close(got, want, 1e-4, 1e-5)


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 3), H=st.integers(1, 3), T=st.integers(1, 20), extra=st.integers(0, 6),
       hs=st.integers(1, 16), seed=st.integers(0, 2**16))
def test_attention_fused_equals_numpy_on_drawn_shapes(B, H, T, extra, hs, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((B, H, T, hs)).astype(np.float32) * 3
    k, v = (rng.standard_normal((B, H, T + extra, hs)).astype(np.float32) * 3 for _ in range(2))
    _same_both_ways(lambda q, k, v: ops.attention(q, k, v), [q, k, v], rng, rtol=1e-4, atol=1e-5)


def test_adamw_fused_equals_numpy(rng):
    shapes = [(5, 7), (7,), (3, 4, 2)]
    runs = []
    for fused in (False, True):
        params = [Tensor(np.random.default_rng(i).standard_normal(s).astype(np.float32), requires_grad=True)
                  for i, s in enumerate(shapes)]
        opt = AdamW(params, lr=1e-2, weight_decay=0.1)
        with fused_cpu(fused):
            for step in range(4):
                for i, p in enumerate(params):
                    p.grad = np.random.default_rng(100 * step + i).standard_normal(p.shape).astype(np.float32)
                opt.step()
        runs.append([p.data.copy() for p in params] + [m.copy() for m in opt.m] + [v.copy() for v in opt.v])
    for a, b in zip(*runs):
        close(a, b)


def test_adamw_never_updates_a_copy_of_a_strided_state(rng):
    """A moment buffer loaded as a strided view must not send the fused update into a reshape copy."""
    p = Tensor(rng.standard_normal((4, 6)).astype(np.float32), requires_grad=True)
    ref = Tensor(p.data.copy(), requires_grad=True)
    opts = [AdamW([p], lr=0.1), AdamW([ref], lr=0.1)]
    for opt, t in zip(opts, (p, ref)):
        t.grad = np.ones((4, 6), np.float32)
        opt.step()
    opts[0].m[0] = np.asfortranarray(opts[0].m[0])  # same values, not C-contiguous
    opts[0].v[0] = np.asfortranarray(opts[0].v[0])
    for opt, t in zip(opts, (p, ref)):
        t.grad = np.full((4, 6), 2.0, np.float32)
        opt.step()
    close(p.data, ref.data)
    close(opts[0].m[0], opts[1].m[0])


# ----------------------------------------------------------------------------
# NaN, layout, determinism, dispatch
def test_nan_comes_through_every_kernel():
    x = np.ones((2, 8), np.float32)
    x[1, 3] = np.nan
    assert np.isnan(K.gelu_fwd(x)[1, 3]) and np.isnan(K.gelu_bwd(x, x)[1, 3])
    assert np.isnan(K.softmax_fwd(x)[1]).all() and not np.isnan(K.softmax_fwd(x)[0]).any()
    assert np.isnan(K.layernorm_fwd(x, np.ones(8, np.float32), np.zeros(8, np.float32))[0][1]).all()
    loss, losses, _ = K.cross_entropy_fwd(x, np.array([0, 0]))
    assert np.isnan(loss) and np.isnan(losses[1]) and not np.isnan(losses[0])
    s = np.ones((1, 4, 4), np.float32)
    s[0, 2, 1] = np.nan
    K.causal_softmax_(s, 1.0)
    assert np.isnan(s[0, 2, :3]).all() and not np.isnan(s[0, :2]).any()


@pytest.mark.parametrize("C", [1, 7, 8, 9, 16, 17, 31])
def test_the_row_max_sees_every_position(C):
    """Softmax and cross-entropy shift each row by its max, found in eight running maxima (`_rowmax`).
    A row of zeros with 1000 at position p overflows e^x unless the max found is exactly that 1000, wherever
    p falls among the eight lanes and the tail; a NaN anywhere in a row must still reach its loss."""
    x = np.where(np.eye(C, dtype=bool), np.float32(1000.0), np.float32(0.0))   # row p: 1000 at position p
    np.testing.assert_array_equal(K.softmax_fwd(x), np.eye(C, dtype=np.float32))
    s = np.broadcast_to(x, (1, C, C)).copy()
    K.causal_softmax_(s, 1.0)                                # query i sees keys ≤ i: the max is 1000 at i
    np.testing.assert_array_equal(s[0], np.eye(C, dtype=np.float32))
    _, losses, lse = K.cross_entropy_fwd(x, np.zeros(C, np.int64))
    assert np.array_equal(lse, np.full(C, 1000.0, np.float32)) and losses[0] == 0.0
    np.testing.assert_array_equal(losses[1:], np.full(C - 1, 1000.0, np.float32))
    nan_rows = np.where(np.eye(C, dtype=bool), np.float32(np.nan), np.float32(1.0))
    assert np.isnan(K.cross_entropy_fwd(nan_rows, np.zeros(C, np.int64))[1]).all()
    assert np.isnan(K.softmax_fwd(nan_rows)).all()


def test_layout_does_not_matter(rng):
    x = rng.standard_normal((40, 30)).astype(np.float32)
    xt = np.asfortranarray(x)
    np.testing.assert_array_equal(K.gelu_fwd(xt), K.gelu_fwd(x))
    np.testing.assert_array_equal(K.softmax_fwd(x.T.copy().T), K.softmax_fwd(x))
    np.testing.assert_array_equal(K.softmax_fwd(x[:, ::2]), K.softmax_fwd(x[:, ::2].copy()))


def test_same_input_same_bits(rng):
    x = rng.standard_normal((64, 200)).astype(np.float32)
    w, b = np.ones(200, np.float32), np.zeros(200, np.float32)
    for f in (K.gelu_fwd, K.softmax_fwd, lambda x: K.layernorm_fwd(x, w, b)[0]):
        np.testing.assert_array_equal(f(x), f(x.copy()))


def test_causal_softmax_masks_exactly_and_sums_to_one(rng):
    s = rng.standard_normal((2, 5, 9)).astype(np.float32) * 10
    p = K.causal_softmax_(s.copy(), 0.5)
    for i in range(5):
        n = 9 - 5 + i + 1
        assert (p[:, i, n:] == 0).all()
        close(p[:, i, :n], R.softmax_fwd(0.5 * s[:, i, :n]), atol=1e-7)
    with pytest.raises(ValueError, match="T <= S"):
        K.causal_softmax_(np.zeros((4, 3), np.float32), 1.0)


def test_dispatch_takes_float32_numpy_only():
    f32, f64 = np.zeros(3, np.float32), np.zeros(3, np.float64)
    assert kernels(f32) is K and cpu_kernels(f32) is K
    assert kernels(f64) is None and kernels(f32, f64) is None
    with fused_cpu(False):
        assert kernels(f32) is None


def test_a_numba_that_cannot_load_warns_once_and_leaves_numpy_ops(tmp_path):
    """numba installed but broken (say, built for another NumPy): one clear warning, then the NumPy path."""
    from pathlib import Path

    fake = tmp_path / "numba"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('Numba needs NumPy 2.3 or less')\n")
    code = ("import warnings, numpy as np\n"
            "warnings.simplefilter('always')\n"
            "from minigpt import ops\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    y1 = ops.gelu(np.ones(3, np.float32)).data\n"
            "    y2 = ops.gelu(np.ones(3, np.float32)).data\n"
            "print(len(w), str(w[0].message) if w else '', float(y1[0]), float(y2[0]))\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}
    env.pop("MINIGPT_FUSED", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    n, rest = out.stdout.split(" ", 1)
    assert n == "1" and "Numba needs NumPy 2.3 or less" in rest and "MINIGPT_FUSED=0" in rest, out.stdout
    assert all(abs(float(v) - 0.841192) < 1e-5 for v in rest.split()[-2:])  # GELU(1), tanh form, by hand


def test_a_full_disk_at_the_first_compile_warns_and_the_op_still_runs(tmp_path):
    """numba compiles a kernel, then writes it to its on-disk cache; a full disk makes that write raise
    OSError (ENOSPC) after the code is in memory. The op must still return the right numbers, with a warning."""
    code = (
        "import errno, warnings, numba.core.caching as c, numpy as np\n"
        "def full(self, sig, data): raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "c.Cache.save_overload = full\n"
        "from minigpt import ops\n"
        "from minigpt.autograd import Tensor\n"
        "from minigpt.kernels import reference as R\n"
        "x = np.linspace(-4, 4, 300, dtype=np.float32).reshape(3, 100)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    y = ops.gelu(Tensor(x)).data\n"
        "    y2 = ops.gelu(Tensor(x)).data\n"
        "print(float(np.abs(y - R.gelu_fwd(x)).max()), float(np.abs(y2 - y).max()))\n"
        "print(sum('could not save a compiled CPU kernel' in str(m.message) for m in w))\n")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # an empty cache: the kernel must compile
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    err, again = out.stdout.split()[:2]
    assert float(err) < 1e-5 and float(again) == 0.0
    assert out.stdout.split()[2] == "1"  # one warning, not one per call
