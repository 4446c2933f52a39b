package avx

import "sync"

// Multi-row LayerNorm: the arithmetic of LayerNorm (norm.go: float64 row
// statistics in vecLanes order, every output computed in float64 and
// rounded once) in one assembly call per block of rows, so that a row
// costs its arithmetic instead of five kernel calls and two Go trees. Every
// level gives LayerNorm's Generic bits. One table per level (nil entries:
// LayerNorm's row-by-row path; only AVX-512 has a multi-row kernel so far,
// four rows' statistics interleaved, layernorm_rows_avx512_amd64.s).
type layerNormKernels struct {
	// fwd: len(rstd) whole rows of n; gb holds gamma then beta as
	// float64 (2n values).
	fwd func(dst, mean, rstd, x []float32, gb []float64, n int, nf, eps float64)
}

var lnTab [3]layerNormKernels

// LayerNormRows computes rows [lo, hi) of dst = (x-mean)*rstd*gamma + beta
// and saves mean[r], rstd[r], exactly as LayerNorm (the same bits), with
// one multi-row kernel call where the level has one. gamma, beta may be
// nil.
func LayerNormRows(dst, mean, rstd, x, gamma, beta []float32, n, lo, hi int, eps float64) {
	f := lnTab[Current()].fwd
	if f == nil || hi <= lo || n == 0 {
		LayerNorm(dst, mean, rstd, x, gamma, beta, n, lo, hi, eps)
		return
	}
	gbp := lnScratch.Get().(*[]float64)
	defer lnScratch.Put(gbp)
	if cap(*gbp) < 2*n {
		*gbp = make([]float64, 2*n)
	}
	gb := (*gbp)[:2*n]
	for j := 0; j < n; j++ {
		gb[j], gb[n+j] = 1, 0
		if gamma != nil {
			gb[j] = float64(gamma[j])
		}
		if beta != nil {
			gb[n+j] = float64(beta[j])
		}
	}
	f(dst[lo*n:hi*n], mean[lo:hi], rstd[lo:hi], x[lo*n:hi*n], gb, n, float64(n), eps)
}

var lnScratch = sync.Pool{New: func() any { return new([]float64) }}
