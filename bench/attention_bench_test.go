package bench

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/nori-ml/nori/kernels/avx"
	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/tensor"
	"gonum.org/v1/gonum/blas"
)

// Fused attention benchmarks (issue 3), float32, nori's row-attention shape:
// 2 heads of dimension 64, 2048 context rows attending to themselves plus 512
// query rows attending to the context (one op each; q, k, v are strided views
// of packed [N, 3, H, D] projections):
//
//	go test ./bench -run '^$' -bench 'Attention' -benchtime 300ms
//
// GFLOP/s counts 4*H*Nq*Nk*D per attention for the forward (QK^T and PV) and
// 2.5 times that for the backward, as FlashAttention counts (what the fused
// backward executes; the two-pass form used when heads are fewer than workers
// executes 3.5 times). Cases, in order, all on par.Workers() workers:
//
//	sgemm/qk2048        avx.Implementation Sgemm C = A B^T, A, B [2048, 64]
//	                    (the score product's shape: K = 64)
//	sgemm/square1024    avx.Implementation Sgemm, n = 1024
//	fwd/avx, bwd/avx    the fused kernels (tensor.Attention, AttentionGrad at
//	                    the detected level); x-sgemm = their rate / the best
//	                    Sgemm rate above (target >= 0.5)
//	fwd/ref, bwd/ref    the same ops at avx.Generic (kernels/ref, float64
//	                    arithmetic); the avx cases then report x-ref = ref
//	                    time / avx time
//
// BenchmarkAttentionMemory reports, for self attention over N = 1024, 2048,
// 4096 rows (2 heads, D = 64), the Go heap allocated by one forward+backward
// from cold (buffer and scratch pools emptied by two GCs: every workspace is
// allocated afresh), cold-B, and cold-B/N: flat in N means linear memory (a
// materialised score matrix would be 4*H*N^2 bytes: 8 MiB at 1024, 128 MiB
// at 4096).

var attnBench struct {
	sgemm float64            // best Sgemm GFLOP/s of this run
	refNs map[string]float64 // ns/op of the ref cases by pass
}

const (
	attnBenchH, attnBenchD = 2, 64
	attnBenchCtx           = 2048
	attnBenchQry           = 512
)

// attnBenchInput returns q, k, v for nq queries over nk context rows: views
// of packed projections (q from the context's own projection when self).
func attnBenchInput(seed uint64, nq, nk int, self bool) (q, k, v *tensor.Tensor) {
	const h, d = attnBenchH, attnBenchD
	pack := func(seed uint64, n int) *tensor.Tensor {
		t := tensor.RandNormal(seed, 0, 1, 1, n, 3, h, d)
		return t.Permute(2, 0, 3, 1, 4) // [3, 1, H, N, D]
	}
	kv := pack(seed, nk)
	k, v = kv.Select(0, 1), kv.Select(0, 2)
	if self {
		return kv.Select(0, 0), k, v
	}
	return pack(seed+1, nq).Select(0, 0), k, v
}

// attnBenchProblem is one attention op with its saved forward outputs and
// an upstream gradient.
type attnBenchProblem struct {
	q, k, v, dout, out, lse *tensor.Tensor
	flops                   float64 // forward flops
}

func newAttnBenchProblem(seed uint64, nq, nk int) *attnBenchProblem {
	p := &attnBenchProblem{flops: 4 * attnBenchH * float64(nq) * float64(nk) * attnBenchD}
	p.q, p.k, p.v = attnBenchInput(seed, nq, nk, nq == nk)
	p.dout = tensor.RandNormal(seed+2, 0, 1, 1, attnBenchH, nq, attnBenchD)
	p.out, p.lse = tensor.Attention(p.q, p.k, p.v, nil, 1/math.Sqrt(attnBenchD))
	return p
}

func (p *attnBenchProblem) forward() {
	o, l := tensor.Attention(p.q, p.k, p.v, nil, 1/math.Sqrt(attnBenchD))
	o.Release()
	l.Release()
}

func (p *attnBenchProblem) backward() {
	dq, dk, dv, _ := tensor.AttentionGrad(p.dout, p.q, p.k, p.v, nil, p.out, p.lse, 1/math.Sqrt(attnBenchD))
	dq.Release()
	dk.Release()
	dv.Release()
}

func BenchmarkAttention(b *testing.B) {
	attnBench.refNs = map[string]float64{}
	attnBench.sgemm = 0
	sgemmCase := func(name string, m, n, k int, tB blas.Transpose) {
		b.Run("sgemm/"+name, func(b *testing.B) {
			a := tensor.RandNormal(1, 0, 1, m*k).Float32s()
			bm := tensor.RandNormal(2, 0, 1, n*k).Float32s()
			c := make([]float32, m*n)
			ldb := n
			if tB == blas.Trans {
				ldb = k
			}
			run := func() { avx.Implementation{}.Sgemm(blas.NoTrans, tB, m, n, k, 1, a, k, bm, ldb, 0, c, n) }
			run()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run()
			}
			rate := 2 * float64(m) * float64(n) * float64(k) * float64(b.N) / float64(b.Elapsed().Nanoseconds())
			b.ReportMetric(rate, "GFLOP/s")
			attnBench.sgemm = max(attnBench.sgemm, rate)
		})
	}
	sgemmCase("qk2048", attnBenchCtx, attnBenchCtx, attnBenchD, blas.Trans)
	sgemmCase("square1024", 1024, 1024, 1024, blas.NoTrans)

	self := newAttnBenchProblem(10, attnBenchCtx, attnBenchCtx)
	qry := newAttnBenchProblem(20, attnBenchQry, attnBenchCtx)
	fwdFlops := self.flops + qry.flops
	for _, lvl := range []avx.Level{avx.Generic, avx.Detected()} {
		name := "avx"
		if lvl == avx.Generic {
			name = "ref"
		}
		for _, pass := range []string{"fwd", "bwd"} {
			flops, op := fwdFlops, func() { self.forward(); qry.forward() }
			if pass == "bwd" {
				flops, op = 2.5*fwdFlops, func() { self.backward(); qry.backward() }
			}
			b.Run(pass+"/"+name, func(b *testing.B) {
				defer avx.SetLevel(avx.SetLevel(lvl))
				b.ReportAllocs()
				op() // warm the pools
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					op()
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(flops/ns, "GFLOP/s")
				if lvl == avx.Generic {
					attnBench.refNs[pass] = ns
					return
				}
				if attnBench.sgemm > 0 {
					b.ReportMetric(flops/ns/attnBench.sgemm, "x-sgemm")
				}
				if t, ok := attnBench.refNs[pass]; ok {
					b.ReportMetric(t/ns, "x-ref")
				}
			})
		}
	}
}

// BenchmarkAttentionMemory: heap allocated by a cold forward+backward (see
// the file comment).
func BenchmarkAttentionMemory(b *testing.B) {
	for _, n := range []int{1024, 2048, 4096} {
		p := newAttnBenchProblem(30, n, n)
		b.Run(fmt.Sprintf("self%d", n), func(b *testing.B) {
			var total uint64
			for i := 0; i < b.N; i++ {
				runtime.GC()
				runtime.GC() // the second GC empties the pools' victim caches
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				p.forward()
				p.backward()
				runtime.ReadMemStats(&m1)
				total += m1.TotalAlloc - m0.TotalAlloc
			}
			cold := float64(total) / float64(b.N)
			b.ReportMetric(cold, "cold-B")
			b.ReportMetric(cold/float64(n), "cold-B/N")
			b.ReportMetric(float64(4*attnBenchH*n*n), "scores-B")
			b.ReportMetric(float64(par.Workers()), "workers")
		})
	}
}
