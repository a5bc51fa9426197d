"""Graded checks for exercise 02.1: mul_backward (solutions/ex02_autograd.py)."""
import numpy as np
import pytest
from _props import expect_central_differences

pytestmark = pytest.mark.ex_02_1_mul_backward

SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5, 1), (1, 6)), ((1,), (1,)), ((2, 3, 1), (1,))]


@pytest.mark.points(2)
def test_worked_example(impl):
    da, db = impl.mul_backward(np.array([[1.0], [2.0]]), np.array([10.0, 20.0, 30.0]), np.ones((2, 3)))
    np.testing.assert_allclose(da, [[60.0], [60.0]], err_msg="da: grad * b summed over the broadcast axis 1, keeping shape (2, 1)")
    np.testing.assert_allclose(db, [3.0, 3.0, 3.0], err_msg="db: grad * a summed over the added axis 0")


@pytest.mark.parametrize("shape_a, shape_b", SHAPES)
def test_shapes_and_central_differences(impl, numgrad, shape_a, shape_b):
    expect_central_differences(impl.mul_backward, np.multiply, shape_a, shape_b, 201, numgrad,
                               "sum the gradient over broadcast dims, keep size-1 dims", atol=1e-8)


# -----------------------------------------------------------------------------
# property: any broadcast pair, int / float32 / float64, rows of very different scales
from hypothesis import given  # noqa: E402

from _props import broadcast_pair, cast, dtypes, expect_bilinear_gradients, seeds  # noqa: E402


@pytest.mark.points(3)
@given(shapes=broadcast_pair(), seed=seeds, dtype=dtypes)
def test_property_gradients_of_the_broadcast_product(impl, shapes, seed, dtype):
    """da_i = Σ_outputs fed by a_i of grad · b (sum over broadcast dims, a's shape); db likewise."""
    rng = np.random.default_rng(seed)
    sa, sb = shapes
    out = np.broadcast_shapes(sa, sb)
    scale = 10.0 ** rng.integers(-3, 4, size=out)  # every output entry its own scale
    a, b = cast(rng.normal(size=sa) * 3, dtype), cast(rng.normal(size=sb) * 3, dtype)
    grad = cast(rng.normal(size=out) * scale, dtype)
    expect_bilinear_gradients(impl.mul_backward, a, b, grad, np.multiply,
                              ("da = grad ⊙ b summed down to a.shape", "db = grad ⊙ a summed down to b.shape"), dtype)
