package nori

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nori-ml/nori/nn"
)

// TestTrainInitFromCheckpoint: a run with Init starts from the checkpoint's
// weights (bit for bit, raw and EMA), not from its seed's; its held-out
// loss is exactly that of the first run's EMA weights; and once it has
// checkpointed, resuming it does not need the init file any more.
func TestTrainInitFromCheckpoint(t *testing.T) {
	first := trainTestConfig()
	a := newTestTrainer(t, first)
	stepUntil(t, a, 30)
	dirA := t.TempDir()
	if err := a.SaveCheckpoint(dirA); err != nil {
		t.Fatal(err)
	}
	wantLoss, err := a.EvalLoss(heldOut, true)
	if err != nil {
		t.Fatal(err)
	}
	a.ema.Swap() // the saved model file holds the EMA weights
	want := map[string][]float32{}
	for _, p := range nn.Params(a.model) {
		want[p.Name] = append([]float32(nil), p.Var.Value.Contiguous().F32Data()...)
	}
	a.ema.Swap()

	// The init file is a copy, removed before the resume below.
	initPath := filepath.Join(t.TempDir(), "init.safetensors")
	b, err := os.ReadFile(filepath.Join(dirA, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(initPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Same seed as the first run, so that the held-out batches are the same
	// tables (a real continuation takes another seed); the seed's own
	// initial weights differ from the checkpoint's after 30 steps.
	second := trainTestConfig()
	second.Init = initPath
	c := newTestTrainer(t, second)
	for _, p := range nn.Params(c.model) {
		got := p.Var.Value.Contiguous().F32Data()
		for i, v := range got {
			if v != want[p.Name][i] {
				t.Fatalf("param %s[%d] = %v, init checkpoint has %v", p.Name, i, v, want[p.Name][i])
			}
		}
	}
	for _, s := range c.ema.Shadow() {
		name := strings.TrimPrefix(s.Name, "ema.")
		for i, v := range s.Value.Contiguous().F32Data() {
			if v != want[name][i] {
				t.Fatalf("EMA %s[%d] = %v, init checkpoint has %v", name, i, v, want[name][i])
			}
		}
	}
	for _, ema := range []bool{false, true} {
		got, err := c.EvalLoss(heldOut, ema)
		if err != nil {
			t.Fatal(err)
		}
		if got != wantLoss {
			t.Errorf("held-out loss of the initialised run (EMA %v) %v, the checkpoint's %v", ema, got, wantLoss)
		}
	}
	stepUntil(t, c, 5)
	dirC := t.TempDir()
	if err := c.SaveCheckpoint(dirC); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(initPath); err != nil {
		t.Fatal(err)
	}
	r, err := ResumeTrainer(dirC)
	if err != nil {
		t.Fatalf("resume of an initialised run after its init file was removed: %v", err)
	}
	if r.Config().Init != initPath || r.Steps() != 5 {
		t.Errorf("resumed run: init %q, step %d; want %q, 5", r.Config().Init, r.Steps(), initPath)
	}
}

// TestTrainInitErrors: a missing file, and a checkpoint of another model
// (a file, or the embedded one), are errors that name the problem.
func TestTrainInitErrors(t *testing.T) {
	c := trainTestConfig()
	c.Init = filepath.Join(t.TempDir(), "nope.safetensors")
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "nope.safetensors") {
		t.Errorf("missing init file: err = %v", err)
	}
	other := Tiny()
	other.Layers++
	m, err := NewModel(other, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "other.safetensors")
	if err := m.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	c.Init = path
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "model with config") {
		t.Errorf("init from another model's checkpoint: err = %v", err)
	}
	// "default" is the embedded checkpoint: not the Tiny model of this config.
	c.Init = "default"
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "default holds a model with config") {
		t.Errorf("init from the embedded checkpoint into the Tiny model: err = %v", err)
	}
}
