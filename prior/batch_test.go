package prior

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nori-ml/nori/kernels/par"
)

// manifestJSON is a comparable rendering of infos (Params may hold NaN,
// which reflect.DeepEqual never equates).
func manifestJSON(t *testing.T, infos []Info) string {
	t.Helper()
	m := NewManifest(0, DefaultConfig())
	for _, in := range infos {
		m.Add("", &Table{Info: in})
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestBatchDeterministicAcrossWorkers: a batch is a pure function of
// (seed, step), bit for bit, with 1 or 2 workers.
func TestBatchDeterministicAcrossWorkers(t *testing.T) {
	p := defaultPrior(t)
	p.cfg.Sizes.MaxRows, p.cfg.Sizes.MaxFeatures = 400, 30
	old := par.SetWorkers(1)
	defer par.SetWorkers(old)
	for step := int64(0); step < 3; step++ {
		par.SetWorkers(1)
		a, err := p.Batch(7, step, 5)
		if err != nil {
			t.Fatal(err)
		}
		par.SetWorkers(2)
		b, err := p.Batch(7, step, 5)
		if err != nil {
			t.Fatal(err)
		}
		if a.Shape != b.Shape || !bitsEqual(a.X.F32Data(), b.X.F32Data()) || !bitsEqual(a.Y.F32Data(), b.Y.F32Data()) ||
			!slices.EqualFunc(a.Categorical, b.Categorical, slices.Equal) || manifestJSON(t, a.Infos) != manifestJSON(t, b.Infos) {
			t.Fatalf("step %d: batches differ between 1 and 2 workers", step)
		}
	}
}

// TestBatchContents: the batch holds tables Table(seed, step*MaxBatch+i)
// of its shape, converted to float32, with the documented tensor shapes.
func TestBatchContents(t *testing.T) {
	p := defaultPrior(t)
	p.cfg.Sizes.MaxRows, p.cfg.Sizes.MaxFeatures = 300, 20
	const seed, step, size = 3, 11, 4
	b, err := p.Batch(seed, step, size)
	if err != nil {
		t.Fatal(err)
	}
	sh := b.Shape
	if sh != p.Shape(seed, step) || b.Size() != size || b.Seed != seed || b.Step != step {
		t.Fatalf("batch header %+v", b)
	}
	if !slices.Equal(b.X.Shape(), []int{size, sh.Rows, sh.Features}) || !slices.Equal(b.Y.Shape(), []int{size, sh.Rows}) {
		t.Fatalf("tensor shapes %v %v for %+v", b.X.Shape(), b.Y.Shape(), sh)
	}
	x, y := b.X.F32Data(), b.Y.F32Data()
	n, f := sh.Rows, sh.Features
	for i := 0; i < size; i++ {
		tb, err := p.Table(seed, step*MaxBatch+uint64(i), n, f)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tb.X {
			got := x[i*n*f+k]
			if math.Float32bits(got) != math.Float32bits(float32(v)) && !(math.IsNaN(v) && got != got) {
				t.Fatalf("table %d cell %d: %v, want %v", i, k, got, float32(v))
			}
		}
		for k, v := range tb.Y {
			if y[i*n+k] != float32(v) {
				t.Fatalf("table %d target %d: %v, want %v", i, k, y[i*n+k], float32(v))
			}
		}
		if !slices.Equal(b.Categorical[i], tb.Categorical) || b.Infos[i].Index != step*MaxBatch+uint64(i) || b.Infos[i].Generator != tb.Info.Generator {
			t.Fatalf("table %d: metadata differs from Table's", i)
		}
	}

	// A curriculum shape overrides the drawn one.
	c, err := p.BatchShape(seed, step, 2, Shape{Rows: 64, Features: 3, NCtx: 40})
	if err != nil || c.Shape.Rows != 64 || !slices.Equal(c.X.Shape(), []int{2, 64, 3}) {
		t.Fatalf("BatchShape: %v %v", err, c)
	}
	for _, bad := range []struct {
		step int64
		size int
		sh   Shape
		want string
	}{
		{-1, 2, sh, "step"}, {0, 0, sh, "size"}, {0, MaxBatch + 1, sh, "size"},
		{0, 2, Shape{Rows: 10, Features: 2, NCtx: 10}, "NCtx"}, {0, 2, Shape{Rows: 10, Features: 2, NCtx: 0}, "NCtx"},
		{0, 2, Shape{Rows: 2, Features: 2, NCtx: 1}, "shape"},
	} {
		if _, err := p.BatchShape(seed, bad.step, bad.size, bad.sh); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("BatchShape(step %d, size %d, %+v): err %v, want one mentioning %q", bad.step, bad.size, bad.sh, err, bad.want)
		}
	}
}

// TestShapes: batch shapes come from the bucket grids, each bucket about
// equally often (log-uniform on the grid), with the context fraction in
// range; a pure function of (seed, step).
func TestShapes(t *testing.T) {
	s := DefaultSizeConfig()
	rowGrid, featGrid := s.RowSizes(), s.FeatureSizes()
	if rowGrid[0] != s.MinRows || rowGrid[len(rowGrid)-1] != s.MaxRows || len(rowGrid) != s.RowBuckets ||
		featGrid[0] != s.MinFeatures || featGrid[len(featGrid)-1] != s.MaxFeatures || !slices.IsSorted(featGrid) {
		t.Fatalf("grids %v %v", rowGrid, featGrid)
	}
	const n = 4000
	rows := map[int]int{}
	feats := map[int]int{}
	fracSum := 0.0
	for step := int64(0); step < n; step++ {
		sh := s.Shape(1, step)
		if sh != s.Shape(1, step) {
			t.Fatal("Shape is not a pure function of (seed, step)")
		}
		if !slices.Contains(rowGrid, sh.Rows) || !slices.Contains(featGrid, sh.Features) {
			t.Fatalf("step %d: shape %+v off the grids", step, sh)
		}
		frac := float64(sh.NCtx) / float64(sh.Rows)
		if frac < s.MinContextFrac-0.5/float64(sh.Rows) || frac > s.MaxContextFrac+0.5/float64(sh.Rows) {
			t.Fatalf("step %d: context fraction %v", step, frac)
		}
		fracSum += frac
		rows[sh.Rows]++
		feats[sh.Features]++
	}
	for grid, counts := range map[*[]int]map[int]int{&rowGrid: rows, &featGrid: feats} {
		p := 1 / float64(len(*grid))
		for _, v := range *grid {
			if dev := math.Abs(float64(counts[v]) - n*p); dev > 4*math.Sqrt(n*p*(1-p)) {
				t.Fatalf("size %d drawn %d times of %d, want %.0f", v, counts[v], n, n*p)
			}
		}
	}
	// Mean of U(0.3, 0.8) is 0.55 with sd 0.144: 4 sigma of the mean of 4000.
	if m := fracSum / n; math.Abs(m-0.55) > 4*0.144/math.Sqrt(n) {
		t.Fatalf("mean context fraction %v, want 0.55", m)
	}
	// Without buckets every size in range is possible.
	s.RowBuckets, s.MinRows, s.MaxRows = 0, 50, 60
	seen := map[int]bool{}
	for step := int64(0); step < 500; step++ {
		seen[s.Shape(2, step).Rows] = true
	}
	if len(seen) != 11 {
		t.Fatalf("unbucketed rows in [50, 60]: saw %d distinct values, want 11", len(seen))
	}
}
