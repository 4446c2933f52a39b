package nori

import (
	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// rmsNormEps is the epsilon of the blocks' RMSNorms (no learned scale).
const rmsNormEps = 1e-5

// noriLayer is one transformer layer: row attention -> SwiGLU MLP -> feature
// attention, each pre-norm (RMSNorm without scale) with a scaled residual
// x = x + alpha*f(RMSNorm(x)). Tokens are laid out [B, rows, T, E] (T = G+1
// tokens per row). Context and query rows are kept in two separate streams:
// they share the MLP and feature attention but have their own row attention
// (module A for the context, module B for the queries).
type noriLayer struct {
	rowCtx   *rowAttention // module A: context rows -> context rows
	rowQuery *rowAttention // module B: query rows -> context rows (== rowCtx when not separate)
	mlp      *nn.SwiGLUMLP
	feat     *nn.MultiHeadAttention // over the T tokens of each row, no mask
	alpha    float64
	dt       tensor.DType
}

func newNoriLayer(b *nn.Builder, cfg Config) *noriLayer {
	l := &noriLayer{alpha: cfg.residualScale(), dt: b.DType}
	l.rowCtx = newRowAttention(b, cfg)
	l.rowQuery = l.rowCtx
	if cfg.SeparateQueryAttention {
		l.rowQuery = newRowAttention(b, cfg)
	}
	E, H := cfg.Embed, cfg.Heads
	// SwiGLU: PyTorch-default gate/up, down N(0, 0.02) as in the reference.
	l.mlp = &nn.SwiGLUMLP{
		Gate: nn.NewLinear(b, E, cfg.MLPHidden, false),
		Up:   nn.NewLinear(b, E, cfg.MLPHidden, false),
		Down: nn.NewLinearInit(b, cfg.MLPHidden, E, nn.Normal(0, 0.02), nil),
	}
	qkv, out := newAttnLinears(b, E, H)
	l.feat = &nn.MultiHeadAttention{QKV: qkv, Out: out, Dim: E, Heads: H, HeadDim: E / H}
	return l
}

func (l *noriLayer) refs(prefix string, fn func(string, **autograd.Var)) {
	l.rowCtx.refs(nn.Join(prefix, "row_ctx"), fn)
	if l.rowQuery != l.rowCtx {
		l.rowQuery.refs(nn.Join(prefix, "row_query"), fn)
	}
	linearRefs(nn.Join(prefix, "mlp.gate"), l.mlp.Gate, fn)
	linearRefs(nn.Join(prefix, "mlp.up"), l.mlp.Up, fn)
	linearRefs(nn.Join(prefix, "mlp.down"), l.mlp.Down, fn)
	linearRefs(nn.Join(prefix, "feat.qkv"), l.feat.QKV, fn)
	linearRefs(nn.Join(prefix, "feat.out"), l.feat.Out, fn)
}

// residual returns x + alpha*f.
func (l *noriLayer) residual(tp *autograd.Tape, x, f *autograd.Var) *autograd.Var {
	return tp.Add(x, tp.Scale(f, l.alpha))
}

// normRowsFirst returns RMSNorm(x) of x [B, n, T, E] as a contiguous
// [B, T, n, E], the layout of row attention's sets.
func normRowsFirst(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	return tp.Contiguous(tp.Permute(tp.RMSNorm(x, nil, rmsNormEps), 0, 2, 1, 3))
}

// ctxStep runs the context stream x [B, nctx, T, E] through the layer and
// returns it with the keys/values that the query rows attend to in this
// layer (projected by module B from the same normalised context input that
// module A reads). With last set only the keys/values are computed: the
// context's own outputs after the last layer are never read (the head reads
// query rows only), so module A of the last layer has no effect on the
// output and its parameters receive zero gradients.
func (l *noriLayer) ctxStep(tp *autograd.Tape, x *autograd.Var, last bool) (*autograd.Var, *rowKV) {
	xr := normRowsFirst(tp, x)
	kvQuery := l.rowQuery.projectKV(tp, xr)
	if last {
		return nil, kvQuery
	}
	kvCtx := kvQuery
	if l.rowCtx != l.rowQuery {
		kvCtx = l.rowCtx.projectKV(tp, xr)
	}
	x = l.residual(tp, x, l.rowCtx.attend(tp, xr, kvCtx, l.dt))
	return l.rowwise(tp, x), kvQuery
}

// queryStep runs the query stream x [B, nq, T, E] through the layer, the
// rows attending to the context keys/values kv of this layer.
func (l *noriLayer) queryStep(tp *autograd.Tape, x *autograd.Var, kv *rowKV) *autograd.Var {
	xr := normRowsFirst(tp, x)
	x = l.residual(tp, x, l.rowQuery.attend(tp, xr, kv, l.dt))
	return l.rowwise(tp, x)
}

// rowwise applies the MLP and feature attention sublayers, which act on
// each row independently.
func (l *noriLayer) rowwise(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	x = l.residual(tp, x, l.mlp.Forward(tp, tp.RMSNorm(x, nil, rmsNormEps)))
	s := x.Shape()
	B, n, T, E := s[0], s[1], s[2], s[3]
	xf := tp.Reshape(tp.RMSNorm(x, nil, rmsNormEps), B*n, T, E)
	f := l.feat.Forward(tp, xf, xf, nil)
	return l.residual(tp, x, tp.Reshape(f, B, n, T, E))
}
