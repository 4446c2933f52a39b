//go:build amd64 && !noasm

package avx

//go:noescape
func layerNormRowsAVX512(dst, mean, rstd, x []float32, gb []float64, n int, nf, eps float64)

func init() {
	lnTab[AVX512] = layerNormKernels{fwd: layerNormRowsAVX512}
}
