package nori

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// evalTestTable is a small mixed table: two numeric features (one with
// missing cells), a categorical one, and a target.
func evalTestTable(t *testing.T, n int) *Table {
	t.Helper()
	x1, x2, y := make([]float64, n), make([]float64, n), make([]float64, n)
	cat := make([]string, n)
	for i := range n {
		x1[i] = math.Sin(float64(i) * 0.7)
		x2[i] = float64(i%7) - 3
		if i%5 == 2 {
			x2[i] = math.NaN()
		}
		cat[i] = []string{"a", "b", "c"}[i%3]
		y[i] = 2*x1[i] + 0.3*float64(i%3) + 0.1*math.Cos(float64(i))
	}
	tb := NewTable()
	for _, err := range []error{tb.AddNumeric("x1", x1), tb.AddNumeric("x2", x2), tb.AddCategorical("c", cat), tb.AddNumeric("target", y)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return tb
}

// TestEvalMatchesDirect: EvalSplits' R² and RMSE equal a direct computation
// from a separately fitted regressor's predictions on the same split (the
// network is a random Tiny model: this checks the harness, not accuracy).
func TestEvalMatchesDirect(t *testing.T) {
	m, err := NewModel(Tiny(), 4)
	if err != nil {
		t.Fatal(err)
	}
	tb := evalTestTable(t, 40)
	splits := [][]int{{3, 9, 17, 22, 31, 38, 0, 12}, {1, 2, 5, 8, 13, 21, 34}}
	newReg := func(seed int) (*Regressor, error) {
		return NewRegressor(WithModel(m), WithEnsemble(2), WithSeed(uint64(seed)))
	}
	res, err := EvalSplits("toy", tb, "target", splits, newReg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	y, _ := tb.Numeric("target")
	for s, test := range splits {
		// Direct: training rows are the others, in order.
		var trainIdx []int
		for i := 0; i < tb.Rows(); i++ {
			if !containsInt(test, i) {
				trainIdx = append(trainIdx, i)
			}
		}
		reg, _ := newReg(s)
		if err := reg.FitTable(SelectRows(tb, trainIdx), "target"); err != nil {
			t.Fatal(err)
		}
		pred, err := reg.PredictTable(SelectRows(tb, test))
		if err != nil {
			t.Fatal(err)
		}
		mean := 0.0
		for _, i := range test {
			mean += y[i]
		}
		mean /= float64(len(test))
		var res2, tot float64
		for k, i := range test {
			res2 += (y[i] - pred[k]) * (y[i] - pred[k])
			tot += (y[i] - mean) * (y[i] - mean)
		}
		r2, rmse := 1-res2/tot, math.Sqrt(res2/float64(len(test)))
		got := res[s]
		if got.Seed != s || got.NTrain != len(trainIdx) || got.NTest != len(test) || got.Dataset != "toy" || !(got.Seconds > 0) {
			t.Fatalf("split %d: %+v", s, got)
		}
		if math.Abs(got.R2-r2) > 1e-12 || math.Abs(got.RMSE-rmse) > 1e-12 {
			t.Fatalf("split %d: R² %v RMSE %v, direct %v %v", s, got.R2, got.RMSE, r2, rmse)
		}
	}
	if _, err := EvalSplits("toy", tb, "nope", splits, newReg); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown target: %v", err)
	}
}

func containsInt(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func TestR2ScoreAndRMSE(t *testing.T) {
	y := []float64{1, 2, 3, 4}
	cases := []struct {
		pred     []float64
		r2, rmse float64
	}{
		{[]float64{1, 2, 3, 4}, 1, 0},
		{[]float64{2.5, 2.5, 2.5, 2.5}, 0, math.Sqrt(1.25)},
		{[]float64{2, 2, 4, 4}, 1 - 2.0/5, math.Sqrt(0.5)},
	}
	for _, c := range cases {
		if r := R2Score(y, c.pred); math.Abs(r-c.r2) > 1e-15 {
			t.Errorf("R2(%v) = %v, want %v", c.pred, r, c.r2)
		}
		if r := RMSE(y, c.pred); math.Abs(r-c.rmse) > 1e-15 {
			t.Errorf("RMSE(%v) = %v, want %v", c.pred, r, c.rmse)
		}
	}
	if R2Score([]float64{3, 3}, []float64{3, 3}) != 1 || R2Score([]float64{3, 3}, []float64{3, 4}) != 0 {
		t.Error("constant targets: want 1 for exact predictions, 0 otherwise")
	}
}

func TestParseSplits(t *testing.T) {
	got, err := ParseSplits(strings.NewReader("3 1 4\n\n0,2\n"), 6, "x.txt")
	if err != nil || !reflect.DeepEqual(got, [][]int{{3, 1, 4}, {0, 2}}) {
		t.Fatalf("%v, %v", got, err)
	}
	bad := map[string]string{
		"1 2 x\n":     `line 1: "x" is not a row index`,
		"1\n2 6\n":    "line 2: row index 6 out of range",
		"1 -1\n":      "row index -1 out of range",
		"1 2 1\n":     "row index 1 listed twice",
		"0 1 2 3 4\n": "fewer than 2 training rows",
		"":            "no splits",
		"\n \n":       "no splits",
		"1 2.5\n":     `"2.5" is not a row index`,
	}
	for in, want := range bad {
		_, err := ParseSplits(strings.NewReader(in), 6, "x.txt")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "x.txt") {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
	if _, err := ReadSplits(filepath.Join(t.TempDir(), "none.txt"), 6); err == nil {
		t.Error("missing split file accepted")
	}
	// The shared protocol's files parse (when the datasets are present).
	if f, err := os.Open("../../shared/datasets/splits/regression/servo.txt"); err == nil {
		defer f.Close()
		sp, err := ParseSplits(f, 167, "servo.txt")
		if err != nil || len(sp) != 5 {
			t.Errorf("servo splits: %d, %v", len(sp), err)
		}
	}
}

func TestRandomSplits(t *testing.T) {
	a, err := RandomSplits(101, 5, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomSplits(101, 5, 0.2, 7)
	if !reflect.DeepEqual(a, b) || len(a) != 5 {
		t.Fatal("not deterministic")
	}
	for _, s := range a {
		if len(s) != 20 {
			t.Fatalf("test size %d, want 20", len(s))
		}
		for k := 1; k < len(s); k++ {
			if s[k] <= s[k-1] {
				t.Fatal("indices not sorted and distinct")
			}
		}
	}
	if reflect.DeepEqual(a[0], a[1]) {
		t.Fatal("seeds give the same split")
	}
	if _, err := RandomSplits(2, 5, 0.2, 0); err == nil {
		t.Fatal("2 rows accepted")
	}
}

func TestBaselinesAndCompare(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.csv")
	os.WriteFile(path, []byte("dataset,model,mean_r2,std_r2\nd1,rf,0.5,0.1\nd1,hgb,0.6,0\nd2,rf,0.9,0\nd2,hgb,0.7,0\nd3,rf,0.1,0\n"), 0o644)
	b, err := ReadBaselines(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b.Models, []string{"rf", "hgb"}) || b.R2["d2"]["hgb"] != 0.7 {
		t.Fatalf("%+v", b)
	}
	// nori: d1 0.6 (wins rf, ties hgb at exactly equal), d2 0.896 (ties rf:
	// |diff| 0.004 < 0.005; wins hgb), d4 not in the baselines.
	cmp := Compare(map[string]float64{"d1": 0.6, "d2": 0.896, "d4": 0.3}, b)
	want := []Comparison{
		{Model: "rf", Datasets: 2, Wins: 1, Ties: 1, MeanBaseline: 0.7, MeanNori: 0.748},
		{Model: "hgb", Datasets: 2, Wins: 1, Ties: 1, MeanBaseline: 0.65, MeanNori: 0.748},
	}
	for i := range want {
		c := cmp[i]
		if c.Model != want[i].Model || c.Datasets != 2 || c.Wins != want[i].Wins || c.Ties != want[i].Ties || c.Losses != 0 ||
			math.Abs(c.MeanBaseline-want[i].MeanBaseline) > 1e-12 || math.Abs(c.MeanNori-want[i].MeanNori) > 1e-12 {
			t.Errorf("%+v, want %+v", c, want[i])
		}
	}
	if c := Compare(map[string]float64{"d1": 0.4}, b)[0]; c.Losses != 1 {
		t.Errorf("loss not counted: %+v", c)
	}
	bad := map[string]string{
		"":                                 "empty file",
		"dataset,model\nd1,rf\n":           `no "mean_r2" column`,
		"dataset,model,mean_r2\nd1,rf,x\n": "line 2: mean_r2",
		"dataset,model,mean_r2\nd1,rf,1\nd1,rf,1\n": "listed twice",
		"dataset,model,mean_r2\n":                   "no rows",
	}
	for in, want := range bad {
		os.WriteFile(path, []byte(in), 0o644)
		if _, err := ReadBaselines(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if m, med := MeanMedian([]float64{3, 1, 2, 10}); m != 4 || med != 2.5 {
		t.Errorf("MeanMedian = %v, %v", m, med)
	}
}
