// attention_short.cu: exact float32 attention for many short key sets
// (feature attention: thousands of sequences of 3 to 128 tokens, small head
// dimension), forward and backward, one launch each.
//
// Semantics: those of attention.cu and kernels/ref (z_ij = s_i q_i . k_j,
// softmax over the Nk keys, lse per query row; the backward's dS, dq, dk, dv
// and the centred dqscale formula), with float32 inputs and outputs, all
// arithmetic in float32 (dot products summed in index order with fma,
// accurate expf/logf). Error against the float64 reference: a few float32
// ulps of the magnitudes summed, about 1e-6 relative to the output scale
// (tests allow 3e-5).
//
// Sequences are the B*H (b, h) pairs; q [B,H,Nq,D], k and v [B,H,Nk,D]
// strided (element strides of b, h and row, unit stride along D), out, dq
// and dout contiguous [B,H,Nq,D], dk and dv contiguous [B,H,Nk,D], lse,
// qscale and dqscale contiguous [B,H,Nq]. Requires Nk <= 128 (four keys per
// lane) and the shared memory of attention_short.go's shortFwdBytes /
// shortBwdBytes.
//
// Forward (nori_attention_short_fwd): a CTA of 4 warps owns G consecutive
// sequences and a chunk of QC query rows of each (grid (ceil(B*H/G),
// ceil(Nq/QC))); the whole K and V of its sequences sit in shared memory
// (row stride D|1, odd, so lanes reading different rows hit different banks).
// One warp per (sequence, query row): each lane computes the scores of keys
// lane, lane+32, ... in registers, warp max and sum (exact two-pass softmax),
// the probabilities go to the warp's shared row, then lanes own output
// columns and sum p_j v_j over the keys.
//
// Backward (nori_attention_short_bwd): a CTA of 4 warps owns G whole
// sequences (grid ceil(B*H/G)), K and V plus dK and dV accumulators in
// shared memory, and walks the queries in chunks of QC <= 32 rows (Q, dO,
// s_i, lse_i and D_i = dout_i . out_i of the chunk in shared memory). In each
// chunk a warp takes either a query row (recomputes P and dS over all keys,
// writes dq_i and dqscale_i) or a key (recomputes P and dS over the chunk's
// rows, one row per lane, and adds its dk_j, dv_j terms to shared memory):
// each output has one owner, chunks in order, so results are deterministic
// without atomics. Work is recomputed (QK^T and dO V^T twice), which costs
// nothing that matters here: the kernel is bound by launches and bandwidth.
//
// Launch: block 128 threads; dynamic shared memory from attention_short.go.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).

namespace {

constexpr int kNW = 4, kNT = 32 * kNW;

__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, off));
    return x;
}
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) x += __shfl_xor_sync(0xffffffffu, x, off);
    return x;
}
__device__ __forceinline__ float dot(const float *a, const float *b, int d) {
    float x = 0.f;
    for (int c = 0; c < d; ++c) x = fmaf(a[c], b[c], x);
    return x;
}
// row_scale returns s_i = scale * qscale[row] (scale alone without qscale).
__device__ __forceinline__ float row_scale(const float *qscale, long long row, double scale) {
    return qscale != nullptr ? (float)(scale * (double)qscale[row]) : (float)scale;
}

// load_kv copies K and V of sequences bh0..bh0+gc-1 into sK, sV ([gc][Nk][ld]).
__device__ __forceinline__ void load_kv(float *sK, float *sV, const float *k, const float *v, long long bh0, int gc,
                                        long long H, int nk, int d, int ld, long long ksb, long long ksh,
                                        long long ksr, long long vsb, long long vsh, long long vsr) {
    for (int gi = 0; gi < gc; ++gi) {
        const long long bh = bh0 + gi, b = bh / H, h = bh - b * H;
        const float *kh = k + b * ksb + h * ksh;
        const float *vh = v + b * vsb + h * vsh;
        for (int idx = threadIdx.x; idx < nk * d; idx += kNT) {
            const int j = idx / d, c = idx - j * d;
            sK[(gi * nk + j) * ld + c] = kh[j * ksr + c];
            sV[(gi * nk + j) * ld + c] = vh[j * vsr + c];
        }
    }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(kNT)
    nori_attention_short_fwd(float *out, float *lse, const float *q, const float *k, const float *v,
                             const float *qscale, long long BH, long long H, long long Nq, long long Nk, long long D,
                             long long qsb, long long qsh, long long qsr, long long ksb, long long ksh,
                             long long ksr, long long vsb, long long vsh, long long vsr, double scale, long long G,
                             long long QC) {
    extern __shared__ float sm[];
    const int nk = (int)Nk, d = (int)D, ld = (int)(D | 1);
    float *sK = sm;                 // [G][nk][ld]
    float *sV = sK + G * nk * ld;   // [G][nk][ld]
    float *sq = sV + G * nk * ld;   // [kNW][ld]
    float *sp = sq + kNW * ld;      // [kNW][nk]
    const long long bh0 = (long long)blockIdx.x * G;
    const int gc = (int)min(G, BH - bh0);
    const long long i0 = (long long)blockIdx.y * QC;
    const int qc = (int)min(QC, Nq - i0);
    load_kv(sK, sV, k, v, bh0, gc, H, nk, d, ld, ksb, ksh, ksr, vsb, vsh, vsr);
    __syncthreads();

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *wq = sq + warp * ld, *wp = sp + warp * nk;
    for (int item = warp; item < gc * qc; item += kNW) {
        const int gi = item / qc;
        const long long i = i0 + (item - gi * qc), bh = bh0 + gi, b = bh / H, h = bh - b * H;
        const long long row = bh * Nq + i;
        const float s = row_scale(qscale, row, scale);
        const float *qr = q + b * qsb + h * qsh + i * qsr;
        for (int c = lane; c < d; c += 32) wq[c] = qr[c];
        __syncwarp();
        const float *Kg = sK + gi * nk * ld, *Vg = sV + gi * nk * ld;
        float z[4], mx = __int_as_float(0xff800000);
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            const int j = lane + 32 * u;
            z[u] = 0.f;
            if (j < nk) {
                z[u] = s * dot(wq, Kg + j * ld, d);
                mx = fmaxf(mx, z[u]);
            }
        }
        mx = warp_max(mx);
        float sum = 0.f;
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            const int j = lane + 32 * u;
            if (j < nk) {
                const float p = expf(z[u] - mx);
                wp[j] = p;
                sum += p;
            }
        }
        sum = warp_sum(sum);
        __syncwarp();
        const float inv = 1.f / sum;
        float *orow = out + row * D;
        for (int c = lane; c < d; c += 32) {
            float acc = 0.f;
            for (int j = 0; j < nk; ++j) acc = fmaf(wp[j], Vg[j * ld + c], acc);
            orow[c] = acc * inv;
        }
        if (lane == 0) lse[row] = mx + logf(sum);
        __syncwarp();  // wq and wp are rewritten by the next item
    }
}

extern "C" __global__ void __launch_bounds__(kNT)
    nori_attention_short_bwd(float *dq, float *dk, float *dv, float *dqscale, const float *dout, const float *q,
                             const float *k, const float *v, const float *qscale, const float *out, const float *lse,
                             long long BH, long long H, long long Nq, long long Nk, long long D, long long qsb,
                             long long qsh, long long qsr, long long ksb, long long ksh, long long ksr, long long vsb,
                             long long vsh, long long vsr, double scale, long long G, long long QC) {
    extern __shared__ float sm[];
    const int nk = (int)Nk, d = (int)D, ld = (int)(D | 1), QCi = (int)QC;
    float *sK = sm;                   // [G][nk][ld]
    float *sV = sK + G * nk * ld;     // [G][nk][ld]
    float *sdK = sV + G * nk * ld;    // [G][nk][ld]
    float *sdV = sdK + G * nk * ld;   // [G][nk][ld]
    float *sQ = sdV + G * nk * ld;    // [G][QC][ld]
    float *sO = sQ + G * QC * ld;     // [G][QC][ld] (dout)
    float *sS = sO + G * QC * ld;     // [G][QC] s_i
    float *sL = sS + G * QC;          // [G][QC] lse_i
    float *sD = sL + G * QC;          // [G][QC] D_i
    float *sp = sD + G * QC;          // [kNW][nk]
    const long long bh0 = (long long)blockIdx.x * G;
    const int gc = (int)min(G, BH - bh0);
    load_kv(sK, sV, k, v, bh0, gc, H, nk, d, ld, ksb, ksh, ksr, vsb, vsh, vsr);
    for (int idx = threadIdx.x; idx < gc * nk * ld; idx += kNT) {
        sdK[idx] = 0.f;
        sdV[idx] = 0.f;
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *wp = sp + warp * nk;

    for (long long i0 = 0; i0 < Nq; i0 += QC) {
        const int qc = (int)min(QC, Nq - i0);
        __syncthreads();  // the previous chunk is done with sQ, sO and the statistics
        for (int gi = 0; gi < gc; ++gi) {
            const long long bh = bh0 + gi, b = bh / H, h = bh - b * H;
            const float *qh = q + b * qsb + h * qsh;
            const float *oh = dout + bh * Nq * D;
            for (int idx = threadIdx.x; idx < qc * d; idx += kNT) {
                const int r = idx / d, c = idx - r * d;
                sQ[(gi * QCi + r) * ld + c] = qh[(i0 + r) * qsr + c];
                sO[(gi * QCi + r) * ld + c] = oh[(i0 + r) * D + c];
            }
        }
        for (int idx = threadIdx.x; idx < gc * qc; idx += kNT) {
            const int gi = idx / qc, r = idx - gi * qc;
            const long long row = (bh0 + gi) * Nq + i0 + r;
            sS[gi * QCi + r] = row_scale(qscale, row, scale);
            sL[gi * QCi + r] = lse[row];
        }
        __syncthreads();
        // D_i = dout_i . out_i, one warp per row.
        for (int item = warp; item < gc * qc; item += kNW) {
            const int gi = item / qc, r = item - gi * qc;
            const long long row = (bh0 + gi) * Nq + i0 + r;
            const float *orow = out + row * D, *gr = sO + (gi * QCi + r) * ld;
            float acc = 0.f;
            for (int c = lane; c < d; c += 32) acc = fmaf(gr[c], orow[c], acc);
            acc = warp_sum(acc);
            if (lane == 0) sD[gi * QCi + r] = acc;
        }
        __syncthreads();

        // A warp takes a query row (dq, dqscale) or a key (dk, dv terms).
        for (int item = warp; item < gc * (qc + nk); item += kNW) {
            if (item < gc * qc) {
                const int gi = item / qc, r = item - gi * qc;
                const long long row = (bh0 + gi) * Nq + i0 + r;
                const float *Qr = sQ + (gi * QCi + r) * ld, *Or = sO + (gi * QCi + r) * ld;
                const float *Kg = sK + gi * nk * ld, *Vg = sV + gi * nk * ld;
                const float s = sS[gi * QCi + r], l = sL[gi * QCi + r], Dd = sD[gi * QCi + r];
                float sa = 0.f, sb = 0.f, sc = 0.f, se = 0.f;
#pragma unroll
                for (int u = 0; u < 4; ++u) {
                    const int j = lane + 32 * u;
                    if (j < nk) {
                        const float x = dot(Qr, Kg + j * ld, d);
                        const float dp = dot(Or, Vg + j * ld, d);
                        const float p = expf(s * x - l);
                        const float ds = p * (dp - Dd);
                        sa = fmaf(ds, x, sa);
                        sb += ds;
                        sc = fmaf(p, x, sc);
                        se += p;
                        wp[j] = ds;
                    }
                }
                sa = warp_sum(sa);
                sb = warp_sum(sb);
                sc = warp_sum(sc);
                se = warp_sum(se);
                __syncwarp();
                float *g = dq + row * D;
                for (int c = lane; c < d; c += 32) {
                    float acc = 0.f;
                    for (int j = 0; j < nk; ++j) acc = fmaf(wp[j], Kg[j * ld + c], acc);
                    g[c] = s * acc;
                }
                if (dqscale != nullptr && lane == 0)
                    dqscale[row] = (float)(scale * ((double)sa - (double)sb * ((double)sc / (double)se)));
                __syncwarp();  // wp is rewritten by the warp's next row
            } else {
                const int it = item - gc * qc, gi = it / nk, j = it - gi * nk;
                const float *Kj = sK + (gi * nk + j) * ld, *Vj = sV + (gi * nk + j) * ld;
                float p = 0.f, w = 0.f;  // P_ij and s_i dS_ij of row lane of the chunk
                if (lane < qc) {
                    const int t = gi * QCi + lane;
                    const float x = dot(sQ + t * ld, Kj, d);
                    const float dp = dot(sO + t * ld, Vj, d);
                    p = expf(sS[t] * x - sL[t]);
                    w = sS[t] * (p * (dp - sD[t]));
                }
                float *gK = sdK + (gi * nk + j) * ld, *gV = sdV + (gi * nk + j) * ld;
                const float *Qg = sQ + gi * QCi * ld, *Og = sO + gi * QCi * ld;
                for (int c0 = 0; c0 < d; c0 += 32) {  // uniform trip count: the shuffles need every lane
                    const int c = c0 + lane;
                    const bool okc = c < d;
                    float av = 0.f, ak = 0.f;
                    for (int r = 0; r < qc; ++r) {
                        const float pr = __shfl_sync(0xffffffffu, p, r);
                        const float wr = __shfl_sync(0xffffffffu, w, r);
                        if (okc) {
                            av = fmaf(pr, Og[r * ld + c], av);
                            ak = fmaf(wr, Qg[r * ld + c], ak);
                        }
                    }
                    if (okc) {
                        gV[c] += av;
                        gK[c] += ak;
                    }
                }
            }
        }
    }
    __syncthreads();
    for (int gi = 0; gi < gc; ++gi) {
        const long long bh = bh0 + gi;
        for (int idx = threadIdx.x; idx < nk * d; idx += kNT) {
            const int j = idx / d, c = idx - j * d;
            dk[(bh * Nk + j) * D + c] = sdK[(gi * nk + j) * ld + c];
            dv[(bh * Nk + j) * D + c] = sdV[(gi * nk + j) * ld + c];
        }
    }
}
