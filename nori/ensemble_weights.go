package nori

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
)

// Member weighting. The members of an ensemble differ in which features
// share a pair token, which transforms they see and the order of their
// columns, and on a given table some of these views suit the network much
// better than others: on a clean linear table single members score test R²
// from 0.86 to 0.96 depending on whether the informative features share a
// token. An equal average gives the bad views as much say as the good ones.
//
// So Fit scores every member on its own context: the context rows are cut
// into weightFolds seeded folds, each fold is predicted from the other rows
// (one forward pass per fold), and the member's score is the mean squared
// error of its mean prediction over all context rows, mapped back to the
// target's units and divided by the target's variance. The members'
// quantiles are then averaged with weights
//
//	w_i ∝ exp(-(s_i - s_min) / (τ · s_min)),   τ = 2·sqrt(2/n),
//
// a softmax of the score's excess over the best member's, relative to it
// (so it does not depend on the target's scale). A mean squared error
// estimated from n rows has a relative standard error of about sqrt(2/n),
// so τ is two of those: differences within the noise of the scores barely
// move the weights, and the weights sharpen as the table grows (n = 300: a
// member 16% worse than the best gets e^-1 of its weight; n = 3200: 5%
// worse). On 18 of the benchmark tables (8 members; docs/model.md) a fixed
// τ = 0.1 and this one scored the same on the 12 with fewer than 2000 rows
// and this one +0.003 on the 6 with 4000+; one held-out fold instead of
// three was worse on the small tables (noisier scores), two in between.
//
// This uses only training rows; the member's preprocessing was fitted on
// all of them without the target, so no test information enters. It costs
// weightFolds forward passes per member over the training rows at Fit time.
const (
	weightFolds = 3
	// minWeightRows is the fewest context rows a member must have to be
	// scored; below it the held-out folds are too small to rank members
	// and they are averaged equally.
	minWeightRows = 30
)

// weightTemp is τ for scores estimated from n rows.
func weightTemp(n int) float64 { return 2 * math.Sqrt(2/float64(n)) }

// fitWeights sets e.weights from held-out scores of the members (equal
// weights when there is one member or too few context rows). When the
// ensemble holds more than keep members (a pool, ensemble_pool.go), it
// keeps the keep best-scoring ones first (the first keep when the members
// cannot be scored).
func (e *ensemble) fitWeights(qm quantileModel, seed uint64, keep int) error {
	e.weights = nil
	n := len(e.ctxY[0])
	for _, y := range e.ctxY {
		n = min(n, len(y))
	}
	if len(e.members) < 2 || n < minWeightRows {
		e.keepMembers(rowRange(0, min(keep, len(e.members))))
		return nil
	}
	scores, err := e.memberScores(qm, weightFolds, seed)
	if err != nil {
		return err
	}
	if keep < len(e.members) {
		best := bestMembers(scores, keep)
		e.keepMembers(best)
		scores = pick(scores, best)
	}
	e.weights = weightsFromScores(scores, weightTemp(n))
	return nil
}

// weightsFromScores returns softmax(-(s - min)/(temp·min)), normalised to
// sum 1; equal weights when the best score is 0 (a perfect member makes
// the relative excess undefined).
func weightsFromScores(scores []float64, temp float64) []float64 {
	best := math.Inf(1)
	for _, s := range scores {
		best = min(best, s)
	}
	w := make([]float64, len(scores))
	sum := 0.0
	for i, s := range scores {
		if best > 0 {
			w[i] = math.Exp(-(s - best) / (temp * best))
		} else {
			w[i] = 1
		}
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// memberScores returns, per member, the mean squared error (in units of
// the training target's variance) of its mean prediction for its own
// context rows, each predicted from the rows outside its fold (folds seeded
// from seed and the member's index). Members run on e.workers goroutines; the scores do not
// depend on their number.
func (e *ensemble) memberScores(qm quantileModel, folds int, seed uint64) ([]float64, error) {
	nm := len(e.members)
	scores := make([]float64, nm)
	errs := make([]error, nm)
	next := make(chan int, nm)
	for i := range nm {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(max(e.workers, 1), nm) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				scores[i], errs[i] = e.memberScore(qm, i, folds, seed)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("nori: scoring ensemble member %d: %w", i, err)
		}
	}
	return scores, nil
}

// memberScore is member i's held-out mean squared error over folds folds.
// The folds are drawn over the context rows in a canonical order (by their
// values, canonicalRows), and every fold's table lists its rows in that
// order, so the score does not depend on the order of the training rows:
// with a member pool (ensemble_pool.go) the scores choose the members, and
// a shuffled training file must choose the same ones.
func (e *ensemble) memberScore(qm quantileModel, i, folds int, seed uint64) (float64, error) {
	ctx, ctxY, tm := e.ctxX[i], e.ctxY[i], e.targets[i]
	n, w := len(ctxY), e.members[i].width
	order := canonicalRows(ctx, ctxY, w)
	perm := memberRNG(seed, e.members[i].index, streamValid).Perm(n)
	held := make([]bool, n)
	x := make([]float32, 0, n*w)
	y := make([]float32, 0, n)
	chunk := queryChunkRows(e.queryChunk, w, e.budget)
	var sse float64
	for f := range folds {
		fold := perm[f*n/folds : (f+1)*n/folds]
		clear(held)
		for _, p := range fold {
			held[order[p]] = true
		}
		// The table: the other rows as context, then the fold as queries.
		x, y = x[:0], y[:0]
		for _, r := range order {
			if !held[r] {
				x = append(x, ctx[r*w:(r+1)*w]...)
				y = append(y, ctxY[r])
			}
		}
		for _, p := range fold {
			r := order[p]
			x = append(x, ctx[r*w:(r+1)*w]...)
		}
		q, nq, err := qm.inferTable(x, n, w, y, len(y), chunk)
		if err != nil {
			return 0, err
		}
		if nq < 1 || len(q) != len(fold)*nq {
			return 0, fmt.Errorf("the model returned %d values for %d held-out rows (%d quantiles)", len(q), len(fold), nq)
		}
		// The plain mean of the model's raw (unsorted) quantile row, mapped
		// back to the target's units, so that members that see the target
		// through different maps (target_map.go) are scored alike: a
		// ranking criterion, not a reported estimate. It differs from
		// meanOfQuantiles (the point estimate of Predict, which needs the
		// row sorted) only by the two tail terms, O(1/Q).
		for k, p := range fold {
			r := order[p]
			mean := 0.0
			for _, v := range q[k*nq : (k+1)*nq] {
				mean += tm.inverse(float64(v))
			}
			d := (mean/float64(nq) - tm.inverse(float64(ctxY[r]))) / e.yStd
			sse += d * d
		}
	}
	s := sse / float64(n)
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("held-out error is %v: the model produced non-finite quantiles", s)
	}
	return s, nil
}

// canonicalRows returns the indices of the n rows of x (n x w) with targets
// y, sorted by the target then by each value (cmp.Compare: NaN first): an
// order of the rows that depends on their contents alone (rows that
// compare equal are interchangeable).
func canonicalRows[T float32 | float64](x, y []T, w int) []int {
	idx := rowRange(0, len(y))
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmp.Compare(y[a], y[b]); c != 0 {
			return c
		}
		for j := range w {
			if c := cmp.Compare(x[a*w+j], x[b*w+j]); c != 0 {
				return c
			}
		}
		return 0
	})
	return idx
}
