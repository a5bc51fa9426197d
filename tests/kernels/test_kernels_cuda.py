"""Every registry kernel on a real GPU through CuPy, against its NumPy reference (skipped without one).

    python -m pytest tests/kernels/test_kernels_cuda.py -m cuda -q
"""
import pytest

from minigpt.kernels import launch, registry, runner

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not launch.is_available(), reason="needs CuPy and a CUDA GPU")]

CASES = [pytest.param(k, sizes, threads, id=f"{k.name}-{i}-t{threads}")
         for k in registry.KERNELS for i, sizes in enumerate(k.test_sizes) for threads in k.threads_per_block]


@pytest.mark.parametrize("kernel, sizes, threads", CASES)
def test_kernel_matches_reference_on_gpu(kernel, sizes, threads):
    ok, message = runner.check(kernel, sizes, threads, backend="cupy", seed=threads)
    assert ok, message


@pytest.mark.parametrize("kernel", registry.KERNELS, ids=lambda k: k.name)
def test_kernel_at_benchmark_shape_on_gpu(kernel):
    """Long rows (50k vocabulary), head_dim 64, a million ragged elements: runner.check_size."""
    ok, message = runner.check(kernel, runner.check_size(kernel), kernel.threads_per_block[-1], backend="cupy")
    assert ok, message
