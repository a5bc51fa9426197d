// Mutant of exercise 10.1 (class: offsets where an initial value matters): the running max starts at 0, not -inf.

#define NEG_INF (__int_as_float(0xff800000))

extern "C" __global__ void softmax_rows_kernel(float* y, const float* x, int N, int C) {
    extern __shared__ float buf[];  // blockDim.x floats
    const int row = blockIdx.x;
    const int t = threadIdx.x;
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    // 1. per-thread max over a strided slice of the row
    float m = 0.0f;  // the bug: the running max starts at 0, so a row of negative logits keeps m = 0
    for (int j = t; j < C; j += blockDim.x) m = fmaxf(m, xr[j]);
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
    for (int j = t; j < C; j += blockDim.x) s += expf(xr[j] - m);
    buf[t] = s;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (t < stride) buf[t] += buf[t + stride];
        __syncthreads();
    }
    const float inv = 1.0f / buf[0];
    // 4. write
    for (int j = t; j < C; j += blockDim.x) yr[j] = expf(xr[j] - m) * inv;
}
