// GENERATED from solutions/ex10_softmax.cu by tools/make_exercises.py.
// Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
// ex10_softmax.cu -- Exercise 10.1: row-wise softmax, one thread block per row.
//
//   x, y: (N, C) float32, row-major, contiguous.
//   y[i, j] = exp(x[i, j] - m_i) / s_i,   m_i = max_j x[i, j],   s_i = sum_j exp(x[i, j] - m_i)
//   Launch: grid = N blocks (block i owns row i), block = B threads with B a power of two
//   (32 .. 1024), dynamic shared memory = B floats. solutions/ex10_softmax.py launches it on
//   the CPU emulation shim (minigpt.kernels.emulate), so no GPU is needed.
//
// Exercise 10.1: write the body of softmax_rows_kernel.
//   1. Thread t of block i reads x[i, t], x[i, t + B], x[i, t + 2B], ... (neighbouring threads read
//      neighbouring floats: the loads coalesce) and keeps its own running max.
//   2. Reduce the B partial maxima to one in shared memory: a tree reduction that halves the
//      number of active threads each step, with __syncthreads() between the steps. Every thread
//      of the block must reach every __syncthreads() (never put one inside `if (t < stride)`).
//   3. Read the row max from shared memory, __syncthreads() before the buffer is reused, and do
//      the same for the sum of exp(x - max).
//   4. Each thread writes its own elements y[i, j] = exp(x[i, j] - max) / sum.
//   Subtracting the max matters: expf overflows to inf above x = 88.7, and inf / inf is NaN.
//   Check: x = [0, ln 3] gives y = [0.25, 0.75]; C = 1 gives y = 1; x + 1000 gives the same y.

#define NEG_INF (__int_as_float(0xff800000))

extern "C" __global__ void softmax_rows_kernel(float* y, const float* x, int N, int C) {
    extern __shared__ float buf[];  // blockDim.x floats
    const int row = blockIdx.x;
    const int t = threadIdx.x;
    const float* xr = x + (long long)row * C;
    float* yr = y + (long long)row * C;
    // ### BEGIN SOLUTION
    // exercise 10.1: write the kernel body here and delete this line (EXERCISE_NOT_IMPLEMENTED)
    // ### END SOLUTION
}
