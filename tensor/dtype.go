package tensor

import (
	"fmt"
	"math"
)

// DType is the element type of a tensor's storage.
//
// Float32 is the compute type of the engine. Float64 exists on the CPU only, as
// a reference precision: gradient checks and kernel tests run the same ops in
// float64 to separate algorithmic error from rounding error. BFloat16 is a
// storage type (checkpoints, inference weights); ops compute on it after
// converting to Float32.
type DType uint8

const (
	Float32 DType = iota
	Float64
	BFloat16
)

// Size returns the number of bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float32:
		return 4
	case Float64:
		return 8
	case BFloat16:
		return 2
	}
	panic(fmt.Sprintf("tensor: unknown dtype %d", d))
}

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case BFloat16:
		return "bfloat16"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Float is the set of element types the compute kernels are written for.
type Float interface{ ~float32 | ~float64 }

// F32ToBF16 converts a float32 to bfloat16 with round-to-nearest-even.
// NaN stays NaN (quiet, sign kept); values that round past the largest finite
// bfloat16 become ±Inf, as IEEE rounding requires.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep sign and make sure a mantissa bit survives truncation
		return uint16(b>>16) | 0x0040
	}
	// Add 0x7fff plus the lowest kept bit: ties go to the even upper half.
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// BF16ToF32 converts a bfloat16 to float32 exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// RoundBF16 returns f rounded to the nearest bfloat16 value, as a float32.
func RoundBF16(f float32) float32 { return BF16ToF32(F32ToBF16(f)) }
