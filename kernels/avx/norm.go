package avx

import (
	"math"
	"sync/atomic"
)

// (The float64(...) conversions in the Go code below keep the compiler from
// fusing a product into the following addition: the assembly rounds both.)

// LayerNorm and RMSNorm, forward and backward, float32 data: ref's
// algorithms (norm.go there: two-pass float64 statistics, every output
// computed in float64 from the float32 inputs and rounded once, the same
// formulas in the same operation order) with the row sums in vecLanes
// order (softmax.go) instead of sequential, and sums of products fused
// (FMA). Outputs therefore match ref to about 1e-15 relative before the
// final rounding (TestNormVsRef: within 1 float32 ulp, almost always
// equal), and are bit-identical at every level. A nil gamma (beta) is
// applied as a multiplication by 1 (addition of 0), which changes nothing
// but the sign of a zero result.
//
// RMSNorm is LayerNorm's kernels with mean 0 (x - 0 = x exactly) and no
// beta, so both share: sumSqDiff, normOut, gradSums, normGradOut, accumDG,
// accumDB.

func sumSqDiffGo(acc *vecLanes, x []float32, mu float64) {
	for j, v := range x {
		d := float64(v) - mu
		acc[j&15] = math.FMA(d, d, acc[j&15])
	}
}

// normOutGo: dst = ((x-mu)*rs)*gamma + beta.
func normOutGo(dst, x, gamma, beta []float32, mu, rs float64) {
	for j, v := range x {
		dst[j] = float32(float64((float64(v)-mu)*rs*float64(gamma[j])) + float64(beta[j]))
	}
}

// gradSumsGo: sg += g, sgx += g*xh with g = dy*gamma, xh = (x-mu)*rs.
func gradSumsGo(sg, sgx *vecLanes, dy, x, gamma []float32, mu, rs float64) {
	for j, v := range x {
		xh := (float64(v) - mu) * rs
		g := float64(dy[j]) * float64(gamma[j])
		sg[j&15] += g
		sgx[j&15] = math.FMA(g, xh, sgx[j&15])
	}
}

// normGradOutGo: dx = rs*((g - mg) - xh*mgx).
func normGradOutGo(dx, dy, x, gamma []float32, mu, rs, mg, mgx float64) {
	for j, v := range x {
		xh := (float64(v) - mu) * rs
		g := float64(dy[j]) * float64(gamma[j])
		dx[j] = float32(rs * (g - mg - float64(xh*mgx)))
	}
}

// accumDGGo: dg += dy*xh.
func accumDGGo(dg []float64, dy, x []float32, mu, rs float64) {
	for j, v := range x {
		dg[j] += float64(float64(dy[j]) * ((float64(v) - mu) * rs))
	}
}

func accumDBGo(db []float64, dy []float32) {
	for j, v := range dy {
		db[j] += float64(v)
	}
}

// vecConst1/vecConst0 return read-only slices of n ones / zeros (standing
// in for a nil gamma / beta), grown on demand and shared.
var vecOnesP, vecZerosP atomic.Pointer[[]float32]

func vecFilled(p *atomic.Pointer[[]float32], n int, v float32) []float32 {
	if s := p.Load(); s != nil && len(*s) >= n {
		return (*s)[:n]
	}
	s := make([]float32, max(n, 1024))
	for i := range s {
		s[i] = v
	}
	p.Store(&s)
	return s[:n]
}

func vecOnes(n int) []float32  { return vecFilled(&vecOnesP, n, 1) }
func vecZeros(n int) []float32 { return vecFilled(&vecZerosP, n, 0) }

func sumSqDiff(k *vecKernels, acc *vecLanes, x []float32, mu float64) float64 {
	*acc = vecLanes{}
	b := vecBulk(len(x))
	k.sumSqDiff(acc, x[:b], mu)
	for j := b; j < len(x); j++ {
		d := float64(x[j]) - mu
		acc[j&15] = math.FMA(d, d, acc[j&15])
	}
	return acc.tree()
}

func normRowOut(k *vecKernels, dst, x, gamma, beta []float32, mu, rs float64) {
	b := vecBulk(len(x))
	k.normOut(dst[:b], x[:b], gamma[:b], beta[:b], mu, rs)
	normOutGo(dst[b:], x[b:], gamma[b:], beta[b:], mu, rs)
}

// normRowGrad writes dx for one row and adds its dgamma/dbeta terms;
// layer selects LayerNorm's mean(g) term (RMSNorm has none).
func normRowGrad(k *vecKernels, st *vecAcc, layer bool, dx []float32, dg, db []float64, dy, x, gamma []float32, mu, rs float64) {
	n := len(x)
	b := vecBulk(n)
	st.reset()
	sg, sgx := &st.a, &st.b
	k.gradSums(sg, sgx, dy[:b], x[:b], gamma[:b], mu, rs)
	for j := b; j < n; j++ {
		xh := (float64(x[j]) - mu) * rs
		g := float64(dy[j]) * float64(gamma[j])
		sg[j&15] += g
		sgx[j&15] = math.FMA(g, xh, sgx[j&15])
	}
	mg, mgx := 0.0, sgx.tree()/float64(n)
	if layer {
		mg = sg.tree() / float64(n)
	}
	k.normGradOut(dx[:b], dy[:b], x[:b], gamma[:b], mu, rs, mg, mgx)
	normGradOutGo(dx[b:], dy[b:], x[b:], gamma[b:], mu, rs, mg, mgx)
	if dg != nil {
		k.accumDG(dg[:b], dy[:b], x[:b], mu, rs)
		accumDGGo(dg[b:n], dy[b:], x[b:], mu, rs)
	}
	if db != nil {
		k.accumDB(db[:b], dy[:b])
		accumDBGo(db[b:n], dy[b:])
	}
}

// LayerNorm computes rows [lo, hi) of dst = (x-mean)*rstd*gamma + beta
// over rows of n and saves mean[r], rstd[r], like ref.LayerNorm (gamma,
// beta may be nil).
func LayerNorm(dst, mean, rstd, x, gamma, beta []float32, n, lo, hi int, eps float64) {
	k := vk()
	if gamma == nil {
		gamma = vecOnes(n)
	}
	if beta == nil {
		beta = vecZeros(n)
	}
	st := new(vecAcc)
	for r := lo; r < hi; r++ {
		xr := x[r*n : r*n+n]
		mu := sumF64(k, &st.a, xr) / float64(n)
		rs := 1 / math.Sqrt(sumSqDiff(k, &st.a, xr, mu)/float64(n)+eps)
		mean[r], rstd[r] = float32(mu), float32(rs)
		normRowOut(k, dst[r*n:r*n+n], xr, gamma, beta, mu, rs)
	}
}

// LayerNormGrad computes rows [lo, hi) of dx, and adds the rows' dgamma
// (dbeta) column sums to dgamma (dbeta) when non-nil, like
// ref.LayerNormGrad.
func LayerNormGrad(dx []float32, dgamma, dbeta []float64, dy, x, mean, rstd, gamma []float32, n, lo, hi int) {
	k := vk()
	if gamma == nil {
		gamma = vecOnes(n)
	}
	st := new(vecAcc)
	for r := lo; r < hi; r++ {
		normRowGrad(k, st, true, dx[r*n:r*n+n], dgamma, dbeta, dy[r*n:r*n+n], x[r*n:r*n+n], gamma, float64(mean[r]), float64(rstd[r]))
	}
}

// RMSNorm computes rows [lo, hi) of dst = x*rstd*gamma, rstd =
// 1/sqrt(mean(x^2)+eps) saved in rstd[r], like ref.RMSNorm. The sum of
// squares and rstd are computed as above (float64, vecLanes order: rstd
// within 1 ulp of ref's), but the output is (x*rstd32)*gamma in float32,
// rstd32 = float32(rstd): three float32 roundings, so within 2^-22
// relative of ref's rounded result (TestNormVsRef), the same bits at
// every level. Whole blocks of rows go to one multi-row kernel call
// (rmsRows), which keeps the per-row cost down to the arithmetic.
func RMSNorm(dst, rstd, x, gamma []float32, n, lo, hi int, eps float64) {
	if hi <= lo {
		return
	}
	k := vk()
	if gamma == nil {
		gamma = vecOnes(n)
	}
	gamma = gamma[:n]
	d, rs, xs := dst[lo*n:hi*n], rstd[lo:hi], x[lo*n:hi*n]
	if k.rowsAnyN || n%16 == 0 {
		k.rmsRows(d, rs, xs, gamma, n, float64(n), eps)
		return
	}
	rmsRowsLanes(k, d, rs, xs, gamma, n, eps)
}

// rmsRowsGo is the Generic multi-row RMSNorm (the arithmetic of the
// assembly rmsNormRows kernels).
func rmsRowsGo(dst, rstd, x, gamma []float32, n int, _, eps float64) {
	rmsRowsLanes(nil, dst, rstd, x, gamma, n, eps)
}

// rmsRowsLanes runs RMSNorm row by row with k's bulk sum of squares (nil:
// the Go lanes).
func rmsRowsLanes(k *vecKernels, dst, rstd, x, gamma []float32, n int, eps float64) {
	var acc vecLanes
	for r := range rstd {
		xr := x[r*n : r*n+n]
		var ss float64
		if k == nil {
			acc = vecLanes{}
			sumSqDiffGo(&acc, xr, 0)
			ss = acc.tree()
		} else {
			ss = sumSqDiff(k, &acc, xr, 0)
		}
		rs := float32(1 / math.Sqrt(ss/float64(n)+eps))
		rstd[r] = rs
		dr := dst[r*n : r*n+n]
		for j, v := range xr {
			dr[j] = float32(v*rs) * gamma[j]
		}
	}
}

// RMSNormGrad computes rows [lo, hi) of dx, adding the dgamma column sums
// when dgamma is non-nil, like ref.RMSNormGrad.
func RMSNormGrad(dx []float32, dgamma []float64, dy, x, rstd, gamma []float32, n, lo, hi int) {
	k := vk()
	if gamma == nil {
		gamma = vecOnes(n)
	}
	if k.rmsGradRows != nil && n%16 == 0 && hi > lo {
		// One call for the block of rows: normRowGrad's arithmetic.
		var dg []float64
		if dgamma != nil {
			dg = dgamma[:n]
		}
		k.rmsGradRows(dx[lo*n:hi*n], dg, dy[lo*n:hi*n], x[lo*n:hi*n], rstd[lo:hi], gamma[:n], n, float64(n))
		return
	}
	st := new(vecAcc)
	for r := lo; r < hi; r++ {
		normRowGrad(k, st, false, dx[r*n:r*n+n], dgamma, nil, dy[r*n:r*n+n], x[r*n:r*n+n], gamma, 0, float64(rstd[r]))
	}
}
