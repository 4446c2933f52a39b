//go:build amd64 && !noasm

package avx

// Assembly tile kernels (attn_amd64.s); contracts in attn_generic.go. The
// AVX-512 products cover the 32 lanes of a block at once (two zmm per key or
// column, 8 keys or columns per register block, 16 accumulators); the AVX2
// ones cover 16 lanes (two ymm, 4 keys or columns, 8 accumulators) and are
// called for each half of the block that holds real rows. The elementwise
// kernels take 16 (AVX-512) or 8 (AVX2) lanes per call.

//go:noescape
func attnQK512(dst, qt, k *float32, ks, nt, d int)

//go:noescape
func attnQK256(dst, qt, k *float32, ks, nt, d int)

//go:noescape
func attnPV512(acc, p, v *float32, vs, nt, d int)

//go:noescape
func attnPV256(acc, p, v *float32, vs, nt, d int)

//go:noescape
func attnPTV512(acc, w, x *float32, nb, nt4, dp int)

//go:noescape
func attnPTV256(acc, w, x *float32, nb, nt4, dp int)

//go:noescape
func attnSoftmax512(st *float32, nt int, vec, acc *float32, d int)

//go:noescape
func attnSoftmax256(st *float32, nt int, vec, acc *float32, d int)

//go:noescape
func attnGrad512(st, dp, sds *float32, nt int, vec *float32)

//go:noescape
func attnGrad256(st, dp, sds *float32, nt int, vec *float32)

// attnKernelsFor returns the kernels of level l.
func attnKernelsFor(l Level) *attnKernels {
	switch l {
	case AVX512:
		return &attnAVX512
	case AVX2:
		return &attnAVX2
	}
	return &attnGeneric
}

var attnAVX512 = attnKernels{
	qk: func(dst, qt, k []float32, ks, nt, d, nb int) {
		attnQK512(attnAt(dst, 0), attnAt(qt, 0), attnAt(k, 0), ks, nt, d)
	},
	pv: func(acc, p, v []float32, vs, nt, d, nb int) {
		attnPV512(attnAt(acc, 0), attnAt(p, 0), attnAt(v, 0), vs, nt, d)
	},
	ptv: func(acc, w, x []float32, nb, nt4, dp int) {
		attnPTV512(attnAt(acc, 0), attnAt(w, 0), attnAt(x, 0), nb, nt4, dp)
	},
	softmax: func(st []float32, nt int, vec, acc []float32, d, nb int) {
		for g := 0; g < nb; g += 16 {
			attnSoftmax512(attnAt(st, g), nt, attnAt(vec, g), attnAt(acc, g), d)
		}
	},
	grad: func(st, dp, sds []float32, nt int, vec []float32, nb int) {
		for g := 0; g < nb; g += 16 {
			attnGrad512(attnAt(st, g), attnAt(dp, g), attnAt(sds, g), nt, attnAt(vec, g))
		}
	},
}

var attnAVX2 = attnKernels{
	qk: func(dst, qt, k []float32, ks, nt, d, nb int) {
		for g := 0; g < nb; g += 16 {
			attnQK256(attnAt(dst, g), attnAt(qt, g), attnAt(k, 0), ks, nt, d)
		}
	},
	pv: func(acc, p, v []float32, vs, nt, d, nb int) {
		for g := 0; g < nb; g += 16 {
			attnPV256(attnAt(acc, g), attnAt(p, g), attnAt(v, 0), vs, nt, d)
		}
	},
	ptv: func(acc, w, x []float32, nb, nt4, dp int) {
		attnPTV256(attnAt(acc, 0), attnAt(w, 0), attnAt(x, 0), nb, nt4, dp)
	},
	softmax: func(st []float32, nt int, vec, acc []float32, d, nb int) {
		for g := 0; g < nb; g += 8 {
			attnSoftmax256(attnAt(st, g), nt, attnAt(vec, g), attnAt(acc, g), d)
		}
	},
	grad: func(st, dp, sds []float32, nt int, vec []float32, nb int) {
		for g := 0; g < nb; g += 8 {
			attnGrad256(attnAt(st, g), attnAt(dp, g), attnAt(sds, g), nt, attnAt(vec, g))
		}
	},
}
