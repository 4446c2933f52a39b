package cuda

import (
	"strings"
	"testing"
)

// These tests run without a GPU: they check the row kernels' launch planning
// and that every kernel name the launchers of rmsnorm.go, layernorm.go,
// softmax.go and swiglu.go can ask for is in the embedded PTX with as many
// parameters as the launcher passes, each 8 bytes wide.

// normPTXParams returns, per entry of module's PTX, its parameter types.
func normPTXParams(t *testing.T, module string) map[string][]string {
	t.Helper()
	src, err := PTX(module)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	cur := ""
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, ".visible .entry "); ok {
			cur = rest[:strings.IndexAny(rest, "( ")]
			out[cur] = []string{}
			continue
		}
		if cur == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, ".param "); ok {
			out[cur] = append(out[cur], strings.Fields(rest)[0])
		}
		if strings.HasPrefix(line, ")") {
			cur = ""
		}
	}
	return out
}

// normWantParams is the number of arguments each launcher passes.
var normWantParams = map[string]int{
	"rmsnorm/fwd": 7, "rmsnorm/bwd": 9, "rmsnorm/reduce_partials": 4,
	"layernorm/fwd": 9, "layernorm/bwd": 11, "layernorm/reduce_partials": 4,
	"softmax/fwd": 5, "softmax/bwd": 6,
	"swiglu/fwd": 5, "swiglu/bwd": 7,
}

func normCheckEntry(t *testing.T, params map[string][]string, module, what, name string) {
	t.Helper()
	ps, ok := params[name]
	if !ok {
		t.Fatalf("module %s has no entry %s", module, name)
	}
	if want := normWantParams[module+"/"+what]; len(ps) != want {
		t.Fatalf("%s has %d parameters, its launcher passes %d", name, len(ps), want)
	}
	for i, p := range ps {
		if p != ".u64" && p != ".f64" {
			t.Fatalf("%s parameter %d is %s, not 8 bytes wide", name, i, p)
		}
	}
}

func TestNormPlanEntries(t *testing.T) {
	for _, module := range []string{"rmsnorm", "layernorm", "softmax"} {
		params := normPTXParams(t, module)
		seen := map[string]bool{}
		for cols := 1; cols <= 5000; cols++ {
			for _, vec := range []bool{false, true} {
				v := pickNorm(cols, vec)
				for _, what := range []string{"fwd", "bwd"} {
					name := v.entry(module, what)
					if !seen[name] {
						normCheckEntry(t, params, module, what, name)
						seen[name] = true
					}
				}
			}
		}
		if module != "softmax" {
			normCheckEntry(t, params, module, "reduce_partials", "nori_"+module+"_reduce_partials")
		}
		// Every entry of the module is reachable (no dead instantiations).
		for name := range params {
			if !seen[name] && !strings.HasSuffix(name, "_reduce_partials") {
				t.Errorf("%s: entry %s is never launched", module, name)
			}
		}
	}
	params := normPTXParams(t, "swiglu")
	normCheckEntry(t, params, "swiglu", "fwd", "nori_swiglu_fwd")
	normCheckEntry(t, params, "swiglu", "bwd", "nori_swiglu_bwd")
}

func TestNormPlanShapes(t *testing.T) {
	for cols := 1; cols <= 70000; cols += 1 + cols/64 {
		for _, vec := range []bool{false, true} {
			v := pickNorm(cols, vec)
			if v.w == 4 && (!vec || cols%4 != 0) {
				t.Fatalf("cols %d vec %v: float4 loads chosen", cols, vec)
			}
			if vec && cols%4 == 0 && v.w != 4 {
				t.Fatalf("cols %d: aligned rows of a multiple of 4 without float4 loads", cols)
			}
			if v.warp {
				// The lanes' chunks cover the row, with no more than twice
				// the chunks needed (N a power of two).
				if cols > normMaxWarpCols || v.threads != 32*normWarps || 32*v.w*v.n < cols || (v.n > 1 && 32*v.w*v.n/2 >= cols) {
					t.Fatalf("cols %d vec %v: warp variant %+v", cols, vec, v)
				}
				continue
			}
			if cols <= normMaxWarpCols || v.threads < 128 || v.threads > 1024 || v.threads&(v.threads-1) != 0 {
				t.Fatalf("cols %d vec %v: block variant %+v", cols, vec, v)
			}
		}
	}
}

func TestNormPlanBackwardSplit(t *testing.T) {
	for _, cols := range []int{64, 3000} {
		v := pickNorm(cols, true)
		for rows := 1; rows < 300000; rows += 1 + rows/7 {
			rpb, nb := v.bwdSplit(rows)
			if nb < 1 || nb > normMaxParts || nb*rpb < rows || (nb-1)*rpb >= rows {
				t.Fatalf("cols %d rows %d: %d blocks of %d rows (every block must own rows, all rows covered, at most %d blocks)",
					cols, rows, nb, rpb, normMaxParts)
			}
			if v.warp && rpb%normWarps != 0 {
				t.Fatalf("rows %d: %d rows per block is not a multiple of %d warps", rows, rpb, normWarps)
			}
		}
	}
}
