"""The CPU shim's CUDA primitives, each on a tiny kernel with a hand-computed answer.

    python -m pytest tests/kernels/test_kernels_emulator.py -q
"""
import numpy as np
import pytest

from minigpt.kernels import emulate

pytestmark = pytest.mark.skipif(emulate.compiler() is None, reason="the CPU shim needs g++ (C++20)")

PRIMITIVES = r"""
// out[t] for thread t of a 2-warp block (64 threads)
extern "C" __global__ void shuffles(int* down, int* up, int* xr, int* bcast, int* seg) {
    int t = threadIdx.x;
    down[t]  = __shfl_down_sync(0xffffffffu, t, 3);        // t+3 within the warp, else own
    up[t]    = __shfl_up_sync(0xffffffffu, t, 2);          // t-2 within the warp, else own
    xr[t]    = __shfl_xor_sync(0xffffffffu, t, 5);         // t^5
    bcast[t] = __shfl_sync(0xffffffffu, t * 10, 7);        // lane 7's value, per warp
    seg[t]   = __shfl_down_sync(0xffffffffu, t, 1, 8);     // segments of 8 lanes
}

extern "C" __global__ void index_vars(int* out) {
    int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    out[b * blockDim.x * blockDim.y * blockDim.z + t] = 1000 * b + t;
}

extern "C" __global__ void reverse_in_block(float* y, const float* x) {
    __shared__ float buf[1024];
    int t = threadIdx.x, base = blockIdx.x * blockDim.x;
    buf[t] = x[base + t];
    __syncthreads();
    y[base + t] = buf[blockDim.x - 1 - t];
}

extern "C" __global__ void count_atomic(float* total, int* hits) {
    atomicAdd(total, 0.5f);
    atomicAdd(hits, 1);
}

extern "C" __global__ void read_dynamic(float* out, int n_written) {
    extern __shared__ float dyn[];
    if (threadIdx.x < n_written) dyn[threadIdx.x] = 1.0f;
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = dyn[threadIdx.x];
}

extern "C" __global__ void write_past_end(float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    y[i] = 1.0f;                                              // no bounds check
}
"""


@pytest.fixture(scope="module")
def mod():
    return emulate.build(PRIMITIVES, label="primitives")


def test_shuffles(mod):
    outs = [np.zeros(64, np.int32) for _ in range(5)]
    mod.launch("shuffles", 1, 64, 0, *outs)
    t = np.arange(64)
    lane = t % 32
    np.testing.assert_array_equal(outs[0], np.where(lane + 3 < 32, t + 3, t))
    np.testing.assert_array_equal(outs[1], np.where(lane >= 2, t - 2, t))
    np.testing.assert_array_equal(outs[2], t ^ 5)
    np.testing.assert_array_equal(outs[3], (t // 32 * 32 + 7) * 10)
    np.testing.assert_array_equal(outs[4], np.where(lane % 8 + 1 < 8, t + 1, t))


def test_index_variables_3d(mod):
    grid, block = (2, 3, 2), (4, 2, 3)
    out = np.full(12 * 24, -1, np.int32)
    mod.launch("index_vars", grid, block, 0, out)
    expected = 1000 * np.repeat(np.arange(12), 24) + np.tile(np.arange(24), 12)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("block", [32, 100, 1024])
def test_syncthreads_and_static_shared(mod, block):
    x = np.arange(3 * block, dtype=np.float32)
    y = np.zeros_like(x)
    mod.launch("reverse_in_block", 3, block, 0, y, x)
    np.testing.assert_array_equal(y, x.reshape(3, block)[:, ::-1].ravel())


def test_atomics(mod):
    total, hits = np.zeros(1, np.float32), np.zeros(1, np.int32)
    mod.launch("count_atomic", 5, 96, 0, total, hits)
    assert hits[0] == 5 * 96 and total[0] == 0.5 * 5 * 96


def test_dynamic_shared_memory_starts_as_nan(mod):
    """Shared memory nobody wrote reads as NaN (0xFF bytes), block after block."""
    out = np.zeros(2 * 64, np.float32)
    mod.launch("read_dynamic", 2, 64, 64 * 4, out, 40)
    out = out.reshape(2, 64)
    assert (out[:, :40] == 1.0).all() and np.isnan(out[:, 40:]).all()


def test_out_of_bounds_write_is_reported(mod):
    y = np.zeros(100, np.float32)
    with pytest.raises(RuntimeError, match="wrote outside argument 'y'"):
        mod.launch("write_past_end", 4, 32, 0, y, 100)   # 128 threads, 100 elements


def test_bad_arguments_are_named(mod):
    with pytest.raises(TypeError, match="'y'.*float32"):
        mod.launch("write_past_end", 1, 32, 0, np.zeros(32, np.float64), 32)
    with pytest.raises(TypeError, match="takes 2 arguments"):
        mod.launch("write_past_end", 1, 32, 0, np.zeros(32, np.float32))
    with pytest.raises(ValueError, match="bad launch configuration"):
        mod.launch("write_past_end", 1, 2048, 0, np.zeros(4096, np.float32), 4096)
    with pytest.raises(ValueError, match="bad launch configuration"):
        mod.launch("read_dynamic", 1, 32, 64 * 1024, np.zeros(32, np.float32), 1)
