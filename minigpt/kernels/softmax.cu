// softmax.cu -- row-wise softmax over the last axis, forward and backward.
//
//   x, y, dy, dx: (N, C) float32, row-major, contiguous.
//   forward   y[i,j]  = exp(x[i,j] - m_i) / s_i,   m_i = max_j x[i,j],  s_i = sum_j exp(x[i,j] - m_i)
//   backward  dx[i,j] = y[i,j] * (dy[i,j] - sum_k dy[i,k] * y[i,k])
//
// Versions (launch configs live in minigpt/kernels/registry.py):
//   softmax_fwd_v1  naive. One THREAD per row, three passes (max, sum, write). Neighbouring
//                   threads read addresses C floats apart, so no load is coalesced, and the
//                   row is read three times: 3 reads + 1 write of N*C floats.
//   softmax_fwd_v2  one WARP per row. Lane l reads elements l, l+32, ... (32 neighbouring
//                   floats per step: coalesced) and keeps an ONLINE (max, sum) pair, so max
//                   and sum need one pass, not two. The 32 pairs are merged with shuffles.
//                   2 reads + 1 write. Rows per block = blockDim.x / 32.
//   softmax_fwd_v3  one BLOCK per row, for long rows (a 50k vocabulary): as v2, then the
//                   warps merge their pairs through shared memory. blockDim.x % 32 == 0.
//   softmax_bwd     one WARP per row: the dot product sum_k dy*y by shuffles, then dx.
//
// Online (max, sum): after seeing x_1..x_n keep m = max x, s = sum exp(x - m). A new x:
//   m' = max(m, x);  s' = s * exp(m - m') + exp(x - m').  Two pairs merge the same way.
// Inputs of -inf (masked) are skipped; a row that is all -inf gives NaN, as in NumPy.
//
// Run:  python -m pytest tests/kernels -k softmax      (CPU shim, no GPU needed)
//       python benchmarks/kernels.py --only softmax    (GPU: GB/s against the device peak)

#include "warp_reduce.cuh"   // NEG_INF, MaxSum, maxsum_add/merge, warp_merge, warp_sum

// ---------------------------------------------------------------------------
extern "C" __global__ void softmax_fwd_v1(float* y, const float* x, int N, int C) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= N) return;
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    float m = NEG_INF;
    for (int j = 0; j < C; ++j) m = fmaxf(m, xr[j]);          // pass 1: max
    float s = 0.0f;
    for (int j = 0; j < C; ++j) s += expf(xr[j] - m);         // pass 2: sum
    float inv = 1.0f / s;
    for (int j = 0; j < C; ++j) yr[j] = expf(xr[j] - m) * inv;  // pass 3: write
}

// ---------------------------------------------------------------------------
extern "C" __global__ void softmax_fwd_v2(float* y, const float* x, int N, int C) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int row = blockIdx.x * (blockDim.x / 32) + warp;
    if (row >= N) return;                                      // the whole warp leaves together
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    MaxSum p = {NEG_INF, 0.0f};
    for (int j = lane; j < C; j += 32) p = maxsum_add(p, xr[j]);  // read 1: max and sum at once
    p = warp_merge(p);
    float inv = 1.0f / p.s;
    for (int j = lane; j < C; j += 32) yr[j] = expf(xr[j] - p.m) * inv;  // read 2 + write
}

// ---------------------------------------------------------------------------
extern "C" __global__ void softmax_fwd_v3(float* y, const float* x, int N, int C) {
    __shared__ float part_m[32], part_s[32];                  // one pair per warp
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
    int row = blockIdx.x;
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    MaxSum p = {NEG_INF, 0.0f};
    for (int j = threadIdx.x; j < C; j += blockDim.x) p = maxsum_add(p, xr[j]);
    p = warp_merge(p);
    if (lane == 0) { part_m[warp] = p.m; part_s[warp] = p.s; }
    __syncthreads();  // (B1) every warp's pair is in shared memory before anyone reads them
    // every warp merges the nwarps pairs itself: no second round trip through shared memory
    p = lane < nwarps ? MaxSum{part_m[lane], part_s[lane]} : MaxSum{NEG_INF, 0.0f};
    p = warp_merge(p);
    float inv = 1.0f / p.s;
    for (int j = threadIdx.x; j < C; j += blockDim.x) yr[j] = expf(xr[j] - p.m) * inv;
}

// ---------------------------------------------------------------------------
extern "C" __global__ void softmax_bwd(float* dx, const float* dy, const float* y, int N, int C) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int row = blockIdx.x * (blockDim.x / 32) + warp;
    if (row >= N) return;
    long long base = (long long)row * C;
    float dot = 0.0f;
    for (int j = lane; j < C; j += 32) dot += dy[base + j] * y[base + j];
    dot = warp_sum(dot);
    for (int j = lane; j < C; j += 32) dx[base + j] = y[base + j] * (dy[base + j] - dot);
}
