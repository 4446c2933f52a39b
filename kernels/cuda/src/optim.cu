// optim.cu: optimizer updates on float32 parameters and state.
//
// Algorithm: elementwise, one element per thread in a grid-stride loop, or
// four (float4 loads and stores) in the *_vec4 entries, which the launcher
// picks when every pointer is 16-byte aligned; the n%4 tail is then done by
// the first threads. All arithmetic is float64 with explicit round-to-nearest
// intrinsics (__dmul_rn, __dadd_rn, __ddiv_rn, __dsqrt_rn), which nvcc never
// contracts into fused multiply-adds, in exactly kernels/ref's order, and
// each stored value is rounded to float32 once. So the results are the bits
// of kernels/ref.AdamW and kernels/ref.Axpby (Go does not fuse either on
// amd64 below GOAMD64=v3).
//
//   nori_optim_adamw:  kernels/ref.AdamW (m, v stored rounded, then p from them)
//   nori_optim_axpby:  y = a*y + b*x (kernels/ref.Axpby)
//   nori_optim_muon_momentum: Muon's first stage, fused:
//        B = mu*B + G            (ref.Axpby(B, G, mu, 1))
//        U = G + mu*B (Nesterov: ref.Axpby(U=G, B, 1, mu)) or U = B
//        partials[block] = sum of U^2 over the block's fixed chunk (float64)
//   nori_optim_muon_normalize: X = U / (||U||_F + 1e-7); every block adds the
//        partials in the same fixed order, so ||U||_F needs no host round trip
//        and the bits do not depend on the grid of this launch.
//   nori_optim_sumsq: the per-chunk sums of squares alone (NewtonSchulz on
//        a given matrix).
//
// Launch: block 256; grid min(ceil(n/256), 32 x SMs) for the grid-stride
// kernels; the Muon momentum kernel one block per fixed chunk (chosen from n
// alone by the launcher, so the norm is the same on every GPU).
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote
// it). AdamW moves 28 bytes per element and spends ~2 float64 divisions and a
// float64 square root on it: on an H100 that is close to the memory time.

__device__ __forceinline__ long long opt_tid() { return blockIdx.x * (long long)blockDim.x + threadIdx.x; }
__device__ __forceinline__ long long opt_stride() { return (long long)gridDim.x * blockDim.x; }

// ---- AdamW ----

struct AdamWArgs {
    double lr, beta1, beta2, eps, wd, bc1, bc2, omb1, omb2, lrwd;
};

__device__ __forceinline__ void adamw_one(float &p, float g32, float &m, float &v, const AdamWArgs &a) {
    const double g = (double)g32;
    const float mi = __double2float_rn(__dadd_rn(__dmul_rn(a.beta1, (double)m), __dmul_rn(a.omb1, g)));
    const float vi = __double2float_rn(__dadd_rn(__dmul_rn(a.beta2, (double)v), __dmul_rn(__dmul_rn(a.omb2, g), g)));
    m = mi;
    v = vi;
    const double pi = (double)p;
    const double step = __ddiv_rn(__dmul_rn(a.lr, __ddiv_rn((double)mi, a.bc1)),
                                  __dadd_rn(__dsqrt_rn(__ddiv_rn((double)vi, a.bc2)), a.eps));
    p = __double2float_rn(__dsub_rn(pi, __dadd_rn(step, __dmul_rn(a.lrwd, pi))));
}

__device__ __forceinline__ AdamWArgs adamw_args(double lr, double beta1, double beta2, double eps, double wd, double bc1,
                                                double bc2) {
    AdamWArgs a;
    a.lr = lr;
    a.beta1 = beta1;
    a.beta2 = beta2;
    a.eps = eps;
    a.wd = wd;
    a.bc1 = bc1;
    a.bc2 = bc2;
    a.omb1 = __dsub_rn(1.0, beta1); // Go: (1-beta1) at run time
    a.omb2 = __dsub_rn(1.0, beta2);
    a.lrwd = __dmul_rn(lr, wd); // Go: lr*wd*pi = (lr*wd)*pi
    return a;
}

extern "C" __global__ void __launch_bounds__(256)
    nori_optim_adamw(float *__restrict__ p, const float *__restrict__ g, float *__restrict__ m, float *__restrict__ v,
                     long long n, double lr, double beta1, double beta2, double eps, double wd, double bc1, double bc2) {
    const AdamWArgs a = adamw_args(lr, beta1, beta2, eps, wd, bc1, bc2);
    for (long long i = opt_tid(); i < n; i += opt_stride()) {
        float pi = p[i], mi = m[i], vi = v[i];
        adamw_one(pi, g[i], mi, vi, a);
        p[i] = pi;
        m[i] = mi;
        v[i] = vi;
    }
}

extern "C" __global__ void __launch_bounds__(256)
    nori_optim_adamw_vec4(float *__restrict__ p, const float *__restrict__ g, float *__restrict__ m,
                          float *__restrict__ v, long long n, double lr, double beta1, double beta2, double eps,
                          double wd, double bc1, double bc2) {
    const AdamWArgs a = adamw_args(lr, beta1, beta2, eps, wd, bc1, bc2);
    const long long n4 = n >> 2;
    float4 *p4 = reinterpret_cast<float4 *>(p), *m4 = reinterpret_cast<float4 *>(m), *v4 = reinterpret_cast<float4 *>(v);
    const float4 *g4 = reinterpret_cast<const float4 *>(g);
    for (long long i = opt_tid(); i < n4; i += opt_stride()) {
        float4 pp = p4[i], gg = g4[i], mm = m4[i], vv = v4[i];
        adamw_one(pp.x, gg.x, mm.x, vv.x, a);
        adamw_one(pp.y, gg.y, mm.y, vv.y, a);
        adamw_one(pp.z, gg.z, mm.z, vv.z, a);
        adamw_one(pp.w, gg.w, mm.w, vv.w, a);
        p4[i] = pp;
        m4[i] = mm;
        v4[i] = vv;
    }
    const long long i = 4 * n4 + opt_tid();
    if (i < n) {
        float pi = p[i], mi = m[i], vi = v[i];
        adamw_one(pi, g[i], mi, vi, a);
        p[i] = pi;
        m[i] = mi;
        v[i] = vi;
    }
}

// ---- Axpby ----

__device__ __forceinline__ float axpby_one(float y, float x, double a, double b) {
    return __double2float_rn(__dadd_rn(__dmul_rn(a, (double)y), __dmul_rn(b, (double)x)));
}

// y and x may be the same buffer (y = (a+b)*y elementwise); no __restrict__.
extern "C" __global__ void __launch_bounds__(256) nori_optim_axpby(float *y, const float *x, long long n, double a,
                                                                   double b) {
    for (long long i = opt_tid(); i < n; i += opt_stride()) y[i] = axpby_one(y[i], x[i], a, b);
}

extern "C" __global__ void __launch_bounds__(256) nori_optim_axpby_vec4(float *y, const float *x, long long n, double a,
                                                                        double b) {
    const long long n4 = n >> 2;
    float4 *y4 = reinterpret_cast<float4 *>(y);
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    for (long long i = opt_tid(); i < n4; i += opt_stride()) {
        float4 yy = y4[i];
        const float4 xx = x4[i];
        yy.x = axpby_one(yy.x, xx.x, a, b);
        yy.y = axpby_one(yy.y, xx.y, a, b);
        yy.z = axpby_one(yy.z, xx.z, a, b);
        yy.w = axpby_one(yy.w, xx.w, a, b);
        y4[i] = yy;
    }
    const long long i = 4 * n4 + opt_tid();
    if (i < n) y[i] = axpby_one(y[i], x[i], a, b);
}

// ---- Muon ----

// opt_block_sum256 adds one double per thread of a 256-thread block with a
// fixed tree; the result is valid in thread 0.
__device__ __forceinline__ double opt_block_sum256(double v) {
    __shared__ double red[256];
    red[threadIdx.x] = v;
    __syncthreads();
    for (int s = 128; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] = __dadd_rn(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }
    const double r = red[0];
    __syncthreads(); // red may be reused by the caller's next call
    return r;
}

// Block b handles elements [b*chunk, min(n, (b+1)*chunk)). u may not alias
// mom or grad.
extern "C" __global__ void __launch_bounds__(256)
    nori_optim_muon_momentum(double *partials, float *__restrict__ u, float *__restrict__ mom,
                             const float *__restrict__ grad, long long n, double mu, long long nesterov,
                             long long chunk) {
    const long long lo = blockIdx.x * chunk;
    const long long hi = min(n, lo + chunk);
    double ss = 0.0;
    for (long long i = lo + threadIdx.x; i < hi; i += 256) {
        const double g = (double)grad[i];
        const float b = __double2float_rn(__dadd_rn(__dmul_rn(mu, (double)mom[i]), __dmul_rn(1.0, g)));
        mom[i] = b;
        const float x = nesterov ? __double2float_rn(__dadd_rn(__dmul_rn(1.0, g), __dmul_rn(mu, (double)b))) : b;
        u[i] = x;
        ss = __dadd_rn(ss, __dmul_rn((double)x, (double)x));
    }
    ss = opt_block_sum256(ss);
    if (threadIdx.x == 0) partials[blockIdx.x] = ss;
}

// x = u * (1/(sqrt(sum(partials)) + 1e-7)) elementwise; x may be u.
extern "C" __global__ void __launch_bounds__(256) nori_optim_muon_normalize(float *x, const float *u,
                                                                            const double *partials, long long nparts,
                                                                            long long n) {
    __shared__ double inv;
    double s = 0.0;
    for (long long i = threadIdx.x; i < nparts; i += 256) s = __dadd_rn(s, partials[i]);
    s = opt_block_sum256(s);
    if (threadIdx.x == 0) inv = __ddiv_rn(1.0, __dadd_rn(__dsqrt_rn(s), 1e-7));
    __syncthreads();
    const double k = inv;
    for (long long i = opt_tid(); i < n; i += opt_stride()) x[i] = __double2float_rn(__dmul_rn((double)u[i], k));
}

// partials[block] = sum of x^2 over the block's chunk [b*chunk, min(n, (b+1)*chunk))
// in float64 (nori_optim_muon_normalize then adds the partials): the
// Frobenius norm for a Newton-Schulz call without the momentum stage.
extern "C" __global__ void __launch_bounds__(256) nori_optim_sumsq(double *partials, const float *__restrict__ x,
                                                                   long long n, long long chunk) {
    const long long lo = blockIdx.x * chunk;
    const long long hi = min(n, lo + chunk);
    double ss = 0.0;
    for (long long i = lo + threadIdx.x; i < hi; i += 256) {
        const double v = (double)x[i];
        ss = __dadd_rn(ss, __dmul_rn(v, v));
    }
    ss = opt_block_sum256(ss);
    if (threadIdx.x == 0) partials[blockIdx.x] = ss;
}
