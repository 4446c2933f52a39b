package avx

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nori-ml/nori/kernels/ref"
)

// TestTanhAccuracy sweeps [-12, 12] in steps of 2^-12, tiny magnitudes
// (2^-140 ... 2^-1 in factors of 2^(1/4)) of both signs and the special
// values, at each level, against math.Tanh: relative error within 3e-7,
// exact signs and special values. It logs the worst error found.
func TestTanhAccuracy(t *testing.T) {
	var x []float32
	for v := -12.0; v <= 12; v += 1.0 / 4096 {
		x = append(x, float32(v))
	}
	for e := -140.0; e <= -1; e += 0.25 {
		v := float32(math.Exp2(e))
		x = append(x, v, -v)
	}
	x = append(x, tanhPolyMax, -tanhPolyMax, math.Nextafter32(tanhPolyMax, 0), 87, 88, 100, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0)
	vecEachLevel(t, func(t *testing.T, l Level) {
		got := vecNaNs(len(x))
		Tanh(got, x)
		worst, at := 0.0, float32(0)
		for i, v := range x {
			want := math.Tanh(float64(v))
			g := float64(got[i])
			if math.Signbit(g) != math.Signbit(want) || math.IsNaN(g) {
				t.Fatalf("%v: tanh(%g) = %g, want %g", l, v, g, want)
			}
			if want == 0 || math.IsInf(float64(v), 0) {
				if g != want {
					t.Fatalf("%v: tanh(%g) = %g, want %g", l, v, g, want)
				}
				continue
			}
			if e := math.Abs(g-want) / math.Abs(want); e > worst {
				worst, at = e, v
			}
		}
		t.Logf("%v: worst relative error %.3g (%.2f units of 2^-24) at x = %g over %d points", l, worst, worst*(1<<24), at, len(x))
		if worst > 3e-7 {
			t.Errorf("%v: worst relative error %.3g at x = %g, want <= 3e-7", l, worst, at)
		}
		nan := []float32{float32(math.NaN())}
		if Tanh(nan, nan); !math.IsNaN(float64(nan[0])) {
			t.Errorf("%v: tanh(NaN) = %g", l, nan[0])
		}
		// In place, across chunk boundaries.
		y := append([]float32(nil), x[:3*tanhChunk+5]...)
		Tanh(y, y)
		for i := range y {
			if math.Float32bits(y[i]) != math.Float32bits(got[i]) {
				t.Fatalf("%v: in-place result %d differs: %g vs %g", l, i, y[i], got[i])
			}
		}
	})
}

// BenchmarkTanh times Tanh against the float64 reference (ref.Unary, what
// the tensor op ran before) on 64K values of std 2 in cache; x_ref is the
// reference's time over Tanh's.
func BenchmarkTanh(b *testing.B) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(3, 4))
	x := vecRand(rng, n, 0, 2)
	dst := make([]float32, n)
	t0 := time.Now()
	for range 20 {
		ref.Unary(ref.OpTanh, dst, x, 0)
	}
	refNs := float64(time.Since(t0).Nanoseconds()) / 20
	b.ResetTimer()
	for range b.N {
		Tanh(dst, x)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(float64(n)/ns, "Gvalues/s")
	b.ReportMetric(refNs/ns, "x_ref")
}
