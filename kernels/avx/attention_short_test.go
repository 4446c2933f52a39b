package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of the short-sequence path (attention_short.go) against kernels/ref's
// float64 attention with the tolerances of attention_test.go, at every level
// this CPU supports, on strided heads of packed projections, outputs
// poisoned with NaN.

// shortRun runs the short forward and backward of p with scratch ws.
func (p *attnProblem) shortRun(ws *AttnScratch) attnRes {
	r := attnRes{out: attnNaN32(p.nq * p.d), lse: attnNaN32(p.nq), dq: attnNaN32(p.nq * p.d), dk: attnNaN32(p.nk * p.d), dv: attnNaN32(p.nk * p.d)}
	if p.h32.QScale != nil {
		r.dqs = attnNaN32(p.nq)
	}
	AttentionShortForward(r.out, r.lse, p.h32, ws)
	AttentionShortBackward(r.dq, r.dk, r.dv, r.dqs, p.dout32, r.out, r.lse, p.h32, ws)
	return r
}

func TestAttentionShortMatchRef(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		seed := uint64(900)
		var worstF, worstG float64
		var ws AttnScratch // shared by every head: stale contents must not matter
		sizes := [][2]int{{1, 1}, {2, 2}, {3, 3}, {7, 7}, {16, 16}, {17, 17}, {33, 33}, {100, 100}, {128, 128}, {5, 70}, {70, 5}, {1, 128}}
		for _, sz := range sizes {
			for _, d := range []int{8, 64, 72} {
				for _, qs := range []bool{false, true} {
					seed++
					p := newAttnProblem(seed, sz[0], sz[1], d, 2, int(seed%2), qs, 1/math.Sqrt(float64(d)), 1)
					what := fmt.Sprintf("%v Nq %d Nk %d D %d qscale %v", lvl, sz[0], sz[1], d, qs)
					f, g := p.check(t, what, p.shortRun(&ws))
					worstF, worstG = max(worstF, f), max(worstG, g)
				}
			}
		}
		// large scores: nearly one-hot softmax rows
		p := newAttnProblem(77, 17, 17, 64, 2, 1, true, 10, 10)
		f, g := p.check(t, fmt.Sprintf("%v large scores", lvl), p.shortRun(&ws))
		worstF, worstG = max(worstF, f), max(worstG, g)
		t.Logf("%v: worst normalised forward error %.3g (tolerance %g); worst gradient error %.3g of its tolerance", lvl, worstF, attnTolFwd, worstG)
	}
}

// TestAttentionShortScratchReuse: a head gives the same bits with a fresh
// scratch and with one a larger head has left dirty.
func TestAttentionShortScratchReuse(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		p := newAttnProblem(5, 17, 17, 64, 2, 0, true, 0.125, 1)
		var fresh AttnScratch
		a := p.shortRun(&fresh)
		var dirty AttnScratch
		newAttnProblem(6, 100, 100, 64, 2, 1, false, 0.125, 1).shortRun(&dirty)
		b := p.shortRun(&dirty)
		for i, pair := range [][2][]float32{{a.out, b.out}, {a.lse, b.lse}, {a.dq, b.dq}, {a.dk, b.dk}, {a.dv, b.dv}, {a.dqs, b.dqs}} {
			if j := attnSameBits(pair[0], pair[1]); j >= 0 {
				t.Errorf("%v: output #%d differs at %d with a reused scratch", lvl, i, j)
			}
		}
	}
}

// TestAttentionShortNoAlloc: a grown scratch serves every head without
// allocating.
func TestAttentionShortNoAlloc(t *testing.T) {
	p := newAttnProblem(8, 33, 33, 64, 2, 1, true, 0.125, 1)
	var ws AttnScratch
	ws.Grow(max(AttentionShortScratchFloats(33, 33, 64, true), AttentionShortScratchFloats(33, 33, 64, false)))
	r := p.shortRun(&ws)
	allocs := testing.AllocsPerRun(5, func() {
		AttentionShortForward(r.out, r.lse, p.h32, &ws)
		AttentionShortBackward(r.dq, r.dk, r.dv, r.dqs, p.dout32, r.out, r.lse, p.h32, &ws)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per head, want 0", allocs)
	}
}

// TestAttnGemmKernel: the short path's gemm at every level against a float64
// product, awkward sizes, strided A (both orders) and accumulation, rows
// outside the product untouched. Tolerance: a float32 FMA chain of k terms,
// (k+1) 2^-24 of the sum of the terms' magnitudes.
func TestAttnGemmKernel(t *testing.T) {
	defer SetLevel(SetLevel(Detected()))
	r := rand.New(rand.NewPCG(3, 4))
	for _, lvl := range attnLevels() {
		SetLevel(lvl)
		kern := attnShortKernelsFor(lvl)
		for _, m := range []int{1, 3, 4, 7, 17} {
			for _, n := range []int{8, 16, 24, 64, 72, 104} {
				for _, k := range []int{0, 1, 7, 64} {
					for _, accum := range []bool{false, true} {
						cs, bs := n+5, n+3
						ai, aj := 1, m+2 // A stored transposed
						if k%2 == 1 {
							ai, aj = k+1, 1
						}
						a := attnRandF32(r, max(1, (m-1)*ai+(k-1)*aj+1), 1, 0)
						b := attnRandF32(r, max(1, (k-1)*bs+n), 1, 0)
						c := attnRandF32(r, m*cs, 1, 0)
						c0 := append([]float32(nil), c...)
						kern.gemm(c, cs, a, ai, aj, b, bs, m, n, k, accum)
						for i := 0; i < m; i++ {
							for x := 0; x < cs; x++ {
								got := c[i*cs+x]
								if x >= n {
									if math.Float32bits(got) != math.Float32bits(c0[i*cs+x]) {
										t.Fatalf("%v m %d n %d k %d: C[%d][%d] outside the product changed", lvl, m, n, k, i, x)
									}
									continue
								}
								want, mag := 0.0, 0.0
								if accum {
									want, mag = float64(c0[i*cs+x]), math.Abs(float64(c0[i*cs+x]))
								}
								for j := 0; j < k; j++ {
									t := float64(a[i*ai+j*aj]) * float64(b[j*bs+x])
									want, mag = want+t, mag+math.Abs(t)
								}
								if math.Abs(float64(got)-want) > float64(k+1)*0x1p-24*mag {
									t.Fatalf("%v m %d n %d k %d accum %v: C[%d][%d] = %g, want %g", lvl, m, n, k, accum, i, x, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
}
