//go:build amd64 && !noasm

package avx

// Assembly in level1_amd64.s; each kernel covers a multiple of 8 (sumsq: 4)
// leading elements of n, the callers in level1.go finish the tail.

//go:noescape
func sdotAVX2(n int, x, y *float32) float32

//go:noescape
func saxpyAVX2(n int, alpha float32, x, y *float32)

//go:noescape
func sscalAVX2(n int, alpha float32, x *float32)

//go:noescape
func ssumsqAVX2(n int, x *float32) float64

const haveLevel1Asm = true
