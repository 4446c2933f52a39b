// softmax.cu: softmax and log-softmax over the last axis of a contiguous
// float32 [rows, cols] tensor, forward and backward, as kernels/ref's Softmax
// and SoftmaxGrad (tensor.NormBackend). out may alias x, and dx may alias y
// or dy: every element is read before it is written, by the thread that
// writes it.
//
// Algorithm (float32 arithmetic, float32 row sums):
//   forward   m = max_j x[j] (exact), s = sum_j expf(x[j]-m);
//             softmax out = expf(x-m) * (1/s), log-softmax out = (x-m) - logf(s).
//   backward  softmax dx = y*(dy - sum(dy*y)); log-softmax
//             dx = dy - expf(y)*sum(dy) (y is the forward output).
// cols <= 1024: the row is read once into the warp's registers, so the exact
// maximum costs no second read and each element needs one expf (an online
// max/sum, which rescales the running sum, would need two); cols > 1024: one
// block per row, three passes (max, sum, write; the re-reads are L1/L2 hits).
// expf and logf are CUDA's accurate versions (not __expf/__logf, no fast
// math): at most 2 ulp and 1 ulp. Against kernels/ref's float64 the outputs
// agree to about 1e-6 relative (softmax) and 1e-6 of the row's scale
// (log-softmax and the backward passes, which subtract).
//
// Launch shapes (chosen by softmax.go, shared with rmsnorm.cu):
//   cols <= 1024: one warp per row, *_warp_w{W}n{N}, block 256 (8 rows in
//     flight), W = 4 (float4) when cols % 4 == 0 and the row pointers are
//     16-byte aligned, else 1; N = the power of two >= cols/(32W); grid
//     min(ceil(rows/8), 2^20), grid-stride over rows.
//   cols > 1024: one block per row, *_block_w{W}, block = the power of two
//     >= cols/(8W) in [128, 1024], grid min(rows, 2^20), grid-stride.
// The log flag is a kernel argument (uniform branch), not a separate entry.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote
// it).
#include "norm_common.cuh"

template <int W, int N>
__device__ __forceinline__ void softmax_fwd_warp(float *out, const float *x, long long rows, int cols, bool lg) {
    const int lane = threadIdx.x & 31;
    const long long step = (long long)gridDim.x * NORM_WARPS;
    for (long long row = (long long)blockIdx.x * NORM_WARPS + (threadIdx.x >> 5); row < rows; row += step) {
        float v[W * N];
        norm_load_row<W, N>(v, x + row * cols, cols, lane, norm_neg_inf());
        float m = norm_neg_inf();
#pragma unroll
        for (int e = 0; e < W * N; e++) m = fmaxf(m, v[e]); // padding is -Inf
        m = norm_warp_max(m);
        float s = 0.f;
        if (lg) {
#pragma unroll
            for (int k = 0; k < N; k++) {
                if (norm_col<W>(k, lane) < cols) {
#pragma unroll
                    for (int i = 0; i < W; i++) s += expf(v[k * W + i] - m);
                }
            }
            const float ls = logf(norm_warp_sum(s));
#pragma unroll
            for (int e = 0; e < W * N; e++) v[e] = (v[e] - m) - ls;
        } else {
#pragma unroll
            for (int k = 0; k < N; k++) {
                if (norm_col<W>(k, lane) < cols) {
#pragma unroll
                    for (int i = 0; i < W; i++) {
                        v[k * W + i] = expf(v[k * W + i] - m);
                        s += v[k * W + i];
                    }
                }
            }
            const float inv = 1.f / norm_warp_sum(s);
#pragma unroll
            for (int e = 0; e < W * N; e++) v[e] *= inv;
        }
        norm_store_row<W, N>(out + row * cols, v, cols, lane);
    }
}

template <int W, int N>
__device__ __forceinline__ void softmax_bwd_warp(float *dx, const float *y, const float *dy, long long rows, int cols,
                                                 bool lg) {
    const int lane = threadIdx.x & 31;
    const long long step = (long long)gridDim.x * NORM_WARPS;
    for (long long row = (long long)blockIdx.x * NORM_WARPS + (threadIdx.x >> 5); row < rows; row += step) {
        float yv[W * N], gv[W * N];
        norm_load_row<W, N>(yv, y + row * cols, cols, lane, 0.f);
        norm_load_row<W, N>(gv, dy + row * cols, cols, lane, 0.f);
        float s = 0.f;
        if (lg) {
#pragma unroll
            for (int e = 0; e < W * N; e++) s += gv[e]; // padding is 0
            s = norm_warp_sum(s);
#pragma unroll
            for (int k = 0; k < N; k++) {
                if (norm_col<W>(k, lane) < cols) {
#pragma unroll
                    for (int i = 0; i < W; i++) gv[k * W + i] -= expf(yv[k * W + i]) * s;
                }
            }
        } else {
#pragma unroll
            for (int e = 0; e < W * N; e++) s = fmaf(gv[e], yv[e], s);
            s = norm_warp_sum(s);
#pragma unroll
            for (int e = 0; e < W * N; e++) gv[e] = yv[e] * (gv[e] - s);
        }
        norm_store_row<W, N>(dx + row * cols, gv, cols, lane);
    }
}

template <int W>
__device__ __forceinline__ void softmax_fwd_block(float *out, const float *x, long long rows, int cols, bool lg) {
    __shared__ float sh[32];
    const int stride = blockDim.x * W;
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float *xr = x + row * cols;
        float m = norm_neg_inf();
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W];
            norm_ld<W>(v, xr + c);
#pragma unroll
            for (int i = 0; i < W; i++) m = fmaxf(m, v[i]);
        }
        m = norm_block_max(m, sh);
        float s = 0.f;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W];
            norm_ld<W>(v, xr + c);
#pragma unroll
            for (int i = 0; i < W; i++) s += expf(v[i] - m);
        }
        s = norm_block_sum(s, sh);
        const float ls = logf(s), inv = 1.f / s;
        float *orow = out + row * cols;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W];
            norm_ld<W>(v, xr + c);
#pragma unroll
            for (int i = 0; i < W; i++) v[i] = lg ? (v[i] - m) - ls : expf(v[i] - m) * inv;
            norm_st<W>(orow + c, v);
        }
    }
}

template <int W>
__device__ __forceinline__ void softmax_bwd_block(float *dx, const float *y, const float *dy, long long rows, int cols,
                                                  bool lg) {
    __shared__ float sh[32];
    const int stride = blockDim.x * W;
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float *yr = y + row * cols, *gr = dy + row * cols;
        float s = 0.f;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float yv[W], gv[W];
            norm_ld<W>(gv, gr + c);
            if (lg) {
#pragma unroll
                for (int i = 0; i < W; i++) s += gv[i];
            } else {
                norm_ld<W>(yv, yr + c);
#pragma unroll
                for (int i = 0; i < W; i++) s = fmaf(gv[i], yv[i], s);
            }
        }
        s = norm_block_sum(s, sh);
        float *dr = dx + row * cols;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float yv[W], gv[W];
            norm_ld<W>(yv, yr + c);
            norm_ld<W>(gv, gr + c);
#pragma unroll
            for (int i = 0; i < W; i++) gv[i] = lg ? gv[i] - expf(yv[i]) * s : yv[i] * (gv[i] - s);
            norm_st<W>(dr + c, gv);
        }
    }
}

#define SOFTMAX_WARP(W, N)                                                                                             \
    extern "C" __global__ void __launch_bounds__(32 * NORM_WARPS)                                                      \
        nori_softmax_fwd_warp_w##W##n##N(float *out, const float *x, long long rows, long long cols, long long lg) {   \
        softmax_fwd_warp<W, N>(out, x, rows, (int)cols, lg != 0);                                                      \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(32 * NORM_WARPS) nori_softmax_bwd_warp_w##W##n##N(                    \
        float *dx, const float *y, const float *dy, long long rows, long long cols, long long lg) {                    \
        softmax_bwd_warp<W, N>(dx, y, dy, rows, (int)cols, lg != 0);                                                   \
    }

SOFTMAX_WARP(4, 1)
SOFTMAX_WARP(4, 2)
SOFTMAX_WARP(4, 4)
SOFTMAX_WARP(4, 8)
SOFTMAX_WARP(1, 1)
SOFTMAX_WARP(1, 2)
SOFTMAX_WARP(1, 4)
SOFTMAX_WARP(1, 8)
SOFTMAX_WARP(1, 16)
SOFTMAX_WARP(1, 32)

#define SOFTMAX_BLOCK(W)                                                                                               \
    extern "C" __global__ void __launch_bounds__(1024)                                                                 \
        nori_softmax_fwd_block_w##W(float *out, const float *x, long long rows, long long cols, long long lg) {        \
        softmax_fwd_block<W>(out, x, rows, (int)cols, lg != 0);                                                        \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(1024) nori_softmax_bwd_block_w##W(                                    \
        float *dx, const float *y, const float *dy, long long rows, long long cols, long long lg) {                    \
        softmax_bwd_block<W>(dx, y, dy, rows, (int)cols, lg != 0);                                                     \
    }

SOFTMAX_BLOCK(4)
SOFTMAX_BLOCK(1)
