// attention.cu: flash attention (FlashAttention-2 design) forward and backward,
// bf16 inputs, float32 accumulation on the tensor cores (mma.sync m16n8k16).
//
// Semantics (tensor.AttentionBackend, kernels/ref/attention.go): for head
// (b, h), query row i and key j, with x_ij = q_i . k_j and s_i = scale *
// qscale[b,h,i] (scale alone without qscale),
//
//	z_ij = s_i x_ij,  out_i = sum_j softmax_j(z_i) v_j,  lse_i = log sum_j exp(z_ij)
//
// and the backward (kernels/ref/attention_backward.go), with P_ij =
// exp(z_ij - lse_i), D_i = dout_i . out_i and dS_ij = P_ij (dout_i . v_j - D_i):
//
//	dq_i = s_i sum_j dS_ij k_j,  dk_j = sum_i s_i dS_ij q_i,  dv_j = sum_i P_ij dout_i,
//	dqscale_i = scale * (sum_j dS_ij x_ij - (sum_j dS_ij) c_i),  c_i = sum_j P_ij x_ij / sum_j P_ij
//
// (the centring by c_i is exact algebra, sum_j dS_ij = 0, and removes the
// error the rounded out adds through D_i, as in the reference).
//
// Layout: q [B,H,Nq,D], k and v [B,H,Nk,D] bf16 with element strides for b, h
// and row (views of a packed QKV projection), unit stride along D. Every row
// is read in 16-byte chunks with cp.async, so rows must be 16-byte aligned
// and the columns from D up to the next multiple of 8 must be readable zeros:
// the float32 launchers pack the inputs that way, the bf16 launchers require
// D % 8 == 0 and strides % 8 == 0. Outputs are contiguous [B,H,Nq,D] (out),
// [B,H,Nq] (lse, qscale, dqscale); gradients take their own strides.
//
// Forward (nori_attention_fwd_d<DP>_bm<BM>): one CTA of BM/16 warps per
// (query block of BM = 64 or 128 rows, b*H+h, KV split); each warp owns 16
// query rows, keeps its Q fragments in registers (ldmatrix) and the output
// accumulator (16 x DP fp32) in registers. K and V stream through shared
// memory in tiles of 64 keys, double-buffered with cp.async so the next tile
// loads while this one is multiplied. Per tile: S = Q K^T (mma), scale by
// s_i log2(e), mask keys >= Nk, online softmax (running max m and sum l per
// row, the accumulator rescaled by 2^(m_old - m_new)), P rounded to bf16
// straight from the accumulator registers (the C fragment of two n-blocks is
// the A fragment of one k-step), O += P V (ldmatrix.trans of V). DP is the
// head dimension padded to 64 or 128 (zero columns: D <= 64 runs the head
// dim 64 fast path, 64 < D <= 128 the 128 one; k-steps past D are skipped).
// When the grid of (query blocks x heads) is small for the GPU the key range
// is split over gridDim.z CTAs, each writing a normalised partial output and
// its lse to scratch, merged by nori_attention_combine (flash-decoding).
//
// Backward: nori_attention_bwd_pre_* computes D_i = dout_i . out_i (and the
// bf16 copy of dout for the float32 API); nori_attention_bwd_kv_d<DP> has one
// CTA per (block of 64 keys, b*H+h), each warp 16 keys with dK and dV
// accumulated in registers over all query blocks (Q, dO, lse, D and s of the
// next block prefetched with cp.async): S^T = K Q^T, dP^T = V dO^T, P^T and
// dS^T elementwise, dV += P^T dO, dK += (s dS)^T Q; nori_attention_bwd_q_d<DP>
// has one CTA per (block of 64 queries, b*H+h) streaming K/V tiles: S, dP,
// dS, dq += dS K and the four dqscale sums per row. Two passes and no atomics:
// deterministic (7 products of the QK^T size instead of FlashAttention-2's 5
// with atomic dQ).
//
// Error against the float64 reference (kernels/ref) when the inputs are
// float32: q, k, v and dout are rounded to bf16 (relative 2^-9 each, so every
// product carries ~2^-8), P and dS are rounded to bf16 before their products,
// everything is accumulated in fp32 and exp2 is the hardware ex2.approx
// (relative ~2^-22). Outputs and gradients are within about 1e-2 of the
// output's scale (max |value|); lse within about 1e-2 absolute for scores of
// order one (the error of z grows with |z|).
//
// Launch: forward block 32*BM/16 threads, grid (ceil(Nq/BM), B*H, splits);
// bwd_kv block 128, grid (ceil(Nk/64), B*H); bwd_q block 128, grid
// (ceil(Nq/64), B*H); dynamic shared memory as computed in attention.go.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).
#include <cuda_bf16.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;

// A named namespace, not an anonymous one: nvcc mangles anonymous-namespace
// symbols (the dynamic shared array) with a hash of the file path, which would
// make the committed PTX depend on where the repository is checked out.
namespace nori_attention {

constexpr int kBN = 64;  // keys per K/V tile (forward, dq pass)
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }
__device__ __forceinline__ float pos_inf() { return __int_as_float(0x7f800000); }

__device__ __forceinline__ uint32_t smem_addr(const void *p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// cp_async16 copies 16 bytes (bytes = 16) or zero-fills them (bytes = 0).
__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, uint32_t bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr)
                 : "memory");
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr)
                 : "memory");
}

// mma16816 computes c += a b for a 16x16 bf16 A fragment and a 16x8 B
// fragment (b0, b1), fp32 accumulator c (16x8).
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ float ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// pack_bf16 rounds (lo, hi) to a bf16 pair, lo in the low half (the element
// with the smaller column index in an mma fragment).
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

// A fragment of the 16x16 block at (row 0, column 16*kk) of the C-layout
// tile acc[8 n-blocks][4]: n-blocks 2kk and 2kk+1 (FlashAttention-2's
// register reuse of P).
template <int N>
__device__ __forceinline__ void c_to_a(uint32_t (&a)[4], const float (&acc)[N][4], int kk) {
    a[0] = pack_bf16(acc[2 * kk][0], acc[2 * kk][1]);
    a[1] = pack_bf16(acc[2 * kk][2], acc[2 * kk][3]);
    a[2] = pack_bf16(acc[2 * kk + 1][0], acc[2 * kk + 1][1]);
    a[3] = pack_bf16(acc[2 * kk + 1][2], acc[2 * kk + 1][3]);
}

// Shared-memory tiles are row-major with LDS = DP + 8 bf16 per row: the
// 16-byte pad puts the 8 rows an ldmatrix reads in 8 different bank groups.
//
// Fragment addresses (lane l): A operand from a row-major [rows][k] tile,
// 16 rows from r0, k from k0: row r0 + (l & 15), column k0 + (l >> 4) * 8.
__device__ __forceinline__ uint32_t addr_a(const bf16 *tile, int lds, int r0, int k0, int lane) {
    return smem_addr(tile + (r0 + (lane & 15)) * lds + k0 + ((lane >> 4) << 3));
}
// B operand (k x n, "col") from a row-major [n][k] tile (K rows for Q K^T):
// two n-blocks n0, n0+8 and k from k0: registers {b0,b1} of n0 then n0+8.
__device__ __forceinline__ uint32_t addr_bn(const bf16 *tile, int lds, int n0, int k0, int lane) {
    return smem_addr(tile + (n0 + (lane & 7) + ((lane >> 4) << 3)) * lds + k0 + (((lane >> 3) & 1) << 3));
}
// B operand from a row-major [k][n] tile (V rows for P V) with .trans: k from
// k0 (16 rows), two n-blocks n0, n0+8: registers {b0,b1} of n0 then n0+8.
__device__ __forceinline__ uint32_t addr_bt(const bf16 *tile, int lds, int k0, int n0, int lane) {
    return smem_addr(tile + (k0 + (lane & 7) + (((lane >> 3) & 1) << 3)) * lds + n0 + ((lane >> 4) << 3));
}

// load_rows queues cp.async copies of NROWS rows (row r at src + r*rs; rows
// >= nvalid and 16-byte chunks >= dchunks are zero-filled) into the shared
// tile dst (row stride DP + 8). Each thread keeps one chunk column and walks
// down the rows, so the addressing is one pointer and one stride.
template <int DP, int NT, int NROWS>
__device__ __forceinline__ void load_rows(bf16 *dst, const bf16 *src, long long rs, int nvalid, int dchunks) {
    constexpr int CH = DP / 8, LDS = DP + 8, RPI = NT / CH;
    static_assert(NT % CH == 0 && NROWS % RPI == 0, "tile rows must split evenly over the threads");
    const int c = threadIdx.x % CH, r0 = threadIdx.x / CH;
    const bool cok = c < dchunks;
    const bf16 *p = src + r0 * rs + c * 8;
    const uint32_t d = smem_addr(dst + r0 * LDS + c * 8);
#pragma unroll
    for (int it = 0; it < NROWS / RPI; ++it) {
        const bool ok = cok && r0 + it * RPI < nvalid;
        cp_async16(d + it * RPI * LDS * 2, ok ? p : src, ok ? 16u : 0u);
        p += RPI * rs;
    }
}

// store_pair writes columns col, col+1 (those < D) of a row, float32 or
// bf16: one paired store when both exist and the address allows it (outputs
// may be views at any element offset), else one element at a time.
__device__ __forceinline__ void store_pair(float *row, int col, int D, float a, float b) {
    float *p = row + col;
    if (col + 1 < D && (reinterpret_cast<uintptr_t>(p) & 7) == 0) {
        *reinterpret_cast<float2 *>(p) = make_float2(a, b);
    } else {
        if (col < D) p[0] = a;
        if (col + 1 < D) p[1] = b;
    }
}
__device__ __forceinline__ void store_pair(bf16 *row, int col, int D, float a, float b) {
    bf16 *p = row + col;
    if (col + 1 < D && (reinterpret_cast<uintptr_t>(p) & 3) == 0) {
        *reinterpret_cast<__nv_bfloat162 *>(p) = __floats2bfloat162_rn(a, b);
    } else {
        if (col < D) p[0] = __float2bfloat16_rn(a);
        if (col + 1 < D) p[1] = __float2bfloat16_rn(b);
    }
}

// ---------------------------------------------------------------- forward

template <int DP, int NW>
__device__ __forceinline__ void flash_fwd(float *out32, bf16 *out16, float *lse, const bf16 *q, const bf16 *k,
                                          const bf16 *v, const float *qscale, long long bh0, long long H, long long Nq,
                                          long long Nk, long long D, long long qsb, long long qsh, long long qsr,
                                          long long ksb, long long ksh, long long ksr, long long vsb, long long vsh,
                                          long long vsr, double scale, long long tilesPerSplit, long long outSplit,
                                          long long lseSplit) {
    constexpr int BM = 16 * NW, NT = 32 * NW, LDS = DP + 8, KS = DP / 16, NB = DP / 8;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    bf16 *sQ = reinterpret_cast<bf16 *>(smem_raw);
    bf16 *sK = sQ + BM * LDS;       // [2][kBN][LDS]
    bf16 *sV = sK + 2 * kBN * LDS;  // [2][kBN][LDS]

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, t4 = lane & 3, g = lane >> 2;
    const long long bh = bh0 + blockIdx.y, b = bh / H, h = bh - b * H;
    const long long i0 = (long long)blockIdx.x * BM;
    const long long ntiles = (Nk + kBN - 1) / kBN;
    const long long tBeg = (long long)blockIdx.z * tilesPerSplit;
    const long long tEnd = min(ntiles, tBeg + tilesPerSplit);
    const int dchunks = (int)((D + 7) / 8), ksteps = (int)((D + 15) / 16);
    const bf16 *qh = q + b * qsb + h * qsh;
    const bf16 *kh = k + b * ksb + h * ksh;
    const bf16 *vh = v + b * vsb + h * vsh;

    load_rows<DP, NT, BM>(sQ, qh + i0 * qsr, qsr, (int)min((long long)BM, Nq - i0), dchunks);
    load_rows<DP, NT, kBN>(sK, kh + tBeg * kBN * ksr, ksr, (int)min((long long)kBN, Nk - tBeg * kBN), dchunks);
    load_rows<DP, NT, kBN>(sV, vh + tBeg * kBN * vsr, vsr, (int)min((long long)kBN, Nk - tBeg * kBN), dchunks);
    cp_async_commit();

    // Rows g and g+8 of the warp's 16: s_i log2(e), so that the softmax runs
    // on exp2 (scores in log2 units).
    float sl2[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const long long i = i0 + warp * 16 + g + 8 * r;
        float s = (float)scale;
        if (qscale != nullptr && i < Nq) s = (float)(scale * (double)qscale[bh * Nq + i]);
        sl2[r] = s * kLog2e;
    }

    cp_async_wait_all();
    __syncthreads();
    uint32_t qa[KS][4];
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
        qa[kk][0] = qa[kk][1] = qa[kk][2] = qa[kk][3] = 0u;
        if (kk < ksteps) ldsm_x4(qa[kk], addr_a(sQ, LDS, warp * 16, kk * 16, lane));
    }

    float o[NB][4];
#pragma unroll
    for (int n = 0; n < NB; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
    float m[2] = {neg_inf(), neg_inf()}, l[2] = {0.f, 0.f};

    for (long long t = tBeg; t < tEnd; ++t) {
        const int buf = (int)((t - tBeg) & 1);
        cp_async_wait_all();
        __syncthreads();  // tile t landed for every thread; tile t-1's buffer is free
        if (t + 1 < tEnd) {
            const long long j1 = (t + 1) * kBN;
            const int nv = (int)min((long long)kBN, Nk - j1);
            load_rows<DP, NT, kBN>(sK + (buf ^ 1) * kBN * LDS, kh + j1 * ksr, ksr, nv, dchunks);
            load_rows<DP, NT, kBN>(sV + (buf ^ 1) * kBN * LDS, vh + j1 * vsr, vsr, nv, dchunks);
            cp_async_commit();
        }
        const bf16 *tK = sK + buf * kBN * LDS;
        const bf16 *tV = sV + buf * kBN * LDS;

        // S = Q K^T, 16 rows x 64 keys per warp.
        float s[8][4];
#pragma unroll
        for (int n = 0; n < 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < KS; ++kk) {
            if (kk < ksteps) {
#pragma unroll
                for (int np = 0; np < 4; ++np) {
                    uint32_t bb[4];
                    ldsm_x4(bb, addr_bn(tK, LDS, np * 16, kk * 16, lane));
                    mma16816(s[2 * np], qa[kk], bb[0], bb[1]);
                    mma16816(s[2 * np + 1], qa[kk], bb[2], bb[3]);
                }
            }
        }

        // Scale to log2 units, mask keys past Nk, online softmax.
        const int kvalid = (int)min((long long)kBN, Nk - t * kBN);
        float mx[2] = {m[0], m[1]};
#pragma unroll
        for (int n = 0; n < 8; ++n) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                float z = s[n][e] * sl2[e >> 1];
                if (kvalid < kBN && n * 8 + 2 * t4 + (e & 1) >= kvalid) z = neg_inf();
                s[n][e] = z;
                mx[e >> 1] = fmaxf(mx[e >> 1], z);
            }
        }
        float alpha[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            // Every tile holds a valid key, so mx is finite unless scores are;
            // guard anyway so that -inf - -inf never makes a NaN.
            const float mref = mx[r] == neg_inf() ? 0.f : mx[r];
            alpha[r] = ex2(m[r] - mref);  // 0 on the first tile (m = -inf)
            m[r] = mref;
            l[r] *= alpha[r];
        }
#pragma unroll
        for (int n = 0; n < 8; ++n) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const float p = ex2(s[n][e] - m[e >> 1]);
                s[n][e] = p;
                l[e >> 1] += p;  // this thread's part; summed over the row's 4 lanes at the end
            }
        }
#pragma unroll
        for (int n = 0; n < NB; ++n) {
            o[n][0] *= alpha[0];
            o[n][1] *= alpha[0];
            o[n][2] *= alpha[1];
            o[n][3] *= alpha[1];
        }

        // O += P V.
#pragma unroll
        for (int k2 = 0; k2 < kBN / 16; ++k2) {
            uint32_t pa[4];
            c_to_a(pa, s, k2);
#pragma unroll
            for (int dp = 0; dp < KS; ++dp) {
                if (dp < ksteps) {
                    uint32_t bb[4];
                    ldsm_x4_t(bb, addr_bt(tV, LDS, k2 * 16, dp * 16, lane));
                    mma16816(o[2 * dp], pa, bb[0], bb[1]);
                    mma16816(o[2 * dp + 1], pa, bb[2], bb[3]);
                }
            }
        }
    }

    // Epilogue: out = O / l, lse = (m + log2 l) ln 2.
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    }
    const long long split = blockIdx.z;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const long long i = i0 + warp * 16 + g + 8 * r;
        if (i >= Nq) continue;
        const float inv = 1.f / l[r];
        const long long row = bh * Nq + i;
        if (out32 != nullptr) {
            float *dst = out32 + split * outSplit + row * D;
#pragma unroll
            for (int n = 0; n < NB; ++n) store_pair(dst, n * 8 + 2 * t4, (int)D, o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
        }
        if (out16 != nullptr) {
            bf16 *dst = out16 + row * D;
#pragma unroll
            for (int n = 0; n < NB; ++n) store_pair(dst, n * 8 + 2 * t4, (int)D, o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
        }
        if (t4 == 0) lse[split * lseSplit + row] = (m[r] + log2f(l[r])) * kLn2;
    }
}

// ---------------------------------------------------------------- backward: dK, dV

constexpr int kBwdNW = 4;  // warps per backward CTA (64 keys or 64 queries)

// Per-query statistics of a backward query block in shared memory:
// [0] s_i log2(e), [1] lse_i log2(e), [2] D_i, [3] s_i; padded rows get
// (0, +inf, 0, 0) so that their P and dS are exactly 0.
template <int BQ>
__device__ __forceinline__ void load_stats(float *st, const float *lse, const float *dsum, const float *qscale,
                                           long long bh, long long Nq, long long i0, double scale) {
    for (int c = threadIdx.x; c < BQ; c += 32 * kBwdNW) {
        const long long i = i0 + c;
        float a = 0.f, b = pos_inf(), d = 0.f, s = 0.f;
        if (i < Nq) {
            s = (float)scale;
            if (qscale != nullptr) s = (float)(scale * (double)qscale[bh * Nq + i]);
            a = s * kLog2e;
            b = lse[bh * Nq + i] * kLog2e;
            d = dsum[bh * Nq + i];
        }
        st[c] = a;
        st[BQ + c] = b;
        st[2 * BQ + c] = d;
        st[3 * BQ + c] = s;
    }
}

template <int DP, int BQ>
__device__ __forceinline__ void flash_bwd_kv(void *dkp, void *dvp, long long gradBF16, long long dksb, long long dksh,
                                             long long dksr, long long dvsb, long long dvsh, long long dvsr,
                                             const bf16 *q, const bf16 *k, const bf16 *v, const bf16 *dob,
                                             long long dors, const float *lse, const float *dsum,
                                             const float *qscale, long long bh0, long long H, long long Nq, long long Nk,
                                             long long D, long long qsb, long long qsh, long long qsr, long long ksb,
                                             long long ksh, long long ksr, long long vsb, long long vsh, long long vsr,
                                             double scale) {
    constexpr int NW = kBwdNW, BNK = 16 * NW, NT = 32 * NW, LDS = DP + 8, KS = DP / 16, NB = DP / 8, QB = BQ / 8;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    bf16 *sK = reinterpret_cast<bf16 *>(smem_raw);  // [BNK][LDS]
    bf16 *sV = sK + BNK * LDS;                        // [BNK][LDS]
    bf16 *sQ = sV + BNK * LDS;                        // [2][BQ][LDS]
    bf16 *sO = sQ + 2 * BQ * LDS;                     // [2][BQ][LDS] (dO)
    float *sSt = reinterpret_cast<float *>(sO + 2 * BQ * LDS);  // [2][4][BQ]

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, t4 = lane & 3, g = lane >> 2;
    const long long bh = bh0 + blockIdx.y, b = bh / H, h = bh - b * H;
    const long long j0 = (long long)blockIdx.x * BNK;
    const int dchunks = (int)((D + 7) / 8), ksteps = (int)((D + 15) / 16);
    const bf16 *qh = q + b * qsb + h * qsh;
    const bf16 *kh = k + b * ksb + h * ksh;
    const bf16 *vh = v + b * vsb + h * vsh;
    const bf16 *doh = dob + bh * Nq * dors;
    const long long nblocks = (Nq + BQ - 1) / BQ;

    const int nk = (int)min((long long)BNK, Nk - j0);
    load_rows<DP, NT, BNK>(sK, kh + j0 * ksr, ksr, nk, dchunks);
    load_rows<DP, NT, BNK>(sV, vh + j0 * vsr, vsr, nk, dchunks);
    if (nblocks > 0) {  // Nq = 0 (dk = dv = 0): q, dout and lse are not read at all
        load_rows<DP, NT, BQ>(sQ, qh, qsr, (int)min((long long)BQ, Nq), dchunks);
        load_rows<DP, NT, BQ>(sO, doh, dors, (int)min((long long)BQ, Nq), dchunks);
    }
    cp_async_commit();
    load_stats<BQ>(sSt, lse, dsum, qscale, bh, Nq, 0, scale);

    float dk[NB][4], dv[NB][4];
#pragma unroll
    for (int n = 0; n < NB; ++n) {
        dk[n][0] = dk[n][1] = dk[n][2] = dk[n][3] = 0.f;
        dv[n][0] = dv[n][1] = dv[n][2] = dv[n][3] = 0.f;
    }

    for (long long qb = 0; qb < nblocks; ++qb) {
        const int buf = (int)(qb & 1);
        cp_async_wait_all();
        __syncthreads();  // block qb in shared memory; block qb-1's buffers free
        if (qb + 1 < nblocks) {
            const long long i1 = (qb + 1) * BQ;
            const int nv = (int)min((long long)BQ, Nq - i1);
            load_rows<DP, NT, BQ>(sQ + (buf ^ 1) * BQ * LDS, qh + i1 * qsr, qsr, nv, dchunks);
            load_rows<DP, NT, BQ>(sO + (buf ^ 1) * BQ * LDS, doh + i1 * dors, dors, nv, dchunks);
            cp_async_commit();
            load_stats<BQ>(sSt + (buf ^ 1) * 4 * BQ, lse, dsum, qscale, bh, Nq, i1, scale);
        }
        const bf16 *tQ = sQ + buf * BQ * LDS;
        const bf16 *tO = sO + buf * BQ * LDS;
        const float *st = sSt + buf * 4 * BQ;

        // S^T = K Q^T and dP^T = V dO^T: this warp's 16 keys x BQ queries.
        float sT[QB][4], pT[QB][4];
#pragma unroll
        for (int n = 0; n < QB; ++n) {
            sT[n][0] = sT[n][1] = sT[n][2] = sT[n][3] = 0.f;
            pT[n][0] = pT[n][1] = pT[n][2] = pT[n][3] = 0.f;
        }
#pragma unroll
        for (int kk = 0; kk < KS; ++kk) {
            if (kk < ksteps) {
                uint32_t ka[4], va[4];
                ldsm_x4(ka, addr_a(sK, LDS, warp * 16, kk * 16, lane));
                ldsm_x4(va, addr_a(sV, LDS, warp * 16, kk * 16, lane));
#pragma unroll
                for (int np = 0; np < BQ / 16; ++np) {
                    uint32_t bb[4];
                    ldsm_x4(bb, addr_bn(tQ, LDS, np * 16, kk * 16, lane));
                    mma16816(sT[2 * np], ka, bb[0], bb[1]);
                    mma16816(sT[2 * np + 1], ka, bb[2], bb[3]);
                    ldsm_x4(bb, addr_bn(tO, LDS, np * 16, kk * 16, lane));
                    mma16816(pT[2 * np], va, bb[0], bb[1]);
                    mma16816(pT[2 * np + 1], va, bb[2], bb[3]);
                }
            }
        }
        // P^T = exp2(x s log2e - lse log2e); s dS^T = s P^T (dP^T - D).
#pragma unroll
        for (int n = 0; n < QB; ++n) {
            const int c = n * 8 + 2 * t4;
            const float2 a = *reinterpret_cast<const float2 *>(st + c);
            const float2 l2 = *reinterpret_cast<const float2 *>(st + BQ + c);
            const float2 d = *reinterpret_cast<const float2 *>(st + 2 * BQ + c);
            const float2 s = *reinterpret_cast<const float2 *>(st + 3 * BQ + c);
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const bool odd = e & 1;
                const float p = ex2(sT[n][e] * (odd ? a.y : a.x) - (odd ? l2.y : l2.x));
                sT[n][e] = p;
                pT[n][e] = p * (pT[n][e] - (odd ? d.y : d.x)) * (odd ? s.y : s.x);
            }
        }
        // dV += P^T dO, dK += (s dS)^T Q.
#pragma unroll
        for (int k2 = 0; k2 < BQ / 16; ++k2) {
            uint32_t pa[4], da[4];
            c_to_a(pa, sT, k2);
            c_to_a(da, pT, k2);
#pragma unroll
            for (int dp = 0; dp < KS; ++dp) {
                if (dp < ksteps) {
                    uint32_t bb[4];
                    ldsm_x4_t(bb, addr_bt(tO, LDS, k2 * 16, dp * 16, lane));
                    mma16816(dv[2 * dp], pa, bb[0], bb[1]);
                    mma16816(dv[2 * dp + 1], pa, bb[2], bb[3]);
                    ldsm_x4_t(bb, addr_bt(tQ, LDS, k2 * 16, dp * 16, lane));
                    mma16816(dk[2 * dp], da, bb[0], bb[1]);
                    mma16816(dk[2 * dp + 1], da, bb[2], bb[3]);
                }
            }
        }
    }
    // With Nq = 0 the loop never ran and K, V are still in flight: a CTA must
    // not exit with cp.async copies pending (its shared memory is handed to
    // the next CTA). Otherwise nothing is pending and this costs nothing.
    cp_async_wait_all();

    // Rows g and g+8 of the warp's 16 keys.
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const long long j = j0 + warp * 16 + g + 8 * r;
        if (j >= Nk) continue;
        if (gradBF16) {
            bf16 *rk = static_cast<bf16 *>(dkp) + b * dksb + h * dksh + j * dksr;
            bf16 *rv = static_cast<bf16 *>(dvp) + b * dvsb + h * dvsh + j * dvsr;
#pragma unroll
            for (int n = 0; n < NB; ++n) {
                store_pair(rk, n * 8 + 2 * t4, (int)D, dk[n][2 * r], dk[n][2 * r + 1]);
                store_pair(rv, n * 8 + 2 * t4, (int)D, dv[n][2 * r], dv[n][2 * r + 1]);
            }
        } else {
            float *rk = static_cast<float *>(dkp) + b * dksb + h * dksh + j * dksr;
            float *rv = static_cast<float *>(dvp) + b * dvsb + h * dvsh + j * dvsr;
#pragma unroll
            for (int n = 0; n < NB; ++n) {
                store_pair(rk, n * 8 + 2 * t4, (int)D, dk[n][2 * r], dk[n][2 * r + 1]);
                store_pair(rv, n * 8 + 2 * t4, (int)D, dv[n][2 * r], dv[n][2 * r + 1]);
            }
        }
    }
}

// ---------------------------------------------------------------- backward: dQ, dqscale

template <int DP>
__device__ __forceinline__ void flash_bwd_q(void *dqp, long long gradBF16, long long dqsb, long long dqsh,
                                            long long dqsr, float *dqscale, const bf16 *q, const bf16 *k,
                                            const bf16 *v, const bf16 *dob, long long dors, const float *lse,
                                            const float *dsum, const float *qscale, long long bh0, long long H, long long Nq,
                                            long long Nk, long long D, long long qsb, long long qsh, long long qsr,
                                            long long ksb, long long ksh, long long ksr, long long vsb, long long vsh,
                                            long long vsr, double scale) {
    constexpr int NW = kBwdNW, BM = 16 * NW, NT = 32 * NW, LDS = DP + 8, KS = DP / 16, NB = DP / 8;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    bf16 *sQ = reinterpret_cast<bf16 *>(smem_raw);  // [BM][LDS]
    bf16 *sO = sQ + BM * LDS;                         // [BM][LDS] (dO)
    bf16 *sK = sO + BM * LDS;                         // [2][kBN][LDS]
    bf16 *sV = sK + 2 * kBN * LDS;                    // [2][kBN][LDS]

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, t4 = lane & 3, g = lane >> 2;
    const long long bh = bh0 + blockIdx.y, b = bh / H, h = bh - b * H;
    const long long i0 = (long long)blockIdx.x * BM;
    const int dchunks = (int)((D + 7) / 8), ksteps = (int)((D + 15) / 16);
    const bf16 *qh = q + b * qsb + h * qsh;
    const bf16 *kh = k + b * ksb + h * ksh;
    const bf16 *vh = v + b * vsb + h * vsh;
    const bf16 *doh = dob + bh * Nq * dors;
    const long long ntiles = (Nk + kBN - 1) / kBN;

    const int nq = (int)min((long long)BM, Nq - i0);
    load_rows<DP, NT, BM>(sQ, qh + i0 * qsr, qsr, nq, dchunks);
    load_rows<DP, NT, BM>(sO, doh + i0 * dors, dors, nq, dchunks);
    load_rows<DP, NT, kBN>(sK, kh, ksr, (int)min((long long)kBN, Nk), dchunks);
    load_rows<DP, NT, kBN>(sV, vh, vsr, (int)min((long long)kBN, Nk), dchunks);
    cp_async_commit();

    // Rows g and g+8 of the warp's 16: s_i, s_i log2 e, lse_i log2 e, D_i.
    float sr[2], sl2[2], l2[2], dd[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const long long i = i0 + warp * 16 + g + 8 * r;
        sr[r] = 0.f, sl2[r] = 0.f, l2[r] = pos_inf(), dd[r] = 0.f;
        if (i < Nq) {
            sr[r] = (float)scale;
            if (qscale != nullptr) sr[r] = (float)(scale * (double)qscale[bh * Nq + i]);
            sl2[r] = sr[r] * kLog2e;
            l2[r] = lse[bh * Nq + i] * kLog2e;
            dd[r] = dsum[bh * Nq + i];
        }
    }

    float dq[NB][4];
#pragma unroll
    for (int n = 0; n < NB; ++n) dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.f;
    // dqscale sums per row: dS x, dS, P x, P.
    float sa[2] = {0.f, 0.f}, sb[2] = {0.f, 0.f}, sc[2] = {0.f, 0.f}, se[2] = {0.f, 0.f};

    for (long long t = 0; t < ntiles; ++t) {
        const int buf = (int)(t & 1);
        cp_async_wait_all();
        __syncthreads();
        if (t + 1 < ntiles) {
            const long long j1 = (t + 1) * kBN;
            const int nv = (int)min((long long)kBN, Nk - j1);
            load_rows<DP, NT, kBN>(sK + (buf ^ 1) * kBN * LDS, kh + j1 * ksr, ksr, nv, dchunks);
            load_rows<DP, NT, kBN>(sV + (buf ^ 1) * kBN * LDS, vh + j1 * vsr, vsr, nv, dchunks);
            cp_async_commit();
        }
        const bf16 *tK = sK + buf * kBN * LDS;
        const bf16 *tV = sV + buf * kBN * LDS;

        // S = Q K^T and dP = dO V^T: 16 queries x 64 keys per warp.
        float s[8][4], dp[8][4];
#pragma unroll
        for (int n = 0; n < 8; ++n) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
            dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.f;
        }
#pragma unroll
        for (int kk = 0; kk < KS; ++kk) {
            if (kk < ksteps) {
                uint32_t qa[4], oa[4];
                ldsm_x4(qa, addr_a(sQ, LDS, warp * 16, kk * 16, lane));
                ldsm_x4(oa, addr_a(sO, LDS, warp * 16, kk * 16, lane));
#pragma unroll
                for (int np = 0; np < 4; ++np) {
                    uint32_t bb[4];
                    ldsm_x4(bb, addr_bn(tK, LDS, np * 16, kk * 16, lane));
                    mma16816(s[2 * np], qa, bb[0], bb[1]);
                    mma16816(s[2 * np + 1], qa, bb[2], bb[3]);
                    ldsm_x4(bb, addr_bn(tV, LDS, np * 16, kk * 16, lane));
                    mma16816(dp[2 * np], oa, bb[0], bb[1]);
                    mma16816(dp[2 * np + 1], oa, bb[2], bb[3]);
                }
            }
        }
        const int kvalid = (int)min((long long)kBN, Nk - t * kBN);
#pragma unroll
        for (int n = 0; n < 8; ++n) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int r = e >> 1;
                const float x = s[n][e];
                float p = ex2(x * sl2[r] - l2[r]);
                if (kvalid < kBN && n * 8 + 2 * t4 + (e & 1) >= kvalid) p = 0.f;
                const float ds = p * (dp[n][e] - dd[r]);
                sa[r] += ds * x;
                sb[r] += ds;
                sc[r] += p * x;
                se[r] += p;
                s[n][e] = ds;
            }
        }
        // dQ += dS K.
#pragma unroll
        for (int k2 = 0; k2 < kBN / 16; ++k2) {
            uint32_t da[4];
            c_to_a(da, s, k2);
#pragma unroll
            for (int d2 = 0; d2 < KS; ++d2) {
                if (d2 < ksteps) {
                    uint32_t bb[4];
                    ldsm_x4_t(bb, addr_bt(tK, LDS, k2 * 16, d2 * 16, lane));
                    mma16816(dq[2 * d2], da, bb[0], bb[1]);
                    mma16816(dq[2 * d2 + 1], da, bb[2], bb[3]);
                }
            }
        }
    }

#pragma unroll
    for (int r = 0; r < 2; ++r) {
#pragma unroll
        for (int off = 1; off <= 2; off <<= 1) {
            sa[r] += __shfl_xor_sync(0xffffffffu, sa[r], off);
            sb[r] += __shfl_xor_sync(0xffffffffu, sb[r], off);
            sc[r] += __shfl_xor_sync(0xffffffffu, sc[r], off);
            se[r] += __shfl_xor_sync(0xffffffffu, se[r], off);
        }
        const long long i = i0 + warp * 16 + g + 8 * r;
        if (i >= Nq) continue;
        if (gradBF16) {
            bf16 *row = static_cast<bf16 *>(dqp) + b * dqsb + h * dqsh + i * dqsr;
#pragma unroll
            for (int n = 0; n < NB; ++n) store_pair(row, n * 8 + 2 * t4, (int)D, sr[r] * dq[n][2 * r], sr[r] * dq[n][2 * r + 1]);
        } else {
            float *row = static_cast<float *>(dqp) + b * dqsb + h * dqsh + i * dqsr;
#pragma unroll
            for (int n = 0; n < NB; ++n) store_pair(row, n * 8 + 2 * t4, (int)D, sr[r] * dq[n][2 * r], sr[r] * dq[n][2 * r + 1]);
        }
        if (dqscale != nullptr && t4 == 0) {
            dqscale[bh * Nq + i] = (float)(scale * ((double)sa[r] - (double)sb[r] * ((double)sc[r] / (double)se[r])));
        }
    }
}

}  // namespace nori_attention
using namespace nori_attention;

// ---------------------------------------------------------------- entry points

#define NORI_FLASH_FWD(NAME, DP, NW)                                                                               \
    extern "C" __global__ void __launch_bounds__(32 * NW) NAME(                                                    \
        float *out32, bf16 *out16, float *lse, const bf16 *q, const bf16 *k, const bf16 *v, const float *qscale,   \
        long long bh0, long long H, long long Nq, long long Nk, long long D, long long qsb, long long qsh, long long qsr,          \
        long long ksb, long long ksh, long long ksr, long long vsb, long long vsh, long long vsr, double scale,     \
        long long tilesPerSplit, long long outSplit, long long lseSplit) {                                         \
        flash_fwd<DP, NW>(out32, out16, lse, q, k, v, qscale, bh0, H, Nq, Nk, D, qsb, qsh, qsr, ksb, ksh, ksr, vsb, vsh, \
                          vsr, scale, tilesPerSplit, outSplit, lseSplit);                                          \
    }

NORI_FLASH_FWD(nori_attention_fwd_d64_bm64, 64, 4)
NORI_FLASH_FWD(nori_attention_fwd_d64_bm128, 64, 8)
NORI_FLASH_FWD(nori_attention_fwd_d128_bm64, 128, 4)
NORI_FLASH_FWD(nori_attention_fwd_d128_bm128, 128, 8)

#define NORI_FLASH_BWD(DP, BQ)                                                                                      \
    extern "C" __global__ void __launch_bounds__(32 * kBwdNW) nori_attention_bwd_kv_d##DP(                           \
        void *dk, void *dv, long long gradBF16, long long dksb, long long dksh, long long dksr, long long dvsb,      \
        long long dvsh, long long dvsr, const bf16 *q, const bf16 *k, const bf16 *v, const bf16 *dob,              \
        long long dors, const float *lse, const float *dsum, const float *qscale, long long bh0, long long H, long long Nq,         \
        long long Nk, long long D, long long qsb, long long qsh, long long qsr, long long ksb, long long ksh,        \
        long long ksr, long long vsb, long long vsh, long long vsr, double scale) {                                 \
        flash_bwd_kv<DP, BQ>(dk, dv, gradBF16, dksb, dksh, dksr, dvsb, dvsh, dvsr, q, k, v, dob, dors, lse, dsum,  \
                             qscale, bh0, H, Nq, Nk, D, qsb, qsh, qsr, ksb, ksh, ksr, vsb, vsh, vsr, scale);            \
    }                                                                                                               \
    extern "C" __global__ void __launch_bounds__(32 * kBwdNW) nori_attention_bwd_q_d##DP(                            \
        void *dq, long long gradBF16, long long dqsb, long long dqsh, long long dqsr, float *dqscale,              \
        const bf16 *q, const bf16 *k, const bf16 *v, const bf16 *dob, long long dors, const float *lse,            \
        const float *dsum, const float *qscale, long long bh0, long long H, long long Nq, long long Nk, long long D, long long qsb, \
        long long qsh, long long qsr, long long ksb, long long ksh, long long ksr, long long vsb, long long vsh,     \
        long long vsr, double scale) {                                                                              \
        flash_bwd_q<DP>(dq, gradBF16, dqsb, dqsh, dqsr, dqscale, q, k, v, dob, dors, lse, dsum, qscale, bh0, H, Nq, Nk,  \
                        D, qsb, qsh, qsr, ksb, ksh, ksr, vsb, vsh, vsr, scale);                                    \
    }

NORI_FLASH_BWD(64, 64)
NORI_FLASH_BWD(128, 32)

// nori_attention_combine merges nsplit partial results of the split-KV
// forward: lse = log sum_s exp(lse_s), out = sum_s exp(lse_s - lse) out_s.
// One warp per row (rows = B*H*Nq), grid-stride; opart is [nsplit][rows][D],
// lpart [nsplit][rows]. out32 and/or out16 may be null.
extern "C" __global__ void nori_attention_combine(float *out32, bf16 *out16, float *lse, const float *opart,
                                                  const float *lpart, long long rows, long long D, long long nsplit) {
    const int lane = threadIdx.x & 31;
    const long long wpb = blockDim.x >> 5;
    for (long long row = blockIdx.x * wpb + (threadIdx.x >> 5); row < rows; row += (long long)gridDim.x * wpb) {
        float mx = neg_inf();
        for (long long s = 0; s < nsplit; ++s) mx = fmaxf(mx, lpart[s * rows + row]);
        float sum = 0.f;
        for (long long s = 0; s < nsplit; ++s) sum += expf(lpart[s * rows + row] - mx);
        const float L = mx + logf(sum);
        for (long long c = lane; c < D; c += 32) {
            float acc = 0.f;
            for (long long s = 0; s < nsplit; ++s) acc += expf(lpart[s * rows + row] - L) * opart[(s * rows + row) * D + c];
            if (out32 != nullptr) out32[row * D + c] = acc;
            if (out16 != nullptr) out16[row * D + c] = __float2bfloat16_rn(acc);
        }
        if (lane == 0) lse[row] = L;
    }
}

// nori_attention_pack_bf16 rounds a strided float32 [B,H,N,D] view (strides
// sb, sh, sr; unit stride along D) to a contiguous bf16 [B*H*N][Dp] buffer,
// Dp = D rounded up to 8, zeros in columns D..Dp-1. One warp per row,
// grid-stride over the B*H*N rows.
extern "C" __global__ void nori_attention_pack_bf16(bf16 *dst, const float *src, long long H, long long N,
                                                    long long D, long long Dp, long long sb, long long sh,
                                                    long long sr, long long rows) {
    const int lane = threadIdx.x & 31;
    const long long wpb = blockDim.x >> 5;
    for (long long row = blockIdx.x * wpb + (threadIdx.x >> 5); row < rows; row += (long long)gridDim.x * wpb) {
        const long long bh = row / N, i = row - bh * N, b = bh / H, h = bh - b * H;
        const float *s = src + b * sb + h * sh + i * sr;
        bf16 *d = dst + row * Dp;
        for (long long c = lane; c < Dp; c += 32) d[c] = __float2bfloat16_rn(c < D ? s[c] : 0.f);
    }
}

// nori_attention_bwd_pre_f32: for each of the rows = B*H*Nq rows of the
// contiguous float32 dout and out ([rows][D]), dob[row] = bf16(dout[row])
// padded with zeros to Dp columns and dsum[row] = bf16(dout) . out (the
// rounded dout, the one the products see). One warp per row, grid-stride.
extern "C" __global__ void nori_attention_bwd_pre_f32(bf16 *dob, float *dsum, const float *dout, const float *out,
                                                      long long rows, long long D, long long Dp) {
    const int lane = threadIdx.x & 31;
    const long long wpb = blockDim.x >> 5;
    for (long long row = blockIdx.x * wpb + (threadIdx.x >> 5); row < rows; row += (long long)gridDim.x * wpb) {
        float acc = 0.f;
        for (long long c = lane; c < Dp; c += 32) {
            const bf16 x = __float2bfloat16_rn(c < D ? dout[row * D + c] : 0.f);
            dob[row * Dp + c] = x;
            if (c < D) acc += __bfloat162float(x) * out[row * D + c];
        }
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
        if (lane == 0) dsum[row] = acc;
    }
}

// nori_attention_bwd_pre_bf16: dsum[row] = dout . out for bf16 dout and out
// (contiguous [rows][D]). One warp per row, grid-stride.
extern "C" __global__ void nori_attention_bwd_pre_bf16(float *dsum, const bf16 *dout, const bf16 *out,
                                                       long long rows, long long D) {
    const int lane = threadIdx.x & 31;
    const long long wpb = blockDim.x >> 5;
    for (long long row = blockIdx.x * wpb + (threadIdx.x >> 5); row < rows; row += (long long)gridDim.x * wpb) {
        float acc = 0.f;
        for (long long c = lane; c < D; c += 32) acc += __bfloat162float(dout[row * D + c]) * __bfloat162float(out[row * D + c]);
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
        if (lane == 0) dsum[row] = acc;
    }
}
