package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalCLIResume: -resume keeps a table that -out holds in full (its
// rows, even an edited R², come back unchanged and it is not evaluated
// again) and evaluates a table cut off mid-way anew, with the same results
// as the uninterrupted run; tables of -out outside -only stay in it; a file
// that is not a results file is an error.
func TestEvalCLIResume(t *testing.T) {
	data, splits, _, ckpt := evalFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.csv")
	args := []string{"-data", data, "-splits", splits, "-checkpoint", ckpt, "-out", out, "-ensemble", "1"}
	if _, stderr, err := runEvalCLI(args...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	full, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(full)), "\n") // header, alpha x2, beta x2
	if len(lines) != 5 {
		t.Fatalf("results:\n%s", full)
	}
	// alpha's first R² becomes a marker; beta loses its last split.
	f := strings.Split(lines[1], ",")
	f[4] = "0.123456"
	marked := append([]string{lines[0], strings.Join(f, ",")}, lines[2:4]...)
	if err := os.WriteFile(out, []byte(strings.Join(marked, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runEvalCLI(append(args, "-resume")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "alpha") || !strings.Contains(stderr, "(kept from -out)") || strings.Count(stderr, "(kept from -out)") != 1 {
		t.Errorf("stderr should say alpha alone was kept:\n%s", stderr)
	}
	got, _ := os.ReadFile(out)
	gl := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(gl) != 5 || gl[1] != marked[1] || gl[2] != lines[2] {
		t.Fatalf("alpha's rows were not kept as they were:\n%s", got)
	}
	for i := 3; i < 5; i++ { // beta again: same scores (seconds differ)
		a, b := strings.Split(gl[i], ","), strings.Split(lines[i], ",")
		if strings.Join(a[:6], ",") != strings.Join(b[:6], ",") {
			t.Errorf("beta row %d after resume %q, uninterrupted %q", i-2, gl[i], lines[i])
		}
	}
	// -resume -only beta on a file of both: alpha's rows stay (ahead of
	// beta's), beta's are kept too.
	if _, stderr, err := runEvalCLI(append(args, "-resume", "-only", "beta")...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if again, _ := os.ReadFile(out); string(again) != string(got) {
		t.Errorf("-resume -only beta changed the results:\n%s\nwas:\n%s", again, got)
	}
	// -resume -only alpha on a file of beta alone: beta stays, alpha is added.
	betaOnly := strings.Join([]string{gl[0], gl[3], gl[4]}, "\n") + "\n"
	os.WriteFile(out, []byte(betaOnly), 0o644)
	if _, stderr, err := runEvalCLI(append(args, "-resume", "-only", "alpha")...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	al, _ := os.ReadFile(out)
	if l := strings.Split(strings.TrimSpace(string(al)), "\n"); len(l) != 5 || l[1] != gl[3] || l[2] != gl[4] || !strings.HasPrefix(l[3], "alpha,0,") || !strings.HasPrefix(l[4], "alpha,1,") {
		t.Errorf("-resume -only alpha on beta's results:\n%s", al)
	}
	// Not a results file: a clear error, the file untouched.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1,2\n"), 0o644)
	badArgs := append(append([]string{}, args[:len(args)-4]...), "-out", bad, "-ensemble", "1", "-resume")
	if _, _, err := runEvalCLI(badArgs...); err == nil || !strings.Contains(err.Error(), "not a results file") {
		t.Errorf("-resume on a foreign CSV: error %v", err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "a,b\n1,2\n" {
		t.Error("-resume modified a foreign file")
	}
}
