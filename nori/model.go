package nori

// The nori model: a table-native transformer that reads a context of labelled
// rows and predicts the quantiles of the target for query rows in one pass.
//
//	x [B, N, F] raw values (NaN = missing), y [B, nctx] context targets
//	-> in-model normalisation with context statistics (encoder.go)
//	-> tokens [B, N, G+1, E]: value encoder (mantissa/exponent RBF + FiLM),
//	   missing vector, feature-pair fusion, y-aware bias on context rows,
//	   target token last (model_embed.go)
//	-> Layers x [row attention -> SwiGLU -> feature attention] (blocks.go,
//	   rowattn.go, qassmax.go)
//	-> final RMSNorm and the quantile head on the query rows' target tokens
//	   (head.go) -> [B, N-nctx, Quantiles]
//
// Context and query rows travel in two streams. Query rows attend only to the
// context, so each query's output depends on the context and itself alone;
// Infer exploits this to process queries in chunks against keys/values of the
// context computed once per layer.
//
// Parameter count: nori-6m has 5,760,904 parameters here (NumParams; 224 of
// them in the frozen FiLM tables). The published 5,868,052 also counts a
// classification head (53,386), a feature-reconstruction head (51,074) and
// two classification-only target encoders that regression never runs: the
// class-label embedding of the classification y-encoder (10x128 + a 1x128 mask
// row = 1,408) and the classification target-aware embedding (10x128 =
// 1,280). 5,868,052 - 53,386 - 51,074 - 1,408 - 1,280 = 5,760,904 exactly.

import (
	"fmt"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// Model is a nori network. Create it with NewModel or LoadModel. Its methods
// may be called concurrently as long as nothing modifies the parameters
// (training) at the same time.
type Model struct {
	cfg    Config
	enc    *inputEncoder
	layers []*noriLayer
	head   *quantileHead
	dt     tensor.DType
}

// NewModel returns a model with freshly initialised weights. The weights
// depend only on cfg and seed (every parameter is drawn from its own stream
// of the counter-based generator), not on the machine or worker count.
func NewModel(cfg Config, seed uint64) (*Model, error) {
	return newModel(cfg, nn.NewBuilder(seed))
}

// newModel builds a model from b (float64 builders serve gradient checks).
func newModel(cfg Config, b *nn.Builder) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, dt: b.DType}
	m.enc = newInputEncoder(b, cfg)
	m.layers = make([]*noriLayer, cfg.Layers)
	for i := range m.layers {
		m.layers[i] = newNoriLayer(b, cfg)
	}
	m.head = newQuantileHead(b, cfg)
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// refs enumerates every parameter (frozen ones included) by name, giving
// access to the field that holds it.
func (m *Model) refs(prefix string, fn func(string, **autograd.Var)) {
	m.enc.refs(nn.Join(prefix, "encoder"), fn)
	for i, l := range m.layers {
		l.refs(nn.Join(prefix, fmt.Sprintf("layers.%d", i)), fn)
	}
	m.head.refs(nn.Join(prefix, "head"), fn)
}

// VisitParams implements nn.Module. Names are stable and hierarchical
// ("encoder.value_out.weight", "layers.3.row_query.qass.gate.fc2.bias",
// "head.fc2.weight"). The frozen FiLM tables ("encoder.film.*_table") are
// visited too, so that checkpoints carry them, but do not require gradients.
func (m *Model) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	m.refs(prefix, func(name string, p **autograd.Var) { fn(name, *p) })
}

// NumParams returns the number of scalar parameters, frozen tables included
// (5,760,904 for Nori6M).
func (m *Model) NumParams() int { return nn.NumParams(m) }

// NumTrainableParams returns the number of scalar parameters that take
// gradients.
func (m *Model) NumTrainableParams() int {
	n := 0
	for _, p := range nn.Params(m) {
		if p.Var.RequiresGrad() {
			n += p.Var.Value.Numel()
		}
	}
	return n
}

// Forward runs the model on tp (a recording tape for training, NoGrad for
// inference). x [B, N, F] holds raw feature values (NaN marks a missing one),
// rows [0, nctx) the context and [nctx, N) the queries; y [B, nctx] holds the
// context targets, already normalised by the caller. It returns the
// quantiles [B, N-nctx, Quantiles] of the query rows' (normalised) targets.
// Bad shapes are programming errors and panic; Infer reports them as errors.
func (m *Model) Forward(tp *autograd.Tape, x, y *tensor.Tensor, nctx int) *autograd.Var {
	in, err := prepareInput(m.cfg, x, y, nctx)
	if err != nil {
		panic(err.Error())
	}
	in.dev = m.Device()
	return m.forward(tp, in)
}

// forward is Forward on prepared input: the two streams advance layer by
// layer, each layer's query step reading the keys/values its context step
// produced.
func (m *Model) forward(tp *autograd.Tape, in *tableInput) *autograd.Var {
	ctx := m.enc.embed(tp, in, 0, in.nctx, m.dt)
	qry := m.enc.embed(tp, in, in.nctx, in.N, m.dt)
	for i, l := range m.layers {
		var kv *rowKV
		ctx, kv = l.ctxStep(tp, ctx, i == len(m.layers)-1)
		qry = l.queryStep(tp, qry, kv)
		if !tp.Recording() {
			tp.ReleaseExcept(ctx, qry) // a Scratch tape's layer intermediates (Infer)
		}
	}
	return m.head.forward(tp, qry)
}

// InferOptions tunes Infer.
type InferOptions struct {
	// QueryChunk > 0 processes the query rows in chunks of at most that many
	// rows: the context goes through the layers once, its row-attention
	// keys/values are kept for every layer, and each chunk of queries is run
	// against them. 0 runs every query at once through Forward. The results
	// are the same either way (each query row depends only on the context and
	// itself).
	QueryChunk int
}

// Infer returns the quantiles [B, N-nctx, Quantiles] of the query rows
// without recording gradients; see Forward for x, y and nctx. Invalid shapes
// or options are reported as errors.
func (m *Model) Infer(x, y *tensor.Tensor, nctx int, opt InferOptions) (*tensor.Tensor, error) {
	if opt.QueryChunk < 0 {
		return nil, fmt.Errorf("nori: InferOptions.QueryChunk = %d, want >= 0", opt.QueryChunk)
	}
	in, err := prepareInput(m.cfg, x, y, nctx)
	if err != nil {
		return nil, err
	}
	in.dev = m.Device()
	// Scratch tapes: every intermediate goes back to the buffer pool as
	// soon as the layer that made it is done (ReleaseExcept keeps the
	// streams and the context's keys/values), so the next table's pass (Fit
	// and Predict run hundreds of them) reuses the memory instead of zeroing
	// fresh pages, and no more is held at once than a NoGrad pass keeps
	// alive.
	nq := in.N - in.nctx
	if opt.QueryChunk == 0 {
		tp := autograd.Scratch()
		defer tp.Release()
		return m.forward(tp, in).Value.Clone(), nil
	}
	// Context once: its stream through every layer, keeping each layer's
	// keys/values for the query rows.
	ctp := autograd.Scratch()
	defer ctp.Release()
	kvs := make([]*rowKV, len(m.layers))
	keep := make([]*autograd.Var, 0, 1+2*len(m.layers))
	ctx := m.enc.embed(ctp, in, 0, in.nctx, m.dt)
	for i, l := range m.layers {
		ctx, kvs[i] = l.ctxStep(ctp, ctx, i == len(m.layers)-1)
		keep = append(keep, kvs[i].k, kvs[i].v)
		ctp.ReleaseExcept(append(keep, ctx)...)
	}
	out := tensor.New(in.dev, m.dt, in.B, nq, m.cfg.Quantiles)
	for s := in.nctx; s < in.N; s += opt.QueryChunk {
		e := min(s+opt.QueryChunk, in.N)
		tp := autograd.Scratch()
		q := m.enc.embed(tp, in, s, e, m.dt)
		for i, l := range m.layers {
			q = l.queryStep(tp, q, kvs[i])
			tp.ReleaseExcept(q)
		}
		out.Slice(1, s-in.nctx, e-in.nctx).CopyFrom(m.head.forward(tp, q).Value)
		tp.Release()
	}
	return out, nil
}
