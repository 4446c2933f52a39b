package autograd

import (
	"fmt"

	"github.com/nori-ml/nori/tensor"
)

// node is one recorded op: how to turn the gradient of its output into
// gradients of its inputs.
type node struct {
	out *Var
	// backward receives the output's gradient and calls Tape.accum for each
	// input that requires a gradient.
	backward func(g *tensor.Tensor)
}

// Tape records ops for reverse-mode differentiation. See the package doc.
type Tape struct {
	record bool
	// scratch: a non-recording tape that still owns what its ops allocate
	// (Scratch).
	scratch bool
	nodes   []node
	temps   []*tensor.Tensor
}

// NewTape returns a tape that records ops for Backward.
func NewTape() *Tape { return &Tape{record: true} }

// NoGrad returns a tape that records nothing: ops only compute values and
// no intermediate is kept alive by the tape.
func NoGrad() *Tape { return &Tape{} }

// Scratch returns a tape that records nothing, like NoGrad, but owns every
// tensor its ops allocate, so that Release hands them all back to the buffer
// pool. Inference runs the same shapes again and again; with NoGrad each
// forward pass leaves its intermediates to the garbage collector and the
// next one zeroes fresh memory for them (about a tenth of an inference
// profile). Whatever must outlive Release has to be copied out first;
// ReleaseExcept frees what a loop no longer needs along the way.
func Scratch() *Tape { return &Tape{scratch: true} }

// Recording reports whether the tape records ops.
func (tp *Tape) Recording() bool { return tp.record }

// Len returns the number of recorded ops.
func (tp *Tape) Len() int { return len(tp.nodes) }

// wants reports whether an op on these inputs must be recorded.
func (tp *Tape) wants(inputs ...*Var) bool {
	if !tp.record {
		return false
	}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			return true
		}
	}
	return false
}

// own hands a tensor the op allocated to the tape, which frees it on Release.
// Views (sharing storage with a live tensor) must not be passed here.
func (tp *Tape) own(ts ...*tensor.Tensor) {
	if !tp.record && !tp.scratch {
		return
	}
	for _, t := range ts {
		if t != nil {
			tp.temps = append(tp.temps, t)
		}
	}
}

// result wraps an op's output. When the op must be recorded, back is kept for
// Backward; owned says whether value's storage was allocated by the op (false
// for views of an input).
func (tp *Tape) result(value *tensor.Tensor, owned bool, back func(g *tensor.Tensor), inputs ...*Var) *Var {
	if owned {
		tp.own(value)
	}
	out := &Var{Value: value}
	if tp.wants(inputs...) {
		out.requiresGrad = true
		tp.nodes = append(tp.nodes, node{out: out, backward: back})
	}
	return out
}

// accum adds g into v.Grad when v requires a gradient. fresh says that g was
// allocated for this call alone, so it can be adopted instead of copied, or
// freed at once once added. When v takes no gradient, g is left alone.
func (tp *Tape) accum(v *Var, g *tensor.Tensor, fresh bool) {
	if v == nil || !v.requiresGrad {
		return
	}
	if !g.Shape().Equal(v.Value.Shape()) {
		panic(fmt.Sprintf("autograd: gradient of shape %v for a value of shape %v", g.Shape(), v.Value.Shape()))
	}
	switch {
	case v.Grad != nil:
		c := g
		if !g.IsContiguous() {
			c = g.Clone() // Axpby wants contiguous operands
		}
		tensor.Axpby(v.Grad, c, 1, 1)
		if c != g {
			c.Release()
		}
		if fresh {
			g.Release() // nothing else reads it: back to the pool now
		}
	case v.leaf:
		// Leaf gradients live with the Var across steps: a buffer of its own.
		v.Grad = tensor.New(v.Value.Device(), v.Value.DType(), v.Value.Shape()...)
		v.Grad.CopyFrom(g)
		if fresh {
			g.Release()
		}
	case fresh && g.IsContiguous():
		v.Grad = g
		tp.own(g)
	default:
		v.Grad = g.Clone()
		tp.own(v.Grad)
	}
}

// Backward computes the gradient of loss (a one-element Var) with respect to
// every recorded Var that requires one, adding into leaf gradients.
func (tp *Tape) Backward(loss *Var) {
	if loss.Value.Numel() != 1 {
		panic(fmt.Sprintf("autograd: Backward of a non-scalar of shape %v; use BackwardWith", loss.Value.Shape()))
	}
	seed := tensor.New(loss.Value.Device(), loss.Value.DType(), loss.Value.Shape()...)
	seed.Backend().Fill(seed, 1)
	tp.backward(loss, seed, true)
}

// BackwardWith back-propagates the given gradient of out (same shape).
// Gradients of intermediate Vars are freed as soon as their op has been
// differentiated, so peak memory stays near that of the forward pass.
func (tp *Tape) BackwardWith(out *Var, grad *tensor.Tensor) { tp.backward(out, grad, false) }

// backward is BackwardWith; fresh says grad was allocated for this call (the
// seed of Backward) and can be adopted.
func (tp *Tape) backward(out *Var, grad *tensor.Tensor, fresh bool) {
	if !tp.record {
		panic("autograd: Backward on a NoGrad tape")
	}
	if !out.requiresGrad {
		panic("autograd: Backward from a Var that does not require a gradient")
	}
	tp.accum(out, grad, fresh)
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		n := tp.nodes[i]
		if n.out.Grad == nil {
			continue
		}
		n.backward(n.out.Grad)
		if !n.out.leaf {
			// Backward rules copy the gradient they are given, never keep
			// it, so it can go back to the pool now (the tape's later
			// Release of the same tensor is then a no-op).
			n.out.Grad.Release()
			n.out.Grad = nil
		}
	}
}

// Release returns every tensor the tape allocated to the buffer pool and
// forgets the recorded ops. Values and gradients of non-leaf Vars from this
// tape must not be used afterwards. Leaf gradients are kept.
func (tp *Tape) Release() {
	for _, t := range tp.temps {
		t.Release()
	}
	clear(tp.temps)
	tp.temps = tp.temps[:0]
	clear(tp.nodes)
	tp.nodes = tp.nodes[:0]
}

// ReleaseExcept releases, like Release, every tensor the tape owns except
// those whose storage a value in keep uses (keep may hold views of them, and
// nil), which the tape goes on owning. An inference loop calls it after each
// layer, so that the layer's intermediates go back to the buffer pool as
// soon as its output exists, and a Scratch tape holds no more than a NoGrad
// pass keeps alive. It panics on a recording tape, whose ops still read what
// it owns.
func (tp *Tape) ReleaseExcept(keep ...*Var) {
	if tp.record {
		panic("autograd: ReleaseExcept on a recording tape")
	}
	kept := tp.temps[:0]
	for _, t := range tp.temps {
		st := t.Storage()
		if st == nil {
			continue // released already
		}
		held := false
		for _, v := range keep {
			if v != nil && v.Value.Storage() == st {
				held = true
				break
			}
		}
		if held {
			kept = append(kept, t)
		} else {
			t.Release()
		}
	}
	clear(tp.temps[len(kept):])
	tp.temps = kept
}
