// sim.h: just enough of CUDA's device-side C++ to compile nori's kernel
// sources (kernels/cuda/src/*.cu) as ordinary host C++ for the emulator in
// sim.cc. Every CUDA thread of a block runs as a fiber; the warp and block
// synchronisation primitives (__syncthreads, __shfl_xor_sync) switch fibers,
// so a kernel runs with real intra-block concurrency semantics, one block at
// a time. Only the intrinsics nori's elementwise, norm, reduce, index, copy
// and rng kernels use are provided; a kernel using another fails to compile,
// which is the cue to add it here.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// ---- qualifiers ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __restrict__

// ---- vector types (with CUDA's alignment, so UBSan flags misaligned use) ----
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };

inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }

// ---- the thread's coordinates (set by the scheduler for the running fiber) ----
struct SimCoords {
    uint3 tid, bid;
    dim3 bdim, gdim;
};
extern SimCoords *sim_cur;
#define threadIdx (sim_cur->tid)
#define blockIdx (sim_cur->bid)
#define blockDim (sim_cur->bdim)
#define gridDim (sim_cur->gdim)

// ---- synchronisation (sim.cc) ----
void sim_syncthreads();
uint64_t sim_shfl_xor(unsigned mask, uint64_t v, int lane_mask);
#define __syncthreads() sim_syncthreads()

template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int o) {
    static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    bits = sim_shfl_xor(mask, bits, o);
    T out;
    std::memcpy(&out, &bits, sizeof(T));
    return out;
}

// ---- loads with cache hints: plain loads on the host ----
template <class T> inline T __ldcs(const T *p) { return *p; }
template <class T> inline T __ldg(const T *p) { return *p; }

// ---- integer and bit intrinsics ----
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }

// ---- IEEE round-to-nearest arithmetic (compiled with -ffp-contract=off) ----
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __double2float_rn(double d) { return (float)d; }

// ---- math: CUDA's overloads on the host's libm ----
using std::cos;
using std::erf;
using std::exp;
using std::fabs;
using std::isinf;
using std::isnan;
using std::log;
using std::pow;
using std::signbit;
using std::sin;
using std::sqrt;
using std::tanh;
inline float expf(float x) { return std::exp(x); }
inline float logf(float x) { return std::log(x); }
inline float sqrtf(float x) { return std::sqrt(x); }
inline float fabsf(float x) { return std::fabs(x); }
inline float fmaf(float a, float b, float c) { return std::fma(a, b, c); }
inline float fmaxf(float a, float b) { return std::fmax(a, b); }
inline float fminf(float a, float b) { return std::fmin(a, b); }

// CUDA's integer min/max overloads (device code calls them unqualified).
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
