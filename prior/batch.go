package prior

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/tensor"
)

// Batch is the trainer's input for one step: B tables of one shape, each
// drawn at exactly Shape.Features features (no padding, hence no feature
// mask: every feature of every table is real).
type Batch struct {
	Seed  uint64
	Step  int64
	Shape Shape // N = Shape.Rows rows, F = Shape.Features, context rows first
	// X is [B, N, F] float32; NaN marks a missing cell.
	X *tensor.Tensor
	// Y is [B, N] float32 (never missing).
	Y *tensor.Tensor
	// Categorical[b][f] is true when feature f of table b holds integer
	// category codes.
	Categorical [][]bool
	// Infos[b] describes how table b was made.
	Infos []Info
}

// Size returns the number of tables B.
func (b *Batch) Size() int { return len(b.Infos) }

// MaxBatch is the largest batch size. Table b of step s is table
// s*MaxBatch + b of the seed's stream, so batches of different steps never
// share a table, whatever their sizes.
const MaxBatch = 1 << 16

// Shape returns the shape of the batch of step under the prior's size config.
func (p *Prior) Shape(seed uint64, step int64) Shape { return p.cfg.Sizes.Shape(seed, step) }

// Batch draws the batch of a training step: size tables of the shape
// p.Shape(seed, step). It is a pure function of (config, seed, step, size),
// whatever the number of workers: tables are generated in parallel with
// kernels/par, each into its own slot.
func (p *Prior) Batch(seed uint64, step int64, size int) (*Batch, error) {
	return p.BatchShape(seed, step, size, p.Shape(seed, step))
}

// BatchShape is Batch with the shape given (by a curriculum, say).
func (p *Prior) BatchShape(seed uint64, step int64, size int, sh Shape) (*Batch, error) {
	return p.BatchNeighbourhoods(seed, step, size, sh, NeighbourhoodConfig{})
}

// BatchNeighbourhoods is BatchShape with a share nc.Frac of the tables drawn
// as neighbourhoods (Neighbourhood of a table nc.Pool times larger). Whether
// a table is one, its centre and its row order come from its own stream of
// (seed, index), so the batch stays a pure function of its arguments.
func (p *Prior) BatchNeighbourhoods(seed uint64, step int64, size int, sh Shape, nc NeighbourhoodConfig) (*Batch, error) {
	if err := nc.Validate(); err != nil {
		return nil, err
	}
	switch {
	case step < 0 || uint64(step) > math.MaxUint64/MaxBatch:
		return nil, fmt.Errorf("prior: batch step %d out of range", step)
	case size < 1 || size > MaxBatch:
		return nil, fmt.Errorf("prior: batch size %d, want 1..%d", size, MaxBatch)
	case sh.NCtx < 1 || sh.NCtx >= sh.Rows:
		return nil, fmt.Errorf("prior: batch shape %+v: need 1 <= NCtx < Rows", sh)
	}
	n, f := sh.Rows, sh.Features
	b := &Batch{
		Seed: seed, Step: step, Shape: sh,
		X:           tensor.Zeros(size, n, f),
		Y:           tensor.Zeros(size, n),
		Categorical: make([][]bool, size),
		Infos:       make([]Info, size),
	}
	xs, ys := b.X.F32Data(), b.Y.F32Data()
	errs := make([]error, size)
	par.Parallel(size, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			index := uint64(step)*MaxBatch + uint64(i)
			t, err := p.tableOrNeighbourhood(seed, index, n, f, nc)
			if err != nil {
				errs[i] = err
				continue
			}
			if !toFloat32(xs[i*n*f:(i+1)*n*f], t.X) || !toFloat32(ys[i*n:(i+1)*n], t.Y) {
				errs[i] = fmt.Errorf("prior: table %q (seed %d, index %d) has values beyond float32 range", t.Info.Generator, seed, t.Info.Index)
				continue
			}
			b.Categorical[i] = t.Categorical
			b.Infos[i] = t.Info
		}
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("prior: batch step %d, table %d: %w", step, i, err)
		}
	}
	return b, nil
}

// tableOrNeighbourhood draws table index of the seed's stream: a plain n x f
// table, or with probability nc.Frac the neighbourhood of n rows of a table
// of nc.Pool*n rows (fewer where the prior's cell limit binds; a plain table
// when that leaves no more than n).
func (p *Prior) tableOrNeighbourhood(seed, index uint64, n, f int, nc NeighbourhoodConfig) (*Table, error) {
	if nc.Frac == 0 {
		return p.Table(seed, index, n, f)
	}
	r := rngFor(seed, streamNeighbourhood, index, 0)
	pool := min(nc.Pool*n, maxTableCells/f)
	if r.Float64() >= nc.Frac || pool <= n {
		return p.Table(seed, index, n, f)
	}
	t, err := p.Table(seed, index, pool, f)
	if err != nil {
		return nil, err
	}
	return Neighbourhood(t, n, r), nil
}

// toFloat32 converts src into dst and reports whether every finite value
// stayed finite.
func toFloat32(dst []float32, src []float64) bool {
	ok := true
	for k, v := range src {
		w := float32(v)
		dst[k] = w
		if math.IsInf(float64(w), 0) && !math.IsInf(v, 0) {
			ok = false
		}
	}
	return ok
}
