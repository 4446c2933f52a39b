package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// Test inputs: fresh random float64 tensors from fixed seeds (never zeros).

// randn returns a float64 tensor of N(0, 1) values.
func randn(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.CPU, tensor.Float64, shape...)
	t.Backend().RandNormal(t, seed, 0, 0, 1)
	return t
}

// randu returns a float64 tensor of U[lo, hi) values.
func randu(seed uint64, lo, hi float64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.CPU, tensor.Float64, shape...)
	t.Backend().RandUniform(t, seed, 0, lo, hi)
	return t
}

// awayFrom0 returns N(0,1) values pushed at least margin away from 0, for ops
// with a kink at 0 (ReLU, Abs), so that central differences never straddle it.
func awayFrom0(seed uint64, margin float64, shape ...int) *tensor.Tensor {
	t := randn(seed, shape...)
	d := t.F64Data()
	for i, v := range d {
		d[i] = math.Copysign(math.Abs(v)+margin, v)
	}
	return t
}

// mask01 returns a float64 0/1 tensor with both values present.
func mask01(seed uint64, shape ...int) *tensor.Tensor {
	t := randu(seed, 0, 1, shape...)
	d := t.F64Data()
	for i, v := range d {
		d[i] = 0
		if v < 0.5 {
			d[i] = 1
		}
	}
	if len(d) > 1 {
		d[0], d[1] = 1, 0
	}
	return t
}

// to32 converts float64 test inputs to float32.
func to32(ts ...*tensor.Tensor) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ts))
	for i, t := range ts {
		out[i] = t.To(tensor.CPU, tensor.Float32)
	}
	return out
}

// gradCase is one gradient check: f applied to inputs.
type gradCase struct {
	name   string
	f      GradFunc
	inputs []*tensor.Tensor
	opt    GradCheckOptions
}

// runGradCases runs each case as a subtest with CheckGrad (default float64
// tolerances unless the case sets its own). A panicking op (e.g. a kernel
// that is not implemented) fails its case without stopping the others.
func runGradCases(t *testing.T, cases []gradCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rep GradCheckReport
			err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				opt := c.opt
				if opt.Seed == 0 {
					opt.Seed = 7
				}
				rep, err = CheckGrad(c.f, c.inputs, opt)
				return err
			}()
			if err != nil {
				t.Fatal(err)
			}
			if rep.Checked == 0 {
				t.Fatal("no element was checked")
			}
			t.Log(rep)
		})
	}
}

// approxEqual fails the test unless got and want agree within tol (absolute
// plus relative) element by element.
func approxEqual(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) || math.IsNaN(got[i]) {
			t.Fatalf("%s: element %d is %v, want %v (tolerance %g)", what, i, got[i], want[i], tol)
		}
	}
}
