package nori

import (
	"math"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// rowAttention is attention across the rows of a table, separately for each
// token position (feature group or target) of each table: the sets are
// [B*T, rows, E]. Context rows attend to the context (module A); query rows
// attend to the context only, with a module of their own (module B), so no
// query sees another and the context's keys and values can be projected once
// and reused by any number of query chunks (rowKV).
//
// The packed projection QKV [3E, E] has no bias: rows [0,E) make Q, [E,2E) K
// and [2E,3E) V, each head-major (head h owns rows h*D..h*D+D-1 of its
// block). Q and K/V are projected by separate products, Q from the attending
// rows and K/V from the context.
type rowAttention struct {
	qkv     *nn.Linear // [3E, E]
	out     *nn.Linear // [E, E]
	qass    *qassMax   // nil when QASSMax is off
	E, H, D int
}

// newRowAttention initialises like the reference's MultiheadAttention:
// the QKV weight U(-a, a) with the Xavier bound of its [3, H, D, E] layout
// there: PyTorch takes fan_in = H*D*E and fan_out = 3*D*E for that 4-D
// tensor, so a = sqrt(6/(H*D*E + 3*D*E)), about 9 times smaller than the
// bound of a plain [3E, E] matrix for nori-6m. The output projection is
// N(0, 0.02). Feature attention uses the same initialisation.
func newRowAttention(b *nn.Builder, cfg Config) *rowAttention {
	E, H := cfg.Embed, cfg.Heads
	D := E / H
	a := &rowAttention{E: E, H: H, D: D}
	a.qkv, a.out = newAttnLinears(b, E, H)
	if cfg.QASSMax {
		a.qass = newQASSMax(b, H, D, cfg.QASSHidden)
	}
	return a
}

// newAttnLinears returns the packed QKV and output projections of an
// attention over E features in H heads, initialised as described at
// newRowAttention.
func newAttnLinears(b *nn.Builder, E, H int) (qkv, out *nn.Linear) {
	D := E / H
	bound := math.Sqrt(6 / float64(H*D*E+3*D*E))
	qkv = nn.NewLinearInit(b, E, 3*E, nn.Uniform(-bound, bound), nil)
	out = nn.NewLinearInit(b, E, E, nn.Normal(0, 0.02), nil)
	return qkv, out
}

func (a *rowAttention) refs(prefix string, fn func(string, **autograd.Var)) {
	linearRefs(nn.Join(prefix, "qkv"), a.qkv, fn)
	linearRefs(nn.Join(prefix, "out"), a.out, fn)
	if a.qass != nil {
		a.qass.refs(nn.Join(prefix, "qass"), fn)
	}
}

// rowKV holds the keys and values [B*T, H, n, D] projected from the n
// normalised context rows of one layer.
type rowKV struct {
	k, v *autograd.Var
	n    int
}

// projectKV projects the keys and values of the normalised context xr
// [B, T, n, E] (contiguous).
func (a *rowAttention) projectKV(tp *autograd.Tape, xr *autograd.Var) *rowKV {
	s := xr.Shape()
	B, T, n := s[0], s[1], s[2]
	w := tp.Slice(a.qkv.Weight, 0, a.E, 3*a.E)
	kv := tp.MatMulT(tp.Reshape(xr, B*T*n, a.E), w, false, true) // [B*T*n, 2E]
	p := tp.Permute(tp.Reshape(kv, B*T, n, 2, a.H, a.D), 2, 0, 3, 1, 4)
	return &rowKV{
		k: tp.Squeeze(tp.Slice(p, 0, 0, 1), 0),
		v: tp.Squeeze(tp.Slice(p, 0, 1, 2), 0),
		n: n,
	}
}

// attend lets the normalised rows xr [B, T, m, E] (contiguous) attend to the
// context keys and values kv and returns the projected output as a view
// [B, m, T, E].
func (a *rowAttention) attend(tp *autograd.Tape, xr *autograd.Var, kv *rowKV, dt tensor.DType) *autograd.Var {
	s := xr.Shape()
	B, T, m := s[0], s[1], s[2]
	wq := tp.Slice(a.qkv.Weight, 0, 0, a.E)
	q := tp.MatMulT(tp.Reshape(xr, B*T*m, a.E), wq, false, true) // [B*T*m, E]
	if a.qass != nil {
		q = a.qass.scale(tp, q, kv.n, dt)
	}
	q4 := tp.Permute(tp.Reshape(q, B*T, m, a.H, a.D), 0, 2, 1, 3)
	o := tp.Attention(q4, kv.k, kv.v, nil, 1/math.Sqrt(float64(a.D))) // [B*T, H, m, D]
	o = tp.Reshape(tp.Permute(o, 0, 2, 1, 3), B*T*m, a.E)
	o = a.out.Forward(tp, o)
	return tp.Permute(tp.Reshape(o, B, T, m, a.E), 0, 2, 1, 3)
}
