package nn

import (
	"fmt"

	"github.com/nori-ml/nori/autograd"
)

// SwiGLUMLP is the gated feed-forward block of the reference model:
// y = W_down(silu(W_gate x) * (W_up x)), all three projections without bias.
type SwiGLUMLP struct {
	Gate *Linear // [hidden, dim]
	Up   *Linear // [hidden, dim]
	Down *Linear // [dim, hidden]
}

// NewSwiGLUMLP returns a SwiGLU block mapping dim -> hidden -> dim with
// PyTorch-default initialised weights.
func NewSwiGLUMLP(b *Builder, dim, hidden int) *SwiGLUMLP {
	if dim <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("nn.NewSwiGLUMLP: dim %d and hidden %d must be positive", dim, hidden))
	}
	return &SwiGLUMLP{
		Gate: NewLinear(b, dim, hidden, false),
		Up:   NewLinear(b, dim, hidden, false),
		Down: NewLinear(b, hidden, dim, false),
	}
}

// VisitParams implements Module: "gate.weight", "up.weight", "down.weight".
func (m *SwiGLUMLP) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	m.Gate.VisitParams(Join(prefix, "gate"), fn)
	m.Up.VisitParams(Join(prefix, "up"), fn)
	m.Down.VisitParams(Join(prefix, "down"), fn)
}

// Forward maps x [..., dim] to [..., dim].
func (m *SwiGLUMLP) Forward(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	return m.Down.Forward(tp, tp.SwiGLU(m.Gate.Forward(tp, x), m.Up.Forward(tp, x)))
}
