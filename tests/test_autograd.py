"""The autograd core: graph recording, accumulation, freeing, no_grad, errors."""
import numpy as np
import pytest

import minigpt as m
from minigpt.autograd import Tensor, unbroadcast


def test_hand_worked_expression():
    """f(a, b) = (a*b + a)², a=2, b=3: f = (6+2)² = 64; df/da = 2·8·(b+1) = 64, df/db = 2·8·a = 32."""
    a = Tensor(2.0, requires_grad=True)
    b = Tensor(3.0, requires_grad=True)
    f = (a * b + a) ** 2
    f.backward()
    assert f.item() == 64.0
    assert a.grad == pytest.approx(64.0) and b.grad == pytest.approx(32.0)


def test_reused_node_accumulates():
    """y = x·x + x  ⇒  dy/dx = 2x + 1 = 7 at x = 3 (x used three times)."""
    x = Tensor(3.0, requires_grad=True)
    (x * x + x).backward()
    assert x.grad == pytest.approx(7.0)


def test_grad_accumulates_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


def test_graph_freed_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    assert y._ctx is None
    y.backward()  # the graph is gone: a second backward cannot reach x again
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with m.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y._ctx is None
    assert m.autograd.is_grad_enabled()


def test_backward_non_scalar_needs_grad():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2.0).backward()
    y = x * 2.0
    y.backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad, 2.0)


def test_backward_without_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_float32_stays_float32():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = (x * 0.5 + 1.0) / 3.0 - 2.0
    y = m.ops.gelu(y).exp().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
    assert Tensor(1.5).dtype == np.float32


def test_deep_graph_no_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.backward()
    assert x.grad == pytest.approx(1.0)


@pytest.mark.parametrize("gshape, shape, axes", [
    ((2, 3, 4), (3, 1), (0, 2)),
    ((2, 3, 4), (4,), (0, 1)),
    ((2, 3, 4), (1, 3, 4), (0,)),
    ((5,), (1,), (0,)),
    ((2, 3), (), (0, 1)),
    ((2, 3), (2, 3), ()),
])
def test_unbroadcast(gshape, shape, axes, rng):
    g = rng.standard_normal(gshape)
    expected = g.sum(axis=axes, keepdims=True) if axes else g
    np.testing.assert_allclose(unbroadcast(g, shape), expected.reshape(shape))


def test_gradcheck_catches_wrong_gradient():
    class Wrong(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * ctx.saved[0]  # should be 2x

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(AssertionError, match="gradcheck failed"):
        m.gradcheck(lambda t: Wrong.apply(t), [x])
    with pytest.raises(TypeError, match="float64"):
        m.gradcheck(lambda t: t * t, [Tensor(np.ones(2, np.float32), requires_grad=True)])


def test_shared_input_reached_by_paths_of_different_depth():
    """w feeds both a deep path and a shallow one (like tied embeddings):
    f = sum(w * ((w * 2) * 3)) = 6 Σ w²  ⇒  df/dw = 12 w."""
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    deep = (w * 2.0) * 3.0
    (w * deep).sum().backward()
    np.testing.assert_allclose(w.grad, [12.0, -24.0])
    a = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    b = a * a
    c = b * a + a  # a used at depths 0 and 1 and 2
    d = c * b
    d.sum().backward()
    np.testing.assert_allclose(a.grad, 5 * a.data ** 4 + 3 * a.data ** 2)  # d/da (a⁵ + a³)
    assert m.gradcheck(lambda a: ((a * a) * a + a) * (a * a), [a])
