package tensor

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// mnlReportGFLOPs reports flops per op as GFLOP/s.
func mnlReportGFLOPs(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMulF32 times square float32 MatMulInto through the CPU backend
// with the default BLAS32 (gonum, tiled over the worker pool) and with the
// naive ref.Gemm plugged in, so the ratio is visible in one run; "gonumDirect"
// is one whole-matrix gonum Sgemm call with gonum's own goroutines.
func BenchmarkMatMulF32(b *testing.B) {
	for _, n := range []int{256, 512, 1024} {
		a, w := RandNormal(1, 0, 1, n, n), RandNormal(2, 0, 1, n, n)
		c := Zeros(n, n)
		flops := 2 * float64(n) * float64(n) * float64(n)
		for _, impl := range []struct {
			name string
			blas blas.Float32
		}{{"gonum", nil}, {"refGemm", mnlRefBLAS32{}}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, impl.name), func(b *testing.B) {
				if impl.name == "refGemm" && n > 512 && testing.Short() {
					b.Skip("naive path at n=1024 is slow")
				}
				SetBLAS32(impl.blas)
				defer SetBLAS32(nil)
				for b.Loop() {
					MatMulInto(c, a, w, false, false, 1, 0)
				}
				mnlReportGFLOPs(b, flops)
			})
		}
		b.Run(fmt.Sprintf("n=%d/gonumDirect", n), func(b *testing.B) {
			ad, wd, cd := a.F32Data(), w.F32Data(), c.F32Data()
			for b.Loop() {
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, ad, n, wd, n, 0, cd, n)
			}
			mnlReportGFLOPs(b, flops)
		})
	}
}

// BenchmarkMatMulBatchedF32 times model-shaped batched products: many
// [128, 64] @ [64, 128] (head-sized) products, and the transposed forms the
// backward pass uses.
func BenchmarkMatMulBatchedF32(b *testing.B) {
	const nb, m, k, n = 256, 128, 64, 128
	a, w := RandNormal(3, 0, 1, nb, m, k), RandNormal(4, 0, 1, nb, k, n)
	c := Zeros(nb, m, n)
	flops := 2 * float64(nb*m*k*n)
	b.Run("[256,128,64]@[256,64,128]", func(b *testing.B) {
		for b.Loop() {
			MatMulInto(c, a, w, false, false, 1, 0)
		}
		mnlReportGFLOPs(b, flops)
	})
	g := RandNormal(5, 0, 1, nb, m, n)
	da := Zeros(nb, m, k)
	b.Run("dA=[256,128,128]@[256,64,128]^T", func(b *testing.B) {
		for b.Loop() {
			MatMulInto(da, g, w, false, true, 1, 0)
		}
		mnlReportGFLOPs(b, flops)
	})
	dw := Zeros(nb, k, n)
	b.Run("dW=[256,128,64]^T@[256,128,128]", func(b *testing.B) {
		for b.Loop() {
			MatMulInto(dw, a, g, true, false, 1, 0)
		}
		mnlReportGFLOPs(b, flops)
	})
}
