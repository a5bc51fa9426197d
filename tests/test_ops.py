"""Every differentiable op, checked two ways (STYLE.md):

1. backward vs central finite differences in float64 (gradcheck), on shapes with
   broadcasting, size-1 dims and transposed (non-contiguous) inputs;
2. forward and backward vs PyTorch, when torch is installed (the `torch` extra).

One table of cases feeds both checks, so they cannot drift.
"""
import numpy as np
import pytest

import minigpt as m
from minigpt import ops
from minigpt.autograd import Tensor

# name -> (minigpt fn, torch fn, input shapes); inputs are standard normal unless the name says otherwise
F = None  # torch.nn.functional, imported lazily


def _tf():
    import torch.nn.functional as tf
    return tf


CASES = {
    "add_bcast": (lambda a, b: a + b, lambda a, b: a + b, [(2, 3, 4), (3, 1)]),
    "sub_bcast": (lambda a, b: a - b, lambda a, b: a - b, [(4,), (2, 1, 4)]),
    "mul_bcast": (lambda a, b: a * b, lambda a, b: a * b, [(2, 1, 4), (3, 1)]),
    "div_pos": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (1, 4)]),
    "neg": (lambda a: -a, lambda a: -a, [(3, 2)]),
    "pow2": (lambda a: a ** 2, lambda a: a ** 2, [(3, 4)]),
    "pow3": (lambda a: a ** 3, lambda a: a ** 3, [(3, 4)]),
    "pow_frac_pos": (lambda a: a ** 1.5, lambda a: a ** 1.5, [(5,)]),
    "exp": (lambda a: a.exp(), lambda a: a.exp(), [(2, 3)]),
    "log_pos": (lambda a: a.log(), lambda a: a.log(), [(2, 3)]),
    "sqrt_pos": (lambda a: a.sqrt(), lambda a: a.sqrt(), [(2, 3)]),
    "tanh": (lambda a: a.tanh(), lambda a: a.tanh(), [(2, 3)]),
    "relu": (lambda a: a.relu(), lambda a: a.relu(), [(4, 5)]),
    "gelu": (ops.gelu, lambda a: _tf().gelu(a, approximate="tanh"), [(4, 5)]),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "matmul_batched_bcast": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    "matmul_transposed": (lambda a, b: a.T @ b, lambda a, b: a.T @ b, [(4, 3), (4, 2)]),
    "linear": (ops.linear, lambda x, w, b: _tf().linear(x, w, b), [(2, 3, 4), (5, 4), (5,)]),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), [(2, 3)]),
    "sum_axis_keep": (lambda a: a.sum(axis=1, keepdims=True), lambda a: a.sum(dim=1, keepdim=True), [(2, 3, 4)]),
    "mean_axis": (lambda a: a.mean(axis=-1), lambda a: a.mean(dim=-1), [(2, 1, 4)]),
    "mean_axes": (lambda a: a.mean(axis=(0, 2)), lambda a: a.mean(dim=(0, 2)), [(2, 3, 4)]),
    "max_axis": (lambda a: a.max(axis=1), lambda a: a.max(dim=1).values, [(3, 5)]),
    "reshape": (lambda a: a.reshape(3, 4) * 2.0, lambda a: a.reshape(3, 4) * 2.0, [(2, 6)]),
    "permute": (lambda a: a.permute(2, 0, 1) @ a.permute(2, 1, 0)[..., :1], None, [(2, 3, 4)]),
    "getitem_slice": (lambda a: a[:, 1:3], lambda a: a[:, 1:3], [(3, 4)]),
    "getitem_fancy_repeat": (lambda a: a[np.array([0, 2, 0])], lambda a: a[[0, 2, 0]], [(3, 4)]),
    "concat": (lambda a, b: ops.concat([a, b], axis=1), lambda a, b: __import__("torch").cat([a, b], 1),
               [(2, 3), (2, 1)]),
    "split": (lambda a: ops.split(a, [1, 3], axis=1)[1] * 3.0, lambda a: a.split([1, 3], 1)[1] * 3.0, [(2, 4)]),
    "where": (lambda a, b: ops.where(np.array([[True, False, True]]), a, b),
              lambda a, b: __import__("torch").where(__import__("torch").tensor([[True, False, True]]), a, b),
              [(2, 3), (2, 3)]),
    "softmax": (lambda a: ops.softmax(a, axis=-1), lambda a: a.softmax(-1), [(3, 5)]),
    "softmax_axis0_size1": (lambda a: ops.softmax(a, axis=0), lambda a: a.softmax(0), [(4, 1)]),
    "log_softmax": (lambda a: ops.log_softmax(a), lambda a: a.log_softmax(-1), [(2, 3, 5)]),
    "layernorm": (lambda x, w, b: ops.layernorm(x, w, b), lambda x, w, b: _tf().layer_norm(x, (x.shape[-1],), w, b),
                  [(2, 3, 6), (6,), (6,)]),
    "layernorm_T1": (lambda x, w, b: ops.layernorm(x, w, b), lambda x, w, b: _tf().layer_norm(x, (x.shape[-1],), w, b),
                     [(1, 1, 4), (4,), (4,)]),
}
POSITIVE = ("div_pos", "log_pos", "sqrt_pos", "pow_frac_pos")


def _inputs(name, shapes, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s) for s in shapes]
    if name in POSITIVE:
        xs = [np.abs(x) + 0.5 for x in xs]
    return xs


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck(name):
    fn, _, shapes = CASES[name]
    xs = [Tensor(x, requires_grad=True) for x in _inputs(name, shapes)]
    assert m.gradcheck(fn, xs)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c[1] is not None])
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, tfn, shapes = CASES[name]
    xs = _inputs(name, shapes, seed=1)
    ours = [Tensor(x.astype(np.float32), requires_grad=True) for x in xs]
    theirs = [torch.tensor(x.astype(np.float32), requires_grad=True) for x in xs]
    y, ty = fn(*ours), tfn(*theirs)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5 * np.abs(ty.detach().numpy()).max())
    g = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        ref = b.grad.numpy()
        np.testing.assert_allclose(a.grad, ref, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(ref).max()))


# -----------------------------------------------------------------------------
# ops with integer inputs or randomness

def test_cross_entropy_hand_worked():
    """Uniform logits over V=4 classes: loss = log 4 whatever the target;
    grad row = (1/4 - onehot)/M over the M=2 non-ignored rows, ignored row grad 0."""
    z = Tensor(np.zeros((3, 4)), requires_grad=True)
    loss = ops.cross_entropy(z, np.array([1, -100, 3]))
    assert loss.item() == pytest.approx(np.log(4))
    loss.backward()
    expected = np.full((3, 4), 0.25 / 2)
    expected[0, 1] -= 0.5
    expected[2, 3] -= 0.5
    expected[1] = 0
    np.testing.assert_allclose(z.grad, expected)


def test_cross_entropy_gradcheck_and_large_logits(rng):
    z = Tensor(rng.standard_normal((2, 3, 5)), requires_grad=True)
    t = np.array([[0, 4, -100], [2, -100, 1]])
    assert m.gradcheck(lambda z: ops.cross_entropy(z, t), [z])
    big = ops.cross_entropy(Tensor(np.array([[1e4, 0.0, -1e4]], np.float32)), np.array([1]))
    assert np.isfinite(big.item()) and big.item() == pytest.approx(1e4, rel=1e-6)


def test_cross_entropy_all_ignored_is_zero():
    z = Tensor(np.ones((2, 3)), requires_grad=True)
    loss = ops.cross_entropy(z, np.array([-100, -100]))
    loss.backward()
    assert loss.item() == 0.0 and not z.grad.any()


def test_cross_entropy_matches_torch(rng):
    torch = pytest.importorskip("torch")
    z = rng.standard_normal((4, 6, 11)).astype(np.float32) * 5
    t = rng.integers(0, 11, (4, 6))
    t[0, :3] = -100
    ours = Tensor(z, requires_grad=True)
    loss = ops.cross_entropy(ours, t)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz.reshape(-1, 11), torch.tensor(t).reshape(-1), ignore_index=-100)
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-5)
    np.testing.assert_allclose(ours.grad, tz.grad.numpy(), atol=1e-6)


def test_cross_entropy_errors():
    z = Tensor(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="target id 4 out of range for 4 classes"):
        ops.cross_entropy(z, np.array([0, 4]))
    with pytest.raises(ValueError, match="targets shape"):
        ops.cross_entropy(z, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer"):
        ops.cross_entropy(z, np.array([0.0, 1.0]))


def test_embedding_scatter_add_and_torch(rng):
    w = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    ids = np.array([[1, 1, 4], [0, 1, 2]])
    assert m.gradcheck(lambda w: ops.embedding(w, ids), [w])
    w.grad = None
    ops.embedding(w, ids).sum().backward()
    np.testing.assert_allclose(w.grad[:, 0], [1, 3, 1, 0, 1])  # token 1 appears 3 times; 3 never


def test_embedding_backward_unsorted_repeats_and_empty(rng):
    """The backward sums each id's rows (sort + reduceat): compare with an explicit loop, and an empty batch."""
    w = Tensor(rng.standard_normal((7, 4)), requires_grad=True)
    ids = rng.integers(0, 7, size=(3, 11))
    g = rng.standard_normal((3, 11, 4))
    ops.embedding(w, ids).backward(g)
    expect = np.zeros((7, 4))
    for i, row in zip(ids.reshape(-1), g.reshape(-1, 4)):
        expect[i] += row
    np.testing.assert_allclose(w.grad, expect, atol=1e-12)
    w.grad = None
    ops.embedding(w, np.zeros((2, 0), dtype=np.int64)).backward(np.zeros((2, 0, 4)))
    np.testing.assert_array_equal(w.grad, np.zeros((7, 4)))


def test_embedding_out_of_range():
    w = Tensor(np.zeros((5, 3)))
    with pytest.raises(IndexError, match="token id 5 out of range for a vocabulary of 5"):
        ops.embedding(w, np.array([0, 5]))
    with pytest.raises(IndexError, match="-1"):
        ops.embedding(w, np.array([-1]))


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_dropout_seeded_and_scaled():
    x = Tensor(np.ones((1000,), np.float32), requires_grad=True)
    y1 = ops.dropout(x, 0.25, np.random.default_rng(7))
    y2 = ops.dropout(x, 0.25, np.random.default_rng(7))
    np.testing.assert_array_equal(y1.data, y2.data)
    assert set(np.unique(y1.data)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y1.data == 0).mean() - 0.25) < 0.05
    y1.sum().backward()
    np.testing.assert_array_equal(x.grad, y1.data)  # d/dx of x·mask/(1-p) is mask/(1-p) = y for x = 1
    assert ops.dropout(x, 0.25, np.random.default_rng(0), training=False) is x


def test_softmax_large_logits_stable():
    y = ops.softmax(Tensor(np.array([1000.0, 1001.0], np.float32)))
    e = 1 / (1 + np.e)  # softmax([0, 1]) = [1/(1+e), e/(1+e)]
    np.testing.assert_allclose(y.data, [e, 1 - e], rtol=1e-6)


def test_gelu_float32_over_a_wide_range_without_warnings():
    """GELU's forward uses 1/(1 + e^{-2u}) for ½(1 + tanh u): e^{-2u} overflows to inf for x < ~-9.5,
    which must give 0 silently; compared with the tanh formula in float64."""
    import warnings
    x = np.concatenate([np.array([-1e4, -100, -20, -9.6, -9.4, -5, 0, 5, 20, 100, 1e4]),
                        np.linspace(-12, 12, 2001)]).astype(np.float32)
    c = np.sqrt(2 / np.pi)
    x64 = x.astype(np.float64)
    ref = 0.5 * x64 * (1 + np.tanh(c * (x64 + 0.044715 * x64 ** 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(x, requires_grad=True)
        y = ops.gelu(t)
        y.sum().backward()
    assert y.data.dtype == np.float32
    np.testing.assert_allclose(y.data, ref, rtol=1e-5, atol=1e-6)
    h = 1e-6                                               # central difference of the float64 formula
    f = lambda z: 0.5 * z * (1 + np.tanh(c * (z + 0.044715 * z ** 3)))  # noqa: E731
    np.testing.assert_allclose(t.grad, (f(x64 + h) - f(x64 - h)) / (2 * h), rtol=1e-4, atol=1e-5)


def test_dropout_module_draws_from_its_reseeded_generator():
    """Dropout.reseed(s): the next mask comes from default_rng(s) (made on first use); p = 0 draws nothing."""
    from minigpt.nn.layers import Dropout
    x = Tensor(np.ones((4, 50), np.float32))
    d = Dropout(0.3)
    d.reseed([5, 2])
    want = (np.random.default_rng([5, 2]).random((4, 50), dtype=np.float32) >= 0.3) / np.float32(0.7)
    np.testing.assert_allclose(d(x).data, want)
    d.reseed([5, 2])
    np.testing.assert_allclose(d(x).data, want)  # same seed, same mask
    off = Dropout(0.0)
    off.reseed([5, 2])
    assert off(x).data is x.data
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\)"):
        Dropout(1.5)(x)
