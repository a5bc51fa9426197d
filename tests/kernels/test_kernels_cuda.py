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


def gpu_size(kernel):
    """The benchmark shape, with the row count cut so the float64 NumPy reference stays quick."""
    s = dict(kernel.bench_size)
    if "N" in s and ("C" in s or "V" in s):
        s["N"] = min(s["N"], 64)                       # keep the long rows (e.g. a 50k vocabulary)
    if "n" in s:
        s["n"] = 1_000_003                             # ragged, and many blocks
    if "BH" in s:
        s.update(BH=2, T=300)
    if "M" in s:
        s = {"M": 256, "N": 320, "K": 200}
    return s


@pytest.mark.parametrize("kernel", registry.KERNELS, ids=lambda k: k.name)
def test_kernel_at_benchmark_shape_on_gpu(kernel):
    ok, message = runner.check(kernel, gpu_size(kernel), kernel.block_sizes[-1], backend="cupy")
    assert ok, message
