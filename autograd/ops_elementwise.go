package autograd

import "github.com/nori-ml/nori/tensor"

// Elementwise ops. Binary ops broadcast numpy-style; the gradient of each
// operand is summed back to the operand's shape (tensor.SumTo).

// Add returns a + b with broadcasting.
func (tp *Tape) Add(a, b *Var) *Var {
	out := tensor.Add(a.Value, b.Value)
	return tp.result(out, true, func(g *tensor.Tensor) {
		tp.giveSum(a, g, false)
		tp.giveSum(b, g, false)
	}, a, b)
}

// Sub returns a - b with broadcasting.
func (tp *Tape) Sub(a, b *Var) *Var {
	out := tensor.Sub(a.Value, b.Value)
	return tp.result(out, true, func(g *tensor.Tensor) {
		tp.giveSum(a, g, false)
		if needs(b) {
			tp.giveSum(b, tensor.Neg(g), true)
		}
	}, a, b)
}

// Mul returns a * b elementwise with broadcasting.
func (tp *Tape) Mul(a, b *Var) *Var {
	av, bv := a.Value, b.Value
	out := tensor.Mul(av, bv)
	return tp.result(out, true, func(g *tensor.Tensor) {
		if needs(a) {
			tp.giveSum(a, tensor.Mul(g, bv), true)
		}
		if needs(b) {
			tp.giveSum(b, tensor.Mul(g, av), true)
		}
	}, a, b)
}

// Div returns a / b elementwise with broadcasting.
func (tp *Tape) Div(a, b *Var) *Var {
	bv := b.Value
	out := tensor.Div(a.Value, bv)
	return tp.result(out, true, func(g *tensor.Tensor) {
		if needs(a) {
			tp.giveSum(a, tensor.Div(g, bv), true)
		}
		if needs(b) {
			// d(a/b)/db = -a/b^2 = -out/b.
			t := tensor.Mul(g, out)
			u := tensor.Div(t, bv)
			t.Release()
			n := tensor.Neg(u)
			u.Release()
			tp.giveSum(b, n, true)
		}
	}, a, b)
}

// Maximum returns max(a, b) elementwise with broadcasting. Where a == b the
// gradient is split evenly between the two.
func (tp *Tape) Maximum(a, b *Var) *Var {
	out := tensor.Maximum(a.Value, b.Value)
	return tp.result(out, true, func(g *tensor.Tensor) { tp.extremumBack(a, b, out, g) }, a, b)
}

// Minimum returns min(a, b) elementwise with broadcasting. Where a == b the
// gradient is split evenly between the two.
func (tp *Tape) Minimum(a, b *Var) *Var {
	out := tensor.Minimum(a.Value, b.Value)
	return tp.result(out, true, func(g *tensor.Tensor) { tp.extremumBack(a, b, out, g) }, a, b)
}

// extremumBack routes g to whichever operand equals out (the max or min):
// with ma = [a == out] and mb = [b == out], a gets g*ma/(ma+mb) and b the
// rest, so ties split evenly and the two shares always add up to g.
func (tp *Tape) extremumBack(a, b *Var, out, g *tensor.Tensor) {
	ma := tensor.Eq(a.Value, out)
	mb := tensor.Eq(b.Value, out)
	s := tensor.Add(ma, mb)
	mb.Release()
	wa := tensor.Div(ma, s)
	ma.Release()
	s.Release()
	ga := tensor.Mul(g, wa)
	wa.Release()
	if needs(b) {
		tp.giveSum(b, tensor.Sub(g, ga), true)
	}
	tp.giveSum(a, ga, true)
}

// unary applies op with parameter p; its gradient is tensor.UnaryGrad, which
// may use the saved output.
func (tp *Tape) unary(op tensor.UnaryOp, a *Var, p float64) *Var {
	x := a.Value
	out := tensor.Unary(op, x, p)
	return tp.result(out, true, func(g *tensor.Tensor) {
		tp.give(a, tensor.UnaryGrad(op, x, out, g, p))
	}, a)
}

// Neg returns -a.
func (tp *Tape) Neg(a *Var) *Var { return tp.unary(tensor.OpNeg, a, 0) }

// Scale returns s*a.
func (tp *Tape) Scale(a *Var, s float64) *Var { return tp.unary(tensor.OpScale, a, s) }

// AddScalar returns a + s.
func (tp *Tape) AddScalar(a *Var, s float64) *Var {
	out := tensor.AddScalar(a.Value, s)
	// The derivative is 1: the gradient passes through unchanged.
	return tp.result(out, true, func(g *tensor.Tensor) { tp.accum(a, g, false) }, a)
}

// Exp returns e^a.
func (tp *Tape) Exp(a *Var) *Var { return tp.unary(tensor.OpExp, a, 0) }

// Log returns the natural logarithm of a.
func (tp *Tape) Log(a *Var) *Var { return tp.unary(tensor.OpLog, a, 0) }

// Tanh returns tanh(a).
func (tp *Tape) Tanh(a *Var) *Var { return tp.unary(tensor.OpTanh, a, 0) }

// Sigmoid returns 1/(1+e^-a).
func (tp *Tape) Sigmoid(a *Var) *Var { return tp.unary(tensor.OpSigmoid, a, 0) }

// SiLU returns a*sigmoid(a).
func (tp *Tape) SiLU(a *Var) *Var { return tp.unary(tensor.OpSiLU, a, 0) }

// ReLU returns max(a, 0).
func (tp *Tape) ReLU(a *Var) *Var { return tp.unary(tensor.OpReLU, a, 0) }

// GELUTanh returns the tanh approximation of GELU.
func (tp *Tape) GELUTanh(a *Var) *Var { return tp.unary(tensor.OpGELUTanh, a, 0) }

// GELUErf returns the exact (erf) GELU.
func (tp *Tape) GELUErf(a *Var) *Var { return tp.unary(tensor.OpGELUErf, a, 0) }

// Sqrt returns the square root of a.
func (tp *Tape) Sqrt(a *Var) *Var { return tp.unary(tensor.OpSqrt, a, 0) }

// Square returns a*a.
func (tp *Tape) Square(a *Var) *Var { return tp.unary(tensor.OpSquare, a, 0) }

// Abs returns |a|.
func (tp *Tape) Abs(a *Var) *Var { return tp.unary(tensor.OpAbs, a, 0) }

// PowScalar returns a^p.
func (tp *Tape) PowScalar(a *Var, p float64) *Var { return tp.unary(tensor.OpPowScalar, a, p) }

// Where returns cond != 0 ? a : b elementwise, broadcasting cond, a and b.
// cond (same dtype as a and b) is data: it gets no gradient.
func (tp *Tape) Where(cond *tensor.Tensor, a, b *Var) *Var {
	out := tensor.Where(cond, a.Value, b.Value)
	return tp.result(out, true, func(g *tensor.Tensor) {
		zero := zerosLike(g, nil) // a 0-d zero, broadcast by Where
		if needs(a) {
			tp.giveSum(a, tensor.Where(cond, g, zero), true)
		}
		if needs(b) {
			tp.giveSum(b, tensor.Where(cond, zero, g), true)
		}
		zero.Release()
	}, a, b)
}

// MaskedFill returns a with the elements where mask != 0 (mask broadcasts to
// a's shape) replaced by v. The filled elements pass no gradient to a.
func (tp *Tape) MaskedFill(a *Var, mask *tensor.Tensor, v float64) *Var {
	out := tensor.MaskedFill(a.Value, mask, v)
	return tp.result(out, true, func(g *tensor.Tensor) {
		tp.give(a, tensor.MaskedFill(g, mask, 0))
	}, a)
}
