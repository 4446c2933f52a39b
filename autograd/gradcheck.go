package autograd

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// GradFunc builds the computation under test on tp from its inputs and
// returns its output. It must not modify the inputs' values.
type GradFunc func(tp *Tape, in []*Var) *Var

// GradCheckOptions tunes CheckGrad. Zero fields take the defaults of the
// inputs' dtype: for float64 Eps 1e-6, RTol 1e-6, ATol 1e-6; for float32
// (a smoke check: float32 rounding dominates the differences) Eps 1e-2,
// RTol 1e-2, ATol 1e-3.
type GradCheckOptions struct {
	Eps  float64 // central-difference step
	RTol float64 // relative tolerance, against |numeric|
	ATol float64 // absolute tolerance
	// Seed selects the random weights W of the scalar L = sum(f(x) * W).
	Seed uint64
	// Const lists the inputs wrapped with Const instead of Param: they take
	// no gradient and are not checked (targets, masks, fixed levels).
	Const []int
}

// GradCheckReport describes a gradient check: how many input elements were
// compared and the worst of them.
type GradCheckReport struct {
	Checked int // input elements compared
	// Input and Index locate the worst element: input number and row-major
	// index within it.
	Input, Index int
	// Analytic is the tape's gradient, Numeric the central difference.
	Analytic, Numeric float64
	// Ratio is |Analytic-Numeric| / (ATol + RTol*|Numeric|); the check
	// passes when every element's ratio is at most 1.
	Ratio float64
}

func (r GradCheckReport) String() string {
	return fmt.Sprintf("%d elements checked; worst: input %d element %d: analytic %.10g numeric %.10g (%.3g of tolerance)",
		r.Checked, r.Input, r.Index, r.Analytic, r.Numeric, r.Ratio)
}

// CheckGrad compares the gradient the tape computes for f with central
// finite differences. The scalar differentiated is L = sum(f(x) * W) with W a
// fixed random normal tensor of the output's shape, so every output element
// contributes with its own weight: the tape's side is
// BackwardWith(f(x), W), and the numeric side evaluates L (summed in float64,
// on NoGrad tapes) at x_e + Eps and x_e - Eps for every element e of every
// non-constant input, dividing by the step actually stored (which differs
// from 2*Eps by rounding in float32).
//
// The inputs (CPU tensors of one dtype, Float32 or Float64, any layout) are
// copied, never modified. Besides the gradients, CheckGrad verifies that a
// NoGrad tape records nothing and computes the same output bits as a
// recording tape, and that constant inputs receive no gradient. It returns
// the worst element and a non-nil error when any check fails.
func CheckGrad(f GradFunc, inputs []*tensor.Tensor, opt GradCheckOptions) (GradCheckReport, error) {
	var rep GradCheckReport
	if len(inputs) == 0 {
		return rep, fmt.Errorf("autograd.CheckGrad: no inputs")
	}
	dt := inputs[0].DType()
	for i, x := range inputs {
		if x.DType() != dt || (dt != tensor.Float32 && dt != tensor.Float64) || x.Device() != tensor.CPU {
			return rep, fmt.Errorf("autograd.CheckGrad: input %d is %v on %v; want CPU inputs all float32 or all float64", i, x.DType(), x.Device())
		}
	}
	opt = opt.withDefaults(dt)
	isConst := make([]bool, len(inputs))
	for _, c := range opt.Const {
		if c < 0 || c >= len(inputs) {
			return rep, fmt.Errorf("autograd.CheckGrad: Const index %d out of range", c)
		}
		isConst[c] = true
	}
	xs := make([]*tensor.Tensor, len(inputs))
	for i, x := range inputs {
		xs[i] = x.Clone() // contiguous and private: perturbed in place below
	}
	wrap := func() []*Var {
		vs := make([]*Var, len(xs))
		for i, x := range xs {
			if isConst[i] {
				vs[i] = Const(x)
			} else {
				vs[i] = Param(x)
			}
		}
		return vs
	}

	// Analytic gradients.
	tp := NewTape()
	vars := wrap()
	out := f(tp, vars)
	if !out.RequiresGrad() {
		tp.Release()
		return rep, fmt.Errorf("autograd.CheckGrad: the output does not require a gradient")
	}
	w := tensor.New(tensor.CPU, dt, out.Value.Shape()...)
	w.Backend().RandNormal(w, opt.Seed, 0, 0, 1)
	wv := w.Float64s()
	recorded := out.Value.Float64s()
	tp.BackwardWith(out, w)
	grads := make([][]float64, len(xs))
	for i, v := range vars {
		switch {
		case isConst[i] && v.Grad != nil:
			tp.Release()
			return rep, fmt.Errorf("autograd.CheckGrad: constant input %d received a gradient", i)
		case v.Grad != nil:
			grads[i] = v.Grad.Float64s()
		default:
			grads[i] = make([]float64, xs[i].Numel()) // no path to the output
		}
	}
	tp.Release()

	// L on a NoGrad tape; its output must match the recording tape's.
	var evalErr error
	loss := func() (float64, []float64) {
		ng := NoGrad()
		o := f(ng, wrap())
		if ng.Len() != 0 || o.RequiresGrad() {
			evalErr = fmt.Errorf("autograd.CheckGrad: NoGrad tape recorded %d ops (output requires grad: %v)", ng.Len(), o.RequiresGrad())
		}
		vals := o.Value.Float64s()
		l := 0.0
		for j, v := range vals {
			l += v * wv[j]
		}
		return l, vals
	}
	_, vals := loss()
	if evalErr != nil {
		return rep, evalErr
	}
	for j := range vals {
		if math.Float64bits(vals[j]) != math.Float64bits(recorded[j]) && !(math.IsNaN(vals[j]) && math.IsNaN(recorded[j])) {
			return rep, fmt.Errorf("autograd.CheckGrad: output element %d is %v on a NoGrad tape but %v on a recording tape", j, vals[j], recorded[j])
		}
	}

	// Central differences, element by element.
	rep.Ratio = -1
	for i, x := range xs {
		if isConst[i] {
			continue
		}
		el := elements(x)
		for e := 0; e < x.Numel(); e++ {
			orig := el.get(e)
			el.set(e, orig+opt.Eps)
			xp := el.get(e)
			lp, _ := loss()
			el.set(e, orig-opt.Eps)
			xm := el.get(e)
			lm, _ := loss()
			el.set(e, orig)
			num := (lp - lm) / (xp - xm)
			ana := grads[i][e]
			ratio := math.Abs(ana-num) / (opt.ATol + opt.RTol*math.Abs(num))
			if math.IsNaN(ratio) {
				ratio = math.Inf(1)
			}
			rep.Checked++
			if ratio > rep.Ratio {
				rep.Input, rep.Index, rep.Analytic, rep.Numeric, rep.Ratio = i, e, ana, num, ratio
			}
		}
	}
	if rep.Ratio > 1 {
		return rep, fmt.Errorf("autograd.CheckGrad: gradient mismatch: %v", rep)
	}
	return rep, nil
}

func (o GradCheckOptions) withDefaults(dt tensor.DType) GradCheckOptions {
	eps, rtol, atol := 1e-6, 1e-6, 1e-6
	if dt == tensor.Float32 {
		eps, rtol, atol = 1e-2, 1e-2, 1e-3
	}
	if o.Eps == 0 {
		o.Eps = eps
	}
	if o.RTol == 0 {
		o.RTol = rtol
	}
	if o.ATol == 0 {
		o.ATol = atol
	}
	return o
}

// elementAccess reads and writes single elements of a contiguous CPU tensor
// through float64, storing with the tensor's own precision.
type elementAccess struct {
	f32 []float32
	f64 []float64
}

func elements(t *tensor.Tensor) elementAccess {
	if t.DType() == tensor.Float32 {
		return elementAccess{f32: t.F32Data()}
	}
	return elementAccess{f64: t.F64Data()}
}

func (a elementAccess) get(i int) float64 {
	if a.f32 != nil {
		return float64(a.f32[i])
	}
	return a.f64[i]
}

func (a elementAccess) set(i int, v float64) {
	if a.f32 != nil {
		a.f32[i] = float32(v)
		return
	}
	a.f64[i] = v
}
