package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestPlotLossCurve draws a log with a skipped spike (finite and NaN) and
// an empty log: valid PNGs, no panic.
func TestPlotLossCurve(t *testing.T) {
	dir := t.TempDir()
	logs := map[string]string{
		"full.jsonl": `{"step":9,"loss":0.5,"loss_ma":0.5}
{"step":19,"loss":0.4,"loss_ma":0.45}
{"step":20,"loss":40,"skipped":1,"skip_reason":"spike"}
{"step":21,"loss":null,"skipped":1,"skip_reason":"nonfinite_loss"}
{"step":29,"loss":0.3,"loss_ma":0.4}
`,
		"empty.jsonl": "",
	}
	for name, content := range logs {
		lp := filepath.Join(dir, name)
		os.WriteFile(lp, []byte(content), 0o644)
		out := filepath.Join(dir, name+".png")
		if err := plotLossCurve(lp, out, "test"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
	}
	if err := plotLossCurve(filepath.Join(dir, "none.jsonl"), filepath.Join(dir, "x.png"), "x"); err == nil {
		t.Fatal("missing log accepted")
	}
}
