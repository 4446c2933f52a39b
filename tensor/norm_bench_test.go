package tensor

import (
	"fmt"
	"testing"
)

// Benchmarks of the row kernels in GB/s: bytes read and written per call
// (float32) over time, the figure of merit of these memory-bound kernels.
// The backend is called directly on preallocated tensors, so allocation is
// not timed.

var mnlBenchShapes = [][2]int{{4096, 128}, {4096, 256}}

// mnlReportGBs reports bytes per op as GB/s.
func mnlReportGBs(b *testing.B, bytes int) {
	b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// mnlBenchRows runs f for each benchmark shape; bytes gives the traffic per
// call in float32 elements for (rows, n).
func mnlBenchRows(b *testing.B, bytes func(rows, n int) int, f func(rows, n int) func()) {
	for _, s := range mnlBenchShapes {
		rows, n := s[0], s[1]
		b.Run(fmt.Sprintf("%dx%d", rows, n), func(b *testing.B) {
			run := f(rows, n)
			for b.Loop() {
				run()
			}
			mnlReportGBs(b, 4*bytes(rows, n))
		})
	}
}

func BenchmarkRMSNormForward(b *testing.B) {
	mnlBenchRows(b, func(r, n int) int { return 2*r*n + r + n }, func(rows, n int) func() {
		x, g := RandNormal(1, 0, 1, rows, n), RandNormal(2, 1, 0.1, n)
		out, rstd := Zeros(rows, n), Zeros(rows)
		return func() { CPU.Backend().RMSNorm(out, rstd, x, g, 1e-5) }
	})
}

func BenchmarkRMSNormBackward(b *testing.B) {
	mnlBenchRows(b, func(r, n int) int { return 3*r*n + r + 2*n }, func(rows, n int) func() {
		x, g, dy := RandNormal(1, 0, 1, rows, n), RandNormal(2, 1, 0.1, n), RandNormal(3, 0, 1, rows, n)
		out, rstd := Zeros(rows, n), Zeros(rows)
		CPU.Backend().RMSNorm(out, rstd, x, g, 1e-5)
		dx, dg := Zeros(rows, n), Zeros(n)
		return func() { CPU.Backend().RMSNormGrad(dx, dg, dy, x, rstd, g) }
	})
}

func BenchmarkLayerNormForward(b *testing.B) {
	mnlBenchRows(b, func(r, n int) int { return 2*r*n + 2*r + 2*n }, func(rows, n int) func() {
		x, g, be := RandNormal(1, 0, 1, rows, n), RandNormal(2, 1, 0.1, n), RandNormal(3, 0, 0.1, n)
		out, mean, rstd := Zeros(rows, n), Zeros(rows), Zeros(rows)
		return func() { CPU.Backend().LayerNorm(out, mean, rstd, x, g, be, 1e-5) }
	})
}

func BenchmarkSoftmaxForward(b *testing.B) {
	mnlBenchRows(b, func(r, n int) int { return 2 * r * n }, func(rows, n int) func() {
		x, out := RandNormal(1, 0, 1, rows, n), Zeros(rows, n)
		return func() { CPU.Backend().Softmax(out, x, false) }
	})
}

func BenchmarkSwiGLUForward(b *testing.B) {
	mnlBenchRows(b, func(r, n int) int { return 3 * r * n }, func(rows, n int) func() {
		g, u, out := RandNormal(1, 0, 1, rows, n), RandNormal(2, 0, 1, rows, n), Zeros(rows, n)
		return func() { CPU.Backend().SwiGLU(out, g, u) }
	})
}

func BenchmarkSwiGLUBackward(b *testing.B) {
	mnlBenchRows(b, func(r, n int) int { return 5 * r * n }, func(rows, n int) func() {
		g, u, dy := RandNormal(1, 0, 1, rows, n), RandNormal(2, 0, 1, rows, n), RandNormal(3, 0, 1, rows, n)
		dg, du := Zeros(rows, n), Zeros(rows, n)
		return func() { CPU.Backend().SwiGLUGrad(dg, du, dy, g, u) }
	})
}
