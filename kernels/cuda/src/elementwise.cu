// elementwise.cu: unary ops, their gradients, binary ops with broadcasting,
// and where, on float32 (the formulas of kernels/ref/unary.go and
// kernels/ref/elementwise.go).
//
// Algorithm: one thread per element, grid-stride loop. Every op has two
// entries: `_contig` for operands that are all dense in the same order (no
// index math; float4 loads and stores when every pointer is 16-byte aligned,
// a scalar loop otherwise and for the tail), and a strided entry taking the
// coalesced layout of elementwise_layout.cuh (broadcast = stride 0).
// Numerics follow the reference exactly: Unary and UnaryGrad evaluate in
// double from the float32 input and round once (the products and sums are
// written with __dmul_rn/__dadd_rn where the Go formula has a*b+c, so nvcc
// cannot contract them into an FMA that Go, GOAMD64=v1, does not do);
// Add/Sub/Mul/Div are float32 IEEE operations (nvcc's default -prec-div);
// Maximum/Minimum/ReLU/clamps use Go's max/min (NaN wins, +0 > -0); Pow
// rounds double pow once. CUDA's double exp/log/tanh/erf/pow are within 1-2
// ulp of Go's, so results equal the reference after rounding to float32
// except in rare ties (tests allow 1 float32 ulp there).
// Launch: block 256; grid min(ceil(n/256), 32 x SMs) (n/4 for the float4 path).
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).
#include "elementwise_layout.cuh"

// Constants with the bits Go's constant folding gives (kernels/ref/unary.go).
#define GELU_M2C (-1.5957691216057308)   // -2*sqrt(2/pi), 0xbff9884533d43651
#define GELU_C (0.79788456080286541)     // sqrt(2/pi), 0x3fe9884533d43651
#define GELU_K (0.044714999999999998)    // 0.044715, 0x3fa6e4e26d4801f7
#define GELU_3K (0.13414499999999999)    // 3*0.044715, 0x3fc12ba9d1f60179
#define INV_SQRT_2PI (0.3989422804014327)  // 1/sqrt(2 pi), 0x3fd9884533d43651
#define SQRT2 (1.4142135623730951)       // 0x3ff6a09e667f3bcd

__device__ __forceinline__ float f32(double v) { return __double2float_rn(v); }

__device__ __forceinline__ double sigmoid_d(double x) { return 1.0 / __dadd_rn(1.0, exp(-x)); }

// u = sqrt(2/pi)(x + 0.044715x^3) enters as exp(-2u) = exp(M2C*(x + ((K*x)*x)*x)).
__device__ __forceinline__ double gelu_e(double x) {
    const double cube = __dmul_rn(__dmul_rn(__dmul_rn(GELU_K, x), x), x);
    return exp(__dmul_rn(GELU_M2C, __dadd_rn(x, cube)));
}

// ---- unary ops: f(x, p) ----
struct UNeg { static __device__ __forceinline__ float f(float x, double) { return -x; } };
struct UExp { static __device__ __forceinline__ float f(float x, double) { return f32(exp((double)x)); } };
struct ULog { static __device__ __forceinline__ float f(float x, double) { return f32(log((double)x)); } };
struct UTanh { static __device__ __forceinline__ float f(float x, double) { return f32(tanh((double)x)); } };
struct USigmoid { static __device__ __forceinline__ float f(float x, double) { return f32(sigmoid_d((double)x)); } };
struct USiLU {
    static __device__ __forceinline__ float f(float x, double) {
        const double v = x;
        return f32(__dmul_rn(v, sigmoid_d(v)));
    }
};
struct UReLU { static __device__ __forceinline__ float f(float x, double) { return nori_go_max(x, 0.0f); } };
struct UGELUTanh {
    static __device__ __forceinline__ float f(float x, double) {
        const double v = x;
        return f32(v / __dadd_rn(1.0, gelu_e(v)));
    }
};
struct UGELUErf {
    static __device__ __forceinline__ float f(float x, double) {
        const double v = x;
        // Phi(x) = erfc(-x/sqrt2)/2: 1+erf(x/sqrt2) cancels for x << 0.
        return f32(__dmul_rn(__dmul_rn(0.5, v), erfc(-v / SQRT2)));
    }
};
struct USqrt { static __device__ __forceinline__ float f(float x, double) { return f32(sqrt((double)x)); } };
struct USquare { static __device__ __forceinline__ float f(float x, double) { return __fmul_rn(x, x); } };
struct UAbs { static __device__ __forceinline__ float f(float x, double) { return fabsf(x); } };
struct UScale { static __device__ __forceinline__ float f(float x, double p) { return f32(__dmul_rn(p, (double)x)); } };
struct UAddScalar { static __device__ __forceinline__ float f(float x, double p) { return f32(__dadd_rn((double)x, p)); } };
struct UPowScalar { static __device__ __forceinline__ float f(float x, double p) { return f32(pow((double)x, p)); } };
struct UClampMin { static __device__ __forceinline__ float f(float x, double p) { return f32(nori_go_max((double)x, p)); } };
struct UClampMax { static __device__ __forceinline__ float f(float x, double p) { return f32(nori_go_min((double)x, p)); } };

// ---- unary gradients: g(x, y, dy, p) = dy * op'(x); X/Y say which input is read ----
struct GNeg { enum { X = 0, Y = 0 }; static __device__ __forceinline__ float g(float, float, float dy, double) { return -dy; } };
struct GExp {
    enum { X = 0, Y = 1 };
    static __device__ __forceinline__ float g(float, float y, float dy, double) { return f32(__dmul_rn((double)dy, (double)y)); }
};
struct GLog {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double) { return f32((double)dy / (double)x); }
};
struct GTanh {
    enum { X = 0, Y = 1 };
    static __device__ __forceinline__ float g(float, float y, float dy, double) {
        const double t = y;
        return f32(__dmul_rn((double)dy, __dsub_rn(1.0, __dmul_rn(t, t))));
    }
};
struct GSigmoid {
    enum { X = 0, Y = 1 };
    static __device__ __forceinline__ float g(float, float y, float dy, double) {
        const double s = y;
        return f32(__dmul_rn(__dmul_rn((double)dy, s), __dsub_rn(1.0, s)));
    }
};
struct GSiLU {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double) {
        const double v = x;
        const double s = sigmoid_d(v);
        return f32(__dmul_rn(__dmul_rn((double)dy, s), __dadd_rn(1.0, __dmul_rn(v, __dsub_rn(1.0, s)))));
    }
};
struct GReLU {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double) { return x > 0.0f ? dy : 0.0f; }
};
struct GGELUTanh {
    enum { X = 1, Y = 0 };
    // d = s + 2x s(1-s) c (1 + 3k x^2), s = sigmoid(2u), in Go's left-to-right order.
    static __device__ __forceinline__ float g(float x, float, float dy, double) {
        const double v = x;
        const double s = 1.0 / __dadd_rn(1.0, gelu_e(v));
        double t = __dmul_rn(__dmul_rn(__dmul_rn(__dmul_rn(2.0, v), s), __dsub_rn(1.0, s)), GELU_C);
        t = __dmul_rn(t, __dadd_rn(1.0, __dmul_rn(__dmul_rn(GELU_3K, v), v)));
        return f32(__dmul_rn((double)dy, __dadd_rn(s, t)));
    }
};
struct GGELUErf {
    enum { X = 1, Y = 0 };
    // d = Phi(x) + x phi(x), Phi(x) = erfc(-x/sqrt2)/2 (no cancellation for x << 0).
    static __device__ __forceinline__ float g(float x, float, float dy, double) {
        const double v = x;
        const double cdf = __dmul_rn(0.5, erfc(-v / SQRT2));
        const double pdf = __dmul_rn(__dmul_rn(v, exp(__dmul_rn(__dmul_rn(-0.5, v), v))), INV_SQRT_2PI);
        return f32(__dmul_rn((double)dy, __dadd_rn(cdf, pdf)));
    }
};
struct GSqrt {
    enum { X = 0, Y = 1 };
    static __device__ __forceinline__ float g(float, float y, float dy, double) { return f32(__dmul_rn((double)dy, 0.5) / (double)y); }
};
struct GSquare {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double) { return f32(__dmul_rn(__dmul_rn((double)dy, 2.0), (double)x)); }
};
struct GAbs {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double) { return x > 0.0f ? dy : (x < 0.0f ? -dy : 0.0f); }
};
struct GScale {
    enum { X = 0, Y = 0 };
    static __device__ __forceinline__ float g(float, float, float dy, double p) { return f32(__dmul_rn(p, (double)dy)); }
};
struct GAddScalar { enum { X = 0, Y = 0 }; static __device__ __forceinline__ float g(float, float, float dy, double) { return dy; } };
struct GPowScalar {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double p) {
        if (p == 0.0) return 0.0f;
        return f32(__dmul_rn(__dmul_rn((double)dy, p), pow((double)x, p - 1.0)));
    }
};
struct GClampMin {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double p) { return (double)x >= p ? dy : 0.0f; }
};
struct GClampMax {
    enum { X = 1, Y = 0 };
    static __device__ __forceinline__ float g(float x, float, float dy, double p) { return (double)x <= p ? dy : 0.0f; }
};

// ---- binary ops ----
struct BAdd { static __device__ __forceinline__ float f(float a, float b) { return __fadd_rn(a, b); } };
struct BSub { static __device__ __forceinline__ float f(float a, float b) { return __fsub_rn(a, b); } };
struct BMul { static __device__ __forceinline__ float f(float a, float b) { return __fmul_rn(a, b); } };
struct BDiv { static __device__ __forceinline__ float f(float a, float b) { return __fdiv_rn(a, b); } };
struct BMaximum { static __device__ __forceinline__ float f(float a, float b) { return nori_go_max(a, b); } };
struct BMinimum { static __device__ __forceinline__ float f(float a, float b) { return nori_go_min(a, b); } };
struct BEq { static __device__ __forceinline__ float f(float a, float b) { return a == b ? 1.0f : 0.0f; } };
struct BPow { static __device__ __forceinline__ float f(float a, float b) { return f32(pow((double)a, (double)b)); } };

__device__ __forceinline__ bool aligned16(const void *p) { return ((unsigned long long)p & 15) == 0; }

// ---- loop bodies ----
template <class Op>
__device__ __forceinline__ void unary_contig(float *d, const float *a, long long n, double p) {
    long long i0 = NORI_TID;
    const long long step = NORI_STEP;
    if (aligned16(d) && aligned16(a)) {
        const long long n4 = n >> 2;
        for (long long i = i0; i < n4; i += step) {
            const float4 v = reinterpret_cast<const float4 *>(a)[i];
            float4 r;
            r.x = Op::f(v.x, p);
            r.y = Op::f(v.y, p);
            r.z = Op::f(v.z, p);
            r.w = Op::f(v.w, p);
            reinterpret_cast<float4 *>(d)[i] = r;
        }
        i0 += n4 << 2;
    }
    for (long long i = i0; i < n; i += step) d[i] = Op::f(a[i], p);
}

template <class Op>
__device__ __forceinline__ void unary_strided(const NoriIndex<2> &ix, unsigned n, float *d, const float *a,
                                              double p) {
    for (unsigned i = NORI_TID; i < n; i += (unsigned)NORI_STEP) {
        long long off[2];
        ix.offsets(i, off);
        d[off[0]] = Op::f(a[off[1]], p);
    }
}

template <class Op>
__device__ __forceinline__ void grad_contig(float *dx, const float *x, const float *y,
                                            const float *dy, long long n, double p) {
    long long i0 = NORI_TID;
    const long long step = NORI_STEP;
    if (aligned16(dx) && (!Op::X || aligned16(x)) && (!Op::Y || aligned16(y)) && aligned16(dy)) {
        const long long n4 = n >> 2;
        for (long long i = i0; i < n4; i += step) {
            const float4 g = reinterpret_cast<const float4 *>(dy)[i];
            float4 xv = make_float4(0.f, 0.f, 0.f, 0.f), yv = xv;
            if (Op::X) xv = reinterpret_cast<const float4 *>(x)[i];
            if (Op::Y) yv = reinterpret_cast<const float4 *>(y)[i];
            float4 r;
            r.x = Op::g(xv.x, yv.x, g.x, p);
            r.y = Op::g(xv.y, yv.y, g.y, p);
            r.z = Op::g(xv.z, yv.z, g.z, p);
            r.w = Op::g(xv.w, yv.w, g.w, p);
            reinterpret_cast<float4 *>(dx)[i] = r;
        }
        i0 += n4 << 2;
    }
    for (long long i = i0; i < n; i += step) {
        dx[i] = Op::g(Op::X ? x[i] : 0.0f, Op::Y ? y[i] : 0.0f, dy[i], p);
    }
}

template <class Op>
__device__ __forceinline__ void grad_strided(const NoriIndex<4> &ix, unsigned n, float *dx, const float *x,
                                             const float *y, const float *dy, double p) {
    for (unsigned i = NORI_TID; i < n; i += (unsigned)NORI_STEP) {
        long long off[4];
        ix.offsets(i, off);
        dx[off[0]] = Op::g(Op::X ? x[off[1]] : 0.0f, Op::Y ? y[off[2]] : 0.0f, dy[off[3]], p);
    }
}

template <class Op>
__device__ __forceinline__ void binary_contig(float *d, const float *a, const float *b, long long n) {
    long long i0 = NORI_TID;
    const long long step = NORI_STEP;
    if (aligned16(d) && aligned16(a) && aligned16(b)) {
        const long long n4 = n >> 2;
        for (long long i = i0; i < n4; i += step) {
            const float4 u = reinterpret_cast<const float4 *>(a)[i];
            const float4 v = reinterpret_cast<const float4 *>(b)[i];
            float4 r;
            r.x = Op::f(u.x, v.x);
            r.y = Op::f(u.y, v.y);
            r.z = Op::f(u.z, v.z);
            r.w = Op::f(u.w, v.w);
            reinterpret_cast<float4 *>(d)[i] = r;
        }
        i0 += n4 << 2;
    }
    for (long long i = i0; i < n; i += step) d[i] = Op::f(a[i], b[i]);
}

template <class Op>
__device__ __forceinline__ void binary_strided(const NoriIndex<3> &ix, unsigned n, float *d, const float *a,
                                               const float *b) {
    for (unsigned i = NORI_TID; i < n; i += (unsigned)NORI_STEP) {
        long long off[3];
        ix.offsets(i, off);
        d[off[0]] = Op::f(a[off[1]], b[off[2]]);
    }
}

// ---- entry points ----
#define NORI_IX2(p0, p1) {NORI_DIMS, {NORI_STRIDES(p0), NORI_STRIDES(p1)}, (int)rank}
#define NORI_IX3(p0, p1, p2) {NORI_DIMS, {NORI_STRIDES(p0), NORI_STRIDES(p1), NORI_STRIDES(p2)}, (int)rank}
#define NORI_IX4(p0, p1, p2, p3) {NORI_DIMS, {NORI_STRIDES(p0), NORI_STRIDES(p1), NORI_STRIDES(p2), NORI_STRIDES(p3)}, (int)rank}

#define UNARY(name, U, G)                                                                                                      \
    extern "C" __global__ void __launch_bounds__(256, 4)                                                                          \
        nori_elementwise_unary_##name##_contig(float *dst, const float *a, long long n, double p) {                            \
        unary_contig<U>(dst, a, n, p);                                                                                         \
    }                                                                                                                          \
    extern "C" __global__ void __launch_bounds__(256, 4) nori_elementwise_unary_##name(                                          \
        NORI_LAYOUT_PARAMS, float *dst, NORI_STRIDE_PARAMS(dst), const float *a, NORI_STRIDE_PARAMS(a), double p) {            \
        const NoriIndex<2> ix = NORI_IX2(dst, a);                                                                              \
        unary_strided<U>(ix, (unsigned)n, dst, a, p);                                                                          \
    }                                                                                                                          \
    extern "C" __global__ void __launch_bounds__(256, 4) nori_elementwise_grad_##name##_contig(                                  \
        float *dx, const float *x, const float *y, const float *dy, long long n, double p) {                                   \
        grad_contig<G>(dx, x, y, dy, n, p);                                                                                    \
    }                                                                                                                          \
    extern "C" __global__ void __launch_bounds__(256, 4) nori_elementwise_grad_##name(                                           \
        NORI_LAYOUT_PARAMS, float *dx, NORI_STRIDE_PARAMS(dx), const float *x, NORI_STRIDE_PARAMS(x), const float *y,          \
        NORI_STRIDE_PARAMS(y), const float *dy, NORI_STRIDE_PARAMS(dy), double p) {                                            \
        const NoriIndex<4> ix = NORI_IX4(dx, x, y, dy);                                                                        \
        grad_strided<G>(ix, (unsigned)n, dx, x, y, dy, p);                                                                     \
    }

UNARY(neg, UNeg, GNeg)
UNARY(exp, UExp, GExp)
UNARY(log, ULog, GLog)
UNARY(tanh, UTanh, GTanh)
UNARY(sigmoid, USigmoid, GSigmoid)
UNARY(silu, USiLU, GSiLU)
UNARY(relu, UReLU, GReLU)
UNARY(gelu_tanh, UGELUTanh, GGELUTanh)
UNARY(gelu_erf, UGELUErf, GGELUErf)
UNARY(sqrt, USqrt, GSqrt)
UNARY(square, USquare, GSquare)
UNARY(abs, UAbs, GAbs)
UNARY(scale, UScale, GScale)
UNARY(add_scalar, UAddScalar, GAddScalar)
UNARY(pow_scalar, UPowScalar, GPowScalar)
UNARY(clamp_min, UClampMin, GClampMin)
UNARY(clamp_max, UClampMax, GClampMax)

#define BINARY(name, B)                                                                                                        \
    extern "C" __global__ void __launch_bounds__(256, 4)                                                                          \
        nori_elementwise_binary_##name##_contig(float *dst, const float *a, const float *b, long long n) {                     \
        binary_contig<B>(dst, a, b, n);                                                                                        \
    }                                                                                                                          \
    extern "C" __global__ void __launch_bounds__(256, 4) nori_elementwise_binary_##name(                                         \
        NORI_LAYOUT_PARAMS, float *dst, NORI_STRIDE_PARAMS(dst), const float *a, NORI_STRIDE_PARAMS(a), const float *b,        \
        NORI_STRIDE_PARAMS(b)) {                                                                                               \
        const NoriIndex<3> ix = NORI_IX3(dst, a, b);                                                                           \
        binary_strided<B>(ix, (unsigned)n, dst, a, b);                                                                         \
    }

BINARY(add, BAdd)
BINARY(sub, BSub)
BINARY(mul, BMul)
BINARY(div, BDiv)
BINARY(maximum, BMaximum)
BINARY(minimum, BMinimum)
BINARY(eq, BEq)
BINARY(pow, BPow)

// where: dst = cond != 0 ? a : b (a NaN condition is true, as in the reference).
extern "C" __global__ void __launch_bounds__(256, 4)
    nori_elementwise_where_contig(float *dst, const float *cond, const float *a, const float *b, long long n) {
    long long i0 = NORI_TID;
    const long long step = NORI_STEP;
    if (aligned16(dst) && aligned16(cond) && aligned16(a) && aligned16(b)) {
        const long long n4 = n >> 2;
        for (long long i = i0; i < n4; i += step) {
            const float4 c = reinterpret_cast<const float4 *>(cond)[i];
            const float4 u = reinterpret_cast<const float4 *>(a)[i];
            const float4 v = reinterpret_cast<const float4 *>(b)[i];
            float4 r;
            r.x = c.x != 0.0f ? u.x : v.x;
            r.y = c.y != 0.0f ? u.y : v.y;
            r.z = c.z != 0.0f ? u.z : v.z;
            r.w = c.w != 0.0f ? u.w : v.w;
            reinterpret_cast<float4 *>(dst)[i] = r;
        }
        i0 += n4 << 2;
    }
    for (long long i = i0; i < n; i += step) dst[i] = cond[i] != 0.0f ? a[i] : b[i];
}

extern "C" __global__ void __launch_bounds__(256, 4)
    nori_elementwise_where(NORI_LAYOUT_PARAMS, float *dst, NORI_STRIDE_PARAMS(dst), const float *cond, NORI_STRIDE_PARAMS(cond),
                           const float *a, NORI_STRIDE_PARAMS(a), const float *b, NORI_STRIDE_PARAMS(b)) {
    const NoriIndex<4> ix = NORI_IX4(dst, cond, a, b);
    for (unsigned i = NORI_TID; i < (unsigned)n; i += (unsigned)NORI_STEP) {
        long long off[4];
        ix.offsets(i, off);
        dst[off[0]] = cond[off[1]] != 0.0f ? a[off[2]] : b[off[3]];
    }
}
