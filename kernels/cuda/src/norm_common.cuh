// norm_common.cuh: device helpers shared by nori's row kernels (rmsnorm.cu,
// layernorm.cu, softmax.cu): warp and block reductions, a row held in one
// warp's registers, and the fixed-order reduction of per-block column partial
// sums (dgamma, dbeta). Everything here is inlined into its caller; it has no
// entry points of its own.
//
// Row layout of the warp-per-row kernels (rows of cols <= 1024 floats): lane
// `lane` of the warp owns N chunks of W consecutive floats (W = 4: one float4,
// W = 1: one float), chunk k starting at column (32k + lane) * W. A warp's
// access to chunk k is therefore one contiguous segment of 32*W floats
// (coalesced, 128-bit per lane when W = 4). W = 4 is used only when cols is a
// multiple of 4 and every row pointer is 16-byte aligned, so a chunk is either
// wholly inside the row or wholly past its end.
#pragma once

#define NORM_FULL 0xffffffffu
// NORM_WARPS is the number of warps (one row each) per block of the
// warp-per-row kernels; their block is 32 * NORM_WARPS = 256 threads.
#define NORM_WARPS 8

__device__ __forceinline__ float norm_neg_inf() { return __int_as_float(0xff800000); }

// norm_warp_sum returns the sum of v over the warp to every lane. The xor
// butterfly adds the same two values on both partner lanes at every step
// (addition is commutative), so all lanes hold the bit-identical total.
__device__ __forceinline__ float norm_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(NORM_FULL, v, o);
    return v;
}

__device__ __forceinline__ float norm_warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(NORM_FULL, v, o));
    return v;
}

// norm_block_sum returns the sum of v over the block (blockDim.x a multiple of
// 32, at most 1024) to every thread, in an order fixed by blockDim.x: a warp
// butterfly, then the warp totals by a second butterfly. sh holds 32 floats;
// the leading barrier lets a caller reuse sh call after call.
__device__ __forceinline__ float norm_block_sum(float v, float *sh) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = norm_warp_sum(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    return norm_warp_sum(lane < nw ? sh[lane] : 0.f);
}

// norm_block_sum2 is norm_block_sum of two values at once (sh: 32 float2).
__device__ __forceinline__ float2 norm_block_sum2(float a, float b, float2 *sh) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    a = norm_warp_sum(a);
    b = norm_warp_sum(b);
    __syncthreads();
    if (lane == 0) sh[warp] = make_float2(a, b);
    __syncthreads();
    const float2 t = lane < nw ? sh[lane] : make_float2(0.f, 0.f);
    return make_float2(norm_warp_sum(t.x), norm_warp_sum(t.y));
}

// norm_block_max returns the maximum of v over the block to every thread.
__device__ __forceinline__ float norm_block_max(float v, float *sh) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = norm_warp_max(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    return norm_warp_max(lane < nw ? sh[lane] : norm_neg_inf());
}

// Loads and stores of W consecutive floats (W = 1 or 4; 16-byte aligned when
// W = 4). _cs: streaming (evict-first) load for data read once; _g: read-only
// cached load (ld.global.nc) for gamma/beta, which every row reads again;
// plain loads for rows that a block kernel reads more than once (L1/L2 hits).
template <int W> __device__ __forceinline__ void norm_ld_cs(float *d, const float *p);
template <> __device__ __forceinline__ void norm_ld_cs<1>(float *d, const float *p) { d[0] = __ldcs(p); }
template <> __device__ __forceinline__ void norm_ld_cs<4>(float *d, const float *p) {
    const float4 t = __ldcs(reinterpret_cast<const float4 *>(p));
    d[0] = t.x, d[1] = t.y, d[2] = t.z, d[3] = t.w;
}

template <int W> __device__ __forceinline__ void norm_ld_g(float *d, const float *p);
template <> __device__ __forceinline__ void norm_ld_g<1>(float *d, const float *p) { d[0] = __ldg(p); }
template <> __device__ __forceinline__ void norm_ld_g<4>(float *d, const float *p) {
    const float4 t = __ldg(reinterpret_cast<const float4 *>(p));
    d[0] = t.x, d[1] = t.y, d[2] = t.z, d[3] = t.w;
}

template <int W> __device__ __forceinline__ void norm_ld(float *d, const float *p);
template <> __device__ __forceinline__ void norm_ld<1>(float *d, const float *p) { d[0] = *p; }
template <> __device__ __forceinline__ void norm_ld<4>(float *d, const float *p) {
    const float4 t = *reinterpret_cast<const float4 *>(p);
    d[0] = t.x, d[1] = t.y, d[2] = t.z, d[3] = t.w;
}

template <int W> __device__ __forceinline__ void norm_st(float *p, const float *d);
template <> __device__ __forceinline__ void norm_st<1>(float *p, const float *d) { *p = d[0]; }
template <> __device__ __forceinline__ void norm_st<4>(float *p, const float *d) {
    *reinterpret_cast<float4 *>(p) = make_float4(d[0], d[1], d[2], d[3]);
}

// norm_col is the first column of chunk k of lane `lane` (see the layout above).
template <int W> __device__ __forceinline__ int norm_col(int k, int lane) { return (32 * k + lane) * W; }

// norm_load_row loads one row (streaming) into the warp's registers; chunks
// past the end of the row are set to pad.
template <int W, int N>
__device__ __forceinline__ void norm_load_row(float (&v)[W * N], const float *p, int cols, int lane, float pad) {
#pragma unroll
    for (int k = 0; k < N; k++) {
        const int c = norm_col<W>(k, lane);
        if (c < cols) {
            norm_ld_cs<W>(&v[k * W], p + c);
        } else {
#pragma unroll
            for (int i = 0; i < W; i++) v[k * W + i] = pad;
        }
    }
}

// norm_store_row stores the chunks of the warp's registers that lie in the row.
template <int W, int N>
__device__ __forceinline__ void norm_store_row(float *p, const float (&v)[W * N], int cols, int lane) {
#pragma unroll
    for (int k = 0; k < N; k++) {
        const int c = norm_col<W>(k, lane);
        if (c < cols) norm_st<W>(p + c, &v[k * W]);
    }
}

// norm_warp_partials writes the column sums of the block's NORM_WARPS warps'
// register accumulators acc (layout above) to part[0..cols): each warp puts
// its accumulators in shared memory, then thread t adds, for columns t,
// t+256, ..., the NORM_WARPS values in warp order. Every thread of the block
// must call it (it has a barrier).
template <int W, int N>
__device__ __forceinline__ void norm_warp_partials(float *part, const float (&acc)[W * N], int cols, float (*sh)[32 * W * N]) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int k = 0; k < N; k++) {
        const int c = norm_col<W>(k, lane);
        if (c < cols) {
#pragma unroll
            for (int i = 0; i < W; i++) sh[warp][c + i] = acc[k * W + i];
        }
    }
    __syncthreads();
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float t = sh[0][c];
#pragma unroll
        for (int w = 1; w < NORM_WARPS; w++) t += sh[w][c];
        part[c] = t;
    }
    __syncthreads();
}

// norm_reduce_partials computes out[c] = sum over b = 0..nparts-1 of
// part[b*cols + c] in double, in an order fixed by (nparts, cols) alone:
// block (32, 32), thread (tx, ty) sums parts ty, ty+32, ty+64, ... of column
// blockIdx.x*32 + tx, then thread (tx, 0) adds the 32 sums in ty order and
// rounds once. No atomics: the result is the same bits on every run and GPU.
__device__ __forceinline__ void norm_reduce_partials(float *out, const float *part, long long nparts, long long cols) {
    __shared__ double sh[32][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const long long c = (long long)blockIdx.x * 32 + tx;
    double s = 0;
    if (c < cols) {
#pragma unroll 4
        for (long long b = ty; b < nparts; b += 32) s += (double)part[b * cols + c];
    }
    sh[ty][tx] = s;
    __syncthreads();
    if (ty == 0 && c < cols) {
        double t = 0;
        for (int i = 0; i < 32; i++) t += sh[i][tx];
        out[c] = (float)t;
    }
}
