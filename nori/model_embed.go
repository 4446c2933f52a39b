package nori

import (
	"math"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// inputEncoder turns normalised table rows into tokens [B, rows, G+1, E]:
// G feature-group tokens (value encoder per scalar, group fusion, y-aware
// bias on context rows) and the target token last.
type inputEncoder struct {
	cfg Config

	// Frozen random FiLM tables (requires no gradient; saved in checkpoints).
	signEmb, expSignEmb, digitEmb *autograd.Var // [2,t], [2,t], [10,t]
	film1, film2                  *nn.Linear    // 3t -> FiLMHidden -> 2K
	valueNorm                     *nn.LayerNorm // K
	valueOut                      *nn.Linear    // K -> E
	missing                       *autograd.Var // [E]

	fusion1     *nn.Linear // gs*E -> E
	fusionNorm1 *nn.LayerNorm
	fusion2     *nn.Linear // E -> E
	fusionNorm2 *nn.LayerNorm

	target *nn.Linear // [value, indicator] -> E

	yAware *nn.Linear    // 1 -> E
	yAlpha *autograd.Var // [1], the column gate's mixing logit
}

// layerNormEps is the epsilon of every LayerNorm (PyTorch's default).
const layerNormEps = 1e-5

func newInputEncoder(b *nn.Builder, cfg Config) *inputEncoder {
	E, K := cfg.Embed, cfg.RBFCenters
	e := &inputEncoder{cfg: cfg}
	if cfg.FiLM {
		t := cfg.FiLMTokenDim
		frozen := func(rows int) *autograd.Var {
			v := b.Param(nn.Normal(0, 1), rows, t) // nn.Embedding's N(0,1)
			v.SetRequiresGrad(false)
			return v
		}
		e.signEmb, e.expSignEmb, e.digitEmb = frozen(2), frozen(2), frozen(10)
		e.film1 = nn.NewLinear(b, 3*t, cfg.FiLMHidden, true)
		e.film2 = nn.NewLinear(b, cfg.FiLMHidden, 2*K, true)
	}
	e.valueNorm = nn.NewLayerNorm(b, K, true, layerNormEps)
	e.valueOut = nn.NewLinear(b, K, E, true)
	if cfg.MissingEmbedding {
		e.missing = b.Param(nn.Normal(0, 1), E) // torch.randn in the reference
	}
	e.fusion1 = nn.NewLinear(b, cfg.GroupSize*E, E, true)
	e.fusionNorm1 = nn.NewLayerNorm(b, E, true, layerNormEps)
	e.fusion2 = nn.NewLinear(b, E, E, true)
	e.fusionNorm2 = nn.NewLayerNorm(b, E, true, layerNormEps)
	e.target = nn.NewLinear(b, 2, E, true)
	if cfg.YAware {
		e.yAware = nn.NewLinearInit(b, 1, E, nn.Normal(0, 0.02), nn.Zeros())
		if cfg.ColumnYAware {
			e.yAlpha = b.Param(nn.Constant(-5), 1) // sigmoid(-5) ~ 0.007 at init
		}
	}
	return e
}

func (e *inputEncoder) refs(prefix string, fn func(string, **autograd.Var)) {
	if e.signEmb != nil {
		fn(nn.Join(prefix, "film.sign_table"), &e.signEmb)
		fn(nn.Join(prefix, "film.exp_sign_table"), &e.expSignEmb)
		fn(nn.Join(prefix, "film.exp_digit_table"), &e.digitEmb)
		linearRefs(nn.Join(prefix, "film.fc1"), e.film1, fn)
		linearRefs(nn.Join(prefix, "film.fc2"), e.film2, fn)
	}
	layerNormRefs(nn.Join(prefix, "value_norm"), e.valueNorm, fn)
	linearRefs(nn.Join(prefix, "value_out"), e.valueOut, fn)
	if e.missing != nil {
		fn(nn.Join(prefix, "missing"), &e.missing)
	}
	linearRefs(nn.Join(prefix, "fusion.fc1"), e.fusion1, fn)
	layerNormRefs(nn.Join(prefix, "fusion.norm1"), e.fusionNorm1, fn)
	linearRefs(nn.Join(prefix, "fusion.fc2"), e.fusion2, fn)
	layerNormRefs(nn.Join(prefix, "fusion.norm2"), e.fusionNorm2, fn)
	linearRefs(nn.Join(prefix, "target"), e.target, fn)
	if e.yAware != nil {
		linearRefs(nn.Join(prefix, "y_aware"), e.yAware, fn)
		if e.yAlpha != nil {
			fn(nn.Join(prefix, "y_aware.alpha"), &e.yAlpha)
		}
	}
}

// filmTables returns gamma = sigmoid(.) and beta = tanh(.) [40, K] for every
// FiLM code (sign*20 + exponent sign*10 + exponent digit). The FiLM MLP sees
// only these 40 distinct inputs, so it runs on 40 rows and the per-scalar
// values are gathered: the same numbers as running it per scalar.
func (e *inputEncoder) filmTables(tp *autograd.Tape) (gamma, beta *autograd.Var) {
	signIdx, expSignIdx, digitIdx := make([]int, filmCodes), make([]int, filmCodes), make([]int, filmCodes)
	for c := range filmCodes {
		signIdx[c], expSignIdx[c], digitIdx[c] = c/20, (c/10)%2, c%10
	}
	ctrl := tp.Concat(1,
		tp.IndexSelect(e.signEmb, 0, signIdx),
		tp.IndexSelect(e.expSignEmb, 0, expSignIdx),
		tp.IndexSelect(e.digitEmb, 0, digitIdx))
	gb := e.film2.Forward(tp, tp.GELUErf(e.film1.Forward(tp, ctrl)))
	K := e.cfg.RBFCenters
	return tp.Sigmoid(tp.Slice(gb, 1, 0, K)), tp.Tanh(tp.Slice(gb, 1, K, 2*K))
}

// embed returns the tokens [B, r1-r0, G+1, E] of rows [r0, r1), which must be
// all context rows or all query rows.
func (e *inputEncoder) embed(tp *autograd.Tape, in *tableInput, r0, r1 int, dt tensor.DType) *autograd.Var {
	cfg := e.cfg
	B, nr, G, E, K := in.B, r1-r0, in.G, cfg.Embed, cfg.RBFCenters
	S := B * nr * in.Fp

	rbf, codes, miss := in.scalarFeatures(cfg, r0, r1)
	h := autograd.Const(constTensor(in.dev, dt, rbf, S, K))
	if cfg.FiLM {
		gamma, beta := e.filmTables(tp)
		h = tp.Add(tp.Mul(h, tp.IndexSelect(gamma, 0, codes)), tp.IndexSelect(beta, 0, codes))
	}
	v := e.valueOut.Forward(tp, e.valueNorm.Forward(tp, h)) // [S, E]
	if miss != nil {
		cond := make([]float64, S)
		for i, m := range miss {
			if m {
				cond[i] = 1
			}
		}
		v = tp.Where(constTensor(in.dev, dt, cond, S, 1), e.missing, v)
	}
	f := tp.Reshape(v, B*nr*G, cfg.GroupSize*E)
	f = e.fusionNorm1.Forward(tp, e.fusion1.Forward(tp, f))
	f = e.fusionNorm2.Forward(tp, e.fusion2.Forward(tp, tp.ReLU(f)))
	f = tp.Reshape(f, B, nr, G, E)

	if cfg.YAware && r1 <= in.nctx {
		yc := make([]float64, B*nr)
		for b := 0; b < B; b++ {
			copy(yc[b*nr:(b+1)*nr], in.yCtx[b*in.nctx+r0:b*in.nctx+r1])
		}
		bias := tp.Reshape(e.yAware.Forward(tp, autograd.Const(constTensor(in.dev, dt, yc, B*nr, 1))), B, nr, 1, E)
		if cfg.ColumnYAware {
			// x_c += (1-a)*b + a*g_c*b = b*(1 + a*(g_c-1)), g_c = sigmoid(<x_c,b>/sqrt(E)).
			score := tp.Scale(tp.Sum(tp.Mul(f, bias), true, 3), 1/math.Sqrt(float64(E))) // [B, nr, G, 1]
			coef := tp.AddScalar(tp.Mul(tp.AddScalar(tp.Sigmoid(score), -1), tp.Sigmoid(e.yAlpha)), 1)
			f = tp.Add(f, tp.Mul(bias, coef))
		} else {
			f = tp.Add(f, bias)
		}
	}

	yin := make([]float64, 2*B*nr)
	for b := 0; b < B; b++ {
		for n := 0; n < nr; n++ {
			i := b*in.N + r0 + n
			yin[2*(b*nr+n)], yin[2*(b*nr+n)+1] = in.yVal[i], in.yInd[i]
		}
	}
	t := tp.Reshape(e.target.Forward(tp, autograd.Const(constTensor(in.dev, dt, yin, B*nr, 2))), B, nr, 1, E)
	return tp.Concat(2, f, t)
}

// linearRefs and layerNormRefs enumerate the parameter fields of nn layers
// (PyTorch names "weight", "bias").
func linearRefs(prefix string, l *nn.Linear, fn func(string, **autograd.Var)) {
	fn(nn.Join(prefix, "weight"), &l.Weight)
	if l.Bias != nil {
		fn(nn.Join(prefix, "bias"), &l.Bias)
	}
}

func layerNormRefs(prefix string, l *nn.LayerNorm, fn func(string, **autograd.Var)) {
	if l.Weight != nil {
		fn(nn.Join(prefix, "weight"), &l.Weight)
	}
	if l.Bias != nil {
		fn(nn.Join(prefix, "bias"), &l.Bias)
	}
}
