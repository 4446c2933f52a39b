//go:build amd64 && !noasm

package avx

// Assembly in binary_amd64.s; each kernel covers a multiple of 8 (the
// float64 ones: 4) leading elements of n, the callers in binary.go finish
// the tail.

//go:noescape
func addAVX2(n int, dst, a, b *float32)

//go:noescape
func subAVX2(n int, dst, a, b *float32)

//go:noescape
func mulAVX2(n int, dst, a, b *float32)

//go:noescape
func addScalarAVX2(n int, dst, a *float32, s float32)

//go:noescape
func subScalarAVX2(n int, dst, a *float32, s float32)

//go:noescape
func mulScalarAVX2(n int, dst, a *float32, s float32)

//go:noescape
func scale64AVX2(n int, dst, a *float32, p float64)

//go:noescape
func addScalar64AVX2(n int, dst, a *float32, p float64)
