package nn

import (
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// Gradients of every layer, with respect to its input and all its
// parameters, against central finite differences (autograd.CheckGrad) in
// float64. Each case rebuilds the layer around the checker's Vars: inputs[0]
// is the layer input, the rest are its parameters in Params order.

type layerGradCase struct {
	name   string
	f      autograd.GradFunc
	inputs []*tensor.Tensor
	opt    autograd.GradCheckOptions
}

func runLayerGrad(t *testing.T, cases []layerGradCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := c.opt
			if opt.Seed == 0 {
				opt.Seed = 5
			}
			rep, err := autograd.CheckGrad(c.f, c.inputs, opt)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for i, x := range c.inputs {
				isConst := false
				for _, k := range opt.Const {
					isConst = isConst || k == i
				}
				if !isConst {
					want += x.Numel()
				}
			}
			if rep.Checked != want {
				t.Fatalf("checked %d elements, want %d", rep.Checked, want)
			}
			t.Log(rep)
		})
	}
}

// paramValues returns the value tensors of m's parameters in Params order.
func paramValues(m Module) []*tensor.Tensor {
	var ts []*tensor.Tensor
	for _, p := range Params(m) {
		ts = append(ts, p.Var.Value)
	}
	return ts
}

func TestLayerGradients(t *testing.T) {
	b := NewBuilder64(31)
	lin := NewLinear(b, 5, 4, true)
	linNB := NewLinear(b, 5, 4, false)
	ln := NewLayerNorm(b, 6, true, 1e-5)
	randomize(ln.Weight.Value, 3, 1, 0.3)
	randomize(ln.Bias.Value, 4, 0, 0.3)
	rn := NewRMSNorm(b, 6, true, 1e-5)
	randomize(rn.Weight.Value, 5, 1, 0.3)
	mlp := NewSwiGLUMLP(b, 4, 6)
	mha := NewMultiHeadAttention(b, 8, 2)
	emb := NewEmbedding(b, 7, 3)
	x := func(seed uint64, shape ...int) *tensor.Tensor { return randn(tensor.Float64, seed, shape...) }
	withX := func(x *tensor.Tensor, m Module) []*tensor.Tensor {
		return append([]*tensor.Tensor{x}, paramValues(m)...)
	}

	runLayerGrad(t, []layerGradCase{
		{name: "Linear", inputs: withX(x(1, 2, 3, 5), lin), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return (&Linear{Weight: in[1], Bias: in[2]}).Forward(tp, in[0])
		}},
		{name: "Linear/no-bias-2d", inputs: withX(x(2, 3, 5), linNB), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return (&Linear{Weight: in[1]}).Forward(tp, in[0])
		}},
		{name: "Linear/transposed-input", inputs: withX(x(3, 5, 3), lin), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return (&Linear{Weight: in[1], Bias: in[2]}).Forward(tp, tp.Transpose(in[0], 0, 1))
		}},
		{name: "LayerNorm", inputs: withX(x(4, 3, 2, 6), ln), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return (&LayerNorm{Weight: in[1], Bias: in[2], Dim: 6, Eps: 1e-5}).Forward(tp, in[0])
		}},
		{name: "LayerNorm/no-affine", inputs: []*tensor.Tensor{x(5, 4, 6)}, f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return (&LayerNorm{Dim: 6, Eps: 1e-5}).Forward(tp, in[0])
		}},
		{name: "RMSNorm", inputs: withX(x(6, 3, 2, 6), rn), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return (&RMSNorm{Weight: in[1], Dim: 6, Eps: 1e-5}).Forward(tp, in[0])
		}},
		{name: "RMSNorm/no-scale", inputs: []*tensor.Tensor{x(7, 4, 6)}, f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return (&RMSNorm{Dim: 6, Eps: 1e-5}).Forward(tp, in[0])
		}},
		{name: "SwiGLUMLP", inputs: withX(x(8, 2, 3, 4), mlp), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			m := &SwiGLUMLP{Gate: &Linear{Weight: in[1]}, Up: &Linear{Weight: in[2]}, Down: &Linear{Weight: in[3]}}
			return m.Forward(tp, in[0])
		}},
		{name: "MultiHeadAttention/self", inputs: withX(x(9, 2, 3, 8), mha), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return rebindMHA(mha, in[1], in[2]).Forward(tp, in[0], in[0], nil)
		}},
		{name: "MultiHeadAttention/cross-qscale", inputs: append(withX(x(10, 2, 3, 8), mha), x(11, 2, 4, 8), x(12, 2, 2, 3)), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return rebindMHA(mha, in[1], in[2]).Forward(tp, in[0], in[3], in[4])
		}},
		{name: "Embedding", inputs: paramValues(emb), f: func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			y, err := (&Embedding{Weight: in[0], Vocab: 7, Dim: 3}).Forward(tp, []int{4, 0, 4, 6, 2, 4})
			if err != nil {
				panic(err)
			}
			return y
		}},
	})
}

// rebindMHA returns a copy of a whose weights are the given Vars.
func rebindMHA(a *MultiHeadAttention, qkv, out *autograd.Var) *MultiHeadAttention {
	c := *a
	c.QKV = &Linear{Weight: qkv, In: a.Dim, Out: 3 * a.Dim}
	c.Out = &Linear{Weight: out, In: a.Dim, Out: a.Dim}
	return &c
}
