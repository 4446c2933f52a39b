package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nori-ml/nori/nori"
)

// evalFixture writes two small tables (target last), their split files, a
// baselines CSV and a random Tiny checkpoint (plumbing only, not accuracy).
func evalFixture(t *testing.T) (data, splits, baselines, ckpt string) {
	t.Helper()
	dir := t.TempDir()
	data, splits = filepath.Join(dir, "data"), filepath.Join(dir, "splits")
	os.MkdirAll(data, 0o755)
	os.MkdirAll(splits, 0o755)
	for k, name := range []string{"alpha", "beta"} {
		var b strings.Builder
		b.WriteString("x,kind,target\n")
		for i := 0; i < 30+10*k; i++ {
			x := math.Sin(float64(i + k))
			kind := []string{"u", "v", ""}[i%3]
			fmt.Fprintf(&b, "%g,%s,%g\n", x, kind, 3*x+float64(i%3))
		}
		os.WriteFile(filepath.Join(data, name+".csv"), []byte(b.String()), 0o644)
		os.WriteFile(filepath.Join(splits, name+".txt"), []byte("0 1 2 3 4 5\n6 7 8 9 10 11\n"), 0o644)
	}
	baselines = filepath.Join(dir, "baselines.csv")
	os.WriteFile(baselines, []byte("dataset,model,mean_r2,std_r2\nalpha,rf,0.9,0\nbeta,rf,-0.5,0\n"), 0o644)
	m, err := nori.NewModel(nori.Tiny(), 2)
	if err != nil {
		t.Fatal(err)
	}
	ckpt = filepath.Join(dir, "m.safetensors")
	if err := m.Save(ckpt, nil); err != nil {
		t.Fatal(err)
	}
	return data, splits, baselines, ckpt
}

func runEvalCLI(args ...string) (string, string, error) {
	var out, errw bytes.Buffer
	err := evalMain(args, &out, &errw)
	return out.String(), errw.String(), err
}

// TestEvalCLI runs the harness on two tables with split files and
// baselines: results.csv holds one row per split with R² and RMSE equal to
// those recomputed from a direct fit, the terminal table and the W/T/L
// summary are printed, the PNG is written.
func TestEvalCLI(t *testing.T) {
	data, splits, baselines, ckpt := evalFixture(t)
	out := filepath.Join(t.TempDir(), "res", "results.csv")
	stdout, stderr, err := runEvalCLI("-data", data, "-splits", splits, "-baselines", baselines, "-checkpoint", ckpt, "-out", out, "-ensemble", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "dataset,seed,n_train,n_test,r2,rmse,seconds" || len(recs) != 5 {
		t.Fatalf("results: %v", recs)
	}
	if recs[1][0] != "alpha" || recs[1][1] != "0" || recs[1][2] != "24" || recs[1][3] != "6" || recs[4][0] != "beta" || recs[4][2] != "34" {
		t.Fatalf("results rows: %v", recs)
	}
	// Recompute alpha split 0 directly.
	tb, _ := nori.ReadCSVFile(filepath.Join(data, "alpha.csv"))
	test := []int{0, 1, 2, 3, 4, 5}
	train, testT, _ := nori.SplitTable(tb, test)
	m, _ := nori.LoadModel(ckpt)
	reg, _ := nori.NewRegressor(nori.WithModel(m), nori.WithEnsemble(1), nori.WithSeed(0))
	if err := reg.FitTable(train, "target"); err != nil {
		t.Fatal(err)
	}
	pred, _ := reg.PredictTable(testT)
	y, _ := testT.Numeric("target")
	r2, _ := strconv.ParseFloat(recs[1][4], 64)
	if want := nori.R2Score(y, pred); math.Abs(r2-want) > 1e-7*math.Max(1, math.Abs(want)) {
		t.Fatalf("alpha split 0 R² %v, direct %v", r2, want)
	}
	for _, want := range []string{"alpha", "beta", "mean R²", "median R²", "wins", "a tie is |R²_nori - R²_baseline| < 0.005", "rf "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if st, err := os.Stat(strings.TrimSuffix(out, ".csv") + ".png"); err != nil || st.Size() == 0 {
		t.Fatalf("comparison plot: %v", err)
	}
	// Without -splits: 5 seeded splits per table.
	out2 := filepath.Join(t.TempDir(), "r.csv")
	if _, stderr, err := runEvalCLI("-data", data, "-checkpoint", ckpt, "-out", out2, "-ensemble", "1", "-only", "beta"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	b, _ := os.ReadFile(out2)
	if n := strings.Count(string(b), "\nbeta,"); n != 5 {
		t.Fatalf("%d seeded splits, want 5:\n%s", n, b)
	}
}

func TestEvalCLIErrors(t *testing.T) {
	data, _, _, ckpt := evalFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.csv")
	noTarget := filepath.Join(dir, "nt")
	os.MkdirAll(noTarget, 0o755)
	os.WriteFile(filepath.Join(noTarget, "t.csv"), []byte("target,x\n1,2\n3,4\n5,6\n"), 0o644)
	badSplits := filepath.Join(dir, "bs")
	os.MkdirAll(badSplits, 0o755)
	os.WriteFile(filepath.Join(badSplits, "alpha.txt"), []byte("0 1 99\n"), 0o644)
	os.WriteFile(filepath.Join(badSplits, "beta.txt"), []byte("0\n"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-out", out}, "-data is required"},
		{[]string{"-data", data}, "-out is required"},
		{[]string{"-data", data, "-out", filepath.Join(dir, "r.txt")}, "want a .csv file"},
		{[]string{"-data", data, "-out", out, "-checkpoint", filepath.Join(dir, "none.safetensors")}, "-checkpoint"},
		{[]string{"-data", filepath.Join(dir, "nodir"), "-out", out, "-checkpoint", ckpt}, "-data"},
		{[]string{"-data", empty, "-out", out, "-checkpoint", ckpt}, "no .csv files"},
		{[]string{"-data", data, "-out", out, "-checkpoint", ckpt, "-only", "gamma"}, `no table "gamma"`},
		{[]string{"-data", data, "-out", out, "-checkpoint", ckpt, "-splits", empty}, "no split file for table alpha"},
		{[]string{"-data", data, "-out", out, "-checkpoint", ckpt, "-splits", badSplits}, "row index 99 out of range"},
		{[]string{"-data", data, "-out", out, "-checkpoint", ckpt, "-splits", filepath.Join(dir, "nodir")}, "not a directory"},
		{[]string{"-data", data, "-out", out, "-checkpoint", ckpt, "-baselines", filepath.Join(dir, "nob.csv")}, "-baselines"},
		{[]string{"-data", noTarget, "-out", out, "-checkpoint", ckpt}, `the last column is "x"`},
		{[]string{"-data", data, "-out", out, "-checkpoint", ckpt, "-ensemble", "0"}, "-ensemble 0"},
		{[]string{"-data", data, "-out", out, "extra"}, "unexpected arguments"},
	}
	for _, c := range cases {
		_, _, err := runEvalCLI(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.args, err, c.want)
		}
	}
}

// TestEvalCLIDefaultCheckpoint: without -checkpoint the harness runs on the
// embedded pretrained model (plumbing: one row per split, finite scores).
func TestEvalCLIDefaultCheckpoint(t *testing.T) {
	data, splits, _, _ := evalFixture(t)
	out := filepath.Join(t.TempDir(), "r.csv")
	stdout, _, err := runEvalCLI("-data", data, "-splits", splits, "-out", out, "-ensemble", "1", "-only", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d result rows, want 2 (one per split):\n%v", len(recs)-1, recs)
	}
	for _, r := range recs[1:] {
		if v, err := strconv.ParseFloat(r[4], 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("r2 %q is not a finite number", r[4])
		}
	}
	if !strings.Contains(stdout, "nori over 1 tables") {
		t.Errorf("no summary on stdout:\n%s", stdout)
	}
}
