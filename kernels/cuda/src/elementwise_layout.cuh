// elementwise_layout.cuh: strided-operand indexing shared by the elementwise,
// copy and reduce families (see kernels/cuda/layout.go for the host side).
//
// A launch describes up to 8 coalesced axes, innermost first, as kernel
// parameters: n (elements, < 2^31), rank, dim[k] = size | magic << 32, and
// for each operand a pointer and 8 element strides. A flat index in
// [0, n) is split into coordinates with one multiply-high per axis
// (Granlund-Montgomery round-up division, valid for numerators < 2^31), and
// every operand's offset is the dot product of the coordinates with its
// strides in 64 bits (views of large storages may sit beyond 2^31).
#pragma once

#define NORI_LAYOUT_PARAMS                                                                                  \
    long long n, long long rank, long long d0, long long d1, long long d2, long long d3, long long d4,      \
        long long d5, long long d6, long long d7

#define NORI_STRIDE_PARAMS(p)                                                                               \
    long long p##_s0, long long p##_s1, long long p##_s2, long long p##_s3, long long p##_s4,               \
        long long p##_s5, long long p##_s6, long long p##_s7

#define NORI_STRIDES(p) {p##_s0, p##_s1, p##_s2, p##_s3, p##_s4, p##_s5, p##_s6, p##_s7}

#define NORI_DIMS {d0, d1, d2, d3, d4, d5, d6, d7}

// n / d for n < 2^31, with packed = d | magic << 32 (d >= 1).
__device__ __forceinline__ unsigned nori_udiv(unsigned n, long long packed) {
    const unsigned d = (unsigned)packed;
    const unsigned m = (unsigned)((unsigned long long)packed >> 32);
    const unsigned s = 32 - __clz((int)(d - 1));
    return (__umulhi(n, m) + n) >> s;
}

// NoriIndex holds the axes and K operands' strides of one launch. Built from
// the kernel parameters; every array is indexed with compile-time constants
// only (unrolled loops), so it lives in registers / the parameter bank.
template <int K>
struct NoriIndex {
    long long dims[8];
    long long st[K][8];
    int rank;

    // offsets writes the element offset of flat index idx for each operand.
    __device__ __forceinline__ void offsets(unsigned idx, long long (&off)[K]) const {
#pragma unroll
        for (int j = 0; j < K; j++) off[j] = 0;
#pragma unroll
        for (int k = 0; k < 8; k++) {
            if (k < rank) {
                // The outermost axis takes the whole quotient: no division.
                const unsigned q = k + 1 < rank ? nori_udiv(idx, dims[k]) : 0u;
                const unsigned r = idx - q * (unsigned)dims[k];
#pragma unroll
                for (int j = 0; j < K; j++) off[j] += (long long)r * st[j][k];
                idx = q;
            }
        }
    }
};

// The grid-stride start and step of a 1-D launch.
#define NORI_TID ((long long)blockIdx.x * blockDim.x + threadIdx.x)
#define NORI_STEP ((long long)gridDim.x * blockDim.x)

// Go's max and min on floating point (the ref kernels' semantics): NaN if
// either operand is NaN, and +0 > -0.
template <class T>
__device__ __forceinline__ T nori_go_max(T a, T b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return signbit(a) ? b : a;  // equal: only the sign of zero can differ
    return a > b ? a : b;
}

template <class T>
__device__ __forceinline__ T nori_go_min(T a, T b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
