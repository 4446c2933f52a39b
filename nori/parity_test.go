//go:build parity

package nori

// Parity with the PyTorch reference (bench/reference/nori_ref.py): random
// weights and random tables through both, `make parity` (needs Debian's
// python3-torch at /usr/bin/python3).

import (
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// parityTol bounds the normwise relative error max|go-ref| / max|ref| of the
// quantiles in float32.
const parityTol = 1e-4

// runReference runs the PyTorch reference on a saved model and table and
// returns its quantiles.
func runReference(t *testing.T, dir string, m *Model, x, y *tensor.Tensor, nctx int) []float32 {
	t.Helper()
	ckpt := filepath.Join(dir, "model.safetensors")
	table := filepath.Join(dir, "table.safetensors")
	out := filepath.Join(dir, "out.safetensors")
	if err := m.Save(ckpt, nil); err != nil {
		t.Fatal(err)
	}
	if err := nn.SaveTensors(table, []string{"x", "y"}, []*tensor.Tensor{x, y}, map[string]string{"nctx": strconv.Itoa(nctx)}, nn.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("..", "bench", "reference", "nori_ref.py")
	cmd := exec.Command("/usr/bin/python3", script, ckpt, table, out, "--threads", "2")
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reference failed: %v\n%s", err, res)
	}
	var info struct {
		Shape []int `json:"shape"`
	}
	if err := json.Unmarshal(res, &info); err != nil {
		t.Fatalf("reference output: %v\n%s", err, res)
	}
	ck, err := nn.LoadTensors(out)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := ck.Tensor("quantiles")
	if !ok {
		t.Fatal("reference output has no quantiles")
	}
	return q.Float32s()
}

func TestParity(t *testing.T) {
	cases := []struct {
		name          string
		cfg           Config
		B, N, F, nctx int
	}{
		{"tiny", Tiny(), 2, 37, 7, 25},
		{"tiny one context row", Tiny(), 1, 6, 3, 1},
		{"tiny no film/missing/qass, shared", func() Config {
			c := Tiny()
			c.FiLM, c.MissingEmbedding, c.QASSMax, c.SeparateQueryAttention = false, false, false, false
			return c
		}(), 2, 20, 5, 12},
		{"tiny triples, row y-aware, raw x", func() Config {
			c := Tiny()
			c.GroupSize, c.ColumnYAware, c.NormalizeX = 3, false, false
			return c
		}(), 1, 30, 8, 20},
		{"nori-6m", Nori6M(), 1, 160, 9, 128},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewModel(c.cfg, uint64(40+i))
			if err != nil {
				t.Fatal(err)
			}
			perturb(m, uint64(i), 0.05)
			x, y := randomTable(uint64(70+i), c.B, c.N, c.F, c.nctx)
			ref := runReference(t, t.TempDir(), m, x, y, c.nctx)
			for _, chunk := range []int{0, 7} {
				got := infer(t, m, x, y, c.nctx, chunk)
				if len(got) != len(ref) {
					t.Fatalf("%d outputs, reference %d", len(got), len(ref))
				}
				maxAbs, maxRef, elem := 0.0, 0.0, 0.0
				for j := range got {
					d := math.Abs(float64(got[j]) - float64(ref[j]))
					maxAbs = math.Max(maxAbs, d)
					maxRef = math.Max(maxRef, math.Abs(float64(ref[j])))
				}
				for j := range got {
					d := math.Abs(float64(got[j]) - float64(ref[j]))
					elem = math.Max(elem, d/(math.Abs(float64(ref[j]))+1e-2*maxRef))
				}
				rel := maxAbs / maxRef
				t.Logf("QueryChunk %d: max |go-ref| = %.3g, max |ref| = %.3g, normwise relative error %.3g, elementwise (|d|/(|ref|+0.01 max|ref|)) %.3g",
					chunk, maxAbs, maxRef, rel, elem)
				if !(rel <= parityTol) {
					t.Fatal(fmt.Sprintf("relative error %.3g exceeds %g", rel, parityTol))
				}
			}
		})
	}
}
