package nori

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// quantileModel is what the inference pipeline needs from the network: one
// table in (rows x features float32, context rows first, NaN = missing, the
// context targets already normalised), the query rows' quantiles out
// ((rows-nctx) x q, row-major, at levels (i+1)/(q+1)). *Model provides it
// (regressor_model.go); tests plug in small fakes.
type quantileModel interface {
	inferTable(x []float32, rows, features int, y []float32, nctx, queryChunk int) (q []float32, nq int, err error)
}

// ensemble is a fitted inference pipeline: the encoder, the members and
// each member's context (transformed training rows, subsampled to the
// budget), with the target normalisation.
type ensemble struct {
	enc     *encoder
	members []*member
	ctxX    [][]float32 // per member: context rows x width
	ctxY    [][]float32 // per member: its context rows' targets in network units
	// per member: the map between the target's units and the network's
	// (target_map.go); members with the same map share one value.
	targets []*targetMap
	// yStd is the training target's standard deviation, the unit of the
	// member scores (ensemble_weights.go).
	yStd       float64
	budget     int
	queryChunk int // 0: per member from the budget
	workers    int
	blockRows  int
	// weights of the members in the average (sum 1); nil: equal weights.
	weights []float64
}

// fitEnsemble fits everything on the training table's features and target.
func fitEnsemble(t *Table, features []string, y []float64, s *settings) *ensemble {
	e := &ensemble{budget: s.budget, queryChunk: s.queryChunk, workers: s.workers, blockRows: predictBlockRows}
	plain := fitTargetMap(y, false)
	e.yStd = plain.std
	var power *targetMap
	enc, base := fitEncoder(t, features)
	e.enc = enc
	info := enc.info()
	n := len(y)
	idx := s.keep
	if idx == nil {
		idx = rowRange(0, s.candidates())
	}
	var codes map[int][]int // nil: random category codes
	if s.targetCodes {
		codes = targetOrderCodes(base, info, y)
	}
	for _, i := range idx {
		fam := memberFamilyOf(i, s.candidates())
		if s.preprocess == PreprocessPlain {
			fam = familyPlain
		}
		m := fitMember(i, fam, base, info, s.seed, codes, candidateCols(enc, s, i))
		rows := subsampleContext(n, contextRows(n, m.width, s.budget), memberRNG(s.seed, i, streamContext))
		if rows == nil {
			rows = make([]int, n)
			for k := range rows {
				rows[k] = k
			}
		}
		tm := plain
		if s.targetPower && i%2 == 1 {
			if power == nil {
				power = fitTargetMap(y, true)
			}
			tm = power
		}
		yy := make([]float32, len(rows))
		for k, r := range rows {
			yy[k] = float32(tm.forward(y[r]))
		}
		e.members = append(e.members, m)
		e.targets = append(e.targets, tm)
		e.ctxX = append(e.ctxX, m.transform(base, rows))
		e.ctxY = append(e.ctxY, yy)
	}
	return e
}

// targetStats returns the training target's mean and population std (std 1
// when below 1e-12), summed in sorted order so the fit does not depend on
// the order of the rows.
func targetStats(y []float64) (mean, std float64) {
	mean, std, _ = momentStats(y)
	if !(std >= 1e-12) || math.IsInf(std, 0) {
		std = 1
	}
	return mean, std
}

// predict runs the query base through every member and hands each block of
// rows to emit as rows x q float64 quantiles: each member's output
// denormalised and sorted per row, then averaged over the members (with
// e.weights when set) in member order (so the result does not depend on how
// many members run at once).
func (e *ensemble) predict(qm quantileModel, query *matrix, emit emitFunc) error {
	for lo := 0; lo < query.rows; lo += e.blockRows {
		idx := rowRange(lo, min(lo+e.blockRows, query.rows))
		acc, nq, err := e.predictBlock(qm, query.selectRows(idx))
		if err != nil {
			return err
		}
		if err := emit(idx, acc, nq); err != nil {
			return err
		}
	}
	return nil
}

type memberResult struct {
	q   []float64
	nq  int
	err error
}

func (e *ensemble) predictBlock(qm quantileModel, block *matrix) ([]float64, int, error) {
	nm := len(e.members)
	results := make([]chan memberResult, nm)
	for i := range results {
		results[i] = make(chan memberResult, 1)
	}
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range min(max(e.workers, 1), nm) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= nm {
					return
				}
				if stop.Load() {
					results[i] <- memberResult{err: errStopped}
					continue
				}
				q, nq, err := e.runMember(qm, i, block)
				results[i] <- memberResult{q, nq, err}
			}
		}()
	}
	defer wg.Wait()
	var acc []float64
	var nq int
	var firstErr error
	for i := range nm {
		r := <-results[i]
		switch {
		case firstErr != nil:
		case r.err != nil:
			firstErr = r.err
			stop.Store(true)
		case acc == nil:
			acc, nq = r.q, r.nq
			if e.weights != nil {
				for k := range acc {
					acc[k] *= e.weights[i]
				}
			}
		case r.nq != nq:
			firstErr = fmt.Errorf("nori: ensemble members returned %d and %d quantiles", nq, r.nq)
			stop.Store(true)
		case e.weights != nil:
			for k, v := range r.q {
				acc[k] += e.weights[i] * v
			}
		default:
			for k, v := range r.q {
				acc[k] += v
			}
		}
	}
	if firstErr != nil {
		return nil, 0, firstErr
	}
	if e.weights == nil {
		inv := 1 / float64(nm)
		for k := range acc {
			acc[k] *= inv
		}
	}
	sortRows(acc, nq) // already sorted: an average of sorted rows is sorted
	return acc, nq, nil
}

var errStopped = fmt.Errorf("nori: stopped after an earlier member failed")

// runMember predicts one block with member i: its context then the block's
// rows through the model, mapped back to the target's units and sorted per
// row.
func (e *ensemble) runMember(qm quantileModel, i int, block *matrix) ([]float64, int, error) {
	m := e.members[i]
	ctx := e.ctxX[i]
	nctx := len(e.ctxY[i])
	x := make([]float32, 0, len(ctx)+block.rows*m.width)
	x = append(x, ctx...)
	x = append(x, m.transform(block, nil)...)
	chunk := queryChunkRows(e.queryChunk, m.width, e.budget)
	q32, nq, err := qm.inferTable(x, nctx+block.rows, m.width, e.ctxY[i], nctx, chunk)
	if err != nil {
		return nil, 0, fmt.Errorf("nori: ensemble member %d: %w", i, err)
	}
	if nq < 1 || len(q32) != block.rows*nq {
		return nil, 0, fmt.Errorf("nori: ensemble member %d: the model returned %d values for %d query rows (%d quantiles)", i, len(q32), block.rows, nq)
	}
	q := make([]float64, len(q32))
	tm := e.targets[i]
	for k, v := range q32 {
		q[k] = tm.inverse(float64(v))
	}
	if err := finiteOrErr(q, nq); err != nil {
		return nil, 0, fmt.Errorf("ensemble member %d: %w", i, err)
	}
	sortRows(q, nq)
	return q, nq, nil
}
