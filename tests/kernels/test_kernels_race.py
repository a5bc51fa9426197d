"""The shim catches a missing __syncthreads(): remove one barrier from a real kernel and the answer goes wrong.

Each planted bug deletes exactly one `__syncthreads();` (the one carrying a `(Bn)`
marker comment) from the kernel's source text and runs it in chaos mode (random
per-warp start delays, random pauses after barriers). The same runs with the barrier
in place must stay correct, so the failure is the race and not the chaos.
    python -m pytest tests/kernels/test_kernels_race.py -q
"""
import numpy as np
import pytest

from minigpt.kernels import emulate, registry, runner, source

pytestmark = pytest.mark.skipif(emulate.compiler() is None, reason="the CPU shim needs g++ (C++20)")

CHAOS_US = 500
SEEDS = range(8)   # the racy runs stop at the first wrong answer

# (kernel, barrier marker, sizes, block): what the barrier protects
PLANTED = [
    # warps read each other's (max, sum) pairs from shared memory before they are written
    ("softmax_fwd_v3", "(B1)", {"N": 4, "C": 300}, 128),
    # a slow warp zeroes the dw/db partials after a fast warp has added to them
    ("layernorm_bwd", "(B1)", {"N": 24, "C": 100}, 256),
]


def drop_barrier(text: str, marker: str) -> str:
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if "__syncthreads();" in line and marker in line]
    assert len(hits) == 1, f"expected exactly one __syncthreads() marked {marker}, found {len(hits)}"
    lines[hits[0]] = lines[hits[0]].replace("__syncthreads();", ";", 1)
    return "".join(lines)


def run_once(kernel, sizes, threads, text, seed):
    problem = runner.make_problem(kernel, sizes, seed)
    arrays = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in problem.items()}
    for L in kernel.plan(problem, threads):
        args = [arrays[a] if isinstance(a, str) else a for a in L.args]
        emulate.launch(L.entry, L.grid, L.threads, L.shared_bytes, *args, defines=kernel.defines(problem, threads),
                       source=text, chaos_us=CHAOS_US, seed=seed)
    ref = kernel.reference(problem)
    atol = kernel.atol * sizes.get("mag", 1.0)
    return all(runner.compare(arrays[o], ref[o], kernel.rtol, atol)[0] for o in kernel.outputs)


@pytest.mark.parametrize("name, marker, sizes, threads", PLANTED, ids=[p[0] for p in PLANTED])
def test_missing_barrier_is_caught(name, marker, sizes, threads):
    kernel = registry.get(name)
    text = (source.KERNEL_DIR / kernel.file).read_text()
    racy = drop_barrier(text, marker)
    assert racy != text
    for seed in SEEDS:
        if not run_once(kernel, sizes, threads, racy, seed):
            return  # caught
    pytest.fail(f"{name} without barrier {marker} matched the reference in all {len(SEEDS)} runs")


@pytest.mark.parametrize("name, marker, sizes, threads", PLANTED, ids=[p[0] for p in PLANTED])
def test_intact_kernel_survives_chaos(name, marker, sizes, threads):
    kernel = registry.get(name)
    text = (source.KERNEL_DIR / kernel.file).read_text()
    assert all(run_once(kernel, sizes, threads, text, seed) for seed in SEEDS[:1])
