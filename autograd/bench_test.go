package autograd

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// BenchmarkMLPStep times forward + backward + Release of a pre-norm SwiGLU
// MLP block on float32 [rows, 128] activations (the model's width), reporting
// the matmul GFLOP/s of the whole step and the heap allocations per step, so
// tape overhead shows as the distance from the kernels' GEMM rate.
func BenchmarkMLPStep(b *testing.B) {
	const rows, d, hid = 1024, 128, 256
	to := func(t *tensor.Tensor) *tensor.Tensor { return t.To(tensor.CPU, tensor.Float32) }
	x := Const(to(randn(1, rows, d)))
	wg, wu, wd := Param(to(randn(2, d, hid))), Param(to(randn(3, d, hid))), Param(to(randn(4, hid, d)))
	step := func() {
		tp := NewTape()
		h := tp.RMSNorm(x, nil, 1e-5)
		y := tp.Add(x, tp.Scale(tp.MatMul(tp.SwiGLU(tp.MatMul(h, wg), tp.MatMul(h, wu)), wd), 0.25))
		tp.Backward(tp.Mean(tp.Square(y), false))
		tp.Release()
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
	}
	// Forward: 3 GEMMs of 2*rows*d*hid flops. Backward: the gradients of
	// the three weights and of the SwiGLU output (through wd); h comes from
	// the constant x, so its gradient is not computed.
	fwd := 3 * 2.0 * rows * d * hid
	bwd := 4 * 2.0 * rows * d * hid
	b.ReportMetric((fwd+bwd)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
