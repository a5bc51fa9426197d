// attention.cu -- causal flash attention: tiled, online softmax, nothing of size T x T in memory.
//
//   q, k, v, o, do, dq, dk, dv: (BH, T, HEAD_DIM) float32 contiguous (BH = batch * heads)
//   lse, delta: (BH, T)
//   S = q k^T * scale (scale = 1/sqrt(HEAD_DIM)), causal: S_ij = -inf for j > i
//   forward   o_i = sum_j softmax(S_i)_j v_j,   lse_i = log sum_{j<=i} exp(S_ij)   (kept for backward)
//   backward  P_ij = exp(S_ij - lse_i),  D_i = sum_d do_id o_id,  dP_ij = do_i . v_j
//             dS_ij = P_ij (dP_ij - D_i),  dv_j = sum_i P_ij do_i
//             dq_i = scale sum_j dS_ij k_j,  dk_j = scale sum_i dS_ij q_i
//
// Versions (compile-time sizes: HEAD_DIM (64), key tile ATT_BC (16), query tile ATT_BQ (16)):
//   attention_fwd        grid (ceil(T/BR), BH), BR = blockDim.x query rows per block, one THREAD
//                        per query row holding q_i and the output accumulator in registers.
//                        The block walks key tiles of ATT_BC rows, staged in shared memory
//                        (dynamic: 2*ATT_BC*HEAD_DIM floats), only up to its last query row
//                        (causal: later tiles are all masked). Per tile the online softmax
//                        update is  m' = max(m, max_j S_ij),  l = l e^(m-m') + sum_j e^(S_ij-m'),
//                        acc = acc e^(m-m') + sum_j e^(S_ij-m') v_j;  at the end o_i = acc / l.
//   attention_bwd_preprocess  D_i = rowsum(do * o), one thread per row.
//   attention_bwd_dq     like the forward: thread per query row, key tiles in shared memory,
//                        recomputes P from the saved lse (no T x T matrix), accumulates dq_i.
//                        q_i waits in padded shared memory (as k_j in dkdv below) so that
//                        do_i and dq_i fit in registers. Dynamic shared memory:
//                        (2*ATT_BC*HEAD_DIM + BR*(HEAD_DIM+1)) floats.
//   attention_bwd_dkdv   grid (ceil(T/BK), BH), one THREAD per key row j (BK = blockDim.x).
//                        Its k_j, v_j sit in shared memory, padded to HEAD_DIM+1 floats per row
//                        so the 32 lanes of a warp (32 different rows, same column) hit 32
//                        different banks; dk_j, dv_j accumulate in registers. The block walks
//                        query tiles of ATT_BQ rows (q, do, lse, D staged in shared memory)
//                        from its first key row to T. Dynamic shared memory:
//                        (2*ATT_BQ*HEAD_DIM + 2*ATT_BQ + 2*BK*(HEAD_DIM+1)) floats.
//   Splitting dq from dk/dv avoids atomics: each output row is owned by exactly one thread.
//
// Run:  python -m pytest tests/kernels -k attention

#ifndef HEAD_DIM
#define HEAD_DIM 64
#endif
#ifndef ATT_BC
#define ATT_BC 16
#endif
#ifndef ATT_BQ
#define ATT_BQ 16
#endif
#define NEG_INF (__int_as_float(0xff800000))

// Stage rows [r0, r0 + rows) of a (T, HEAD_DIM) matrix into shared memory, zeros past T.
// Consecutive threads copy consecutive floats: coalesced.
__device__ __forceinline__ void load_tile(float* dst, const float* src, int r0, int rows, int T) {
    for (int idx = threadIdx.x; idx < rows * HEAD_DIM; idx += blockDim.x)
        dst[idx] = (r0 + idx / HEAD_DIM < T) ? src[(long long)r0 * HEAD_DIM + idx] : 0.0f;
}

// Stage the block's own rows [r0, r0 + blockDim.x) into shared memory, one padded row of
// HEAD_DIM + 1 floats per thread (times `mul`): thread t later reads row t column by column,
// and the padding puts the 32 lanes of a warp (32 rows, same column) in 32 different banks.
__device__ __forceinline__ void load_own_rows(float* dst, const float* src, int r0, int T, float mul) {
    for (int idx = threadIdx.x; idx < (int)blockDim.x * HEAD_DIM; idx += blockDim.x) {
        int r = idx / HEAD_DIM, d = idx % HEAD_DIM;
        dst[r * (HEAD_DIM + 1) + d] = (r0 + r < T) ? src[(long long)r0 * HEAD_DIM + idx] * mul : 0.0f;
    }
}

// ---------------------------------------------------------------------------
extern "C" __global__ void attention_fwd(float* o, float* lse, const float* q, const float* k,
                                         const float* v, int T, float scale) {
    extern __shared__ float smem[];
    const int P = HEAD_DIM + 1;
    float* Ks = smem;                                  // (ATT_BC, HEAD_DIM)
    float* Vs = Ks + ATT_BC * HEAD_DIM;                // (ATT_BC, HEAD_DIM)
    float* Qown = Vs + ATT_BC * HEAD_DIM;              // (BR, HEAD_DIM + 1): q_i * scale, padded
    long long base = (long long)blockIdx.y * T * HEAD_DIM;
    int i0 = blockIdx.x * blockDim.x;
    int t = threadIdx.x;
    int i = i0 + t;
    bool active = i < T;                               // inactive threads still load and sync
    load_own_rows(Qown, q + base, i0, T, scale);
    float acc[HEAD_DIM];                               // unnormalised output row, in registers
    for (int d = 0; d < HEAD_DIM; ++d) acc[d] = 0.0f;
    float m = NEG_INF, l = 0.0f;
    int kv_end = min(T, i0 + (int)blockDim.x);         // keys past the block's last row are masked
    for (int j0 = 0; j0 < kv_end; j0 += ATT_BC) {
        load_tile(Ks, k + base, j0, ATT_BC, T);
        load_tile(Vs, v + base, j0, ATT_BC, T);
        __syncthreads();  // (B1) the tile is staged (and, the first time, the q rows)
        if (active && j0 <= i) {
            float s[ATT_BC];
            float m_new = m;
#pragma unroll                                     // s[] must stay in registers
            for (int c = 0; c < ATT_BC; ++c) {
                float dot = 0.0f;
                for (int d = 0; d < HEAD_DIM; ++d) dot += Qown[t * P + d] * Ks[c * HEAD_DIM + d];
                s[c] = (j0 + c <= i) ? dot : NEG_INF;
                m_new = fmaxf(m_new, s[c]);
            }
            float corr = expf(m - m_new);              // 0 on the first tile (m = -inf)
            l *= corr;
            for (int d = 0; d < HEAD_DIM; ++d) acc[d] *= corr;
#pragma unroll
            for (int c = 0; c < ATT_BC; ++c) {
                float p = (j0 + c <= i) ? expf(s[c] - m_new) : 0.0f;
                l += p;
                for (int d = 0; d < HEAD_DIM; ++d) acc[d] += p * Vs[c * HEAD_DIM + d];
            }
            m = m_new;
        }
        __syncthreads();  // (B2) done with the tile before the next one overwrites it
    }
    if (active) {
        float inv = 1.0f / l;
        for (int d = 0; d < HEAD_DIM; ++d) o[base + (long long)i * HEAD_DIM + d] = acc[d] * inv;
        lse[(long long)blockIdx.y * T + i] = m + logf(l);
    }
}

// ---------------------------------------------------------------------------
extern "C" __global__ void attention_bwd_preprocess(float* delta, const float* o, const float* dout,
                                                    long long rows) {
    long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    float s = 0.0f;
    for (int d = 0; d < HEAD_DIM; ++d) s += o[r * HEAD_DIM + d] * dout[r * HEAD_DIM + d];
    delta[r] = s;
}

// ---------------------------------------------------------------------------
extern "C" __global__ void attention_bwd_dq(float* dq, const float* q, const float* k, const float* v,
                                            const float* dout, const float* lse, const float* delta,
                                            int T, float scale) {
    extern __shared__ float smem[];
    const int P = HEAD_DIM + 1;
    float* Ks = smem;                                  // (ATT_BC, HEAD_DIM)
    float* Vs = Ks + ATT_BC * HEAD_DIM;                // (ATT_BC, HEAD_DIM)
    float* Qown = Vs + ATT_BC * HEAD_DIM;              // (BR, HEAD_DIM + 1): q_i * scale, padded
    float* DOown = Qown + blockDim.x * P;              // (BR, HEAD_DIM + 1): do_i, padded
    long long base = (long long)blockIdx.y * T * HEAD_DIM;
    int i0 = blockIdx.x * blockDim.x;
    int t = threadIdx.x;
    int i = i0 + t;
    bool active = i < T;
    load_own_rows(Qown, q + base, i0, T, scale);
    load_own_rows(DOown, dout + base, i0, T, 1.0f);
    float dqi[HEAD_DIM];                               // the accumulator stays in registers
    for (int d = 0; d < HEAD_DIM; ++d) dqi[d] = 0.0f;
    float li = active ? lse[(long long)blockIdx.y * T + i] : 0.0f;
    float Di = active ? delta[(long long)blockIdx.y * T + i] : 0.0f;
    int kv_end = min(T, i0 + (int)blockDim.x);
    for (int j0 = 0; j0 < kv_end; j0 += ATT_BC) {
        load_tile(Ks, k + base, j0, ATT_BC, T);
        load_tile(Vs, v + base, j0, ATT_BC, T);
        __syncthreads();  // (B1) key tile staged (and, the first time, the q and do rows)
        if (active && j0 <= i) {
            for (int c = 0; c < ATT_BC && j0 + c <= i; ++c) {
                float s = 0.0f, dp = 0.0f;
                for (int d = 0; d < HEAD_DIM; ++d) {
                    s += Qown[t * P + d] * Ks[c * HEAD_DIM + d];
                    dp += DOown[t * P + d] * Vs[c * HEAD_DIM + d];
                }
                float ds = expf(s - li) * (dp - Di);
                for (int d = 0; d < HEAD_DIM; ++d) dqi[d] += ds * Ks[c * HEAD_DIM + d];
            }
        }
        __syncthreads();  // (B2) done with the tile before the next one overwrites it
    }
    if (active)
        for (int d = 0; d < HEAD_DIM; ++d) dq[base + (long long)i * HEAD_DIM + d] = dqi[d] * scale;
}

// ---------------------------------------------------------------------------
extern "C" __global__ void attention_bwd_dkdv(float* dk, float* dv, const float* q, const float* k,
                                              const float* v, const float* dout, const float* lse,
                                              const float* delta, int T, float scale) {
    extern __shared__ float smem[];
    const int P = HEAD_DIM + 1;                        // padded row: no bank conflicts
    float* Qs = smem;                                  // (ATT_BQ, HEAD_DIM)
    float* dOs = Qs + ATT_BQ * HEAD_DIM;               // (ATT_BQ, HEAD_DIM)
    float* Ls = dOs + ATT_BQ * HEAD_DIM;               // (ATT_BQ,)
    float* Ds = Ls + ATT_BQ;                           // (ATT_BQ,)
    float* Kown = Ds + ATT_BQ;                         // (BK, HEAD_DIM + 1)
    float* Vown = Kown + blockDim.x * P;               // (BK, HEAD_DIM + 1)
    long long base = (long long)blockIdx.y * T * HEAD_DIM;
    const float* lse_bh = lse + (long long)blockIdx.y * T;
    const float* delta_bh = delta + (long long)blockIdx.y * T;
    int j0 = blockIdx.x * blockDim.x;
    int t = threadIdx.x;
    int j = j0 + t;
    bool active = j < T;
    load_own_rows(Kown, k + base, j0, T, 1.0f);
    load_own_rows(Vown, v + base, j0, T, 1.0f);
    float dkj[HEAD_DIM], dvj[HEAD_DIM];
    for (int d = 0; d < HEAD_DIM; ++d) { dkj[d] = 0.0f; dvj[d] = 0.0f; }
    for (int q0 = j0; q0 < T; q0 += ATT_BQ) {          // causal: queries before j0 see none of our keys
        load_tile(Qs, q + base, q0, ATT_BQ, T);
        load_tile(dOs, dout + base, q0, ATT_BQ, T);
        for (int r = t; r < ATT_BQ; r += blockDim.x) {
            Ls[r] = q0 + r < T ? lse_bh[q0 + r] : 0.0f;
            Ds[r] = q0 + r < T ? delta_bh[q0 + r] : 0.0f;
        }
        __syncthreads();  // (B1) query tile staged (and, the first time, our own k, v rows)
        if (active) {
            for (int r = 0; r < ATT_BQ; ++r) {
                int i = q0 + r;
                if (i < j || i >= T) continue;
                float s = 0.0f, dp = 0.0f;
                for (int d = 0; d < HEAD_DIM; ++d) {
                    s += Qs[r * HEAD_DIM + d] * Kown[t * P + d];
                    dp += dOs[r * HEAD_DIM + d] * Vown[t * P + d];
                }
                float p = expf(s * scale - Ls[r]);
                float ds = p * (dp - Ds[r]);
                for (int d = 0; d < HEAD_DIM; ++d) {
                    dvj[d] += p * dOs[r * HEAD_DIM + d];
                    dkj[d] += ds * Qs[r * HEAD_DIM + d];
                }
            }
        }
        __syncthreads();  // (B2) done with the query tile
    }
    if (active) {
        for (int d = 0; d < HEAD_DIM; ++d) {
            dk[base + (long long)j * HEAD_DIM + d] = dkj[d] * scale;
            dv[base + (long long)j * HEAD_DIM + d] = dvj[d];
        }
    }
}
