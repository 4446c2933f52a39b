package prior

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/nori-ml/nori/tensor"
)

// Prior draws tables from a validated Config. It holds no mutable state:
// every method is a pure function of its arguments and safe for concurrent
// use.
type Prior struct {
	cfg  Config
	gens []Generator // generators with a positive share, sorted by name
	cum  []float64   // cumulative normalised shares, cum[len-1] == 1
}

// ErrUnlearnable is returned (wrapped) by Prior.Table when every draw was
// rejected by the filter and Config.Filter.KeepBest is off.
var ErrUnlearnable = errors.New("prior: no draw passed the learnability filter")

// New checks cfg and resolves its generators in the registry.
func New(cfg Config) (*Prior, error) { return newPrior(cfg, Lookup) }

// newPrior is New with the generator lookup injected, so that tests can use
// generators of their own without registering them globally.
func newPrior(cfg Config, lookup func(string) (Generator, bool)) (*Prior, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Prior{cfg: cfg}
	total := 0.0
	for _, name := range sortedKeys(cfg.Shares) {
		w := cfg.Shares[name]
		if w == 0 {
			continue
		}
		g, ok := lookup(name)
		if !ok {
			return nil, fmt.Errorf("prior: Config.Shares names generator %q, which is not registered (registered: %s)", name, strings.Join(Names(), ", "))
		}
		total += w
		p.gens = append(p.gens, g)
		p.cum = append(p.cum, total)
	}
	for i := range p.cum {
		p.cum[i] /= total
	}
	p.cum[len(p.cum)-1] = 1
	return p, nil
}

// Config returns the prior's configuration.
func (p *Prior) Config() Config { return p.cfg }

// Purposes of the RNG streams of one table. Each stage draws from its own
// stream, derived from (index, attempt, purpose), so that changing one stage
// (say, an augmentation that draws one more number) does not shift the
// others, and no stage shares a generator with another table.
const (
	streamPick uint64 = iota + 1
	streamGenerate
	streamAugment
	streamFilter
	streamShuffle
	streamShape
	streamNeighbourhood
)

// mix64 is the splitmix64 finaliser: a bijection of uint64 with good
// avalanche, used to derive well-separated stream ids.
func mix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// streamID returns the Philox stream for a stage of a table draw.
func streamID(purpose, index, attempt uint64) uint64 {
	return mix64(mix64(mix64(purpose)^index) ^ attempt)
}

// rngFor returns the generator of one stage of one draw.
func rngFor(seed, purpose, index, attempt uint64) *tensor.RNG {
	return tensor.NewRNG(seed, streamID(purpose, index, attempt))
}

// pick chooses the table's generator. It depends on (seed, index) only, not
// on the attempt: a rejected table is redrawn from the same generator, so the
// generator shares of the kept tables are exactly the configured ones (were
// the generator redrawn, generators whose tables are often rejected would be
// under-represented).
func (p *Prior) pick(seed, index uint64) Generator {
	u := rngFor(seed, streamPick, index, 0).Float64()
	for i, c := range p.cum {
		if u < c {
			return p.gens[i]
		}
	}
	return p.gens[len(p.gens)-1]
}

// Table draws table index of the stream seed with the given shape: a
// generator from the mixture draws a table, the learnability filter judges
// it, and the augmentations are applied to the table kept. A rejected draw
// is redrawn (same generator, new streams) up to Config.Filter.MaxAttempts
// times until the out-of-bag R² exceeds the threshold. When every draw is
// rejected the draw with the highest R² is kept if Config.Filter.KeepBest
// is set (its Info.FilterR2 is then at or below the threshold, so callers
// can tell), else an error wrapping ErrUnlearnable is returned.
//
// By default the filter judges the generator's table before the
// augmentations (see FilterConfig.AfterAugment for why); with AfterAugment
// every draw is augmented first and the filter judges the result.
//
// The result is a pure function of (p's config, seed, index, rows,
// features): each stage draws from streams derived from (seed, index,
// attempt), never from shared state. Rows are shuffled last, so any
// contiguous context/query split of the table is a random split.
func (p *Prior) Table(seed, index uint64, rows, features int) (*Table, error) {
	if rows < minTableRows || features < 1 {
		return nil, fmt.Errorf("prior: table shape %dx%d invalid: need at least %d rows and 1 feature", rows, features, minTableRows)
	}
	if rows > maxTableCells/features {
		return nil, fmt.Errorf("prior: table shape %dx%d has more than %d cells", rows, features, maxTableCells)
	}
	d := drawer{p: p, g: p.pick(seed, index), seed: seed, index: index, rows: rows, features: features}
	fc := p.cfg.Filter
	if !fc.Enabled {
		t, err := d.generate(0)
		if err == nil {
			err = d.augment(t, 0)
		}
		if err != nil {
			return nil, err
		}
		t.Info.FilterR2 = math.NaN()
		return d.finish(t, 1), nil
	}
	var kept, best *Table
	keptAttempt, bestAttempt, attempts := 0, 0, fc.MaxAttempts
	for a := 0; a < fc.MaxAttempts; a++ {
		t, err := d.generate(a)
		if err == nil && fc.AfterAugment {
			err = d.augment(t, a)
		}
		if err != nil {
			return nil, err
		}
		r2 := Learnability(rngFor(seed, streamFilter, index, uint64(a)), t, fc)
		t.Info.FilterR2 = r2
		if r2 > fc.Threshold {
			kept, keptAttempt, attempts = t, a, a+1
			break
		}
		// NaN (undefined R²) never beats a defined score.
		if best == nil || r2 > best.Info.FilterR2 || (math.IsNaN(best.Info.FilterR2) && !math.IsNaN(r2)) {
			best, bestAttempt = t, a
		}
	}
	if kept == nil {
		if !fc.KeepBest {
			return nil, fmt.Errorf("%w: generator %q, seed %d, index %d, %dx%d, %d draws, best R² %.3f <= %.3f",
				ErrUnlearnable, d.g.Name(), seed, index, rows, features, fc.MaxAttempts, best.Info.FilterR2, fc.Threshold)
		}
		kept, keptAttempt = best, bestAttempt
	}
	if !fc.AfterAugment {
		if err := d.augment(kept, keptAttempt); err != nil {
			return nil, err
		}
	}
	return d.finish(kept, attempts), nil
}

// maxTableCells bounds rows*features of one table (1 GiB of float64), so
// that a mistyped shape is an error, not an out-of-memory crash.
const maxTableCells = 1 << 27

// drawer runs the stages of one table draw.
type drawer struct {
	p              *Prior
	g              Generator
	seed, index    uint64
	rows, features int
}

// generate runs the generator for one attempt and checks its table against
// the Generator contract.
func (d *drawer) generate(attempt int) (t *Table, err error) {
	err = d.protect("generator", attempt, func() {
		t = d.g.Generate(rngFor(d.seed, streamGenerate, d.index, uint64(attempt)), d.rows, d.features)
	})
	if err == nil {
		if e := checkTable(t, d.rows, d.features, false); e != nil {
			err = fmt.Errorf("prior: generator %q (seed %d, index %d, attempt %d): %v", d.g.Name(), d.seed, d.index, attempt, e)
		}
	}
	if err != nil {
		return nil, err
	}
	t.Info.Generator = d.g.Name()
	return t, nil
}

// augment applies the augmentations with the stream of the attempt that
// drew t, and checks the result.
func (d *drawer) augment(t *Table, attempt int) error {
	err := d.protect("augmentations", attempt, func() {
		Augment(rngFor(d.seed, streamAugment, d.index, uint64(attempt)), t, d.p.cfg.Augment)
	})
	if err == nil {
		if e := checkTable(t, d.rows, d.features, true); e != nil {
			err = fmt.Errorf("prior: augmentations %v of a %q table (seed %d, index %d, attempt %d): %v",
				t.Info.Augmentations, d.g.Name(), d.seed, d.index, attempt, e)
		}
	}
	return err
}

// protect runs f and turns a panic into an error naming the stage and the
// draw (the shape comes from the user, so a generator bug it triggers must
// not crash the program).
func (d *drawer) protect(stage string, attempt int, f func()) (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("prior: %s of generator %q (seed %d, index %d, attempt %d, %dx%d) panicked: %v",
				stage, d.g.Name(), d.seed, d.index, attempt, d.rows, d.features, e)
		}
	}()
	f()
	return nil
}

// checkTable verifies the shape of t and that its values are finite; NaN
// features (missing cells) are allowed when missingOK is set.
func checkTable(t *Table, rows, features int, missingOK bool) error {
	if t == nil {
		return errors.New("nil table")
	}
	if t.Rows != rows || t.Features != features || len(t.X) != rows*features || len(t.Y) != rows || len(t.Categorical) != features {
		return fmt.Errorf("table is %dx%d (len X %d, Y %d, Categorical %d), want %dx%d",
			t.Rows, t.Features, len(t.X), len(t.Y), len(t.Categorical), rows, features)
	}
	for i, v := range t.Y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("target of row %d is %v", i, v)
		}
	}
	for k, v := range t.X {
		if math.IsInf(v, 0) || (math.IsNaN(v) && !missingOK) {
			return fmt.Errorf("feature %d of row %d is %v", k%features, k/features, v)
		}
	}
	return nil
}

// finish shuffles the rows of the kept draw and fills in its Info.
func (d *drawer) finish(t *Table, attempts int) *Table {
	seed, index := d.seed, d.index
	perm := rngFor(seed, streamShuffle, index, 0).Perm(t.Rows)
	x := make([]float64, len(t.X))
	y := make([]float64, len(t.Y))
	f := t.Features
	for i, src := range perm {
		copy(x[i*f:(i+1)*f], t.X[src*f:(src+1)*f])
		y[i] = t.Y[src]
	}
	t.X, t.Y = x, y
	t.Info.Seed, t.Info.Index, t.Info.Attempts = seed, index, attempts
	if t.Info.Params == nil {
		t.Info.Params = map[string]any{}
	}
	return t
}
