// layernorm.cu: LayerNorm forward and backward over the last axis of a
// contiguous float32 [rows, cols] tensor, as kernels/ref's LayerNorm and
// LayerNormGrad (tensor.NormBackend): gamma and beta optional, mean and rstd
// saved per row, dgamma and dbeta overwritten.
//
// Algorithm (llm.c style, float32 arithmetic, float32 row sums):
//   forward   two-pass statistics: mean = sum(x)/cols, then the biased
//             variance var = sum((x-mean)^2)/cols (no cancellation),
//             rstd = 1/sqrtf(var+eps), out = (x-mean)*rstd*gamma + beta.
//   backward  xhat = (x-mean)*rstd (mean, rstd as saved), g = dy*gamma,
//             dx = rstd*(g - mean(g) - xhat*mean(g*xhat)),
//             dgamma = sum_rows dy*xhat, dbeta = sum_rows dy.
// dgamma and dbeta are deterministic without atomics: each block of the
// backward kernel owns a fixed, contiguous range of rows and writes the column
// sums of its rows to its own row of a scratch [nblocks, cols] buffer (one per
// output); nori_layernorm_reduce_partials then adds the partials per column in
// a fixed order in double (norm_common.cuh). The number of blocks depends on
// rows and cols only, so the bits do not depend on the GPU.
//
// Launch shapes (chosen by layernorm.go, shared with rmsnorm.cu):
//   cols <= 1024: one warp per row, the row held in registers (read from
//     memory once, so the two-pass statistics cost no second read):
//     *_warp_w{W}n{N}, block 256 (8 rows in flight), W = 4 (float4) when
//     cols % 4 == 0 and all row pointers are 16-byte aligned, else 1; N = the
//     power of two >= cols/(32W). Forward grid min(ceil(rows/8), 2^20), grid-
//     stride over rows. Backward grid = ceil(rows/rpb) blocks of rpb rows (a
//     multiple of 8, at most 1024 blocks); lanes accumulate dgamma/dbeta of
//     their columns in registers over their warp's rows, the 8 warps are
//     combined in warp order through shared memory.
//   cols > 1024: one block per row, *_block_w{W}, block = the power of two
//     >= cols/(8W) in [128, 1024]; the forward reads the row three times
//     (sum, squared deviations, output; the re-reads are L1/L2 hits), the
//     backward twice, adding each thread's columns into its block's partial
//     rows (owned by that thread; they stay in L2).
//   nori_layernorm_reduce_partials: block (32, 32), grid ceil(cols/32).
// Accuracy: float32 with float32 row sums; about 1e-6 of the row's scale
// against kernels/ref's float64 on N(0,1) data at cols ~ 4096.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote
// it).
#include "norm_common.cuh"

// layernorm_affine loads W floats of gamma and beta at column c (1 and 0 when
// absent).
template <int W>
__device__ __forceinline__ void layernorm_affine(float *gm, float *bt, const float *gamma, const float *beta, int c) {
    if (gamma) {
        norm_ld_g<W>(gm, gamma + c);
    } else {
#pragma unroll
        for (int i = 0; i < W; i++) gm[i] = 1.f;
    }
    if (beta) {
        norm_ld_g<W>(bt, beta + c);
    } else {
#pragma unroll
        for (int i = 0; i < W; i++) bt[i] = 0.f;
    }
}

template <int W>
__device__ __forceinline__ void layernorm_gamma(float *gm, const float *gamma, int c) {
    if (gamma) {
        norm_ld_g<W>(gm, gamma + c);
    } else {
#pragma unroll
        for (int i = 0; i < W; i++) gm[i] = 1.f;
    }
}

template <int W, int N>
__device__ __forceinline__ void layernorm_fwd_warp(float *out, float *mean, float *rstd, const float *x,
                                                   const float *gamma, const float *beta, long long rows, int cols,
                                                   float eps) {
    const int lane = threadIdx.x & 31;
    const long long step = (long long)gridDim.x * NORM_WARPS;
    for (long long row = (long long)blockIdx.x * NORM_WARPS + (threadIdx.x >> 5); row < rows; row += step) {
        float v[W * N];
        norm_load_row<W, N>(v, x + row * cols, cols, lane, 0.f);
        float s = 0.f;
#pragma unroll
        for (int e = 0; e < W * N; e++) s += v[e]; // padding is 0
        const float mu = norm_warp_sum(s) / (float)cols;
        float q = 0.f;
#pragma unroll
        for (int k = 0; k < N; k++) {
            if (norm_col<W>(k, lane) < cols) {
#pragma unroll
                for (int i = 0; i < W; i++) {
                    const float d = v[k * W + i] - mu;
                    q = fmaf(d, d, q);
                }
            }
        }
        const float rs = 1.f / sqrtf(norm_warp_sum(q) / (float)cols + eps);
        if (lane == 0) {
            mean[row] = mu;
            rstd[row] = rs;
        }
#pragma unroll
        for (int k = 0; k < N; k++) {
            const int c = norm_col<W>(k, lane);
            if (c < cols) {
                float gm[W], bt[W];
                layernorm_affine<W>(gm, bt, gamma, beta, c);
#pragma unroll
                for (int i = 0; i < W; i++) v[k * W + i] = fmaf((v[k * W + i] - mu) * rs, gm[i], bt[i]);
            }
        }
        norm_store_row<W, N>(out + row * cols, v, cols, lane);
    }
}

template <int W, int N>
__device__ __forceinline__ void layernorm_bwd_warp(float *dx, float *pg, float *pb, const float *dy, const float *x,
                                                   const float *mean, const float *rstd, const float *gamma,
                                                   long long rows, int cols, long long rpb) {
    __shared__ float sh[NORM_WARPS][32 * W * N];
    const int lane = threadIdx.x & 31;
    const long long lo = (long long)blockIdx.x * rpb;
    const long long hi = min(rows, lo + rpb);
    float accg[W * N], accb[W * N];
#pragma unroll
    for (int e = 0; e < W * N; e++) accg[e] = 0.f, accb[e] = 0.f;
    for (long long row = lo + (threadIdx.x >> 5); row < hi; row += NORM_WARPS) {
        float xv[W * N], gv[W * N];
        norm_load_row<W, N>(xv, x + row * cols, cols, lane, 0.f);
        norm_load_row<W, N>(gv, dy + row * cols, cols, lane, 0.f);
        const float mu = mean[row], rs = rstd[row];
        float sg = 0.f, sgx = 0.f;
        // Pass 1 (registers): xv <- xhat, gv <- g = dy*gamma, the row sums of
        // g and g*xhat, and the dgamma/dbeta terms (no row statistic needed).
#pragma unroll
        for (int k = 0; k < N; k++) {
            const int c = norm_col<W>(k, lane);
            if (c < cols) {
                float gm[W];
                layernorm_gamma<W>(gm, gamma, c);
#pragma unroll
                for (int i = 0; i < W; i++) {
                    const int e = k * W + i;
                    const float xh = (xv[e] - mu) * rs;
                    accg[e] = fmaf(gv[e], xh, accg[e]);
                    accb[e] += gv[e];
                    gv[e] *= gm[i];
                    sg += gv[e];
                    sgx = fmaf(gv[e], xh, sgx);
                    xv[e] = xh;
                }
            }
        }
        const float mg = norm_warp_sum(sg) / (float)cols;
        const float mgx = norm_warp_sum(sgx) / (float)cols;
#pragma unroll
        for (int e = 0; e < W * N; e++) gv[e] = rs * (gv[e] - mg - xv[e] * mgx);
        norm_store_row<W, N>(dx + row * cols, gv, cols, lane);
    }
    if (pg) norm_warp_partials<W, N>(pg + (long long)blockIdx.x * cols, accg, cols, sh);
    if (pb) norm_warp_partials<W, N>(pb + (long long)blockIdx.x * cols, accb, cols, sh);
}

template <int W>
__device__ __forceinline__ void layernorm_fwd_block(float *out, float *mean, float *rstd, const float *x,
                                                    const float *gamma, const float *beta, long long rows, int cols,
                                                    float eps) {
    __shared__ float sh[32];
    const int stride = blockDim.x * W;
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float *xr = x + row * cols;
        float s = 0.f;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W];
            norm_ld<W>(v, xr + c);
#pragma unroll
            for (int i = 0; i < W; i++) s += v[i];
        }
        const float mu = norm_block_sum(s, sh) / (float)cols;
        float q = 0.f;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W];
            norm_ld<W>(v, xr + c);
#pragma unroll
            for (int i = 0; i < W; i++) {
                const float d = v[i] - mu;
                q = fmaf(d, d, q);
            }
        }
        const float rs = 1.f / sqrtf(norm_block_sum(q, sh) / (float)cols + eps);
        if (threadIdx.x == 0) {
            mean[row] = mu;
            rstd[row] = rs;
        }
        float *orow = out + row * cols;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float v[W], gm[W], bt[W];
            norm_ld<W>(v, xr + c);
            layernorm_affine<W>(gm, bt, gamma, beta, c);
#pragma unroll
            for (int i = 0; i < W; i++) v[i] = fmaf((v[i] - mu) * rs, gm[i], bt[i]);
            norm_st<W>(orow + c, v);
        }
    }
}

// layernorm_add_partial adds t (W floats) into a block's partial row at p,
// or writes it for the block's first row. Only the calling thread touches
// these columns of the row, so there is no race.
template <int W>
__device__ __forceinline__ void layernorm_add_partial(float *p, float *t, bool first) {
    if (!first) {
        float o[W];
        norm_ld<W>(o, p);
#pragma unroll
        for (int i = 0; i < W; i++) t[i] += o[i];
    }
    norm_st<W>(p, t);
}

template <int W>
__device__ __forceinline__ void layernorm_bwd_block(float *dx, float *pg, float *pb, const float *dy, const float *x,
                                                    const float *mean, const float *rstd, const float *gamma,
                                                    long long rows, int cols, long long rpb) {
    __shared__ float2 sh[32];
    const int stride = blockDim.x * W;
    const long long lo = (long long)blockIdx.x * rpb;
    const long long hi = min(rows, lo + rpb);
    float *pgr = pg ? pg + (long long)blockIdx.x * cols : nullptr;
    float *pbr = pb ? pb + (long long)blockIdx.x * cols : nullptr;
    for (long long row = lo; row < hi; row++) {
        const float *xr = x + row * cols, *gr = dy + row * cols;
        const float mu = mean[row], rs = rstd[row];
        float sg = 0.f, sgx = 0.f;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float xv[W], gv[W], gm[W];
            norm_ld<W>(xv, xr + c);
            norm_ld<W>(gv, gr + c);
            layernorm_gamma<W>(gm, gamma, c);
#pragma unroll
            for (int i = 0; i < W; i++) {
                const float g = gv[i] * gm[i];
                sg += g;
                sgx = fmaf(g, (xv[i] - mu) * rs, sgx);
            }
        }
        const float2 t = norm_block_sum2(sg, sgx, sh);
        const float mg = t.x / (float)cols, mgx = t.y / (float)cols;
        float *dr = dx + row * cols;
        for (int c = threadIdx.x * W; c < cols; c += stride) {
            float xv[W], gv[W], gm[W], o[W];
            norm_ld<W>(xv, xr + c);
            norm_ld<W>(gv, gr + c);
            layernorm_gamma<W>(gm, gamma, c);
#pragma unroll
            for (int i = 0; i < W; i++) {
                const float xh = (xv[i] - mu) * rs;
                o[i] = rs * (gv[i] * gm[i] - mg - xh * mgx);
                xv[i] = gv[i] * xh; // dgamma's term; gv stays dbeta's
            }
            norm_st<W>(dr + c, o);
            if (pgr) layernorm_add_partial<W>(pgr + c, xv, row == lo);
            if (pbr) layernorm_add_partial<W>(pbr + c, gv, row == lo);
        }
    }
}

#define LAYERNORM_WARP(W, N)                                                                                           \
    extern "C" __global__ void __launch_bounds__(32 * NORM_WARPS) nori_layernorm_fwd_warp_w##W##n##N(                  \
        float *out, float *mean, float *rstd, const float *x, const float *gamma, const float *beta, long long rows,   \
        long long cols, double eps) {                                                                                  \
        layernorm_fwd_warp<W, N>(out, mean, rstd, x, gamma, beta, rows, (int)cols, (float)eps);                        \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(32 * NORM_WARPS) nori_layernorm_bwd_warp_w##W##n##N(                  \
        float *dx, float *pg, float *pb, const float *dy, const float *x, const float *mean, const float *rstd,       \
        const float *gamma, long long rows, long long cols, long long rpb) {                                           \
        layernorm_bwd_warp<W, N>(dx, pg, pb, dy, x, mean, rstd, gamma, rows, (int)cols, rpb);                          \
    }

LAYERNORM_WARP(4, 1)
LAYERNORM_WARP(4, 2)
LAYERNORM_WARP(4, 4)
LAYERNORM_WARP(4, 8)
LAYERNORM_WARP(1, 1)
LAYERNORM_WARP(1, 2)
LAYERNORM_WARP(1, 4)
LAYERNORM_WARP(1, 8)
LAYERNORM_WARP(1, 16)
LAYERNORM_WARP(1, 32)

#define LAYERNORM_BLOCK(W)                                                                                             \
    extern "C" __global__ void __launch_bounds__(1024) nori_layernorm_fwd_block_w##W(                                  \
        float *out, float *mean, float *rstd, const float *x, const float *gamma, const float *beta, long long rows,   \
        long long cols, double eps) {                                                                                  \
        layernorm_fwd_block<W>(out, mean, rstd, x, gamma, beta, rows, (int)cols, (float)eps);                          \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(1024) nori_layernorm_bwd_block_w##W(                                  \
        float *dx, float *pg, float *pb, const float *dy, const float *x, const float *mean, const float *rstd,       \
        const float *gamma, long long rows, long long cols, long long rpb) {                                           \
        layernorm_bwd_block<W>(dx, pg, pb, dy, x, mean, rstd, gamma, rows, (int)cols, rpb);                            \
    }

LAYERNORM_BLOCK(4)
LAYERNORM_BLOCK(1)

// nori_layernorm_reduce_partials: out[c] = sum over b of part[b*cols + c]
// (dgamma or dbeta; fixed order, double; see norm_reduce_partials).
extern "C" __global__ void __launch_bounds__(1024)
    nori_layernorm_reduce_partials(float *out, const float *part, long long nparts, long long cols) {
    norm_reduce_partials(out, part, nparts, cols);
}
