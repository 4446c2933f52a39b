//go:build cuda

package cuda

import "fmt"

// Random fills (src/rng.cu): Philox4x32-10 with tensor/rng.go's element
// mapping, so a GPU tensor equals the CPU tensor of the same (seed, stream):
// bit for bit for RandUniform; for RandNormal up to the last bit of CUDA's
// double log/cos/sin against Go's (1 float32 ulp in rare elements).
// Measured speed: not yet run on a GPU.

// RandUniform fills n contiguous float32 at dst with U[lo, hi): element i
// is lo + (hi-lo)*tensor.UniformAt(seed, stream, i) rounded to float32.
func (r *Runtime) RandUniform(dst Ptr, n int, seed, stream uint64, lo, hi float64) error {
	if n < 0 {
		return fmt.Errorf("cuda: RandUniform of %d elements", n)
	}
	if n == 0 {
		return nil
	}
	blocks := (n + 3) / 4
	return r.Launch("rng", "nori_rng_uniform", r.elementwiseGrid(blocks, 256), D1(256), 0, dst, n, seed, stream, lo, hi)
}

// RandNormal fills n contiguous float32 at dst with N(mean, std^2): element
// i is mean + std*tensor.NormalAt(seed, stream, i) rounded to float32.
func (r *Runtime) RandNormal(dst Ptr, n int, seed, stream uint64, mean, std float64) error {
	if n < 0 {
		return fmt.Errorf("cuda: RandNormal of %d elements", n)
	}
	if n == 0 {
		return nil
	}
	blocks := (n + 1) / 2
	return r.Launch("rng", "nori_rng_normal", r.elementwiseGrid(blocks, 256), D1(256), 0, dst, n, seed, stream, mean, std)
}
