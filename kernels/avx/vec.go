package avx

import "math"

// The vector kernels (exp family, softmax, norms, SwiGLU, AdamW, pinball,
// copy) dispatch through vecTab, one table of functions per Level, chosen by
// Current() at each call. vecTab[Generic] holds the pure-Go code; the
// amd64 assembly fills the AVX2 and AVX512 rows (vec_amd64.go); without
// assembly they repeat the Generic row (vec_other.go).
type vecKernels struct {
	exp, sigmoid, silu, geluTanh, geluErf func(dst, x []float32)
	siluGrad, geluTanhGrad, geluErfGrad   func(dx, x, dy []float32)
	swiglu                                func(dst, gate, up []float32)
	swigluGrad                            func(dgate, dup, dy, gate, up []float32)

	// Row kernels. Those marked bulk take lengths that are multiples of 16
	// (the Go callers finish the tail with the *Go function's arithmetic);
	// the others take any length.
	rowMax            func(x []float32) float32                        // bulk
	expSubSum         func(acc *vecLanes, dst, x []float32, m float32) // dst may be nil
	sub2F64           func(dst, x []float32, a, b float64)             // bulk
	dot               func(acc *vecLanes, a, b []float32)              // bulk
	sum               func(acc *vecLanes, x []float32)                 // bulk
	softmaxGradOut    func(dx, y, dy []float32, s float64)             // bulk
	logSoftmaxGradOut func(dx, y, dy []float32, s float64)
	sumSqDiff         func(acc *vecLanes, x []float32, mu float64)                    // bulk
	normOut           func(dst, x, gamma, beta []float32, mu, rs float64)             // bulk
	gradSums          func(sg, sgx *vecLanes, dy, x, gamma []float32, mu, rs float64) // bulk
	normGradOut       func(dx, dy, x, gamma []float32, mu, rs, mg, mgx float64)       // bulk
	accumDG           func(dg []float64, dy, x []float32, mu, rs float64)             // bulk
	accumDB           func(db []float64, dy []float32)                                // bulk
	adamw             func(p, grad, m, v []float32, k *adamK)                         // bulk
	copy              func(dst, src []float32)                                        // multiple of 64
	pinballSum        func(acc *vecLanes, pred, taus []float32, y float64)            // bulk
	pinballGrad       func(dpred, pred, taus []float32, y, scale float64)             // bulk

	// Multi-row kernels: whole rows of n per call (norm_rows.go).
	// rowsAnyN tells whether they take any n (else n must be a multiple
	// of 16 and the Go driver runs the other widths row by row).
	rmsRows  func(dst, rstd, x, gamma []float32, n int, nf, eps float64)
	rowsAnyN bool
	// rmsGradRows: RMSNorm backward over whole rows of n, n a multiple of
	// 16, dg of length 0 (no dgamma) or n (nil: row by row).
	rmsGradRows func(dx []float32, dg []float64, dy, x, rstd, gamma []float32, n int, nf float64)
	// softmaxRows: whole rows of n, n a multiple of 16 (nil: row by row).
	softmaxRows func(dst, x []float32, n int)
}

var vecTab = [3]vecKernels{Generic: {
	exp: expGo, sigmoid: sigmoidGo, silu: siluGo, geluTanh: geluTanhGo, geluErf: geluErfGo,
	siluGrad: siluGradGo, geluTanhGrad: geluTanhGradGo, geluErfGrad: geluErfGradGo,
	swiglu: swigluGo, swigluGrad: swigluGradGo,
	rowMax: rowMaxGo, expSubSum: expSubSumGo, sub2F64: sub2F64Go, dot: dotF64Go,
	sum: sumF64Go, softmaxGradOut: softmaxGradOutGo, logSoftmaxGradOut: logSoftmaxGradOutGo,
	sumSqDiff: sumSqDiffGo, normOut: normOutGo, gradSums: gradSumsGo, normGradOut: normGradOutGo,
	accumDG: accumDGGo, accumDB: accumDBGo, adamw: adamWGo, copy: copyGo,
	pinballSum: pinballSumGo, pinballGrad: pinballGradGo,
	rmsRows: rmsRowsGo, rowsAnyN: true,
}}

// vmask8 is the sliding window of AVX2 tail masks (TAILMASK_Y).
var vmask8 = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// vk returns the kernel table of the current level.
func vk() *vecKernels { return &vecTab[Current()] }

// vconst holds the constants of the assembly kernels, each replicated 8
// times (one 256-bit vector, so AVX2 code uses it as a memory operand and
// AVX-512 code broadcasts its first element). The indices are the v*
// constants below; vec_amd64.h defines the matching byte offsets (index*32).
var vconst [vcCount][8]uint32

const (
	vcLog2E = iota
	vcLn2Hi
	vcLn2Lo
	vcC7
	vcC6
	vcC5
	vcC4
	vcC3
	vcC2
	vcOne
	vcLo
	vcHi
	vcSign
	vcAbs
	vcC128
	vcNegInf
	vcBias
	vcGelu2C
	vcGelu2CK
	vcGelu6CK
	vcInvSq2
	vcInvS2P
	vcErf0  // erfcPoly[0..9]
	vcErf9  = vcErf0 + 9
	vcCount = vcErf9 + 1
)

func init() {
	f := map[int]float32{
		vcLog2E: expLog2E, vcLn2Hi: expLn2Hi, vcLn2Lo: expLn2Lo, vcC7: expC7, vcC6: expC6,
		vcC5: expC5, vcC4: expC4, vcC3: expC3, vcC2: expC2, vcOne: 1, vcC128: 128, vcLo: expLo, vcHi: expHi,
		vcGelu2C: gelu2C, vcGelu2CK: gelu2CK, vcGelu6CK: gelu6CK, vcInvSq2: geluInvSq2, vcInvS2P: geluInvS2P,
	}
	for i, c := range erfcPoly {
		f[vcErf0+i] = c
	}
	for i, v := range f {
		vcSet(i, math.Float32bits(v))
	}
	vcSet(vcSign, 0x80000000)
	vcSet(vcAbs, 0x7fffffff)
	vcSet(vcNegInf, 0xff800000)
	vcSet(vcBias, 127)
}

func vcSet(i int, bits uint32) {
	for j := range vconst[i] {
		vconst[i][j] = bits
	}
}
