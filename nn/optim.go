package nn

import (
	"fmt"
	"sort"

	"github.com/nori-ml/nori/tensor"
)

// Optimizer updates parameters in place from their accumulated gradients.
//
// Step applies one update with learning rate lr (the caller evaluates its
// Schedule, which keeps the schedule a pure function of the step); parameters
// whose gradient is nil (never reached by a backward pass) are left alone.
// State exposes everything besides the parameters that the next updates
// depend on, so a checkpoint of parameters plus State resumes a run exactly.
type Optimizer interface {
	Step(lr float64)
	// ZeroGrad zeroes the gradients of the optimizer's parameters.
	ZeroGrad()
	// Steps returns the number of updates applied so far.
	Steps() int
	// Params returns the parameters the optimizer updates, in update order.
	Params() []NamedParam
	// State returns the step count and the optimizer's buffers. The tensors
	// are the live buffers, not copies: save them before the next Step.
	State() OptimizerState
	// LoadState copies a saved state into the optimizer's buffers. The names
	// and shapes must match exactly (the state usually comes from a file, so
	// a mismatch is an error, not a panic).
	LoadState(st OptimizerState) error
}

// OptimizerState is a snapshot of an optimizer for checkpointing.
type OptimizerState struct {
	Step    int
	Tensors []StateTensor
}

// StateTensor is one named optimizer buffer, e.g. "adamw.m.blocks.0.weight".
type StateTensor struct {
	Name  string
	Value *tensor.Tensor
}

// loadStateTensors copies src into dst matching by name; both must hold the same
// names with the same shapes. Nothing is copied unless everything matches, so
// a failed load leaves the optimizer as it was.
func loadStateTensors(op string, dst, src []StateTensor) error {
	byName := make(map[string]*tensor.Tensor, len(src))
	for _, s := range src {
		if _, dup := byName[s.Name]; dup {
			return fmt.Errorf("nn.%s: state tensor %q appears twice", op, s.Name)
		}
		if s.Value == nil {
			return fmt.Errorf("nn.%s: state tensor %q is nil", op, s.Name)
		}
		byName[s.Name] = s.Value
	}
	for _, d := range dst {
		s, ok := byName[d.Name]
		if !ok {
			return fmt.Errorf("nn.%s: state has no tensor %q", op, d.Name)
		}
		if !s.Shape().Equal(d.Value.Shape()) {
			return fmt.Errorf("nn.%s: state tensor %q has shape %v, want %v", op, d.Name, s.Shape(), d.Value.Shape())
		}
	}
	if len(byName) != len(dst) {
		want := make(map[string]bool, len(dst))
		for _, d := range dst {
			want[d.Name] = true
		}
		var extra []string
		for n := range byName {
			if !want[n] {
				extra = append(extra, n)
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("nn.%s: state has unexpected tensors %v", op, extra)
	}
	for _, d := range dst {
		copyAcrossDevices(d.Value, byName[d.Name])
	}
	return nil
}

// copyAcrossDevices copies src into dst, moving it to dst's device first if needed
// (CopyFrom converts dtypes but wants one device).
func copyAcrossDevices(dst, src *tensor.Tensor) {
	if src.Device() != dst.Device() {
		src = src.To(dst.Device(), src.DType())
	}
	dst.CopyFrom(src)
}

func checkParam(op string, p NamedParam) {
	if p.Var == nil || p.Var.Value == nil {
		panic(fmt.Sprintf("nn.%s: parameter %q has no value", op, p.Name))
	}
	if !p.Var.Value.IsContiguous() {
		panic(fmt.Sprintf("nn.%s: parameter %q of shape %v is not contiguous", op, p.Name, p.Var.Value.Shape()))
	}
}

func zerosLike(t *tensor.Tensor) *tensor.Tensor {
	return tensor.New(t.Device(), t.DType(), t.Shape()...)
}
