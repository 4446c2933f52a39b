package nn

import (
	"fmt"

	"github.com/nori-ml/nori/tensor"
)

// EMA keeps an exponential moving average of parameters, shadow =
// decay*shadow + (1-decay)*param after every optimizer step; evaluation uses
// the average (the reference model trains with decay 0.999 and serves the
// EMA weights).
type EMA struct {
	Decay  float64
	params []NamedParam
	shadow []*tensor.Tensor
	steps  int
}

// NewEMA starts an average of params at their current values.
func NewEMA(params []NamedParam, decay float64) *EMA {
	if !(decay >= 0 && decay <= 1) {
		panic(fmt.Sprintf("nn.NewEMA: decay %g not in [0, 1]", decay))
	}
	e := &EMA{Decay: decay, params: append([]NamedParam(nil), params...)}
	for _, p := range params {
		checkParam("NewEMA", p)
		e.shadow = append(e.shadow, p.Var.Value.Clone())
	}
	return e
}

// Update folds the current parameter values into the average.
func (e *EMA) Update() {
	for i, p := range e.params {
		tensor.Axpby(e.shadow[i], p.Var.Value, e.Decay, 1-e.Decay)
	}
	e.steps++
}

// Updates returns how many times Update was called (since construction or
// the last LoadState).
func (e *EMA) Updates() int { return e.steps }

// CopyTo writes the averaged weights into params, matched by name (another
// instance of the model, e.g. the one used for evaluation). Every averaged
// parameter must be present with the same shape.
func (e *EMA) CopyTo(params []NamedParam) {
	for i, p := range e.params {
		dst := Lookup(params, p.Name)
		if dst == nil {
			panic(fmt.Sprintf("nn.EMA.CopyTo: no parameter %q in the destination", p.Name))
		}
		if !dst.Value.Shape().Equal(e.shadow[i].Shape()) {
			panic(fmt.Sprintf("nn.EMA.CopyTo: parameter %q has shape %v, average %v", p.Name, dst.Value.Shape(), e.shadow[i].Shape()))
		}
		copyAcrossDevices(dst.Value, e.shadow[i])
	}
}

// Swap exchanges the parameter values and the averages in place: call it
// once to evaluate the averaged model, and again to resume training. The
// parameters' tensors keep their identity (values are copied, not pointers
// swapped), so anything holding them stays valid.
func (e *EMA) Swap() {
	for i, p := range e.params {
		tmp := p.Var.Value.Clone()
		p.Var.Value.CopyFrom(e.shadow[i])
		e.shadow[i].CopyFrom(tmp)
		tmp.Release()
	}
}

// Shadow returns the averages as named tensors ("ema.<param>") for
// checkpointing; they are the live buffers, not copies.
func (e *EMA) Shadow() []StateTensor {
	out := make([]StateTensor, len(e.params))
	for i, p := range e.params {
		out[i] = StateTensor{Name: "ema." + p.Name, Value: e.shadow[i]}
	}
	return out
}

// LoadShadow copies saved averages (as returned by Shadow) back in; names and
// shapes must match.
func (e *EMA) LoadShadow(ts []StateTensor, updates int) error {
	if updates < 0 {
		return fmt.Errorf("nn.EMA.LoadShadow: negative update count %d", updates)
	}
	if err := loadStateTensors("EMA.LoadShadow", e.Shadow(), ts); err != nil {
		return err
	}
	e.steps = updates
	return nil
}
