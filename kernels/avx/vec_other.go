//go:build !amd64 || noasm

package avx

// Without assembly every level runs the pure-Go kernels (Current() is
// always Generic there; the copies only keep the table total).
func init() {
	vecTab[AVX2] = vecTab[Generic]
	vecTab[AVX512] = vecTab[Generic]
}
