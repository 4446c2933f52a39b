// pinball.cu: the training loss of nori (nori/train_loss.go QuantileLoss) on
// predicted quantiles pred [n, q] (float32, row-major), targets [n] and levels
// taus [q]:
//
//   pinball  = mean over n*q of rho_tau(y - p),  rho_tau(u) = max(tau*u, (tau-1)*u)
//   crossing = mean over n*(q-1) adjacent pairs of relu(p_i - p_{i+1})^2
//
// and the gradient of g_pin*pinball + g_cross*crossing with respect to pred.
//
// Algorithm: one warp per row (8 rows per 256-thread block); lane l visits
// columns l, l+32, ... of its row. Per element, in float64: the pinball term
// (kernels/ref.PinballSum's arithmetic), the pinball derivative
// (kernels/ref.PinballGrad's: -tau, 1-tau, 0.5-tau at a tie, NaN propagates)
// and, with the crossing penalty, the pair differences p_i - p_{i+1} rounded
// to float32 (as the CPU's float32 Sub) then squared in float64. The gradient
// of element i is
//
//   spin*dpin_i + scross*(2 relu(p_i - p_{i+1}) - 2 relu(p_{i-1} - p_i))
//
// (spin = g_pin/(n*q), scross = g_cross/(n*(q-1)), terms absent at the row
// ends), rounded to float32 once. The neighbours p_{i-1}, p_{i+1} are loads
// that hit the lines the warp just read, so each element costs one DRAM read
// of pred and one write of dpred.
//
// Reduction: deterministic and independent of the device. Each warp reduces
// its row's float64 sums with a fixed shuffle tree, warp 0..7 sums are added
// in order by thread 0 and stored as the block's partials [2] (pinball,
// crossing); nori_pinball_reduce (one block of 1024 threads) adds the
// partials of all blocks in a fixed order. The grid (ceil(n/8) blocks) depends
// on n only, so the bits do not depend on the GPU.
//
// Launch: block 256, grid ceil(n/8); reduce: block 1024, grid 1.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote
// it). Rows of q << 32 leave lanes idle (q=999: 97.6% of lanes busy).

#define PB_ROWS 8 // warps (rows) per block

__device__ __forceinline__ double pb_warp_sum(double v) {
    // Fixed butterfly: every lane ends with the same, order-fixed sum.
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = __dadd_rn(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// pb_dpin is kernels/ref.PinballGrad's derivative of rho with respect to p.
__device__ __forceinline__ double pb_dpin(double y, double p, double tau) {
    if (y > p) return -tau;
    if (y < p) return __dsub_rn(1.0, tau);
    if (y == p) return __dsub_rn(0.5, tau);
    return __dsub_rn(y, p); // NaN
}

template <bool LOSS, bool GRAD, bool CROSS>
__device__ __forceinline__ void pb_rows(double *partials, float *__restrict__ dpred, const float *__restrict__ pred,
                                        const float *__restrict__ target, const float *__restrict__ taus, long long n,
                                        long long q, double spin, double scross) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const long long row = (long long)blockIdx.x * PB_ROWS + warp;
    double lp = 0.0, lc = 0.0;
    if (row < n) {
        const float *p = pred + row * q;
        float *dp = dpred + row * q;
        const double y = (double)target[row];
        const int qi = (int)q;
#pragma unroll 4
        for (int c = lane; c < qi; c += 32) {
            const float pc = p[c];
            const double tau = (double)taus[c];
            if (LOSS) {
                const double u = __dsub_rn(y, (double)pc);
                const double a = __dmul_rn(tau, u), b = __dmul_rn(__dsub_rn(tau, 1.0), u);
                lp = __dadd_rn(lp, a > b ? a : b); // NaN when u is NaN (b is then NaN), as Go's max
            }
            double gc = 0.0;
            if (CROSS) {
                if (c + 1 < qi) {
                    const float d = __fsub_rn(pc, p[c + 1]);
                    const double dd = (double)d;
                    // relu(NaN)^2 is NaN on the CPU (Go's max): propagate it
                    // into the loss; the gradient's NaN comes from dpin.
                    if (LOSS && !(d <= 0.0f)) lc = __dadd_rn(lc, __dmul_rn(dd, dd));
                    if (d > 0.0f) gc = __dmul_rn(2.0, dd);
                }
                if (GRAD && c > 0) {
                    const float d = __fsub_rn(p[c - 1], pc);
                    if (d > 0.0f) gc = __dsub_rn(gc, __dmul_rn(2.0, (double)d));
                }
            }
            if (GRAD) {
                const double g = __dmul_rn(spin, pb_dpin(y, (double)pc, tau));
                dp[c] = CROSS ? __double2float_rn(__dadd_rn(g, __dmul_rn(scross, gc))) : __double2float_rn(g);
            }
        }
    }
    if (!LOSS) return;
    __shared__ double wsum[PB_ROWS][2];
    lp = pb_warp_sum(lp);
    if (CROSS) lc = pb_warp_sum(lc);
    if (lane == 0) {
        wsum[warp][0] = lp;
        wsum[warp][1] = lc;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double sp = 0.0, sc = 0.0;
        for (int w = 0; w < PB_ROWS; w++) {
            sp = __dadd_rn(sp, wsum[w][0]);
            sc = __dadd_rn(sc, wsum[w][1]);
        }
        partials[2 * blockIdx.x] = sp;
        partials[2 * blockIdx.x + 1] = sc;
    }
}

// Loss only: partials[2b] = block b's pinball sum, partials[2b+1] = 0.
extern "C" __global__ void __launch_bounds__(256) nori_pinball_loss(double *partials, const float *pred, const float *target,
                                                                    const float *taus, long long n, long long q) {
    pb_rows<true, false, false>(partials, nullptr, pred, target, taus, n, q, 0.0, 0.0);
}

// Gradient only: dpred = spin * d rho / d pred (kernels/ref.PinballGrad with
// scale spin; the same bits).
extern "C" __global__ void __launch_bounds__(256) nori_pinball_grad(float *dpred, const float *pred, const float *target,
                                                                    const float *taus, long long n, long long q,
                                                                    double spin) {
    pb_rows<false, true, false>(nullptr, dpred, pred, target, taus, n, q, spin, 0.0);
}

// Pinball + crossing sums into partials, no gradient.
extern "C" __global__ void __launch_bounds__(256) nori_pinball_crossing_loss(double *partials, const float *pred,
                                                                             const float *target, const float *taus,
                                                                             long long n, long long q) {
    pb_rows<true, false, true>(partials, nullptr, pred, target, taus, n, q, 0.0, 0.0);
}

// Pinball + crossing sums into partials and the combined gradient into dpred
// in the same pass.
extern "C" __global__ void __launch_bounds__(256) nori_pinball_crossing(double *partials, float *dpred, const float *pred,
                                                                        const float *target, const float *taus,
                                                                        long long n, long long q, double spin,
                                                                        double scross) {
    pb_rows<true, true, true>(partials, dpred, pred, target, taus, n, q, spin, scross);
}

// nori_pinball_reduce adds the nblocks partial pairs in a fixed order:
// thread t sums pairs t, t+1024, ... in order, then a fixed tree over the
// 1024 threads. out[0] = pinball sum, out[1] = crossing sum.
extern "C" __global__ void __launch_bounds__(1024) nori_pinball_reduce(double *out, const double *partials,
                                                                       long long nblocks) {
    __shared__ double sp[1024], sc[1024];
    const int t = threadIdx.x;
    double a = 0.0, b = 0.0;
    for (long long i = t; i < nblocks; i += 1024) {
        a = __dadd_rn(a, partials[2 * i]);
        b = __dadd_rn(b, partials[2 * i + 1]);
    }
    sp[t] = a;
    sc[t] = b;
    __syncthreads();
    for (int s = 512; s > 0; s >>= 1) {
        if (t < s) {
            sp[t] = __dadd_rn(sp[t], sp[t + s]);
            sc[t] = __dadd_rn(sc[t], sc[t + s]);
        }
        __syncthreads();
    }
    if (t == 0) {
        out[0] = sp[0];
        out[1] = sc[0];
    }
}
