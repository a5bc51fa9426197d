// cuda_shim.h -- run CUDA kernels on the CPU, one std::thread per CUDA thread.
//
// The same .cu source that NVRTC/nvcc compile for a GPU is compiled here by g++
// (C++20) with this header in front of it. minigpt/kernels/emulate.py does that
// and calls the kernels on NumPy arrays:
//
//     python -c "from minigpt.kernels import emulate; help(emulate.launch)"
//
// How the CUDA execution model is mapped:
//   thread      -> one std::thread; threadIdx/blockIdx/blockDim/gridDim are thread_local
//   block       -> all its threads run at once; blocks run one after another, reusing
//                  the same std::threads (a pool that lives for one launch)
//   __syncthreads() -> std::barrier::arrive_and_wait on the block's barrier
//   warp        -> 32 consecutive linear thread ids; a shuffle writes the value into a
//                  per-warp exchange slot, waits on the warp's barrier and reads the
//                  partner's slot (two banks of slots, alternated, so no second wait)
//   __shared__ (static arrays) -> `static` locals: one copy for the whole program,
//                  which is one copy per block because only one block runs at a time
//   extern __shared__ T name[] -> the ONE source rewrite emulate.py makes: it becomes
//                  `T* name = (T*)cuda_shim::dynamic_shared_memory();`, a buffer filled
//                  with 0xFF bytes (NaN for floats) before every block, so reading
//                  shared memory nobody wrote shows up as NaN
//   a thread that returns -> arrive_and_drop on the block and warp barriers: like the
//                  hardware, later __syncthreads() wait only for threads still running
//
// Chaos mode (launch(..., chaos_us > 0)) delays each warp by a random 0..30*chaos_us
// microseconds when the block starts and each thread by 0..chaos_us after every barrier
// or shuffle, so a missing __syncthreads() turns into a wrong answer instead of a lucky
// right one.
//
// Limits: warp-synchronous code that relies on lockstep execution without a shuffle or
// __syncwarp() is not emulated (it is not legal CUDA since Volta either); shuffle masks
// are assumed to name every lane of the warp still running.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <bit>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <system_error>
#include <thread>
#include <vector>

#ifndef MINIGPT_SHIM
#define MINIGPT_SHIM 1
#endif

// ---------------------------------------------------------------------------
// keywords
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __shared__ static

// ---------------------------------------------------------------------------
// vector types and the built-in index variables
struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

// ---------------------------------------------------------------------------
// the emulator's state for one launch
namespace cuda_shim {

constexpr size_t kMaxDynamicSharedBytes = 48 * 1024;  // what CUDA allows without opt-in

struct Block {
    std::unique_ptr<std::barrier<>> bar;                      // __syncthreads
    std::vector<std::unique_ptr<std::barrier<>>> warp_bar;    // shuffles, __syncwarp
    std::vector<std::array<uint64_t, 64>> slots;              // shuffle exchange, 2 x 32 per warp
    std::vector<int> lanes;                                   // threads in each warp
};

struct Launch;
struct Advance {  // runs once between blocks, when every thread has arrived
    Launch* L;
    void operator()() noexcept;
};

struct Launch {
    dim3 grid, block;
    unsigned nthreads = 0;
    long long nblocks = 0, next = 0, current = -1;
    bool done = false;
    int chaos_us = 0;
    uint64_t seed = 0;
    size_t dyn_bytes = 0;
    std::unique_ptr<unsigned char[]> dyn_storage;
    unsigned char* dyn = nullptr;
    std::unique_ptr<Block> blk;
    std::unique_ptr<std::barrier<Advance>> control;
    std::function<void()> body;
};

inline thread_local Launch* t_launch = nullptr;
inline thread_local Block* t_block = nullptr;
inline thread_local int t_lane = 0, t_warp = 0, t_phase = 0;
inline thread_local std::mt19937_64 t_rng;

inline void Advance::operator()() noexcept {
    if (L->next >= L->nblocks) { L->done = true; return; }
    L->current = L->next++;
    auto b = std::make_unique<Block>();
    b->bar = std::make_unique<std::barrier<>>((std::ptrdiff_t)L->nthreads);
    unsigned nwarps = (L->nthreads + 31) / 32;
    b->slots.resize(nwarps);
    for (unsigned w = 0; w < nwarps; ++w) {
        int lanes = (int)std::min(32u, L->nthreads - 32 * w);
        b->lanes.push_back(lanes);
        b->warp_bar.push_back(std::make_unique<std::barrier<>>(lanes));
    }
    L->blk = std::move(b);
    if (L->dyn_bytes) memset(L->dyn, 0xFF, L->dyn_bytes);  // "uninitialised" = NaN
}

// After barriers and shuffles: a short random pause per thread.
inline void chaos_pause() {
    int us = t_launch->chaos_us;
    if (us <= 0) return;
    uint64_t r = t_rng();
    if (r & 1) std::this_thread::sleep_for(std::chrono::microseconds((r >> 1) % (uint64_t)us));
    else std::this_thread::yield();
}

// At block start: every lane of a warp waits the same random 0..30*chaos_us, as warps
// (the unit the hardware schedules) start and progress at different times.
inline void chaos_warp_start(long long block) {
    int us = t_launch->chaos_us;
    if (us <= 0) return;
    uint64_t z = t_launch->seed * 0x9E3779B97F4A7C15ull + (uint64_t)block * 0xBF58476D1CE4E5B9ull + t_warp + 1;
    z = (z ^ (z >> 31)) * 0x94D049BB133111EBull;  // splitmix-style scramble
    z ^= z >> 29;
    std::this_thread::sleep_for(std::chrono::microseconds(z % (30 * (uint64_t)us)));
}

inline void* dynamic_shared_memory() { return t_launch->dyn; }

inline void worker(Launch* L, unsigned tid) {
    t_launch = L;
    blockDim = L->block;
    gridDim = L->grid;
    threadIdx = {tid % L->block.x, (tid / L->block.x) % L->block.y, tid / (L->block.x * L->block.y)};
    t_lane = (int)(tid % 32);
    t_warp = (int)(tid / 32);
    t_rng.seed(L->seed * 0x9E3779B97F4A7C15ull + tid + 1);
    for (;;) {
        L->control->arrive_and_wait();  // Advance has set up the next block (or `done`)
        if (L->done) break;
        long long b = L->current;
        blockIdx = {(unsigned)(b % L->grid.x), (unsigned)((b / L->grid.x) % L->grid.y),
                    (unsigned)(b / ((long long)L->grid.x * L->grid.y))};
        t_block = L->blk.get();
        t_phase = 0;
        chaos_warp_start(b);
        L->body();
        t_block->bar->arrive_and_drop();          // finished threads stop counting
        t_block->warp_bar[t_warp]->arrive_and_drop();
    }
}

// Returns 0 on success, 1 for a bad launch configuration, 2 if threads could not start.
inline int launch(dim3 grid, dim3 block, size_t shared_bytes, int chaos_us, uint64_t seed,
                  std::function<void()> body) {
    unsigned n = block.x * block.y * block.z;
    if (n == 0 || n > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
        grid.y > 65535 || grid.z > 65535 || shared_bytes > kMaxDynamicSharedBytes)
        return 1;
    Launch L;
    L.grid = grid;
    L.block = block;
    L.nthreads = n;
    L.nblocks = (long long)grid.x * grid.y * grid.z;
    L.chaos_us = chaos_us;
    L.seed = seed;
    L.dyn_bytes = shared_bytes;
    if (shared_bytes) {
        L.dyn_storage.reset(new unsigned char[shared_bytes + 64]);
        L.dyn = (unsigned char*)(((uintptr_t)L.dyn_storage.get() + 63) & ~(uintptr_t)63);
    }
    L.body = std::move(body);
    L.control = std::make_unique<std::barrier<Advance>>((std::ptrdiff_t)n, Advance{&L});
    std::vector<std::thread> threads;
    threads.reserve(n);
    try {
        for (unsigned t = 0; t < n; ++t) threads.emplace_back(worker, &L, t);
    } catch (const std::system_error&) {
        // could not start every thread: the started ones wait forever on `control`,
        // so this is unrecoverable; report instead of hanging.
        std::terminate();
    }
    for (auto& th : threads) th.join();
    return 0;
}

// ---- warp exchange: the primitive under every shuffle
// Two slot banks used alternately: a lane writes bank k only after the barrier of the
// previous exchange, which every lane reaches only after reading bank k the time before.
// So one barrier per shuffle is enough.
template <class T>
inline T exchange(T v, int src) {  // src < 0: keep own value
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    Block* b = t_block;
    uint64_t* bank = b->slots[t_warp].data() + 32 * t_phase;
    t_phase ^= 1;
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    bank[t_lane] = bits;
    b->warp_bar[t_warp]->arrive_and_wait();
    T out = v;
    if (src >= 0 && src < b->lanes[t_warp]) memcpy(&out, &bank[src], sizeof(T));
    chaos_pause();
    return out;
}

}  // namespace cuda_shim

// ---------------------------------------------------------------------------
// synchronisation and shuffles
inline void __syncthreads() {
    cuda_shim::t_block->bar->arrive_and_wait();
    cuda_shim::chaos_pause();
}
inline void __syncwarp(unsigned = 0xffffffffu) {
    cuda_shim::t_block->warp_bar[cuda_shim::t_warp]->arrive_and_wait();
}
template <class T>
inline T __shfl_sync(unsigned, T v, int src_lane, int width = 32) {
    int base = (cuda_shim::t_lane / width) * width;
    return cuda_shim::exchange(v, base + (src_lane % width));
}
template <class T>
inline T __shfl_down_sync(unsigned, T v, unsigned delta, int width = 32) {
    int in_seg = cuda_shim::t_lane % width;
    return cuda_shim::exchange(v, in_seg + (int)delta < width ? cuda_shim::t_lane + (int)delta : -1);
}
template <class T>
inline T __shfl_up_sync(unsigned, T v, unsigned delta, int width = 32) {
    int in_seg = cuda_shim::t_lane % width;
    return cuda_shim::exchange(v, in_seg >= (int)delta ? cuda_shim::t_lane - (int)delta : -1);
}
template <class T>
inline T __shfl_xor_sync(unsigned, T v, int lane_mask, int width = 32) {
    int src = cuda_shim::t_lane ^ lane_mask;
    return cuda_shim::exchange(v, src / width == cuda_shim::t_lane / width ? src : -1);
}

// ---------------------------------------------------------------------------
// atomics (std::atomic_ref works on plain global or shared memory)
template <class T>
inline T atomicAdd(T* addr, T val) { return std::atomic_ref<T>(*addr).fetch_add(val); }
template <class T>
inline T atomicExch(T* addr, T val) { return std::atomic_ref<T>(*addr).exchange(val); }
template <class T>
inline T atomicCAS(T* addr, T compare, T val) {
    std::atomic_ref<T>(*addr).compare_exchange_strong(compare, val);
    return compare;  // the old value, whether or not the swap happened
}
template <class T>
inline T atomicMax(T* addr, T val) {
    std::atomic_ref<T> a(*addr);
    T old = a.load();
    while (old < val && !a.compare_exchange_weak(old, val)) {}
    return old;
}

// ---------------------------------------------------------------------------
// math intrinsics (the precise float functions expf, logf, tanhf, fmaxf, ... come from math.h)
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
template <class T>
inline T __ldg(const T* p) { return *p; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
