"""Every registry kernel, run on the CPU emulation shim, against its NumPy reference.

Sizes are ragged (not multiples of the block size), logits reach +-1e4, blocks vary.
    python -m pytest tests/kernels/test_kernels_shim.py -q
"""
import re

import numpy as np
import pytest

from minigpt.kernels import emulate, registry, runner, source

pytestmark = pytest.mark.skipif(emulate.compiler() is None, reason="the CPU shim needs g++ (C++20)")

CASES = [pytest.param(k, sizes, threads, id=f"{k.name}-{i}-t{threads}")
         for k in registry.KERNELS for i, sizes in enumerate(k.test_sizes) for threads in k.threads_per_block]


@pytest.fixture(scope="module", autouse=True)
def _prebuild():
    runner.prebuild()   # compile all shim libraries in parallel once


@pytest.mark.parametrize("kernel, sizes, threads", CASES)
def test_kernel_matches_reference(kernel, sizes, threads):
    ok, message = runner.check(kernel, sizes, threads, backend="shim", seed=threads)
    assert ok, message


# ----------------------------------------------------------------------------
# the registry and the sources agree
def test_registry_covers_every_kernel_in_the_sources():
    in_sources = {name for f in source.kernel_files() for name in source.parse_entries(f.read_text())}
    in_registry = {e for k in registry.KERNELS for e in k.entries}
    assert in_sources == in_registry, f"not in registry: {in_sources - in_registry}; missing: {in_registry - in_sources}"


@pytest.mark.parametrize("kernel", registry.KERNELS, ids=lambda k: k.name)
def test_registry_entries_live_in_the_named_file(kernel):
    for name in kernel.entries:
        assert source.entry(name).file.name == kernel.file
    problem = runner.make_problem(kernel, kernel.test_sizes[0])
    assert tuple(L.entry for L in kernel.plan(problem, kernel.threads_per_block[0])) == kernel.entries


@pytest.mark.parametrize("path", source.kernel_files(), ids=lambda p: p.name)
def test_every_cu_file_starts_with_its_manual(path):
    head = path.read_text().splitlines()[0]
    assert head.startswith(f"// {path.name} -- "), f"{path.name} should open with '// {path.name} -- what it is'"


# ----------------------------------------------------------------------------
# the checker itself can fail
def test_wrong_tile_size_is_caught():
    """matmul_v2 compiled for 16x16 tiles but launched with 8x8 blocks leaves most of each tile unloaded."""
    k = registry.get("matmul_v2")
    problem = runner.make_problem(k, {"M": 20, "N": 20, "K": 20})
    ref = k.reference(problem)["C"]
    arrays = {key: v.copy() if isinstance(v, np.ndarray) else v for key, v in problem.items()}
    emulate.launch("matmul_v2", (3, 3), (8, 8), 0, arrays["C"], arrays["A"], arrays["B"], 20, 20, 20,
                   defines={"MM_TILE": 16})
    ok, _ = runner.compare(arrays["C"], ref, k.rtol, k.atol)
    assert not ok


def test_unwritten_outputs_show_as_nan():
    """A grid too small for the rows leaves the NaN the buffers start with."""
    k = registry.get("softmax_fwd_v2")
    problem = runner.make_problem(k, {"N": 10, "C": 50})
    y, x = problem["y"].copy(), problem["x"]
    emulate.launch("softmax_fwd_v2", 1, 128, 0, y, x, 10, 50)   # 4 rows per block: rows 4..9 untouched
    assert np.isnan(y[4:]).all() and np.isfinite(y[:4]).all()
    assert np.allclose(y[:4], k.reference(problem)["y"][:4], rtol=1e-5, atol=1e-7)


def test_source_rewrite_is_only_dynamic_shared_memory():
    text = "extern __shared__ float smem[];\n__shared__ float part[32];"
    out = emulate.rewrite_dynamic_shared(text)
    assert out.splitlines()[1] == "__shared__ float part[32];"
    assert re.fullmatch(r"float\* smem = reinterpret_cast<float\*>\(::cuda_shim::dynamic_shared_memory\(\)\);",
                        out.splitlines()[0])
