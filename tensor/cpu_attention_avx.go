package tensor

import (
	"sync"
	"sync/atomic"

	"github.com/nori-ml/nori/kernels/avx"
)

// Float32 attention on the SIMD kernels of kernels/avx.
//
// Short heads (avx.AttnShort: at most avx.AttnShortMax queries and keys, D a
// multiple of 8; feature attention's thousands of sequences of 3 to 100
// tokens) run whole: a task is a range of heads, each head one
// AttentionShortForward or AttentionShortBackward call with the task's
// scratch.
//
// Other heads are split as for the ref kernels (cpu_attention.go): forward
// items are (b, h, block of attnBlock query rows); the backward runs fused
// (one task per head) when attnGradFused says so, else in two passes: the
// query side of every head is packed (items over query blocks), then dq and
// dqscale over query blocks, then dk and dv over key blocks. attnBlock is a
// multiple of avx.AttnBlockRows, every output row is computed by one item,
// and the avx kernels give the same bits for any split and for fused versus
// two-pass, so results are bit-identical for any worker count.
//
// Which path runs depends only on the shapes (and SetAttentionShortPath),
// never on the worker count.

// attnShortOn enables the short path (SetAttentionShortPath).
var attnShortOn atomic.Bool

func init() { attnShortOn.Store(true) }

// SetAttentionShortPath turns the float32 short-head attention path on or off
// (on by default) and returns the previous setting; with it off, short heads
// run on the tiled kernels. For benchmarks and tests that compare the two.
func SetAttentionShortPath(on bool) bool { return attnShortOn.Swap(on) }

// attnAVXScratch and attnAVXPrep recycle the kernels' scratch and the
// backward's packed query side across calls, one pool per size class
// (attnSizeClass of the floats needed): a pooled scratch is grown to its
// class's size once and never reallocates afterwards.
var attnAVXScratch, attnAVXPrep [64]sync.Pool

// attnGetAVXScratch returns a scratch of at least n floats.
func attnGetAVXScratch(n int) (*avx.AttnScratch, int) {
	c := attnSizeClass(n)
	if s, ok := attnAVXScratch[c].Get().(*avx.AttnScratch); ok {
		return s, c
	}
	s := new(avx.AttnScratch)
	s.Grow(1 << c)
	return s, c
}

// attnItemsAVX is attnItems with an avx scratch of n floats per task.
func attnItemsAVX(bs, hs, n, flopsPerRow, scratch int, fn func(b, h, lo, hi int, ws *avx.AttnScratch)) {
	blocks := (n + attnBlock - 1) / attnBlock
	if blocks == 0 {
		return
	}
	perItem := max(1, min(n, attnBlock)*flopsPerRow)
	Parallel(bs*hs*blocks, max(1, attnMinWork/perItem), func(lo, hi int) {
		ws, c := attnGetAVXScratch(scratch)
		defer attnAVXScratch[c].Put(ws)
		for it := lo; it < hi; it++ {
			blk, bh := it%blocks, it/blocks
			r0 := blk * attnBlock
			fn(bh/hs, bh%hs, r0, min(r0+attnBlock, n), ws)
		}
	})
}

// attnHeadsAVX calls fn(b, h, ws) for every head, in parallel over ranges of
// heads of perHead flops each, with a scratch of n floats per task.
func attnHeadsAVX(bs, hs, perHead, scratch int, fn func(b, h int, ws *avx.AttnScratch)) {
	Parallel(bs*hs, max(1, attnMinWork/max(1, perHead)), func(lo, hi int) {
		ws, c := attnGetAVXScratch(scratch)
		defer attnAVXScratch[c].Put(ws)
		for bh := lo; bh < hi; bh++ {
			fn(bh/hs, bh%hs, ws)
		}
	})
}

func attentionAVX(out, lse, q, k, v, qscale *Tensor, scale float64) {
	bs, hs, nq, d := q.shape[0], q.shape[1], q.shape[2], q.shape[3]
	nk := k.shape[2]
	o, l := cpuData[float32](out), cpuData[float32](lse)
	if attnShortOn.Load() && avx.AttnShort(nq, nk, d) {
		attnHeadsAVX(bs, hs, 4*nq*nk*d, avx.AttentionShortScratchFloats(nq, nk, d, true), func(b, h int, ws *avx.AttnScratch) {
			head := (b*hs + h) * nq
			avx.AttentionShortForward(o[head*d:][:nq*d], l[head:][:nq], attnHead[float32](q, k, v, qscale, scale, b, h), ws)
		})
		return
	}
	attnItemsAVX(bs, hs, nq, 4*nk*d+nk, avx.AttentionForwardScratchBytes(d)/4, func(b, h, lo, hi int, ws *avx.AttnScratch) {
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
	if attnShortOn.Load() && avx.AttnShort(nq, nk, d) {
		attnHeadsAVX(bs, hs, 10*nq*nk*d, avx.AttentionShortScratchFloats(nq, nk, d, false), func(b, h int, ws *avx.AttnScratch) {
			avx.AttentionShortBackward(qrows(gq, b, h, d), krows(gk, b, h), krows(gv, b, h), dqs(b, h),
				qrows(g, b, h, d), qrows(o, b, h, d), qrows(l, b, h, 1), attnHead[float32](q, k, v, qscale, scale, b, h), ws)
		})
		return
	}
	heads := bs * hs
	if attnGradFused(heads, Workers()) {
		attnHeadsAVX(bs, hs, 10*nq*nk*d, avx.AttentionBackwardScratchBytes(nq, nk, d)/4, func(b, h int, ws *avx.AttnScratch) {
			avx.AttentionBackward(qrows(gq, b, h, d), krows(gk, b, h), krows(gv, b, h), dqs(b, h),
				qrows(g, b, h, d), qrows(o, b, h, d), qrows(l, b, h, 1), attnHead[float32](q, k, v, qscale, scale, b, h), ws)
		})
		return
	}
	pc := attnSizeClass(avx.AttnGradPrepFloats(heads, nq, d))
	prep, ok := attnAVXPrep[pc].Get().(*avx.AttnGradPrep)
	if !ok {
		prep = new(avx.AttnGradPrep)
		prep.Grow(1 << pc)
	}
	defer attnAVXPrep[pc].Put(prep)
	prep.Reset(heads, nq, d)
	// The two passes' scratch: the tiles plus dq's accumulator, or dk and
	// dv accumulators for attnBlock keys (no packed query side).
	scratch := avx.AttentionBackwardScratchBytes(0, attnBlock, d) / 4
	attnItemsAVX(bs, hs, nq, 4*d, 0, func(b, h, lo, hi int, _ *avx.AttnScratch) {
		prep.Prepare(b*hs+h, qrows(g, b, h, d), qrows(o, b, h, d), qrows(l, b, h, 1), attnHead[float32](q, k, v, qscale, scale, b, h), lo, hi)
	})
	attnItemsAVX(bs, hs, nq, 6*nk*d+nk, scratch, func(b, h, lo, hi int, ws *avx.AttnScratch) {
		avx.AttentionBackwardQ(qrows(gq, b, h, d), dqs(b, h), prep, b*hs+h, attnHead[float32](q, k, v, qscale, scale, b, h), lo, hi, ws)
	})
	attnItemsAVX(bs, hs, nk, 8*nq*d+nq, scratch, func(b, h, lo, hi int, ws *avx.AttnScratch) {
		avx.AttentionBackwardKV(krows(gk, b, h), krows(gv, b, h), prep, b*hs+h, attnHead[float32](q, k, v, qscale, scale, b, h), lo, hi, ws)
	})
}
