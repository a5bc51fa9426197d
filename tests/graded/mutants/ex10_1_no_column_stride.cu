// Mutant of exercise 10.1: each thread handles only column t (no j += blockDim.x loop): rows longer than the block are wrong.

#define NEG_INF (__int_as_float(0xff800000))

extern "C" __global__ void softmax_rows_kernel(float* y, const float* x, int N, int C) {
    extern __shared__ float buf[];  // blockDim.x floats
    const int row = blockIdx.x;
    const int t = threadIdx.x;
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    // 1. per-thread max over a strided slice of the row
    float m = NEG_INF;
    if (t < C) m = fmaxf(m, xr[t]);
    buf[t] = m;
    __syncthreads();
    // 2. tree reduction of the maxima: B/2, B/4, ..., 1 active threads
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (t < stride) buf[t] = fmaxf(buf[t], buf[t + stride]);
        __syncthreads();
    }
    m = buf[0];
    __syncthreads();  // everyone has read buf[0] before it is overwritten below
    // 3. the same for the sum of exp(x - m)
    float s = 0.0f;
    if (t < C) s += expf(xr[t] - m);
    buf[t] = s;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (t < stride) buf[t] += buf[t + stride];
        __syncthreads();
    }
    const float inv = 1.0f / buf[0];
    // 4. write
    if (t < C) yr[t] = expf(xr[t] - m) * inv;
}
