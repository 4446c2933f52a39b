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

//go:noescape
func swigluAVX512(dst, gate, up []float32)

//go:noescape
func swigluGradAVX512(dgate, dup, dy, gate, up []float32)

//go:noescape
func rowMaxAVX512(x []float32) float32

//go:noescape
func expSubSumAVX512(acc *vecLanes, dst, x []float32, m float32)

//go:noescape
func sub2F64AVX512(dst, x []float32, a, b float64)

//go:noescape
func dotAVX512(acc *vecLanes, a, b []float32)

//go:noescape
func sumAVX512(acc *vecLanes, x []float32)

//go:noescape
func softmaxGradOutAVX512(dx, y, dy []float32, s float64)

//go:noescape
func logSoftmaxGradOutAVX512(dx, y, dy []float32, s float64)

//go:noescape
func sumSqDiffAVX512(acc *vecLanes, x []float32, mu float64)

//go:noescape
func normOutAVX512(dst, x, gamma, beta []float32, mu, rs float64)

//go:noescape
func gradSumsAVX512(sg, sgx *vecLanes, dy, x, gamma []float32, mu, rs float64)

//go:noescape
func normGradOutAVX512(dx, dy, x, gamma []float32, mu, rs, mg, mgx float64)

//go:noescape
func accumDGAVX512(dg []float64, dy, x []float32, mu, rs float64)

//go:noescape
func accumDBAVX512(db []float64, dy []float32)

//go:noescape
func swigluAVX2(dst, gate, up []float32)

//go:noescape
func swigluGradAVX2(dgate, dup, dy, gate, up []float32)

//go:noescape
func rowMaxAVX2(x []float32) float32

//go:noescape
func expSubSumAVX2(acc *vecLanes, dst, x []float32, m float32)

//go:noescape
func sub2F64AVX2(dst, x []float32, a, b float64)

//go:noescape
func dotAVX2(acc *vecLanes, a, b []float32)

//go:noescape
func sumAVX2(acc *vecLanes, x []float32)

//go:noescape
func softmaxGradOutAVX2(dx, y, dy []float32, s float64)

//go:noescape
func logSoftmaxGradOutAVX2(dx, y, dy []float32, s float64)

//go:noescape
func sumSqDiffAVX2(acc *vecLanes, x []float32, mu float64)

//go:noescape
func normOutAVX2(dst, x, gamma, beta []float32, mu, rs float64)

//go:noescape
func gradSumsAVX2(sg, sgx *vecLanes, dy, x, gamma []float32, mu, rs float64)

//go:noescape
func normGradOutAVX2(dx, dy, x, gamma []float32, mu, rs, mg, mgx float64)

//go:noescape
func accumDGAVX2(dg []float64, dy, x []float32, mu, rs float64)

//go:noescape
func accumDBAVX2(db []float64, dy []float32)

//go:noescape
func adamwAVX512(p, grad, m, v []float32, k *adamK)

//go:noescape
func adamwAVX2(p, grad, m, v []float32, k *adamK)

//go:noescape
func copyAVX512(dst, src []float32)

//go:noescape
func copyAVX2(dst, src []float32)

//go:noescape
func pinballSumAVX512(acc *vecLanes, pred, taus []float32, y float64)

//go:noescape
func pinballGradAVX512(dpred, pred, taus []float32, y, scale float64)

//go:noescape
func pinballSumAVX2(acc *vecLanes, pred, taus []float32, y float64)

//go:noescape
func pinballGradAVX2(dpred, pred, taus []float32, y, scale float64)

//go:noescape
func rmsNormRowsAVX512(dst, rstd, x, gamma []float32, n int, nf, eps float64)

//go:noescape
func rmsNormRowsAVX2(dst, rstd, x, gamma []float32, n int, nf, eps float64)

//go:noescape
func rmsNormGradRowsAVX512(dx []float32, dg []float64, dy, x, rstd, gamma []float32, n int, nf float64)

//go:noescape
func rmsNormGradRowsAVX2(dx []float32, dg []float64, dy, x, rstd, gamma []float32, n int, nf float64)

//go:noescape
func softmaxRowsAVX512(dst, x []float32, n int)

func init() {
	vecTab[AVX512] = vecKernels{
		exp: expAVX512, sigmoid: sigmoidAVX512, silu: siluAVX512, geluTanh: geluTanhAVX512, geluErf: geluErfAVX512,
		siluGrad: siluGradAVX512, geluTanhGrad: geluTanhGradAVX512, geluErfGrad: geluErfGradAVX512,
		swiglu: swigluAVX512, swigluGrad: swigluGradAVX512, rowMax: rowMaxAVX512, expSubSum: expSubSumAVX512, sub2F64: sub2F64AVX512, dot: dotAVX512, sum: sumAVX512, softmaxGradOut: softmaxGradOutAVX512, logSoftmaxGradOut: logSoftmaxGradOutAVX512, sumSqDiff: sumSqDiffAVX512, normOut: normOutAVX512, gradSums: gradSumsAVX512, normGradOut: normGradOutAVX512, accumDG: accumDGAVX512, accumDB: accumDBAVX512, adamw: adamwAVX512, copy: copyAVX512,
		pinballSum: pinballSumAVX512, pinballGrad: pinballGradAVX512,
		rmsRows: rmsNormRowsAVX512, rowsAnyN: true, rmsGradRows: rmsNormGradRowsAVX512, softmaxRows: softmaxRowsAVX512,
	}
	vecTab[AVX2] = vecKernels{
		exp: expAVX2, sigmoid: sigmoidAVX2, silu: siluAVX2, geluTanh: geluTanhAVX2, geluErf: geluErfAVX2,
		siluGrad: siluGradAVX2, geluTanhGrad: geluTanhGradAVX2, geluErfGrad: geluErfGradAVX2,
		swiglu: swigluAVX2, swigluGrad: swigluGradAVX2, rowMax: rowMaxAVX2, expSubSum: expSubSumAVX2, sub2F64: sub2F64AVX2, dot: dotAVX2, sum: sumAVX2, softmaxGradOut: softmaxGradOutAVX2, logSoftmaxGradOut: logSoftmaxGradOutAVX2, sumSqDiff: sumSqDiffAVX2, normOut: normOutAVX2, gradSums: gradSumsAVX2, normGradOut: normGradOutAVX2, accumDG: accumDGAVX2, accumDB: accumDBAVX2, adamw: adamwAVX2, copy: copyAVX2,
		pinballSum: pinballSumAVX2, pinballGrad: pinballGradAVX2,
		rmsRows: rmsNormRowsAVX2, rmsGradRows: rmsNormGradRowsAVX2,
	}
}
