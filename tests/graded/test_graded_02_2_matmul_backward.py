"""Graded checks for exercise 02.2: matmul_backward (solutions/ex02_autograd.py)."""
import numpy as np
import pytest
from _props import expect_central_differences

pytestmark = pytest.mark.ex_02_2_matmul_backward

SHAPES = [((3, 4), (4, 5)), ((1, 1), (1, 1)), ((2, 3, 4), (4, 5)), ((4, 2), (3, 2, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (2, 4, 5))]


@pytest.mark.points(2)
def test_worked_example(impl):
    da, db = impl.matmul_backward(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]), np.array([[1.0]]))
    np.testing.assert_allclose(da, [[3.0, 4.0]], err_msg="da = grad @ b^T")
    np.testing.assert_allclose(db, [[1.0], [2.0]], err_msg="db = a^T @ grad")


def test_non_square_transposes(impl):
    """a (2, 3), b (3, 1), grad = [[1], [0]] -> da = [b^T; 0], db = a^T [1, 0]^T = first row of a."""
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([[7.0], [8.0], [9.0]])
    da, db = impl.matmul_backward(a, b, np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(da, [[7.0, 8.0, 9.0], [0.0, 0.0, 0.0]], err_msg="da = grad @ b^T (transpose the last two axes of b)")
    np.testing.assert_allclose(db, [[1.0], [2.0], [3.0]], err_msg="db = a^T @ grad (transpose the last two axes of a)")


@pytest.mark.parametrize("shape_a, shape_b", SHAPES)
def test_batched_shapes_and_central_differences(impl, numgrad, shape_a, shape_b):
    expect_central_differences(impl.matmul_backward, np.matmul, shape_a, shape_b, 202, numgrad,
                               "sum over the broadcast batch dims", atol=1e-7)


# -----------------------------------------------------------------------------
# property: broadcast batch dims, int / float32 / float64, entries of very different scales
from hypothesis import given  # noqa: E402

from _props import cast, dtypes, expect_bilinear_gradients, matmul_shapes, seeds  # noqa: E402


@pytest.mark.points(3)
@given(shapes=matmul_shapes(), seed=seeds, dtype=dtypes)
def test_property_gradients_of_the_batched_product(impl, shapes, seed, dtype):
    """da = grad @ bᵀ, db = aᵀ @ grad (last two axes), each summed over the batch dims its input was broadcast along."""
    rng = np.random.default_rng(seed)
    sa, sb = shapes
    a = cast(rng.normal(size=sa) * 10.0 ** rng.integers(-3, 4, size=sa), dtype)
    b = cast(rng.normal(size=sb) * 3, dtype)
    out = np.matmul(np.zeros(sa), np.zeros(sb)).shape
    grad = cast(rng.normal(size=out) * 3, dtype)
    expect_bilinear_gradients(impl.matmul_backward, a, b, grad, np.matmul,
                              ("da = grad @ bᵀ summed down to a.shape", "db = aᵀ @ grad summed down to b.shape"), dtype)
