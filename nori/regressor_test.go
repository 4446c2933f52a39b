package nori

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// fakeModel is a small stand-in for the network behind the pipeline: a
// kernel regression over the context (NaN coordinates ignored), returning
// Gaussian quantiles around the weighted mean with a deliberate wiggle that
// breaks monotonicity, so the pipeline's sorting is exercised. Like the
// network, each query row depends only on the context and itself.
type fakeModel struct {
	nq     int
	calls  atomic.Int64
	chunks atomic.Int64 // largest query chunk seen
	fail   error
}

func (f *fakeModel) inferTable(x []float32, rows, feats int, y []float32, nctx, chunk int) ([]float32, int, error) {
	f.calls.Add(1)
	if f.fail != nil {
		return nil, 0, f.fail
	}
	if len(x) != rows*feats || len(y) != nctx || chunk < 1 {
		return nil, 0, errors.New("fakeModel: bad arguments")
	}
	for {
		old := f.chunks.Load()
		if int64(chunk) <= old || f.chunks.CompareAndSwap(old, int64(chunk)) {
			break
		}
	}
	nq := rows - nctx
	out := make([]float32, nq*f.nq)
	tau := quantileLevels(f.nq)
	for qi := range nq {
		xq := x[(nctx+qi)*feats : (nctx+qi+1)*feats]
		var sw, swy, swyy float64
		for j := range nctx {
			xc := x[j*feats : (j+1)*feats]
			var d float64
			for k := range feats {
				if dv := float64(xq[k] - xc[k]); !math.IsNaN(dv) && !math.IsInf(dv, 0) {
					d += dv * dv
				}
			}
			w := math.Exp(-d / float64(feats))
			sw += w
			swy += w * float64(y[j])
			swyy += w * float64(y[j]) * float64(y[j])
		}
		mu := swy / (sw + 1e-300)
		sd := math.Sqrt(max(swyy/(sw+1e-300)-mu*mu, 0)) + 0.05
		for i, l := range tau {
			wiggle := 0.02 * math.Sin(float64(i)*1.7)
			out[qi*f.nq+i] = float32(mu + sd*(math.Sqrt2*math.Erfinv(2*l-1)+wiggle))
		}
	}
	return out, f.nq, nil
}

// newFakeRegressor returns a regressor on a fakeModel with one global
// context (the tests of local contexts ask for them: local_context_test.go).
func newFakeRegressor(t *testing.T, opts ...Option) (*Regressor, *fakeModel) {
	t.Helper()
	f := &fakeModel{nq: 49}
	r, err := NewRegressor(append([]Option{withQuantileModel(f, "fake"), WithLocalContext(0, 0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r, f
}

// linearData is y = x0 - 2 x1 + noise with some missing cells.
func linearData(n, f int, seed uint64) ([][]float64, []float64) {
	r := tensor.NewRNG(seed, 1)
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = make([]float64, f)
		for j := range X[i] {
			X[i][j] = r.NormFloat64()
		}
		y[i] = 10 + X[i][0] - 2*X[i][1] + 0.1*r.NormFloat64()
		if i%13 == 5 {
			X[i][f-1] = math.NaN()
		}
	}
	return X, y
}

func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

func TestNewRegressorBadOptions(t *testing.T) {
	f := withQuantileModel(&fakeModel{nq: 9}, "fake")
	for name, o := range map[string]Option{
		"ensemble 0": WithEnsemble(0), "budget 0": WithBudget(0), "workers 0": WithWorkers(0),
		"chunk 0": WithQueryChunk(0), "nil device": WithDevice(nil), "nil model": WithModel(nil),
		"empty checkpoint": WithCheckpoint(""), "nil option": nil, "preprocessing 9": WithPreprocessing(9),
	} {
		if _, err := NewRegressor(f, o); !errors.Is(err, ErrBadOption) {
			t.Errorf("%s: error %v, want ErrBadOption", name, err)
		}
	}
}

func TestNewRegressorBadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.safetensors")
	if _, err := NewRegressor(WithCheckpoint(missing)); err == nil || !strings.Contains(err.Error(), "none.safetensors") {
		t.Fatalf("missing checkpoint: %v", err)
	}
	// A checkpoint whose tensors do not match its config is incompatible.
	m, err := NewModel(Tiny(), 1)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "tiny.safetensors")
	if err := m.Save(good, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRegressor(WithCheckpoint(good)); err != nil {
		t.Fatalf("valid checkpoint rejected: %v", err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := saveTensorsWithConfig(bad, Tiny()); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRegressor(WithCheckpoint(bad)); err == nil {
		t.Fatal("incompatible checkpoint accepted")
	}
}

// saveTensorsWithConfig writes a checkpoint that claims cfg but holds one
// unrelated tensor: LoadModel must reject it.
func saveTensorsWithConfig(path string, cfg Config) error {
	cj, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return nn.SaveTensors(path, []string{"head.fc2.weight"}, []*tensor.Tensor{tensor.Zeros(3, 3)},
		map[string]string{ConfigMetaKey: string(cj)}, nn.SaveOptions{})
}

func TestFitErrors(t *testing.T) {
	r, _ := newFakeRegressor(t)
	X, y := linearData(10, 3, 1)
	cases := map[string]struct {
		X    [][]float64
		y    []float64
		want string
	}{
		"empty":      {nil, nil, "no training rows"},
		"one row":    {X[:1], y[:1], "only one training row"},
		"ragged":     {[][]float64{{1, 2}, {3}}, []float64{1, 2}, "ragged: row 1 has 1 values, row 0 has 2"},
		"no columns": {[][]float64{{}, {}}, []float64{1, 2}, "no feature values"},
		"NaN y":      {X, append(append([]float64{}, y[:9]...), math.NaN()), "target value 9 is NaN"},
		"Inf y":      {X, append([]float64{math.Inf(-1)}, y[1:]...), "target value 0 is -Inf"},
		"lengths":    {X, y[:9], "9 target values for 10 rows"},
	}
	for name, c := range cases {
		err := r.Fit(c.X, c.y)
		if err == nil || !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrBadData containing %q", name, err, c.want)
		}
	}
	if _, err := r.Predict(X); !errors.Is(err, ErrNotFitted) {
		t.Errorf("Predict after failed fits: %v, want ErrNotFitted", err)
	}
}

func TestPredictErrors(t *testing.T) {
	r, _ := newFakeRegressor(t, WithEnsemble(2))
	X, y := linearData(30, 3, 1)
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Predict([][]float64{{1, 2}}); err == nil || !strings.Contains(err.Error(), "X has 2 columns, the training data had 3") {
		t.Errorf("wrong width: %v", err)
	}
	if _, err := r.Predict([][]float64{{1, 2, 3}, {1}}); err == nil || !strings.Contains(err.Error(), "ragged") {
		t.Errorf("ragged queries: %v", err)
	}
	if _, err := r.PredictQuantiles(X, []float64{0.5, 1}); err == nil {
		t.Error("level 1 accepted")
	}
	if _, err := r.PredictTable(NewTable()); err == nil {
		t.Error("table with no columns accepted")
	}
	p, err := r.Predict(nil)
	if err != nil || len(p) != 0 {
		t.Errorf("zero query rows: %v, %v", p, err)
	}
	tb, ty := mixedTable(40, 1)
	_ = tb.AddNumeric("target", ty)
	if err := r.FitTable(tb, "target"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Predict(X); err == nil || !strings.Contains(err.Error(), "FitTable") {
		t.Errorf("matrix Predict after FitTable: %v", err)
	}
}

func TestFitTableErrors(t *testing.T) {
	r, _ := newFakeRegressor(t)
	tb, y := mixedTable(30, 1)
	_ = tb.AddNumeric("y", y)
	if err := r.FitTable(tb, "nope"); err == nil || !strings.Contains(err.Error(), `unknown target column "nope"`) {
		t.Errorf("unknown target: %v", err)
	}
	if err := r.FitTable(tb, "color"); err == nil || !strings.Contains(err.Error(), `target column "color" is missing in row`) && !strings.Contains(err.Error(), "not numeric") {
		t.Errorf("categorical target: %v", err)
	}
	text, _ := ReadCSV(strings.NewReader("a,y\n1,2\n2,abc\n3,4\n"))
	if err := r.FitTable(text, "y"); err == nil || !strings.Contains(err.Error(), `not numeric: row 2 holds "abc"`) {
		t.Errorf("text target: %v", err)
	}
	miss, _ := ReadCSV(strings.NewReader("a,y\n1,2\n2,NA\n3,4\n"))
	if err := r.FitTable(miss, "y"); err == nil || !strings.Contains(err.Error(), "missing in row 2") {
		t.Errorf("missing target: %v", err)
	}
	inf, _ := ReadCSV(strings.NewReader("a,y\n1,2\n2,inf\n3,4\n"))
	if err := r.FitTable(inf, "y"); err == nil || !strings.Contains(err.Error(), "+Inf in row 2") {
		t.Errorf("infinite target: %v", err)
	}
	only, _ := ReadCSV(strings.NewReader("y\n1\n2\n"))
	if err := r.FitTable(only, "y"); err == nil || !strings.Contains(err.Error(), "no feature columns") {
		t.Errorf("target only: %v", err)
	}
	one, _ := ReadCSV(strings.NewReader("a,y\n1,2\n"))
	if err := r.FitTable(one, "y"); err == nil || !strings.Contains(err.Error(), "one training row") {
		t.Errorf("one row: %v", err)
	}
	none, _ := ReadCSV(strings.NewReader("a,y\n"))
	if err := r.FitTable(none, "y"); err == nil || !strings.Contains(err.Error(), "no training rows") {
		t.Errorf("no rows: %v", err)
	}
}

func TestPredictTableColumnMismatch(t *testing.T) {
	r, _ := newFakeRegressor(t, WithEnsemble(1))
	train, _ := ReadCSV(strings.NewReader("a,b,c,y\n1,x,3,1\n2,y,4,2\n3,x,5,4\n"))
	if err := r.FitTable(train, "y"); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"a,b\n1,x\n":             `columns of the training data missing: ["c"]`,
		"a,b,c,d\n1,x,3,0\n":     `columns not in the training data: ["d"]`,
		"a,b,d\n1,x,0\n":         `missing ["c"], unexpected ["d"]`,
		"a,b,c\n1,x,oops\n":      `column "c" is numeric in the training data but row 0 holds "oops"`,
		"c,a,b,y\n3,1,z,9\n":     "", // reordered, with the target and an unknown category: fine
		"c,a,b\n3,1,NA\n":        "",
		"a,b,c\n1,x,3\n2,y,NA\n": "",
	}
	for src, want := range cases {
		q, err := ReadCSV(strings.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.PredictTable(q)
		switch {
		case want == "" && (err != nil || len(p) != q.Rows()):
			t.Errorf("%q: %v", src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one containing %q", src, err, want)
		}
	}
}

func TestConstantTargetPredictsConstant(t *testing.T) {
	r, f := newFakeRegressor(t)
	X, _ := linearData(20, 3, 2)
	y := make([]float64, len(X))
	for i := range y {
		y[i] = 3.25
	}
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, err := r.Predict(X[:5])
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range p {
		if v != 3.25 {
			t.Fatalf("constant target predicted as %v", v)
		}
	}
	q, err := r.PredictQuantiles(X[:2], []float64{0.1, 0.9})
	if err != nil || q[0][0] != 3.25 || q[1][1] != 3.25 {
		t.Fatalf("quantiles %v, %v", q, err)
	}
	if f.calls.Load() != 0 {
		t.Fatal("the model ran for a constant target")
	}
	if _, err := r.Predict([][]float64{{1}}); err == nil {
		t.Fatal("a constant target skipped the query checks")
	}
}

func TestQuantilesSortedAndReductionsConsistent(t *testing.T) {
	r, _ := newFakeRegressor(t, WithEnsemble(3))
	X, y := linearData(80, 4, 3)
	if err := r.Fit(X[:60], y[:60]); err != nil {
		t.Fatal(err)
	}
	d, err := r.PredictDistribution(X[60:])
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 20 || len(d.Levels()) != 49 {
		t.Fatalf("distribution %d rows x %d levels", d.Len(), len(d.Levels()))
	}
	for i := range d.Len() {
		if !sort.Float64sAreSorted(d.Row(i)) {
			t.Fatalf("row %d quantiles decrease", i)
		}
	}
	mean, err := r.Predict(X[60:])
	if err != nil {
		t.Fatal(err)
	}
	levels := []float64{0.1, 0.5, 0.9}
	q, err := r.PredictQuantiles(X[60:], levels)
	if err != nil {
		t.Fatal(err)
	}
	dm, dmed := d.Mean(), d.Median()
	for i := range mean {
		if mean[i] != dm[i] || q[i][1] != dmed[i] || !(q[i][0] <= q[i][1] && q[i][1] <= q[i][2]) {
			t.Fatalf("row %d: mean %v vs %v, quantiles %v, median %v", i, mean[i], dm[i], q[i], dmed[i])
		}
	}
	// The means track the truth (rows misaligned anywhere in the pipeline
	// would give an SSE near twice the SST).
	var sse, sst float64
	for i, v := range mean {
		sse += (v - y[60+i]) * (v - y[60+i])
		sst += (y[60+i] - 10) * (y[60+i] - 10)
	}
	if sse > 0.85*sst {
		t.Fatalf("pipeline destroys the signal: SSE %v vs SST %v", sse, sst)
	}
}

// shuffledContext returns X, y with the rows permuted.
func shuffledContext(X [][]float64, y []float64, seed uint64) ([][]float64, []float64) {
	p := tensor.NewRNG(seed, 9).Perm(len(X))
	X2, y2 := make([][]float64, len(X)), make([]float64, len(y))
	for i, j := range p {
		X2[i], y2[i] = X[j], y[j]
	}
	return X2, y2
}

func TestPredictionsInvariantToContextOrder(t *testing.T) {
	X, y := linearData(70, 5, 4)
	a, _ := newFakeRegressor(t, WithEnsemble(1), WithSeed(3))
	b, _ := newFakeRegressor(t, WithEnsemble(1), WithSeed(3))
	if err := a.Fit(X[:50], y[:50]); err != nil {
		t.Fatal(err)
	}
	Xs, ys := shuffledContext(X[:50], y[:50], 1)
	if err := b.Fit(Xs, ys); err != nil {
		t.Fatal(err)
	}
	pa, err := a.Predict(X[50:])
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := b.Predict(X[50:])
	for i := range pa {
		if math.Abs(pa[i]-pb[i]) > 1e-5*(1+math.Abs(pa[i])) {
			t.Fatalf("row %d: %v vs %v after shuffling the context", i, pa[i], pb[i])
		}
	}
}

func TestBlocksAndChunksDoNotChangePredictions(t *testing.T) {
	X, y := linearData(90, 3, 5)
	r, f := newFakeRegressor(t, WithEnsemble(2), WithQueryChunk(4))
	if err := r.Fit(X[:40], y[:40]); err != nil {
		t.Fatal(err)
	}
	whole, err := r.PredictDistribution(X[40:])
	if err != nil {
		t.Fatal(err)
	}
	if f.chunks.Load() != 4 {
		t.Fatalf("query chunk %d reached the model, want 4", f.chunks.Load())
	}
	r.fit.ens.blockRows = 7
	calls := f.calls.Load()
	blocked, err := r.PredictDistribution(X[40:])
	if err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Load() - calls; got != 2*8 { // 50 rows in blocks of 7 = 8 blocks, 2 members
		t.Fatalf("%d model calls, want 16", got)
	}
	if !sameFloats(whole.q, blocked.q) {
		t.Fatal("predicting in blocks changed the result")
	}
	// One row alone gives the same bits as within the batch.
	one, _ := r.PredictDistribution(X[45:46])
	if !sameFloats(one.Row(0), whole.Row(5)) {
		t.Fatal("a query row's prediction depends on the other query rows")
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	X, y := linearData(60, 4, 6)
	var ref []float64
	for _, w := range []int{1, 2, 5} {
		r, _ := newFakeRegressor(t, WithEnsemble(5), WithWorkers(w), WithSeed(11))
		if err := r.Fit(X[:45], y[:45]); err != nil {
			t.Fatal(err)
		}
		d, err := r.PredictDistribution(X[45:])
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = d.q
		} else if !sameFloats(ref, d.q) {
			t.Fatalf("%d workers give different predictions", w)
		}
	}
	// Another seed gives other members, hence other predictions.
	r, _ := newFakeRegressor(t, WithEnsemble(5), WithSeed(12))
	_ = r.Fit(X[:45], y[:45])
	d, _ := r.PredictDistribution(X[45:])
	if sameFloats(ref, d.q) {
		t.Fatal("the seed does not matter")
	}
}

func TestBudgetSubsamplesContextDeterministically(t *testing.T) {
	X, y := linearData(400, 3, 7)
	fit := func(seed uint64) *Regressor {
		r, _ := newFakeRegressor(t, WithEnsemble(3), WithBudget(1000), WithSeed(seed))
		if err := r.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := fit(1), fit(1), fit(2)
	for i, m := range a.fit.ens.members {
		want := contextRows(400, m.width, 1000)
		if len(a.fit.ens.ctxY[i]) != want || want >= 400 {
			t.Fatalf("member %d: context %d rows, want %d < 400", i, len(a.fit.ens.ctxY[i]), want)
		}
		if !sameBits32(a.fit.ens.ctxX[i], b.fit.ens.ctxX[i]) {
			t.Fatalf("member %d: subsample differs for one seed", i)
		}
	}
	if slices.Equal(a.fit.ens.ctxY[0], c.fit.ens.ctxY[0]) {
		t.Fatal("subsample ignores the seed")
	}
	pa, _ := a.Predict(X[:10])
	pb, _ := b.Predict(X[:10])
	if !sameFloats(pa, pb) {
		t.Fatal("subsampled predictions not deterministic")
	}
}

func TestMissingAndConstantColumnsHandled(t *testing.T) {
	X, y := linearData(50, 3, 8)
	for i := range X {
		X[i] = append(X[i], math.NaN(), 7) // all missing, constant
	}
	r, _ := newFakeRegressor(t, WithEnsemble(2))
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, err := r.Predict(X[:5])
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("prediction %v", v)
		}
	}
	// Only uninformative columns: predictions from the target alone.
	Z := make([][]float64, 20)
	for i := range Z {
		Z[i] = []float64{math.NaN(), 1}
	}
	if err := r.Fit(Z, y[:20]); err != nil {
		t.Fatal(err)
	}
	if p, err := r.Predict(Z[:3]); err != nil || math.IsNaN(p[0]) {
		t.Fatalf("all columns uninformative: %v, %v", p, err)
	}
}

func TestModelErrorsPropagate(t *testing.T) {
	f := &fakeModel{nq: 9, fail: errors.New("boom")}
	r, err := NewRegressor(withQuantileModel(f, "fake"), WithEnsemble(4), WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	X, y := linearData(20, 2, 9)
	_ = r.Fit(X, y)
	if _, err := r.Predict(X); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("model failure: %v", err)
	}
}

func TestTableEndToEndWithStrings(t *testing.T) {
	tb, y := mixedTable(160, 10)
	_ = tb.AddNumeric("target", y)
	r, _ := newFakeRegressor(t, WithEnsemble(4))
	if err := r.FitTable(tb, "target"); err != nil {
		t.Fatal(err)
	}
	q, _ := mixedTable(30, 11)
	s, err := r.SummarizeTable(q, []float64{0.25, 0.75})
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Mean {
		if math.IsNaN(s.Mean[i]) || s.Quantiles[i][0] > s.Median[i] || s.Median[i] > s.Quantiles[i][1] {
			t.Fatalf("row %d: mean %v median %v quantiles %v", i, s.Mean[i], s.Median[i], s.Quantiles[i])
		}
	}
}

// The tests below run the real network (a random Tiny model: untrained, so
// only the pipeline's invariants are checked, never accuracy).

func tinyRegressor(t *testing.T, opts ...Option) *Regressor {
	t.Helper()
	m, err := NewModel(Tiny(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRegressor(append([]Option{WithModel(m)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTinyModelQuantilesSortedAndShapes(t *testing.T) {
	X, y := linearData(60, 3, 12)
	r := tinyRegressor(t, WithEnsemble(2))
	if err := r.Fit(X[:40], y[:40]); err != nil {
		t.Fatal(err)
	}
	d, err := r.PredictDistribution(X[40:])
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 20 || len(d.Levels()) != Tiny().Quantiles {
		t.Fatalf("%d rows x %d levels", d.Len(), len(d.Levels()))
	}
	for i := range d.Len() {
		row := d.Row(i)
		if !sort.Float64sAreSorted(row) {
			t.Fatalf("row %d not sorted", i)
		}
		for _, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("row %d: %v", i, v)
			}
		}
	}
}

// The preprocessing is exactly invariant to the order of the training rows
// (statistics are summed in sorted order, the SVD over canonically ordered
// rows) when nothing is subsampled: every member's context is the same set
// of (features, target) rows, bit for bit. The network's own invariance
// (attention over an unordered context) is the model's to test; an untrained
// Tiny network is too insensitive to its context to check it end to end,
// which TestPredictionsInvariantToContextOrder does with the fake model.
func TestContextRowsInvariantToTrainingOrder(t *testing.T) {
	tb, y := mixedTable(150, 21)
	_ = tb.AddNumeric("target", y)
	perm := tensor.NewRNG(3, 3).Perm(tb.Rows())
	sh := NewTable()
	for j, name := range tb.names {
		c := tb.cols[j]
		if c.kind == Numeric {
			v := make([]float64, len(perm))
			for i, p := range perm {
				v[i] = c.num[p]
			}
			_ = sh.AddNumeric(name, v)
		} else {
			v := make([]string, len(perm))
			for i, p := range perm {
				v[i] = c.str[p]
			}
			_ = sh.AddCategorical(name, v)
		}
	}
	contexts := func(tb *Table) [][]string {
		r, _ := newFakeRegressor(t, WithSeed(8)) // 8 members, both families
		if err := r.FitTable(tb, "target"); err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for m, x := range r.fit.ens.ctxX {
			w := r.fit.ens.members[m].width
			rows := make([]string, len(r.fit.ens.ctxY[m]))
			for i := range rows {
				b := make([]byte, 0, 4*(w+1))
				for _, v := range append(append([]float32(nil), x[i*w:(i+1)*w]...), r.fit.ens.ctxY[m][i]) {
					u := math.Float32bits(v)
					b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
				}
				rows[i] = string(b)
			}
			sort.Strings(rows)
			out = append(out, rows)
		}
		return out
	}
	a, b := contexts(tb), contexts(sh)
	for m := range a {
		if !slices.Equal(a[m], b[m]) {
			t.Fatalf("member %d: shuffling the training rows changes its context", m)
		}
	}
}

func TestTinyModelChunkedEqualsUnchunked(t *testing.T) {
	X, y := linearData(70, 3, 14)
	whole := tinyRegressor(t, WithEnsemble(2), WithQueryChunk(1000))
	chunked := tinyRegressor(t, WithEnsemble(2), WithQueryChunk(3))
	for _, r := range []*Regressor{whole, chunked} {
		if err := r.Fit(X[:40], y[:40]); err != nil {
			t.Fatal(err)
		}
	}
	dw, err := whole.PredictDistribution(X[40:])
	if err != nil {
		t.Fatal(err)
	}
	chunked.fit.ens.blockRows = 11 // and the ensemble's own blocks
	dc, err := chunked.PredictDistribution(X[40:])
	if err != nil {
		t.Fatal(err)
	}
	// An untrained network's rows differ little from each other, so compare
	// the chunking error with the spread between rows: a chunk landing on
	// the wrong rows would be caught.
	diff, spread := 0.0, 0.0
	mw := dw.Mean()
	for i := range dw.q {
		diff = max(diff, math.Abs(dw.q[i]-dc.q[i]))
	}
	for i := 1; i < len(mw); i++ {
		spread = max(spread, math.Abs(mw[i]-mw[0]))
	}
	if !(spread > 0) || diff > 0.01*spread {
		t.Fatalf("chunked vs unchunked differ by %v; rows differ by %v", diff, spread)
	}
}

func TestTinyModelDeterministicAcrossWorkers(t *testing.T) {
	X, y := linearData(50, 3, 15)
	var ref []float64
	for _, w := range []int{1, 3} {
		old := tensor.SetWorkers(w)
		r := tinyRegressor(t, WithEnsemble(3), WithWorkers(w), WithSeed(4))
		err := r.Fit(X[:30], y[:30])
		var d *Distribution
		if err == nil {
			d, err = r.PredictDistribution(X[30:])
		}
		tensor.SetWorkers(old)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = d.q
		} else if !sameFloats(ref, d.q) {
			t.Fatalf("%d workers (kernels and members) change the predictions", w)
		}
	}
}

// TestPreprocessingOption: "plain" members see the encoded columns alone
// (the fake model's width is the table's, or the member's subset's), predictions are deterministic and
// differ from the default pipeline's; names parse both ways.
func TestPreprocessingOption(t *testing.T) {
	X, y := linearData(120, 3, 4)
	for _, name := range []string{"ensemble", "plain"} {
		p, err := ParsePreprocessing(name)
		if err != nil || p.String() != name {
			t.Fatalf("ParsePreprocessing(%q) = %v, %v", name, p, err)
		}
	}
	if _, err := ParsePreprocessing("raw"); !errors.Is(err, ErrBadOption) {
		t.Fatalf("unknown name: %v", err)
	}
	predict := func(opts ...Option) []float64 {
		r, _ := newFakeRegressor(t, append([]Option{WithEnsemble(3)}, opts...)...)
		if err := r.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		wantPlain := r.s.preprocess == PreprocessPlain
		for i, m := range r.fit.ens.members {
			width := 3 // a feature-subset candidate reads fewer (ensemble_subset.go)
			if m.cols != nil {
				width = len(m.cols)
			}
			if (m.family == familyPlain) != wantPlain || wantPlain && m.width != width {
				t.Fatalf("member %d: family %d width %d (plain requested: %v)", i, m.family, m.width, wantPlain)
			}
		}
		p, err := r.Predict(X[:20])
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := predict(WithPreprocessing(PreprocessPlain)), predict(WithPreprocessing(PreprocessPlain))
	if !sameFloats(a, b) {
		t.Fatal("plain preprocessing is not deterministic")
	}
	if sameFloats(a, predict()) {
		t.Fatal("plain and ensemble preprocessing give identical predictions")
	}
}
