// gemm.cu: batched GEMM with a fused epilogue, C = Act(Alpha*op(A)op(B) + Beta*C + Bias) + ResidualScale*R.
//
// Three arithmetics (gemm.go's Precision):
//   - bf16: A and B stored as bf16, tensor cores through mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32,
//     float32 accumulation. Each product of two bf16 is exact in float32; against the float32 data the bf16
//     was rounded from, the error per element is at most (2^-7 + 2^-16 + ~K*2^-23) * sum_k |a_ik||b_kj|
//     (each input off by at most 2^-8 relative), and against the product of the bf16 values themselves only
//     the float32 accumulation error, a few times K*2^-24 * sum_k |a_ik||b_kj| (the tensor core's internal
//     additions truncate, so a few ulps per mma rather than one).
//   - tf32: float32 A and B, each value rounded to tf32 (cvt.rna.tf32.f32: 10-bit mantissa, nearest with ties
//     away) when it leaves shared memory, mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, float32
//     accumulation. Error against the float32 product: at most (2^-10 + 2^-22 + ~K*2^-23) * sum_k |a||b|.
//   - fp32: SIMT, each thread a register block of 8x8 outputs, one fmaf per product in k order: the result of a
//     plain float32 loop with fused multiply-adds (error at most ~K*2^-24 * sum_k |a||b|).
//
// Tensor-core kernels (nori_gemm_{bf16,tf32}_{l,s}_{nn,nt,tn,tt}; the letters say whether A and B are
// transposed in memory): 256 threads = 8 warps arranged 2 (M) x 4 (N). Tile "l" is 128x128 (warp tile 64x32:
// 4x4 mma tiles, 64 accumulators per thread), tile "s" is 64x128 (warp tile 32x32) for memory-bound and
// small products. The k-slice is 64 bytes (32 bf16 or 16 float32: two mma k-steps), staged through
// shared memory in a 4-deep cp.async pipeline (cp.async.cg 16-byte chunks; the source size shrinks at the K/M/N
// edges so the rest is zero-filled). Each operand tile lies in shared memory the way it lies in global memory:
//   - k contiguous (A not transposed, B transposed): rows of 64 bytes, 16-byte chunks XOR-swizzled by
//     (row/2)%4 so that both the cp.async stores and the ldmatrix reads of 8 rows hit 8 distinct bank groups;
//     fragments by ldmatrix.x4 (the same byte pattern serves bf16 and tf32: an 8x8 b16 matrix is 8x4 float32).
//   - m or n contiguous (A transposed, B not transposed): rows of BM (BN) elements padded by 8 elements;
//     bf16 fragments by ldmatrix.x4.trans, tf32 fragments by scalar shared loads (conflict-free: the padded
//     row stride is 8 banks mod 32).
// Operands whose rows are not 16-byte aligned (a leading dimension or base address that is not a multiple of
// 16 bytes: flags bit 2 / 4 clear) are loaded element by element with bounds checks instead of cp.async.
// Grid: x = ceil(M/BM) * ceil(N/BN) tiles in grouped order (raster below), z = min(batch, 65535) (a block
// loops over the batches z, z+gridDim.z, ...). Dynamic shared memory: the larger of 4 stages x (A tile +
// B tile) and the BM x (BN+8) float32 tile the epilogue goes through: "l" 68 KiB, "s" 48-52 KiB depending on
// the transposes (gemm.go's gemmSharedBytes), so two blocks fit on an SM. ptxas -arch=sm_90: 102-128
// registers (capped at 128 by __launch_bounds__(256, 2)), no spills.
//
// SIMT kernel (nori_gemm_fp32_{nn,nt,tn,tt}): 256 threads, 128x128 tile, k-slice 8, each thread 8x8 outputs
// (rows ty*4+{0..3} and 64+ty*4+{0..3}, the same for columns: float4 shared reads without conflicts). The next
// k-slice is read from global memory into registers while the current one is multiplied (two shared buffers,
// one barrier per slice). Static shared memory 16.5 KiB, 121-123 registers, two blocks per SM.
//
// Epilogue (every kernel, fp32 registers): v = alpha*acc + beta*C_old (read only when beta != 0) + bias[n];
// v = act(v) (0 none, 1 ReLU, 2 SiLU v/(1+exp(-v)), 3 GELU-tanh as v/(1+exp(-2u)), u = sqrt(2/pi)(v+0.044715v^3),
// kernels/ref's formula); v += rs*R[m,n]; stored as float32 or bf16 (nearest even). A thread finishes runs of
// 4 columns, with 16-byte accesses to C, R and bias when flags bit 8 says they are aligned for it (the
// tensor-core kernels first pass the accumulators through shared memory to get such runs; the SIMT kernel
// has them in registers). Every row and column is bounds-checked.
//
// Kernel arguments (all 8 bytes): C, A, B, bias, R, M, N, K, lda, ldb, ldc, batch, strideA, strideB, strideC,
// alpha, beta, rs, act, flags (1 C is bf16, 2 A rows 16-byte aligned, 4 B rows aligned, 8 C, R and bias
// aligned for 4-column accesses).
//
// Measured speed: not yet run on a GPU (no GPU was lent to the session that wrote it).
#include <cuda_bf16.h>
#include <stdint.h>

#define GEMM_THREADS 256
#define GEMM_STAGES 4

#define FLAG_OUT_BF16 1
#define FLAG_A_VEC 2
#define FLAG_B_VEC 4
#define FLAG_C_VEC 8

// ---------------------------------------------------------------- PTX wrappers

__device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

// cp.async of 16 bytes, of which the first `bytes` (0..16) come from src and the rest are zeros.
__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr)
                 : "memory");
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr)
                 : "memory");
}

__device__ __forceinline__ int ctaid_x_volatile() {
    int v;
    asm volatile("mov.u32 %0, %%ctaid.x;\n" : "=r"(v));
    return v;
}
__device__ __forceinline__ int tid_x_volatile() {
    int v;
    asm volatile("mov.u32 %0, %%tid.x;\n" : "=r"(v));
    return v;
}

__device__ __forceinline__ uint32_t to_tf32(uint32_t bits) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(__uint_as_float(bits)));
    return r;
}

__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// ---------------------------------------------------------------- epilogue

struct Epilogue {
    float *cf;            // C as float32 (this batch), or null
    __nv_bfloat16 *cb;    // C as bf16 (this batch), or null
    const float *bias;    // [N] or null
    const float *res;     // R (this batch) or null
    long long ldc;
    int M, N;
    float alpha, beta, rs;
    int act;
    bool vec;             // four adjacent columns per access (C, R and bias aligned: flags bit 8)
};

// apply_act: SiLU and GELU-tanh are both v * sigmoid(z), z = v or 2*sqrt(2/pi)*(v + 0.044715 v^3), so one
// expf serves both (and the code is not duplicated per activation).
__device__ __forceinline__ float apply_act(float v, int act) {
    if (act == 1) return v > 0.f || v != v ? v : 0.f; // NaN stays NaN, as kernels/ref's max(v, 0)
    if (act >= 2) {
        const float z = act == 2 ? v : 1.5957691216057308f * (v + 0.044715f * v * v * v);
        return v / (1.f + expf(-z));
    }
    return v;
}

// epi_quad finishes the outputs (row, col..col+3) from their accumulators. col is a multiple of 4.
__device__ __forceinline__ void epi_quad(const Epilogue &e, int row, int col, float4 acc) {
    if (row >= e.M || col >= e.N) return;
    const long long off = (long long)row * e.ldc + col;
    float v[4] = {e.alpha * acc.x, e.alpha * acc.y, e.alpha * acc.z, e.alpha * acc.w};
    if (e.vec && col + 3 < e.N) {
        if (e.beta != 0.f) { // only then is C_old read (it may be garbage otherwise); C is float32 here
            const float4 o = *reinterpret_cast<const float4 *>(e.cf + off);
            v[0] = fmaf(e.beta, o.x, v[0]);
            v[1] = fmaf(e.beta, o.y, v[1]);
            v[2] = fmaf(e.beta, o.z, v[2]);
            v[3] = fmaf(e.beta, o.w, v[3]);
        }
        if (e.bias) {
            const float4 b = __ldg(reinterpret_cast<const float4 *>(e.bias + col));
            v[0] += b.x;
            v[1] += b.y;
            v[2] += b.z;
            v[3] += b.w;
        }
#pragma unroll
        for (int j = 0; j < 4; j++) v[j] = apply_act(v[j], e.act);
        if (e.res) {
            const float4 r = *reinterpret_cast<const float4 *>(e.res + off);
            v[0] = fmaf(e.rs, r.x, v[0]);
            v[1] = fmaf(e.rs, r.y, v[1]);
            v[2] = fmaf(e.rs, r.z, v[2]);
            v[3] = fmaf(e.rs, r.w, v[3]);
        }
        if (e.cb) {
            __nv_bfloat162 lo = __floats2bfloat162_rn(v[0], v[1]), hi = __floats2bfloat162_rn(v[2], v[3]);
            uint2 w;
            w.x = *reinterpret_cast<uint32_t *>(&lo);
            w.y = *reinterpret_cast<uint32_t *>(&hi);
            *reinterpret_cast<uint2 *>(e.cb + off) = w;
        } else {
            *reinterpret_cast<float4 *>(e.cf + off) = make_float4(v[0], v[1], v[2], v[3]);
        }
        return;
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        if (col + j >= e.N) break;
        float x = v[j];
        if (e.beta != 0.f) x = fmaf(e.beta, e.cf[off + j], x);
        if (e.bias) x += __ldg(e.bias + col + j);
        x = apply_act(x, e.act);
        if (e.res) x = fmaf(e.rs, e.res[off + j], x);
        if (e.cb)
            e.cb[off + j] = __float2bfloat16_rn(x);
        else
            e.cf[off + j] = x;
    }
}

__device__ __forceinline__ Epilogue make_epilogue(void *C, const float *bias, const float *R, long long bz, long long M,
                                                  long long N, long long ldc, long long sC, double alpha, double beta,
                                                  double rs, long long act, long long flags) {
    Epilogue e;
    const bool bf = (flags & FLAG_OUT_BF16) != 0;
    e.cf = bf ? nullptr : (float *)C + bz * sC;
    e.cb = bf ? (__nv_bfloat16 *)C + bz * sC : nullptr;
    e.bias = bias;
    e.res = R ? R + bz * sC : nullptr;
    e.ldc = ldc;
    e.M = (int)M;
    e.N = (int)N;
    e.alpha = (float)alpha;
    e.beta = (float)beta;
    e.rs = (float)rs;
    e.act = (int)act;
    e.vec = (flags & FLAG_C_VEC) != 0;
    return e;
}

// ---------------------------------------------------------------- block order

#define GEMM_GROUP_M 8

// raster maps the linear block index to a (row tile, column tile) pair in groups of GEMM_GROUP_M row tiles:
// within a group the row tile varies fastest, then the column tile. Blocks running at the same time then
// share a few row panels of A and column panels of B through L2 (for the model's skinny shapes, N = 128 or
// 384 is 1 or 3 column tiles, so the blocks that read one panel of A run together and A comes from DRAM once).
__device__ __forceinline__ int2 raster(int pid, int tm, int tn) {
    const int per_group = GEMM_GROUP_M * tn;
    const int first = (pid / per_group) * GEMM_GROUP_M;
    const int size = min(tm - first, GEMM_GROUP_M);
    const int in = pid % per_group;
    return make_int2(first + in % size, in / size);
}

// ---------------------------------------------------------------- tensor-core kernels

// Shared-memory tile of one operand for one stage. KC: k contiguous (rows of 64 bytes, swizzled chunks);
// otherwise BK rows of ROWS+8 elements.
template <int ROWS, int ES, bool KC> struct SmemTile {
    static constexpr int BK = 64 / ES;          // k per stage
    static constexpr int E = 16 / ES;           // elements per 16-byte chunk
    static constexpr int PITCH = (ROWS + 8) * ES; // bytes per k row when not KC
    static constexpr int BYTES = KC ? ROWS * 64 : BK * PITCH;
    static constexpr int CHUNKS = KC ? ROWS * 4 : BK * (ROWS / E);
    static_assert(CHUNKS % GEMM_THREADS == 0, "chunks must divide among the threads");
};

__device__ __forceinline__ int swz(int row, int chunk) { return row * 64 + ((chunk ^ ((row >> 1) & 3)) << 4); }

// load_tile stages one operand's k-slice: rows [row0, row0+ROWS) of a rows x K matrix (op(A) or op(B)^T)
// and k in [k0, k0+BK), zero outside. KC: element (r, k) at g[r*ld + k]; otherwise at g[k*ld + r].
template <int ROWS, int ES, bool KC>
__device__ __forceinline__ void load_tile(uint8_t *s, const uint8_t *g, int rows, int K, long long ld, int row0,
                                          int k0, bool vec, int tid) {
    typedef SmemTile<ROWS, ES, KC> T;
    const uint32_t sbase = smem_u32(s);
#pragma unroll
    for (int i = 0; i < T::CHUNKS / GEMM_THREADS; i++) {
        const int c = tid + i * GEMM_THREADS;
        int gr, gk, valid, soff;
        long long goff;
        if (KC) {
            const int r = c >> 2, kc = c & 3;
            gr = row0 + r;
            gk = k0 + kc * T::E;
            valid = gr < rows ? min(max(K - gk, 0), T::E) : 0;
            goff = (long long)gr * ld + gk;
            soff = swz(r, kc);
        } else {
            const int per = ROWS / T::E;
            const int kk = c / per, rc = c % per;
            gk = k0 + kk;
            gr = row0 + rc * T::E;
            valid = gk < K ? min(max(rows - gr, 0), T::E) : 0;
            goff = (long long)gk * ld + gr;
            soff = kk * T::PITCH + rc * 16;
        }
        if (vec) {
            // A zero-byte copy still needs a valid address: point it at the matrix base.
            const uint8_t *src = valid > 0 ? g + goff * ES : g;
            cp_async16(sbase + soff, src, valid * ES);
        } else {
            uint4 v = make_uint4(0, 0, 0, 0);
            uint32_t w[4] = {0, 0, 0, 0};
            if (ES == 2) {
                const uint16_t *p = (const uint16_t *)g + goff;
#pragma unroll
                for (int e = 0; e < 8; e++)
                    if (e < valid) w[e >> 1] |= (uint32_t)p[e] << (16 * (e & 1));
            } else {
                const uint32_t *p = (const uint32_t *)g + goff;
#pragma unroll
                for (int e = 0; e < 4; e++)
                    if (e < valid) w[e] = p[e];
            }
            v.x = w[0];
            v.y = w[1];
            v.z = w[2];
            v.w = w[3];
            *reinterpret_cast<uint4 *>(s + soff) = v;
        }
    }
}

// gemm_tc: one BM x BN tile of C per block, 8 warps of (BM/2) x (BN/4). BF16 selects bf16 m16n8k16 (ES 2)
// or tf32 m16n8k8 (ES 4); both take two k-steps of 32 bytes per 64-byte stage. TA/TB: A stored K x M, B
// stored N x K.
template <int BM, int BN, bool BF16, bool TA, bool TB>
__device__ __forceinline__ void gemm_tc(void *C, const void *A, const void *B, const float *bias, const float *R,
                                        long long M, long long N, long long K, long long lda, long long ldb,
                                        long long ldc, long long batch, long long sA, long long sB, long long sC,
                                        double alpha, double beta, double rs, long long act, long long flags) {
    constexpr int ES = BF16 ? 2 : 4;
    constexpr bool AKC = !TA, BKC = TB;
    typedef SmemTile<BM, ES, AKC> TileA;
    typedef SmemTile<BN, ES, BKC> TileB;
    constexpr int BK = TileA::BK;
    constexpr int STAGE = TileA::BYTES + TileB::BYTES;
    constexpr int WM = BM / 2, WN = BN / 4;
    constexpr int MI = WM / 16, NI = WN / 8;
    static_assert(NI % 2 == 0, "B fragments are loaded two n-tiles at a time");

    extern __shared__ __align__(128) uint8_t smem[];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int2 tile = raster(blockIdx.x, ((int)M + BM - 1) / BM, ((int)N + BN - 1) / BN);
    const int m0 = tile.x * BM, n0 = tile.y * BN;
    const int iM = (int)M, iN = (int)N, iK = (int)K;
    const bool avec = (flags & FLAG_A_VEC) != 0, bvec = (flags & FLAG_B_VEC) != 0;
    const int nk = (iK + BK - 1) / BK;
    const int g8 = lane >> 2, t4 = lane & 3;

    for (long long bz = blockIdx.z; bz < batch; bz += gridDim.z) {
        const uint8_t *ga = (const uint8_t *)A + bz * sA * ES;
        const uint8_t *gb = (const uint8_t *)B + bz * sB * ES;

        float acc[MI][NI][4];
#pragma unroll
        for (int i = 0; i < MI; i++)
#pragma unroll
            for (int j = 0; j < NI; j++)
#pragma unroll
                for (int q = 0; q < 4; q++) acc[i][j][q] = 0.f;

        auto load_stage = [&](int stage, int kt) {
            uint8_t *s = smem + stage * STAGE;
            load_tile<BM, ES, AKC>(s, ga, iM, iK, lda, m0, kt * BK, avec, tid);
            load_tile<BN, ES, BKC>(s + TileA::BYTES, gb, iN, iK, ldb, n0, kt * BK, bvec, tid);
        };

#pragma unroll
        for (int s = 0; s < GEMM_STAGES - 1; s++) {
            if (s < nk) load_stage(s, s);
            cp_async_commit();
        }

        for (int kt = 0; kt < nk; kt++) {
            cp_async_wait<GEMM_STAGES - 2>();
            __syncthreads(); // slice kt is in shared memory; every warp is done with slice kt-1's stage
            {
                const int pf = kt + GEMM_STAGES - 1;
                if (pf < nk) load_stage(pf % GEMM_STAGES, pf);
                cp_async_commit();
            }
            const uint8_t *sa = smem + (kt % GEMM_STAGES) * STAGE;
            const uint8_t *sb = sa + TileA::BYTES;
            const uint32_t ua = smem_u32(sa), ub = smem_u32(sb);

#pragma unroll
            for (int ks = 0; ks < 2; ks++) {
                uint32_t af[MI][4], bfr[NI][2];
                // A fragments (m16 x 32 bytes of k).
#pragma unroll
                for (int mi = 0; mi < MI; mi++) {
                    const int mb = wm * WM + mi * 16;
                    if (AKC) {
                        const int r = mb + (lane & 7) + 8 * ((lane >> 3) & 1);
                        ldmatrix_x4(af[mi], ua + swz(r, ks * 2 + (lane >> 4)));
                    } else if (BF16) {
                        const int k = ks * 16 + (lane & 7) + 8 * (lane >> 4);
                        const int m = mb + 8 * ((lane >> 3) & 1);
                        ldmatrix_x4_trans(af[mi], ua + k * TileA::PITCH + m * ES);
                    } else {
                        const float *p = (const float *)sa;
                        constexpr int P = BM + 8;
                        const int k = ks * 8 + t4, m = mb + g8;
                        af[mi][0] = __float_as_uint(p[k * P + m]);
                        af[mi][1] = __float_as_uint(p[k * P + m + 8]);
                        af[mi][2] = __float_as_uint(p[(k + 4) * P + m]);
                        af[mi][3] = __float_as_uint(p[(k + 4) * P + m + 8]);
                    }
                    if (!BF16) {
#pragma unroll
                        for (int q = 0; q < 4; q++) af[mi][q] = to_tf32(af[mi][q]);
                    }
                }
                // B fragments (n8 x 32 bytes of k), two n-tiles at a time.
#pragma unroll
                for (int nj = 0; nj < NI / 2; nj++) {
                    const int nb = wn * WN + nj * 16;
                    if (BKC) {
                        uint32_t r4[4];
                        const int r = nb + (lane & 7) + 8 * (lane >> 4);
                        ldmatrix_x4(r4, ub + swz(r, ks * 2 + ((lane >> 3) & 1)));
                        bfr[2 * nj][0] = r4[0];
                        bfr[2 * nj][1] = r4[1];
                        bfr[2 * nj + 1][0] = r4[2];
                        bfr[2 * nj + 1][1] = r4[3];
                    } else if (BF16) {
                        uint32_t r4[4];
                        const int k = ks * 16 + (lane & 7) + 8 * ((lane >> 3) & 1);
                        const int n = nb + 8 * (lane >> 4);
                        ldmatrix_x4_trans(r4, ub + k * TileB::PITCH + n * ES);
                        bfr[2 * nj][0] = r4[0];
                        bfr[2 * nj][1] = r4[1];
                        bfr[2 * nj + 1][0] = r4[2];
                        bfr[2 * nj + 1][1] = r4[3];
                    } else {
                        const float *p = (const float *)sb;
                        constexpr int P = BN + 8;
                        const int k = ks * 8 + t4;
#pragma unroll
                        for (int h = 0; h < 2; h++) {
                            const int n = nb + h * 8 + g8;
                            bfr[2 * nj + h][0] = __float_as_uint(p[k * P + n]);
                            bfr[2 * nj + h][1] = __float_as_uint(p[(k + 4) * P + n]);
                        }
                    }
                    if (!BF16) {
#pragma unroll
                        for (int h = 0; h < 2; h++) {
                            bfr[2 * nj + h][0] = to_tf32(bfr[2 * nj + h][0]);
                            bfr[2 * nj + h][1] = to_tf32(bfr[2 * nj + h][1]);
                        }
                    }
                }
#pragma unroll
                for (int mi = 0; mi < MI; mi++)
#pragma unroll
                    for (int ni = 0; ni < NI; ni++) {
                        if (BF16)
                            mma_bf16(acc[mi][ni], af[mi], bfr[ni][0], bfr[ni][1]);
                        else
                            mma_tf32(acc[mi][ni], af[mi], bfr[ni][0], bfr[ni][1]);
                    }
            }
        }

        // Epilogue through shared memory: the accumulators go to a BM x (BN+8) float32 tile (2 wavefronts per
        // float2 store: the optimum), then each thread finishes runs of 4 columns, so that a warp reads and
        // writes C (and R) 512 contiguous bytes at a time.
        cp_async_wait_all();
        __syncthreads(); // every warp is done with the pipeline's stages
        float *cs = reinterpret_cast<float *>(smem);
        constexpr int CP = BN + 8;
#pragma unroll
        for (int mi = 0; mi < MI; mi++)
#pragma unroll
            for (int ni = 0; ni < NI; ni++) {
                const int r = wm * WM + mi * 16 + g8, c = wn * WN + ni * 8 + 2 * t4;
                *reinterpret_cast<float2 *>(cs + r * CP + c) = make_float2(acc[mi][ni][0], acc[mi][ni][1]);
                *reinterpret_cast<float2 *>(cs + (r + 8) * CP + c) = make_float2(acc[mi][ni][2], acc[mi][ni][3]);
            }
        __syncthreads();
        const Epilogue e = make_epilogue(C, bias, R, bz, M, N, ldc, sC, alpha, beta, rs, act, flags);
#pragma unroll 2
        for (int idx = tid; idx < BM * BN / 4; idx += GEMM_THREADS) {
            const int r = idx / (BN / 4), c = (idx % (BN / 4)) * 4;
            epi_quad(e, m0 + r, n0 + c, *reinterpret_cast<const float4 *>(cs + r * CP + c));
        }
        __syncthreads(); // the next batch's prologue overwrites the tile
    }
}

#define GEMM_PARAMS                                                                                                 \
    void *C, const void *A, const void *B, const float *bias, const float *R, long long M, long long N, long long K, \
        long long lda, long long ldb, long long ldc, long long batch, long long sA, long long sB, long long sC,     \
        double alpha, double beta, double rs, long long act, long long flags
#define GEMM_ARGS C, A, B, bias, R, M, N, K, lda, ldb, ldc, batch, sA, sB, sC, alpha, beta, rs, act, flags

#define GEMM_TC(prec, tile, BM, BN, MINB, BF, tr, TA, TB)                                                    \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS, MINB) nori_gemm_##prec##_##tile##_##tr(GEMM_PARAMS) { \
        gemm_tc<BM, BN, BF, TA, TB>(GEMM_ARGS);                                                                \
    }
#define GEMM_TC4(prec, tile, BM, BN, MINB, BF)                \
    GEMM_TC(prec, tile, BM, BN, MINB, BF, nn, false, false) \
    GEMM_TC(prec, tile, BM, BN, MINB, BF, nt, false, true)  \
    GEMM_TC(prec, tile, BM, BN, MINB, BF, tn, true, false)  \
    GEMM_TC(prec, tile, BM, BN, MINB, BF, tt, true, true)

GEMM_TC4(bf16, l, 128, 128, 2, true)
GEMM_TC4(bf16, s, 64, 128, 2, true)
GEMM_TC4(tf32, l, 128, 128, 2, false)
GEMM_TC4(tf32, s, 64, 128, 2, false)

// ---------------------------------------------------------------- SIMT fp32

#define F32_BM 128
#define F32_BN 128
#define F32_BK 8
#define F32_PITCH (128 + 4) // floats per k row: 4-bank shift per row keeps the transposing stores conflict-free

// F32Operand walks one operand's k-slices: this thread's 4 elements of a slice are (r_i, k) with
// KC (k contiguous, element (r, k) at g[r*ld + k]): k = tid%8, r_i = tid/8 + 32i (a warp reads 4 rows x 32 bytes);
// otherwise (element at g[k*ld + r]): k = tid/32, r_i = tid%32 + 32i (a warp reads 128 contiguous bytes).
// Elements outside the rows x K matrix read as zero.
// Only the pointer, k and the row mask live in registers; ld and K are re-read from the kernel parameters
// (constant bank), which keeps the kernel under 128 registers.
template <bool KC> struct F32Operand {
    const float *p; // element (r_0, k) of the current slice
    int k;          // this thread's k in the current slice
    unsigned rowok; // bit i: r_i < rows

    __device__ __forceinline__ F32Operand(const float *g, int rows, long long ld, int row0, int tid) {
        const int r = row0 + (KC ? (tid >> 3) : (tid & 31));
        k = KC ? (tid & 7) : (tid >> 5);
        p = g + (KC ? (long long)r * ld + k : (long long)k * ld + r);
        rowok = 0;
#pragma unroll
        for (int i = 0; i < 4; i++)
            if (r + 32 * i < rows) rowok |= 1u << i;
    }
    __device__ __forceinline__ void fetch(float (&v)[4], long long ld, int K) const {
        const long long step = KC ? 32 * ld : 32; // from r_i to r_{i+1}
#pragma unroll
        for (int i = 0; i < 4; i++) v[i] = ((rowok >> i) & 1) && k < K ? __ldg(p + i * step) : 0.f;
    }
    __device__ __forceinline__ void next(long long ld) {
        p += KC ? F32_BK : F32_BK * ld;
        k += F32_BK;
    }
};

template <bool KC> __device__ __forceinline__ void f32_stash(float *s, const float (&v)[4], int tid) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int r = (KC ? (tid >> 3) : (tid & 31)) + 32 * i;
        const int k = KC ? (tid & 7) : (tid >> 5);
        s[k * F32_PITCH + r] = v[i];
    }
}

template <bool TA, bool TB>
__device__ __forceinline__ void gemm_f32(void *C, const void *A, const void *B, const float *bias, const float *R,
                                         long long M, long long N, long long K, long long lda, long long ldb,
                                         long long ldc, long long batch, long long sA, long long sB, long long sC,
                                         double alpha, double beta, double rs, long long act, long long flags) {
    __shared__ __align__(16) float As[2][F32_BK * F32_PITCH];
    __shared__ __align__(16) float Bs[2][F32_BK * F32_PITCH];
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int2 tile = raster(blockIdx.x, ((int)M + F32_BM - 1) / F32_BM, ((int)N + F32_BN - 1) / F32_BN);
    const int m0 = tile.x * F32_BM, n0 = tile.y * F32_BN;
    const int iM = (int)M, iN = (int)N, iK = (int)K;
    const int nk = (iK + F32_BK - 1) / F32_BK;

    for (long long bz = blockIdx.z; bz < batch; bz += gridDim.z) {
        const float *ga = (const float *)A + bz * sA;
        const float *gb = (const float *)B + bz * sB;
        float acc[8][8];
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int j = 0; j < 8; j++) acc[i][j] = 0.f;

        F32Operand<!TA> opa(ga, iM, lda, m0, tid);
        F32Operand<TB> opb(gb, iN, ldb, n0, tid);
        float ra[4], rb[4];
        opa.fetch(ra, lda, iK);
        opb.fetch(rb, ldb, iK);
        f32_stash<!TA>(As[0], ra, tid);
        f32_stash<TB>(Bs[0], rb, tid);
        __syncthreads();

        for (int kt = 0; kt < nk; kt++) {
            const int cur = kt & 1;
            const bool more = kt + 1 < nk;
            if (more) {
                opa.next(lda);
                opb.next(ldb);
                opa.fetch(ra, lda, iK);
                opb.fetch(rb, ldb, iK);
            }
            const float *sa = As[cur], *sb = Bs[cur];
// Unrolled by 2, not 8: a full unroll makes ptxas spill under the 128-register cap of two blocks per SM.
#pragma unroll 2
            for (int k = 0; k < F32_BK; k++) {
                float a[8], b[8];
                const float4 a0 = *reinterpret_cast<const float4 *>(sa + k * F32_PITCH + ty * 4);
                const float4 a1 = *reinterpret_cast<const float4 *>(sa + k * F32_PITCH + 64 + ty * 4);
                const float4 b0 = *reinterpret_cast<const float4 *>(sb + k * F32_PITCH + tx * 4);
                const float4 b1 = *reinterpret_cast<const float4 *>(sb + k * F32_PITCH + 64 + tx * 4);
                a[0] = a0.x, a[1] = a0.y, a[2] = a0.z, a[3] = a0.w;
                a[4] = a1.x, a[5] = a1.y, a[6] = a1.z, a[7] = a1.w;
                b[0] = b0.x, b[1] = b0.y, b[2] = b0.z, b[3] = b0.w;
                b[4] = b1.x, b[5] = b1.y, b[6] = b1.z, b[7] = b1.w;
#pragma unroll
                for (int i = 0; i < 8; i++)
#pragma unroll
                    for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
            }
            if (more) {
                // The other buffer was last read in iteration kt-1, before that iteration's barrier.
                f32_stash<!TA>(As[cur ^ 1], ra, tid);
                f32_stash<TB>(Bs[cur ^ 1], rb, tid);
            }
            __syncthreads();
        }

        // Each thread's outputs are runs of 4 columns: a half-warp writes 256 contiguous bytes of a row. The
        // block and thread indices are read again here (volatile reads the compiler cannot merge with the
        // first ones), so that the epilogue's addresses are not computed before the main loop and kept live
        // through it: that made ptxas spill at the 128-register cap.
        const int2 et = raster(ctaid_x_volatile(), ((int)M + F32_BM - 1) / F32_BM, ((int)N + F32_BN - 1) / F32_BN);
        const int etid = tid_x_volatile(), ex = etid & 15, ey = etid >> 4;
        const int em0 = et.x * F32_BM, en0 = et.y * F32_BN;
        const Epilogue e = make_epilogue(C, bias, R, bz, M, N, ldc, sC, alpha, beta, rs, act, flags);
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int row = em0 + (i < 4 ? ey * 4 + i : 64 + ey * 4 + i - 4);
            epi_quad(e, row, en0 + ex * 4, make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
            epi_quad(e, row, en0 + 64 + ex * 4, make_float4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]));
        }
        // The loop's last barrier already separates this batch's reads from the next batch's first stores.
    }
}

#define GEMM_F32(tr, TA, TB)                                                                       \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS, 2) nori_gemm_fp32_##tr(GEMM_PARAMS) { \
        gemm_f32<TA, TB>(GEMM_ARGS);                                                                \
    }
GEMM_F32(nn, false, false)
GEMM_F32(nt, false, true)
GEMM_F32(tn, true, false)
GEMM_F32(tt, true, true)
