// copy.cu: strided copy with dtype conversion (float32, float64, bfloat16).
//
// Algorithm: one thread per element, grid-stride loop over the coalesced
// common shape of dst and src (elementwise_layout.cuh: magic-number index
// split, 64-bit element offsets; a dense pair coalesces to rank 1 and needs
// no division). Conversions are tensor.Copy's: the value goes through double
// (exact for all three types); to float32 rounds to nearest even; to bf16
// first rounds to float32, then to bf16 with round to nearest even, NaN kept
// quiet with its sign (tensor.F32ToBF16 bit for bit); same-type copies move
// the bits. One entry per (src, dst) pair: nori_copy_<src>_to_<dst>.
// Launch: block 256; grid min(ceil(n/256), 32 x SMs). The launcher sends
// dense same-dtype copies to cuMemcpyDtoDAsync instead.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).
#include "elementwise_layout.cuh"

typedef unsigned short bf16_t;

__device__ __forceinline__ bf16_t f32_to_bf16(float f) {
    unsigned b = __float_as_uint(f);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (bf16_t)((b >> 16) | 0x0040u);  // NaN: keep sign, stay NaN
    b += 0x7fffu + ((b >> 16) & 1u);
    return (bf16_t)(b >> 16);
}

__device__ __forceinline__ float bf16_to_f32(bf16_t h) { return __uint_as_float((unsigned)h << 16); }

// Loads and stores through double, as tensor's getCPU/setCPU.
__device__ __forceinline__ double load_d(const float *p) { return (double)*p; }
__device__ __forceinline__ double load_d(const double *p) { return *p; }
__device__ __forceinline__ double load_d(const bf16_t *p) { return (double)bf16_to_f32(*p); }
__device__ __forceinline__ void store_d(float *p, double v) { *p = __double2float_rn(v); }
__device__ __forceinline__ void store_d(double *p, double v) { *p = v; }
__device__ __forceinline__ void store_d(bf16_t *p, double v) { *p = f32_to_bf16(__double2float_rn(v)); }

template <class S, class D>
struct Conv {
    static __device__ __forceinline__ void move(D *d, const S *s) { store_d(d, load_d(s)); }
};
// Same type: the bits (a signalling NaN is not quieted by a round trip).
template <class T>
struct Conv<T, T> {
    static __device__ __forceinline__ void move(T *d, const T *s) { *d = *s; }
};

#define COPY(sname, S, dname, D)                                                                                   \
    extern "C" __global__ void __launch_bounds__(256, 4) nori_copy_##sname##_to_##dname(                           \
        NORI_LAYOUT_PARAMS, D *dst, NORI_STRIDE_PARAMS(dst), const S *src, NORI_STRIDE_PARAMS(src)) {              \
        const NoriIndex<2> ix = {NORI_DIMS, {NORI_STRIDES(dst), NORI_STRIDES(src)}, (int)rank};                    \
        for (unsigned i = NORI_TID; i < (unsigned)n; i += (unsigned)NORI_STEP) {                                   \
            long long off[2];                                                                                      \
            ix.offsets(i, off);                                                                                    \
            Conv<S, D>::move(dst + off[0], src + off[1]);                                                          \
        }                                                                                                          \
    }

COPY(f32, float, f32, float)
COPY(f32, float, f64, double)
COPY(f32, float, bf16, bf16_t)
COPY(f64, double, f32, float)
COPY(f64, double, f64, double)
COPY(f64, double, bf16, bf16_t)
COPY(bf16, bf16_t, f32, float)
COPY(bf16, bf16_t, f64, double)
COPY(bf16, bf16_t, bf16, bf16_t)
