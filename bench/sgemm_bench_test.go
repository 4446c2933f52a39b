package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/nori-ml/nori/kernels/avx"
	"github.com/nori-ml/nori/kernels/par"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Sgemm benchmarks: nori's avx.Implementation against gonum's pure-Go
// implementation and (with -tags openblas) OpenBLAS, on one and two threads,
// each reporting GFLOP/s; a "ratios" case after each group reports the
// ratios between the rates just measured, so they come from the same run:
//
//	nori/openblas  target >= 0.8 on one thread at n >= 512
//	nori/gonum     target >= 8
//	nori_2t/1t     (threads=2 groups) target >= 1.8
//
// BenchmarkSgemmModel measures the model's tall-skinny shapes as a fraction
// of nori's square rate (n = 1024) measured in the same run (target >= 0.7).

// sgemmFunc runs C = A*B (row-major, no transposes) on threads threads.
type sgemmFunc func(threads, m, n, k int, a, b, c []float32)

func noriSgemm(threads, m, n, k int, a, b, c []float32) {
	old := par.SetWorkers(threads)
	avx.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
	par.SetWorkers(old)
}

func gonumSgemm(threads, m, n, k int, a, b, c []float32) {
	// gonum spawns up to GOMAXPROCS goroutines for large products.
	old := runtime.GOMAXPROCS(threads)
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
	runtime.GOMAXPROCS(old)
}

func openblasSgemmNN(threads, m, n, k int, a, b, c []float32) {
	openblas(threads, false, false, m, n, k, 1, a, k, b, n, 0, c, n)
}

type namedSgemm struct {
	name string
	f    sgemmFunc
}

func sgemmImpls(withGonum bool) []namedSgemm {
	impls := []namedSgemm{{"nori", noriSgemm}}
	if openblas != nil {
		impls = append(impls, namedSgemm{"openblas", openblasSgemmNN})
	}
	if withGonum {
		impls = append(impls, namedSgemm{"gonum", gonumSgemm})
	}
	return impls
}

func randF32(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// benchGemm times f on an m x k by k x n product and returns its rate in
// GFLOP/s (also reported as a metric).
func benchGemm(b *testing.B, f sgemmFunc, threads, m, n, k int) float64 {
	a, bb, c := randF32(m*k, 1), randF32(k*n, 2), make([]float32, m*n)
	f(threads, m, n, k, a, bb, c) // warm caches and buffer pools
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f(threads, m, n, k, a, bb, c)
	}
	el := time.Since(start)
	rate := 2 * float64(m) * float64(n) * float64(k) * float64(b.N) / el.Seconds() / 1e9
	b.ReportMetric(rate, "GFLOP/s")
	return rate
}

func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{256, 512, 1024, 2048} {
		one := map[string]float64{}
		for _, threads := range []int{1, 2} {
			rates := map[string]float64{}
			for _, im := range sgemmImpls(true) {
				b.Run(fmt.Sprintf("n=%d/threads=%d/%s", n, threads, im.name), func(b *testing.B) {
					rates[im.name] = benchGemm(b, im.f, threads, n, n, n)
				})
			}
			if threads == 1 {
				one = rates
			}
			b.Run(fmt.Sprintf("n=%d/threads=%d/ratios", n, threads), func(b *testing.B) {
				reportRatios(b, rates, one, threads)
			})
		}
	}
}

// reportRatios reports nori's rate over the others' (and over its own
// one-thread rate for threads > 1).
func reportRatios(b *testing.B, rates, one map[string]float64, threads int) {
	for i := 0; i < b.N; i++ {
	}
	if r := rates["openblas"]; r > 0 {
		b.ReportMetric(rates["nori"]/r, "nori/openblas")
	}
	if r := rates["gonum"]; r > 0 {
		b.ReportMetric(rates["nori"]/r, "nori/gonum")
	}
	if threads > 1 {
		for name, r1 := range one {
			if r1 > 0 && rates[name] > 0 {
				b.ReportMetric(rates[name]/r1, name+"_2t/1t")
			}
		}
	}
}

func BenchmarkSgemmModel(b *testing.B) {
	shapes := [][3]int{{16384, 128, 128}, {16384, 128, 384}, {16384, 256, 128}} // M, K, N
	for _, threads := range []int{1, 2} {
		var square float64
		b.Run(fmt.Sprintf("threads=%d/square1024/nori", threads), func(b *testing.B) {
			square = benchGemm(b, noriSgemm, threads, 1024, 1024, 1024)
		})
		for _, s := range shapes {
			m, k, n := s[0], s[1], s[2]
			for _, im := range sgemmImpls(false) {
				b.Run(fmt.Sprintf("threads=%d/M=%d,K=%d,N=%d/%s", threads, m, k, n, im.name), func(b *testing.B) {
					r := benchGemm(b, im.f, threads, m, n, k)
					if im.name == "nori" && square > 0 {
						b.ReportMetric(r/square, "frac_of_square")
					}
				})
			}
		}
	}
}
