package nn

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// MuonConfig holds Muon's hyperparameters.
type MuonConfig struct {
	Momentum    float64 // mu of the momentum buffer B = mu*B + G
	Nesterov    bool    // orthogonalise G + mu*B instead of B
	NSSteps     int     // Newton-Schulz iterations (>= 1)
	WeightDecay float64 // decoupled: W -= lr*WeightDecay*W each step
}

// DefaultMuon returns the reference model's Muon settings: momentum 0.95
// with Nesterov, 5 Newton-Schulz steps, weight decay 0.01.
func DefaultMuon() MuonConfig {
	return MuonConfig{Momentum: 0.95, Nesterov: true, NSSteps: 5, WeightDecay: 0.01}
}

func (c MuonConfig) check() {
	if !(c.Momentum >= 0 && c.Momentum < 1 && c.NSSteps >= 1 && c.WeightDecay >= 0) {
		panic(fmt.Sprintf("nn.Muon: bad config %+v", c))
	}
}

// Newton-Schulz quintic coefficients (Keller Jordan's Muon): chosen to push
// every singular value of the normalised matrix into roughly [0.7, 1.2] in
// five steps rather than to converge exactly to 1.
const (
	nsA = 3.4445
	nsB = -4.7750
	nsC = 2.0315
)

// Muon (MomentUm Orthogonalized by Newton-schulz) updates each matrix
// parameter W, viewed as [rows, cols] = [shape[0], prod(shape[1:])], with an
// approximately orthogonalised momentum:
//
//	B  = mu*B + G                       (momentum buffer)
//	G' = G + mu*B  (Nesterov) or B
//	O  = NewtonSchulz(G')               (all singular values ~1)
//	W  = W - lr*wd*W - lr*s*O,  s = sqrt(max(rows, cols)/min(rows, cols))
//
// The scale s is the reference's "update scaled by sqrt(max/min dim)": an
// orthogonal [rows, cols] matrix has RMS entry 1/sqrt(max(rows, cols)), so s
// makes the RMS update 1/sqrt(min(rows, cols)), independent of the aspect
// ratio. Parameters of rank < 2 must go to AdamW (see MuonAdamW).
//
// All work buffers are allocated once and reused, so a step allocates no
// tensor memory.
type Muon struct {
	Config MuonConfig
	params []NamedParam
	mom    []*tensor.Tensor // [rows, cols] per parameter
	ws     map[nsKey]*nsWork
	step   int
}

// NewMuon returns a Muon optimizer over params (each of rank >= 2) with zero
// momentum.
func NewMuon(params []NamedParam, cfg MuonConfig) *Muon {
	cfg.check()
	o := &Muon{Config: cfg, params: append([]NamedParam(nil), params...), ws: map[nsKey]*nsWork{}}
	for _, p := range params {
		checkParam("Muon", p)
		if p.Var.Value.Rank() < 2 {
			panic(fmt.Sprintf("nn.Muon: parameter %q has shape %v; Muon needs rank >= 2 (use AdamW)", p.Name, p.Var.Value.Shape()))
		}
		r, c := matrixDims(p.Var.Value.Shape())
		o.mom = append(o.mom, tensor.New(p.Var.Value.Device(), p.Var.Value.DType(), r, c))
	}
	return o
}

// matrixDims views a weight as [shape[0], prod(shape[1:])].
func matrixDims(s tensor.Shape) (rows, cols int) {
	return s[0], s[1:].Numel()
}

// MuonScale returns the update scale sqrt(max(rows, cols)/min(rows, cols)).
func MuonScale(rows, cols int) float64 {
	return math.Sqrt(float64(max(rows, cols)) / float64(min(rows, cols)))
}

// Step implements Optimizer.
func (o *Muon) Step(lr float64) {
	c := o.Config
	c.check()
	o.step++
	for i, p := range o.params {
		if p.Var.Grad == nil {
			continue
		}
		r, cols := matrixDims(p.Var.Value.Shape())
		g := p.Var.Grad.Reshape(r, cols)
		b := o.mom[i]
		tensor.Axpby(b, g, c.Momentum, 1)
		w := o.work(r, cols, b)
		u := w.u
		if c.Nesterov {
			u.CopyFrom(g)
			tensor.Axpby(u, b, 1, c.Momentum)
		} else {
			u.CopyFrom(b)
		}
		upd := newtonSchulzInto(u, w, c.NSSteps)
		tensor.Axpby(p.Var.Value.Reshape(r, cols), upd, 1-lr*c.WeightDecay, -lr*MuonScale(r, cols))
	}
}

// ZeroGrad implements Optimizer.
func (o *Muon) ZeroGrad() { ZeroGrad(o.params) }

// Steps implements Optimizer.
func (o *Muon) Steps() int { return o.step }

// Params implements Optimizer.
func (o *Muon) Params() []NamedParam { return o.params }

// State implements Optimizer: "muon.momentum.<param>" ([rows, cols]) for
// every parameter.
func (o *Muon) State() OptimizerState {
	st := OptimizerState{Step: o.step}
	for i, p := range o.params {
		st.Tensors = append(st.Tensors, StateTensor{Name: "muon.momentum." + p.Name, Value: o.mom[i]})
	}
	return st
}

// LoadState implements Optimizer.
func (o *Muon) LoadState(st OptimizerState) error {
	if st.Step < 0 {
		return fmt.Errorf("nn.Muon.LoadState: negative step %d", st.Step)
	}
	if err := loadStateTensors("Muon.LoadState", o.State().Tensors, st.Tensors); err != nil {
		return err
	}
	o.step = st.Step
	return nil
}

// nsKey identifies a Newton-Schulz workspace: parameters of the same matrix
// shape, dtype and device share one (they are processed one at a time).
type nsKey struct {
	rows, cols int
	dt         tensor.DType
	dev        tensor.Device
}

// nsWork holds the buffers of one orthogonalisation: u [rows, cols] (input,
// and output when transposed), x and y [m, n] with m = min(rows, cols) and
// n = max (the iterate, ping-ponged), a and bb [m, m].
type nsWork struct {
	u, x, y, a, bb *tensor.Tensor
}

func (o *Muon) work(rows, cols int, like *tensor.Tensor) *nsWork {
	k := nsKey{rows, cols, like.DType(), like.Device()}
	if w := o.ws[k]; w != nil {
		return w
	}
	w := newNSWork(rows, cols, like)
	o.ws[k] = w
	return w
}

func newNSWork(rows, cols int, like *tensor.Tensor) *nsWork {
	m, n := min(rows, cols), max(rows, cols)
	nw := func(s ...int) *tensor.Tensor { return tensor.New(like.Device(), like.DType(), s...) }
	return &nsWork{u: nw(rows, cols), x: nw(m, n), y: nw(m, n), a: nw(m, m), bb: nw(m, m)}
}

// NewtonSchulz returns the approximate orthogonalisation of the matrix g
// [rows, cols] that Muon applies: steps iterations of
// X <- a X + (b A + c A^2) X with A = X X^T and (a, b, c) = (3.4445, -4.7750,
// 2.0315), starting from X = g/(||g||_F + 1e-7), on the transpose when
// rows > cols so that A is the smaller Gram matrix. g is not modified.
func NewtonSchulz(g *tensor.Tensor, steps int) *tensor.Tensor {
	if g.Rank() != 2 || steps < 1 {
		panic(fmt.Sprintf("nn.NewtonSchulz: need a matrix and steps >= 1, have shape %v, steps %d", g.Shape(), steps))
	}
	w := newNSWork(g.Dim(0), g.Dim(1), g)
	w.u.CopyFrom(g)
	return newtonSchulzInto(w.u, w, steps).Clone()
}

// newtonSchulzInto orthogonalises w.u (which it may overwrite) and returns
// the result [rows, cols], a buffer of w. The normalisation by the Frobenius
// norm is folded into the first iteration's scalars (alpha of the products),
// so no scaled copy of the input is made:
// with X0 = s*U, A0 = s^2 U U^T and X1 = a s U + s (b A0 + c A0^2) U.
func newtonSchulzInto(u *tensor.Tensor, w *nsWork, steps int) *tensor.Tensor {
	rows, cols := u.Dim(0), u.Dim(1)
	trans := rows > cols
	x := u
	if trans {
		x = u.Transpose(0, 1) // [m, n] view; MatMul takes it as a transpose flag
	}
	inv := 1 / (math.Sqrt(tensor.SumSquares(u)) + 1e-7)
	bufs := [2]*tensor.Tensor{w.x, w.y}
	for k := 0; k < steps; k++ {
		s := 1.0
		if k == 0 {
			s = inv
		}
		tensor.MatMulInto(w.a, x, x, false, true, s*s, 0) // A = X X^T
		tensor.MatMulInto(w.bb, w.a, w.a, false, false, nsC, 0)
		tensor.Axpby(w.bb, w.a, 1, nsB) // bA + cA^2
		y := bufs[k%2]
		y.CopyFrom(x)
		tensor.MatMulInto(y, w.bb, x, false, false, s, nsA*s) // aX + (bA + cA^2)X
		x = y
	}
	if trans {
		u.CopyFrom(x.Transpose(0, 1))
		return u
	}
	return x
}
