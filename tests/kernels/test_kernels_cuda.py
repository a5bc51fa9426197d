"""Every registry kernel on a real GPU through CuPy, against its NumPy reference (skipped without one).

    python -m pytest tests/kernels/test_kernels_cuda.py -m cuda -q
"""
import pytest

from minigpt.kernels import launch, registry, runner

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not launch.is_available(), reason="needs CuPy and a CUDA GPU")]

CASES = [pytest.param(k, sizes, block, id=f"{k.name}-{i}-b{block}")
         for k in registry.KERNELS for i, sizes in enumerate(k.test_sizes) for block in k.block_sizes]


@pytest.mark.parametrize("kernel, sizes, block", CASES)
def test_kernel_matches_reference_on_gpu(kernel, sizes, block):
    ok, message = runner.check(kernel, sizes, block, backend="cupy", seed=block)
    assert ok, message


@pytest.mark.parametrize("kernel", registry.KERNELS, ids=lambda k: k.name)
def test_kernel_at_benchmark_shape_on_gpu(kernel):
    """Long rows (50k vocabulary), head_dim 64, a million ragged elements: runner.check_size."""
    ok, message = runner.check(kernel, runner.check_size(kernel), kernel.block_sizes[-1], backend="cupy")
    assert ok, message
