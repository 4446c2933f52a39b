package avx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// The elementwise kernels against the pure-Go reference (kernels/ref), at
// every dispatch level, on fresh N(0,1) inputs salted with the special values
// (±0, ±Inf, NaN, the largest and a subnormal float32) at lengths around the
// kernels' blocks, out of place and in place, into poisoned outputs (a value
// no op here yields from these inputs, so a skipped element shows).
// Tolerance: none, bit for bit (any NaN matches any NaN): an IEEE single
// operation rounds alike in a lane and in Go, and the float64 scalar ops
// round once from float64 in both.

var binaryLens = []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100, 1003}

func specialSlice(rng *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.MaxFloat32, 0x1p-140}
	s := randSlice(rng, n)
	for i := range s {
		if rng.IntN(8) == 0 {
			s[i] = specials[rng.IntN(len(specials))]
		}
	}
	return s
}

func poisoned(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = -1.2345e-21
	}
	return s
}

func sameBitsNaN(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			t.Fatalf("%s n=%d: element %d is %v (%#x), reference %v (%#x)", what, n, i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
}

func TestBinaryMatchesReference(t *testing.T) {
	kernels := []struct {
		name string
		op   ref.BinaryOp
		f    func(dst, a, b []float32)
	}{{"Add", ref.OpAdd, Add}, {"Sub", ref.OpSub, Sub}, {"Mul", ref.OpMul, Mul}}
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, k := range kernels {
			for _, n := range binaryLens {
				a, b := specialSlice(rng, n), specialSlice(rng, n)
				want := poisoned(n)
				ref.Binary(k.op, want, a, 1, b, 1)
				got := poisoned(n)
				k.f(got, a, b)
				sameBitsNaN(t, k.name, n, got, want)
				inA := append([]float32(nil), a...)
				k.f(inA, inA, b)
				sameBitsNaN(t, k.name+" in place of a", n, inA, want)
				inB := append([]float32(nil), b...)
				k.f(inB, a, inB)
				sameBitsNaN(t, k.name+" in place of b", n, inB, want)
			}
		}
	})
}

func TestBinaryScalarMatchesReference(t *testing.T) {
	kernels := []struct {
		name string
		op   ref.BinaryOp
		f    func(dst, a []float32, s float32)
	}{{"AddScalar", ref.OpAdd, AddScalar}, {"SubScalar", ref.OpSub, SubScalar}, {"MulScalar", ref.OpMul, MulScalar}}
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, k := range kernels {
			for _, n := range binaryLens {
				for _, s := range []float32{float32(rng.NormFloat64()), 0, float32(math.Inf(1)), float32(math.NaN())} {
					a := specialSlice(rng, n)
					want := poisoned(n)
					ref.Binary(k.op, want, a, 1, []float32{s}, 0)
					got := poisoned(n)
					k.f(got, a, s)
					sameBitsNaN(t, k.name, n, got, want)
					k.f(a, a, s)
					sameBitsNaN(t, k.name+" in place", n, a, want)
				}
			}
		}
	})
}

func TestScalar64MatchesReference(t *testing.T) {
	kernels := []struct {
		name string
		op   ref.UnaryOp
		f    func(dst, a []float32, p float64)
	}{{"Scale64", ref.OpScale, Scale64}, {"AddScalar64", ref.OpAddScalar, AddScalar64}}
	forLevels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(25, 26))
		for _, k := range kernels {
			for _, n := range binaryLens {
				// p not a float32 (rounding it first would change results),
				// a float32, and values that overflow float32 or vanish.
				for _, p := range []float64{rng.NormFloat64(), 1 / math.Sqrt(6), 0.5, -3e38, 1e-45, math.NaN()} {
					a := specialSlice(rng, n)
					want := poisoned(n)
					ref.Unary(k.op, want, a, p)
					got := poisoned(n)
					k.f(got, a, p)
					sameBitsNaN(t, k.name, n, got, want)
					k.f(a, a, p)
					sameBitsNaN(t, k.name+" in place", n, a, want)
				}
			}
		}
	})
}

// BenchmarkBinary: the kernels against the Go reference on 64k elements
// (three 256 KiB streams, in L2 on most cores), GB/s of the streams moved.
func BenchmarkBinary(b *testing.B) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(1, 2))
	x, y, dst := randSlice(rng, n), randSlice(rng, n), make([]float32, n)
	run := func(name string, streams int, f func()) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(streams * 4 * n))
			for b.Loop() {
				f()
			}
		})
	}
	run("Add", 3, func() { Add(dst, x, y) })
	run("ref_Add", 3, func() { ref.Binary(ref.OpAdd, dst, x, 1, y, 1) })
	run("MulScalar", 2, func() { MulScalar(dst, x, 0.7) })
	run("ref_MulScalar", 2, func() { ref.Binary(ref.OpMul, dst, x, 1, []float32{0.7}, 0) })
	run("Scale64", 2, func() { Scale64(dst, x, 1/math.Sqrt(6)) })
	run("ref_Scale64", 2, func() { ref.Unary(ref.OpScale, dst, x, 1/math.Sqrt(6)) })
}
