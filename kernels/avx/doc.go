// Package avx holds nori's SIMD CPU kernels in Go assembly (AVX2+FMA,
// AVX-512, AVX512_BF16), each with a pure-Go reference (kernels/ref or a
// reference in this package) it is tested against, and runtime dispatch on
// the CPU's features. Build with -tags noasm to use only the pure-Go code.
package avx
