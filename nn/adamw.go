package nn

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// AdamWConfig holds AdamW's hyperparameters.
type AdamWConfig struct {
	Beta1, Beta2 float64 // moment decay rates
	Eps          float64 // added to sqrt of the second moment
	WeightDecay  float64 // decoupled: p -= lr*WeightDecay*p each step
}

// DefaultAdamW returns the reference model's AdamW settings: betas (0.9,
// 0.95), eps 1e-8, weight decay 0.01.
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.01}
}

func (c AdamWConfig) check() {
	if !(c.Beta1 >= 0 && c.Beta1 < 1 && c.Beta2 >= 0 && c.Beta2 < 1 && c.Eps > 0 && c.WeightDecay >= 0) {
		panic(fmt.Sprintf("nn.AdamW: bad config %+v", c))
	}
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter). At step t
// (from 1), for each parameter p with gradient g:
//
//	m = b1*m + (1-b1)*g,  v = b2*v + (1-b2)*g^2
//	p = p - lr*wd*p - lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
//
// computed by tensor.AdamW (one fused kernel per parameter).
type AdamW struct {
	Config AdamWConfig
	params []NamedParam
	m, v   []*tensor.Tensor
	step   int
}

// NewAdamW returns an AdamW optimizer over params with zeroed moments.
func NewAdamW(params []NamedParam, cfg AdamWConfig) *AdamW {
	cfg.check()
	o := &AdamW{Config: cfg, params: append([]NamedParam(nil), params...)}
	for _, p := range params {
		checkParam("AdamW", p)
		o.m = append(o.m, zerosLike(p.Var.Value))
		o.v = append(o.v, zerosLike(p.Var.Value))
	}
	return o
}

// Step implements Optimizer.
func (o *AdamW) Step(lr float64) {
	c := o.Config
	c.check()
	o.step++
	t := float64(o.step)
	bc1, bc2 := 1-math.Pow(c.Beta1, t), 1-math.Pow(c.Beta2, t)
	for i, p := range o.params {
		if p.Var.Grad == nil {
			continue
		}
		tensor.AdamW(p.Var.Value, p.Var.Grad, o.m[i], o.v[i], lr, c.Beta1, c.Beta2, c.Eps, c.WeightDecay, bc1, bc2)
	}
}

// ZeroGrad implements Optimizer.
func (o *AdamW) ZeroGrad() { ZeroGrad(o.params) }

// Steps implements Optimizer.
func (o *AdamW) Steps() int { return o.step }

// Params implements Optimizer.
func (o *AdamW) Params() []NamedParam { return o.params }

// State implements Optimizer: "adamw.m.<param>" and "adamw.v.<param>" for
// every parameter.
func (o *AdamW) State() OptimizerState {
	st := OptimizerState{Step: o.step}
	for i, p := range o.params {
		st.Tensors = append(st.Tensors,
			StateTensor{Name: "adamw.m." + p.Name, Value: o.m[i]},
			StateTensor{Name: "adamw.v." + p.Name, Value: o.v[i]})
	}
	return st
}

// LoadState implements Optimizer.
func (o *AdamW) LoadState(st OptimizerState) error {
	if st.Step < 0 {
		return fmt.Errorf("nn.AdamW.LoadState: negative step %d", st.Step)
	}
	if err := loadStateTensors("AdamW.LoadState", o.State().Tensors, st.Tensors); err != nil {
		return err
	}
	o.step = st.Step
	return nil
}
