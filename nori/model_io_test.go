package nori

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

func TestModelSaveLoadRoundTrip(t *testing.T) {
	m := tinyModel(t, 8)
	perturb(m, 9, 0.1)
	path := filepath.Join(t.TempDir(), "tiny.safetensors")
	if err := m.Save(path, map[string]string{"note": "test"}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config() != m.Config() {
		t.Fatalf("config %+v, want %+v", got.Config(), m.Config())
	}
	pa, pb := nn.Params(m), nn.Params(got)
	for i := range pa {
		if pa[i].Name != pb[i].Name {
			t.Fatalf("param %d: %s vs %s", i, pa[i].Name, pb[i].Name)
		}
		if d, same := maxDiff(pa[i].Var.Value.Float32s(), pb[i].Var.Value.Float32s()); !same {
			t.Fatalf("%s differs by %g after the round trip", pa[i].Name, d)
		}
		if pa[i].Var.RequiresGrad() != pb[i].Var.RequiresGrad() {
			t.Fatalf("%s: requires-grad flag lost", pa[i].Name)
		}
	}
	x, y := randomTable(1, 1, 12, 4, 8)
	if d, same := maxDiff(infer(t, m, x, y, 8, 0), infer(t, got, x, y, 8, 0)); !same {
		t.Fatalf("loaded model's outputs differ by %g", d)
	}
	meta, err := nn.ReadMetadata(path)
	if err != nil || meta["note"] != "test" {
		t.Fatalf("metadata %v, %v", meta, err)
	}
	// LoadWeights into a fresh model with the same config.
	fresh := tinyModel(t, 99)
	if err := fresh.LoadWeights(path); err != nil {
		t.Fatal(err)
	}
	if d, same := maxDiff(infer(t, m, x, y, 8, 0), infer(t, fresh, x, y, 8, 0)); !same {
		t.Fatalf("LoadWeights: outputs differ by %g", d)
	}
}

func TestModelLoadMismatch(t *testing.T) {
	dir := t.TempDir()
	m := tinyModel(t, 1)
	good := filepath.Join(dir, "good.safetensors")
	if err := m.Save(good, nil); err != nil {
		t.Fatal(err)
	}
	var names []string
	var ts []*tensor.Tensor
	m.VisitParams("", func(n string, p *autograd.Var) { names, ts = append(names, n), append(ts, p.Value) })
	cfgJSON := func(edit func(*Config)) string {
		c := Tiny()
		edit(&c)
		b, _ := json.Marshal(c)
		return string(b)
	}
	write := func(name string, names []string, ts []*tensor.Tensor, meta map[string]string) string {
		p := filepath.Join(dir, name)
		if err := nn.SaveTensors(p, names, ts, meta, nn.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path string
		want       []string
	}{
		{"no config", write("noconfig.safetensors", names, ts, nil), []string{"nori_config", "not a nori model"}},
		{"bad json", write("badjson.safetensors", names, ts, map[string]string{ConfigMetaKey: "{"}), []string{"parsing model config"}},
		{"invalid config", write("invalid.safetensors", names, ts, map[string]string{ConfigMetaKey: cfgJSON(func(c *Config) { c.Heads = 5 })}), []string{"not a multiple of heads"}},
		{"more layers", write("layers.safetensors", names, ts, map[string]string{ConfigMetaKey: cfgJSON(func(c *Config) { c.Layers = 3 })}), []string{"does not match its config", "missing tensor", "layers.2."}},
		{"wider", write("wider.safetensors", names, ts, map[string]string{ConfigMetaKey: cfgJSON(func(c *Config) { c.Quantiles = 50 })}), []string{"head.fc2.weight", "shape"}},
		{"fewer switches", write("switch.safetensors", names, ts, map[string]string{ConfigMetaKey: cfgJSON(func(c *Config) { c.QASSMax = false })}), []string{"unexpected tensor", "qass"}},
		{"missing file", filepath.Join(dir, "absent.safetensors"), []string{"absent.safetensors"}},
	}
	for _, c := range cases {
		_, err := LoadModel(c.path)
		if err == nil {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
	other := Tiny()
	other.Quantiles = 50
	om, _ := NewModel(other, 1)
	if err := om.LoadWeights(good); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("LoadWeights with another config: %v", err)
	}
	if err := m.Save(filepath.Join(dir, "x.safetensors"), map[string]string{ConfigMetaKey: "x"}); err == nil {
		t.Error("Save accepted a reserved metadata key")
	}
	// The file written by Save is not modified by loading.
	before, _ := os.ReadFile(good)
	if _, err := LoadModel(good); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(good)
	if string(before) != string(after) {
		t.Fatal("LoadModel modified the checkpoint")
	}
}
