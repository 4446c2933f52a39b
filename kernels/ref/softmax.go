package ref

import "math"

// Softmax computes rows [lo, hi) of dst = softmax(x) over rows of n elements
// (dst and x contiguous [rows, n]; dst may alias x), or log-softmax when log
// is set.
//
// Algorithm per row: m = max_j x[j] (exact); s = sum over j in order of
// exp(x[j]-m), in float64; then softmax dst[j] = exp(x[j]-m) / s (the
// exponentials are kept in dst between the passes, so for float32 they are
// rounded once there) and log-softmax dst[j] = (x[j]-m) - log(s) in float64.
// Subtracting the maximum keeps exp from overflowing; a row of all -Inf
// gives NaN.
func Softmax[T Float](dst, x []T, n, lo, hi int, log bool) {
	for r := lo; r < hi; r++ {
		xr, dr := x[r*n:r*n+n], dst[r*n:r*n+n]
		if n == 0 {
			continue
		}
		m := float64(xr[0])
		for _, v := range xr[1:] {
			m = max(m, float64(v))
		}
		s := 0.0
		if log {
			for _, v := range xr {
				s += math.Exp(float64(v) - m)
			}
			ls := math.Log(s)
			for j, v := range xr {
				dr[j] = T(float64(v) - m - ls)
			}
			continue
		}
		for j, v := range xr {
			e := math.Exp(float64(v) - m)
			s += e
			dr[j] = T(e)
		}
		inv := 1 / s
		for j, v := range dr {
			dr[j] = T(float64(v) * inv)
		}
	}
}

// SoftmaxGrad computes rows [lo, hi) of dx from the forward output y and the
// upstream gradient dy (all contiguous [rows, n]).
//
// Softmax: dx[j] = y[j] * (dy[j] - sum_k dy[k]*y[k]).
// Log-softmax: dx[j] = dy[j] - exp(y[j]) * sum_k dy[k].
// The row sums run over k in order in float64; each output is computed in
// float64 and rounded once.
func SoftmaxGrad[T Float](dx, y, dy []T, n, lo, hi int, log bool) {
	for r := lo; r < hi; r++ {
		yr, gr, dr := y[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
		s := 0.0
		if log {
			for _, g := range gr {
				s += float64(g)
			}
			for j, v := range yr {
				dr[j] = T(float64(gr[j]) - math.Exp(float64(v))*s)
			}
			continue
		}
		for j, v := range yr {
			s += float64(gr[j]) * float64(v)
		}
		for j, v := range yr {
			dr[j] = T(float64(v) * (float64(gr[j]) - s))
		}
	}
}
