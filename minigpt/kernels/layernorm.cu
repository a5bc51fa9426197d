// layernorm.cu -- LayerNorm over the last axis, forward and backward.
//
//   x, y, dy, dx: (N, C) float32 contiguous;  w, b, dw, db: (C,);  mean, rstd: (N,)
//   forward   mean = (1/C) sum_j x_j,  var = (1/C) sum_j (x_j - mean)^2   (biased, as torch)
//             rstd = 1/sqrt(var + eps),  xhat = (x - mean) rstd,  y = xhat w + b
//   backward  g = dy w,  dx = rstd (g - mean_j(g) - xhat mean_j(g xhat))
//             dw = sum_rows dy xhat,  db = sum_rows dy
//
// Versions:
//   layernorm_fwd  one WARP per row. Each lane runs Welford's algorithm over its elements
//                  (j = lane, lane+32, ...) -- one pass, no catastrophic cancellation of
//                  E[x^2] - E[x]^2 -- then the 32 (count, mean, M2) triples are merged with
//                  shuffles (Chan et al.'s parallel formula). Saves mean and rstd for backward.
//   layernorm_bwd  warps walk rows (grid-stride). Per row: two warp sums, then dx. The dw/db
//                  column sums are accumulated per BLOCK in shared memory (shared atomics,
//                  dynamic shared memory = 2*C floats) and added to global dw/db with one
//                  atomicAdd per column per block. dw and db are ACCUMULATED: zero them first.
//
// Welford: after n values, mean_n = mean_{n-1} + (x - mean_{n-1})/n,
//          M2_n = M2_{n-1} + (x - mean_{n-1})(x - mean_n),  var = M2/n.
// Merge (a, b): n = na + nb, d = mean_b - mean_a, mean = mean_a + d nb/n,
//          M2 = M2_a + M2_b + d^2 na nb / n.
//
// Run:  python -m pytest tests/kernels -k layernorm

#include "warp_reduce.cuh"   // FULL_MASK, warp_sum

struct Welford { float n; float mean; float m2; };

__device__ __forceinline__ Welford welford_merge(Welford a, Welford b) {
    float n = a.n + b.n;
    if (n == 0.0f) return a;
    float d = b.mean - a.mean;
    float fb = b.n / n;
    return {n, a.mean + d * fb, a.m2 + b.m2 + d * d * a.n * fb};
}

// ---------------------------------------------------------------------------
extern "C" __global__ void layernorm_fwd(float* y, float* mean, float* rstd, const float* x,
                                         const float* w, const float* b, int N, int C, float eps) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int row = blockIdx.x * (blockDim.x / 32) + warp;
    if (row >= N) return;
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    Welford acc = {0.0f, 0.0f, 0.0f};
    for (int j = lane; j < C; j += 32) {
        float v = xr[j];
        acc.n += 1.0f;
        float d = v - acc.mean;
        acc.mean += d / acc.n;
        acc.m2 += d * (v - acc.mean);
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        Welford other = {__shfl_xor_sync(FULL_MASK, acc.n, offset),
                         __shfl_xor_sync(FULL_MASK, acc.mean, offset),
                         __shfl_xor_sync(FULL_MASK, acc.m2, offset)};
        acc = welford_merge(acc, other);
    }
    float r = rsqrtf(acc.m2 / (float)C + eps);
    for (int j = lane; j < C; j += 32) yr[j] = (xr[j] - acc.mean) * r * w[j] + b[j];
    if (lane == 0) { mean[row] = acc.mean; rstd[row] = r; }
}

// ---------------------------------------------------------------------------
extern "C" __global__ void layernorm_bwd(float* dx, float* dw, float* db, const float* dy,
                                         const float* x, const float* w, const float* mean,
                                         const float* rstd, int N, int C) {
    extern __shared__ float shared[];                 // [0, C): dw partial, [C, 2C): db partial
    float* s_dw = shared;
    float* s_db = shared + C;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
    for (int j = threadIdx.x; j < 2 * C; j += blockDim.x) shared[j] = 0.0f;
    __syncthreads();  // (B1) partials are zero before any warp adds to them

    for (int row = blockIdx.x * nwarps + warp; row < N; row += gridDim.x * nwarps) {
        long long base = (long long)row * C;
        float mu = mean[row], r = rstd[row];
        float sum_g = 0.0f, sum_gx = 0.0f;           // sum_j g_j and sum_j g_j xhat_j
        for (int j = lane; j < C; j += 32) {
            float g = dy[base + j] * w[j];
            sum_g += g;
            sum_gx += g * (x[base + j] - mu) * r;
        }
        float mean_g = warp_sum(sum_g) / (float)C;
        float mean_gx = warp_sum(sum_gx) / (float)C;
        for (int j = lane; j < C; j += 32) {
            float d = dy[base + j];
            float xhat = (x[base + j] - mu) * r;
            dx[base + j] = r * (d * w[j] - mean_g - xhat * mean_gx);
            atomicAdd(&s_dw[j], d * xhat);            // other warps may hit the same column
            atomicAdd(&s_db[j], d);
        }
    }
    __syncthreads();  // (B2) every warp's contribution is in shared memory
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        atomicAdd(&dw[j], s_dw[j]);
        atomicAdd(&db[j], s_db[j]);
    }
}
