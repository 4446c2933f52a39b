package avx

import "math"

// Multi-row softmax kernels: whole rows of n per call (any n >= 1), so that
// a block of rows costs one call and the assembly can interleave several
// rows' independent dependency chains (each row's maximum, sum and 1/sum are
// serial reductions that would otherwise leave the vector units idle). The
// arithmetic is softmaxRowsGo's (softmax_exp.go), so every level gives the
// same bits. One table per level (nil entries: the Go rows).
type softmaxRowKernels struct {
	// rows: softmax over len(x)/n rows of n; dst may alias x exactly.
	rows func(dst, x []float32, n int)
}

var smTab [3]softmaxRowKernels

// smk returns the multi-row softmax kernels of the current level.
func smk() *softmaxRowKernels { return &smTab[Current()] }

// smConst holds the softmax kernels' scalar constants (float32 bits unless
// stated); the assembly reads them at byte offset 4*index (the SM_*
// defines of softmax_rows_*_amd64.s, checked by TestSoftmaxConstOffsets).
var smConst [smCount]uint32

const (
	smiC6     = iota // minimax coefficients (softmax_exp.go)
	smiC5            //
	smiC4            //
	smiC3            //
	smiC2            //
	smiMagic         // M = 1.5*2^23
	smiLimit         // 2^21
	smiFlush         // 86
	smiInf           // +Inf
	smiNaN           // quiet NaN
	smiOne           // 1.0
	smiNegInf        // -Inf
	smiIdx4          // int32 0, 4, 8, 12: VPERMPS indices of the 4-row sums and maxima
	smCount   = smiIdx4 + 4
)

func init() {
	for i, v := range map[int]float32{smiC6: smC6, smiC5: smC5, smiC4: smC4, smiC3: smC3, smiC2: smC2,
		smiMagic: smMagic, smiLimit: smLimit, smiFlush: smFlush, smiOne: 1} {
		smConst[i] = math.Float32bits(v)
	}
	smConst[smiInf] = 0x7f800000
	smConst[smiNegInf] = 0xff800000
	smConst[smiNaN] = 0x7fc00000
	for i := range 4 {
		smConst[smiIdx4+i] = uint32(4 * i)
	}
}
