package bench

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

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
// executes 3.5 times). Everything runs on par.Workers() workers.
//
// The machine is shared and its load changes by the second, so each
// iteration runs our Sgemm (avx.Implementation, C = A B^T with A, B
// [2048, 64]: the score product's shape, and a square n = 1024 product),
// repeated to about the attention op's flop count so that both take about as
// long, next to the attention op, and the ratio x-sgemm compares the best
// (least loaded) iteration of each: best attention GFLOP/s / best Sgemm
// GFLOP/s (the larger of the two shapes; target >= 0.5). GFLOP/s is the usual mean rate, best-*
// the best iterations. fwd/ref and bwd/ref run the same ops at avx.Generic
// (kernels/ref, float64 arithmetic); the avx cases report x-ref = best ref
// time / best avx time.
//
// BenchmarkAttentionMemory reports, for self attention over N = 1024, 2048,
// 4096 rows (2 heads, D = 64), the Go heap allocated by one forward+backward
// from cold (buffer and scratch pools emptied by two GCs: every workspace is
// allocated afresh), cold-B, and cold-B/N: flat in N means linear memory (a
// materialised score matrix would be 4*H*N^2 bytes: 8 MiB at 1024, 128 MiB
// at 4096).

var attnBenchRefNs = map[string]float64{} // best ns/op of the ref cases by pass

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
		return tensor.RandNormal(seed, 0, 1, 1, n, 3, h, d).Permute(2, 0, 3, 1, 4) // [3, 1, H, N, D]
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

// attnBenchSgemm is one Sgemm product of the comparison.
type attnBenchSgemm struct {
	name    string
	m, n, k int
	tB      blas.Transpose
	a, b, c []float32
}

func newAttnBenchSgemm(name string, m, n, k int, tB blas.Transpose) *attnBenchSgemm {
	return &attnBenchSgemm{name: name, m: m, n: n, k: k, tB: tB,
		a: tensor.RandNormal(1, 0, 1, m*k).Float32s(), b: tensor.RandNormal(2, 0, 1, n*k).Float32s(), c: make([]float32, m*n)}
}

func (g *attnBenchSgemm) run() {
	ldb := g.n
	if g.tB == blas.Trans {
		ldb = g.k
	}
	avx.Implementation{}.Sgemm(blas.NoTrans, g.tB, g.m, g.n, g.k, 1, g.a, g.k, g.b, ldb, 0, g.c, g.n)
}

func (g *attnBenchSgemm) flops() float64 { return 2 * float64(g.m) * float64(g.n) * float64(g.k) }

// timed runs f and returns its duration in ns.
func timed(f func()) float64 {
	t0 := time.Now()
	f()
	return float64(time.Since(t0).Nanoseconds())
}

func BenchmarkAttention(b *testing.B) {
	unpoisoned(b)
	gemms := []*attnBenchSgemm{
		newAttnBenchSgemm("qk2048", attnBenchCtx, attnBenchCtx, attnBenchD, blas.Trans),
		newAttnBenchSgemm("square1024", 1024, 1024, 1024, blas.NoTrans),
	}
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
				best, total := math.Inf(1), 0.0
				gemmBest := make([]float64, len(gemms))
				for i := range gemmBest {
					gemmBest[i] = math.Inf(1)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if lvl != avx.Generic {
						b.StopTimer()
						for g, gm := range gemms {
							reps := max(1, int(math.Round(flops/gm.flops())))
							gemmBest[g] = min(gemmBest[g], timed(func() {
								for r := 0; r < reps; r++ {
									gm.run()
								}
							})/float64(reps))
						}
						b.StartTimer()
					}
					t := timed(op)
					best, total = min(best, t), total+t
				}
				b.ReportMetric(flops*float64(b.N)/total, "GFLOP/s")
				b.ReportMetric(flops/best, "best-GFLOP/s")
				if lvl == avx.Generic {
					attnBenchRefNs[pass] = best
					return
				}
				sgemm := 0.0
				for g, gm := range gemms {
					rate := gm.flops() / gemmBest[g]
					b.ReportMetric(rate, "best-sgemm-"+gm.name+"-GFLOP/s")
					sgemm = max(sgemm, rate)
				}
				b.ReportMetric(flops/best/sgemm, "x-sgemm")
				if t, ok := attnBenchRefNs[pass]; ok {
					b.ReportMetric(t/best, "x-ref")
				}
			})
		}
	}
}

// BenchmarkAttentionMemory: heap allocated by a cold forward+backward (see
// the file comment).
func BenchmarkAttentionMemory(b *testing.B) {
	unpoisoned(b)
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

// BenchmarkAttentionFeature: feature attention's shape, 4096 sequences (table
// rows) of 17 tokens, 2 heads of dimension 64 (q, k, v strided views of a
// packed [4096, 17, 3, 2, 64] projection, as nn.MultiHeadAttention makes
// them), forward and backward, on the short-head path ("short") and on the
// tiled kernels ("tiled", tensor.SetAttentionShortPath(false): the path
// these shapes took before). FLOP counts as BenchmarkAttention; x-sgemm
// compares the best iteration with our Sgemm's best rate on the square
// n = 1024 product interleaved in the same iterations, x-tiled the short
// path's best time with the tiled path's (measured first in the same run).
func BenchmarkAttentionFeature(b *testing.B) {
	unpoisoned(b)
	const rows, tokens, h, d = 4096, 17, 2, 64
	kv := tensor.RandNormal(40, 0, 1, rows, tokens, 3, h, d).Permute(2, 0, 3, 1, 4) // [3, rows, H, T, D]
	q, k, v := kv.Select(0, 0), kv.Select(0, 1), kv.Select(0, 2)
	dout := tensor.RandNormal(41, 0, 1, rows, h, tokens, d)
	scale := 1 / math.Sqrt(d)
	out, lse := tensor.Attention(q, k, v, nil, scale)
	fwdFlops := 4 * float64(rows*h*tokens*tokens*d)
	gemm := newAttnBenchSgemm("square1024", 1024, 1024, 1024, blas.NoTrans)
	tiledNs := map[string]float64{}
	for _, path := range []string{"tiled", "short"} {
		for _, pass := range []string{"fwd", "bwd"} {
			flops, op := fwdFlops, func() {
				o, l := tensor.Attention(q, k, v, nil, scale)
				o.Release()
				l.Release()
			}
			if pass == "bwd" {
				flops, op = 2.5*fwdFlops, func() {
					dq, dk, dv, _ := tensor.AttentionGrad(dout, q, k, v, nil, out, lse, scale)
					dq.Release()
					dk.Release()
					dv.Release()
				}
			}
			b.Run(pass+"/"+path, func(b *testing.B) {
				defer tensor.SetAttentionShortPath(tensor.SetAttentionShortPath(path == "short"))
				b.ReportAllocs()
				op() // warm the pools
				best, total, gemmBest := math.Inf(1), 0.0, math.Inf(1)
				reps := max(1, int(math.Round(flops/gemm.flops())))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					gemmBest = min(gemmBest, timed(func() {
						for r := 0; r < reps; r++ {
							gemm.run()
						}
					})/float64(reps))
					b.StartTimer()
					t := timed(op)
					best, total = min(best, t), total+t
				}
				b.ReportMetric(flops*float64(b.N)/total, "GFLOP/s")
				b.ReportMetric(flops/best, "best-GFLOP/s")
				sgemm := gemm.flops() / gemmBest
				b.ReportMetric(sgemm, "best-sgemm-GFLOP/s")
				b.ReportMetric(flops/best/sgemm, "x-sgemm")
				if path == "tiled" {
					tiledNs[pass] = best
				} else if t, ok := tiledNs[pass]; ok {
					b.ReportMetric(t/best, "x-tiled")
				}
			})
		}
	}
}
