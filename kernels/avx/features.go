package avx

import (
	"fmt"
	"sync/atomic"
)

// Level is a SIMD instruction-set level a kernel can run at.
type Level int32

const (
	// Generic is the pure-Go fallback (no assembly).
	Generic Level = iota
	// AVX2 is AVX2 with FMA3 (256-bit vectors).
	AVX2
	// AVX512 is AVX-512 F, BW and VL (512-bit vectors).
	AVX512
)

func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2+fma"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("level(%d)", int32(l))
}

// detected is the best level this CPU and build support; hasBF16 whether
// VDPBF16PS (AVX512_BF16) is available. Set once in init (features_*.go).
var (
	detected Level
	hasBF16  bool
	current  atomic.Int32
	bf16On   atomic.Bool
)

func init() {
	detected, hasBF16 = detectCPU()
	current.Store(int32(detected))
	bf16On.Store(hasBF16)
}

// Detected returns the best level the CPU and this build support.
func Detected() Level { return detected }

// Current returns the level kernels dispatch to now.
func Current() Level { return Level(current.Load()) }

// HasBF16 reports whether the bf16 dot-product kernels (VDPBF16PS) are in use.
func HasBF16() bool { return bf16On.Load() }

// SetLevel makes kernels dispatch to at most l (never above Detected) and
// returns the previous level. Tests use it to run the AVX2 and generic paths
// on an AVX-512 machine; it is not meant to be changed while kernels run.
func SetLevel(l Level) Level {
	l = min(l, detected)
	if l < AVX512 {
		bf16On.Store(false)
	} else {
		bf16On.Store(hasBF16)
	}
	return Level(current.Swap(int32(l)))
}
