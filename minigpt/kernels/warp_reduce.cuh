// warp_reduce.cuh -- the warp reductions that softmax.cu, crossentropy.cu and layernorm.cu share.
//
//   warp_sum(v)      sum of v over the 32 lanes of a warp (butterfly of __shfl_xor_sync)
//   MaxSum           an online (max, sum) pair: after x_1..x_n, m = max x, s = sum exp(x - m)
//   maxsum_add       fold one more x in:  m' = max(m, x),  s' = s * exp(m - m') + exp(x - m')
//   maxsum_merge     merge two pairs the same way ({-inf, 0} is the empty pair, the identity)
//   warp_merge(p)    merge the pairs of all 32 lanes; afterwards every lane holds the result
//
// Included as `#include "warp_reduce.cuh"`; minigpt/kernels/source.py inlines it before a source
// goes to NVRTC (CuPy, compile tests) or to g++ (the CPU shim), so each sees one self-contained text.
#pragma once

#define NEG_INF (__int_as_float(0xff800000))
#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

struct MaxSum { float m; float s; };

__device__ __forceinline__ MaxSum maxsum_add(MaxSum a, float x) {
    if (x == NEG_INF) return a;                  // exp(-inf) = 0 adds nothing
    if (x > a.m) return {x, a.s * expf(a.m - x) + 1.0f};
    return {a.m, a.s + expf(x - a.m)};
}

__device__ __forceinline__ MaxSum maxsum_merge(MaxSum a, MaxSum b) {
    if (a.m == NEG_INF) return b;                // an empty pair is the identity
    if (b.m == NEG_INF) return a;
    float m = fmaxf(a.m, b.m);
    return {m, a.s * expf(a.m - m) + b.s * expf(b.m - m)};
}

// After the butterfly every lane holds the merge of all 32 lanes.
__device__ __forceinline__ MaxSum warp_merge(MaxSum p) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        MaxSum q = {__shfl_xor_sync(FULL_MASK, p.m, offset), __shfl_xor_sync(FULL_MASK, p.s, offset)};
        p = maxsum_merge(p, q);
    }
    return p;
}
