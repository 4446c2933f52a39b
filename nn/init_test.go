package nn

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// moments returns the mean and standard deviation of vals.
func moments(vals []float64) (mean, std float64) {
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	for _, v := range vals {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(vals)))
}

func TestFans(t *testing.T) {
	for _, c := range []struct {
		shape   tensor.Shape
		in, out int
	}{{tensor.Shape{}, 1, 1}, {tensor.Shape{5}, 5, 5}, {tensor.Shape{4, 3}, 3, 4}, {tensor.Shape{4, 3, 2, 2}, 12, 16}} {
		if in, out := Fans(c.shape); in != c.in || out != c.out {
			t.Fatalf("Fans(%v) = %d, %d, want %d, %d", c.shape, in, out, c.in, c.out)
		}
	}
}

func TestInitializerStatistics(t *testing.T) {
	const rows, cols = 300, 200 // 60000 draws: moment errors ~0.4% of std
	n := float64(rows * cols)
	cases := []struct {
		name           string
		init           Initializer
		mean, std      float64
		lo, hi         float64 // bounds every value must respect
		spanLo, spanHi float64 // the range must reach within 2% of these
	}{
		{"Normal", Normal(0.5, 2), 0.5, 2, math.Inf(-1), math.Inf(1), 0, 0},
		{"Uniform", Uniform(-3, 1), -1, 4 / math.Sqrt(12), -3, 1, -3, 1},
		{"XavierUniform", XavierUniform(2), 0, 2 * math.Sqrt(2.0/(rows+cols)), -2 * math.Sqrt(6.0/(rows+cols)), 2 * math.Sqrt(6.0/(rows+cols)), -2 * math.Sqrt(6.0/(rows+cols)), 2 * math.Sqrt(6.0/(rows+cols))},
		{"XavierNormal", XavierNormal(1), 0, math.Sqrt(2.0 / (rows + cols)), math.Inf(-1), math.Inf(1), 0, 0},
		{"KaimingNormal", KaimingNormal(math.Sqrt2), 0, math.Sqrt(2.0 / cols), math.Inf(-1), math.Inf(1), 0, 0},
		{"KaimingUniform", KaimingUniform(1), 0, 1 / math.Sqrt(cols), -math.Sqrt(3.0 / cols), math.Sqrt(3.0 / cols), -math.Sqrt(3.0 / cols), math.Sqrt(3.0 / cols)},
		// N(0,1) truncated to [-2, 2]: variance 1 - 2*2*phi(2)/(Phi(2)-Phi(-2)).
		{"TruncatedNormal", TruncatedNormal(0, 1, -2, 2), 0, math.Sqrt(1 - 4*math.Exp(-2)/math.Sqrt(2*math.Pi)/math.Erf(2/math.Sqrt2)), -2, 2, -2, 2},
		// Asymmetric truncation: [0, inf) gives the half-normal, mean sqrt(2/pi).
		{"TruncatedHalf", TruncatedNormal(0, 1, 0, math.Inf(1)), math.Sqrt(2 / math.Pi), math.Sqrt(1 - 2/math.Pi), 0, math.Inf(1), 0, 0},
	}
	for _, dt := range dtypes {
		for _, c := range cases {
			b := builderFor(dt, 77)
			vals := b.Tensor(c.init, rows, cols).Float64s()
			mean, std := moments(vals)
			if math.Abs(mean-c.mean) > 5*c.std/math.Sqrt(n) || math.Abs(std-c.std) > 0.02*c.std {
				t.Fatalf("%s %v: mean %g std %g, want %g, %g", c.name, dt, mean, std, c.mean, c.std)
			}
			lo, hi := vals[0], vals[0]
			for _, v := range vals {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			if lo < c.lo || hi > c.hi {
				t.Fatalf("%s %v: range [%g, %g] outside [%g, %g]", c.name, dt, lo, hi, c.lo, c.hi)
			}
			if c.spanLo != c.spanHi && (lo > c.spanLo+0.02*(c.spanHi-c.spanLo) || hi < c.spanHi-0.02*(c.spanHi-c.spanLo)) {
				t.Fatalf("%s %v: range [%g, %g] does not cover [%g, %g]", c.name, dt, lo, hi, c.spanLo, c.spanHi)
			}
		}
	}
	for _, c := range []struct {
		init Initializer
		v    float64
	}{{Zeros(), 0}, {Ones(), 1}, {Constant(-2.5), -2.5}} {
		for _, v := range NewBuilder(1).Tensor(c.init, 3, 5).Float64s() {
			if v != c.v {
				t.Fatalf("constant init gave %g, want %g", v, c.v)
			}
		}
	}
}

func TestBuilderStreams(t *testing.T) {
	// Same seed and call sequence: identical; consecutive parameters and
	// different seeds: different; float32 and float64 builders agree up to
	// rounding (the generator computes in float64).
	a, b, c := NewBuilder(5), NewBuilder(5), NewBuilder(6)
	d := NewBuilder64(5)
	for i := 0; i < 3; i++ {
		ta, tb, tc, td := a.Tensor(Normal(0, 1), 4, 9), b.Tensor(Normal(0, 1), 4, 9), c.Tensor(Normal(0, 1), 4, 9), d.Tensor(Normal(0, 1), 4, 9)
		assertBits(t, "same seed", ta, tb)
		if ta.At(0, 0) == tc.At(0, 0) {
			t.Fatal("different seeds gave the same value")
		}
		assertClose(t, "f32 vs f64", ta.Float64s(), td.Float64s(), 1e-7)
	}
	x, y := a.Tensor(Normal(0, 1), 10), a.Tensor(Normal(0, 1), 10)
	if x.At(0) == y.At(0) {
		t.Fatal("consecutive parameters share a stream")
	}
	// Parameters do not reproduce tensor.RandNormal data of the same seed.
	if NewBuilder(5).Tensor(Normal(0, 1), 10).At(0) == tensor.RandNormal(5, 0, 1, 10).At(0) {
		t.Fatal("builder stream collides with the data stream")
	}
}
