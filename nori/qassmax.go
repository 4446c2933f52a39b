package nori

import (
	"math"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// qassMax is the query-aware scalable softmax of row attention, applied as a
// rescaling of the queries before the usual 1/sqrt(D) attention:
//
//	q' = q * log(n) * (1 + tanh(base(log n))) * (1 + tanh(gate(q)))
//
// with n the number of context rows (the keys), base an MLP 1 -> hidden ->
// H*D whose output is read per head and dimension, and gate one MLP
// D -> hidden -> D applied to each head's query vector (shared by the heads).
// The last layers of both MLPs start at zero, so at initialisation q' =
// q*log(n) (SSMax). With n <= 1 the queries are left unchanged, as in the
// reference.
type qassMax struct {
	base1, base2 *nn.Linear // 1 -> hidden -> H*D
	gate1, gate2 *nn.Linear // D -> hidden -> D
	heads, dim   int
}

func newQASSMax(b *nn.Builder, heads, dim, hidden int) *qassMax {
	return &qassMax{
		base1: nn.NewLinear(b, 1, hidden, true),
		base2: nn.NewLinearInit(b, hidden, heads*dim, nn.Zeros(), nn.Zeros()),
		gate1: nn.NewLinear(b, dim, hidden, true),
		gate2: nn.NewLinearInit(b, hidden, dim, nn.Zeros(), nn.Zeros()),
		heads: heads, dim: dim,
	}
}

func (q *qassMax) refs(prefix string, fn func(string, **autograd.Var)) {
	linearRefs(nn.Join(prefix, "base.fc1"), q.base1, fn)
	linearRefs(nn.Join(prefix, "base.fc2"), q.base2, fn)
	linearRefs(nn.Join(prefix, "gate.fc1"), q.gate1, fn)
	linearRefs(nn.Join(prefix, "gate.fc2"), q.gate2, fn)
}

// scale rescales the projected queries q [rows, H*D] (contiguous) for a
// context of n rows.
func (q *qassMax) scale(tp *autograd.Tape, x *autograd.Var, n int, dt tensor.DType) *autograd.Var {
	if n <= 1 {
		return x
	}
	// log n in float64, rounded once to the compute dtype (float32 cannot even
	// represent large row counts exactly).
	logn := math.Log(float64(n))
	ln := autograd.Const(constTensor(x.Value.Device(), dt, []float64{logn}, 1, 1))
	base := q.base2.Forward(tp, tp.GELUErf(q.base1.Forward(tp, ln))) // [1, H*D]
	base = tp.Mul(tp.AddScalar(tp.Tanh(base), 1), ln)                // log n * (1 + tanh(.))
	rows := x.Shape()[0]
	xh := tp.Reshape(x, rows*q.heads, q.dim)
	gate := q.gate2.Forward(tp, tp.GELUErf(q.gate1.Forward(tp, xh))) // [rows*H, D]
	gate = tp.Reshape(tp.AddScalar(tp.Tanh(gate), 1), rows, q.heads*q.dim)
	return tp.Mul(tp.Mul(x, base), gate)
}
