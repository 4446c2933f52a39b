package nori

import (
	"math"
	"slices"

	"github.com/nori-ml/nori/tensor"
)

// Member weights shared by the local contexts of a large table.
//
// Weighting the members inside every local context (ensemble_weights.go)
// pays weightFolds passes per member per group of query rows, 3-4x the work
// of the prediction, which is why it is off by default above localWeightRows
// training rows. But member i is the same view of the table in every group:
// its family, column order, pair products and code permutations come from
// (seed, i), not from the group's rows. So Fit scores the members once, on
// a few probe contexts, and every group averages its members with those
// weights.
//
// Algorithm: localWeightProbes training rows, drawn from a seeded stream,
// are the probes' centres; a probe's context is the rows training rows
// nearest to its centre (nearestRows, as a query group's). Each probe fits
// the ensemble on its context and scores every member by held-out folds
// (memberScores). A member's excess over a probe's best member, relative
// to it, is averaged over the probes, and the weights are
// softmax(-excess/τ) with τ = weightTemp of the rows scored in all (the
// average of P probes' excesses is sqrt(P) times less noisy than one's).
//
// Cost: each probe is one ensemble fit on rows rows and weightFolds passes
// per member over them, about three groups' work, so the probes cost about
// twelve groups once per Fit, where weighting inside every group would cost
// three times every group's work.
const localWeightProbes = 4

// streamLocalProbes is the tensor.RNG stream of the probes' centres (far
// from the members' streams, memberStreamBase*(index+1)+purpose).
const streamLocalProbes = 0x6c6f63616c // "local"

// fitSharedWeights sets l.weights from probe contexts; it leaves them nil
// (equal weights) when fewer than two members, contexts below
// minWeightRows, or no probe with a non-constant target and a positive best
// score. With a member pool (ensemble_pool.go) the probes score every
// candidate and l.sub.keep lists the ensemble-size best, which the groups
// then build (the first ones when nothing could be scored).
func (l *localFit) fitSharedWeights(qm quantileModel) error {
	l.weights = nil
	k := l.sub.ensemble
	nc := l.sub.candidates()
	if nc > k {
		// Without scores the groups build the first k candidates.
		l.sub.keep = rowRange(0, k)
	}
	n := len(l.y)
	if nc < 2 || min(n, l.rows) < minWeightRows {
		return nil
	}
	probe := l.sub
	probe.keep = nil
	// The centres are drawn over the rows in a canonical order, so that
	// they do not depend on the order of the training rows.
	order := canonicalRows(l.z, l.y, l.space.dim)
	centres := tensor.NewRNG(l.sub.seed, streamLocalProbes).Perm(n)[:min(localWeightProbes, n)]
	for k, p := range centres {
		centres[k] = order[p]
	}
	excess := make([]float64, nc)
	probes, scored := 0, 0
	for _, c := range centres {
		ctx := nearestRows(l.z, l.z, []int{c}, l.space.dim, l.rows, l.y)
		yc := make([]float64, len(ctx))
		for k, i := range ctx {
			yc[k] = l.y[i]
		}
		if slices.Min(yc) == slices.Max(yc) {
			continue
		}
		e := fitEnsemble(SelectRows(l.table, ctx), l.features, yc, &probe)
		scores, err := e.memberScores(qm, weightFolds, l.sub.seed)
		if err != nil {
			return err
		}
		best := slices.Min(scores)
		if !(best > 0) {
			continue
		}
		for i, s := range scores {
			excess[i] += (s - best) / best
		}
		probes++
		scored += len(yc)
	}
	if probes == 0 {
		return nil
	}
	if nc > k {
		l.sub.keep = bestMembers(excess, k)
		excess = pick(excess, l.sub.keep)
	}
	temp := weightTemp(scored)
	w := make([]float64, len(excess))
	sum := 0.0
	for i, x := range excess {
		w[i] = math.Exp(-x / float64(probes) / temp)
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	l.weights = w
	return nil
}
