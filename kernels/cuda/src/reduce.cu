// reduce.cu: sum, mean and max of float32 over any set of axes, and the sum
// of squares of a whole tensor.
//
// The launcher splits a's axes into kept and reduced groups (size-1 axes
// dropped, neighbours of one kind merged when their strides nest), so output
// element k (row-major over the kept axes, i.e. dst's order) reduces the R
// elements at keptOffset(k) + redOffset(r), each offset computed by
// elementwise_layout.cuh's index split.
// Accumulation: Sum and Mean in double (each element widened exactly and
// added), Mean divides the double sum by R and rounds once; Max in float32
// with Go's max (NaN wins, +0 > -0), exactly as kernels/ref. Deterministic:
// the reduced range of each output is cut into C chunks, C a function of
// (K, R) only (never of the GPU or of timing); each chunk is summed in a
// fixed order; chunk results go to a double scratch [K, C] and a second
// kernel adds them c = 0, 1, ... through a fixed tree. No atomics.
//   rows: the innermost group is reduced (e.g. sum over the last axis): one
//     warp per (k, chunk); lane l adds the elements l, l+32, l+64, ... of the
//     chunk in order (coalesced, four loads in flight per lane), then a
//     xor-butterfly shuffle tree (every lane gets the same bits).
//   cols: the innermost group is kept (e.g. a bias gradient summed over the
//     batch): one thread per (k, chunk), adjacent threads on adjacent k
//     (coalesced), each adding its chunk's elements in increasing r.
//   finish: one warp per k adds its C partials (lane l: c = l, l+32, ...,
//     then the shuffle tree), divides for Mean, rounds to float32.
// SumSquares: blocks of 256 threads over fixed chunks of 65536 elements;
// thread t adds the squares (in double) of the 4-element groups t, t+256, ...
// of its chunk in order (float4 loads when aligned; same order either way),
// a fixed shuffle-then-shared-memory tree gives the chunk's partial; one
// block then adds the partials in the same fixed pattern.
// Launch: block 256 everywhere; grids from the launcher (grid-stride loops).
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).
#include "elementwise_layout.cuh"

#define FULL 0xffffffffu

struct OpSum {
    typedef double acc_t;
    static __device__ __forceinline__ double init() { return 0.0; }
    static __device__ __forceinline__ double add(double s, float x) { return __dadd_rn(s, (double)x); }
    static __device__ __forceinline__ double combine(double a, double b) { return __dadd_rn(a, b); }
    static __device__ __forceinline__ double to_partial(double s) { return s; }
    static __device__ __forceinline__ float finish(double s, long long) { return __double2float_rn(s); }
};
struct OpMean : OpSum {
    static __device__ __forceinline__ float finish(double s, long long r) { return __double2float_rn(s / (double)r); }
};
struct OpMax {
    typedef float acc_t;
    static __device__ __forceinline__ float init() { return -__int_as_float(0x7f800000); }
    static __device__ __forceinline__ float add(float m, float x) { return nori_go_max(m, x); }
    static __device__ __forceinline__ float combine(float a, float b) { return nori_go_max(a, b); }
    static __device__ __forceinline__ double to_partial(float m) { return (double)m; }
    static __device__ __forceinline__ float finish(float m, long long) { return m; }
};

template <class Op>
__device__ __forceinline__ typename Op::acc_t warp_combine(typename Op::acc_t v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = Op::combine(v, __shfl_xor_sync(FULL, v, o));
    return v;
}

#define KEPT_PARAMS long long krank, long long kd0, long long kd1, long long kd2, long long kd3, long long kd4, long long kd5, \
                    long long kd6, long long kd7, NORI_STRIDE_PARAMS(ks)
#define RED_PARAMS long long rrank, long long rd0, long long rd1, long long rd2, long long rd3, long long rd4, long long rd5, \
                   long long rd6, long long rd7, NORI_STRIDE_PARAMS(rs)
#define KEPT_INDEX {{kd0, kd1, kd2, kd3, kd4, kd5, kd6, kd7}, {NORI_STRIDES(ks)}, (int)krank}
#define RED_INDEX {{rd0, rd1, rd2, rd3, rd4, rd5, rd6, rd7}, {NORI_STRIDES(rs)}, (int)rrank}

// rows: warp per (k, c); K*C < 2^31. out gets the result when C == 1, else
// partial[k*C + c].
template <class Op>
__device__ __forceinline__ void reduce_rows(const float *a, float *out, double *partial, long long K, long long R, long long C,
                                            long long chunk, const NoriIndex<1> &kix, const NoriIndex<1> &rix) {
    const unsigned lane = threadIdx.x & 31;
    const unsigned nw = (unsigned)(K * C);
    const unsigned wstep = (unsigned)NORI_STEP >> 5;
    for (unsigned w = (unsigned)(NORI_TID >> 5); w < nw; w += wstep) {
        const unsigned k = w / (unsigned)C, c = w - k * (unsigned)C;
        long long koff[1];
        kix.offsets(k, koff);
        const float *base = a + koff[0];
        const unsigned r0 = c * (unsigned)chunk;
        const unsigned r1 = (unsigned)min((long long)r0 + chunk, R);
        typename Op::acc_t acc = Op::init();
        unsigned r = r0 + lane;
        // Four loads in flight, added in the lane's order r, r+32, r+64, r+96.
        for (; r + 96 < r1; r += 128) {
            long long o0[1], o1[1], o2[1], o3[1];
            rix.offsets(r, o0);
            rix.offsets(r + 32, o1);
            rix.offsets(r + 64, o2);
            rix.offsets(r + 96, o3);
            const float x0 = base[o0[0]], x1 = base[o1[0]], x2 = base[o2[0]], x3 = base[o3[0]];
            acc = Op::add(acc, x0);
            acc = Op::add(acc, x1);
            acc = Op::add(acc, x2);
            acc = Op::add(acc, x3);
        }
        for (; r < r1; r += 32) {
            long long o[1];
            rix.offsets(r, o);
            acc = Op::add(acc, base[o[0]]);
        }
        acc = warp_combine<Op>(acc);
        if (lane == 0) {
            if (C == 1) out[k] = Op::finish(acc, R);
            else partial[(long long)k * C + c] = Op::to_partial(acc);
        }
    }
}

// cols: thread per (k, c), t = c*K + k so adjacent threads take adjacent k.
template <class Op>
__device__ __forceinline__ void reduce_cols(const float *a, float *out, double *partial, long long K, long long R, long long C,
                                            long long chunk, const NoriIndex<1> &kix, const NoriIndex<1> &rix) {
    const unsigned nt = (unsigned)(K * C);
    for (unsigned t = (unsigned)NORI_TID; t < nt; t += (unsigned)NORI_STEP) {
        const unsigned c = t / (unsigned)K, k = t - c * (unsigned)K;
        long long koff[1];
        kix.offsets(k, koff);
        const float *base = a + koff[0];
        const unsigned r0 = c * (unsigned)chunk;
        const unsigned r1 = (unsigned)min((long long)r0 + chunk, R);
        typename Op::acc_t acc = Op::init();
        for (unsigned r = r0; r < r1; r++) {
            long long o[1];
            rix.offsets(r, o);
            acc = Op::add(acc, base[o[0]]);
        }
        if (C == 1) out[k] = Op::finish(acc, R);
        else partial[(long long)c * K + k] = Op::to_partial(acc);
    }
}

// finish: warp per k over partial[k*pk + c*pc] for c < C.
template <class Op>
__device__ __forceinline__ void reduce_finish(float *out, const double *partial, long long K, long long C, long long pk, long long pc,
                                              long long R) {
    const unsigned lane = threadIdx.x & 31;
    const unsigned wstep = (unsigned)NORI_STEP >> 5;
    for (unsigned k = (unsigned)(NORI_TID >> 5); k < (unsigned)K; k += wstep) {
        typename Op::acc_t acc = Op::init();
        for (long long c = lane; c < C; c += 32) {
            const double v = partial[k * pk + c * pc];
            acc = Op::combine(acc, (typename Op::acc_t)v);  // float for Max: exact (v came from a float)
        }
        acc = warp_combine<Op>(acc);
        if (lane == 0) out[k] = Op::finish(acc, R);
    }
}

#define REDUCE(name, Op)                                                                                                      \
    extern "C" __global__ void __launch_bounds__(256) nori_reduce_rows_##name(                                                \
        const float *a, float *out, double *partial, long long K, long long R, long long C, long long chunk, KEPT_PARAMS,      \
        RED_PARAMS) {                                                                                                         \
        const NoriIndex<1> kix = KEPT_INDEX, rix = RED_INDEX;                                                                 \
        reduce_rows<Op>(a, out, partial, K, R, C, chunk, kix, rix);                                                           \
    }                                                                                                                         \
    extern "C" __global__ void __launch_bounds__(256) nori_reduce_cols_##name(                                                \
        const float *a, float *out, double *partial, long long K, long long R, long long C, long long chunk, KEPT_PARAMS,      \
        RED_PARAMS) {                                                                                                         \
        const NoriIndex<1> kix = KEPT_INDEX, rix = RED_INDEX;                                                                 \
        reduce_cols<Op>(a, out, partial, K, R, C, chunk, kix, rix);                                                           \
    }                                                                                                                         \
    extern "C" __global__ void __launch_bounds__(256) nori_reduce_finish_##name(                                              \
        float *out, const double *partial, long long K, long long C, long long pk, long long pc, long long R) {               \
        reduce_finish<Op>(out, partial, K, C, pk, pc, R);                                                                     \
    }

REDUCE(sum, OpSum)
REDUCE(mean, OpMean)
REDUCE(max, OpMax)

// ---- sum of squares ----
#define SUMSQ_CHUNK 65536  // elements per block of the first stage (a multiple of 4*256)

// block_sum adds the 256 threads' values in a fixed tree: xor shuffles in
// each warp, then warp 0 adds the 8 warp sums the same way. Thread 0 gets it.
__device__ __forceinline__ double block_sum(double v) {
    __shared__ double ws[8];
    v = warp_combine<OpSum>(v);
    if ((threadIdx.x & 31) == 0) ws[threadIdx.x >> 5] = v;
    __syncthreads();
    v = threadIdx.x < 8 ? ws[threadIdx.x] : 0.0;
    if (threadIdx.x < 32) {
#pragma unroll
        for (int o = 4; o > 0; o >>= 1) v = __dadd_rn(v, __shfl_xor_sync(FULL, v, o));
    }
    return v;
}

__device__ __forceinline__ double sq(float x) {
    const double d = x;
    return __dmul_rn(d, d);
}

// Stage 1: block b writes partial[b], the sum of squares of elements
// [b*SUMSQ_CHUNK, min(n, (b+1)*SUMSQ_CHUNK)). Launch: grid = #chunks, block 256.
extern "C" __global__ void __launch_bounds__(256) nori_reduce_sumsq_partial(const float *a, long long n, double *partial) {
    const long long c0 = (long long)blockIdx.x * SUMSQ_CHUNK;
    const long long c1 = min(c0 + SUMSQ_CHUNK, n);
    const bool vec = ((unsigned long long)a & 15) == 0;  // c0 is a multiple of 4: the groups stay aligned
    double acc = 0.0;
    for (long long g = c0 + 4 * (long long)threadIdx.x; g < c1; g += 4 * 256) {
        float4 v;
        if (vec && g + 3 < c1) {
            v = *reinterpret_cast<const float4 *>(a + g);
        } else {
            v.x = a[g];
            v.y = g + 1 < c1 ? a[g + 1] : 0.0f;
            v.z = g + 2 < c1 ? a[g + 2] : 0.0f;
            v.w = g + 3 < c1 ? a[g + 3] : 0.0f;
        }
        acc = __dadd_rn(acc, sq(v.x));
        acc = __dadd_rn(acc, sq(v.y));
        acc = __dadd_rn(acc, sq(v.z));
        acc = __dadd_rn(acc, sq(v.w));
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// Stage 2: one block adds partial[0..nb) (thread t: t, t+256, ... in order,
// then the block tree) into *out.
extern "C" __global__ void __launch_bounds__(256) nori_reduce_sumsq_finish(const double *partial, long long nb, double *out) {
    double acc = 0.0;
    for (long long i = threadIdx.x; i < nb; i += 256) acc = __dadd_rn(acc, partial[i]);
    acc = block_sum(acc);
    if (threadIdx.x == 0) *out = acc;
}
