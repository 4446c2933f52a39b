package cuda

import (
	"strings"
	"testing"
)

// attnKernelParams is, for every kernel attention.go and attention_short.go
// launch, the PTX parameter kinds in the order the launchers pass them ("u"
// for a pointer or an int, "f" for a float64; see ptxParamKinds in
// train_ptx_test.go). The flash entries take 20 to 32 arguments: one
// dropped or swapped with a double would read garbage on the GPU, and this
// test catches it without one.
var attnKernelParams = map[string]map[string]string{
	"attention": {
		// out32, out16, lse, q, k, v, qscale, bh0, H, Nq, Nk, D, 9 strides, scale, tilesPerSplit, outSplit, lseSplit
		"nori_attention_fwd_d64_bm64":   strings.Repeat("u", 21) + "f" + "uuu",
		"nori_attention_fwd_d64_bm128":  strings.Repeat("u", 21) + "f" + "uuu",
		"nori_attention_fwd_d128_bm64":  strings.Repeat("u", 21) + "f" + "uuu",
		"nori_attention_fwd_d128_bm128": strings.Repeat("u", 21) + "f" + "uuu",
		// dq, gradBF16, 3 dq strides, dqscale, q, k, v, dob, dors, lse, dsum, qscale, bh0, H, Nq, Nk, D, 9 strides, scale
		"nori_attention_bwd_q_d64":  strings.Repeat("u", 28) + "f",
		"nori_attention_bwd_q_d128": strings.Repeat("u", 28) + "f",
		// dk, dv, gradBF16, 3+3 grad strides, q, k, v, dob, dors, lse, dsum, qscale, bh0, H, Nq, Nk, D, 9 strides, scale
		"nori_attention_bwd_kv_d64":   strings.Repeat("u", 31) + "f",
		"nori_attention_bwd_kv_d128":  strings.Repeat("u", 31) + "f",
		"nori_attention_combine":      "uuuuuuuu",   // out32, out16, lse, opart, lpart, rows, D, nsplit
		"nori_attention_pack_bf16":    "uuuuuuuuuu", // dst, src, H, N, D, Dp, sb, sh, sr, rows
		"nori_attention_bwd_pre_f32":  "uuuuuuu",    // dob, dsum, dout, out, rows, D, Dp
		"nori_attention_bwd_pre_bf16": "uuuuu",      // dsum, dout, out, rows, D
	},
	"attention_short": {
		// out, lse, q, k, v, qscale, BH, H, Nq, Nk, D, 9 strides, scale, G, QC
		"nori_attention_short_fwd": strings.Repeat("u", 20) + "f" + "uu",
		// dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse, BH, H, Nq, Nk, D, 9 strides, scale, G, QC
		"nori_attention_short_bwd": strings.Repeat("u", 25) + "f" + "uu",
	},
}

// TestAttentionKernelParams checks the embedded PTX of the attention kernels
// against the argument lists of their launchers, and that every entry of the
// two modules is listed (a new kernel gets its row here).
func TestAttentionKernelParams(t *testing.T) {
	for module, kernels := range attnKernelParams {
		ptx, err := PTX(module)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range kernels {
			got, ok := ptxParamKinds(ptx, name)
			if !ok {
				t.Errorf("%s: no entry %s in the embedded PTX (have %v)", module, name, Entries(ptx))
				continue
			}
			if got != want {
				t.Errorf("%s.%s: PTX parameters %q, the launcher passes %q", module, name, got, want)
			}
		}
		for _, e := range Entries(ptx) {
			if _, ok := kernels[e]; !ok {
				t.Errorf("%s: entry %s has no row in attnKernelParams", module, e)
			}
		}
	}
}
