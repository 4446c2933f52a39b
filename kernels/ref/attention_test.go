package ref_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
	"github.com/nori-ml/nori/tensor"
)

// Kernel-level tests of the flash attention kernels on one head with strided
// rows. The tensor package tests the full op (batches, heads, gradients)
// against a naive reference; here: odd head dimensions against a naive
// forward, invariance of every kernel to the [lo, hi) split and to the
// workspace's previous contents, and the fused backward against the two-pass
// one.

// attnHeadData holds one random head with row strides larger than D.
type attnHeadData[T ref.Float] struct {
	h               ref.AttnHead[T]
	dout, out, lse  []T
	dq, dk, dv, dqs []T
}

func newAttnHead[T ref.Float](seed uint64, nq, nk, d int, qscale bool) *attnHeadData[T] {
	r := tensor.NewRNG(seed, 0)
	rnd := func(n int, lo float64) []T {
		x := make([]T, n)
		for i := range x {
			x[i] = T(lo + r.NormFloat64())
		}
		return x
	}
	qs, ks, vs := 3*d+1, 2*d+3, d+5 // padded rows, as in views of a packed projection
	h := ref.AttnHead[T]{
		Q: rnd(nq*qs, 0), K: rnd(nk*ks, 0), V: rnd(nk*vs, 0),
		QStride: qs, KStride: ks, VStride: vs,
		Nq: nq, Nk: nk, D: d, Scale: 1 / math.Sqrt(float64(d)),
	}
	if qscale {
		h.QScale = rnd(nq, 1)
	}
	return &attnHeadData[T]{h: h, dout: rnd(nq*d, 0)}
}

// naiveForward returns out and lse of the head in float64 from the full
// score matrix.
func (a *attnHeadData[T]) naiveForward() (out, lse []float64) {
	h := a.h
	out, lse = make([]float64, h.Nq*h.D), make([]float64, h.Nq)
	for i := 0; i < h.Nq; i++ {
		s := h.Scale
		if h.QScale != nil {
			s *= float64(h.QScale[i])
		}
		z := make([]float64, h.Nk)
		m := math.Inf(-1)
		for j := range z {
			for c := 0; c < h.D; c++ {
				z[j] += float64(h.Q[i*h.QStride+c]) * float64(h.K[j*h.KStride+c])
			}
			z[j] *= s
			m = max(m, z[j])
		}
		sum := 0.0
		for _, x := range z {
			sum += math.Exp(x - m)
		}
		for j, x := range z {
			p := math.Exp(x-m) / sum
			for c := 0; c < h.D; c++ {
				out[i*h.D+c] += p * float64(h.V[j*h.VStride+c])
			}
		}
		lse[i] = m + math.Log(sum)
	}
	return out, lse
}

// run computes everything with the given split points (ranges
// [0,p1), [p1,p2), ..., [pk, n)) and a dirty workspace.
func (a *attnHeadData[T]) run(qsplit, ksplit []int) {
	h := a.h
	nq, nk, d := h.Nq, h.Nk, h.D
	nan := T(math.NaN())
	fill := func(n int) []T {
		x := make([]T, n)
		for i := range x {
			x[i] = nan
		}
		return x
	}
	a.out, a.lse, a.dq, a.dk, a.dv = fill(nq*d), fill(nq), fill(nq*d), fill(nk*d), fill(nk*d)
	if h.QScale != nil {
		a.dqs = fill(nq)
	}
	ws := make([]float64, ref.AttentionWorkspace(d))
	for i := range ws {
		ws[i] = math.NaN()
	}
	ranges := func(split []int, n int, f func(lo, hi int)) {
		lo := 0
		for _, p := range append(split, n) {
			f(lo, p)
			lo = p
		}
	}
	ranges(qsplit, nq, func(lo, hi int) { ref.AttentionForward(a.out, a.lse, h, lo, hi, ws) })
	ranges(qsplit, nq, func(lo, hi int) { ref.AttentionBackwardQ(a.dq, a.dqs, a.dout, a.out, a.lse, h, lo, hi, ws) })
	ranges(ksplit, nk, func(lo, hi int) { ref.AttentionBackwardKV(a.dk, a.dv, a.dout, a.out, a.lse, h, lo, hi, ws) })
}

func attnSameBits[T ref.Float](t *testing.T, what string, a, b []T) {
	t.Helper()
	for i := range a {
		if math.Float64bits(float64(a[i])) != math.Float64bits(float64(b[i])) {
			t.Fatalf("%s[%d]: %v vs %v", what, i, a[i], b[i])
		}
	}
}

func testAttentionSplits[T ref.Float](t *testing.T) {
	for _, qscale := range []bool{false, true} {
		a := newAttnHead[T](1, 37, 150, 7, qscale)
		a.run(nil, nil)
		whole := *a
		a.run([]int{5, 21, 22}, []int{3, 66, 129})
		name := fmt.Sprintf("%T qscale=%v", T(0), qscale)
		attnSameBits(t, name+" out", a.out, whole.out)
		attnSameBits(t, name+" lse", a.lse, whole.lse)
		attnSameBits(t, name+" dq", a.dq, whole.dq)
		attnSameBits(t, name+" dk", a.dk, whole.dk)
		attnSameBits(t, name+" dv", a.dv, whole.dv)
		attnSameBits(t, name+" dqscale", a.dqs, whole.dqs)
		// The fused AttentionBackward agrees bit for bit with the two passes.
		dq, dk, dv := make([]T, len(a.dq)), make([]T, len(a.dk)), make([]T, len(a.dv))
		var dqs []T
		if qscale {
			dqs = make([]T, len(a.dqs))
		}
		ws := make([]float64, ref.AttentionBackwardWorkspace(a.h.Nq, a.h.D))
		for i := range ws {
			ws[i] = math.NaN()
		}
		ref.AttentionBackward(dq, dk, dv, dqs, a.dout, a.out, a.lse, a.h, ws)
		attnSameBits(t, name+" AttentionBackward dq", dq, whole.dq)
		attnSameBits(t, name+" AttentionBackward dk", dk, whole.dk)
		attnSameBits(t, name+" AttentionBackward dv", dv, whole.dv)
		attnSameBits(t, name+" AttentionBackward dqscale", dqs, whole.dqs)
	}
}

func TestAttentionSplitsBitIdentical(t *testing.T) {
	testAttentionSplits[float32](t)
	testAttentionSplits[float64](t)
}

// testAttentionHeadDims checks the forward for head dimensions other than
// the tensor tests' 1, 7, 64, with tolerance |err| <= tol*(|want| + max|want|):
// 1e-12 in float64, 1e-6 in float32 (float64 arithmetic, one rounding).
func testAttentionHeadDims[T ref.Float](t *testing.T, tol float64) {
	for _, d := range []int{2, 3, 16, 63, 65, 128} {
		for _, nk := range []int{1, 65} {
			a := newAttnHead[T](uint64(10*d+nk), 19, nk, d, true)
			a.run(nil, nil)
			out, lse := a.naiveForward()
			check := func(what string, got []T, want []float64) {
				m := 0.0
				for _, w := range want {
					m = max(m, math.Abs(w))
				}
				for i, g := range got {
					if e := math.Abs(float64(g) - want[i]); !(e <= tol*(math.Abs(want[i])+m)) {
						t.Fatalf("%T D=%d Nk=%d %s[%d] = %v, want %v", T(0), d, nk, what, i, g, want[i])
					}
				}
			}
			check("out", a.out, out)
			check("lse", a.lse, lse)
			for _, g := range [][]T{a.dq, a.dk, a.dv, a.dqs} {
				for i, x := range g {
					if math.IsNaN(float64(x)) {
						t.Fatalf("%T D=%d Nk=%d: gradient element %d not written", T(0), d, nk, i)
					}
				}
			}
		}
	}
}

func TestAttentionHeadDims(t *testing.T) {
	testAttentionHeadDims[float32](t, 1e-6)
	testAttentionHeadDims[float64](t, 1e-12)
}
