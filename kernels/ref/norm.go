package ref

import "math"

// Row normalisations over contiguous [rows, n] data. Every row statistic is
// accumulated in float64 over j = 0..n-1 in order, and every output element
// is computed in float64 and rounded to T once.

// LayerNorm computes rows [lo, hi) of dst = (x-mean)*rstd*gamma + beta and
// saves mean[r] and rstd[r]. gamma and beta ([n]) may be nil (no scale, no
// shift).
//
// Two-pass statistics: mean = sum(x)/n, then the biased variance
// var = sum((x-mean)^2)/n, rstd = 1/sqrt(var+eps). The second pass uses the
// float64 mean, so the variance has no cancellation error.
func LayerNorm[T Float](dst, mean, rstd, x, gamma, beta []T, n, lo, hi int, eps float64) {
	for r := lo; r < hi; r++ {
		xr, dr := x[r*n:r*n+n], dst[r*n:r*n+n]
		s := 0.0
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(n)
		q := 0.0
		for _, v := range xr {
			d := float64(v) - mu
			q += d * d
		}
		rs := 1 / math.Sqrt(q/float64(n)+eps)
		mean[r], rstd[r] = T(mu), T(rs)
		for j, v := range xr {
			y := (float64(v) - mu) * rs
			if gamma != nil {
				y *= float64(gamma[j])
			}
			if beta != nil {
				y += float64(beta[j])
			}
			dr[j] = T(y)
		}
	}
}

// LayerNormGrad computes rows [lo, hi) of dx for LayerNorm given dy, x and
// the saved mean and rstd (as stored, in T); gamma may be nil. With
// xhat = (x-mean)*rstd and g = dy*gamma:
//
//	dx = rstd * (g - mean(g) - xhat*mean(g*xhat))
//
// When dgamma (dbeta) is non-nil, sum(dy*xhat) (sum(dy)) over rows lo..hi-1,
// in row order, is added to it per column: the caller owns the float64
// accumulators and splits rows into fixed chunks for a deterministic total.
func LayerNormGrad[T Float](dx []T, dgamma, dbeta []float64, dy, x, mean, rstd, gamma []T, n, lo, hi int) {
	for r := lo; r < hi; r++ {
		xr, gr, dr := x[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
		mu, rs := float64(mean[r]), float64(rstd[r])
		sg, sgx := 0.0, 0.0
		for j, v := range xr {
			xh := (float64(v) - mu) * rs
			g := float64(gr[j])
			if gamma != nil {
				g *= float64(gamma[j])
			}
			sg += g
			sgx += g * xh
		}
		mg, mgx := sg/float64(n), sgx/float64(n)
		for j, v := range xr {
			xh := (float64(v) - mu) * rs
			dyj := float64(gr[j])
			g := dyj
			if gamma != nil {
				g *= float64(gamma[j])
			}
			dr[j] = T(rs * (g - mg - xh*mgx))
			if dgamma != nil {
				dgamma[j] += dyj * xh
			}
			if dbeta != nil {
				dbeta[j] += dyj
			}
		}
	}
}

// RMSNorm computes rows [lo, hi) of dst = x*rstd*gamma with
// rstd = 1/sqrt(sum(x^2)/n + eps), saved in rstd[r]; gamma ([n]) may be nil.
func RMSNorm[T Float](dst, rstd, x, gamma []T, n, lo, hi int, eps float64) {
	for r := lo; r < hi; r++ {
		xr, dr := x[r*n:r*n+n], dst[r*n:r*n+n]
		q := 0.0
		for _, v := range xr {
			q += float64(v) * float64(v)
		}
		rs := 1 / math.Sqrt(q/float64(n)+eps)
		rstd[r] = T(rs)
		for j, v := range xr {
			y := float64(v) * rs
			if gamma != nil {
				y *= float64(gamma[j])
			}
			dr[j] = T(y)
		}
	}
}

// RMSNormGrad computes rows [lo, hi) of dx for RMSNorm given dy, x and the
// saved rstd; gamma may be nil. With xhat = x*rstd and g = dy*gamma:
//
//	dx = rstd * (g - xhat*mean(g*xhat))
//
// When dgamma is non-nil, sum(dy*xhat) over rows lo..hi-1, in row order, is
// added to it per column (float64 accumulators owned by the caller).
func RMSNormGrad[T Float](dx []T, dgamma []float64, dy, x, rstd, gamma []T, n, lo, hi int) {
	for r := lo; r < hi; r++ {
		xr, gr, dr := x[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
		rs := float64(rstd[r])
		sgx := 0.0
		for j, v := range xr {
			g := float64(gr[j])
			if gamma != nil {
				g *= float64(gamma[j])
			}
			sgx += g * (float64(v) * rs)
		}
		mgx := sgx / float64(n)
		for j, v := range xr {
			xh := float64(v) * rs
			dyj := float64(gr[j])
			g := dyj
			if gamma != nil {
				g *= float64(gamma[j])
			}
			dr[j] = T(rs * (g - xh*mgx))
			if dgamma != nil {
				dgamma[j] += dyj * xh
			}
		}
	}
}
