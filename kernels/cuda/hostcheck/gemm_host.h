// gemm_host.h: the device-side C++ that kernels/cuda/src/gemm.cu needs, for compiling it as host C++ in the
// GEMM emulator (gemm_emu.cc, built by gemm_emu.sh). gemm_emu.sh cuts gemm.cu's "PTX wrappers" section (the
// inline-PTX functions) and puts GEMM_HOST_WRAPPERS below in its place, so that every cp.async, ldmatrix and
// mma.sync of the real kernel source goes through the emulator, which executes them per the PTX ISA and checks
// them (alignment, bounds, cp.async group accounting, shared-memory races). Self-contained: it does not share
// sim.h with the elementwise emulator, whose scheduler has no warp collectives, cp.async or dynamic shared memory.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__

// Vector types with CUDA's alignment (UBSan's alignment check flags a misaligned vector access).
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(8) int2 { int x, y; };
struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline int2 make_int2(int x, int y) { return int2{x, y}; }

struct SimCoords {
    uint3 tid, bid;
    dim3 bdim, gdim;
};
extern SimCoords *sim_cur;
#define threadIdx (sim_cur->tid)
#define blockIdx (sim_cur->bid)
#define blockDim (sim_cur->bdim)
#define gridDim (sim_cur->gdim)

// bf16 as CUDA's cuda_bf16.h: the bits in a uint16, round to nearest even.
struct __nv_bfloat16 { uint16_t x; };
struct alignas(4) __nv_bfloat162 { __nv_bfloat16 x, y; };
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return __nv_bfloat16{(uint16_t)((u >> 16) | 0x40)};  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1);
    return __nv_bfloat16{(uint16_t)(u >> 16)};
}
inline __nv_bfloat162 __floats2bfloat162_rn(float lo, float hi) {
    return __nv_bfloat162{__float2bfloat16_rn(lo), __float2bfloat16_rn(hi)};
}

inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
template <class T> inline T __ldg(const T *p) { return *p; }
inline float expf(float x) { return std::exp(x); }
inline float fmaf(float a, float b, float c) { return std::fma(a, b, c); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// The emulator (gemm_emu.cc).
void sim_syncthreads();
#define __syncthreads() sim_syncthreads()
uint32_t sim_smem_offset(const void *p);  // __cvta_generic_to_shared: offset in the dynamic shared window
uint8_t *sim_dyn_smem();                   // the block's dynamic shared memory
void sim_cp_async16(uint32_t dst, const void *src, int bytes);
void sim_cp_commit();
void sim_cp_wait(int n);
void sim_ldmatrix_x4(uint32_t (&r)[4], uint32_t addr, bool trans);
void sim_mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1, bool bf16);
inline uint32_t __cvta_generic_to_shared(const void *p) { return sim_smem_offset(p); }

// Host versions of gemm.cu's PTX wrappers, same names and signatures.
#define GEMM_HOST_WRAPPERS                                                                                      \
    inline uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }                   \
    inline void cp_async16(uint32_t dst, const void *src, int bytes) { sim_cp_async16(dst, src, bytes); }      \
    inline void cp_async_commit() { sim_cp_commit(); }                                                          \
    template <int N> inline void cp_async_wait() { sim_cp_wait(N); }                                            \
    inline void cp_async_wait_all() { /* PTX: commit_group + wait_group 0 */                                    \
        sim_cp_commit();                                                                                        \
        sim_cp_wait(0);                                                                                         \
    }                                                                                                           \
    inline void ldmatrix_x4(uint32_t(&r)[4], uint32_t addr) { sim_ldmatrix_x4(r, addr, false); }                \
    inline void ldmatrix_x4_trans(uint32_t(&r)[4], uint32_t addr) { sim_ldmatrix_x4(r, addr, true); }           \
    inline int ctaid_x_volatile() { return (int)blockIdx.x; }                                                   \
    inline int tid_x_volatile() { return (int)threadIdx.x; }                                                    \
    inline uint32_t to_tf32(uint32_t bits) { /* cvt.rna.tf32.f32: nearest, ties away, low 13 bits zero */      \
        if ((bits & 0x7f800000u) == 0x7f800000u) return bits;                                                   \
        return (bits + 0x1000u) & ~0x1fffu;                                                                     \
    }                                                                                                           \
    inline void mma_bf16(float(&d)[4], const uint32_t(&a)[4], uint32_t b0, uint32_t b1) {                       \
        sim_mma(d, a, b0, b1, true);                                                                            \
    }                                                                                                           \
    inline void mma_tf32(float(&d)[4], const uint32_t(&a)[4], uint32_t b0, uint32_t b1) {                       \
        sim_mma(d, a, b0, b1, false);                                                                           \
    }
