package prior

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/tensor"
)

// pipeGen is a test-only generator: y = x·w on standard normal features, or
// with probability noiseProb a target independent of the features; it can
// also misbehave on purpose.
type pipeGen struct {
	name      string
	noiseProb float64
	panics    bool
	badShape  bool
	inf       bool
}

func (g pipeGen) Name() string { return g.name }

func (g pipeGen) Generate(r *tensor.RNG, rows, features int) *Table {
	if g.panics {
		panic("deliberate")
	}
	if g.badShape {
		rows++
	}
	t := linearTable(r, rows, features, 0.1)
	if r.Float64() < g.noiseProb {
		for i := range t.Y {
			t.Y[i] = r.NormFloat64()
		}
		t.Info.Params["noise"] = true
	}
	if g.inf {
		t.Y[0] = math.Inf(1)
	}
	return t
}

var pipeGens = map[string]Generator{
	"pipe_linear": pipeGen{name: "pipe_linear"},
	"pipe_noise":  pipeGen{name: "pipe_noise", noiseProb: 1},
	"pipe_half":   pipeGen{name: "pipe_half", noiseProb: 0.5},
	"pipe_panic":  pipeGen{name: "pipe_panic", panics: true},
	"pipe_shape":  pipeGen{name: "pipe_shape", badShape: true},
	"pipe_inf":    pipeGen{name: "pipe_inf", inf: true},
}

// pipePrior returns a prior over the named test generators (equal shares).
func pipePrior(t *testing.T, aug AugmentConfig, names ...string) *Prior {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Augment = aug
	cfg.Shares = map[string]float64{}
	for _, n := range names {
		cfg.Shares[n] = 1
	}
	p, err := newPrior(cfg, func(n string) (Generator, bool) { g, ok := pipeGens[n]; return g, ok })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// augmentOff is the default augmentation config with every probability
// zero (NoAugment's zero ranges do not pass AugmentConfig.Validate).
func augmentOff() AugmentConfig {
	c := DefaultAugmentConfig()
	v := reflect.ValueOf(&c).Elem()
	for i := 0; i < v.NumField(); i++ {
		if strings.HasSuffix(v.Type().Field(i).Name, "Prob") {
			v.Field(i).SetFloat(0)
		}
	}
	return c
}

// defaultPrior is the reference prior over the registered generators.
func defaultPrior(t testing.TB) *Prior {
	t.Helper()
	p, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func csvBytes(t testing.TB, tb *Table) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCSV(&b, tb); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPipelineDeterministic: a table is a pure function of (seed, index,
// shape): the same bytes with 1 and 2 workers, drawn concurrently or not, and
// different bytes for another seed or index.
func TestPipelineDeterministic(t *testing.T) {
	p := defaultPrior(t)
	type key struct {
		index      uint64
		rows, feat int
	}
	keys := []key{{0, 50, 2}, {1, 64, 5}, {2, 200, 16}, {3, 517, 7}, {4, 1200, 30}, {5, 90, 1}, {6, 333, 3}, {7, 100, 60}}
	draw := func() [][]byte {
		out := make([][]byte, len(keys))
		var wg sync.WaitGroup
		for i, k := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tb, err := p.Table(99, k.index, k.rows, k.feat)
				if err != nil {
					t.Error(err)
					return
				}
				out[i] = csvBytes(t, tb)
			}()
		}
		wg.Wait()
		return out
	}
	old := par.SetWorkers(1)
	defer par.SetWorkers(old)
	one := draw()
	par.SetWorkers(2)
	two := draw()
	for i, k := range keys {
		if !bytes.Equal(one[i], two[i]) {
			t.Fatalf("table %+v differs between 1 and 2 workers", k)
		}
		tb, err := p.Table(99, k.index, k.rows, k.feat)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(csvBytes(t, tb), one[i]) {
			t.Fatalf("table %+v differs between a concurrent and a sequential draw", k)
		}
		other, err := p.Table(100, k.index, k.rows, k.feat)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(csvBytes(t, other), one[i]) {
			t.Fatalf("table %+v identical for seeds 99 and 100", k)
		}
	}
	if bytes.Equal(one[0], one[1]) {
		t.Fatal("tables 0 and 1 identical")
	}
}

// TestPipelineFilterRedraws: unlearnable draws are redrawn from the same
// generator until one passes; after MaxAttempts rejections the best draw is
// kept (KeepBest) or ErrUnlearnable returned.
func TestPipelineFilterRedraws(t *testing.T) {
	p := pipePrior(t, augmentOff(), "pipe_half")
	thr := p.cfg.Filter.Threshold
	redrawn := 0
	for i := uint64(0); i < 40; i++ {
		tb, err := p.Table(5, i, 120, 4)
		if err != nil {
			t.Fatal(err)
		}
		if !(tb.Info.FilterR2 > thr) || tb.Info.Params["noise"] == true {
			t.Fatalf("index %d kept with R² %v, noise %v", i, tb.Info.FilterR2, tb.Info.Params["noise"])
		}
		if tb.Info.Attempts < 1 || tb.Info.Attempts > p.cfg.Filter.MaxAttempts || tb.Info.Generator != "pipe_half" {
			t.Fatalf("index %d: info %+v", i, tb.Info)
		}
		if tb.Info.Attempts > 1 {
			redrawn++
		}
	}
	// Half the first draws are noise: P(fewer than 8 of 40 redrawn) < 1e-5.
	if redrawn < 8 {
		t.Fatalf("only %d of 40 tables needed a redraw", redrawn)
	}

	p = pipePrior(t, augmentOff(), "pipe_noise")
	tb, err := p.Table(5, 3, 120, 4)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Info.Attempts != p.cfg.Filter.MaxAttempts || !(tb.Info.FilterR2 <= thr) {
		t.Fatalf("pure noise: attempts %d, R² %v; want %d attempts and R² <= %v", tb.Info.Attempts, tb.Info.FilterR2, p.cfg.Filter.MaxAttempts, thr)
	}
	p.cfg.Filter.KeepBest = false
	if _, err := p.Table(5, 3, 120, 4); !errors.Is(err, ErrUnlearnable) || !strings.Contains(err.Error(), "pipe_noise") {
		t.Fatalf("pure noise without KeepBest: err %v, want ErrUnlearnable naming the generator", err)
	}

	// Filtering the augmented tables: the same guarantees.
	p = pipePrior(t, DefaultAugmentConfig(), "pipe_half")
	p.cfg.Filter.AfterAugment = true
	for i := uint64(0); i < 10; i++ {
		tb, err := p.Table(6, i, 120, 4)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := p.Table(6, i, 120, 4)
		if !(tb.Info.FilterR2 > thr) || tb.Info.Params["noise"] == true || !bytes.Equal(csvBytes(t, tb), csvBytes(t, again)) {
			t.Fatalf("AfterAugment, index %d: R² %v, noise %v (or not deterministic)", i, tb.Info.FilterR2, tb.Info.Params["noise"])
		}
	}

	// Without the filter: one draw, R² NaN.
	p.cfg.Filter.Enabled = false
	tb, err = p.Table(5, 3, 120, 4)
	if err != nil || tb.Info.Attempts != 1 || !math.IsNaN(tb.Info.FilterR2) {
		t.Fatalf("filter off: %v, info %+v", err, tb.Info)
	}
}

// TestPipelineShufflesRows: without augmentations and filter the table is
// the generator's own table with its rows permuted (whole rows move).
func TestPipelineShufflesRows(t *testing.T) {
	p := pipePrior(t, augmentOff(), "pipe_linear")
	p.cfg.Filter.Enabled = false
	const seed, index, rows, feats = 8, 4, 300, 5
	tb, err := p.Table(seed, index, rows, feats)
	if err != nil {
		t.Fatal(err)
	}
	raw := pipeGens["pipe_linear"].Generate(rngFor(seed, streamGenerate, index, 0), rows, feats)
	key := func(tb *Table, i int) string {
		return string(csvRow(tb, i))
	}
	var a, b []string
	moved := 0
	for i := 0; i < rows; i++ {
		a = append(a, key(tb, i))
		b = append(b, key(raw, i))
		if a[i] != b[i] {
			moved++
		}
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Fatal("the pipeline's rows are not a permutation of the generator's")
	}
	if moved < rows/2 {
		t.Fatalf("only %d of %d rows moved", moved, rows)
	}
}

func csvRow(tb *Table, i int) []byte {
	one := &Table{Rows: 1, Features: tb.Features, X: tb.X[i*tb.Features : (i+1)*tb.Features], Y: tb.Y[i : i+1]}
	var b bytes.Buffer
	WriteCSV(&b, one)
	return b.Bytes()
}

// TestPipelineErrors: bad shapes, misbehaving generators and bad configs
// give errors that name the problem, never panics.
func TestPipelineErrors(t *testing.T) {
	p := pipePrior(t, augmentOff(), "pipe_linear")
	for _, sh := range [][2]int{{3, 4}, {0, 4}, {10, 0}, {-1, 5}, {1 << 20, 1 << 10}} {
		if _, err := p.Table(1, 0, sh[0], sh[1]); err == nil || !strings.Contains(err.Error(), "shape") {
			t.Fatalf("shape %v: err %v", sh, err)
		}
	}
	for name, want := range map[string]string{"pipe_panic": "panicked: deliberate", "pipe_shape": "want 20x3", "pipe_inf": "target of row"} {
		p := pipePrior(t, augmentOff(), name)
		_, err := p.Table(1, 0, 20, 3)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: err %v, want one naming the generator and %q", name, err, want)
		}
	}

	cfg := DefaultConfig()
	cfg.Shares = map[string]float64{"no_such_generator": 1}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "no_such_generator") {
		t.Fatalf("unregistered generator: %v", err)
	}
	bad := map[string]func(c *Config){
		"Shares is empty":  func(c *Config) { c.Shares = nil },
		"Shares[\"scm\"]":  func(c *Config) { c.Shares["scm"] = -1 },
		"sum to zero":      func(c *Config) { c.Shares = map[string]float64{"scm": 0} },
		"rows range":       func(c *Config) { c.Sizes.MinRows = 2 },
		"features range":   func(c *Config) { c.Sizes.MaxFeatures = 1 },
		"bucket":           func(c *Config) { c.Sizes.RowBuckets = -1 },
		"context fraction": func(c *Config) { c.Sizes.MaxContextFrac = 1 },
		"threshold":        func(c *Config) { c.Filter.Threshold = math.NaN() },
		"MaxAttempts":      func(c *Config) { c.Filter.MaxAttempts = 0 },
		"trees":            func(c *Config) { c.Filter.Forest.Trees = 0 },
		"FeatureFrac":      func(c *Config) { c.Filter.Forest.FeatureFrac = 0 },
		"MaxRows":          func(c *Config) { c.Filter.MaxRows = 1 << 16 },
		"augment":          func(c *Config) { c.Augment.MissingProb = 2 },
	}
	for want, mut := range bad {
		c := DefaultConfig()
		mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("config with bad %s: err %v", want, err)
		}
		if _, err := New(c); err == nil {
			t.Fatalf("New accepted a config with bad %s", want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestPipelineFinite: over many tables of the reference prior, X and Y hold
// no Inf, Y no NaN, and NaN cells appear only in tables whose augmentations
// include a missingness mechanism; every generator and augmentation leaves
// the shape alone.
func TestPipelineFinite(t *testing.T) {
	p := defaultPrior(t)
	n := 400
	if testing.Short() {
		n = 100
	}
	sizes := DefaultSizeConfig()
	sizes.MaxRows, sizes.MaxFeatures = 300, 40
	withNaN := 0
	for i := 0; i < n; i++ {
		sh := sizes.DrawShape(tensor.NewRNG(3, uint64(i)))
		tb, err := p.Table(3, uint64(i), sh.Rows, sh.Features)
		if err != nil {
			t.Fatal(err)
		}
		missing := slices.ContainsFunc(tb.Info.Augmentations, func(s string) bool { return strings.HasPrefix(s, "missing") })
		if err := checkTable(tb, sh.Rows, sh.Features, missing); err != nil {
			t.Fatalf("table %d (%s, augmentations %v): %v", i, tb.Info.Generator, tb.Info.Augmentations, err)
		}
		if slices.ContainsFunc(tb.X, math.IsNaN) {
			withNaN++
		}
	}
	t.Logf("%d of %d tables have missing cells", withNaN, n)
}
