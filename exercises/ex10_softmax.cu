// GENERATED from solutions/ex10_softmax.cu by tools/make_exercises.py.
// Students: write your code between the BEGIN/END SOLUTION markers; instructors: edit solutions/ instead.
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
    // exercise 10.1: write the kernel body here and delete this line (EXERCISE_NOT_IMPLEMENTED)
    // ### END SOLUTION
}
