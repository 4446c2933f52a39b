package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tests of the fused attention kernels against kernels/ref's float64 flash
// attention, on heads that are strided views of packed [N, 3, H, D]
// projections, at every level this CPU supports.
//
// Tolerances, with errors normalised as |got - want| / (|want| + max|want|)
// over one head's output (the normalisation of tensor/attention_test.go):
//   - out, lse: 4e-6. The kernels round q.k and the sums over keys in float32
//     (FMA chains): the scores carry about sum_c |s q_c k_c| 2^-24 of
//     absolute error, which exp turns into relative error of the weights
//     (observed worst 1.4e-6 on the sweep, 1.3e-7 at large scores).
//   - gradients: 1e-5, plus an absolute floor for cancellation: the float32
//     values of dP = dout.v and D = dout.out differ by about 2^-24 times
//     their magnitudes, so dS = P (dP - D) is noise of that size where the
//     true gradient cancels (nearly one-hot softmax: true gradients ~0), and
//     the float32 lse and scores add relative error (|lse| + M) 2^-24 to
//     every recomputed P. With G the largest magnitude of the terms summed
//     into that gradient (attnMagnitudes) and M = max_ij sum_c |s_i q_ic k_jc|:
//     floor = 2^-24 G (16 + max|lse| + M).
// Observed worst errors are logged by each test.

const (
	attnTolFwd  = 4e-6
	attnTolGrad = 1e-5
)

// attnLevels returns the levels to test: every level up to Detected().
func attnLevels() []Level {
	var ls []Level
	for _, l := range []Level{Generic, AVX2, AVX512} {
		if l <= Detected() {
			ls = append(ls, l)
		}
	}
	return ls
}

// attnProblem is one head of a packed projection plus the gradient dout.
type attnProblem struct {
	nq, nk, d, heads, head int
	self                   bool
	h32                    ref.AttnHead[float32]
	h64                    ref.AttnHead[float64]
	dout32                 []float32
	dout64                 []float64
	magnitude              float64 // max_ij sum_c |s_i q_ic k_jc|
}

func attnWiden64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func attnRandF32(r *rand.Rand, n int, std, mean float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(mean + std*r.NormFloat64())
	}
	return x
}

// newAttnProblem builds head `head` of `heads` heads: q, k, v are views of a
// packed [N, 3, H, D] buffer (row stride 3*H*D, head offset head*D); for
// self attention q comes from the same buffer as k and v, otherwise from a
// second packed buffer of nq rows.
func newAttnProblem(seed uint64, nq, nk, d, heads, head int, qscale bool, scale, std float64) *attnProblem {
	r := rand.New(rand.NewPCG(seed, 7))
	self := nq == nk
	stride := 3 * heads * d
	kv := attnRandF32(r, nk*stride, std, 0)
	qbuf := kv
	if !self {
		qbuf = attnRandF32(r, nq*stride, std, 0)
	}
	off := head * d
	p := &attnProblem{nq: nq, nk: nk, d: d, heads: heads, head: head, self: self}
	p.h32 = ref.AttnHead[float32]{
		Q: qbuf[off:], K: kv[heads*d+off:], V: kv[2*heads*d+off:],
		QStride: stride, KStride: stride, VStride: stride,
		Nq: nq, Nk: nk, D: d, Scale: scale,
	}
	if qscale {
		p.h32.QScale = attnRandF32(r, nq, 0.4, 1)
	}
	q64, kv64 := attnWiden64(qbuf), attnWiden64(kv)
	p.h64 = ref.AttnHead[float64]{
		Q: q64[off:], K: kv64[heads*d+off:], V: kv64[2*heads*d+off:],
		QStride: stride, KStride: stride, VStride: stride,
		Nq: nq, Nk: nk, D: d, Scale: scale,
	}
	if qscale {
		p.h64.QScale = attnWiden64(p.h32.QScale)
	}
	p.dout32 = attnRandF32(r, nq*d, 1, 0)
	p.dout64 = attnWiden64(p.dout32)
	for i := 0; i < nq; i++ {
		s := math.Abs(float64(attnRowScale(&p.h32, i)))
		for j := 0; j < nk; j++ {
			t := 0.0
			for c := 0; c < d; c++ {
				t += math.Abs(p.h64.Q[i*stride+c] * p.h64.K[j*stride+c])
			}
			p.magnitude = max(p.magnitude, s*t)
		}
	}
	return p
}

func attnNaN32(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// attnRes holds the outputs of one run.
type attnRes struct{ out, lse, dq, dk, dv, dqs []float32 }

// forward runs AttentionForward over the query-row ranges cut at cuts.
func (p *attnProblem) forward(cuts []int) (out, lse []float32) {
	out, lse = attnNaN32(p.nq*p.d), attnNaN32(p.nq)
	var ws AttnScratch
	lo := 0
	for _, hi := range append(cuts, p.nq) {
		if hi = min(hi, p.nq); hi > lo {
			AttentionForward(out, lse, p.h32, lo, hi, &ws)
			lo = hi
		}
	}
	return out, lse
}

// backwardFused runs the fused AttentionBackward from out, lse.
func (p *attnProblem) backwardFused(out, lse []float32) attnRes {
	r := attnRes{out: out, lse: lse, dq: attnNaN32(p.nq * p.d), dk: attnNaN32(p.nk * p.d), dv: attnNaN32(p.nk * p.d)}
	if p.h32.QScale != nil {
		r.dqs = attnNaN32(p.nq)
	}
	var ws AttnScratch
	AttentionBackward(r.dq, r.dk, r.dv, r.dqs, p.dout32, out, lse, p.h32, &ws)
	return r
}

// backwardTwoPass runs Prepare, AttentionBackwardQ and AttentionBackwardKV
// over ranges of qstep query rows and kstep keys.
func (p *attnProblem) backwardTwoPass(out, lse []float32, qstep, kstep int) attnRes {
	r := attnRes{out: out, lse: lse, dq: attnNaN32(p.nq * p.d), dk: attnNaN32(p.nk * p.d), dv: attnNaN32(p.nk * p.d)}
	if p.h32.QScale != nil {
		r.dqs = attnNaN32(p.nq)
	}
	var prep AttnGradPrep
	prep.Reset(2, p.nq, p.d) // head 1 used: the offsets of a multi-head prep
	var ws AttnScratch
	for lo := 0; lo < p.nq; lo += qstep {
		prep.Prepare(1, p.dout32, out, lse, p.h32, lo, min(lo+qstep, p.nq))
	}
	for lo := 0; lo < p.nq; lo += qstep {
		AttentionBackwardQ(r.dq, r.dqs, &prep, 1, p.h32, lo, min(lo+qstep, p.nq), &ws)
	}
	for lo := 0; lo < p.nk; lo += kstep {
		AttentionBackwardKV(r.dk, r.dv, &prep, 1, p.h32, lo, min(lo+kstep, p.nk), &ws)
	}
	return r
}

// reference returns the float64 ref results.
func (p *attnProblem) reference() (out, lse, dq, dk, dv, dqs []float64) {
	out, lse = make([]float64, p.nq*p.d), make([]float64, p.nq)
	ref.AttentionForward(out, lse, p.h64, 0, p.nq, nil)
	dq, dk, dv = make([]float64, p.nq*p.d), make([]float64, p.nk*p.d), make([]float64, p.nk*p.d)
	if p.h64.QScale != nil {
		dqs = make([]float64, p.nq)
	}
	ref.AttentionBackward(dq, dk, dv, dqs, p.dout64, out, lse, p.h64, nil)
	return
}

// attnMagnitudes returns, for each gradient, the largest magnitude of the
// terms summed into one of its elements (float64, from the reference out and
// lse): with P_ij = exp(s_i x_ij - lse_i), x = q.k, c_i = sum_j P_ij x_ij and
// A_ij = sum_c |dout_ic v_jc| + |D_i| (the size of dP_ij and D_i):
// dq_ic: sum_j |s_i| P_ij A_ij |k_jc|; dk_jc: sum_i |s_i| P_ij A_ij |q_ic|;
// dv_jc: sum_i P_ij |dout_ic|; dqscale_i: |scale| sum_j P_ij A_ij (|x_ij - c_i| + |c_i|).
func (p *attnProblem) attnMagnitudes(out, lse []float64) (gq, gk, gv, gs float64) {
	h, d := p.h64, p.d
	mdk, mdv := make([]float64, p.nk*d), make([]float64, p.nk*d)
	P, X, A := make([]float64, p.nk), make([]float64, p.nk), make([]float64, p.nk)
	for i := 0; i < p.nq; i++ {
		s := h.Scale
		if h.QScale != nil {
			s *= h.QScale[i]
		}
		D := 0.0
		for c := 0; c < d; c++ {
			D += p.dout64[i*d+c] * out[i*d+c]
		}
		ci := 0.0
		for j := range P {
			x, a := 0.0, math.Abs(D)
			for c := 0; c < d; c++ {
				x += h.Q[i*h.QStride+c] * h.K[j*h.KStride+c]
				a += math.Abs(p.dout64[i*d+c] * h.V[j*h.VStride+c])
			}
			P[j], X[j], A[j] = math.Exp(s*x-lse[i]), x, a
			ci += P[j] * x
		}
		ms := 0.0
		for c := 0; c < d; c++ {
			mq := 0.0
			for j := range P {
				w := math.Abs(s) * P[j] * A[j]
				mq += w * math.Abs(h.K[j*h.KStride+c])
				mdk[j*d+c] += w * math.Abs(h.Q[i*h.QStride+c])
				mdv[j*d+c] += P[j] * math.Abs(p.dout64[i*d+c])
			}
			gq = max(gq, mq)
		}
		for j := range P {
			ms += math.Abs(h.Scale) * P[j] * A[j] * (math.Abs(X[j]-ci) + math.Abs(ci))
		}
		gs = max(gs, ms)
	}
	for j := range mdk {
		gk, gv = max(gk, mdk[j]), max(gv, mdv[j])
	}
	return
}

// check compares r with the reference (tolerances: file comment) and
// returns the worst forward error and the worst gradient error as a fraction
// of its tolerance.
func (p *attnProblem) check(t *testing.T, what string, r attnRes) (fwd, grad float64) {
	t.Helper()
	out, lse, dq, dk, dv, dqs := p.reference()
	maxLse := 0.0
	for _, x := range lse {
		maxLse = max(maxLse, math.Abs(x))
	}
	gq, gk, gv, gs := p.attnMagnitudes(out, lse)
	floor := func(g float64) float64 { return 0x1p-24 * g * (16 + maxLse + p.magnitude) }
	for _, c := range []struct {
		name       string
		got        []float32
		want       []float64
		tol, floor float64
	}{
		{"out", r.out, out, attnTolFwd, 0}, {"lse", r.lse, lse, attnTolFwd, 0},
		{"dq", r.dq, dq, attnTolGrad, floor(gq)}, {"dk", r.dk, dk, attnTolGrad, floor(gk)},
		{"dv", r.dv, dv, attnTolGrad, floor(gv)}, {"dqscale", r.dqs, dqs, attnTolGrad, floor(gs)},
	} {
		if c.want == nil {
			continue
		}
		m := 0.0
		for _, w := range c.want {
			m = max(m, math.Abs(w))
		}
		worst, at := 0.0, 0
		for i, g := range c.got {
			e := math.Abs(float64(g)-c.want[i]) / (c.tol*(math.Abs(c.want[i])+m) + c.floor)
			if math.IsNaN(e) || (c.tol*m+c.floor == 0 && float64(g) != c.want[i]) {
				e = math.Inf(1)
			}
			if e > worst || math.IsInf(e, 1) {
				worst, at = e, i
			}
		}
		if !(worst <= 1) {
			t.Errorf("%s: %s[%d] = %g, want %g (%.3g times the tolerance %g + floor %.3g)", what, c.name, at, c.got[at], c.want[at], worst, c.tol, c.floor)
		}
		if c.name == "out" || c.name == "lse" {
			fwd = max(fwd, worst*c.tol)
		} else {
			grad = max(grad, worst)
		}
	}
	return fwd, grad
}

func attnSameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestAttentionKernelsMatchRef sweeps awkward sizes at every level: forward
// split into query ranges, fused backward, and the two-pass backward, which
// must give the fused one's bits.
func TestAttentionKernelsMatchRef(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		seed := uint64(1)
		var worstF, worstG float64
		for _, nq := range []int{1, 7, 63, 130} {
			for _, nk := range []int{1, 5, 64, 130} {
				for _, d := range []int{1, 7, 64, 65} {
					for _, qs := range []bool{false, true} {
						seed++
						p := newAttnProblem(seed, nq, nk, d, 3, int(seed%3), qs, 1/math.Sqrt(float64(d)), 1)
						what := fmt.Sprintf("%v Nq %d Nk %d D %d qscale %v", lvl, nq, nk, d, qs)
						out, lse := p.forward([]int{32, 33, 96}) // ranges need not align with blocks
						r := p.backwardFused(out, lse)
						f, g := p.check(t, what, r)
						worstF, worstG = max(worstF, f), max(worstG, g)
						r2 := p.backwardTwoPass(out, lse, 64, 64)
						for i, pair := range [][2][]float32{{r.dq, r2.dq}, {r.dk, r2.dk}, {r.dv, r2.dv}, {r.dqs, r2.dqs}} {
							if j := attnSameBits(pair[0], pair[1]); j >= 0 {
								t.Errorf("%s: two-pass gradient #%d differs from fused at %d: %g vs %g", what, i, j, pair[1][j], pair[0][j])
							}
						}
					}
				}
			}
		}
		t.Logf("%v: worst normalised forward error %.3g (tolerance %g); worst gradient error %.3g of its tolerance", lvl, worstF, attnTolFwd, worstG)
	}
}

// TestAttentionKernelsSplitInvariant: the forward over one range and over
// many, and the two-pass backward over different range sizes, give the same
// bits (what makes the tensor op bit-identical for any worker count).
func TestAttentionKernelsSplitInvariant(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		p := newAttnProblem(99, 200, 150, 64, 2, 1, true, 0.125, 1)
		out, lse := p.forward(nil)
		out2, lse2 := p.forward([]int{1, 2, 40, 64, 100, 199})
		if i := attnSameBits(out, out2); i >= 0 {
			t.Errorf("%v: forward out differs with the split at %d", lvl, i)
		}
		if i := attnSameBits(lse, lse2); i >= 0 {
			t.Errorf("%v: forward lse differs with the split at %d", lvl, i)
		}
		a := p.backwardTwoPass(out, lse, 32, 7)
		b := p.backwardTwoPass(out, lse, 96, 150)
		c := p.backwardFused(out, lse)
		for i, g := range [][3][]float32{{a.dq, b.dq, c.dq}, {a.dk, b.dk, c.dk}, {a.dv, b.dv, c.dv}, {a.dqs, b.dqs, c.dqs}} {
			if j := attnSameBits(g[0], g[1]); j >= 0 {
				t.Errorf("%v: gradient #%d differs between splits at %d", lvl, i, j)
			}
			if j := attnSameBits(g[0], g[2]); j >= 0 {
				t.Errorf("%v: gradient #%d differs between two-pass and fused at %d", lvl, i, j)
			}
		}
		p.check(t, fmt.Sprintf("%v split", lvl), c)
	}
}

// TestAttentionKernelsLargeScores: scores in the thousands overflow exp
// without the running maximum; the results must stay finite and within the
// score-magnitude tolerance.
func TestAttentionKernelsLargeScores(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		for _, c := range []struct {
			nq, nk, d int
			qs        bool
		}{{70, 130, 64, false}, {33, 65, 7, true}, {130, 130, 65, true}} {
			p := newAttnProblem(5, c.nq, c.nk, c.d, 2, 0, c.qs, 10, 10)
			out, lse := p.forward([]int{40})
			m := 0.0
			for _, x := range lse {
				m = max(m, math.Abs(float64(x)))
			}
			if m < 1000 {
				t.Fatalf("max |lse| %g: scores not large enough", m)
			}
			what := fmt.Sprintf("%v large scores Nq %d Nk %d D %d", lvl, c.nq, c.nk, c.d)
			f, g := p.check(t, what, p.backwardFused(out, lse))
			t.Logf("%s: max|lse| %.3g, worst forward error %.3g, worst gradient error %.3g of its tolerance", what, m, f, g)
		}
	}
}

// TestAttentionKernelsDegenerate: no queries, a zero head dimension.
func TestAttentionKernelsDegenerate(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		p := newAttnProblem(3, 3, 5, 0, 1, 0, true, 1, 1)
		out, lse := p.forward(nil)
		for _, x := range lse {
			if math.Abs(float64(x)-math.Log(5)) > 1e-6 {
				t.Fatalf("%v: D = 0: lse %v, want log 5", lvl, x)
			}
		}
		r := p.backwardFused(out, lse)
		for _, x := range r.dqs {
			if x != 0 {
				t.Fatalf("%v: D = 0: dqscale %v, want 0", lvl, x)
			}
		}
		var ws AttnScratch
		AttentionForward(nil, nil, ref.AttnHead[float32]{Nk: 4, D: 3}, 0, 0, &ws)
	}
}

// TestAttnExpAccuracy checks the assembly exponential (through the softmax
// kernel, on scores chosen so that z - m covers [-90, 0]) against math.Exp:
// within 2 ulp, and 0 below -87.
func TestAttnExpAccuracy(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		kern := attnKernelsFor(lvl)
		const L, nt = attnLanes, attnTile
		st, vec := make([]float32, nt*L), make([]float32, 3*L)
		acc := make([]float32, L)
		worst := 0.0
		for trial := 0; trial < 200; trial++ {
			want := make([]float64, nt*L)
			for l := 0; l < L; l++ {
				vec[l], vec[L+l], vec[2*L+l] = 1, 0, 0 // s = 1, m = 0: p = exp(x) for x <= 0
				for j := 0; j < nt; j++ {
					x := -90 * float64(trial*nt*L+j*L+l) / (200 * nt * L)
					if j == 0 && l == 0 {
						x = 0
					}
					st[j*L+l] = float32(x)
					want[j*L+l] = math.Exp(float64(float32(x)))
				}
			}
			kern.softmax(st, nt, vec, acc, 0, L)
			for i, g := range st {
				w := want[i]
				if w < math.Exp(-87) {
					if lvl != Generic && g != 0 {
						t.Fatalf("%v: exp(%g) = %g, want 0 below -87", lvl, math.Log(w), g)
					}
					continue
				}
				ulp := float64(math.Nextafter32(float32(w), float32(math.Inf(1))) - float32(w))
				worst = max(worst, math.Abs(float64(g)-w)/ulp)
			}
		}
		if worst > 2 {
			t.Errorf("%v: exp error %.2f ulp", lvl, worst)
		}
		t.Logf("%v: exp worst error %.2f ulp", lvl, worst)
	}
}
