package nori

import (
	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
)

// quantileHead reads the target token of each query row after the final
// RMSNorm: Linear(E, HeadHidden) -> LayerNorm -> GELU -> Linear(HeadHidden,
// Quantiles), the quantiles of the (normalised) target at levels
// tau_i = (i+1)/(Quantiles+1). The outputs are not sorted.
type quantileHead struct {
	fc1  *nn.Linear
	norm *nn.LayerNorm
	fc2  *nn.Linear
}

func newQuantileHead(b *nn.Builder, cfg Config) *quantileHead {
	return &quantileHead{
		fc1:  nn.NewLinear(b, cfg.Embed, cfg.HeadHidden, true),
		norm: nn.NewLayerNorm(b, cfg.HeadHidden, true, layerNormEps),
		fc2:  nn.NewLinear(b, cfg.HeadHidden, cfg.Quantiles, true),
	}
}

func (h *quantileHead) refs(prefix string, fn func(string, **autograd.Var)) {
	linearRefs(nn.Join(prefix, "fc1"), h.fc1, fn)
	layerNormRefs(nn.Join(prefix, "norm"), h.norm, fn)
	linearRefs(nn.Join(prefix, "fc2"), h.fc2, fn)
}

// forward maps the query stream x [B, nq, T, E] to quantiles [B, nq, Q]. The
// final RMSNorm of the stack acts per token, so it is applied to the target
// tokens alone.
func (h *quantileHead) forward(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	s := x.Shape()
	B, nq, T, E := s[0], s[1], s[2], s[3]
	t := tp.Reshape(tp.Slice(x, 2, T-1, T), B*nq, E)
	t = tp.RMSNorm(t, nil, rmsNormEps)
	t = tp.GELUErf(h.norm.Forward(tp, h.fc1.Forward(tp, t)))
	out := h.fc2.Forward(tp, t)
	return tp.Reshape(out, B, nq, out.Shape()[1])
}
