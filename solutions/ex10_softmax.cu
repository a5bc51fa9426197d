// ex10_softmax.cu -- Exercise 10.1: row-wise softmax, one thread block per row.
//
//   x, y: (N, C) float32, row-major, contiguous.
//   y = softmax of each row of x.
//   Launch: grid = N blocks (block i owns row i), block = B threads with B a power of two
//   (32 .. 1024), dynamic shared memory = B floats. solutions/ex10_softmax.py launches it on
//   the CPU emulation shim (minigpt.kernels.emulate), so no GPU is needed.
//
// Exercise 10.1: write the body of softmax_rows_kernel (notebook 10, sections 1-3 show how).
//   Thread t of block i works on row i. Loads must coalesce, the row's values may exceed 88.7
//   (where expf overflows), C need not be a multiple of B, and every thread of the block must reach
//   every __syncthreads().
//   Check: x = [0, ln 3] gives y = [0.25, 0.75]; C = 1 gives y = 1; x + 1000 gives the same y.

#define NEG_INF (__int_as_float(0xff800000))

extern "C" __global__ void softmax_rows_kernel(float* y, const float* x, int N, int C) {
    extern __shared__ float buf[];  // blockDim.x floats
    const int row = blockIdx.x;
    const int t = threadIdx.x;
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    // ### BEGIN SOLUTION
    // 1. per-thread max over a strided slice of the row
    float m = NEG_INF;
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
    // ### END SOLUTION
}
