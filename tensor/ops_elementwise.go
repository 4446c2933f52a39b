package tensor

import "fmt"

func binary(op BinaryOp, name string, a, b *Tensor) *Tensor {
	checkCompute(name, a, b)
	s, err := BroadcastShapes(a.shape, b.shape)
	if err != nil {
		panic(fmt.Sprintf("tensor.%s: %v", name, err))
	}
	out := emptyLike(a, s...)
	a.Backend().Binary(op, out, a.Expand(s...), b.Expand(s...))
	return out
}

// Add returns a + b with broadcasting.
func Add(a, b *Tensor) *Tensor { return binary(OpAdd, "Add", a, b) }

// Sub returns a - b with broadcasting.
func Sub(a, b *Tensor) *Tensor { return binary(OpSub, "Sub", a, b) }

// Mul returns a * b elementwise with broadcasting.
func Mul(a, b *Tensor) *Tensor { return binary(OpMul, "Mul", a, b) }

// Div returns a / b elementwise with broadcasting.
func Div(a, b *Tensor) *Tensor { return binary(OpDiv, "Div", a, b) }

// Maximum returns max(a, b) elementwise with broadcasting.
func Maximum(a, b *Tensor) *Tensor { return binary(OpMaximum, "Maximum", a, b) }

// Minimum returns min(a, b) elementwise with broadcasting.
func Minimum(a, b *Tensor) *Tensor { return binary(OpMinimum, "Minimum", a, b) }

// Eq returns 1 where a == b and 0 elsewhere, with broadcasting.
func Eq(a, b *Tensor) *Tensor { return binary(OpEq, "Eq", a, b) }

// Pow returns a^b elementwise with broadcasting.
func Pow(a, b *Tensor) *Tensor { return binary(OpPow, "Pow", a, b) }

// Unary applies op with parameter p (ignored by ops without one).
func Unary(op UnaryOp, a *Tensor, p float64) *Tensor {
	checkCompute("Unary", a)
	out := emptyLike(a, a.shape...)
	a.Backend().Unary(op, out, a, p)
	return out
}

// UnaryGrad returns dy * op'(x); y = op(x, p) is passed so kernels can reuse it.
func UnaryGrad(op UnaryOp, x, y, dy *Tensor, p float64) *Tensor {
	checkCompute("UnaryGrad", x, y, dy)
	checkSameShape("UnaryGrad", x, dy)
	checkSameShape("UnaryGrad", y, dy)
	dx := emptyLike(x, x.shape...)
	x.Backend().UnaryGrad(op, dx, x, y, dy, p)
	return dx
}

// Neg returns -a.
func Neg(a *Tensor) *Tensor { return Unary(OpNeg, a, 0) }

// Exp returns e^a.
func Exp(a *Tensor) *Tensor { return Unary(OpExp, a, 0) }

// Log returns the natural logarithm of a.
func Log(a *Tensor) *Tensor { return Unary(OpLog, a, 0) }

// Tanh returns tanh(a).
func Tanh(a *Tensor) *Tensor { return Unary(OpTanh, a, 0) }

// Sigmoid returns 1/(1+e^-a).
func Sigmoid(a *Tensor) *Tensor { return Unary(OpSigmoid, a, 0) }

// SiLU returns a*sigmoid(a).
func SiLU(a *Tensor) *Tensor { return Unary(OpSiLU, a, 0) }

// ReLU returns max(a, 0).
func ReLU(a *Tensor) *Tensor { return Unary(OpReLU, a, 0) }

// GELUTanh returns the tanh approximation of GELU.
func GELUTanh(a *Tensor) *Tensor { return Unary(OpGELUTanh, a, 0) }

// GELUErf returns the exact (erf) GELU.
func GELUErf(a *Tensor) *Tensor { return Unary(OpGELUErf, a, 0) }

// Sqrt returns the square root of a.
func Sqrt(a *Tensor) *Tensor { return Unary(OpSqrt, a, 0) }

// Square returns a*a.
func Square(a *Tensor) *Tensor { return Unary(OpSquare, a, 0) }

// Abs returns |a|.
func Abs(a *Tensor) *Tensor { return Unary(OpAbs, a, 0) }

// Scale returns s*a.
func Scale(a *Tensor, s float64) *Tensor { return Unary(OpScale, a, s) }

// AddScalar returns a+s.
func AddScalar(a *Tensor, s float64) *Tensor { return Unary(OpAddScalar, a, s) }

// PowScalar returns a^p.
func PowScalar(a *Tensor, p float64) *Tensor { return Unary(OpPowScalar, a, p) }

// ClampMin returns max(a, lo).
func ClampMin(a *Tensor, lo float64) *Tensor { return Unary(OpClampMin, a, lo) }

// ClampMax returns min(a, hi).
func ClampMax(a *Tensor, hi float64) *Tensor { return Unary(OpClampMax, a, hi) }

// Where returns cond != 0 ? a : b elementwise, broadcasting all three.
func Where(cond, a, b *Tensor) *Tensor {
	checkCompute("Where", cond, a, b)
	s, err := BroadcastShapes(cond.shape, a.shape)
	if err == nil {
		s, err = BroadcastShapes(s, b.shape)
	}
	if err != nil {
		panic(fmt.Sprintf("tensor.Where: cond %v, a %v, b %v: %v", cond.shape, a.shape, b.shape, err))
	}
	out := emptyLike(a, s...)
	a.Backend().Where(out, cond.Expand(s...), a.Expand(s...), b.Expand(s...))
	return out
}

// MaskedFill returns a with the elements where mask != 0 replaced by v; mask
// broadcasts to a's shape.
func MaskedFill(a, mask *Tensor, v float64) *Tensor {
	checkCompute("MaskedFill", a, mask)
	// The mask must broadcast to a's shape itself, not merely with it.
	if s, err := BroadcastShapes(a.shape, mask.shape); err != nil || !s.Equal(a.shape) {
		panic(fmt.Sprintf("tensor.MaskedFill: mask %v does not broadcast to %v", mask.shape, a.shape))
	}
	fill := emptyLike(a, 1)
	fill.Backend().Fill(fill, v)
	out := emptyLike(a, a.shape...)
	a.Backend().Where(out, mask.Expand(a.shape...), fill.Reshape().Expand(a.shape...), a)
	return out
}
