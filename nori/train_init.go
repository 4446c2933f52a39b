package nori

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/nori-ml/nori/nn"
)

// initWeights starts a new run from a pretrained model's weights
// (TrainConfig.Init): path is a model checkpoint, or "default" for the
// embedded one. Every parameter, frozen ones included, is copied; the EMA
// restarts at the copied weights with no updates behind it (so it follows
// the new run's weights at first, as at the start of any run). Only before
// the first step.
func (t *Trainer) initWeights(path string) error {
	if t.step != 0 {
		return fmt.Errorf("nori: init from %s: the run is already at step %d", path, t.step)
	}
	var src *Model
	var err error
	if path == "default" {
		src, err = DefaultModel()
	} else {
		src, err = LoadModel(path)
	}
	if err != nil {
		return fmt.Errorf("nori: training config init: %w", err)
	}
	if !reflect.DeepEqual(src.Config(), t.cfg.Model) {
		a, _ := json.Marshal(src.Config())
		b, _ := json.Marshal(t.cfg.Model)
		return fmt.Errorf("nori: training config init: %s holds a model with config %s, the training config's model is %s", path, a, b)
	}
	from, to := nn.Params(src), nn.Params(t.model)
	if len(from) != len(to) {
		return fmt.Errorf("nori: training config init: %s has %d parameters, the config's model %d", path, len(from), len(to))
	}
	var shadow []nn.StateTensor
	for i, p := range to {
		q := from[i]
		if q.Name != p.Name || !q.Var.Value.Shape().Equal(p.Var.Value.Shape()) {
			return fmt.Errorf("nori: training config init: %s: parameter %d is %s %v, the config's model has %s %v",
				path, i, q.Name, q.Var.Value.Shape(), p.Name, p.Var.Value.Shape())
		}
		v := q.Var.Value
		if dst := p.Var.Value; v.Device() != dst.Device() || v.DType() != dst.DType() {
			v = v.To(dst.Device(), dst.DType())
		}
		p.Var.Value.CopyFrom(v)
		if p.Var.RequiresGrad() {
			shadow = append(shadow, nn.StateTensor{Name: "ema." + p.Name, Value: p.Var.Value})
		}
	}
	if err := t.ema.LoadShadow(shadow, 0); err != nil {
		return fmt.Errorf("nori: training config init: %w", err)
	}
	return nil
}
