// encoder.cu: nori's value encoder (nori/encoder.go scalarFeatures and
// nori/model_embed.go inputEncoder.embed), the per-scalar part fused.
//
// For every scalar s of the normalised table (vals [S] float64; NaN marks a
// missing cell, which the learned missing vector replaces), with K RBF
// centres c_k = 10*k/(K-1) and inv = 1/(2 sigma^2):
//
//   |v| = m * 10^e  (e = floor(log10|v|) clamped to [-9, 9]; m = e = 0 at 0)
//   code = 20*[v<0] + 10*[e<0] + |e|                      (FiLM code, 0..39)
//   rbf_k = float32(exp(-(m - c_k)^2 * inv))  (0 for a missing scalar, code 0)
//   h_k = rbf_k * gamma[code, k] + beta[code, k]   (float32 ops; FiLM off: rbf_k)
//   out_k = LayerNorm_K(h)_k * lnw_k + lnb_k
//
// exactly the CPU's composition: mantissa/exponent/code and rbf in float64
// with the CPU's operations (so rbf is the CPU's float32 up to the last bit
// of exp), the FiLM multiply and add in float32 as the CPU's float32 Mul and
// Add, the LayerNorm as kernels/ref.LayerNorm in float64 (the row sums in a
// warp tree instead of in order). gamma/beta are the FiLM tables [40, K]
// (sigmoid and tanh of the FiLM MLP on the 40 codes, computed by the caller).
//
// Kernels:
//   nori_encoder_fwd: one warp per scalar (grid-stride), lane l owns columns
//     l, l+32, ... (K <= 128, held in registers); saves mean and rstd
//     (float32, as ref) for the backward. Block 256, grid min(ceil(S/8), 32 x SMs).
//   nori_encoder_bwd: the gradients of the FiLM tables and of lnw/lnb from
//     dout [S, K] (missing scalars contribute nothing: nori's Where gives
//     them no gradient). Deterministic without atomics: block b owns a fixed
//     range of 32-scalar tiles (the ranges depend on S only). Per tile, each
//     warp recomputes rbf/h/xhat for 4 scalars, does the LayerNorm backward
//     (kernels/ref.LayerNormGrad's formula, float64, dh rounded to float32 as
//     the CPU's) and leaves dh and rbf in shared memory; then thread t < 2K
//     owns accumulator (table t/K, column t%K) of all 40 codes (float64, shared)
//     and adds the tile's scalars in order. lnw/lnb sums stay in each lane's
//     registers and the 8 warps are added in order at the end. Each block
//     writes its float64 partials; nori_encoder_colsum adds the blocks in
//     order. Block 256, dynamic shared 80K*8 + 256K + 128 bytes (K*2*8 less
//     per table without FiLM).
//   nori_encoder_missing_fwd: rows of v [S, E] whose value is NaN <- missing [E].
//   nori_encoder_missing_bwd: dmissing partials = sum of those rows of dv, and
//     the rows zeroed in place (the Where's gradient to v). Column e is owned
//     by one thread per block of rows; flags of 256 rows are staged in shared
//     memory and row chunks without a missing value are skipped.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).

#define ENC_WARPS 8
#define ENC_MAXJ 4  // K <= 32*ENC_MAXJ
#define ENC_T 32    // scalars per backward tile
#define ENC_CODES 40

// Powers of ten 1e-21..1e21: decimal literals are correctly rounded, which is
// what Go's math.Pow10 returns in this range (1/1e{n} for negative n is the
// correctly rounded 10^-n too).
__constant__ double enc_pow10[43] = {1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11,
                                     1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,
                                     1e1,   1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,
                                     1e12,  1e13,  1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21};

__device__ __forceinline__ double enc_p10(int e) { return enc_pow10[e + 21]; }

// enc_scalar is nori's mantissaExponent and filmCode: miss for NaN (then
// code 0, m 0), otherwise m and the code of v. v is finite in nori (filled
// and clipped); an infinity would get e = 9 like a huge value.
__device__ __forceinline__ void enc_scalar(double v, bool &miss, int &code, double &m) {
    miss = isnan(v);
    code = 0;
    m = 0.0;
    if (miss) return;
    const double a = fabs(v);
    if (a == 0.0) return;
    int e = 9;
    if (!isinf(a)) {
        // floor(log10 a) may be off by one near powers of ten; the checks
        // against exact powers correct it as the CPU does. Outside
        // [-20, 20] the clamp below decides anyway.
        e = (int)fmin(fmax(floor(log10(a)), -20.0), 20.0);
        if (a >= enc_p10(e + 1))
            e++;
        else if (a < enc_p10(e))
            e--;
    }
    e = min(max(e, -9), 9);
    m = __ddiv_rn(a, enc_p10(e));
    code = (v < 0.0 ? 20 : 0) + (e < 0 ? 10 - e : e);
}

// enc_centres sets c[j] = 10*k/(K-1) for the lane's columns k = lane + 32j
// (nori's rbfCenterMax*k/(K-1), same operations), once per thread.
__device__ __forceinline__ void enc_centres(double c[ENC_MAXJ], int lane, long long K) {
#pragma unroll
    for (int j = 0; j < ENC_MAXJ; j++) c[j] = __ddiv_rn(__dmul_rn(10.0, (double)(lane + 32 * j)), (double)(K - 1));
}

// enc_rbf is exp(-(m - c)^2 * inv) in the CPU's operation order, rounded to
// float32.
__device__ __forceinline__ float enc_rbf(double m, double c, double inv) {
    const double d = __dsub_rn(m, c);
    return __double2float_rn(exp(__dmul_rn(__dmul_rn(-d, d), inv)));
}

__device__ __forceinline__ double enc_warp_sum(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = __dadd_rn(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// out [S, K] = LayerNorm(FiLM(rbf(vals))); mean, rstd [S] (both 0: not saved);
// gtab/btab [40, K] (both 0: FiLM off); lnw, lnb [K] (0: none).
extern "C" __global__ void __launch_bounds__(256)
    nori_encoder_fwd(float *__restrict__ out, float *__restrict__ mean, float *__restrict__ rstd,
                     const double *__restrict__ vals, const float *__restrict__ gtab, const float *__restrict__ btab,
                     const float *__restrict__ lnw, const float *__restrict__ lnb, long long S, long long K, double inv,
                     double eps) {
    const int lane = threadIdx.x & 31;
    const int kk = (int)K;
    const double rK = (double)K;
    double ctr[ENC_MAXJ];
    enc_centres(ctr, lane, K);
    const long long nw = (long long)gridDim.x * ENC_WARPS;
    for (long long s = (long long)blockIdx.x * ENC_WARPS + (threadIdx.x >> 5); s < S; s += nw) {
        bool miss;
        int code;
        double m;
        enc_scalar(vals[s], miss, code, m);
        float h[ENC_MAXJ];
        double sum = 0.0;
#pragma unroll
        for (int j = 0; j < ENC_MAXJ; j++) {
            const int k = lane + 32 * j;
            h[j] = 0.0f;
            if (k < kk) {
                float hv = miss ? 0.0f : enc_rbf(m, ctr[j], inv);
                if (gtab) hv = __fadd_rn(__fmul_rn(hv, gtab[code * kk + k]), btab[code * kk + k]);
                h[j] = hv;
                sum = __dadd_rn(sum, (double)hv);
            }
        }
        const double mu = __ddiv_rn(enc_warp_sum(sum), rK);
        double q = 0.0;
#pragma unroll
        for (int j = 0; j < ENC_MAXJ; j++) {
            if (lane + 32 * j < kk) {
                const double d = __dsub_rn((double)h[j], mu);
                q = __dadd_rn(q, __dmul_rn(d, d));
            }
        }
        const double rs = __ddiv_rn(1.0, __dsqrt_rn(__dadd_rn(__ddiv_rn(enc_warp_sum(q), rK), eps)));
        if (lane == 0 && mean) {
            mean[s] = __double2float_rn(mu);
            rstd[s] = __double2float_rn(rs);
        }
        float *o = out + s * K;
#pragma unroll
        for (int j = 0; j < ENC_MAXJ; j++) {
            const int k = lane + 32 * j;
            if (k < kk) {
                double y = __dmul_rn(__dsub_rn((double)h[j], mu), rs);
                if (lnw) y = __dmul_rn(y, (double)lnw[k]);
                if (lnb) y = __dadd_rn(y, (double)lnb[k]);
                o[k] = __double2float_rn(y);
            }
        }
    }
}

// Backward. Block b handles tiles [b*tpb, min((b+1)*tpb, ceil(S/32))) and
// writes partials + b*rec: with FiLM (gtab != 0) rec = 82K doubles laid out
// [dgamma 40K][dbeta 40K][dlnw K][dlnb K]; without, rec = 2K ([dlnw][dlnb]).
// mean/rstd are the forward's saved float32 statistics.
extern "C" __global__ void __launch_bounds__(256)
    nori_encoder_bwd(double *__restrict__ partials, const float *__restrict__ dout, const double *__restrict__ vals,
                     const float *__restrict__ gtab, const float *__restrict__ btab, const float *__restrict__ lnw,
                     const float *__restrict__ mean, const float *__restrict__ rstd, long long S, long long K,
                     double inv, long long tpb) {
    extern __shared__ double enc_smem[];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int kk = (int)K;
    const bool film = gtab != nullptr;
    const int accN = film ? ENC_CODES * kk : 0;
    double *accG = enc_smem, *accB = enc_smem + accN;
    float *dhs = reinterpret_cast<float *>(enc_smem + 2 * accN); // [T, K]
    float *rbs = dhs + ENC_T * kk;                                // [T, K]
    int *codes = reinterpret_cast<int *>(rbs + ENC_T * kk);       // [T]
    const double rK = (double)K;
    double ctr[ENC_MAXJ];
    enc_centres(ctr, lane, K);

    for (int i = tid; i < 2 * accN; i += 256) enc_smem[i] = 0.0;
    double dw[ENC_MAXJ], db[ENC_MAXJ];
#pragma unroll
    for (int j = 0; j < ENC_MAXJ; j++) dw[j] = db[j] = 0.0;

    const long long ntiles = (S + ENC_T - 1) / ENC_T;
    const long long t0 = (long long)blockIdx.x * tpb, t1 = min(ntiles, t0 + tpb);
    for (long long tile = t0; tile < t1; tile++) {
        __syncthreads(); // the previous tile's shared data is consumed
        for (int i = warp; i < ENC_T; i += ENC_WARPS) {
            const long long s = tile * ENC_T + i;
            int code = -1;
            if (s < S) {
                bool miss;
                int c;
                double m;
                enc_scalar(vals[s], miss, c, m);
                if (!miss) {
                    code = c;
                    const double mu = (double)mean[s], rs = (double)rstd[s];
                    const float *dy = dout + s * K;
                    float r[ENC_MAXJ];
                    double xh[ENC_MAXJ], g[ENC_MAXJ];
                    double sg = 0.0, sgx = 0.0;
#pragma unroll
                    for (int j = 0; j < ENC_MAXJ; j++) {
                        const int k = lane + 32 * j;
                        r[j] = 0.0f;
                        xh[j] = g[j] = 0.0;
                        if (k < kk) {
                            r[j] = enc_rbf(m, ctr[j], inv);
                            float hv = r[j];
                            if (film) hv = __fadd_rn(__fmul_rn(hv, gtab[c * kk + k]), btab[c * kk + k]);
                            xh[j] = __dmul_rn(__dsub_rn((double)hv, mu), rs);
                            const double dyk = (double)dy[k];
                            g[j] = lnw ? __dmul_rn(dyk, (double)lnw[k]) : dyk;
                            sg = __dadd_rn(sg, g[j]);
                            sgx = __dadd_rn(sgx, __dmul_rn(g[j], xh[j]));
                            dw[j] = __dadd_rn(dw[j], __dmul_rn(dyk, xh[j]));
                            db[j] = __dadd_rn(db[j], dyk);
                        }
                    }
                    const double mg = __ddiv_rn(enc_warp_sum(sg), rK), mgx = __ddiv_rn(enc_warp_sum(sgx), rK);
                    if (film) {
#pragma unroll
                        for (int j = 0; j < ENC_MAXJ; j++) {
                            const int k = lane + 32 * j;
                            if (k < kk) {
                                dhs[i * kk + k] =
                                    __double2float_rn(__dmul_rn(rs, __dsub_rn(__dsub_rn(g[j], mg), __dmul_rn(xh[j], mgx))));
                                rbs[i * kk + k] = r[j];
                            }
                        }
                    }
                }
            }
            if (lane == 0) codes[i] = code;
        }
        __syncthreads();
        if (film && tid < 2 * kk) {
            const int k = tid % kk, which = tid / kk; // 0: gamma table, 1: beta table
            double *acc = which ? accB : accG;
            for (int i = 0; i < ENC_T; i++) {
                const int c = codes[i];
                if (c < 0) continue;
                const double d = (double)dhs[i * kk + k];
                acc[c * kk + k] = __dadd_rn(acc[c * kk + k], which ? d : __dmul_rn(d, (double)rbs[i * kk + k]));
            }
        }
    }
    __syncthreads();
    const long long rec = film ? 82LL * K : 2LL * K;
    double *P = partials + (long long)blockIdx.x * rec;
    for (int i = tid; i < 2 * accN; i += 256) P[i] = enc_smem[i];
    // lnw/lnb: the warps' register sums through shared memory (the tile area
    // holds 64K floats >= 16K doubles), added in warp order.
    double *red = reinterpret_cast<double *>(dhs);
#pragma unroll
    for (int j = 0; j < ENC_MAXJ; j++) {
        const int k = lane + 32 * j;
        if (k < kk) {
            red[warp * 2 * kk + k] = dw[j];
            red[warp * 2 * kk + kk + k] = db[j];
        }
    }
    __syncthreads();
    for (int i = tid; i < 2 * kk; i += 256) {
        double s = 0.0;
        for (int w = 0; w < ENC_WARPS; w++) s = __dadd_rn(s, red[w * 2 * kk + i]);
        P[2 * accN + i] = s;
    }
}

// out[j] = float32(sum over b < nrec, in order, of partials[b*rec + off + j]) for j < width.
extern "C" __global__ void __launch_bounds__(256) nori_encoder_colsum(float *out, const double *partials, long long nrec,
                                                                      long long rec, long long off, long long width) {
    const long long j = blockIdx.x * 256LL + threadIdx.x;
    if (j >= width) return;
    double s = 0.0;
    for (long long b = 0; b < nrec; b++) s = __dadd_rn(s, partials[b * rec + off + j]);
    out[j] = __double2float_rn(s);
}

// v [S, E]: rows whose value is NaN <- missing [E]. One warp per scalar.
extern "C" __global__ void __launch_bounds__(256) nori_encoder_missing_fwd(float *__restrict__ v,
                                                                           const double *__restrict__ vals,
                                                                           const float *__restrict__ missing,
                                                                           long long S, long long E) {
    const int lane = threadIdx.x & 31;
    const long long nw = (long long)gridDim.x * ENC_WARPS;
    for (long long s = (long long)blockIdx.x * ENC_WARPS + (threadIdx.x >> 5); s < S; s += nw) {
        if (!isnan(vals[s])) continue;
        for (long long e = lane; e < E; e += 32) v[s * E + e] = missing[e];
    }
}

// Block (x, y) handles rows [x*rpb, min(S, (x+1)*rpb)) and column e =
// y*256 + t: partials[x*E + e] = sum over its missing rows, in order, of
// dv[s, e], and those dv elements are set to 0.
extern "C" __global__ void __launch_bounds__(256) nori_encoder_missing_bwd(double *__restrict__ partials,
                                                                           float *__restrict__ dv,
                                                                           const double *__restrict__ vals,
                                                                           long long S, long long E, long long rpb) {
    __shared__ int flag[256];
    const int t = threadIdx.x;
    const long long e = blockIdx.y * 256LL + t;
    const long long lo = (long long)blockIdx.x * rpb, hi = min(S, lo + rpb);
    double acc = 0.0;
    for (long long c = lo; c < hi; c += 256) {
        const long long s = c + t;
        const int f = s < hi && isnan(vals[s]);
        flag[t] = f;
        if (__syncthreads_or(f)) {
            const int n = (int)min(256LL, hi - c);
            for (int i = 0; i < n; i++) {
                if (flag[i] && e < E) {
                    float *p = dv + (c + i) * E + e;
                    acc = __dadd_rn(acc, (double)*p);
                    *p = 0.0f;
                }
            }
        }
        __syncthreads(); // flag is rewritten by the next chunk
    }
    if (e < E) partials[blockIdx.x * E + e] = acc;
}
