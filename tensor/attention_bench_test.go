package tensor

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Attention benchmarks, float32, head dim 64, 2 heads, B = 1 (nori's row
// attention): context rows attending to themselves and query rows attending
// to the context. q, k, v are strided views of a packed QKV projection.
//
// GFLOP/s counts 4*B*H*Nq*Nk*D flops for the forward (QK^T and PV) and 2.5x
// that for the backward, as FlashAttention does. That is what the fused
// backward executes (here: 2 heads on 2 workers); the two-pass form used when
// heads are fewer than workers executes 3.5x (see kernels/ref
// attention_backward.go).
// Each case runs a naive materialised-matrix implementation first (scores and
// probabilities stored as B x H x Nq x Nk float32, same worker pool); the flash
// run then reports x-naive = naive time / flash time. peak-scratch-B is the
// extra memory alive at once: one workspace per worker for flash (the fused
// backward's includes a float64 dq accumulator, Nq x D per head), the score
// matrices for the naive kernels (P, and dS next to it in the backward).
// B/op is the Go heap allocated per op: outputs come from the buffer pool and
// are released, and flash workspaces are recycled, so it is the naive
// matrices plus small change.

var attnBenchNaiveNs = map[string]float64{}

func BenchmarkAttention(b *testing.B) {
	const B, H, D = 1, 2, 64
	for _, c := range []struct {
		name   string
		nq, nk int
	}{{"self1024", 1024, 1024}, {"query256x1024", 256, 1024}} {
		scale := 1 / math.Sqrt(D)
		kv := attnRand(Float32, 1, 1, B, c.nk, 3, H, D).Permute(2, 0, 3, 1, 4)
		k, v := kv.Select(0, 1), kv.Select(0, 2)
		q := kv.Select(0, 0)
		if c.nq != c.nk {
			q = attnRand(Float32, 2, 1, B, c.nq, 3, H, D).Permute(2, 0, 3, 1, 4).Select(0, 0)
		}
		dout := attnRand(Float32, 3, 1, B, H, c.nq, D)
		out, lse := Attention(q, k, v, nil, scale)
		nv := &attnBenchNaive{b: B, h: H, nq: c.nq, nk: c.nk, d: D, scale: float32(scale),
			q: q.Float32s(), k: k.Float32s(), v: v.Float32s(), dout: dout.Float32s()}
		fwd := 4.0 * B * H * float64(c.nq) * float64(c.nk) * D
		// One workspace per busy worker (heads here are split into more
		// blocks than workers).
		flashScratch := float64(Workers() * ref.AttentionWorkspace(D) * 8)
		bwdScratch := flashScratch
		if attnGradFused(B*H, Workers()) {
			bwdScratch = float64(min(Workers(), B*H) * ref.AttentionBackwardWorkspace(c.nq, D) * 8)
		}
		naiveScratch := float64(B * H * c.nq * c.nk * 4)

		run := func(key string, flops, scratch float64, naive bool, op func()) {
			b.Run(c.name+"/"+key, func(b *testing.B) {
				b.ReportAllocs()
				op() // warm the buffer pool
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					op()
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(flops/ns, "GFLOP/s")
				b.ReportMetric(scratch, "peak-scratch-B")
				pass := c.name + "/" + key[:3]
				if naive {
					attnBenchNaiveNs[pass] = ns
				} else if t, ok := attnBenchNaiveNs[pass]; ok {
					b.ReportMetric(t/ns, "x-naive")
				}
			})
		}
		run("fwd/naive", fwd, naiveScratch, true, func() { nv.forward() })
		run("fwd/flash", fwd, flashScratch, false, func() {
			o, l := Attention(q, k, v, nil, scale)
			o.Release()
			l.Release()
		})
		nv.forward()
		run("bwd/naive", 2.5*fwd, 2*naiveScratch, true, func() { nv.backward() })
		run("bwd/flash", 2.5*fwd, bwdScratch, false, func() {
			dq, dk, dv, _ := AttentionGrad(dout, q, k, v, nil, out, lse, scale)
			dq.Release()
			dk.Release()
			dv.Release()
		})
	}
}

// attnBenchNaive is the materialised baseline in float32: the forward stores
// P = softmax(scale Q K^T) for the backward, which stores dS next to it.
type attnBenchNaive struct {
	b, h, nq, nk, d int
	scale           float32
	q, k, v, dout   []float32 // contiguous [B,H,N,D]
	p, out          []float32
	dq, dk, dv      []float32
}

func attnDot32(a, b []float32) float32 {
	s := float32(0)
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

func (n *attnBenchNaive) forward() {
	nq, nk, d := n.nq, n.nk, n.d
	n.p = make([]float32, n.b*n.h*nq*nk)
	n.out = make([]float32, n.b*n.h*nq*d)
	Parallel(n.b*n.h*nq, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bh := r / nq
			qi, p, o := n.q[r*d:][:d], n.p[r*nk:][:nk], n.out[r*d:][:d]
			m := float32(math.Inf(-1))
			for j := range p {
				p[j] = n.scale * attnDot32(qi, n.k[(bh*nk+j)*d:][:d])
				m = max(m, p[j])
			}
			sum := float32(0)
			for j, z := range p {
				p[j] = float32(math.Exp(float64(z - m)))
				sum += p[j]
			}
			for j := range p {
				p[j] /= sum
				vj := n.v[(bh*nk+j)*d:][:d]
				for c := range o {
					o[c] += p[j] * vj[c]
				}
			}
		}
	})
}

func (n *attnBenchNaive) backward() {
	nq, nk, d := n.nq, n.nk, n.d
	ds := make([]float32, n.b*n.h*nq*nk)
	n.dq = make([]float32, n.b*n.h*nq*d)
	n.dk, n.dv = make([]float32, n.b*n.h*nk*d), make([]float32, n.b*n.h*nk*d)
	Parallel(n.b*n.h*nq, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bh := r / nq
			g, p, s, dq := n.dout[r*d:][:d], n.p[r*nk:][:nk], ds[r*nk:][:nk], n.dq[r*d:][:d]
			delta := float32(0)
			for j := range s {
				s[j] = attnDot32(g, n.v[(bh*nk+j)*d:][:d])
				delta += p[j] * s[j]
			}
			for j := range s {
				s[j] = p[j] * (s[j] - delta)
				kj := n.k[(bh*nk+j)*d:][:d]
				for c := range dq {
					dq[c] += n.scale * s[j] * kj[c]
				}
			}
		}
	})
	Parallel(n.b*n.h*nk, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bh, j := r/nk, r%nk
			dk, dv := n.dk[r*d:][:d], n.dv[r*d:][:d]
			for i := 0; i < nq; i++ {
				row := bh*nq + i
				w, pij := n.scale*ds[row*nk+j], n.p[row*nk+j]
				qi, g := n.q[row*d:][:d], n.dout[row*d:][:d]
				for c := range dk {
					dk[c] += w * qi[c]
					dv[c] += pij * g[c]
				}
			}
		}
	})
}
