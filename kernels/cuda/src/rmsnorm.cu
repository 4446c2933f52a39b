// rmsnorm.cu: fused RMSNorm forward and backward over the last axis of a
// contiguous float32 [rows, cols] tensor, as kernels/ref's RMSNorm and
// RMSNormGrad (tensor.NormBackend): gamma optional, rstd saved per row,
// dgamma overwritten.
//
// Algorithm (llm.c style, float32 arithmetic, float32 row sums):
//   forward   rstd = 1/sqrtf(sum(x^2)/cols + eps); out = x*rstd*gamma.
//   backward  xhat = x*rstd (rstd as saved), g = dy*gamma,
//             dx = rstd*(g - xhat*sum(g*xhat)/cols), dgamma = sum_rows dy*xhat.
// dgamma is deterministic without atomics: each block of the backward kernel
// owns a fixed, contiguous range of rows and writes the column sums of its
// rows to its own row of a scratch [nblocks, cols] buffer; then
// nori_rmsnorm_reduce_partials adds the nblocks partials per column in a fixed
// order in double (norm_common.cuh). The number of blocks depends on rows and
// cols only, so the bits do not depend on the GPU.
//
// Launch shapes (chosen by rmsnorm.go):
//   cols <= 1024: one warp per row, the row held in registers (read from
//     memory once): *_warp_w{W}n{N}, block 256 (8 warps = 8 rows in flight),
//     W = 4 (float4) when cols % 4 == 0 and all row pointers are 16-byte
//     aligned, else W = 1; N = the power of two >= cols/(32W) (chunks per
//     lane). Forward grid min(ceil(rows/8), 2^20), grid-stride over rows.
//     Backward grid nblocks = ceil(rows/rpb), rpb = 8*ceil(ceil(rows/min(
//     ceil(rows/8), 1024))/8) rows per block; each lane accumulates dgamma of
//     its columns in registers over its warp's rows, the 8 warps are combined
//     in warp order through shared memory.
//   cols > 1024: one block per row, *_block_w{W}, block = the power of two
//     >= cols/(8W) clamped to [128, 1024]; two passes over the row (the second
//     read is an L1/L2 hit). Backward: nblocks = ceil(rows/rpb) with rpb =
//     ceil(rows/min(rows, 1024)); each thread adds its columns' dy*xhat into
//     its block's partial row (owned by that thread: no races), which stays
//     in L2 while the block walks its rows.
//   nori_rmsnorm_reduce_partials: block (32, 32), grid ceil(cols/32).
// Rows of any length (1, 7, 63, 129, 4097, ...) are handled; only the chunks
// inside the row are loaded or stored.
// Accuracy: float32 with float32 row sums (warp/block trees); about 1e-6
// relative to kernels/ref's float64 on N(0,1) data at cols ~ 4096.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote
// it).
#include "norm_common.cuh"

template <int W, int N>
__device__ __forceinline__ void rmsnorm_fwd_warp(float *out, float *rstd, const float *x, const float *gamma,
                                                 long long rows, int cols, float eps) {
    const int lane = threadIdx.x & 31;
    const long long step = (long long)gridDim.x * NORM_WARPS;
    for (long long row = (long long)blockIdx.x * NORM_WARPS + (threadIdx.x >> 5); row < rows; row += step) {
        float v[W * N];
        norm_load_row<W, N>(v, x + row * cols, cols, lane, 0.f);
        float ss = 0.f;
#pragma unroll
        for (int e = 0; e < W * N; e++) ss = fmaf(v[e], v[e], ss); // padding is 0
        ss = norm_warp_sum(ss);
        const float rs = 1.f / sqrtf(ss / (float)cols + eps);
        if (lane == 0) rstd[row] = rs;
#pragma unroll
        for (int k = 0; k < N; k++) {
            const int c = norm_col<W>(k, lane);
            if (c < cols) {
                float gm[W];
                if (gamma) {
                    norm_ld_g<W>(gm, gamma + c);
                } else {
#pragma unroll
                    for (int i = 0; i < W; i++) gm[i] = 1.f;
                }
#pragma unroll
                for (int i = 0; i < W; i++) v[k * W + i] = v[k * W + i] * rs * gm[i];
            }
        }
        norm_store_row<W, N>(out + row * cols, v, cols, lane);
    }
}

template <int W, int N>
__device__ __forceinline__ void rmsnorm_bwd_warp(float *dx, float *part, const float *dy, const float *x,
                                                 const float *rstd, const float *gamma, long long rows, int cols,
                                                 long long rpb) {
    __shared__ float sh[NORM_WARPS][32 * W * N];
    const int lane = threadIdx.x & 31;
    const long long lo = (long long)blockIdx.x * rpb;
    const long long hi = min(rows, lo + rpb);
    float acc[W * N];
#pragma unroll
    for (int e = 0; e < W * N; e++) acc[e] = 0.f;
    for (long long row = lo + (threadIdx.x >> 5); row < hi; row += NORM_WARPS) {
        float xv[W * N], gv[W * N];
        norm_load_row<W, N>(xv, x + row * cols, cols, lane, 0.f);
        norm_load_row<W, N>(gv, dy + row * cols, cols, lane, 0.f);
        const float rs = rstd[row];
        float s = 0.f;
        // Pass 1 (registers): xv <- xhat, gv <- g = dy*gamma, s = sum(g*xhat),
        // and dgamma's dy*xhat, which needs no row statistic.
#pragma unroll
        for (int k = 0; k < N; k++) {
            const int c = norm_col<W>(k, lane);
            if (c < cols) {
                float gm[W];
                if (gamma) {
                    norm_ld_g<W>(gm, gamma + c);
                } else {
#pragma unroll
                    for (int i = 0; i < W; i++) gm[i] = 1.f;
                }
#pragma unroll
                for (int i = 0; i < W; i++) {
                    const int e = k * W + i;
                    const float xh = xv[e] * rs;
                    acc[e] = fmaf(gv[e], xh, acc[e]);
                    gv[e] *= gm[i];
                    s = fmaf(gv[e], xh, s);
                    xv[e] = xh;
                }
            }
        }
        const float m = norm_warp_sum(s) / (float)cols;
#pragma unroll
        for (int e = 0; e < W * N; e++) gv[e] = rs * (gv[e] - xv[e] * m);
        norm_store_row<W, N>(dx + row * cols, gv, cols, lane);
    }
    if (part) norm_warp_partials<W, N>(part + (long long)blockIdx.x * cols, acc, cols, sh);
}

template <int W>
__device__ __forceinline__ void rmsnorm_fwd_block(float *out, float *rstd, const float *x, const float *gamma,
                                                  long long rows, int cols, float eps) {
    __shared__ float sh[32];
    const int stride = blockDim.x * W;
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float *xr = x + row * cols;
        float ss = 0.f;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W];
            norm_ld<W>(v, xr + c);
#pragma unroll
            for (int i = 0; i < W; i++) ss = fmaf(v[i], v[i], ss);
        }
        ss = norm_block_sum(ss, sh);
        const float rs = 1.f / sqrtf(ss / (float)cols + eps);
        if (threadIdx.x == 0) rstd[row] = rs;
        float *orow = out + row * cols;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W], gm[W];
            norm_ld<W>(v, xr + c);
            if (gamma) {
                norm_ld_g<W>(gm, gamma + c);
            } else {
#pragma unroll
                for (int i = 0; i < W; i++) gm[i] = 1.f;
            }
#pragma unroll
            for (int i = 0; i < W; i++) v[i] = v[i] * rs * gm[i];
            norm_st<W>(orow + c, v);
        }
    }
}

template <int W>
__device__ __forceinline__ void rmsnorm_bwd_block(float *dx, float *part, const float *dy, const float *x,
                                                  const float *rstd, const float *gamma, long long rows, int cols,
                                                  long long rpb) {
    __shared__ float sh[32];
    const int stride = blockDim.x * W;
    const long long lo = (long long)blockIdx.x * rpb;
    const long long hi = min(rows, lo + rpb);
    float *prow = part ? part + (long long)blockIdx.x * cols : nullptr;
    for (long long row = lo; row < hi; row++) {
        const float *xr = x + row * cols, *gr = dy + row * cols;
        const float rs = rstd[row];
        float s = 0.f;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float xv[W], gv[W], gm[W];
            norm_ld<W>(xv, xr + c);
            norm_ld<W>(gv, gr + c);
            if (gamma) {
                norm_ld_g<W>(gm, gamma + c);
            } else {
#pragma unroll
                for (int i = 0; i < W; i++) gm[i] = 1.f;
            }
#pragma unroll
            for (int i = 0; i < W; i++) s = fmaf(gv[i] * gm[i], xv[i] * rs, s);
        }
        const float m = norm_block_sum(s, sh) / (float)cols;
        float *dr = dx + row * cols;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float xv[W], gv[W], gm[W], o[W];
            norm_ld<W>(xv, xr + c);
            norm_ld<W>(gv, gr + c);
            if (gamma) {
                norm_ld_g<W>(gm, gamma + c);
            } else {
#pragma unroll
                for (int i = 0; i < W; i++) gm[i] = 1.f;
            }
#pragma unroll
            for (int i = 0; i < W; i++) {
                const float xh = xv[i] * rs;
                o[i] = rs * (gv[i] * gm[i] - xh * m);
                xv[i] = gv[i] * xh; // dgamma's term
            }
            norm_st<W>(dr + c, o);
            if (prow) {
                // This thread alone reads and writes these columns of the
                // block's partial row: the first row of the range writes it.
                if (row != lo) {
                    float p[W];
                    norm_ld<W>(p, prow + c);
#pragma unroll
                    for (int i = 0; i < W; i++) xv[i] += p[i];
                }
                norm_st<W>(prow + c, xv);
            }
        }
    }
}

#define RMSNORM_WARP(W, N)                                                                                             \
    extern "C" __global__ void __launch_bounds__(32 * NORM_WARPS) nori_rmsnorm_fwd_warp_w##W##n##N(                    \
        float *out, float *rstd, const float *x, const float *gamma, long long rows, long long cols, double eps) {     \
        rmsnorm_fwd_warp<W, N>(out, rstd, x, gamma, rows, (int)cols, (float)eps);                                      \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(32 * NORM_WARPS) nori_rmsnorm_bwd_warp_w##W##n##N(                    \
        float *dx, float *part, const float *dy, const float *x, const float *rstd, const float *gamma,               \
        long long rows, long long cols, long long rpb) {                                                               \
        rmsnorm_bwd_warp<W, N>(dx, part, dy, x, rstd, gamma, rows, (int)cols, rpb);                                    \
    }

RMSNORM_WARP(4, 1)
RMSNORM_WARP(4, 2)
RMSNORM_WARP(4, 4)
RMSNORM_WARP(4, 8)
RMSNORM_WARP(1, 1)
RMSNORM_WARP(1, 2)
RMSNORM_WARP(1, 4)
RMSNORM_WARP(1, 8)
RMSNORM_WARP(1, 16)
RMSNORM_WARP(1, 32)

#define RMSNORM_BLOCK(W)                                                                                               \
    extern "C" __global__ void __launch_bounds__(1024) nori_rmsnorm_fwd_block_w##W(                                    \
        float *out, float *rstd, const float *x, const float *gamma, long long rows, long long cols, double eps) {     \
        rmsnorm_fwd_block<W>(out, rstd, x, gamma, rows, (int)cols, (float)eps);                                        \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(1024) nori_rmsnorm_bwd_block_w##W(                                    \
        float *dx, float *part, const float *dy, const float *x, const float *rstd, const float *gamma,               \
        long long rows, long long cols, long long rpb) {                                                               \
        rmsnorm_bwd_block<W>(dx, part, dy, x, rstd, gamma, rows, (int)cols, rpb);                                      \
    }

RMSNORM_BLOCK(4)
RMSNORM_BLOCK(1)

// nori_rmsnorm_reduce_partials: dgamma[c] = sum over b of part[b*cols + c]
// (fixed order, double; see norm_reduce_partials).
extern "C" __global__ void __launch_bounds__(1024)
    nori_rmsnorm_reduce_partials(float *out, const float *part, long long nparts, long long cols) {
    norm_reduce_partials(out, part, nparts, cols);
}
