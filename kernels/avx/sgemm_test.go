package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/kernels/ref"
	"gonum.org/v1/gonum/blas"
)

// Sgemm tests compare with ref.Gemm (float64 accumulation, rounded once) on
// random N(0,1) inputs. Tolerance: the dot-product bound
// |got - want| <= (k+4) * 2^-24 * (|alpha| * sum_l |a_il b_lj| + |beta c_ij|),
// k sequential float32 FMAs plus alpha, beta and the final add, each rounding
// once. A wrong index, transpose or edge tile gives errors the size of the
// terms themselves.

// testLevels are the dispatch levels this machine can run.
func testLevels() []Level {
	var ls []Level
	for _, l := range []Level{AVX512, AVX2, Generic} {
		if l <= Detected() {
			ls = append(ls, l)
		}
	}
	return ls
}

// forLevels runs f at every available level, restoring the level after.
func forLevels(t *testing.T, f func(t *testing.T)) {
	old := Current()
	defer SetLevel(old)
	for _, l := range testLevels() {
		SetLevel(l)
		t.Run(l.String(), f)
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func nanSlice(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

func absSlice(s []float32) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(math.Abs(float64(v)))
	}
	return r
}

// gemmCase is one Sgemm problem with its stored operands.
type gemmCase struct {
	aT, bT        bool
	m, n, k       int
	lda, ldb, ldc int
	alpha, beta   float32
	a, b, c0      []float32
	poison        bool // C starts as NaN (beta must be 0)
}

func newGemmCase(rng *rand.Rand, aT, bT bool, m, n, k, pad int, alpha, beta float32) gemmCase {
	g := gemmCase{aT: aT, bT: bT, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if aT {
		ar, ac = k, m
	}
	br, bc := k, n
	if bT {
		br, bc = n, k
	}
	g.lda, g.ldb, g.ldc = max(1, ac)+pad, max(1, bc)+pad, max(1, n)+pad
	g.a = randSlice(rng, max(0, (ar-1)*g.lda+ac))
	g.b = randSlice(rng, max(0, (br-1)*g.ldb+bc))
	if beta == 0 {
		g.c0, g.poison = nanSlice(max(0, (m-1)*g.ldc+n)), true
	} else {
		g.c0 = randSlice(rng, max(0, (m-1)*g.ldc+n))
	}
	return g
}

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// check compares got with ref.Gemm under the bound of the file comment; the
// padding of C (columns past n) must be untouched.
func (g gemmCase) check(t *testing.T, what string, got []float32) {
	t.Helper()
	want := make([]float64, len(g.c0))
	bound := make([]float64, len(g.c0))
	c0 := make([]float64, len(g.c0))
	for i, v := range g.c0 {
		c0[i] = float64(v)
		if g.poison {
			c0[i] = 0
		}
	}
	copy(want, c0)
	a64, b64 := make([]float64, len(g.a)), make([]float64, len(g.b))
	aa, ba := make([]float64, len(g.a)), make([]float64, len(g.b))
	for i, v := range g.a {
		a64[i], aa[i] = float64(v), math.Abs(float64(v))
	}
	for i, v := range g.b {
		b64[i], ba[i] = float64(v), math.Abs(float64(v))
	}
	for i, v := range c0 {
		bound[i] = math.Abs(float64(g.beta) * v)
	}
	ref.Gemm(g.aT, g.bT, g.m, g.n, g.k, float64(g.alpha), a64, g.lda, b64, g.ldb, float64(g.beta), want, g.ldc, 0, g.m)
	ref.Gemm(g.aT, g.bT, g.m, g.n, g.k, math.Abs(float64(g.alpha)), aa, g.lda, ba, g.ldb, 1, bound, g.ldc, 0, g.m)
	u := 0x1p-24
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.ldc && i*g.ldc+j < len(got); j++ {
			idx := i*g.ldc + j
			if j >= g.n {
				if math.Float32bits(got[idx]) != math.Float32bits(g.c0[idx]) {
					t.Fatalf("%s: padding C[%d,%d] changed to %v", what, i, j, got[idx])
				}
				continue
			}
			tol := float64(g.k+4)*u*bound[idx] + 1e-30
			if d := math.Abs(float64(got[idx]) - want[idx]); !(d <= tol) {
				t.Fatalf("%s: C[%d,%d] = %v, want %v (|diff| %.3g > tol %.3g)", what, i, j, got[idx], want[idx], d, tol)
			}
		}
	}
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%v beta=%v",
		g.aT, g.bT, g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.alpha, g.beta)
}

func (g gemmCase) run(impl Implementation) []float32 {
	c := append([]float32(nil), g.c0...)
	impl.Sgemm(tr(g.aT), tr(g.bT), g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
	return c
}

var trPairs = [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}

func TestSgemmSizesTransposes(t *testing.T) {
	sizes := [][3]int{{1, 1, 1}, {7, 7, 7}, {1, 65, 63}, {63, 1, 65}, {63, 65, 1}, {65, 63, 7},
		{14, 32, 17}, {15, 33, 200}, {28, 64, 400}, {100, 7, 1000}, {7, 100, 513}, {130, 150, 70}}
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, sz := range sizes {
			for _, tp := range trPairs {
				for _, pad := range []int{0, 3} {
					g := newGemmCase(rng, tp[0], tp[1], sz[0], sz[1], sz[2], pad, 1, 0)
					g.check(t, g.String(), g.run(Implementation{}))
				}
			}
		}
	})
}

func TestSgemmAlphaBeta(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, tp := range trPairs {
			for _, ab := range [][2]float32{{0.7, -1.3}, {-2, 0}, {1, 1}, {0.5, 0.25}} {
				g := newGemmCase(rng, tp[0], tp[1], 47, 71, 300, 5, ab[0], ab[1])
				g.check(t, g.String(), g.run(Implementation{}))
			}
			// alpha = 0: C = beta*C, A and B not read (NaN there may not leak).
			for _, beta := range []float32{0, 1, -0.5} {
				g := newGemmCase(rng, tp[0], tp[1], 9, 11, 13, 2, 0, beta)
				for i := range g.a {
					g.a[i] = float32(math.NaN())
				}
				g.check(t, g.String(), g.run(Implementation{}))
			}
		}
	})
}

// TestSgemmLarge covers the multi-block paths (several kc, mc and nc blocks)
// at sizes the default blocking splits, and large K.
func TestSgemmLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large products")
	}
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, sz := range [][3]int{{1000, 33, 1000}, {250, 300, 2100}, {600, 1000, 40}} {
			for _, tp := range trPairs {
				g := newGemmCase(rng, tp[0], tp[1], sz[0], sz[1], sz[2], 1, -0.75, 0.5)
				g.check(t, g.String(), g.run(Implementation{}))
			}
		}
	})
}

// TestSgemmSmallBlocks runs the driver with tiny cache blocks so small
// problems cross every block boundary (nc, kc, mc) with partial tiles, at 1
// and 3 workers; the bits must not depend on the worker count.
func TestSgemmSmallBlocks(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		lv := gemmLevelNow()
		bl := blocking{kc: 16, mc: 2 * lv.mr, nc: 2 * lv.nr}
		rng := rand.New(rand.NewPCG(7, 8))
		for _, sz := range [][3]int{{5*lv.mr + 3, 5*lv.nr + 5, 53}, {3 * lv.mr, 4 * lv.nr, 32}, {1, 3*lv.nr + 1, 17}} {
			for _, tp := range trPairs {
				g := newGemmCase(rng, tp[0], tp[1], sz[0], sz[1], sz[2], 2, 1.5, -0.5)
				var runs [][]float32
				for _, w := range []int{1, 3} {
					c := append([]float32(nil), g.c0...)
					sgemmRun(lv, bl, g.aT, g.bT, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc, w)
					g.check(t, fmt.Sprintf("%v workers=%d", g, w), c)
					runs = append(runs, c)
				}
				sameBits(t, g.String(), runs[0], runs[1])
			}
		}
	})
}

func sameBits(t *testing.T, what string, x, y []float32) {
	t.Helper()
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			t.Fatalf("%s: element %d differs: %v vs %v", what, i, x[i], y[i])
		}
	}
}

// TestSgemmWorkersBitIdentical: Sgemm with 1 and 2 pool workers, and
// SgemmSerial, give the same bits on products large enough to be split.
func TestSgemmWorkersBitIdentical(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, sz := range [][3]int{{300, 200, 150}, {40, 900, 300}, {1000, 40, 64}} {
			for _, tp := range trPairs {
				g := newGemmCase(rng, tp[0], tp[1], sz[0], sz[1], sz[2], 0, 1, 0.5)
				old := par.SetWorkers(1)
				c1 := g.run(Implementation{})
				par.SetWorkers(2)
				c2 := g.run(Implementation{})
				par.SetWorkers(old)
				c3 := append([]float32(nil), g.c0...)
				Implementation{}.SgemmSerial(tr(g.aT), tr(g.bT), g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c3, g.ldc)
				sameBits(t, g.String()+" 1 vs 2 workers", c1, c2)
				sameBits(t, g.String()+" Sgemm vs SgemmSerial", c1, c3)
			}
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	impl := Implementation{}
	a := make([]float32, 12)
	cases := map[string]func(){
		"transpose": func() { impl.Sgemm('X', blas.NoTrans, 2, 2, 2, 1, a, 2, a, 2, 0, a, 2) },
		"m<0":       func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) },
		"lda":       func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) },
		"short a":   func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 4, 2, 4, 1, a, 4, a, 2, 0, a, 2) },
		"short c":   func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, 2, 7, 2, 1, a, 2, a, 7, 0, a, 7) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
