//go:build !amd64 || noasm

package avx

// Without assembly the level-1 routines use their Go loops (level1.go).

const haveLevel1Asm = false

func sdotAVX2(n int, x, y *float32) float32         { panic("avx: no assembly in this build") }
func saxpyAVX2(n int, alpha float32, x, y *float32) { panic("avx: no assembly in this build") }
func sscalAVX2(n int, alpha float32, x *float32)    { panic("avx: no assembly in this build") }
func ssumsqAVX2(n int, x *float32) float64          { panic("avx: no assembly in this build") }
