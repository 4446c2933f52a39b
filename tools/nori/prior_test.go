package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/prior"
)

func runPriorCLI(t *testing.T, args ...string) error {
	t.Helper()
	var out, errOut bytes.Buffer
	err := priorMain(args, &out, &errOut)
	if err == nil && !strings.Contains(out.String(), "wrote") {
		t.Fatalf("no summary on stdout: %q", out.String())
	}
	return err
}

type cliManifest struct {
	Seed   uint64 `json:"seed"`
	Count  int    `json:"count"`
	Tables []struct {
		File          string         `json:"file"`
		Rows          int            `json:"rows"`
		Features      int            `json:"features"`
		Generator     string         `json:"generator"`
		Params        map[string]any `json:"params"`
		Augmentations []string       `json:"augmentations"`
		FilterR2      *float64       `json:"filter_r2"`
		Attempts      int            `json:"attempts"`
	} `json:"tables"`
}

func readManifest(t *testing.T, dir string) cliManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m cliManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

// TestPriorCLIWrites: the tables, the manifest and the plots are written
// and agree with each other; missing cells only where the manifest lists a
// missingness augmentation.
func TestPriorCLIWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	if err := runPriorCLI(t, "-n", "12", "-seed", "4", "-rows", "60:200", "-features", "3:9", "-out", dir, "-plot", "-plots", "2"); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, dir)
	if m.Seed != 4 || m.Count != 12 || len(m.Tables) != 12 {
		t.Fatalf("manifest header: seed %d count %d tables %d", m.Seed, m.Count, len(m.Tables))
	}
	names := prior.Names()
	for i, e := range m.Tables {
		if e.File != fmt.Sprintf("table_%05d.csv", i) || !slices.Contains(names, e.Generator) || e.Attempts < 1 || e.FilterR2 == nil {
			t.Fatalf("entry %d: %+v", i, e)
		}
		if e.Rows < 60 || e.Rows > 200 || e.Features < 3 || e.Features > 9 {
			t.Fatalf("entry %d: shape %dx%d outside -rows 60:200 -features 3:9", i, e.Rows, e.Features)
		}
		f, err := os.Open(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", e.File, err)
		}
		header := recs[0]
		if len(recs) != e.Rows+1 || len(header) != e.Features+1 || header[0] != "f0" || header[len(header)-1] != "target" {
			t.Fatalf("%s: %d records, header %v; manifest says %dx%d", e.File, len(recs), header, e.Rows, e.Features)
		}
		missing := slices.ContainsFunc(e.Augmentations, func(s string) bool { return strings.HasPrefix(s, "missing") })
		for _, rec := range recs[1:] {
			if rec[len(rec)-1] == "" {
				t.Fatalf("%s: missing target", e.File)
			}
			if !missing && slices.Contains(rec, "") {
				t.Fatalf("%s: empty cell but no missingness in %v", e.File, e.Augmentations)
			}
		}
	}
	for i := 0; i < 2; i++ {
		for _, kind := range []string{"scatter", "hist"} {
			path := filepath.Join(dir, fmt.Sprintf("table_%05d_%s.png", i, kind))
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil || img.Bounds().Dx() < 300 || img.Bounds().Dy() < 200 {
				t.Fatalf("%s: %v, bounds %v", path, err, img)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "table_00002_scatter.png")); err == nil {
		t.Fatal("plotted more tables than -plots")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// TestPriorCLIDeterministic: the same flags give the same bytes with 1 and
// 2 workers.
func TestPriorCLIDeterministic(t *testing.T) {
	old := par.SetWorkers(1)
	defer par.SetWorkers(old)
	var dirs []string
	for _, w := range []int{1, 2} {
		par.SetWorkers(w)
		dir := t.TempDir()
		if err := runPriorCLI(t, "-n", "8", "-seed", "9", "-rows", "150", "-features", "7", "-out", dir); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	files, _ := filepath.Glob(filepath.Join(dirs[0], "*"))
	if len(files) != 9 {
		t.Fatalf("%d files, want 8 tables + manifest", len(files))
	}
	for _, f := range files {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(dirs[1], filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between 1 and 2 workers (%v)", filepath.Base(f), err)
		}
	}
}

// TestPriorCLIErrors: bad flags and existing files give clear errors, and
// existing files are left alone unless -force.
func TestPriorCLIErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "2"}, "-out is required"},
		{[]string{"-n", "0", "-out", dir}, "-n 0"},
		{[]string{"-rows", "abc", "-out", dir}, "-rows \"abc\""},
		{[]string{"-rows", "10:5", "-out", dir}, "LO <= HI"},
		{[]string{"-rows", "3", "-out", dir}, "rows range"},
		{[]string{"-features", "0", "-out", dir}, "-features \"0\""},
		{[]string{"-features", "2:x", "-out", dir}, "-features"},
		{[]string{"-generator", "nosuch", "-out", dir}, "nosuch"},
		{[]string{"-out", dir, "extra"}, "unexpected arguments"},
		{[]string{"-out", notDir}, "not a directory"},
		{[]string{"-plot", "-plots", "0", "-out", dir}, "-plots"},
		{[]string{"-bogus", "-out", dir}, "bogus"},
	} {
		err := priorMain(c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%v: err %v, want one mentioning %q", c.args, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("failed runs wrote files: %v", entries)
	}

	// Existing output: refused without -force, the file untouched.
	keep := filepath.Join(dir, "table_00001.csv")
	os.WriteFile(keep, []byte("mine"), 0o644)
	err := priorMain([]string{"-n", "3", "-rows", "50", "-features", "2", "-out", dir}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "table_00001.csv already exists") {
		t.Fatalf("overwrite without -force: %v", err)
	}
	if b, _ := os.ReadFile(keep); string(b) != "mine" {
		t.Fatal("existing file modified")
	}
	if _, err := os.Stat(filepath.Join(dir, "table_00000.csv")); err == nil {
		t.Fatal("a refused run wrote table_00000.csv")
	}
	if err := runPriorCLI(t, "-n", "3", "-rows", "50", "-features", "2", "-out", dir, "-force", "-generator", "quadratic", "-nofilter"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(keep); !strings.HasPrefix(string(b), "f0,f1,target\n") {
		t.Fatalf("-force did not overwrite: %q", b)
	}
	m := readManifest(t, dir)
	for _, e := range m.Tables {
		if e.Generator != "quadratic" || e.FilterR2 != nil || e.Attempts != 1 {
			t.Fatalf("-generator quadratic -nofilter: entry %+v", e)
		}
	}
	// -h is not an error.
	if err := priorMain([]string{"-h"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("-h: %v", err)
	}
}
