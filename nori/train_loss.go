package nori

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// LossParts is the training loss of one batch and its two terms.
type LossParts struct {
	// Total = Pinball + weight * Crossing, the 0-d Var to differentiate.
	Total *autograd.Var
	// Pinball is the pinball loss averaged over query rows and quantiles;
	// Crossing is mean(relu(q_i - q_{i+1})^2) over adjacent quantiles of
	// every query row.
	Pinball, Crossing *autograd.Var
}

// QuantileLoss is the reference's training loss: the pinball loss of the
// predicted quantiles pred [B, nq, Q] against the (normalised) query
// targets target [B, nq] at the levels taus [Q], averaged over the B*nq
// query rows and the Q levels, plus weight times the mean squared
// crossing mean(relu(q_i - q_{i+1})^2) over the B*nq*(Q-1) adjacent pairs
// (the head's outputs are not sorted; the penalty keeps them nearly so).
// With Q == 1 the crossing term is 0.
func QuantileLoss(tp *autograd.Tape, pred *autograd.Var, target, taus *tensor.Tensor, weight float64) LossParts {
	s := pred.Shape()
	if len(s) != 3 || target.Rank() != 2 || target.Shape()[0] != s[0] || target.Shape()[1] != s[1] || taus.Rank() != 1 || taus.Shape()[0] != s[2] {
		panic(fmt.Sprintf("nori.QuantileLoss: pred %v, target %v, taus %v: want [B,nq,Q], [B,nq], [Q]", s, target.Shape(), taus.Shape()))
	}
	rows, q := s[0]*s[1], s[2]
	flat := tp.Reshape(pred, rows, q)
	pin := tp.Pinball(flat, autograd.Const(target.Reshape(rows)), autograd.Const(taus))
	if q < 2 {
		zero := autograd.Const(tensor.New(pred.Value.Device(), pred.Value.DType()))
		return LossParts{Total: pin, Pinball: pin, Crossing: zero}
	}
	d := tp.Sub(tp.Slice(flat, 1, 0, q-1), tp.Slice(flat, 1, 1, q))
	cross := tp.Mean(tp.Square(tp.ReLU(d)), false)
	total := pin
	if weight != 0 {
		total = tp.Add(pin, tp.Scale(cross, weight))
	}
	return LossParts{Total: total, Pinball: pin, Crossing: cross}
}

// TargetStats is a table's context target mean and standard deviation.
type TargetStats struct{ Mean, Std float64 }

// NormalizeTargets normalises the targets y [B*N] of B tables of N rows (the
// first nctx of each the context) with each table's context statistics, as
// inference does (mean and population standard deviation of the context
// rows; a standard deviation below 1e-12 counts as 1). It returns the
// context targets [B*nctx], the query targets [B*(N-nctx)] and the
// statistics. Sums run in float64 in row order.
func NormalizeTargets(y []float32, B, N, nctx int) (ctx, query []float32, stats []TargetStats) {
	if len(y) != B*N || nctx < 1 || nctx > N {
		panic(fmt.Sprintf("nori.NormalizeTargets: %d values for %d tables of %d rows, nctx %d", len(y), B, N, nctx))
	}
	nq := N - nctx
	ctx, query = make([]float32, B*nctx), make([]float32, B*nq)
	stats = make([]TargetStats, B)
	for b := 0; b < B; b++ {
		row := y[b*N : (b+1)*N]
		sum := 0.0
		for _, v := range row[:nctx] {
			sum += float64(v)
		}
		mean := sum / float64(nctx)
		ss := 0.0
		for _, v := range row[:nctx] {
			d := float64(v) - mean
			ss += d * d
		}
		std := math.Sqrt(ss / float64(nctx))
		if !(std >= 1e-12) || math.IsInf(std, 0) {
			std = 1
		}
		stats[b] = TargetStats{mean, std}
		for i, v := range row[:nctx] {
			ctx[b*nctx+i] = float32((float64(v) - mean) / std)
		}
		for i, v := range row[nctx:] {
			query[b*nq+i] = float32((float64(v) - mean) / std)
		}
	}
	return ctx, query, stats
}
