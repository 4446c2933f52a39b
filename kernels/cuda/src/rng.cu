// rng.cu: Philox4x32-10 random fills, bit-compatible with tensor/rng.go.
//
// Algorithm: counter-based. Element i of (seed, stream) is a pure function of
// (seed, stream, i), computed exactly as tensor.UniformAt / tensor.NormalAt:
// block b = Philox(counter (b lo, b hi, stream lo, stream hi), key (seed lo,
// seed hi)). Uniform: element i uses word i%4 of block i/4, u = w * 2^-32,
// v = lo + (hi-lo)*u in double (no FMA contraction: __dmul_rn/__dadd_rn),
// rounded to float32 once: bit-identical to the CPU. Normal: Box-Muller on
// block i/2, u1 = (double(w0<<32|w1) + 1) * 2^-64, u2 = w2 * 2^-32,
// r = sqrt(-2 log u1), cosine for even i and sine for odd i, v = mean + std*z;
// CUDA's double log/cos/sin may differ from Go's in the last bit of the
// double, so a float32 result can differ by 1 ulp in rare cases.
// Launch: one thread per Philox block (4 uniforms or 2 normals), block 256,
// grid-stride with grid min(ceil(blocks/256), 32 x SMs).
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define TWO_PI 6.2831853071795862  // 2*math.Pi as Go folds it, 0x401921fb54442d18

__device__ __forceinline__ uint4 philox(uint4 c, unsigned k0, unsigned k1) {
#pragma unroll
    for (int r = 0; r < 10; r++) {
        const unsigned hi0 = __umulhi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
        const unsigned hi1 = __umulhi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
        c = make_uint4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    return c;
}

__device__ __forceinline__ uint4 philox_block(unsigned long long seed, unsigned long long stream, unsigned long long b) {
    return philox(make_uint4((unsigned)b, (unsigned)(b >> 32), (unsigned)stream, (unsigned)(stream >> 32)), (unsigned)seed,
                  (unsigned)(seed >> 32));
}

extern "C" __global__ void __launch_bounds__(256) nori_rng_uniform(float *dst, long long n, unsigned long long seed,
                                                                   unsigned long long stream, double lo, double hi) {
    const double span = hi - lo;
    const long long nb = (n + 3) >> 2;
    const bool vec = ((unsigned long long)dst & 15) == 0;
    for (long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x; b < nb; b += (long long)gridDim.x * blockDim.x) {
        const uint4 w = philox_block(seed, stream, (unsigned long long)b);
        const unsigned ws[4] = {w.x, w.y, w.z, w.w};
        float v[4];
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const double u = (double)ws[j] * (1.0 / 4294967296.0);
            v[j] = __double2float_rn(__dadd_rn(lo, __dmul_rn(span, u)));
        }
        const long long i = b << 2;
        if (vec && i + 3 < n) {
            *reinterpret_cast<float4 *>(dst + i) = make_float4(v[0], v[1], v[2], v[3]);
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++)
                if (i + j < n) dst[i + j] = v[j];
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) nori_rng_normal(float *dst, long long n, unsigned long long seed,
                                                                  unsigned long long stream, double mean, double std) {
    const long long nb = (n + 1) >> 1;
    const bool vec = ((unsigned long long)dst & 7) == 0;
    for (long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x; b < nb; b += (long long)gridDim.x * blockDim.x) {
        const uint4 w = philox_block(seed, stream, (unsigned long long)b);
        // u1 in (0, 1]: the log is finite. The conversion rounds to nearest as Go's float64(uint64).
        const double u1 = __dadd_rn((double)(((unsigned long long)w.x << 32) | w.y), 1.0) * (1.0 / 18446744073709551616.0);
        const double u2 = (double)w.z * (1.0 / 4294967296.0);
        const double r = sqrt(-2.0 * log(u1));
        const double a = __dmul_rn(TWO_PI, u2);
        double z[2] = {__dmul_rn(r, cos(a)), __dmul_rn(r, sin(a))};
        float v[2];
#pragma unroll
        for (int j = 0; j < 2; j++) {
            double x = __dadd_rn(mean, __dmul_rn(std, z[j]));
            if (isinf(x)) x = mean;  // as the CPU's guard
            v[j] = __double2float_rn(x);
        }
        const long long i = b << 1;
        if (vec && i + 1 < n) {
            *reinterpret_cast<float2 *>(dst + i) = make_float2(v[0], v[1]);
        } else {
            dst[i] = v[0];
            if (i + 1 < n) dst[i + 1] = v[1];
        }
    }
}
