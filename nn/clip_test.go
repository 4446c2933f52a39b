package nn

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func TestClipGradNorm(t *testing.T) {
	for _, dt := range dtypes {
		ps := optimParams(dt, 9, []int{30, 20}, []int{20}, []int{7, 3, 2})
		ps = append(ps, optimParams(dt, 99, []int{4})...) // no gradient: counts as 0
		setGrads(ps[:3], 1)
		want := 0.0
		var before [][]float64
		for _, p := range ps[:3] {
			g := p.Var.Grad.Float64s()
			before = append(before, g)
			for _, v := range g {
				want += v * v
			}
		}
		want = math.Sqrt(want)
		if got := GradNorm(ps); math.Abs(got-want) > 1e-12*want {
			t.Fatalf("GradNorm %v, want %v", got, want)
		}
		// Above the threshold: returns the old norm, scales to maxNorm.
		maxNorm := want / 3
		if got := ClipGradNorm(ps, maxNorm); math.Abs(got-want) > 1e-12*want {
			t.Fatalf("ClipGradNorm returned %v, want %v", got, want)
		}
		scale := maxNorm / (want + 1e-6)
		for i, p := range ps[:3] {
			exp := make([]float64, len(before[i]))
			for j, v := range before[i] {
				exp[j] = v * scale
			}
			assertClose(t, "clipped", p.Var.Grad.Float64s(), exp, tolFor(dt))
		}
		if n := GradNorm(ps); math.Abs(n-maxNorm) > 1e-5*maxNorm {
			t.Fatalf("norm after clipping %v, want %v", n, maxNorm)
		}
		// Below the threshold: untouched.
		snap := ps[0].Var.Grad.Clone()
		ClipGradNorm(ps, 1e9)
		assertBits(t, "below threshold", ps[0].Var.Grad, snap)
		// Non-finite: returned, gradients untouched.
		ps[1].Var.Grad.Backend().Fill(ps[1].Var.Grad, math.Inf(1))
		if n := ClipGradNorm(ps, 1); !math.IsInf(n, 1) {
			t.Fatalf("norm of an infinite gradient %v", n)
		}
		assertBits(t, "non-finite", ps[0].Var.Grad, snap)
	}
}

func TestClipGradNormWorkersDeterministic(t *testing.T) {
	// Large gradients so the float64 sums are split into several chunks.
	run := func(workers int) (float64, *tensor.Tensor) {
		old := tensor.SetWorkers(workers)
		defer tensor.SetWorkers(old)
		ps := optimParams(tensor.Float32, 12, []int{300, 301}, []int{5000})
		setGrads(ps, 3)
		n := ClipGradNorm(ps, 1)
		return n, ps[0].Var.Grad
	}
	n1, g1 := run(1)
	n2, g2 := run(2)
	if math.Float64bits(n1) != math.Float64bits(n2) {
		t.Fatalf("norm %v with 1 worker, %v with 2", n1, n2)
	}
	assertBits(t, "clipped gradient 1 vs 2 workers", g1, g2)
}
