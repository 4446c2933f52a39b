package avx

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFmaf checks the emulated float32 FMA against exact big.Float
// arithmetic rounded once to float32, on random operands of mixed
// magnitudes and on products that nearly cancel c (where float64 rounding
// then float32 rounding would double-round).
func TestFmaf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rf := func() float32 {
		return float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(40)-20))
	}
	for i := 0; i < 200000; i++ {
		a, b, c := rf(), rf(), rf()
		if i%2 == 1 {
			// c near -a*b, so that the sum cancels to a few bits.
			c = -float32(float64(a)*float64(b)) + float32(rng.NormFloat64())*0x1p-30
		}
		if i%5 == 0 {
			// a*b + c exactly halfway between two float32 values plus a tiny tail.
			c = float32(float64(a) * float64(b))
			a, b = 1+0x1p-23, float32(math.Ldexp(1, rng.IntN(20)-30))
		}
		x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
		want, _ := x.Float32()
		if got := fmaf(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fmaf(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
}

// TestSoftmaxExpAccuracy measures smExp against math.Exp: every float32 in
// [-87.3, 88.7] with its low 9 mantissa bits clear, and [-1, 1] in steps of
// 2^-20, each with k = round(x*log2 e) (the row maximum's k for x = m) and
// with k - 120 (an element 120 binades below its maximum), relative error
// within smExpMaxErr.
func TestSoftmaxExpAccuracy(t *testing.T) {
	worst, at := 0.0, float32(0)
	check := func(x float32, dk float32) {
		k := float32(math.RoundToEven(float64(x*expLog2E))) + dk
		got := float64(smExp(x, smMagic-k))
		want := math.Exp(float64(x)) * math.Ldexp(1, -int(k))
		if e := math.Abs(got-want) / want; e > worst || e != e {
			worst, at = e, x
		}
	}
	lo, hi := math.Float32bits(87.3), math.Float32bits(88.7)
	for b := uint32(0); b <= lo; b += 512 { // negative values: bits 0x80000000|b
		x := -math.Float32frombits(b)
		check(x, 0)
		if x > -70 {
			check(x, 55)
		}
	}
	for b := uint32(0); b <= hi; b += 512 {
		x := math.Float32frombits(b)
		check(x, 0)
		check(x, -1)
	}
	for i := -1 << 20; i <= 1<<20; i++ {
		check(float32(i)*0x1p-20, 0)
	}
	t.Logf("smExp: max relative error %.3g (%.3f units of 2^-24) at x = %v", worst, worst/0x1p-24, at)
	if !(worst <= smExpMaxErr) {
		t.Fatalf("smExp: max relative error %.3g at x = %v, stated %.3g", worst, at, float64(smExpMaxErr))
	}
}
