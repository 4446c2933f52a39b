package ref

import "math"

// BinaryOp selects the operation of Binary.
type BinaryOp uint8

// Binary operations.
const (
	OpAdd     BinaryOp = iota // a + b
	OpSub                     // a - b
	OpMul                     // a * b
	OpDiv                     // a / b
	OpMaximum                 // max(a, b), NaN if either is NaN
	OpMinimum                 // min(a, b), NaN if either is NaN
	OpEq                      // 1 where a == b, else 0
	OpPow                     // a^b (math.Pow)
)

// Binary computes dst[i] = a[i*aInc] op b[i*bInc] for i < len(dst). A stride
// of 0 broadcasts one element. The op is chosen once, outside the loops, and
// the common layouts (both unit stride, one operand a broadcast scalar) get
// their own loops so the compiler can drop bounds checks. Add, Sub, Mul, Div,
// Maximum and Minimum compute in T; Pow computes in float64 and rounds once.
// dst may alias a or b exactly (same slice, unit stride).
func Binary[T Float](op BinaryOp, dst, a []T, aInc int, b []T, bInc int) {
	n := len(dst)
	if n == 0 {
		return
	}
	switch {
	case aInc == 1 && bInc == 1:
		binaryContig(op, dst, a[:n], b[:n])
	case aInc == 1 && bInc == 0:
		binaryScalarB(op, dst, a[:n], b[0])
	case aInc == 0 && bInc == 1:
		binaryScalarA(op, dst, a[0], b[:n])
	default:
		binaryStrided(op, dst, a, aInc, b, bInc)
	}
}

func ewEq[T Float](x, y T) T {
	if x == y {
		return 1
	}
	return 0
}

func ewPow[T Float](x, y T) T { return T(math.Pow(float64(x), float64(y))) }

func binaryContig[T Float](op BinaryOp, dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a[i] + b[i]
		}
	case OpSub:
		for i := range dst {
			dst[i] = a[i] - b[i]
		}
	case OpMul:
		for i := range dst {
			dst[i] = a[i] * b[i]
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a[i] / b[i]
		}
	case OpMaximum:
		for i := range dst {
			dst[i] = max(a[i], b[i])
		}
	case OpMinimum:
		for i := range dst {
			dst[i] = min(a[i], b[i])
		}
	case OpEq:
		for i := range dst {
			dst[i] = ewEq(a[i], b[i])
		}
	case OpPow:
		for i := range dst {
			dst[i] = ewPow(a[i], b[i])
		}
	default:
		panic("ref.Binary: unknown op")
	}
}

func binaryScalarB[T Float](op BinaryOp, dst, a []T, s T) {
	a = a[:len(dst)]
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a[i] + s
		}
	case OpSub:
		for i := range dst {
			dst[i] = a[i] - s
		}
	case OpMul:
		for i := range dst {
			dst[i] = a[i] * s
		}
	case OpDiv:
		// A true division per element, not a multiplication by 1/s, so the
		// result matches the strided path bit for bit.
		for i := range dst {
			dst[i] = a[i] / s
		}
	case OpMaximum:
		for i := range dst {
			dst[i] = max(a[i], s)
		}
	case OpMinimum:
		for i := range dst {
			dst[i] = min(a[i], s)
		}
	case OpEq:
		for i := range dst {
			dst[i] = ewEq(a[i], s)
		}
	case OpPow:
		for i := range dst {
			dst[i] = ewPow(a[i], s)
		}
	default:
		panic("ref.Binary: unknown op")
	}
}

func binaryScalarA[T Float](op BinaryOp, dst []T, s T, b []T) {
	b = b[:len(dst)]
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = s + b[i]
		}
	case OpSub:
		for i := range dst {
			dst[i] = s - b[i]
		}
	case OpMul:
		for i := range dst {
			dst[i] = s * b[i]
		}
	case OpDiv:
		for i := range dst {
			dst[i] = s / b[i]
		}
	case OpMaximum:
		for i := range dst {
			dst[i] = max(s, b[i])
		}
	case OpMinimum:
		for i := range dst {
			dst[i] = min(s, b[i])
		}
	case OpEq:
		for i := range dst {
			dst[i] = ewEq(s, b[i])
		}
	case OpPow:
		for i := range dst {
			dst[i] = ewPow(s, b[i])
		}
	default:
		panic("ref.Binary: unknown op")
	}
}

func binaryStrided[T Float](op BinaryOp, dst, a []T, aInc int, b []T, bInc int) {
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a[i*aInc] + b[i*bInc]
		}
	case OpSub:
		for i := range dst {
			dst[i] = a[i*aInc] - b[i*bInc]
		}
	case OpMul:
		for i := range dst {
			dst[i] = a[i*aInc] * b[i*bInc]
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a[i*aInc] / b[i*bInc]
		}
	case OpMaximum:
		for i := range dst {
			dst[i] = max(a[i*aInc], b[i*bInc])
		}
	case OpMinimum:
		for i := range dst {
			dst[i] = min(a[i*aInc], b[i*bInc])
		}
	case OpEq:
		for i := range dst {
			dst[i] = ewEq(a[i*aInc], b[i*bInc])
		}
	case OpPow:
		for i := range dst {
			dst[i] = ewPow(a[i*aInc], b[i*bInc])
		}
	default:
		panic("ref.Binary: unknown op")
	}
}

// Where computes dst[i] = cond[i*cInc] != 0 ? a[i*aInc] : b[i*bInc] for
// i < len(dst) (stride 0 broadcasts). A NaN condition counts as true (it is
// not equal to 0).
func Where[T Float](dst, cond []T, cInc int, a []T, aInc int, b []T, bInc int) {
	if cInc == 1 && aInc == 1 && bInc == 1 {
		n := len(dst)
		cond, a, b = cond[:n], a[:n], b[:n]
		for i := range dst {
			if cond[i] != 0 {
				dst[i] = a[i]
			} else {
				dst[i] = b[i]
			}
		}
		return
	}
	for i := range dst {
		if cond[i*cInc] != 0 {
			dst[i] = a[i*aInc]
		} else {
			dst[i] = b[i*bInc]
		}
	}
}

// GatherStrided copies n elements with stride inc from src into dst[:n] (the
// strided-to-contiguous copy the CPU backend uses to feed the unit-stride
// kernels).
func GatherStrided[T Float](dst, src []T, n, inc int) {
	if inc == 1 {
		copy(dst[:n], src[:n])
		return
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = src[i*inc]
	}
}
