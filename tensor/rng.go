package tensor

import "math"

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011): a counter-based generator. The output block is a pure function of
// a 128-bit counter and a 64-bit key, so element i of a random tensor is
// computed from (seed, stream, i) alone: results do not depend on how the
// work is split over goroutines or devices, and a CUDA kernel can produce the
// same numbers.

const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox returns the 4x32-bit block for counter (c0..c3) and key (k0, k1).
func Philox(c [4]uint32, k0, k1 uint32) [4]uint32 {
	for r := 0; r < 10; r++ {
		p0 := uint64(philoxM0) * uint64(c[0])
		p1 := uint64(philoxM1) * uint64(c[2])
		c = [4]uint32{
			uint32(p1>>32) ^ c[1] ^ k0,
			uint32(p1),
			uint32(p0>>32) ^ c[3] ^ k1,
			uint32(p0),
		}
		k0 += philoxW0
		k1 += philoxW1
	}
	return c
}

// philoxBlock is the block at index i of (seed, stream).
func philoxBlock(seed, stream, i uint64) [4]uint32 {
	return Philox([4]uint32{uint32(i), uint32(i >> 32), uint32(stream), uint32(stream >> 32)}, uint32(seed), uint32(seed>>32))
}

// uniform01 maps 32 random bits to [0, 1) with 2^-32 resolution.
func uniform01(w uint32) float64 { return float64(w) * (1.0 / 4294967296.0) }

// UniformAt returns the i-th U[0,1) value of (seed, stream) as used by
// RandUniform.
func UniformAt(seed, stream, i uint64) float64 {
	b := philoxBlock(seed, stream, i/4)
	return uniform01(b[i%4])
}

// NormalAt returns the i-th standard normal value of (seed, stream) as used by
// RandNormal: Box-Muller on the block i/2, cosine branch for even i and sine
// branch for odd i.
func NormalAt(seed, stream, i uint64) float64 {
	b := philoxBlock(seed, stream, i/2)
	// u1 in (0, 1] so the log is finite; 64-bit resolution from two words.
	u1 := (float64(uint64(b[0])<<32|uint64(b[1])) + 1) / 18446744073709551616.0
	u2 := uniform01(b[2])
	r := math.Sqrt(-2 * math.Log(u1))
	if i%2 == 0 {
		return r * math.Cos(2*math.Pi*u2)
	}
	return r * math.Sin(2*math.Pi*u2)
}

// RNG is a sequential host generator on top of Philox for code that draws
// numbers one at a time (the prior, shuffles, initialisers' bookkeeping). Two
// RNGs with the same (seed, stream) produce the same sequence; use a distinct
// stream per independent consumer instead of sharing one RNG across
// goroutines.
type RNG struct {
	seed, stream, ctr uint64
	buf               [4]uint32
	n                 int
}

// NewRNG returns a generator for (seed, stream).
func NewRNG(seed, stream uint64) *RNG { return &RNG{seed: seed, stream: stream} }

// Uint32 returns 32 random bits.
func (r *RNG) Uint32() uint32 {
	if r.n == 0 {
		r.buf = philoxBlock(r.seed, r.stream, r.ctr)
		r.ctr++
		r.n = 4
	}
	r.n--
	return r.buf[3-r.n]
}

// Uint64 returns 64 random bits.
func (r *RNG) Uint64() uint64 { return uint64(r.Uint32())<<32 | uint64(r.Uint32()) }

// Float64 returns a value in [0, 1) with 53 bits of resolution.
func (r *RNG) Float64() float64 { return float64(r.Uint64()>>11) * (1.0 / (1 << 53)) }

// NormFloat64 returns a standard normal value (Box-Muller).
func (r *RNG) NormFloat64() float64 {
	u1 := 1 - r.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*r.Float64())
}

// Intn returns a uniform integer in [0, n) without modulo bias.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic("tensor.RNG.Intn: n <= 0")
	}
	un := uint64(n)
	limit := math.MaxUint64 - math.MaxUint64%un
	for {
		v := r.Uint64()
		if v < limit {
			return int(v % un)
		}
	}
}

// Perm returns a random permutation of [0, n) (Fisher-Yates).
func (r *RNG) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// RandUniform returns a float32 CPU tensor of U[lo, hi) values from (seed, 0).
func RandUniform(seed uint64, lo, hi float64, shape ...int) *Tensor {
	t := Zeros(shape...)
	t.Backend().RandUniform(t, seed, 0, lo, hi)
	return t
}

// RandNormal returns a float32 CPU tensor of N(mean, std^2) values from (seed, 0).
func RandNormal(seed uint64, mean, std float64, shape ...int) *Tensor {
	t := Zeros(shape...)
	t.Backend().RandNormal(t, seed, 0, mean, std)
	return t
}
