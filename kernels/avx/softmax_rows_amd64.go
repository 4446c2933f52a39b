//go:build amd64 && !noasm

package avx

// softmaxRowsAVX512 is declared in vec_amd64.go.

//go:noescape
func softmaxRowsAVX2(dst, x []float32, n int)

func init() {
	smTab[AVX512] = softmaxRowKernels{rows: softmaxRowsAVX512}
	smTab[AVX2] = softmaxRowKernels{rows: softmaxRowsAVX2}
}
