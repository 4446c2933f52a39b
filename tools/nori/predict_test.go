package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nori-ml/nori/nori"
)

// The network is a random Tiny model: these tests check the command's
// plumbing (files, columns, errors), never accuracy.

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func tinyCheckpoint(t *testing.T, dir string) string {
	t.Helper()
	m, err := nori.NewModel(nori.Tiny(), 1)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "tiny.safetensors")
	if err := m.Save(p, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// mixedCSV has numeric, categorical (quoted, with commas) and missing cells;
// the target y is last.
func mixedCSV(rows, seed int, withTarget bool) string {
	var b strings.Builder
	b.WriteString("x1,color,x2")
	if withTarget {
		b.WriteString(",y")
	}
	b.WriteByte('\n')
	colors := []string{"red", `"dark, blue"`, "green", ""}
	for i := range rows {
		x1 := math.Sin(float64(i*7+seed)) * 3
		x2 := float64((i*13+seed)%17) / 4
		c := colors[(i+seed)%4]
		x1s := strconv.FormatFloat(x1, 'g', 6, 64)
		if i%9 == 4 {
			x1s = "NA"
		}
		fmt.Fprintf(&b, "%s,%s,%g", x1s, c, x2)
		if withTarget {
			fmt.Fprintf(&b, ",%g", 2*x1+x2)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestPredictWritesPredictionsAndMetrics(t *testing.T) {
	dir := t.TempDir()
	ck := tinyCheckpoint(t, dir)
	train := writeFile(t, dir, "train.csv", mixedCSV(40, 0, true))
	test := writeFile(t, dir, "test.csv", mixedCSV(12, 5, true))
	out := filepath.Join(dir, "pred.csv")
	var stdout, stderr bytes.Buffer
	err := predictMain([]string{"-train", train, "-test", test, "-out", out, "-checkpoint", ck,
		"-quantiles", "0.1,0.5,0.9", "-ensemble", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "R² ") || !strings.Contains(stderr.String(), "RMSE") {
		t.Fatalf("no metrics on stderr: %q", stderr.String())
	}
	f, _ := os.Open(out)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "prediction,q0.1,q0.5,q0.9" {
		t.Fatalf("header %q", got)
	}
	if len(recs) != 13 {
		t.Fatalf("%d data rows, want 12", len(recs)-1)
	}
	for i, r := range recs[1:] {
		var v [4]float64
		for k := range v {
			if v[k], err = strconv.ParseFloat(r[k], 64); err != nil || math.IsNaN(v[k]) {
				t.Fatalf("row %d: %q", i, r)
			}
		}
		if !(v[1] <= v[2] && v[2] <= v[3]) {
			t.Fatalf("row %d: quantiles decrease: %v", i, v)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
	// Median point estimate equals the q0.5 column.
	stdout.Reset()
	err = predictMain([]string{"-train", train, "-test", test, "-checkpoint", ck, "-quantiles", "0.5",
		"-point", "median", "-ensemble", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ = csv.NewReader(&stdout).ReadAll()
	for _, r := range recs[1:] {
		if r[0] != r[1] {
			t.Fatalf("median %s != q0.5 %s", r[0], r[1])
		}
	}
}

func TestPredictTestWithoutTargetAndNamedTarget(t *testing.T) {
	dir := t.TempDir()
	ck := tinyCheckpoint(t, dir)
	// Target in the first column, named explicitly; test has no target.
	train := writeFile(t, dir, "train.csv", "y,a,b\n1,2,x\n2,3,y\n3,5,x\n4,4,y\n5,8,x\n")
	test := writeFile(t, dir, "test.csv", "b,a\nx,2\nz,NA\n")
	var stdout, stderr bytes.Buffer
	if err := predictMain([]string{"-train", train, "-test", test, "-target", "y", "-checkpoint", ck, "-ensemble", "1"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "RMSE") {
		t.Fatal("metrics without a test target")
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 || lines[0] != "prediction" {
		t.Fatalf("output %q", stdout.String())
	}
}

func TestPredictConstantTarget(t *testing.T) {
	dir := t.TempDir()
	ck := tinyCheckpoint(t, dir)
	train := writeFile(t, dir, "train.csv", "a,y\n1,7.5\n2,7.5\n3,7.5\n")
	test := writeFile(t, dir, "test.csv", "a\n10\n-4\n")
	var stdout, stderr bytes.Buffer
	if err := predictMain([]string{"-train", train, "-test", test, "-checkpoint", ck, "-quantiles", "0.9"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "prediction,q0.9\n7.5,7.5\n7.5,7.5\n" {
		t.Fatalf("constant target output %q", got)
	}
}

func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	ck := tinyCheckpoint(t, dir)
	good := writeFile(t, dir, "good.csv", "a,b,y\n1,x,1\n2,y,2\n3,x,4\n")
	goodTest := writeFile(t, dir, "goodtest.csv", "a,b\n1,x\n")
	file := func(name, content string) string { return writeFile(t, dir, name, content) }
	incompatible := file("bad.safetensors", "not a checkpoint")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"-train", good, "-checkpoint", ck}, "-train and -test are required"},
		{"bad point", []string{"-train", good, "-test", goodTest, "-point", "mode", "-checkpoint", ck}, "want mean or median"},
		{"bad quantiles", []string{"-train", good, "-test", goodTest, "-quantiles", "0.1,1.5", "-checkpoint", ck}, `"1.5" is not a level`},
		{"out is train", []string{"-train", good, "-test", goodTest, "-out", good, "-checkpoint", ck}, "refusing to overwrite"},
		{"out is test", []string{"-train", good, "-test", goodTest, "-out", filepath.Join(dir, ".", "goodtest.csv"), "-checkpoint", ck}, "refusing to overwrite"},
		{"empty train", []string{"-train", file("empty.csv", ""), "-test", goodTest, "-checkpoint", ck}, "empty CSV"},
		{"header only", []string{"-train", file("h.csv", "a,b,y\n"), "-test", goodTest, "-checkpoint", ck}, "no training rows"},
		{"one row", []string{"-train", file("one.csv", "a,b,y\n1,x,1\n"), "-test", goodTest, "-checkpoint", ck}, "only one training row"},
		{"NaN target", []string{"-train", file("nan.csv", "a,b,y\n1,x,1\n2,y,NaN\n"), "-test", goodTest, "-checkpoint", ck}, `target column "y" is missing in row 2`},
		{"Inf target", []string{"-train", file("inf.csv", "a,b,y\n1,x,1\n2,y,-inf\n"), "-test", goodTest, "-checkpoint", ck}, "-Inf in row 2"},
		{"text target", []string{"-train", file("txt.csv", "a,b,y\n1,x,1\n2,y,high\n"), "-test", goodTest, "-checkpoint", ck}, `not numeric: row 2 holds "high"`},
		{"unknown target", []string{"-train", good, "-test", goodTest, "-target", "z", "-checkpoint", ck}, `unknown target column "z"`},
		{"test misses column", []string{"-train", good, "-test", file("t1.csv", "a\n1\n"), "-checkpoint", ck}, `missing: ["b"]`},
		{"test extra column", []string{"-train", good, "-test", file("t2.csv", "a,b,c\n1,x,2\n"), "-checkpoint", ck}, `not in the training data: ["c"]`},
		{"ragged train", []string{"-train", file("rag.csv", "a,b,y\n1,x,1\n2,y\n"), "-test", goodTest, "-checkpoint", ck}, "row 2 (line 3) has 2 fields, the header has 3"},
		{"ragged test", []string{"-train", good, "-test", file("ragt.csv", "a,b\n1,x,3\n"), "-checkpoint", ck}, "has 3 fields"},
		{"missing file", []string{"-train", filepath.Join(dir, "nope.csv"), "-test", goodTest, "-checkpoint", ck}, "nope.csv"},
		{"incompatible checkpoint", []string{"-train", good, "-test", goodTest, "-checkpoint", incompatible}, "LoadModel"},
		{"extra args", []string{"-train", good, "-test", goodTest, "-checkpoint", ck, "stray"}, "unexpected arguments"},
		{"bad preprocess", []string{"-train", good, "-test", goodTest, "-preprocess", "raw", "-checkpoint", ck}, `unknown preprocessing "raw"`},
		{"bad member weights", []string{"-train", good, "-test", goodTest, "-member-weights=some", "-checkpoint", ck}, "want auto, true or false"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		err := predictMain(c.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// The inputs were never touched and no output appeared.
	if b, _ := os.ReadFile(good); string(b) != "a,b,y\n1,x,1\n2,y,2\n3,x,4\n" {
		t.Fatal("an input file was modified")
	}
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "never.csv")
	_ = predictMain([]string{"-train", good, "-test", file("t3.csv", "a\n1\n"), "-out", out, "-checkpoint", ck}, &stdout, &stderr)
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an output file was written for a failed run")
	}
}

// TestPredictDefaultCheckpointOnExample runs the README's first command
// (fewer ensemble members and no member pool, for time): no -checkpoint, so
// the embedded model, on the shipped concrete table. Predictions go to stdout, one per test row;
// the metrics line comes last on stderr, newline-terminated, and the model
// must beat predicting the mean (R² > 0), which untrained weights do not.
func TestPredictDefaultCheckpointOnExample(t *testing.T) {
	train := filepath.Join("..", "..", "examples", "concrete", "train.csv")
	test := filepath.Join("..", "..", "examples", "concrete", "test.csv")
	var stdout, stderr bytes.Buffer
	if err := predictMain([]string{"-train", train, "-test", test, "-ensemble", "2", "-member-pool", "0"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 207 || recs[0][0] != "prediction" {
		t.Fatalf("%d lines, header %q; want the header and 206 predictions", len(recs), recs[0])
	}
	for i, r := range recs[1:] {
		if v, err := strconv.ParseFloat(r[0], 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("prediction %d: %q", i, r[0])
		}
	}
	msg := stderr.String()
	if !strings.HasSuffix(msg, " over 206 rows\n") {
		t.Fatalf("stderr %q does not end with the metrics line", msg)
	}
	last := msg[strings.LastIndex(strings.TrimSuffix(msg, "\n"), "\n")+1:]
	var r2, rmse float64
	var n int
	if _, err := fmt.Sscanf(last, "R² %g  RMSE %g  over %d rows", &r2, &rmse, &n); err != nil {
		t.Fatalf("metrics line %q: %v", last, err)
	}
	t.Logf("embedded model on examples/concrete (2 members): R² %.4f, RMSE %.4g", r2, rmse)
	if !(r2 > 0) || !(rmse > 0) {
		t.Errorf("R² %v, RMSE %v: no better than predicting the mean", r2, rmse)
	}
}
