package prior

import (
	"math"
)

// Shape is the shape of a batch: every table of a batch has Rows rows
// (the first NCtx of them context rows, the rest query rows) and Features
// features.
type Shape struct {
	Rows, Features, NCtx int
}

// Shape draws the batch shape for a training step: a pure function of
// (s, seed, step). A curriculum changes s between steps (say, raising
// MaxRows) and passes the result to Prior.BatchShape.
func (s SizeConfig) Shape(seed uint64, step int64) Shape {
	return s.DrawShape(rngFor(seed, streamShape, uint64(step), 0))
}

// DrawShape draws a shape from r: rows and features log-uniform on their
// bucket grids (or ranges, without buckets), context rows
// round(rows * U(MinContextFrac, MaxContextFrac)) clamped to [1, rows-1].
func (s SizeConfig) DrawShape(r Source) Shape {
	rows := drawSize(r, s.MinRows, s.MaxRows, s.RowBuckets)
	feats := drawSize(r, s.MinFeatures, s.MaxFeatures, s.FeatureBuckets)
	frac := s.MinContextFrac + (s.MaxContextFrac-s.MinContextFrac)*r.Float64()
	return Shape{Rows: rows, Features: feats, NCtx: ContextRows(rows, frac)}
}

// ContextRows returns the context rows of a table of rows rows whose
// context is the fraction frac of them: round(rows*frac) clamped to
// [1, rows-1], so that the context and the queries are never empty.
func ContextRows(rows int, frac float64) int {
	return min(max(int(math.Round(frac*float64(rows))), 1), rows-1)
}

// RowSizes returns the row counts a batch can have (nil without buckets:
// any count in range).
func (s SizeConfig) RowSizes() []int { return bucketGrid(s.MinRows, s.MaxRows, s.RowBuckets) }

// FeatureSizes returns the feature counts a batch can have (nil without
// buckets).
func (s SizeConfig) FeatureSizes() []int {
	return bucketGrid(s.MinFeatures, s.MaxFeatures, s.FeatureBuckets)
}

// bucketGrid returns up to n sizes spaced geometrically from lo to hi (both
// included; duplicates from rounding removed). n == 1 gives {hi}; n == 0
// gives nil.
func bucketGrid(lo, hi, n int) []int {
	switch {
	case n <= 0:
		return nil
	case n == 1 || lo == hi:
		return []int{hi}
	}
	out := make([]int, 0, n)
	ratio := float64(hi) / float64(lo)
	for k := 0; k < n; k++ {
		v := int(math.Round(float64(lo) * math.Pow(ratio, float64(k)/float64(n-1))))
		v = min(max(v, lo), hi)
		if len(out) == 0 || v > out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// drawSize draws a size log-uniformly: a uniform bucket of the grid, or
// without buckets floor(exp(U(log lo, log(hi+1)))).
func drawSize(r Source, lo, hi, buckets int) int {
	if grid := bucketGrid(lo, hi, buckets); grid != nil {
		return grid[r.Intn(len(grid))]
	}
	v := int(math.Exp(math.Log(float64(lo)) + r.Float64()*(math.Log(float64(hi)+1)-math.Log(float64(lo)))))
	return min(max(v, lo), hi)
}
