package nori

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// TestLoadModelFromMatchesLoadModel: the same file through a path and
// through memory gives the same config and bit-identical weights.
func TestLoadModelFromMatchesLoadModel(t *testing.T) {
	m, err := NewModel(Tiny(), 3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.safetensors")
	if err := m.Save(path, map[string]string{"step": "5"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadModelFrom(bytes.NewReader(b), int64(len(b)), "tiny in memory")
	if err != nil {
		t.Fatal(err)
	}
	if got.Config() != want.Config() {
		t.Fatalf("config %+v, want %+v", got.Config(), want.Config())
	}
	a, w := paramValues(got), paramValues(want)
	if len(a) != len(w) || len(a) == 0 {
		t.Fatalf("%d vs %d parameter values", len(a), len(w))
	}
	for i := range a {
		if a[i] != w[i] {
			t.Fatalf("parameter value %d: %v from memory, %v from the file", i, a[i], w[i])
		}
	}
}

// TestLoadModelFromErrors: the checks of LoadModel, with the source's name
// in every message.
func TestLoadModelFromErrors(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	noConfig := filepath.Join(dir, "plain.safetensors")
	if err := nn.SaveTensors(noConfig, []string{"w"}, []*tensor.Tensor{tensor.Zeros(2)}, nil, nn.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	mismatch := filepath.Join(dir, "mismatch.safetensors")
	if err := saveTensorsWithConfig(mismatch, Tiny()); err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(dir, "badcfg.safetensors")
	if err := nn.SaveTensors(badConfig, []string{"w"}, []*tensor.Tensor{tensor.Zeros(2)},
		map[string]string{ConfigMetaKey: `{"layers": -1}`}, nn.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	good := read(mismatch)
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"no config", read(noConfig), "not a nori model checkpoint"},
		{"tensors do not match", read(mismatch), "does not match its config"},
		{"invalid config", read(badConfig), "LoadModelFrom"},
		{"truncated", good[:len(good)-2], "truncated"},
		{"garbage", []byte("not a checkpoint"), "LoadModelFrom"},
	}
	for _, tc := range cases {
		_, err := LoadModelFrom(bytes.NewReader(tc.b), int64(len(tc.b)), "blob-"+tc.name)
		if err == nil {
			t.Errorf("%s: loaded, want an error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "blob-"+tc.name) {
			t.Errorf("%s: error %q, want it to mention %q and the source name", tc.name, err, tc.want)
		}
	}
}
