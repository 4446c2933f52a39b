package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A ptxas -v transcript with two entries, one of them spilling and using
// static shared memory, and a non-entry device function between them.
const sampleVerbose = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'nori_gemm_bf16_128x128' for 'sm_90'
ptxas info    : Function properties for nori_gemm_bf16_128x128
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 168 registers, 16384 bytes smem, 420 bytes cmem[0]
ptxas info    : Function properties for helper_fn
    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
ptxas info    : Compiling entry function 'nori_big' for 'sm_90'
ptxas info    : Function properties for nori_big
    48 bytes stack frame, 40 bytes spill stores, 36 bytes spill loads
ptxas info    : Used 255 registers, 380 bytes cmem[0]
`

func TestParsePtxasVerbose(t *testing.T) {
	got := parsePtxasVerbose(sampleVerbose)
	want := []kernelInfo{
		{Name: "nori_gemm_bf16_128x128", Registers: 168, SharedBytes: 16384},
		{Name: "nori_big", Registers: 255, StackBytes: 48, SpillStores: 40, SpillLoads: 36},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("parse mismatch (-want +got):\n%s", d)
	}
}

func TestSpillPolicy(t *testing.T) {
	allowed := parseAllowList("# comment\nnori_big  cold: runs once per step\n\n")
	ks := []kernelInfo{{Name: "nori_big", SpillStores: 4}, {Name: "nori_hot", SpillLoads: 8}, {Name: "nori_ok"}}
	bad := spillViolations(ks, allowed)
	if len(bad) != 1 || bad[0] != "nori_hot" {
		t.Fatalf("violations %v, want [nori_hot]", bad)
	}
}
