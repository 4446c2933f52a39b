package tensor

import (
	"sync"

	"github.com/nori-ml/nori/kernels/avx"
)

// Float32 attention on the SIMD kernels of kernels/avx. The work is split as
// for the ref kernels (cpu_attention.go): forward items are (b, h, block of
// attnBlock query rows); the backward runs fused (one task per head) when
// attnGradFused says so, else in two passes: the query side of every head is
// packed (items over query blocks), then dq and dqscale over query blocks,
// then dk and dv over key blocks. attnBlock is a multiple of
// avx.AttnBlockRows, every output row is computed by one item, and the avx
// kernels give the same bits for any split and for fused versus two-pass, so
// results are bit-identical for any worker count.

// attnAVXScratch recycles the kernels' scratch (and the backward's packed
// query side) across calls.
var attnAVXScratch, attnAVXPrep sync.Pool

func attnGetAVXScratch() *avx.AttnScratch {
	if s, ok := attnAVXScratch.Get().(*avx.AttnScratch); ok {
		return s
	}
	return new(avx.AttnScratch)
}

// attnItemsAVX is attnItems with an avx scratch per task.
func attnItemsAVX(bs, hs, n, flopsPerRow int, fn func(b, h, lo, hi int, ws *avx.AttnScratch)) {
	blocks := (n + attnBlock - 1) / attnBlock
	if blocks == 0 {
		return
	}
	perItem := max(1, min(n, attnBlock)*flopsPerRow)
	Parallel(bs*hs*blocks, max(1, attnMinWork/perItem), func(lo, hi int) {
		ws := attnGetAVXScratch()
		defer attnAVXScratch.Put(ws)
		for it := lo; it < hi; it++ {
			blk, bh := it%blocks, it/blocks
			r0 := blk * attnBlock
			fn(bh/hs, bh%hs, r0, min(r0+attnBlock, n), ws)
		}
	})
}

func attentionAVX(out, lse, q, k, v, qscale *Tensor, scale float64) {
	bs, hs, nq, d := q.shape[0], q.shape[1], q.shape[2], q.shape[3]
	nk := k.shape[2]
	o, l := cpuData[float32](out), cpuData[float32](lse)
	attnItemsAVX(bs, hs, nq, 4*nk*d+nk, func(b, h, lo, hi int, ws *avx.AttnScratch) {
		head := (b*hs + h) * nq
		avx.AttentionForward(o[head*d:][:nq*d], l[head:][:nq], attnHead[float32](q, k, v, qscale, scale, b, h), lo, hi, ws)
	})
}

func attentionGradAVX(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse *Tensor, scale float64) {
	bs, hs, nq, d := q.shape[0], q.shape[1], q.shape[2], q.shape[3]
	nk := k.shape[2]
	gq, gk, gv := cpuData[float32](dq), cpuData[float32](dk), cpuData[float32](dv)
	g, o, l := cpuData[float32](dout), cpuData[float32](out), cpuData[float32](lse)
	var gs []float32
	if dqscale != nil {
		gs = cpuData[float32](dqscale)
	}
	// The per-head slices of dq, dqscale (i: query rows), dk, dv (j: keys)
	// and the saved tensors.
	qrows := func(x []float32, b, h, w int) []float32 { return x[(b*hs+h)*nq*w:][:nq*w] }
	krows := func(x []float32, b, h int) []float32 { return x[(b*hs+h)*nk*d:][:nk*d] }
	dqs := func(b, h int) []float32 {
		if gs == nil {
			return nil
		}
		return qrows(gs, b, h, 1)
	}
	heads := bs * hs
	if attnGradFused(heads, Workers()) {
		perHead := 10 * nq * nk * d
		Parallel(heads, max(1, attnMinWork/max(1, perHead)), func(lo, hi int) {
			ws := attnGetAVXScratch()
			defer attnAVXScratch.Put(ws)
			for bh := lo; bh < hi; bh++ {
				b, h := bh/hs, bh%hs
				avx.AttentionBackward(qrows(gq, b, h, d), krows(gk, b, h), krows(gv, b, h), dqs(b, h),
					qrows(g, b, h, d), qrows(o, b, h, d), qrows(l, b, h, 1), attnHead[float32](q, k, v, qscale, scale, b, h), ws)
			}
		})
		return
	}
	prep, ok := attnAVXPrep.Get().(*avx.AttnGradPrep)
	if !ok {
		prep = new(avx.AttnGradPrep)
	}
	defer attnAVXPrep.Put(prep)
	prep.Reset(heads, nq, d)
	attnItemsAVX(bs, hs, nq, 4*d, func(b, h, lo, hi int, _ *avx.AttnScratch) {
		prep.Prepare(b*hs+h, qrows(g, b, h, d), qrows(o, b, h, d), qrows(l, b, h, 1), attnHead[float32](q, k, v, qscale, scale, b, h), lo, hi)
	})
	attnItemsAVX(bs, hs, nq, 6*nk*d+nk, func(b, h, lo, hi int, ws *avx.AttnScratch) {
		avx.AttentionBackwardQ(qrows(gq, b, h, d), dqs(b, h), prep, b*hs+h, attnHead[float32](q, k, v, qscale, scale, b, h), lo, hi, ws)
	})
	attnItemsAVX(bs, hs, nk, 8*nq*d+nq, func(b, h, lo, hi int, ws *avx.AttnScratch) {
		avx.AttentionBackwardKV(krows(gk, b, h), krows(gv, b, h), prep, b*hs+h, attnHead[float32](q, k, v, qscale, scale, b, h), lo, hi, ws)
	})
}
