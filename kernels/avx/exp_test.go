package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// vecLevels returns the levels this machine can run, lowest first.
func vecLevels() []Level {
	ls := []Level{Generic}
	for _, l := range []Level{AVX2, AVX512} {
		if l <= Detected() {
			ls = append(ls, l)
		}
	}
	return ls
}

// vecEachLevel runs f at every level available (SetLevel restored after).
func vecEachLevel(t *testing.T, f func(t *testing.T, l Level)) {
	t.Helper()
	defer SetLevel(SetLevel(Detected()))
	for _, l := range vecLevels() {
		SetLevel(l)
		t.Run(l.String(), func(t *testing.T) { f(t, l) })
	}
}

// vecSizes are the awkward lengths every kernel is tested at: below, at and
// around the 8- and 16-lane vector widths, and long.
var vecSizes = []int{1, 7, 8, 15, 16, 17, 63, 1000}

func vecRand(rng *rand.Rand, n int, mean, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(mean + std*rng.NormFloat64())
	}
	return v
}

// vecRound32 rounds float64 reference values to float32 (the precision of
// the result being checked).
func vecRound32(v []float64) {
	for i, x := range v {
		v[i] = float64(float32(x))
	}
}

// vecAbsScaled returns s*|v[i]|.
func vecAbsScaled(v []float32, s float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = s * math.Abs(float64(x))
	}
	return out
}

// vecCloseTo fails unless |got-want| <= rtol*(|want| + scale[i]) + 2^-149
// for every element (NaN matches NaN): scale holds the size of the terms
// that cancel in want.
func vecCloseTo(t *testing.T, what string, got []float32, want, scale []float64, rtol float64) {
	t.Helper()
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(w) && math.IsNaN(g) || g == w {
			continue
		}
		if !(math.Abs(g-w) <= rtol*(math.Abs(w)+scale[i])+0x1p-149) {
			t.Fatalf("%s: element %d of %d = %v, want %v (|err| %.3g > %.3g)", what, i, len(want), g, w, math.Abs(g-w), rtol*(math.Abs(w)+scale[i]))
		}
	}
}

func vecNaNs(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return v
}

func vecF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// vecClose fails unless |got-want| <= rtol*max(|want|, floor) + 2^-149 for
// every element (NaN matches NaN).
func vecClose(t *testing.T, what string, got []float32, want []float64, rtol, floor float64) {
	t.Helper()
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if g == w {
			continue
		}
		if !(math.Abs(g-w) <= rtol*max(math.Abs(w), floor)+0x1p-149) {
			t.Fatalf("%s: element %d of %d = %v, want %v (rel err %.3g > %.3g)", what, i, len(want), g, w, math.Abs(g-w)/max(math.Abs(w), floor), rtol)
		}
	}
}

// TestExpAccuracy measures the kernel exp against math.Exp over a dense
// sweep at every level: relative error at most expMaxRel for normal results,
// absolute 2^-149 for subnormal ones, and the special values.
func TestExpAccuracy(t *testing.T) {
	const expMaxRel = 8e-8
	var xs []float32
	const n = 1 << 22
	for i := 0; i < n; i++ {
		xs = append(xs, float32(-103+(88.7+103)*float64(i)/n))
	}
	for x := float32(-1); x <= 1; x += 0x1p-16 {
		xs = append(xs, x)
	}
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 88.72, 88.73, -87.3, -103.9, -104, -200, 200, 0x1p-30}
	xs = append(xs, special...)
	vecEachLevel(t, func(t *testing.T, l Level) {
		got := vecNaNs(len(xs))
		Exp(got, xs)
		worst, at := 0.0, float32(0)
		for i, x := range xs {
			w := math.Exp(float64(x))
			g := float64(got[i])
			if w < 0x1p-126 || w > math.MaxFloat32 {
				if !(math.Abs(g-w) <= 0x1p-149) && !(math.IsInf(w, 1) || w > math.MaxFloat32) {
					t.Fatalf("exp(%v) = %v, want %v (subnormal)", x, g, w)
				}
				if w > float64(math.MaxFloat32)*(1+0x1p-25) && !math.IsInf(g, 1) {
					t.Fatalf("exp(%v) = %v, want +Inf", x, g)
				}
				continue
			}
			if e := math.Abs(g-w) / w; e > worst {
				worst, at = e, x
			}
		}
		t.Logf("%v: max relative error %.3g (%.2f ulp of 2^-24) at x = %v", l, worst, worst/0x1p-24, at)
		if worst > expMaxRel {
			t.Fatalf("max relative error %.3g > %.3g", worst, expMaxRel)
		}
		nan := []float32{float32(math.NaN())}
		Exp(nan, nan)
		if !math.IsNaN(float64(nan[0])) {
			t.Fatalf("exp(NaN) = %v", nan[0])
		}
	})
}

// vecUnaryCase is one exp-family kernel with its ref op and tolerance.
type vecUnaryCase struct {
	name  string
	op    ref.UnaryOp
	fwd   func(dst, x []float32)
	grad  func(dx, x, dy []float32)
	scale float64 // input spread
	rtol  float64 // relative tolerance
	floor float64 // error measured relative to max(|want|, floor)
	// cond is the condition number of the float32 formula's argument:
	// GELU-tanh rounds 2u = 2c(x+kx^3) to float32 and exp multiplies that
	// relative error by |2u|, so its tolerance is rtol*|want|*(1+|2u|).
	cond func(x float64) float64
}

func vecGeluTanhCond(x float64) float64 { return math.Abs(2 * 0.7978845608 * (x + 0.044715*x*x*x)) }

var vecUnaryCases = []vecUnaryCase{
	{"Exp", ref.OpExp, Exp, nil, 20, 1.3e-7, 0, nil},
	{"Sigmoid", ref.OpSigmoid, Sigmoid, nil, 20, 3e-7, 0, nil},
	{"SiLU", ref.OpSiLU, SiLU, SiLUGrad, 20, 3e-7, 0, nil},
	{"GELUTanh", ref.OpGELUTanh, GELUTanh, GELUTanhGrad, 6, 3e-7, 0, vecGeluTanhCond},
	{"GELUErf", ref.OpGELUErf, GELUErf, GELUErfGrad, 6, 3e-7, 1, nil},
	{"Tanh", ref.OpTanh, Tanh, nil, 3, 3e-7, 0, nil},
	{"Tanh/wide", ref.OpTanh, Tanh, nil, 20, 3e-7, 0, nil},
}

// TestExpFamilyVsRef compares every exp-family kernel and gradient with
// ref.Unary/UnaryGrad in float64 on random inputs of awkward lengths (plus
// saturating and special values), into NaN-poisoned outputs, at each level.
func TestExpFamilyVsRef(t *testing.T) {
	for _, c := range vecUnaryCases {
		vecEachLevel(t, func(t *testing.T, l Level) {
			rng := rand.New(rand.NewPCG(1, uint64(c.op)))
			for _, n := range append(vecSizes, 4099) {
				x := vecRand(rng, n, 0, c.scale)
				if n >= 7 {
					x[0], x[1], x[2], x[3], x[4] = 95, -95, 0, 30, -30
				}
				xd := vecF64(x)
				want := make([]float64, n)
				ref.Unary(c.op, want, xd, 0)
				vecRound32(want)
				got := vecNaNs(n)
				c.fwd(got, x)
				sc := make([]float64, n)
				for i, v := range xd {
					sc[i] = max(math.Abs(want[i]), c.floor) - math.Abs(want[i])
					if c.cond != nil {
						sc[i] += math.Abs(want[i]) * c.cond(v)
					}
				}
				vecCloseTo(t, fmt.Sprintf("%s %v n=%d", c.name, l, n), got, want, sc, c.rtol)
				if c.grad == nil {
					continue
				}
				dy := vecRand(rng, n, 0, 1)
				wg := make([]float64, n)
				ref.UnaryGrad(c.op, wg, xd, nil, vecF64(dy), 0)
				vecRound32(wg)
				gg := vecNaNs(n)
				c.grad(gg, x, dy)
				// The derivatives cross zero (SiLU' at x = -1.28): the
				// error is relative to the size of their terms, |dy|.
				gs := vecAbsScaled(dy, 0.5)
				for i, v := range xd {
					if c.cond != nil {
						gs[i] += math.Abs(wg[i]) * c.cond(v)
					}
				}
				vecCloseTo(t, fmt.Sprintf("%s' %v n=%d", c.name, l, n), gg, wg, gs, c.rtol)
			}
		})
	}
}
