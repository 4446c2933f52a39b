package autograd

import "github.com/nori-ml/nori/tensor"

// Var is a tensor in a computation: its Value and, once Backward has reached
// it, the gradient of the loss with respect to it.
type Var struct {
	Value *tensor.Tensor
	// Grad is the accumulated gradient (same shape as Value). For leaf Vars
	// (parameters) it persists across Backward calls and accumulates; ZeroGrad
	// resets it. For intermediate Vars it belongs to the tape.
	Grad *tensor.Tensor

	requiresGrad bool
	leaf         bool
}

// Param returns a leaf Var whose gradient is wanted (a trainable weight).
func Param(t *tensor.Tensor) *Var { return &Var{Value: t, requiresGrad: true, leaf: true} }

// Const returns a leaf Var that needs no gradient (data, masks, targets).
func Const(t *tensor.Tensor) *Var { return &Var{Value: t, leaf: true} }

// RequiresGrad reports whether gradients flow into v.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad turns gradient tracking on or off for a leaf Var (e.g. to
// freeze a weight).
func (v *Var) SetRequiresGrad(on bool) {
	if !v.leaf {
		panic("autograd: SetRequiresGrad on a non-leaf Var")
	}
	v.requiresGrad = on
}

// IsLeaf reports whether v was created by Param or Const rather than an op.
func (v *Var) IsLeaf() bool { return v.leaf }

// Shape returns the shape of the value.
func (v *Var) Shape() tensor.Shape { return v.Value.Shape() }

// ZeroGrad sets the accumulated gradient to zero, keeping its buffer.
func (v *Var) ZeroGrad() {
	if v.Grad != nil {
		v.Grad.Backend().Fill(v.Grad, 0)
	}
}
