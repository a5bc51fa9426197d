// gelu.cu -- GELU, GPT-2's tanh approximation, forward and backward (elementwise).
//
//   forward   y  = 0.5 x (1 + tanh u),   u = sqrt(2/pi) (x + 0.044715 x^3)
//   backward  dx = dy [0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3*0.044715 x^2)]
//   x, y, dy, dx: n float32 values (any shape, contiguous).
//   Computed through the identity 0.5 (1 + tanh u) = sigmoid(2u), which is exact in real
//   numbers and more accurate in float32 for negative x (see sigmoid_2u below).
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

// 0.5 (1 + tanh u) = sigmoid(2u) and 1 - tanh^2 u = 4 s (1 - s) with s = sigmoid(2u): the same
// numbers, but for x << 0 "1 + tanh u" cancels to a few float32 ulps of garbage while
// 1 / (1 + exp(-2u)) stays accurate to the last bit (and is 0, not NaN, when exp overflows).
__device__ __forceinline__ float sigmoid_2u(float x) {
    float u = GELU_C * (x + GELU_A * x * x * x);
    return 1.0f / (1.0f + expf(-2.0f * u));
}

extern "C" __global__ void gelu_fwd(float* y, const float* x, long long n) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float v = x[i];
        y[i] = v * sigmoid_2u(v);                      // = 0.5 v (1 + tanh u)
    }
}

extern "C" __global__ void gelu_bwd(float* dx, const float* dy, const float* x, long long n) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float v = x[i];
        float s = sigmoid_2u(v);
        float du = GELU_C * (1.0f + 3.0f * GELU_A * v * v);
        dx[i] = dy[i] * (s + 2.0f * v * s * (1.0f - s) * du);   // = 0.5(1+t) + 0.5 v (1-t^2) du
    }
}
