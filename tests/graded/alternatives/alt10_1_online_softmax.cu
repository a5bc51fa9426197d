// 10.1, another correct kernel: online softmax. Each thread keeps a running (max, sum) pair over its
// strided elements, rescaling the sum when the max grows; the block then tree-reduces the pairs
// (m, s) ⊕ (m', s') = (M, s e^{m−M} + s' e^{m'−M}), M = max(m, m'), in one pass instead of two.
// Shared memory: 2 * blockDim.x floats (maxima, then sums).

extern "C" __global__ void softmax_online_kernel(float* y, const float* x, int N, int C) {
    extern __shared__ float smem[];
    float* mx = smem;
    float* sm = smem + blockDim.x;
    const int t = threadIdx.x;
    const float* row = x + (long long)blockIdx.x * C;
    float* out = y + (long long)blockIdx.x * C;
    float m = -INFINITY, s = 0.0f;
    for (int j = t; j < C; j += blockDim.x) {
        const float v = row[j];
        if (v == -INFINITY) continue;  // contributes e^{-inf} = 0
        if (v > m) { s = s * expf(m - v) + 1.0f; m = v; }
        else s += expf(v - m);
    }
    mx[t] = m;
    sm[t] = s;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half) {
            const float m2 = mx[t + half], s2 = sm[t + half];
            const float M = fmaxf(mx[t], m2);
            const float a = sm[t] > 0.0f ? sm[t] * expf(mx[t] - M) : 0.0f;
            const float b = s2 > 0.0f ? s2 * expf(m2 - M) : 0.0f;
            mx[t] = M;
            sm[t] = a + b;
        }
        __syncthreads();
    }
    const float M = mx[0], S = sm[0];
    for (int j = t; j < C; j += blockDim.x) out[j] = expf(row[j] - M) / S;
}
