package tensor

import (
	"math"
	"testing"
)

// Known-answer vectors of Philox4x32-10 from the Random123 distribution
// (kat_vectors).
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct {
		ctr    [4]uint32
		k0, k1 uint32
		want   [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, 0, 0, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, 0xffffffff, 0xffffffff,
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0,
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		if got := Philox(c.ctr, c.k0, c.k1); got != c.want {
			t.Errorf("Philox(%x, %x %x) = %x, want %x", c.ctr, c.k0, c.k1, got, c.want)
		}
	}
}

func TestRandDeterministicAcrossWorkers(t *testing.T) {
	defer SetWorkers(SetWorkers(1))
	a := RandNormal(42, 0, 1, 1001, 37).Float32s()
	u := RandUniform(42, -2, 3, 50001).Float32s()
	SetWorkers(2)
	b := RandNormal(42, 0, 1, 1001, 37).Float32s()
	v := RandUniform(42, -2, 3, 50001).Float32s()
	if !equalF32(a, b) || !equalF32(u, v) {
		t.Fatal("random tensors differ between 1 and 2 workers")
	}
	// Element i depends on i only: a prefix of a bigger tensor is the same.
	small := RandNormal(42, 0, 1, 100).Float32s()
	if !equalF32(small, a[:100]) {
		t.Fatal("element values depend on the tensor size")
	}
	if c := RandNormal(43, 0, 1, 100).Float32s(); equalF32(c, small) {
		t.Fatal("different seeds gave the same values")
	}
}

func TestRandMoments(t *testing.T) {
	n := 200000
	x := RandNormal(7, 1.5, 2, n).Float64s()
	var m, m2, m4 float64
	for _, v := range x {
		m += v
	}
	m /= float64(n)
	for _, v := range x {
		d := v - m
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= float64(n)
	m4 /= float64(n)
	// Standard errors: mean 2/sqrt(n) ~ 0.0045, var ~ 4*sqrt(2/n) ~ 0.013.
	if math.Abs(m-1.5) > 0.03 || math.Abs(m2-4) > 0.08 || math.Abs(m4/(m2*m2)-3) > 0.1 {
		t.Fatalf("normal moments: mean %.4f var %.4f kurtosis %.3f", m, m2, m4/(m2*m2))
	}
	u := RandUniform(8, -1, 3, n).Float64s()
	var um, lo, hi float64 = 0, 10, -10
	for _, v := range u {
		um += v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	um /= float64(n)
	if math.Abs(um-1) > 0.02 || lo < -1 || hi >= 3 {
		t.Fatalf("uniform: mean %.4f range [%g, %g]", um, lo, hi)
	}
}

func TestRNGSequence(t *testing.T) {
	a, b := NewRNG(5, 1), NewRNG(5, 1)
	for i := 0; i < 1000; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("same (seed, stream) diverged")
		}
	}
	c := NewRNG(5, 2)
	if c.Uint64() == NewRNG(5, 1).Uint64() {
		t.Fatal("streams 1 and 2 start equal")
	}
	counts := make([]int, 7)
	r := NewRNG(9, 0)
	for i := 0; i < 70000; i++ {
		counts[r.Intn(7)]++
	}
	for k, n := range counts {
		if n < 9500 || n > 10500 {
			t.Fatalf("Intn(7) bucket %d has %d of 70000", k, n)
		}
	}
	p := r.Perm(50)
	seen := make([]bool, 50)
	for _, v := range p {
		if seen[v] {
			t.Fatal("Perm repeated a value")
		}
		seen[v] = true
	}
}
