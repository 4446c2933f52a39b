package tensor

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/avx"
)

// The float32 attention op at every SIMD level this CPU supports (the other
// attention tests run at the detected level only): against the naive float64
// reference (tolerances: attention_test.go), and 1 versus 2 workers
// bit-identical (the backward runs fused on 1 worker and in two passes on 2
// when there is one head).
func TestAttentionLevels(t *testing.T) {
	defer avx.SetLevel(avx.SetLevel(avx.Detected()))
	defer SetWorkers(SetWorkers(1))
	for _, lvl := range []avx.Level{avx.Generic, avx.AVX2, avx.AVX512} {
		if lvl > avx.Detected() {
			continue
		}
		avx.SetLevel(lvl)
		worst := 0.0
		seed := uint64(500)
		for _, c := range []attnCase{
			{b: 2, h: 3, nq: 63, nk: 130, d: 64, qscale: true},
			{b: 1, h: 2, nq: 130, nk: 130, d: 65, self: true},
			{b: 2, h: 1, nq: 7, nk: 5, d: 7, qscale: true},
			{b: 1, h: 1, nq: 1, nk: 64, d: 1},
		} {
			c.scale, c.std = 1/math.Sqrt(float64(c.d)), 1
			seed += 10
			SetWorkers(2)
			worst = max(worst, attnTest(t, c, Float32, seed, 1e-6, 1e-5))
		}
		large := attnCase{b: 1, h: 2, nq: 70, nk: 130, d: 64, qscale: true, scale: 10, std: 10}
		worst = max(worst, attnTest(t, large, Float32, 11, 1e-6, -1))
		for _, c := range []attnCase{
			{b: 1, h: 1, nq: 300, nk: 130, d: 64, qscale: true, scale: 0.125, std: 1},
			{b: 2, h: 2, nq: 100, nk: 70, d: 7, scale: 0.5, std: 1},
		} {
			q, k, v, qs := attnInputs(c, Float32, 31)
			dout := attnRand(Float32, 34, 1, c.b, c.h, c.nq, c.d)
			SetWorkers(1)
			one := attnRun(q, k, v, qs, dout, c.scale)
			SetWorkers(2)
			two := attnRun(q, k, v, qs, dout, c.scale)
			for i := range one {
				if one[i] != nil && !attnSameBits(one[i].Float32s(), two[i].Float32s()) {
					t.Errorf("%v %v: output #%d differs between 1 and 2 workers", lvl, c, i)
				}
			}
		}
		t.Logf("%v: worst normalised float32 error %.3g", lvl, worst)
	}
}

// TestAttentionShortHeads: the float32 op on feature attention's shapes (many
// short heads, which run on avx's short path) at every SIMD level: against
// the naive float64 reference (tolerances as TestAttentionLevels) on strided
// views with and without qscale, outputs poisoned, and 1 versus 2 workers
// bit-identical.
func TestAttentionShortHeads(t *testing.T) {
	defer avx.SetLevel(avx.SetLevel(avx.Detected()))
	defer SetWorkers(SetWorkers(2))
	for _, lvl := range []avx.Level{avx.Generic, avx.AVX2, avx.AVX512} {
		if lvl > avx.Detected() {
			continue
		}
		avx.SetLevel(lvl)
		worst := 0.0
		seed := uint64(700)
		for _, n := range []int{1, 2, 3, 7, 16, 17, 33, 100} {
			b := 100
			if n > 33 {
				b = 50
			}
			c := attnCase{b: b, h: 2, nq: n, nk: n, d: 64, self: true, qscale: n%2 == 1, scale: 0.125, std: 1}
			if !avx.AttnShort(c.nq, c.nk, c.d) {
				t.Fatalf("%v is not a short-path shape", c)
			}
			seed += 10
			SetWorkers(2)
			worst = max(worst, attnTest(t, c, Float32, seed, 1e-6, 1e-5))
			q, k, v, qs := attnInputs(c, Float32, seed)
			dout := attnRand(Float32, seed+3, 1, c.b, c.h, c.nq, c.d)
			two := attnRun(q, k, v, qs, dout, c.scale)
			SetWorkers(1)
			one := attnRun(q, k, v, qs, dout, c.scale)
			for i := range one {
				if one[i] != nil && !attnSameBits(one[i].Float32s(), two[i].Float32s()) {
					t.Errorf("%v %v: output #%d differs between 1 and 2 workers", lvl, c, i)
				}
			}
		}
		// query rows attending to a different context, and D = 8
		for _, c := range []attnCase{
			{b: 40, h: 2, nq: 5, nk: 100, d: 64, qscale: true, scale: 0.125, std: 1},
			{b: 40, h: 3, nq: 100, nk: 9, d: 8, scale: 0.35, std: 1},
		} {
			seed += 10
			worst = max(worst, attnTest(t, c, Float32, seed, 1e-6, 1e-5))
		}
		t.Logf("%v: worst normalised float32 error %.3g", lvl, worst)
	}
}
