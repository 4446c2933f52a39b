package avx

import (
	"math"
	"sync"
)

// Row softmax and log-softmax, forward and backward, float32 data.
//
// Softmax forward runs on the multi-row kernels of softmax_rows.go (all
// levels the same bits; algorithm and accuracy in softmax_exp.go).
//
// Log-softmax forward and the gradients follow ref.Softmax/SoftmaxGrad's
// arithmetic (float64 from the float32 inputs, rounded once) with two
// differences:
//
//   - the exponentials are the float32 kernel exp of exp.go applied to
//     x - max, the subtraction compensated (TwoSum) so that the exponent is
//     exact to float32 rounding: e_j within 1.3 ulp of exp(x_j - m) rounded;
//   - row sums run in 16 float64 lanes (vecLanes, order below).
//
// Log-softmax output: that of ref up to the row sum's order (|diff| below
// 1e-15 relative before rounding, so almost always the same bits);
// gradients: ref's formula with the lane sum (softmax), and, for
// log-softmax, exp(y) from the float32 exp (within 2^-22 of |dy| +
// |exp(y)*sum dy|). All levels give the same bits except where the
// float32 exp's Go emulation double-rounds (fma32).

// vecLanes is a float64 row sum in 16 lanes: lane l adds the terms of
// elements j = l, l+16, l+32, ... in order; tree() then adds lanes l and
// l+8 (l < 8), then l and l+4, l and l+2, and finally lanes 0 and 1. The
// assembly keeps the same lanes in two 8-double (AVX-512) or four 4-double
// (AVX2) registers, so every level gives the same bits.
type vecLanes [16]float64

func (a *vecLanes) tree() float64 {
	var b [8]float64
	for i := range b {
		b[i] = a[i] + a[i+8]
	}
	for i := 0; i < 4; i++ {
		b[i] += b[i+4]
	}
	b[0] += b[2]
	b[1] += b[3]
	return b[0] + b[1]
}

// vecBulk returns the length of the leading whole 16-element blocks of n,
// which the bulk assembly kernels process (Go finishes the rest).
func vecBulk(n int) int { return n &^ 15 }

// Pure-Go row primitives (the Generic level, and the tails after the bulk
// assembly kernels: the same float64 operations in the same lanes).

func rowMaxGo(x []float32) float32 {
	m := x[0]
	for _, v := range x[1:] {
		if v > m || v != v {
			m = v
		}
	}
	return m
}

// expSubf returns exp(x - m) with the subtraction compensated (TwoSum of
// max(x, m-128) and -m, its error added to the reduced argument).
func expSubf(x, m float32) float32 {
	nm := -m
	xc := x
	if lo := m - 128; lo > x { // VMAXPS order: NaN x passes through
		xc = lo
	}
	s := xc + nm
	bp := s - xc
	ap := s - bp
	e := (xc - ap) + (nm - bp)
	if s != s {
		return s
	}
	s = min(max(s, expLo), expHi)
	t := float32(math.RoundToEven(float64(s * expLog2E)))
	r := fma32(-t, expLn2Hi, s)
	r = fma32(-t, expLn2Lo, r)
	r += e
	p := fma32(expC7, r, expC6)
	p = fma32(p, r, expC5)
	p = fma32(p, r, expC4)
	p = fma32(p, r, expC3)
	p = fma32(p, r, expC2)
	p = fma32(p, r, 1)
	p = fma32(p, r, 1)
	return scale2(p, t)
}

func expSubSumGo(acc *vecLanes, dst, x []float32, m float32) {
	for j, v := range x {
		e := expSubf(v, m)
		if dst != nil {
			dst[j] = e
		}
		acc[j&15] += float64(e)
	}
}

func sub2F64Go(dst, x []float32, a, b float64) {
	for j, v := range x {
		dst[j] = float32(float64(v) - a - b)
	}
}

func dotF64Go(acc *vecLanes, a, b []float32) {
	for j, v := range a {
		acc[j&15] = math.FMA(float64(v), float64(b[j]), acc[j&15])
	}
}

func sumF64Go(acc *vecLanes, x []float32) {
	for j, v := range x {
		acc[j&15] += float64(v)
	}
}

func softmaxGradOutGo(dx, y, dy []float32, s float64) {
	for j, v := range y {
		dx[j] = float32(float64(v) * (float64(dy[j]) - s))
	}
}

func logSoftmaxGradOutGo(dx, y, dy []float32, s float64) {
	for j, v := range y {
		dx[j] = float32(float64(dy[j]) - float64(float64(expf(v))*s))
	}
}

// Bulk-plus-tail drivers: the level's kernel on whole 16-element blocks,
// the Go code on the rest (same lanes, same operations).

func rowMax(k *vecKernels, x []float32) float32 {
	b := vecBulk(len(x))
	if b == 0 {
		return rowMaxGo(x)
	}
	m := k.rowMax(x[:b])
	if b < len(x) {
		t := rowMaxGo(x[b:])
		if t > m || t != t {
			m = t
		}
	}
	return m
}

// vecAcc holds a row kernel's lane accumulators. The kernels are called
// through function values, so escape analysis cannot see that they keep no
// pointer: one vecAcc is allocated per exported call and reused for every
// row (a local array per row would be a heap allocation per row).
type vecAcc struct{ a, b vecLanes }

func (v *vecAcc) reset() { v.a, v.b = vecLanes{}, vecLanes{} }

func dotF64(k *vecKernels, acc *vecLanes, a, b []float32) float64 {
	*acc = vecLanes{}
	n := vecBulk(len(a))
	k.dot(acc, a[:n], b[:n])
	for j := n; j < len(a); j++ {
		acc[j&15] = math.FMA(float64(a[j]), float64(b[j]), acc[j&15])
	}
	return acc.tree()
}

func sumF64(k *vecKernels, acc *vecLanes, x []float32) float64 {
	*acc = vecLanes{}
	n := vecBulk(len(x))
	k.sum(acc, x[:n])
	for j := n; j < len(x); j++ {
		acc[j&15] += float64(x[j])
	}
	return acc.tree()
}

var vecScratch = sync.Pool{New: func() any { return new([]float32) }}

// Softmax computes rows [lo, hi) of dst = softmax(x) (log-softmax when log)
// over rows of n elements, like ref.Softmax (accuracy above and in
// softmax_exp.go: softmax within smOutErr(n) ~ (ceil(n/16) + 7.6) units of
// 2^-24, relative, of the exact value, float32 row sums in 16 lanes;
// elements more than 86 below their row's maximum give 0; a row holding a
// NaN or an infinite maximum is NaN). dst may alias x exactly.
func Softmax(dst, x []float32, n, lo, hi int, log bool) {
	if n == 0 || hi <= lo {
		return
	}
	if !log {
		// One call for the block of rows (softmax_rows.go).
		if f := smk().rows; f != nil {
			f(dst[lo*n:hi*n], x[lo*n:hi*n], n)
		} else {
			softmaxRowsGo(dst[lo*n:hi*n], x[lo*n:hi*n], n)
		}
		return
	}
	k := vk()
	acc := &new(vecAcc).a
	scratch := vecScratch.Get().(*[]float32)
	if cap(*scratch) < n {
		*scratch = make([]float32, n)
	}
	defer vecScratch.Put(scratch)
	for r := lo; r < hi; r++ {
		xr, dr := x[r*n:r*n+n], dst[r*n:r*n+n]
		m := rowMax(k, xr)
		*acc = vecLanes{}
		k.expSubSum(acc, (*scratch)[:n], xr, m)
		ls := math.Log(acc.tree())
		b := vecBulk(n)
		k.sub2F64(dr[:b], xr[:b], float64(m), ls)
		sub2F64Go(dr[b:], xr[b:], float64(m), ls)
	}
}

// SoftmaxGrad computes rows [lo, hi) of dx from the forward output y and
// dy, like ref.SoftmaxGrad: softmax dx = y*(dy - sum(dy*y)), log-softmax
// dx = dy - exp(y)*sum(dy) (sums in vecLanes order). dx may alias dy.
func SoftmaxGrad(dx, y, dy []float32, n, lo, hi int, log bool) {
	k := vk()
	st := new(vecAcc)
	b := vecBulk(n)
	for r := lo; r < hi; r++ {
		yr, gr, dr := y[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
		if log {
			s := sumF64(k, &st.a, gr)
			k.logSoftmaxGradOut(dr, yr, gr, s)
			continue
		}
		s := dotF64(k, &st.a, gr, yr)
		k.softmaxGradOut(dr[:b], yr[:b], gr[:b], s)
		softmaxGradOutGo(dr[b:], yr[b:], gr[b:], s)
	}
}
