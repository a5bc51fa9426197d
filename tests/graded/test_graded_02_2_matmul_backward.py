"""Graded checks for exercise 02.2: matmul_backward (solutions/ex02_autograd.py)."""
import numpy as np
import pytest

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
    rng = np.random.default_rng(202)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    grad = rng.normal(size=np.matmul(a, b).shape)
    da, db = impl.matmul_backward(a, b, grad)
    assert np.shape(da) == shape_a, f"da must have a's shape {shape_a}, got {np.shape(da)}: sum over the broadcast batch dims"
    assert np.shape(db) == shape_b, f"db must have b's shape {shape_b}, got {np.shape(db)}: sum over the broadcast batch dims"
    loss = lambda a_, b_: float(np.sum(grad * np.matmul(a_, b_)))
    np.testing.assert_allclose(da, numgrad(lambda x: loss(x, b), a), rtol=1e-6, atol=1e-7, err_msg="da differs from central differences")
    np.testing.assert_allclose(db, numgrad(lambda x: loss(a, x), b), rtol=1e-6, atol=1e-7, err_msg="db differs from central differences")
