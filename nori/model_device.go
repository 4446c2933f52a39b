package nori

import (
	"fmt"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// Device returns the device the model's parameters live on (and its forward
// pass runs on). Inputs may live anywhere: Forward and Infer read them on the
// host to normalise them and build their own tensors on this device.
func (m *Model) Device() tensor.Device {
	dev := tensor.CPU
	found := false
	m.VisitParams("", func(_ string, v *autograd.Var) {
		if !found && v != nil && v.Value != nil {
			dev, found = v.Value.Device(), true
		}
	})
	return dev
}

// MoveTo moves every parameter (and its gradient buffer, if any) to dev,
// keeping dtypes. Only float32 models run off the CPU (float64 is the CPU's
// reference precision).
func (m *Model) MoveTo(dev tensor.Device) error {
	if dev == nil {
		return fmt.Errorf("nori: MoveTo(nil device)")
	}
	if dev.Kind() != tensor.CPUKind && m.dt != tensor.Float32 {
		return fmt.Errorf("nori: a %v model cannot run on %v: only float32 models run off the CPU", m.dt, dev)
	}
	m.VisitParams("", func(_ string, v *autograd.Var) {
		if v == nil || v.Value == nil || v.Value.Device() == dev {
			return
		}
		// No Release of the old storage: a parameter may be a view that
		// shares storage with others; the garbage collector reclaims it.
		v.Value = v.Value.To(dev, v.Value.DType())
		if v.Grad != nil {
			v.Grad = v.Grad.To(dev, v.Grad.DType())
		}
	})
	return nil
}

// CopyTo returns a copy of the model whose parameters live on dev; m is left
// untouched (the embedded default model is shared by every Regressor).
func (m *Model) CopyTo(dev tensor.Device) (*Model, error) {
	if dev.Kind() != tensor.CPUKind && m.dt != tensor.Float32 {
		return nil, fmt.Errorf("nori: a %v model cannot run on %v: only float32 models run off the CPU", m.dt, dev)
	}
	c, err := NewModel(m.cfg, 0)
	if err != nil {
		return nil, err
	}
	var src []*autograd.Var
	m.VisitParams("", func(_ string, v *autograd.Var) { src = append(src, v) })
	i := 0
	var mismatch error
	c.VisitParams("", func(name string, v *autograd.Var) {
		if i >= len(src) || !v.Value.Shape().Equal(src[i].Value.Shape()) {
			mismatch = fmt.Errorf("nori: CopyTo: parameter %s does not match its source", name)
			return
		}
		v.Value = src[i].Value.To(dev, src[i].Value.DType())
		i++
	})
	if mismatch != nil {
		return nil, mismatch
	}
	c.dt = m.dt
	return c, nil
}
