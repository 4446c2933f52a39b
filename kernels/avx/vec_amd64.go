//go:build amd64 && !noasm

package avx

// Assembly kernels (exp_avx512_amd64.s, exp_avx2_amd64.s, ...). Each takes
// slices of equal length (checked by the exported wrappers).

//go:noescape
func expAVX512(dst, x []float32)

//go:noescape
func sigmoidAVX512(dst, x []float32)

//go:noescape
func siluAVX512(dst, x []float32)

//go:noescape
func geluTanhAVX512(dst, x []float32)

//go:noescape
func geluErfAVX512(dst, x []float32)

//go:noescape
func siluGradAVX512(dx, x, dy []float32)

//go:noescape
func geluTanhGradAVX512(dx, x, dy []float32)

//go:noescape
func geluErfGradAVX512(dx, x, dy []float32)

//go:noescape
func expAVX2(dst, x []float32)

//go:noescape
func sigmoidAVX2(dst, x []float32)

//go:noescape
func siluAVX2(dst, x []float32)

//go:noescape
func geluTanhAVX2(dst, x []float32)

//go:noescape
func geluErfAVX2(dst, x []float32)

//go:noescape
func siluGradAVX2(dx, x, dy []float32)

//go:noescape
func geluTanhGradAVX2(dx, x, dy []float32)

//go:noescape
func geluErfGradAVX2(dx, x, dy []float32)

func init() {
	vecTab[AVX512] = vecKernels{
		exp: expAVX512, sigmoid: sigmoidAVX512, silu: siluAVX512, geluTanh: geluTanhAVX512, geluErf: geluErfAVX512,
		siluGrad: siluGradAVX512, geluTanhGrad: geluTanhGradAVX512, geluErfGrad: geluErfGradAVX512,
	}
	vecTab[AVX2] = vecKernels{
		exp: expAVX2, sigmoid: sigmoidAVX2, silu: siluAVX2, geluTanh: geluTanhAVX2, geluErf: geluErfAVX2,
		siluGrad: siluGradAVX2, geluTanhGrad: geluTanhGradAVX2, geluErfGrad: geluErfGradAVX2,
	}
}
