//go:build !amd64 || noasm

package avx

// Without assembly the elementwise routines use their Go loops (binary.go).

func addAVX2(n int, dst, a, b *float32)                 { panic("avx: no assembly in this build") }
func subAVX2(n int, dst, a, b *float32)                 { panic("avx: no assembly in this build") }
func mulAVX2(n int, dst, a, b *float32)                 { panic("avx: no assembly in this build") }
func addScalarAVX2(n int, dst, a *float32, s float32)   { panic("avx: no assembly in this build") }
func subScalarAVX2(n int, dst, a *float32, s float32)   { panic("avx: no assembly in this build") }
func mulScalarAVX2(n int, dst, a *float32, s float32)   { panic("avx: no assembly in this build") }
func scale64AVX2(n int, dst, a *float32, p float64)     { panic("avx: no assembly in this build") }
func addScalar64AVX2(n int, dst, a *float32, p float64) { panic("avx: no assembly in this build") }
