package prior

import (
	"math"
	"math/bits"
)

// FastRNG is a xoshiro256** generator (Blackman and Vigna, 2018) seeded from
// a Source. The row loops of the generators draw ~1e4-1e5 values per table;
// Philox in pure Go costs ~20 ns per 64 bits, xoshiro about 1 ns. A FastRNG
// is a pure function of the draws that seeded it, so tables stay a pure
// function of their generator's stream.
type FastRNG struct {
	s        [4]uint64
	spare    float64
	hasSpare bool
}

// NewFastRNG seeds a FastRNG with one 64-bit draw from r (expanded with
// splitmix64, as the xoshiro authors recommend).
func NewFastRNG(r Source) *FastRNG {
	f := &FastRNG{}
	x := r.Uint64()
	for i := range f.s {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		f.s[i] = z ^ (z >> 31)
	}
	return f
}

func rotl(x uint64, k uint) uint64 { return x<<k | x>>(64-k) }

// Uint64 returns 64 random bits.
func (f *FastRNG) Uint64() uint64 {
	s := &f.s
	out := rotl(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = rotl(s[3], 45)
	return out
}

// Float64 returns a value in [0, 1) with 53 bits of resolution.
func (f *FastRNG) Float64() float64 { return float64(f.Uint64()>>11) * (1.0 / (1 << 53)) }

// NormFloat64 returns a standard normal value (Box-Muller, both branches
// used: every other call returns the cached sine branch).
func (f *FastRNG) NormFloat64() float64 {
	if f.hasSpare {
		f.hasSpare = false
		return f.spare
	}
	a, b := f.normalPair()
	f.spare, f.hasSpare = b, true
	return a
}

// normalPair returns two independent standard normals from 64 random bits:
// 32 bits for the radius (u1 in (0, 1], so |z| <= 6.66) and 32 for the angle.
func (f *FastRNG) normalPair() (float64, float64) {
	w := f.Uint64()
	u1 := (float64(uint32(w>>32)) + 1) * (1.0 / 4294967296.0)
	u2 := float64(uint32(w)) * (1.0 / 4294967296.0)
	r := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	return r * c, r * s
}

// Intn returns a uniform integer in [0, n) (Lemire's multiply-shift with
// rejection, so without modulo bias).
func (f *FastRNG) Intn(n int) int {
	if n <= 0 {
		panic("prior.FastRNG.Intn: n <= 0")
	}
	un := uint64(n)
	for {
		hi, lo := bits.Mul64(f.Uint64(), un)
		if lo >= un || lo >= (-un)%un {
			return int(hi)
		}
	}
}

// FillNormal fills dst with N(mu, sd^2) values, two per 64 random bits.
func (f *FastRNG) FillNormal(dst []float64, mu, sd float64) {
	i := 0
	for ; i+1 < len(dst); i += 2 {
		a, b := f.normalPair()
		dst[i], dst[i+1] = mu+sd*a, mu+sd*b
	}
	if i < len(dst) {
		dst[i] = mu + sd*f.NormFloat64()
	}
}

// FillUniform fills dst with U[lo, hi) values.
func (f *FastRNG) FillUniform(dst []float64, lo, hi float64) {
	for i := range dst {
		dst[i] = lo + (hi-lo)*f.Float64()
	}
}
