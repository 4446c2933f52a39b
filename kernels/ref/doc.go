// Package ref holds the plain-Go reference kernels of nori: simple, obviously
// correct loops over flat slices, generic over float32 and float64. They are
// the CPU backend's default implementation and the ground truth that the SIMD
// kernels (kernels/avx) and the CUDA kernels (kernels/cuda) are tested
// against. Each kernel states its algorithm and its accumulation order, which
// is part of its contract: results are deterministic.
package ref

// Float is the set of element types the kernels are written for.
type Float interface{ ~float32 | ~float64 }
