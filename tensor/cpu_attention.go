package tensor

import (
	"math/bits"
	"sync"

	"github.com/nori-ml/nori/kernels/avx"
	"github.com/nori-ml/nori/kernels/ref"
)

// CPU attention: float32 runs the fused SIMD kernels of kernels/avx when the
// CPU has AVX2+FMA or AVX-512 (avx.Current() != avx.Generic; see
// cpu_attention_avx.go), float64 and the generic level the flash kernels of
// kernels/ref, split over the worker pool.
// The forward and the backward's dq pass split every head into blocks of
// attnBlock query rows, the dk/dv pass into blocks of attnBlock keys; a task is
// one (b, h, block) item (the fused backward: one head). Every output row
// belongs to exactly one item and the ref kernels' arithmetic for a row does
// not depend on the block it is computed in (nor on fused versus two-pass), so
// results are bit-identical for any worker count.

// attnBlock is the number of query rows (or keys) per parallel item: a
// multiple of the ref kernels' blocks (so items do not cut them short), small
// enough to balance short heads over the cores.
const attnBlock = ref.AttnKeyTile

// attnMinWork is the least number of flops a Parallel task should carry,
// so tiny heads (few tokens) are grouped rather than dispatched one by one.
const attnMinWork = 1 << 18

// attnSizeClass returns the size class of a buffer of n elements: class c
// holds buffers of exactly 2^c elements, so a pooled buffer always fits the
// problem that takes it (a single pool handed small buffers to large problems,
// which then reallocated on every call).
func attnSizeClass(n int) int { return bits.Len(uint(max(n, 1) - 1)) }

// attnScratch recycles the ref kernels' float64 workspaces (a few hundred KiB
// per task) across calls, one pool per size class.
var attnScratch [64]sync.Pool

// attnGetScratch returns a workspace of at least n float64s (contents
// arbitrary: the kernels overwrite what they read); attnPutScratch recycles it.
func attnGetScratch(n int) *[]float64 {
	c := attnSizeClass(n)
	if p, ok := attnScratch[c].Get().(*[]float64); ok {
		return p
	}
	ws := make([]float64, 1<<c)
	return &ws
}

func attnPutScratch(p *[]float64) { attnScratch[attnSizeClass(len(*p))].Put(p) }

// attnGradFused reports whether the backward over heads heads runs fused
// (one task per head, 5 products each) rather than in two passes (7 products
// spread over blocks): when the fused makespan, ceil(heads/workers) heads,
// is no longer than the two-pass work spread evenly.
func attnGradFused(heads, workers int) bool {
	return 5*workers*((heads+workers-1)/workers) <= 7*heads
}

// attnHead returns head (b, h) of q, k, v (and qscale) as a ref.AttnHead.
func attnHead[T Float](q, k, v, qscale *Tensor, scale float64, b, h int) ref.AttnHead[T] {
	hd := ref.AttnHead[T]{
		Q:       cpuData[T](q)[b*q.strides[0]+h*q.strides[1]:],
		K:       cpuData[T](k)[b*k.strides[0]+h*k.strides[1]:],
		V:       cpuData[T](v)[b*v.strides[0]+h*v.strides[1]:],
		QStride: q.strides[2], KStride: k.strides[2], VStride: v.strides[2],
		Nq: q.shape[2], Nk: k.shape[2], D: q.shape[3],
		Scale: scale,
	}
	if qscale != nil {
		hd.QScale = cpuData[T](qscale)[(b*q.shape[1]+h)*hd.Nq:][:hd.Nq]
	}
	return hd
}

// attnItems calls fn(b, h, lo, hi, ws) for every block [lo, hi) of n rows of
// every head, in parallel; flopsPerRow sizes the tasks and ws is a scratch
// workspace for head dimension d, one per task.
func attnItems(bs, hs, n, d, flopsPerRow int, fn func(b, h, lo, hi int, ws []float64)) {
	blocks := (n + attnBlock - 1) / attnBlock
	if blocks == 0 {
		return
	}
	perItem := max(1, min(n, attnBlock)*flopsPerRow)
	Parallel(bs*hs*blocks, max(1, attnMinWork/perItem), func(lo, hi int) {
		ws := attnGetScratch(ref.AttentionWorkspace(d))
		defer attnPutScratch(ws)
		for it := lo; it < hi; it++ {
			blk, bh := it%blocks, it/blocks
			r0 := blk * attnBlock
			fn(bh/hs, bh%hs, r0, min(r0+attnBlock, n), *ws)
		}
	})
}

// Attention runs ref.AttentionForward over (b, h, query block) items.
func (cpuBackend) Attention(out, lse, q, k, v, qscale *Tensor, scale float64) {
	switch q.DType() {
	case Float32:
		if avx.Current() != avx.Generic {
			attentionAVX(out, lse, q, k, v, qscale, scale)
			return
		}
		attentionCPU[float32](out, lse, q, k, v, qscale, scale)
	case Float64:
		attentionCPU[float64](out, lse, q, k, v, qscale, scale)
	}
}

func attentionCPU[T Float](out, lse, q, k, v, qscale *Tensor, scale float64) {
	bs, hs, nq, d := q.shape[0], q.shape[1], q.shape[2], q.shape[3]
	nk := k.shape[2]
	o, l := cpuData[T](out), cpuData[T](lse)
	attnItems(bs, hs, nq, d, 4*nk*d+nk, func(b, h, lo, hi int, ws []float64) {
		head := (b*hs + h) * nq
		ref.AttentionForward(o[head*d:][:nq*d], l[head:][:nq], attnHead[T](q, k, v, qscale, scale, b, h), lo, hi, ws)
	})
}

// AttentionGrad runs the ref backward (see attentionGradCPU).
func (cpuBackend) AttentionGrad(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse *Tensor, scale float64) {
	switch q.DType() {
	case Float32:
		if avx.Current() != avx.Generic {
			attentionGradAVX(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse, scale)
			return
		}
		attentionGradCPU[float32](dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse, scale)
	case Float64:
		attentionGradCPU[float64](dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse, scale)
	}
}

// attentionGradCPU runs the ref backward in one of its two bit-identical
// forms: the fused pass (5 products per head) with one task per head, or the
// two passes (7 products: dq and dqscale parallel over query blocks, then dk
// and dv over key blocks) that split heads for parallelism. Since both give
// the same bits, the choice may depend on the worker count (attnGradFused).
func attentionGradCPU[T Float](dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse *Tensor, scale float64) {
	bs, hs, nq, d := q.shape[0], q.shape[1], q.shape[2], q.shape[3]
	nk := k.shape[2]
	gq, gk, gv := cpuData[T](dq), cpuData[T](dk), cpuData[T](dv)
	g, o, l := cpuData[T](dout), cpuData[T](out), cpuData[T](lse)
	var gs []T
	if dqscale != nil {
		gs = cpuData[T](dqscale)
	}
	// head returns the ref head and the per-head slices of every gradient
	// and saved tensor.
	type headArgs struct {
		hd                       ref.AttnHead[T]
		dq, dk, dv, dqs, g, o, l []T
	}
	head := func(b, h int) headArgs {
		i, j := (b*hs+h)*nq, (b*hs+h)*nk
		a := headArgs{
			hd: attnHead[T](q, k, v, qscale, scale, b, h),
			dq: gq[i*d:][:nq*d], dk: gk[j*d:][:nk*d], dv: gv[j*d:][:nk*d],
			g: g[i*d:][:nq*d], o: o[i*d:][:nq*d], l: l[i:][:nq],
		}
		if gs != nil {
			a.dqs = gs[i:][:nq]
		}
		return a
	}
	if heads := bs * hs; attnGradFused(heads, Workers()) {
		perHead := 10 * nq * nk * d
		Parallel(heads, max(1, attnMinWork/max(1, perHead)), func(lo, hi int) {
			ws := attnGetScratch(ref.AttentionBackwardWorkspace(nq, d))
			defer attnPutScratch(ws)
			for bh := lo; bh < hi; bh++ {
				a := head(bh/hs, bh%hs)
				ref.AttentionBackward(a.dq, a.dk, a.dv, a.dqs, a.g, a.o, a.l, a.hd, *ws)
			}
		})
		return
	}
	attnItems(bs, hs, nq, d, 6*nk*d+nk, func(b, h, lo, hi int, ws []float64) {
		a := head(b, h)
		ref.AttentionBackwardQ(a.dq, a.dqs, a.g, a.o, a.l, a.hd, lo, hi, ws)
	})
	attnItems(bs, hs, nk, d, 8*nq*d+nq, func(b, h, lo, hi int, ws []float64) {
		a := head(b, h)
		ref.AttentionBackwardKV(a.dk, a.dv, a.g, a.o, a.l, a.hd, lo, hi, ws)
	})
}
