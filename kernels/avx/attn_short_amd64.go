//go:build amd64 && !noasm

package avx

// Assembly kernels of the short-sequence path (attn_short_amd64.s);
// contracts in attn_short_generic.go.

//go:noescape
func attnGemm256(c *float32, cs int, a *float32, ai, aj int, b *float32, bs, m, n, k, accum int)

//go:noescape
func attnSoftmaxT256(st *float32, stride, nk, w int, vec *float32)

//go:noescape
func attnGradT256(st, dp, sds *float32, stride, nk, w int, vec *float32)

//go:noescape
func attnTransp256(dst *float32, w int, src *float32, stride, n8, d int)

// attnShortKernelsFor returns the short-path kernels of level l: the 8-lane
// AVX2 kernels serve the AVX-512 level too (see attn_short_amd64.s).
func attnShortKernelsFor(l Level) *attnShortKernels {
	if l >= AVX2 {
		return &attnShortAsm
	}
	return &attnShortGeneric
}

func attnB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

var attnShortAsm = attnShortKernels{
	gemm: func(c []float32, cs int, a []float32, ai, aj int, b []float32, bs, m, n, k int, accum bool) {
		if m == 0 || n == 0 {
			return
		}
		attnGemm256(&c[0], cs, attnAt(a, 0), ai, aj, attnAt(b, 0), bs, m, n, k, attnB2I(accum))
	},
	softmax: func(st []float32, stride, nk, w int, vec []float32) {
		attnSoftmaxT256(&st[0], stride, nk, w, &vec[0])
	},
	grad: func(st, dp, sds []float32, stride, nk, w int, vec []float32) {
		attnGradT256(&st[0], &dp[0], &sds[0], stride, nk, w, &vec[0])
	},
	pack: func(dst, src []float32, stride, n, d, w int) {
		n8 := n &^ 7
		if n8 > 0 {
			attnTransp256(&dst[0], w, &src[0], stride, n8, d)
		}
		attnPackTWRows(dst, src, stride, n8, n, d, w)
	},
}
