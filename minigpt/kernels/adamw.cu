// adamw.cu -- one fused AdamW step over a flat float32 parameter buffer.
//
//   p, g, m, v: n float32 values; all parameters of a model laid end to end in one buffer,
//   so one launch updates the whole model (instead of ~4 small kernels per tensor).
//
//   g  <- grad_scale * g                      (grad_scale folds in gradient clipping; 1 = off)
//   p  <- p * (1 - lr * weight_decay)         decoupled weight decay (torch.optim.AdamW)
//   m  <- beta1 m + (1 - beta1) g
//   v  <- beta2 v + (1 - beta2) g^2
//   p  <- p - lr * (m / bc1) / (sqrt(v / bc2) + eps),   bc1 = 1 - beta1^t,  bc2 = 1 - beta2^t
//
// The bias corrections bc1, bc2 are computed on the host in double precision for step t
// (t = 1 on the first step) and passed in, so every thread does not recompute powf.
//
// Versions:
//   adamw_step  grid-stride loop, one element per iteration: reads p, g, m, v (16 bytes),
//               writes p, m, v (12 bytes). Pure bandwidth; the arithmetic is free.
//
// Run:  python -m pytest tests/kernels -k adamw

extern "C" __global__ void adamw_step(float* p, const float* g, float* m, float* v, long long n,
                                      float lr, float beta1, float beta2, float eps,
                                      float weight_decay, float bc1, float bc2, float grad_scale) {
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        float gi = grad_scale * g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        float pi = p[i] * (1.0f - lr * weight_decay);
        p[i] = pi - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
        m[i] = mi;
        v[i] = vi;
    }
}
