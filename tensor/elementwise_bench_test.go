package tensor

import (
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Benchmarks of the elementwise, reduction and optimizer CPU kernels on
// float32 tensors of 1<<20 elements, called through the backend with
// preallocated outputs so that only the kernel is timed. GB/s counts the
// bytes each call must read and write once (the memory-traffic floor).

const ewbN = 1 << 20

func ewbReport(b *testing.B, bytesPerOp int) {
	b.ReportMetric(float64(bytesPerOp)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func BenchmarkAddContiguous(b *testing.B) {
	x, y, dst := ewtRand(Float32, 1, ewbN), ewtRand(Float32, 2, ewbN), New(CPU, Float32, ewbN)
	be := CPU.Backend()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.Binary(OpAdd, dst, x, y)
	}
	ewbReport(b, 3*4*ewbN)
}

// BenchmarkAddBroadcastRow adds a bias row [1024] to a [1024, 1024] matrix.
func BenchmarkAddBroadcastRow(b *testing.B) {
	x, bias, dst := ewtRand(Float32, 1, 1024, 1024), ewtRand(Float32, 2, 1024), New(CPU, Float32, 1024, 1024)
	be, row := CPU.Backend(), bias.Expand(1024, 1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.Binary(OpAdd, dst, x, row)
	}
	ewbReport(b, (2*ewbN+1024)*4)
}

// BenchmarkMulBroadcastColumn scales each row of [1024, 1024] by its own
// factor ([1024, 1] broadcast: a stride-0 last axis).
func BenchmarkMulBroadcastColumn(b *testing.B) {
	x, s, dst := ewtRand(Float32, 1, 1024, 1024), ewtRand(Float32, 2, 1024, 1), New(CPU, Float32, 1024, 1024)
	be, col := CPU.Backend(), s.Expand(1024, 1024)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.Binary(OpMul, dst, x, col)
	}
	ewbReport(b, (2*ewbN+1024)*4)
}

// BenchmarkAddTransposed adds a transposed view to a contiguous matrix (the
// general strided path).
func BenchmarkAddTransposed(b *testing.B) {
	x, y, dst := ewtRand(Float32, 1, 1024, 1024), ewtRand(Float32, 2, 1024, 1024), New(CPU, Float32, 1024, 1024)
	be, yt := CPU.Backend(), y.Transpose(0, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.Binary(OpAdd, dst, x, yt)
	}
	ewbReport(b, 3*4*ewbN)
}

func ewbUnary(b *testing.B, op UnaryOp) {
	x, dst := ewtRand(Float32, 1, ewbN), New(CPU, Float32, ewbN)
	be := CPU.Backend()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.Unary(op, dst, x, 0)
	}
	ewbReport(b, 2*4*ewbN)
}

func BenchmarkExp(b *testing.B)      { ewbUnary(b, OpExp) }
func BenchmarkGELUTanh(b *testing.B) { ewbUnary(b, OpGELUTanh) }

func BenchmarkGELUTanhGrad(b *testing.B) {
	x, dy, dx := ewtRand(Float32, 1, ewbN), ewtRand(Float32, 2, ewbN), New(CPU, Float32, ewbN)
	y := GELUTanh(x)
	be := CPU.Backend()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.UnaryGrad(OpGELUTanh, dx, x, y, dy, 0)
	}
	ewbReport(b, 3*4*ewbN)
}

func ewbReduce(b *testing.B, axes []bool, out ...int) {
	x, dst := ewtRand(Float32, 1, 1024, 1024), New(CPU, Float32, out...)
	be := CPU.Backend()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.Reduce(OpSum, dst, x, axes)
	}
	ewbReport(b, 4*ewbN+4*dst.Numel())
}

// BenchmarkSumLastAxis sums the rows of [1024, 1024] (inner walk).
func BenchmarkSumLastAxis(b *testing.B) { ewbReduce(b, []bool{false, true}, 1024, 1) }

// BenchmarkSumFirstAxis sums the columns of [1024, 1024] (column walk, the
// bias-gradient pattern).
func BenchmarkSumFirstAxis(b *testing.B) { ewbReduce(b, []bool{true, false}, 1, 1024) }

// BenchmarkSumAll sums all 1<<20 elements into one (a single accumulator on
// one core, by the order contract).
func BenchmarkSumAll(b *testing.B) { ewbReduce(b, []bool{true, true}, 1, 1) }

func BenchmarkAdamW(b *testing.B) {
	p, g := ewtRand(Float32, 1, ewbN), ewtRand(Float32, 2, ewbN)
	m, v := New(CPU, Float32, ewbN), New(CPU, Float32, ewbN)
	be := CPU.Backend()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		be.AdamW(p, g, m, v, 1e-4, 0.9, 0.95, 1e-8, 0.01, 0.5, 0.3)
	}
	ewbReport(b, 7*4*ewbN) // reads p, g, m, v; writes p, m, v
}

// BenchmarkAxpbyAccumulate is the tape's gradient accumulation, y += x over
// 4M float32 (16 MiB each, beyond the caches): Axpby(y, x, 1, 1), which
// runs the SIMD saxpy, and the float64 reference loop in the same run.
func BenchmarkAxpbyAccumulate(b *testing.B) {
	const n = 1 << 22
	x, y := RandNormal(1, 0, 1, n), RandNormal(2, 0, 1, n)
	b.Run("simd", func(b *testing.B) {
		b.SetBytes(12 * n)
		for i := 0; i < b.N; i++ {
			Axpby(y, x, 1, 1)
		}
	})
	b.Run("ref", func(b *testing.B) {
		b.SetBytes(12 * n)
		yd, xd := cpuData[float32](y)[:n], cpuData[float32](x)[:n]
		for i := 0; i < b.N; i++ {
			Parallel(n, elemGrain, func(lo, hi int) { ref.Axpby(yd[lo:hi], xd[lo:hi], 1, 1) })
		}
	})
}
