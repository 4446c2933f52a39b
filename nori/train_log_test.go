package nori

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainLogLinesAreWrittenWhole: each window's line reaches the file when
// the window ends, before any flush or close (a run's progress is visible
// while it trains, and a reader never meets a torn line mid-file).
func TestTrainLogLinesAreWrittenWhole(t *testing.T) {
	dir := t.TempDir()
	l, err := openTrainLog(dir, 0, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	tr := &Trainer{}
	for s := range 5 {
		if err := l.add(StepResult{Step: s, Loss: 0.5, Pinball: 0.5}, tr); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, LogFile))
		if err != nil {
			t.Fatal(err)
		}
		if want := (s + 1) / 2; strings.Count(string(b), "\n") != want || (len(b) > 0 && b[len(b)-1] != '\n') {
			t.Fatalf("after step %d the log holds %q, want %d whole lines", s, b, want)
		}
	}
	entries, err := ReadTrainLog(filepath.Join(dir, LogFile))
	if err != nil || len(entries) != 2 || entries[1].Step != 3 {
		t.Fatalf("ReadTrainLog: %v, %+v", err, entries)
	}
}
