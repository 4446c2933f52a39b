package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// Tests of Attention / AttentionGrad against a naive float64 reference that
// materialises the full score matrix and softmax.
//
// Tolerances (mixed relative/absolute: |got - want| <= tol * (|want| + max|want|),
// the max over the whole output tensor):
//   - float64: 1e-12 for out, lse and all gradients;
//   - float32: 1e-6 for out and lse (the kernels compute in float64 and round
//     once, so the error is the float32 rounding, 2^-24 relative), 1e-5 for the
//     gradients, which also inherit the float32 rounding of the saved out and
//     lse they are computed from.
// Large score magnitudes (|z| in the thousands) loosen both: z itself carries
// float64 rounding error of about 1e-16*|z|*D, which exp turns into relative
// error (float64: 1e-10 for everything), and float32 lse is rounded to about
// |lse|*2^-24, which scales every recomputed probability (float32 gradients:
// max(1e-5, 8*max|lse|*2^-24); float32 out and lse stay at 1e-6).
// Observed worst errors on the main sweep: float64 ~5e-15, float32 ~3e-7.
//
// Float32 on AVX2/AVX-512 runs the fused SIMD kernels of kernels/avx, which
// compute in float32 (FMA chains): out and lse stay within 1e-6 (observed
// worst ~7e-7 here; kernels/avx measures up to 1.4e-6 on other draws), but
// where gradients cancel dS = P (dout.v - dout.out) is float32 rounding noise
// of the size of its terms, which a tolerance relative to max|want| cannot
// allow (at large scores the softmax is nearly one-hot and the gradients ~0).
// Float32 gradients therefore also get an absolute floor,
// 2^-24 G (16 + max|lse| + M), with G the largest
// magnitude of the terms summed into one element of that gradient and M the
// largest sum_c |s_i q_ic k_jc| (attnNaive.floors; kernels/avx's
// attention_test.go derives the same bound).

// attnCase is one attention problem.
type attnCase struct {
	b, h, nq, nk, d int
	self            bool    // q, k, v from the same packed rows (needs nq == nk)
	qscale          bool    // per-row query scales
	scale, std      float64 // score scale, std of q, k, v (and dout)
}

func (c attnCase) String() string {
	return fmt.Sprintf("B%d H%d Nq%d Nk%d D%d self=%v qscale=%v scale=%g std=%g", c.b, c.h, c.nq, c.nk, c.d, c.self, c.qscale, c.scale, c.std)
}

// attnRand returns a fresh N(0, std^2) tensor of dtype dt.
func attnRand(dt DType, seed uint64, std float64, shape ...int) *Tensor {
	t := New(CPU, dt, shape...)
	t.Backend().RandNormal(t, seed, 0, 0, std)
	return t
}

// attnInputs builds q, k, v as strided views of packed projections
// [B, N, 3, H, D] permuted to [3, B, H, N, D] (as nn does), and qscale.
func attnInputs(c attnCase, dt DType, seed uint64) (q, k, v, qs *Tensor) {
	kv := attnRand(dt, seed, c.std, c.b, c.nk, 3, c.h, c.d).Permute(2, 0, 3, 1, 4)
	k, v = kv.Select(0, 1), kv.Select(0, 2)
	if c.self {
		q = kv.Select(0, 0)
	} else {
		q = attnRand(dt, seed+1, c.std, c.b, c.nq, 3, c.h, c.d).Permute(2, 0, 3, 1, 4).Select(0, 0)
	}
	if c.qscale {
		qs = New(CPU, dt, c.b, c.h, c.nq)
		qs.Backend().RandUniform(qs, seed+2, 0, 0.25, 2)
	}
	return q, k, v, qs
}

// attnNaive is the reference: float64, full score and probability matrices.
type attnNaive struct {
	c             attnCase
	q, k, v, qs   []float64 // row-major [B,H,N,D] / [B,H,Nq]
	dot, p        []float64 // [B,H,Nq,Nk]: q.k and softmax
	out, lse      []float64
	dq, dk, dv, g []float64 // gradients (g: qscale)
}

func (n *attnNaive) s(bh, i int) float64 {
	if n.qs == nil {
		return n.c.scale
	}
	return n.c.scale * n.qs[bh*n.c.nq+i]
}

func newAttnNaive(c attnCase, q, k, v, qs []float64) *attnNaive {
	n := &attnNaive{c: c, q: q, k: k, v: v, qs: qs}
	B, H, nq, nk, d := c.b, c.h, c.nq, c.nk, c.d
	n.dot, n.p = make([]float64, B*H*nq*nk), make([]float64, B*H*nq*nk)
	n.out, n.lse = make([]float64, B*H*nq*d), make([]float64, B*H*nq)
	for bh := 0; bh < B*H; bh++ {
		for i := 0; i < nq; i++ {
			row := (bh*nq + i) * nk
			z := make([]float64, nk)
			m := math.Inf(-1)
			for j := 0; j < nk; j++ {
				t := 0.0
				for x := 0; x < d; x++ {
					t += q[(bh*nq+i)*d+x] * k[(bh*nk+j)*d+x]
				}
				n.dot[row+j] = t
				z[j] = n.s(bh, i) * t
				m = max(m, z[j])
			}
			sum := 0.0
			for j := range z {
				sum += math.Exp(z[j] - m)
			}
			for j := range z {
				pj := math.Exp(z[j]-m) / sum
				n.p[row+j] = pj
				for x := 0; x < d; x++ {
					n.out[(bh*nq+i)*d+x] += pj * v[(bh*nk+j)*d+x]
				}
			}
			n.lse[bh*nq+i] = m + math.Log(sum)
		}
	}
	return n
}

// grad fills the analytic gradients for upstream gradient dout:
// dP = dout V^T, dS = P o (dP - rowsum(P o dP)), dq = s dS K, dk = dS^T (s q),
// dv = P^T dout, dqscale = scale * rowsum(dS o (q.k - c)) with c the
// softmax mean of q.k.
func (n *attnNaive) grad(dout []float64) {
	c := n.c
	B, H, nq, nk, d := c.b, c.h, c.nq, c.nk, c.d
	n.dq, n.dk, n.dv = make([]float64, B*H*nq*d), make([]float64, B*H*nk*d), make([]float64, B*H*nk*d)
	n.g = make([]float64, B*H*nq)
	for bh := 0; bh < B*H; bh++ {
		for i := 0; i < nq; i++ {
			row := (bh*nq + i) * nk
			dp := make([]float64, nk)
			rs := 0.0
			for j := 0; j < nk; j++ {
				for x := 0; x < d; x++ {
					dp[j] += dout[(bh*nq+i)*d+x] * n.v[(bh*nk+j)*d+x]
				}
				rs += n.p[row+j] * dp[j]
			}
			s := n.s(bh, i)
			// Centre q.k on its softmax mean c before the dqscale sum: equal
			// in exact arithmetic (dS sums to zero over j), but the uncentred
			// sum loses about eps*|scale*q.k| to cancellation, which exceeds
			// the float64 tolerance at large scores.
			cc := 0.0
			for j := 0; j < nk; j++ {
				cc += n.p[row+j] * n.dot[row+j]
			}
			for j := 0; j < nk; j++ {
				ds := n.p[row+j] * (dp[j] - rs)
				n.g[bh*nq+i] += c.scale * ds * (n.dot[row+j] - cc)
				for x := 0; x < d; x++ {
					qi, kj := (bh*nq+i)*d+x, (bh*nk+j)*d+x
					n.dq[qi] += s * ds * n.k[kj]
					n.dk[kj] += s * ds * n.q[qi]
					n.dv[kj] += n.p[row+j] * dout[qi]
				}
			}
		}
	}
}

// floors returns the absolute error floors of the float32 gradients dq, dk,
// dv, dqscale (file comment): with P, x = q.k and c_i = sum_j P_ij x_ij from
// the reference, D_i = dout_i . out_i and A_ij = sum_c |dout_ic v_jc| + |D_i|,
// the term magnitudes are dq_ic: sum_j |s_i| P_ij A_ij |k_jc|, dk_jc: sum_i
// |s_i| P_ij A_ij |q_ic|, dv_jc: sum_i P_ij |dout_ic| and dqscale_i: |scale|
// sum_j P_ij A_ij (|x_ij - c_i| + |c_i|).
func (n *attnNaive) floors(dout []float64) [4]float64 {
	c := n.c
	nq, nk, d := c.nq, c.nk, c.d
	var g [4]float64
	mLse, mScore := 0.0, 0.0
	for bh := 0; bh < c.b*c.h; bh++ {
		mk, mv := make([]float64, nk*d), make([]float64, nk*d)
		for i := 0; i < nq; i++ {
			qi, gi := n.q[(bh*nq+i)*d:][:d], dout[(bh*nq+i)*d:][:d]
			s, row := n.s(bh, i), (bh*nq+i)*nk
			mLse = max(mLse, math.Abs(n.lse[bh*nq+i]))
			dsum, ci := 0.0, 0.0
			for x := range gi {
				dsum += gi[x] * n.out[(bh*nq+i)*d+x]
			}
			a := make([]float64, nk)
			for j := 0; j < nk; j++ {
				kj, vj := n.k[(bh*nk+j)*d:][:d], n.v[(bh*nk+j)*d:][:d]
				a[j] = math.Abs(dsum)
				sc := 0.0
				for x := range gi {
					a[j] += math.Abs(gi[x] * vj[x])
					sc += math.Abs(s * qi[x] * kj[x])
				}
				mScore = max(mScore, sc)
				ci += n.p[row+j] * n.dot[row+j]
			}
			gs := 0.0
			for x := 0; x < d; x++ {
				mq := 0.0
				for j := 0; j < nk; j++ {
					w := math.Abs(s) * n.p[row+j] * a[j]
					mq += w * math.Abs(n.k[(bh*nk+j)*d+x])
					mk[j*d+x] += w * math.Abs(qi[x])
					mv[j*d+x] += n.p[row+j] * math.Abs(gi[x])
				}
				g[0] = max(g[0], mq)
			}
			for j := 0; j < nk; j++ {
				gs += math.Abs(c.scale) * n.p[row+j] * a[j] * (math.Abs(n.dot[row+j]-ci) + math.Abs(ci))
			}
			g[3] = max(g[3], gs)
		}
		for j := range mk {
			g[1], g[2] = max(g[1], mk[j]), max(g[2], mv[j])
		}
	}
	for i := range g {
		g[i] *= 0x1p-24 * (16 + mLse + mScore)
	}
	return g
}

// attnCheck reports elements of got outside tol of want (see the file
// comment) and returns the worst |got-want| / (|want| + max|want|).
func attnCheck(t *testing.T, what string, got, want []float64, tol float64) float64 {
	t.Helper()
	return attnCheckFloor(t, what, got, want, tol, 0)
}

// attnCheckFloor is attnCheck allowing floor more absolute error:
// |got - want| <= tol * (|want| + max|want|) + floor.
func attnCheckFloor(t *testing.T, what string, got, want []float64, tol, floor float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	m := 0.0
	for _, w := range want {
		m = max(m, math.Abs(w))
	}
	worst, bad := 0.0, 0
	for i, g := range got {
		e := math.Abs(g-want[i]) / (math.Abs(want[i]) + m + floor/tol)
		if m == 0 && floor == 0 {
			e = math.Abs(g - want[i])
		}
		if !(e <= tol) { // also catches NaN
			if bad < 3 {
				t.Errorf("%s[%d] = %g, want %g (error %.3g > tol %g)", what, i, g, want[i], e, tol)
			}
			bad++
			e = math.Inf(1)
		}
		worst = max(worst, e)
	}
	if bad > 3 {
		t.Errorf("%s: %d of %d values out of tolerance", what, bad, len(got))
	}
	return worst
}

// attnPoisoned returns a contiguous NaN-filled tensor.
func attnPoisoned(dt DType, shape ...int) *Tensor {
	t := New(CPU, dt, shape...)
	t.Backend().Fill(t, math.NaN())
	return t
}

// attnRun calls the CPU backend directly with poisoned outputs (q, k, v are
// already in the form the op hands to backends: unit last stride) and returns
// out, lse, dq, dk, dv, dqscale.
func attnRun(q, k, v, qs, dout *Tensor, scale float64) []*Tensor {
	dt := q.DType()
	s, nk := q.Shape(), k.Shape()[2]
	out, lse := attnPoisoned(dt, s...), attnPoisoned(dt, s[0], s[1], s[2])
	q.Backend().Attention(out, lse, q, k, v, qs, scale)
	dq, dk, dv := attnPoisoned(dt, s...), attnPoisoned(dt, s[0], s[1], nk, s[3]), attnPoisoned(dt, s[0], s[1], nk, s[3])
	var dqs *Tensor
	if qs != nil {
		dqs = attnPoisoned(dt, s[0], s[1], s[2])
	}
	q.Backend().AttentionGrad(dq, dk, dv, dqs, dout, q, k, v, qs, out, lse, scale)
	return []*Tensor{out, lse, dq, dk, dv, dqs}
}

// attnTest runs case c in dtype dt and compares everything with the naive
// reference; it returns the worst normalised error.
func attnTest(t *testing.T, c attnCase, dt DType, seed uint64, tolFwd, tolGrad float64) float64 {
	t.Helper()
	q, k, v, qs := attnInputs(c, dt, seed)
	dout := attnRand(dt, seed+3, 1, c.b, c.h, c.nq, c.d)
	res := attnRun(q, k, v, qs, dout, c.scale)
	var qsf []float64
	if qs != nil {
		qsf = qs.Float64s()
	}
	n := newAttnNaive(c, q.Float64s(), k.Float64s(), v.Float64s(), qsf)
	n.grad(dout.Float64s())
	var floors [4]float64 // dq, dk, dv, dqscale
	if tolGrad < 0 {      // derived from the float32 lse rounding (file comment)
		m := 0.0
		for _, x := range n.lse {
			m = max(m, math.Abs(x))
		}
		tolGrad = max(1e-5, 8*m*0x1p-24)
	}
	if dt == Float32 {
		floors = n.floors(dout.Float64s())
	}
	worst := 0.0
	want := [][]float64{n.out, n.lse, n.dq, n.dk, n.dv, n.g}
	for i, name := range []string{"out", "lse", "dq", "dk", "dv", "dqscale"} {
		if res[i] == nil {
			continue
		}
		tol, floor := tolGrad, 0.0
		if i < 2 {
			tol = tolFwd
		} else {
			floor = floors[i-2]
		}
		worst = max(worst, attnCheckFloor(t, fmt.Sprintf("%v %v: %s", dt, c, name), res[i].Float64s(), want[i], tol, floor))
	}
	return worst
}

func TestAttentionMatchesNaive(t *testing.T) {
	seed := uint64(100)
	worst := map[DType]float64{}
	for _, nq := range []int{1, 7, 63, 130} {
		for _, nk := range []int{1, 5, 64, 130} {
			for _, d := range []int{1, 7, 64} {
				for _, withQS := range []bool{false, true} {
					c := attnCase{b: 2, h: 3, nq: nq, nk: nk, d: d, qscale: withQS, scale: 1 / math.Sqrt(float64(d)), std: 1}
					c.self = nq == nk // context->context; otherwise query->context
					seed += 10
					worst[Float64] = max(worst[Float64], attnTest(t, c, Float64, seed, 1e-12, 1e-12))
					worst[Float32] = max(worst[Float32], attnTest(t, c, Float32, seed, 1e-6, 1e-5))
				}
			}
		}
	}
	t.Logf("worst normalised error: float64 %.3g, float32 %.3g", worst[Float64], worst[Float32])
}

// TestAttentionSelfSameRows checks context->context attention where q, k, v
// are the three heads of one packed projection (nq == nk, same rows). A
// single head on 2 workers runs the backward's two-pass form (more heads run
// the fused one).
func TestAttentionSelfSameRows(t *testing.T) {
	defer SetWorkers(SetWorkers(2))
	for _, n := range []int{1, 63, 130} {
		for _, bh := range [][2]int{{1, 1}, {2, 2}} {
			c := attnCase{b: bh[0], h: bh[1], nq: n, nk: n, d: 7, self: true, qscale: true, scale: 0.4, std: 1}
			attnTest(t, c, Float64, 7, 1e-12, 1e-12)
			attnTest(t, c, Float32, 7, 1e-6, 1e-5)
		}
	}
}

// TestAttentionLargeScores uses scores in the thousands: a softmax without a
// running maximum would overflow exp to +Inf and return NaN.
func TestAttentionLargeScores(t *testing.T) {
	for _, c := range []attnCase{
		{b: 1, h: 2, nq: 70, nk: 130, d: 64, scale: 10, std: 10},
		{b: 2, h: 1, nq: 33, nk: 65, d: 7, qscale: true, scale: 10, std: 10},
	} {
		q, k, _, _ := attnInputs(c, Float64, 11)
		_, lse := Attention(q, k, k, nil, c.scale)
		if m := maxAbsF64(lse.Float64s()); m < 1000 {
			t.Fatalf("%v: max |lse| %g: scores not large enough for the test", c, m)
		}
		attnTest(t, c, Float64, 11, 1e-10, 1e-10)
		attnTest(t, c, Float32, 11, 1e-6, -1)
	}
}

func maxAbsF64(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}

// TestAttentionBroadcastHeads uses k and v shared by all heads (stride 0).
func TestAttentionBroadcastHeads(t *testing.T) {
	c := attnCase{b: 2, h: 3, nq: 9, nk: 70, d: 7, qscale: true, scale: 0.5, std: 1}
	for _, dt := range []DType{Float32, Float64} {
		q, _, _, qs := attnInputs(c, dt, 21)
		k := attnRand(dt, 22, 1, c.b, 1, c.nk, c.d).Expand(c.b, c.h, c.nk, c.d)
		v := attnRand(dt, 23, 1, c.b, 1, c.nk, c.d).Expand(c.b, c.h, c.nk, c.d)
		dout := attnRand(dt, 24, 1, c.b, c.h, c.nq, c.d)
		res := attnRun(q, k, v, qs, dout, c.scale)
		n := newAttnNaive(c, q.Float64s(), k.Float64s(), v.Float64s(), qs.Float64s())
		n.grad(dout.Float64s())
		tol := map[DType]float64{Float32: 1e-5, Float64: 1e-12}[dt]
		for i, w := range [][]float64{n.out, n.lse, n.dq, n.dk, n.dv, n.g} {
			attnCheck(t, fmt.Sprintf("%v broadcast heads #%d", dt, i), res[i].Float64s(), w, tol)
		}
	}
}

// TestAttentionNaiveGradFiniteDiff validates the reference's analytic
// gradients against central differences of its forward pass on
// L = sum(out * dout).
func TestAttentionNaiveGradFiniteDiff(t *testing.T) {
	c := attnCase{b: 1, h: 2, nq: 3, nk: 4, d: 5, qscale: true, scale: 0.7}
	r := NewRNG(5, 0)
	rnd := func(n int, lo float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = lo + r.NormFloat64()
		}
		return x
	}
	q, k, v, qs := rnd(2*3*5, 0), rnd(2*4*5, 0), rnd(2*4*5, 0), rnd(2*3, 1)
	dout := rnd(2*3*5, 0)
	n := newAttnNaive(c, q, k, v, qs)
	n.grad(dout)
	loss := func() float64 {
		o := newAttnNaive(c, q, k, v, qs).out
		s := 0.0
		for i := range o {
			s += o[i] * dout[i]
		}
		return s
	}
	const h = 1e-5
	for _, in := range []struct {
		name    string
		x, grad []float64
	}{{"q", q, n.dq}, {"k", k, n.dk}, {"v", v, n.dv}, {"qscale", qs, n.g}} {
		for i := range in.x {
			x0 := in.x[i]
			in.x[i] = x0 + h
			lp := loss()
			in.x[i] = x0 - h
			lm := loss()
			in.x[i] = x0
			if num := (lp - lm) / (2 * h); math.Abs(num-in.grad[i]) > 1e-7*(1+math.Abs(num)) {
				t.Errorf("d%s[%d]: analytic %g, numeric %g", in.name, i, in.grad[i], num)
			}
		}
	}
}

// TestAttentionWorkersBitIdentical runs the forward and backward with 1 and
// 2 workers: every bit must agree. With one head the backward takes its fused
// form on 1 worker and its two-pass form on 2.
func TestAttentionWorkersBitIdentical(t *testing.T) {
	defer SetWorkers(SetWorkers(1))
	for _, c := range []attnCase{
		{b: 2, h: 2, nq: 200, nk: 150, d: 64, qscale: true, scale: 0.125, std: 1},
		{b: 1, h: 1, nq: 300, nk: 130, d: 7, qscale: true, scale: 0.5, std: 1},
	} {
		for _, dt := range []DType{Float32, Float64} {
			q, k, v, qs := attnInputs(c, dt, 31)
			dout := attnRand(dt, 34, 1, c.b, c.h, c.nq, c.d)
			SetWorkers(1)
			one := attnRun(q, k, v, qs, dout, c.scale)
			SetWorkers(2)
			two := attnRun(q, k, v, qs, dout, c.scale)
			for i := range one {
				a, b := one[i].Float64s(), two[i].Float64s()
				for j := range a {
					if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
						t.Fatalf("%v %v output #%d element %d: %v with 1 worker, %v with 2", dt, c, i, j, a[j], b[j])
					}
				}
			}
		}
	}
}

// TestAttentionOpsMatchBackend checks the public ops: same bits as the
// backend on the same inputs, and a q whose last axis is not unit-stride
// (cloned by the op) gives the same result as its contiguous copy.
func TestAttentionOpsMatchBackend(t *testing.T) {
	c := attnCase{b: 1, h: 2, nq: 9, nk: 20, d: 7, qscale: true, scale: 0.3, std: 1}
	q, k, v, qs := attnInputs(c, Float32, 41)
	dout := attnRand(Float32, 44, 1, c.b, c.h, c.nq, c.d)
	want := attnRun(q, k, v, qs, dout, c.scale)
	qt := q.Clone().Transpose(2, 3).Clone().Transpose(2, 3) // same values, strides [.., 1, Nq]
	if qt.Strides()[3] == 1 {
		t.Fatalf("transposed q has unit last stride %v", qt.Strides())
	}
	out, lse := Attention(qt, k, v, qs, c.scale)
	dq, dk, dv, dqs := AttentionGrad(dout, qt, k, v, qs, out, lse, c.scale)
	for i, got := range []*Tensor{out, lse, dq, dk, dv, dqs} {
		if !attnSameBits(got.Float32s(), want[i].Float32s()) {
			t.Errorf("op output #%d differs from the backend's", i)
		}
	}
	out, _ = Attention(q, k, v, nil, c.scale)
	c.qscale = false
	n := newAttnNaive(c, q.Float64s(), k.Float64s(), v.Float64s(), nil)
	attnCheck(t, "op without qscale: out", out.Float64s(), n.out, 1e-6)
}

func attnSameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestAttentionShapeErrors(t *testing.T) {
	q, k := Zeros(1, 2, 3, 4), Zeros(1, 2, 5, 4)
	for _, tc := range []struct {
		f    func()
		want []string
	}{
		{func() { Attention(q, Zeros(1, 2, 5, 3), k, nil, 1) }, []string{"Attention", "[1 2 3 4]", "[1 2 5 3]"}},
		{func() { Attention(q, k, Zeros(1, 2, 6, 4), nil, 1) }, []string{"Attention", "[1 2 6 4]"}},
		{func() { Attention(q, Zeros(1, 2, 0, 4), Zeros(1, 2, 0, 4), nil, 1) }, []string{"Attention", "no keys"}},
		{func() { Attention(q, k, k, Zeros(1, 2, 4), 1) }, []string{"Attention", "qscale", "[1 2 4]"}},
		{func() { AttentionGrad(Zeros(1, 2, 3, 4), q, k, k, nil, Zeros(1, 2, 3, 4), Zeros(1, 2, 4), 1) }, []string{"AttentionGrad", "lse"}},
	} {
		func() {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("panic %q does not mention %q", msg, w)
					}
				}
			}()
			tc.f()
		}()
	}
}

// TestAttentionBroadcastQScale passes qscale as [H, 1] (one scale per head):
// the op expands it and sums dqscale back, which must equal the full-shape
// call's dqscale summed over batch and rows.
func TestAttentionBroadcastQScale(t *testing.T) {
	c := attnCase{b: 2, h: 3, nq: 9, nk: 20, d: 7, scale: 0.3, std: 1}
	q, k, v, _ := attnInputs(c, Float64, 51)
	qs := New(CPU, Float64, c.h, 1)
	qs.Backend().RandUniform(qs, 52, 0, 0.5, 1.5)
	dout := attnRand(Float64, 53, 1, c.b, c.h, c.nq, c.d)
	full := qs.Expand(c.b, c.h, c.nq).Clone()
	out, lse := Attention(q, k, v, qs, c.scale)
	outF, lseF := Attention(q, k, v, full, c.scale)
	for i, pair := range [][2]*Tensor{{out, outF}, {lse, lseF}} {
		a, b := pair[0].Float64s(), pair[1].Float64s()
		for j := range a {
			if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
				t.Fatalf("broadcast qscale changes forward output #%d at %d: %v vs %v", i, j, a[j], b[j])
			}
		}
	}
	_, _, _, g := AttentionGrad(dout, q, k, v, qs, out, lse, c.scale)
	_, _, _, gF := AttentionGrad(dout, q, k, v, full, outF, lseF, c.scale)
	if !g.Shape().Equal(qs.Shape()) {
		t.Fatalf("dqscale shape %v, want %v", g.Shape(), qs.Shape())
	}
	want := make([]float64, c.h)
	for i, x := range gF.Float64s() {
		want[(i/c.nq)%c.h] += x
	}
	attnCheck(t, "summed dqscale", g.Float64s(), want, 1e-12)
}

// TestAttentionDegenerate: no queries, and a zero head dimension (every score
// 0: lse = log Nk, dqscale 0).
func TestAttentionDegenerate(t *testing.T) {
	for _, dt := range []DType{Float32, Float64} {
		q, k := New(CPU, dt, 2, 1, 0, 4), attnRand(dt, 61, 1, 2, 1, 5, 4)
		out, lse := Attention(q, k, k, nil, 1)
		if out.Numel() != 0 || lse.Numel() != 0 {
			t.Fatalf("%v: no queries gave out %v, lse %v", dt, out.Shape(), lse.Shape())
		}
		q, k = New(CPU, dt, 1, 2, 3, 0), New(CPU, dt, 1, 2, 5, 0)
		qs := attnRand(dt, 62, 1, 1, 2, 3)
		res := attnRun(q, k, k, qs, New(CPU, dt, 1, 2, 3, 0), 1)
		for _, x := range res[1].Float64s() {
			if math.Abs(x-math.Log(5)) > 1e-6 {
				t.Fatalf("%v: D=0 lse %v, want log 5", dt, x)
			}
		}
		for _, x := range res[5].Float64s() {
			if x != 0 {
				t.Fatalf("%v: D=0 dqscale %v, want 0", dt, x)
			}
		}
	}
}
