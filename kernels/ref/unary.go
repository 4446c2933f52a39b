package ref

import "math"

// UnaryOp selects the operation of Unary and UnaryGrad; p is the scalar
// parameter of the ops that take one.
type UnaryOp uint8

// Unary operations.
const (
	OpNeg       UnaryOp = iota // -x
	OpExp                      // e^x
	OpLog                      // ln x
	OpTanh                     // tanh x
	OpSigmoid                  // 1/(1+e^-x)
	OpSiLU                     // x*sigmoid(x)
	OpReLU                     // max(x, 0)
	OpGELUTanh                 // 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))
	OpGELUErf                  // 0.5x(1+erf(x/sqrt 2))
	OpSqrt                     // sqrt x
	OpSquare                   // x*x
	OpAbs                      // |x|
	OpScale                    // p*x
	OpAddScalar                // x+p
	OpPowScalar                // x^p
	OpClampMin                 // max(x, p)
	OpClampMax                 // min(x, p)
)

const (
	ewGeluC      = math.Sqrt2 / math.SqrtPi // sqrt(2/pi)
	ewGeluK      = 0.044715
	ewInvSqrt2Pi = 1 / (math.Sqrt2 * math.SqrtPi) // 1/sqrt(2 pi), the normal density at 0
)

func ewSigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Unary computes dst[i] = op(a[i], p) over contiguous slices of equal length.
// Every op except Neg, ReLU, Square and Abs (which are exact in T) computes
// in float64 from float64(a[i]) and p and rounds to T once, so float32
// results are the correctly rounded float64 formula whenever the float64
// math functions are accurate. The formulas are those on the op constants,
// evaluated as: Sigmoid 1/(1+exp(-x)), SiLU x*Sigmoid(x), GELUTanh
// x/(1+exp(-2u)) with u = sqrt(2/pi)(x+0.044715x^3) (algebraically
// 0.5x(1+tanh u), one exp instead of tanh: 3x faster), GELUErf with
// math.Erf. dst may alias a exactly.
func Unary[T Float](op UnaryOp, dst, a []T, p float64) {
	a = a[:len(dst)]
	switch op {
	case OpNeg:
		for i := range dst {
			dst[i] = -a[i]
		}
	case OpExp:
		for i := range dst {
			dst[i] = T(math.Exp(float64(a[i])))
		}
	case OpLog:
		for i := range dst {
			dst[i] = T(math.Log(float64(a[i])))
		}
	case OpTanh:
		for i := range dst {
			dst[i] = T(math.Tanh(float64(a[i])))
		}
	case OpSigmoid:
		for i := range dst {
			dst[i] = T(ewSigmoid(float64(a[i])))
		}
	case OpSiLU:
		for i := range dst {
			x := float64(a[i])
			dst[i] = T(x * ewSigmoid(x))
		}
	case OpReLU:
		for i := range dst {
			dst[i] = max(a[i], 0)
		}
	case OpGELUTanh:
		// 0.5x(1+tanh u) = x*sigmoid(2u): one exp instead of tanh's exp
		// plus division, and no cancellation for large negative u.
		for i := range dst {
			x := float64(a[i])
			dst[i] = T(x / (1 + math.Exp(-2*ewGeluC*(x+ewGeluK*x*x*x))))
		}
	case OpGELUErf:
		for i := range dst {
			x := float64(a[i])
			// Phi(x) = erfc(-x/sqrt2)/2: no cancellation in 1+erf for x << 0.
			dst[i] = T(0.5 * x * math.Erfc(-x/math.Sqrt2))
		}
	case OpSqrt:
		for i := range dst {
			dst[i] = T(math.Sqrt(float64(a[i])))
		}
	case OpSquare:
		// x*x in T equals the float64 product rounded to T: the product of
		// two float32 values is exact in float64.
		for i := range dst {
			dst[i] = a[i] * a[i]
		}
	case OpAbs:
		for i := range dst {
			dst[i] = T(math.Abs(float64(a[i])))
		}
	case OpScale:
		for i := range dst {
			dst[i] = T(p * float64(a[i]))
		}
	case OpAddScalar:
		for i := range dst {
			dst[i] = T(float64(a[i]) + p)
		}
	case OpPowScalar:
		for i := range dst {
			dst[i] = T(math.Pow(float64(a[i]), p))
		}
	case OpClampMin:
		for i := range dst {
			dst[i] = T(max(float64(a[i]), p))
		}
	case OpClampMax:
		for i := range dst {
			dst[i] = T(min(float64(a[i]), p))
		}
	default:
		panic("ref.Unary: unknown op")
	}
}

// UnaryGradInputs reports which of x and y UnaryGrad reads for op, so a
// caller with strided inputs gathers only those.
func UnaryGradInputs(op UnaryOp) (usesX, usesY bool) {
	switch op {
	case OpExp, OpTanh, OpSigmoid, OpSqrt:
		return false, true
	case OpNeg, OpScale, OpAddScalar:
		return false, false
	}
	return true, false
}

// UnaryGrad computes dx[i] = dy[i] * op'(x[i]) over contiguous slices of equal
// length, where y[i] = op(x[i], p) is the forward output. The derivative is
// computed in float64 and the product rounded to T once:
//
//	Neg -1; Exp y; Log 1/x; Tanh 1-y^2; Sigmoid y(1-y);
//	SiLU s(1+x(1-s)) with s = sigmoid(x); ReLU 1 if x > 0 else 0;
//	GELUTanh 0.5(1+t) + 0.5x(1-t^2)c(1+3k x^2) with t = tanh(c(x+k x^3)),
//	c = sqrt(2/pi), k = 0.044715 (evaluated through s = sigmoid(2c(x+k x^3)) =
//	(1+t)/2 as s + 2x s(1-s)c(1+3k x^2)); GELUErf Phi(x) + x phi(x) with
//	Phi(x) = 0.5(1+erf(x/sqrt 2)), phi(x) = exp(-x^2/2)/sqrt(2 pi);
//	Sqrt 0.5/y; Square 2x; Abs sign(x) (0 at 0); Scale p; AddScalar 1;
//	PowScalar p*x^(p-1) (0 when p = 0); ClampMin 1 where x >= p else 0;
//	ClampMax 1 where x <= p else 0.
//
// Only the inputs UnaryGradInputs names are read (the others may be nil).
// dx may alias dy exactly.
func UnaryGrad[T Float](op UnaryOp, dx, x, y, dy []T, p float64) {
	n := len(dx)
	dy = dy[:n]
	switch op {
	case OpNeg:
		for i := range dx {
			dx[i] = -dy[i]
		}
	case OpExp:
		y = y[:n]
		for i := range dx {
			dx[i] = T(float64(dy[i]) * float64(y[i]))
		}
	case OpLog:
		x = x[:n]
		for i := range dx {
			dx[i] = T(float64(dy[i]) / float64(x[i]))
		}
	case OpTanh:
		y = y[:n]
		for i := range dx {
			t := float64(y[i])
			dx[i] = T(float64(dy[i]) * (1 - t*t))
		}
	case OpSigmoid:
		y = y[:n]
		for i := range dx {
			s := float64(y[i])
			dx[i] = T(float64(dy[i]) * s * (1 - s))
		}
	case OpSiLU:
		x = x[:n]
		for i := range dx {
			v := float64(x[i])
			s := ewSigmoid(v)
			dx[i] = T(float64(dy[i]) * s * (1 + v*(1-s)))
		}
	case OpReLU:
		x = x[:n]
		for i := range dx {
			if x[i] > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	case OpGELUTanh:
		// With s = sigmoid(2u) = (1+t)/2: 0.5(1+t) = s and 0.5(1-t^2) =
		// 2s(1-s), so the derivative needs one exp.
		x = x[:n]
		for i := range dx {
			v := float64(x[i])
			s := 1 / (1 + math.Exp(-2*ewGeluC*(v+ewGeluK*v*v*v)))
			d := s + 2*v*s*(1-s)*ewGeluC*(1+3*ewGeluK*v*v)
			dx[i] = T(float64(dy[i]) * d)
		}
	case OpGELUErf:
		x = x[:n]
		for i := range dx {
			v := float64(x[i])
			d := 0.5*math.Erfc(-v/math.Sqrt2) + v*math.Exp(-0.5*v*v)*ewInvSqrt2Pi
			dx[i] = T(float64(dy[i]) * d)
		}
	case OpSqrt:
		y = y[:n]
		for i := range dx {
			dx[i] = T(float64(dy[i]) * 0.5 / float64(y[i]))
		}
	case OpSquare:
		x = x[:n]
		for i := range dx {
			dx[i] = T(float64(dy[i]) * 2 * float64(x[i]))
		}
	case OpAbs:
		x = x[:n]
		for i := range dx {
			switch {
			case x[i] > 0:
				dx[i] = dy[i]
			case x[i] < 0:
				dx[i] = -dy[i]
			default:
				dx[i] = 0
			}
		}
	case OpScale:
		for i := range dx {
			dx[i] = T(p * float64(dy[i]))
		}
	case OpAddScalar:
		copy(dx, dy)
	case OpPowScalar:
		x = x[:n]
		if p == 0 {
			clear(dx)
			return
		}
		for i := range dx {
			dx[i] = T(float64(dy[i]) * p * math.Pow(float64(x[i]), p-1))
		}
	case OpClampMin:
		x = x[:n]
		for i := range dx {
			if float64(x[i]) >= p {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	case OpClampMax:
		x = x[:n]
		for i := range dx {
			if float64(x[i]) <= p {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	default:
		panic("ref.UnaryGrad: unknown op")
	}
}
