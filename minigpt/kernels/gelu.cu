// gelu.cu -- GELU, GPT-2's tanh approximation, forward and backward (elementwise).
//
//   forward   y  = 0.5 x (1 + tanh u),   u = sqrt(2/pi) (x + 0.044715 x^3)
//   backward  dx = dy [0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3*0.044715 x^2)]
//   x, y, dy, dx: n float32 values (any shape, contiguous).
//
// Versions:
//   gelu_fwd, gelu_bwd  grid-stride loop: thread i handles i, i + gridDim*blockDim, ...
//                       so any grid size covers any n. Neighbouring threads touch
//                       neighbouring floats: every load and store is coalesced.
//                       Pure bandwidth: 8 bytes/element forward, 12 bytes/element backward.
//
// Run:  python -m pytest tests/kernels -k gelu

#define GELU_C 0.7978845608028654f   // sqrt(2/pi)
#define GELU_A 0.044715f

extern "C" __global__ void gelu_fwd(float* y, const float* x, long long n) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float v = x[i];
        float t = tanhf(GELU_C * (v + GELU_A * v * v * v));
        y[i] = 0.5f * v * (1.0f + t);
    }
}

extern "C" __global__ void gelu_bwd(float* dx, const float* dy, const float* x, long long n) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float v = x[i];
        float t = tanhf(GELU_C * (v + GELU_A * v * v * v));
        float du = GELU_C * (1.0f + 3.0f * GELU_A * v * v);
        dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
    }
}
