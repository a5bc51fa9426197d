// matmul.cu -- C = A @ B in float32, a teaching kernel (the real model calls cuBLAS via cupy.matmul).
//
//   A: (M, K), B: (K, N), C: (M, N), all row-major and contiguous.
//
// Versions:
//   matmul_v1  naive. One thread per C element; block (16, 16), grid (ceil(N/16), ceil(M/16)).
//              Thread (row, col) reads a row of A and a column of B straight from global
//              memory: 2K loads for 2K flops, so it is bandwidth-bound at ~0.25 flop/byte
//              (caches help, but not enough).
//   matmul_v2  shared-memory tiling. The block (TILE, TILE) cooperatively loads a TILE x TILE
//              tile of A and one of B into shared memory, syncs, and every thread then does
//              TILE multiply-adds from shared memory. Global traffic drops by a factor TILE.
//              Threads outside C still load tiles and hit every __syncthreads(): returning
//              early would leave the others waiting at the barrier (or reading garbage).
//              TILE is the compile-time MM_TILE (default 16) and must equal blockDim.x == blockDim.y.
//
// Next steps (exercises): each thread computes a 4x4 register tile of C (v3), float4 loads.
//
// Run:  python -m pytest tests/kernels -k matmul

#ifndef MM_TILE
#define MM_TILE 16
#endif

extern "C" __global__ void matmul_v1(float* C, const float* A, const float* B, int M, int N, int K) {
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;   // x is the fast index: coalesced B and C
    if (row >= M || col >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) acc += A[(long long)row * K + k] * B[(long long)k * N + col];
    C[(long long)row * N + col] = acc;
}

extern "C" __global__ void matmul_v2(float* C, const float* A, const float* B, int M, int N, int K) {
    __shared__ float As[MM_TILE][MM_TILE];
    __shared__ float Bs[MM_TILE][MM_TILE];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * MM_TILE + ty;
    int col = blockIdx.x * MM_TILE + tx;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += MM_TILE) {
        // each thread loads one element of each tile; zeros outside the matrices
        As[ty][tx] = (row < M && k0 + tx < K) ? A[(long long)row * K + k0 + tx] : 0.0f;
        Bs[ty][tx] = (k0 + ty < K && col < N) ? B[(long long)(k0 + ty) * N + col] : 0.0f;
        __syncthreads();  // (B1) tiles complete before anyone reads them
        for (int k = 0; k < MM_TILE; ++k) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();  // (B2) everyone is done reading before the next tile overwrites them
    }
    if (row < M && col < N) C[(long long)row * N + col] = acc;
}
