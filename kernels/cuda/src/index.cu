// index.cu: gathers and scatters along one axis of a contiguous
// [outer, axisLen, inner] float32 tensor.
//
// IndexSelect: dst[o, j, k] = a[o, idx[j], k] for dst [outer, nj, inner]; one
// thread per dst element, grid-stride over the flat index so consecutive
// threads walk k (coalesced reads and writes), the flat index split with
// magic-number divisions (elementwise_layout.cuh).
// IndexAdd: dst[o, idx[j], k] += src[o, j, k], deterministic: the launcher
// inverts idx on the host into the sorted list of touched destinations u
// with, for each, its source rows j in increasing order (CSR). One thread per
// (o, u, k) loads dst once, adds the sources in j order in float32 (exactly
// kernels/ref.IndexAdd's order and rounding, so the bits equal the CPU's),
// and stores once: no atomics, no races, untouched rows are not read.
// Indices are int32 in device memory (checked on the host).
// Launch: block 256; grid min(ceil(elements/256), 32 x SMs); the launcher
// splits outer so each launch has fewer than 2^31 elements.
// Measured speed: not yet run on a GPU (no GPU lent to the session that wrote it).
#include "elementwise_layout.cuh"

// dst [outer, nj, inner] (n = outer*nj*inner elements); nj_div and in_div
// are packed divisors (size | magic << 32).
extern "C" __global__ void __launch_bounds__(256, 4)
    nori_index_select(float *dst, const float *a, const int *idx, long long n, long long nj_div, long long in_div, long long axis_len) {
    const unsigned nj = (unsigned)nj_div, inner = (unsigned)in_div;
    for (unsigned e = NORI_TID; e < (unsigned)n; e += (unsigned)NORI_STEP) {
        const unsigned row = nori_udiv(e, in_div);
        const unsigned k = e - row * inner;
        const unsigned o = nori_udiv(row, nj_div);
        const unsigned j = row - o * nj;
        const long long src = ((long long)o * axis_len + idx[j]) * inner + k;
        dst[e] = a[src];
    }
}

// dst [outer, axis_len, inner], src [outer, nj, inner]; n = outer*nu*inner
// over the nu touched destinations: dest[u] its row, js[start[u]..start[u+1])
// its source rows in increasing order.
extern "C" __global__ void __launch_bounds__(256, 4)
    nori_index_add(float *dst, const float *src, const int *dest, const int *start, const int *js, long long n, long long nu_div,
                   long long in_div, long long axis_len, long long nj) {
    const unsigned nu = (unsigned)nu_div, inner = (unsigned)in_div;
    for (unsigned e = NORI_TID; e < (unsigned)n; e += (unsigned)NORI_STEP) {
        const unsigned row = nori_udiv(e, in_div);
        const unsigned k = e - row * inner;
        const unsigned o = nori_udiv(row, nu_div);
        const unsigned u = row - o * nu;
        float *d = dst + ((long long)o * axis_len + dest[u]) * inner + k;
        const float *s = src + (long long)o * nj * inner + k;
        float acc = *d;
        const int q1 = start[u + 1];
        for (int q = start[u]; q < q1; q++) acc = __fadd_rn(acc, s[(long long)js[q] * inner]);
        *d = acc;
    }
}
