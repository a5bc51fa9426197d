// crossentropy.cu -- fused softmax + cross-entropy over a vocabulary, forward and backward.
//
//   logits, dlogits: (N, V) float32 contiguous;  targets: (N,) int32;  losses, lse: (N,) float32
//   forward   lse_i = log sum_j exp(logits_ij),  loss_i = lse_i - logits[i, t_i]
//             loss_i = 0 where t_i == ignore_index (-100); NaN for any other target outside [0, V)
//             The mean loss is sum(losses) / (rows not ignored): one tiny reduction on the host.
//   backward  dlogits_ij = grad_scale * (exp(logits_ij - lse_i) - [j == t_i]),  0 on ignored rows.
//             For the mean loss, grad_scale = dloss / (rows not ignored).
//
// "Fused": the probabilities are never written to memory. The forward reads each row once
// (online max/sum, as softmax_fwd_v3) and writes two floats per row; the backward reads
// the row once and writes the gradient once. An unfused softmax + log + gather + backward
// would move several (N, V) arrays through memory, and V is the largest dimension in a GPT.
//
// Versions:
//   cross_entropy_fwd  one BLOCK per row (V is large); lanes keep online (max, sum) pairs,
//                      merged by warp shuffles, then across warps through shared memory.
//   cross_entropy_bwd  one BLOCK per row, elementwise with the saved lse. blockDim any size.
//
// Run:  python -m pytest tests/kernels -k cross_entropy

#include "warp_reduce.cuh"   // NEG_INF, MaxSum, maxsum_add/merge, warp_merge

// ---------------------------------------------------------------------------
extern "C" __global__ void cross_entropy_fwd(float* losses, float* lse, const float* logits,
                                             const int* targets, int N, int V, int ignore_index) {
    __shared__ float part_m[32], part_s[32];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
    int row = blockIdx.x;
    const float* z = logits + (long long)row * V;
    MaxSum p = {NEG_INF, 0.0f};
    for (int j = threadIdx.x; j < V; j += blockDim.x) p = maxsum_add(p, z[j]);
    p = warp_merge(p);
    if (lane == 0) { part_m[warp] = p.m; part_s[warp] = p.s; }
    __syncthreads();
    if (threadIdx.x == 0) {                           // one thread finishes the row
        MaxSum total = {NEG_INF, 0.0f};
        for (int w = 0; w < nwarps; ++w) total = maxsum_merge(total, MaxSum{part_m[w], part_s[w]});
        float l = total.m + logf(total.s);
        int t = targets[row];
        float loss;
        if (t == ignore_index) loss = 0.0f;
        else if (t < 0 || t >= V) loss = __int_as_float(0x7fc00000);   // NaN: bad target
        else loss = l - z[t];
        losses[row] = loss;
        lse[row] = l;
    }
}

// ---------------------------------------------------------------------------
extern "C" __global__ void cross_entropy_bwd(float* dlogits, const float* logits, const float* lse,
                                             const int* targets, float grad_scale, int N, int V,
                                             int ignore_index) {
    int row = blockIdx.x;
    long long base = (long long)row * V;
    int t = targets[row];
    if (t == ignore_index) {
        for (int j = threadIdx.x; j < V; j += blockDim.x) dlogits[base + j] = 0.0f;
        return;
    }
    float l = lse[row];
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float p = expf(logits[base + j] - l);
        dlogits[base + j] = grad_scale * (p - (j == t ? 1.0f : 0.0f));
    }
}
