//go:build cuda

package tensor

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
)

// Tests of the CUDA device (cuda_device.go, cuda_backend*.go) on the GPU
// machine: every Backend method runs on both devices from the same inputs,
// laid out identically (contiguous, permuted, sliced, stride 2, broadcast,
// rank above cuda.MaxRank), and the GPU result, written into a NaN-poisoned
// output, is compared with the CPU's. The CPU kernels are themselves tested
// against float64 references in the other test files, so agreement within
// the stated tolerance means the GPU path is right.
//
// Tolerances, |gpu - cpu| <= rtol*|cpu| + atol elementwise (NaN == NaN):
//   - exact: copies, fills, bf16 conversions, Add/Sub/Mul/Div/Max/Min/Eq,
//     Where, Neg/ReLU/Square/Abs/clamps, Max reductions, IndexSelect, uniform
//     random numbers: bit for bit (IEEE float32 ops are correctly rounded on
//     both sides);
//   - 1 ulp (2^-23 relative): the ops computed through float64 and rounded
//     once on both sides, where the two sides may evaluate the formula in a
//     different order (Scale, AddScalar, Axpby, AdamW, PinballGrad, normal
//     random numbers from the GPU's float64 log/sin/cos, Sum/Mean, IndexAdd);
//   - transcendental unary ops and their gradients: 8 ulp relative plus an
//     absolute floor of 8 ulp of max(1, |x|)-sized terms (CUDA's expf/tanhf/erff
//     are within 2 ulp, the CPU's SIMD versions within 2-4);
//   - row normalisations and softmax: 2e-6 relative + 2e-6 absolute (float32
//     row statistics in a different summation order), their gradients 1e-5;
//   - MatMul: |err| <= c*K*2^-24*(|A||B|)_ij with c = 4 for FP32, TF32 inputs
//     rounded to 2^-11 and BF16 to 2^-8 relative (bound from the absolute
//     product |A||B| computed on the CPU);
//   - attention: see TestCUDAAttention.
//
// Measured: not yet run on a GPU (no GPU was lent to the session that wrote
// these tests).

var cudaTest struct {
	once sync.Once
	dev  Device
	err  error
}

// testCUDA returns GPU 0 as a Device, opened once per test binary.
func testCUDA(t testing.TB) Device {
	t.Helper()
	cudaTest.once.Do(func() { cudaTest.dev, cudaTest.err = NewCUDA(0) })
	if cudaTest.err != nil {
		t.Fatalf("opening CUDA device 0: %v", cudaTest.err)
	}
	return cudaTest.dev
}

// cudaOn returns a tensor on dev with x's exact layout (shape, strides,
// offset) over a copy of x's whole storage, so views are reproduced as
// views.
func cudaOn(x *Tensor, dev Device) *Tensor {
	if x == nil {
		return nil
	}
	st := dev.Alloc(x.DType(), x.st.Len())
	if n := x.st.Len(); n > 0 {
		dev.Upload(st, 0, x.Device().Download(x.st, 0, n))
	}
	return &Tensor{shape: x.shape.Clone(), strides: append([]int(nil), x.strides...), offset: x.offset, st: st}
}

// cudaPoison returns a contiguous tensor of NaN on dev.
func cudaPoison(dev Device, dt DType, shape ...int) *Tensor {
	x := New(dev, dt, shape...)
	x.Backend().Fill(x, math.NaN())
	return x
}

// cudaTol is an elementwise tolerance: rtol*|want| + atol.
type cudaTol struct{ rtol, atol float64 }

var (
	tolExact = cudaTol{}
	tolUlp   = cudaTol{0x1p-23, 1e-12}
	tolOptim = cudaTol{4 * 0x1p-23, 1e-12}
	tolTrans = cudaTol{8 * 0x1p-24, 8 * 0x1p-24}
	tolNorm  = cudaTol{2e-6, 2e-6}
	tolNormG = cudaTol{1e-5, 1e-5}
)

// cudaCompare fails unless got (any device) matches want (CPU) within tol.
func cudaCompare(t *testing.T, what string, got, want *Tensor, tol cudaTol) {
	t.Helper()
	if !got.Shape().Equal(want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	cudaCompareVals(t, what, got.Float64s(), want.Float64s(), tol)
}

func cudaCompareVals(t *testing.T, what string, g, w []float64, tol cudaTol) {
	t.Helper()
	if len(g) != len(w) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(w))
	}
	for i := range g {
		if math.IsNaN(g[i]) && math.IsNaN(w[i]) {
			continue
		}
		d := math.Abs(g[i] - w[i])
		lim := tol.rtol*math.Abs(w[i]) + tol.atol
		if !(d <= lim) {
			t.Fatalf("%s: element %d is %.9g, want %.9g (|diff| %.3g > %.3g)", what, i, g[i], w[i], d, lim)
		}
	}
}

// cudaExpectPanic fails unless f panics with a message containing every part.
func cudaExpectPanic(t *testing.T, what string, f func(), parts ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("%s: no panic", what)
		}
		msg := fmt.Sprint(r)
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Fatalf("%s: panic %q does not mention %q", what, msg, p)
			}
		}
	}()
	f()
}

// cudaHighRank returns a rank-10 view whose axes cannot be merged (a
// permutation of a contiguous tensor with every axis of size 2 or 3), which
// the backend must cut into blocks of at most cuda.MaxRank axes.
func cudaHighRank(seed uint64) *Tensor {
	shape := []int{2, 3, 2, 2, 3, 2, 2, 2, 3, 2}
	x := ewtRand(Float32, seed, shape...)
	return x.Permute(9, 0, 8, 1, 7, 2, 6, 3, 5, 4)
}

func TestCUDADevice(t *testing.T) {
	dev := testCUDA(t)
	if dev.Kind() != CUDAKind || !strings.HasPrefix(dev.String(), "cuda:0 (") {
		t.Fatalf("kind %v, name %q", dev.Kind(), dev.String())
	}
	if again, err := NewCUDA(0); err != nil || again != dev {
		t.Fatalf("second NewCUDA(0) = %v, %v: want the same device", again, err)
	}
	gpu, ok := dev.(GPUDevice)
	if !ok {
		t.Fatal("the CUDA device does not implement GPUDevice")
	}
	t.Logf("device %v", dev)

	// Alloc is zero-filled even when the block comes back from the cache
	// holding NaN.
	for _, dt := range []DType{Float32, BFloat16, Float64} {
		for _, n := range []int{1, 7, 1000, 12345} {
			x := cudaPoison(dev, dt, n)
			x.Release()
			y := New(dev, dt, n)
			for i, v := range y.Float64s() {
				if v != 0 {
					t.Fatalf("%v Alloc(%d) after a NaN block: element %d is %v", dt, n, i, v)
				}
			}
			y.Release()
		}
	}

	// Upload and Download at offsets, each dtype.
	st := dev.Alloc(Float32, 100)
	dev.Upload(st, 10, []float32{1, 2, 3})
	if got := dev.Download(st, 9, 5).([]float32); fmt.Sprint(got) != "[0 1 2 3 0]" {
		t.Fatalf("float32 round trip at offset: %v", got)
	}
	sb := dev.Alloc(BFloat16, 9)
	dev.Upload(sb, 8, []uint16{0x3f80})
	if got := dev.Download(sb, 7, 2).([]uint16); got[0] != 0 || got[1] != 0x3f80 {
		t.Fatalf("bf16 round trip at offset: %#x", got)
	}
	sd := dev.Alloc(Float64, 3)
	dev.Upload(sd, 1, []float64{math.Pi, math.E})
	if got := dev.Download(sd, 0, 3).([]float64); got[0] != 0 || got[1] != math.Pi || got[2] != math.E {
		t.Fatalf("float64 round trip: %v", got)
	}
	cudaExpectPanic(t, "upload past the end", func() { dev.Upload(st, 99, []float32{1, 2}) }, "Upload")
	cudaExpectPanic(t, "upload of the wrong type", func() { dev.Upload(st, 0, []float64{1}) }, "Upload", "float32")
	cudaExpectPanic(t, "download past the end", func() { dev.Download(st, 98, 3) }, "Download")
	dev.Free(st)
	dev.Free(st) // a second Free is a no-op
	dev.Free(sb)
	dev.Free(sd)

	// Free returns memory at once; use after Release panics.
	gpu.ResetPeakMem()
	before := gpu.MemStats()
	x := New(dev, Float32, 1<<20)
	mid := gpu.MemStats()
	if mid.InUse < before.InUse+4<<20 {
		t.Fatalf("InUse %d -> %d after allocating 4 MiB", before.InUse, mid.InUse)
	}
	v := x.Reshape(1024, 1024)
	x.Release()
	if after := gpu.MemStats(); after.InUse != before.InUse || after.PeakInUse < mid.InUse {
		t.Fatalf("after Release: InUse %d (want %d), peak %d (want >= %d)", after.InUse, before.InUse, after.PeakInUse, mid.InUse)
	}
	cudaExpectPanic(t, "view of released storage", func() { Add(v, v) }, "after Release")

	// Moving between devices keeps values; float64 compute is refused with
	// the op's name.
	c := ewtRand(Float32, 3, 5, 7)
	g := c.To(dev, Float32)
	cudaCompare(t, "round trip", g, c, tolExact)
	c64 := ewtRand(Float64, 4, 6)
	g64 := c64.To(dev, Float64)
	cudaCompare(t, "float64 round trip", g64, c64, tolExact)
	cudaCompare(t, "float64 -> float32 on the GPU", g64.To(dev, Float32), c64.To(CPU, Float32), tolExact)
	cudaExpectPanic(t, "float64 Add", func() { Add(g64, g64) }, "Binary", "float64", "cuda")
	cudaExpectPanic(t, "float64 MatMul", func() { MatMul(g64.Reshape(2, 3), g64.Reshape(3, 2)) }, "MatMul", "float64")
	cudaExpectPanic(t, "mixed devices", func() { Add(g, c) }, "Add")
	if err := gpu.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestCUDADroppedStorageReclaimed allocates 2 GB in 1 MB tensors that are
// dropped without Release: the device's collections must hand their blocks
// back, keeping the reserve far below what was allocated.
func TestCUDADroppedStorageReclaimed(t *testing.T) {
	dev := testCUDA(t)
	gpu := dev.(GPUDevice)
	start := gpu.MemStats()
	for i := 0; i < 2000; i++ {
		x := New(dev, Float32, 1<<18+i%7*1000) // about 1 MB, a few size classes
		x.Backend().Fill(x, float64(i))
	}
	end := gpu.MemStats()
	t.Logf("reserved %.1f MB -> %.1f MB, driver allocations %d -> %d", float64(start.Reserved)/1e6, float64(end.Reserved)/1e6, start.RawAllocs, end.RawAllocs)
	if grown := end.Reserved - start.Reserved; grown > 128<<20 {
		t.Fatalf("reserve grew by %d B over 2000 dropped 1 MB tensors: dropped storage is not reclaimed", grown)
	}
}

func TestCUDACopyConvert(t *testing.T) {
	dev := testCUDA(t)
	type conv struct{ from, to DType }
	convs := []conv{{Float32, Float32}, {Float32, BFloat16}, {BFloat16, Float32}, {Float32, Float64}, {Float64, Float32}, {BFloat16, BFloat16}}
	for _, s := range []Shape{{}, {1}, {7}, {1000}, {7, 63}, {3, 1, 5}, {2, 3, 4, 5}} {
		for layout := 0; layout < ewtLayouts; layout++ {
			for _, cv := range convs {
				name := fmt.Sprintf("%v %s %v->%v", s, ewtLayoutNames[layout], cv.from, cv.to)
				src := ewtOperand(Float32, 7, s, layout, func(v float64) float64 { return 100 * v })
				if cv.from != Float32 {
					// Same layout, other dtype: convert the whole storage.
					st := New(CPU, cv.from, src.st.Len())
					CPU.Backend().Copy(st, &Tensor{shape: Shape{src.st.Len()}, strides: []int{1}, st: src.st})
					src = &Tensor{shape: src.shape, strides: src.strides, offset: src.offset, st: st.st}
				}
				want := New(CPU, cv.to, s...)
				CPU.Backend().Copy(want, src)
				got := cudaPoison(dev, cv.to, s...)
				dev.Backend().Copy(got, cudaOn(src, dev))
				cudaCompare(t, name, got, want, tolExact)
				// Into a strided destination: a column window of a larger
				// tensor (as Concat writes).
				if len(s) > 0 {
					big := append(s[:len(s)-1:len(s)-1].Clone(), s[len(s)-1]+3)
					gb := cudaPoison(dev, cv.to, big...)
					gv := gb.Slice(-1, 2, 2+s[len(s)-1])
					dev.Backend().Copy(gv, cudaOn(src, dev))
					cudaCompare(t, name+" into a view", gv, want, tolExact)
				}
			}
		}
	}
	hr := cudaHighRank(11)
	got := cudaPoison(dev, Float32, hr.shape...)
	dev.Backend().Copy(got, cudaOn(hr, dev))
	cudaCompare(t, "rank 10 permuted", got, hr.Contiguous(), tolExact)
	// Concat through strided copies.
	a, b := ewtRand(Float32, 1, 3, 5), ewtRand(Float32, 2, 3, 2)
	cudaCompare(t, "Concat", Concat(1, cudaOn(a, dev), cudaOn(b, dev)), Concat(1, a, b), tolExact)
}

func TestCUDAFillRand(t *testing.T) {
	dev := testCUDA(t)
	for _, dt := range []DType{Float32, BFloat16, Float64} {
		for _, n := range []int{1, 7, 63, 1000, 100003} {
			want := New(CPU, dt, n)
			want.Backend().Fill(want, -1.2345678)
			got := cudaPoison(dev, dt, n)
			got.Backend().Fill(got, -1.2345678)
			cudaCompare(t, fmt.Sprintf("Fill %v %d", dt, n), got, want, tolExact)
			if dt == Float64 {
				continue
			}
			for _, stream := range []uint64{0, 5, 1 << 40} {
				want := New(CPU, dt, n)
				want.Backend().RandUniform(want, 42, stream, -2, 3)
				got := cudaPoison(dev, dt, n)
				got.Backend().RandUniform(got, 42, stream, -2, 3)
				cudaCompare(t, fmt.Sprintf("RandUniform %v %d stream %d", dt, n, stream), got, want, tolExact)
				want.Backend().RandNormal(want, 43, stream, 0.5, 2)
				got.Backend().RandNormal(got, 43, stream, 0.5, 2)
				tol := tolUlp
				if dt == BFloat16 {
					tol = cudaTol{0x1p-8, 0} // one bf16 ulp: a float32 ulp can cross a bf16 rounding boundary
				}
				cudaCompare(t, fmt.Sprintf("RandNormal %v %d stream %d", dt, n, stream), got, want, tol)
			}
		}
	}
}

// cudaDual runs f on the CPU with the inputs as given and on the GPU with
// copies of them in the same layouts, and compares the outputs f returns.
func cudaDual(t *testing.T, what string, tol cudaTol, in []*Tensor, f func(dev Device, in []*Tensor) []*Tensor) {
	t.Helper()
	dev := testCUDA(t)
	want := f(CPU, in)
	gin := make([]*Tensor, len(in))
	for i, x := range in {
		gin[i] = cudaOn(x, dev)
	}
	got := f(dev, gin)
	for i := range want {
		if want[i] == nil {
			if got[i] != nil {
				t.Fatalf("%s: output %d is not nil on the GPU", what, i)
			}
			continue
		}
		if got[i].Device() != dev {
			t.Fatalf("%s: output %d on %v", what, i, got[i].Device())
		}
		cudaCompare(t, fmt.Sprintf("%s (output %d)", what, i), got[i], want[i], tol)
	}
}

// outOn returns a poisoned output on dev (the CPU's need no poison: they
// are the reference).
func outOn(dev Device, shape ...int) *Tensor {
	if dev == CPU {
		return New(CPU, Float32, shape...)
	}
	return cudaPoison(dev, Float32, shape...)
}

func TestCUDABinary(t *testing.T) {
	for op := OpAdd; op <= OpPow; op++ {
		fa, fb := ewtBinaryDomain(op)
		tol := tolExact
		if op == OpPow {
			tol = tolTrans
		}
		for si, sp := range ewtBinaryShapes {
			for la := 0; la < ewtLayouts; la++ {
				lb := (la + si) % ewtLayouts
				a := ewtOperand(Float32, uint64(10+si), sp[0], la, fa)
				b := ewtOperand(Float32, uint64(50+si), sp[1], lb, fb)
				s, _ := BroadcastShapes(sp[0], sp[1])
				name := fmt.Sprintf("%s %v(%s) %v(%s)", ewtBinaryNames[op], sp[0], ewtLayoutNames[la], sp[1], ewtLayoutNames[lb])
				cudaDual(t, name, tol, []*Tensor{a, b}, func(dev Device, in []*Tensor) []*Tensor {
					dst := outOn(dev, s...)
					dev.Backend().Binary(op, dst, in[0].Expand(s...), in[1].Expand(s...))
					return []*Tensor{dst}
				})
			}
		}
		hr, hr2 := cudaHighRank(20), cudaHighRank(21).Contiguous()
		cudaDual(t, ewtBinaryNames[op]+" rank 10", tol, []*Tensor{ewtOperand(Float32, 1, Shape{1}, 0, fa), hr, hr2},
			func(dev Device, in []*Tensor) []*Tensor {
				x := in[1]
				if fa != nil {
					x = Unary(OpAbs, x, 0) // Pow's base
				}
				return []*Tensor{binary(op, "rank10", x, in[2]), binary(op, "rank10", in[0], in[2])}
			})
	}
}

func TestCUDAUnary(t *testing.T) {
	for ci, c := range ewtUnaryCases {
		tol, tolG := tolExact, tolTrans
		if !c.exact {
			tol = tolTrans
		}
		switch c.op {
		case OpScale, OpAddScalar, OpPowScalar:
			tol = tolTrans // p*x and x+p through float64 on one side, float32 on the other
		case OpGELUTanh, OpGELUErf, OpSiLU:
			tolG = cudaTol{16 * 0x1p-24, 16 * 0x1p-24}
		}
		for si, s := range ewtUnaryShapes {
			layout := (ci + si) % ewtLayouts
			name := fmt.Sprintf("%s(p=%g) %v %s", ewtUnaryNames[c.op], c.p, s, ewtLayoutNames[layout])
			x := ewtOperand(Float32, uint64(100+si), s, layout, c.domain)
			dy := ewtOperand(Float32, uint64(200+si), s, (layout+1)%ewtLayouts, nil)
			cudaDual(t, name, tol, []*Tensor{x}, func(dev Device, in []*Tensor) []*Tensor {
				dst := outOn(dev, s...)
				dev.Backend().Unary(c.op, dst, in[0], c.p)
				return []*Tensor{dst}
			})
			// The gradient from the CPU's forward output, so both sides
			// see the same y.
			y := Unary(c.op, x, c.p)
			cudaDual(t, name+" grad", tolG, []*Tensor{x, y, dy}, func(dev Device, in []*Tensor) []*Tensor {
				dx := outOn(dev, s...)
				dev.Backend().UnaryGrad(c.op, dx, in[0], in[1], in[2], c.p)
				return []*Tensor{dx}
			})
		}
	}
}

func TestCUDAWhere(t *testing.T) {
	shapes := [][3]Shape{{{}, {}, {}}, {{7}, {7}, {7}}, {{3, 1}, {1, 5}, {3, 5}}, {{2, 3, 4, 5}, {4, 1}, {}}, {{1000}, {1}, {1000}}}
	for si, sp := range shapes {
		for layout := 0; layout < ewtLayouts; layout++ {
			cond := ewtOperand(Float32, uint64(si), sp[0], layout, func(v float64) float64 { return math.Max(0, math.Round(v)) })
			a := ewtOperand(Float32, uint64(10+si), sp[1], (layout+1)%ewtLayouts, nil)
			b := ewtOperand(Float32, uint64(20+si), sp[2], (layout+2)%ewtLayouts, nil)
			name := fmt.Sprintf("Where %v %v %v %s", sp[0], sp[1], sp[2], ewtLayoutNames[layout])
			cudaDual(t, name, tolExact, []*Tensor{cond, a, b}, func(dev Device, in []*Tensor) []*Tensor {
				return []*Tensor{Where(in[0], in[1], in[2]), MaskedFill(in[1], cudaOnes(dev, in[1].shape...), -3)}
			})
		}
	}
}

// cudaOnes returns a float32 tensor of ones on dev.
func cudaOnes(dev Device, shape ...int) *Tensor {
	x := New(dev, Float32, shape...)
	x.Backend().Fill(x, 1)
	return x
}

func TestCUDAReduce(t *testing.T) {
	shapes := []Shape{{1}, {7}, {1000}, {7, 63}, {3, 1, 5}, {2, 3, 4, 5}, {65, 3, 129}}
	for si, s := range shapes {
		for layout := 0; layout < ewtLayouts; layout++ {
			a := ewtOperand(Float32, uint64(30+si), s, layout, nil)
			for bits := 1; bits < 1<<len(s); bits++ {
				marks, _ := rdtMarks(len(s), bits)
				kept := rdtKept(s, marks)
				for _, op := range []ReduceOp{OpSum, OpMean, OpMax} {
					tol := tolUlp
					if op == OpMax {
						tol = tolExact
					}
					name := fmt.Sprintf("Reduce %d %v %s axes %v", op, s, ewtLayoutNames[layout], marks)
					cudaDual(t, name, tol, []*Tensor{a}, func(dev Device, in []*Tensor) []*Tensor {
						dst := outOn(dev, kept...)
						dev.Backend().Reduce(op, dst, in[0], marks)
						return []*Tensor{dst}
					})
				}
			}
		}
	}
	// Broadcast input (stride 0 axes), and the rank-10 permuted view with
	// alternating reduced axes (more than cuda.MaxRank groups: two stages).
	bc := ewtRand(Float32, 5, 3, 1, 7).Expand(4, 3, 6, 7)
	hr := cudaHighRank(6)
	alt := []bool{true, false, true, false, true, false, true, false, true, false}
	for _, op := range []ReduceOp{OpSum, OpMean, OpMax} {
		tol := tolUlp
		if op == OpMax {
			tol = tolExact
		}
		cudaDual(t, fmt.Sprintf("Reduce %d broadcast / rank 10", op), cudaTol{tol.rtol * 4, 1e-6}, []*Tensor{bc, hr, hr.Contiguous()}, func(dev Device, in []*Tensor) []*Tensor {
			d1 := outOn(dev, 1, 3, 6, 1)
			dev.Backend().Reduce(op, d1, in[0], []bool{true, false, false, true})
			k := rdtKept(in[1].shape, alt)
			d2, d3 := outOn(dev, k...), outOn(dev, k...)
			dev.Backend().Reduce(op, d2, in[1], alt)
			dev.Backend().Reduce(op, d3, in[2], alt)
			return []*Tensor{d1, d2, d3}
		})
	}
	// Full sums through the op API, and SumSquares (float64 sums in another
	// order: 1e-12 relative).
	for si, s := range shapes {
		a := ewtOperand(Float32, uint64(60+si), s, si%ewtLayouts, nil)
		cudaDual(t, fmt.Sprintf("Sum/Mean/Max %v", s), tolUlp, []*Tensor{a}, func(dev Device, in []*Tensor) []*Tensor {
			return []*Tensor{Sum(in[0], false), Mean(in[0], true), Max(in[0], false, -1), SumTo(in[0].Expand(append(Shape{3}, s...)...), s)}
		})
		dev := testCUDA(t)
		got, want := SumSquares(cudaOn(a, dev)), SumSquares(a)
		if d := math.Abs(got - want); d > 1e-12*want {
			t.Fatalf("SumSquares %v: %.17g, want %.17g", s, got, want)
		}
	}
}

// matmulBound returns the elementwise error bound
// scale*(ein + 4*K*2^-24)*(|A||B|)_ij: ein is the relative error of one
// product from rounding the inputs (0 for FP32, 2^-10 for TF32, 2^-8 for
// BF16), 4*K*2^-24 the float32 accumulation on both sides; |A||B| is
// computed on the CPU in float64.
func matmulBound(a, b *Tensor, ta, tb bool, ein, scale float64) []float64 {
	k := a.shape[len(a.shape)-1]
	if ta {
		k = a.shape[len(a.shape)-2]
	}
	abs := func(x *Tensor) *Tensor { return Unary(OpAbs, x.To(CPU, Float64), 0) }
	p := MatMulT(abs(a), abs(b), ta, tb).Float64s()
	for i := range p {
		p[i] = scale*(ein+4*float64(max(k, 1))*0x1p-24)*p[i] + 1e-30
	}
	return p
}

func TestCUDAMatMul(t *testing.T) {
	dev := testCUDA(t)
	gpu := dev.(GPUDevice)
	type mmCase struct {
		a, b   Shape
		ta, tb bool
	}
	cases := []mmCase{
		{Shape{1, 1}, Shape{1, 1}, false, false},
		{Shape{7, 5}, Shape{5, 3}, false, false},
		{Shape{63, 130}, Shape{130, 65}, false, false},
		{Shape{130, 63}, Shape{130, 65}, true, false},
		{Shape{63, 130}, Shape{65, 130}, false, true},
		{Shape{130, 63}, Shape{65, 130}, true, true},
		{Shape{4, 33, 17}, Shape{4, 17, 9}, false, false},
		{Shape{4, 33, 17}, Shape{17, 9}, false, false},      // broadcast B
		{Shape{2, 1, 33, 17}, Shape{3, 9, 17}, false, true}, // broadcast both
		{Shape{1000, 128}, Shape{384, 128}, false, true},    // the model's projection shape, small
	}
	for _, prec := range []MatMulPrecision{PrecisionFP32, PrecisionTF32, PrecisionBF16} {
		ein := map[MatMulPrecision]float64{PrecisionFP32: 0, PrecisionTF32: 0x1p-10, PrecisionBF16: 0x1p-8}[prec]
		gpu.SetMatMulPrecision(prec)
		for ci, mc := range cases {
			a := ewtRand(Float32, uint64(70+ci), mc.a...)
			b := ewtRand(Float32, uint64(90+ci), mc.b...)
			name := fmt.Sprintf("%v MatMul %v(t=%v) %v(t=%v)", prec, mc.a, mc.ta, mc.b, mc.tb)
			want := MatMulT(a, b, mc.ta, mc.tb)
			got := MatMulT(cudaOn(a, dev), cudaOn(b, dev), mc.ta, mc.tb)
			cudaCompareBound(t, name, got, want, matmulBound(a, b, mc.ta, mc.tb, ein, 1))
			// Transposed views instead of flags, and MatMulInto with alpha,
			// beta into a poisoned (beta = 0) and a random (beta != 0) dst.
			r := len(mc.a)
			av := a.Transpose(r-2, r-1).Contiguous().Transpose(r-2, r-1)
			got = MatMulT(cudaOn(av, dev), cudaOn(b, dev), mc.ta, mc.tb)
			cudaCompareBound(t, name+" (transposed view)", got, want, matmulBound(a, b, mc.ta, mc.tb, ein, 1))
			dst := cudaPoison(dev, Float32, want.shape...)
			MatMulInto(dst, cudaOn(a, dev), cudaOn(b, dev), mc.ta, mc.tb, 0.5, 0)
			cudaCompareBound(t, name+" alpha=0.5", dst, Scale(want, 0.5), matmulBound(a, b, mc.ta, mc.tb, ein, 0.5))
			c0 := ewtRand(Float32, 5, want.shape...)
			gc, cOld := cudaOn(c0, dev), c0.Float64s()
			MatMulInto(c0, a, b, mc.ta, mc.tb, 2, -1.5)
			MatMulInto(gc, cudaOn(a, dev), cudaOn(b, dev), mc.ta, mc.tb, 2, -1.5)
			bound := matmulBound(a, b, mc.ta, mc.tb, ein, 2)
			for i := range bound {
				bound[i] += 4 * 0x1p-24 * math.Abs(1.5*cOld[i])
			}
			cudaCompareBound(t, name+" alpha=2 beta=-1.5", gc, c0, bound)
		}
	}
	gpu.SetMatMulPrecision(PrecisionFP32)
	// Permuted batch axes (uneven batch offsets: one launch per outer
	// index), K = 0 (dst = beta*dst) and empty products.
	base := ewtRand(Float32, 3, 3, 4, 5, 6) // [H, B, M, K] stored, used as [B, H, M, K]
	a := base.Permute(1, 0, 2, 3)
	b := ewtRand(Float32, 4, 4, 3, 6, 7)
	cudaCompareBound(t, "permuted batch", MatMul(cudaOn(a, dev), cudaOn(b, dev)), MatMul(a, b), matmulBound(a, b, false, false, 0, 1))
	z := cudaPoison(dev, Float32, 3, 4)
	MatMulInto(z, New(dev, Float32, 3, 0), New(dev, Float32, 0, 4), false, false, 1, 0)
	cudaCompare(t, "K=0", z, New(CPU, Float32, 3, 4), tolExact)
	if e := MatMul(New(dev, Float32, 0, 5), New(dev, Float32, 5, 3)); e.Numel() != 0 {
		t.Fatalf("empty product has %d elements", e.Numel())
	}
}

func cudaCompareBound(t *testing.T, what string, got, want *Tensor, bound []float64) {
	t.Helper()
	g, w := got.Float64s(), want.Float64s()
	if len(g) != len(w) || !got.Shape().Equal(want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	for i := range g {
		if d := math.Abs(g[i] - w[i]); !(d <= bound[i]) {
			t.Fatalf("%s: element %d is %.9g, want %.9g (|diff| %.3g > bound %.3g)", what, i, g[i], w[i], d, bound[i])
		}
	}
}

func TestCUDANorm(t *testing.T) {
	// Column counts cover the warp kernels (<= 1024, float4 and scalar
	// loads) and the block kernels (> 1024).
	for _, cols := range []int{1, 7, 64, 129, 1000, 1024, 1536, 4099} {
		for _, rows := range []int{1, 3, 67} {
			s := Shape{rows, cols}
			x := ewtRand(Float32, uint64(cols+rows), rows, cols)
			dy := ewtRand(Float32, uint64(cols+rows+1), rows, cols)
			gamma := Unary(OpAddScalar, ewtRand(Float32, 5, cols), 1)
			beta := ewtRand(Float32, 6, cols)
			// An unaligned row base: a view starting one element in.
			xOff := ewtRand(Float32, uint64(cols), rows*cols+1).Slice(0, 1, rows*cols+1).Reshape(rows, cols)
			name := fmt.Sprintf("[%d,%d]", rows, cols)
			// dgamma and dbeta sum rows terms of O(1) in another order.
			tolG := cudaTol{tolNormG.rtol, tolNormG.atol * float64(1+rows/8)}
			for _, log := range []bool{false, true} {
				cudaDual(t, fmt.Sprintf("Softmax log=%v %s", log, name), tolNorm, []*Tensor{x, dy, xOff}, func(dev Device, in []*Tensor) []*Tensor {
					y, y2 := outOn(dev, s...), outOn(dev, s...)
					dev.Backend().Softmax(y, in[0], log)
					dev.Backend().Softmax(y2, in[2], log)
					dx := outOn(dev, s...)
					dev.Backend().SoftmaxGrad(dx, y, in[1], log)
					return []*Tensor{y, y2, dx}
				})
			}
			for _, withG := range []bool{false, true} {
				g, bt := gamma, beta
				if !withG {
					g, bt = nil, nil
				}
				cudaDual(t, fmt.Sprintf("LayerNorm gamma=%v %s", withG, name), tolG, []*Tensor{x, dy, g, bt, xOff}, func(dev Device, in []*Tensor) []*Tensor {
					y, mean, rstd := outOn(dev, s...), outOn(dev, rows), outOn(dev, rows)
					dev.Backend().LayerNorm(y, mean, rstd, in[0], in[2], in[3], 1e-5)
					y2, m2, r2 := outOn(dev, s...), outOn(dev, rows), outOn(dev, rows)
					dev.Backend().LayerNorm(y2, m2, r2, in[4], in[2], in[3], 1e-5)
					dx := outOn(dev, s...)
					var dg, db *Tensor
					if in[2] != nil {
						dg, db = outOn(dev, cols), outOn(dev, cols)
					}
					dev.Backend().LayerNormGrad(dx, dg, db, in[1], in[0], mean, rstd, in[2])
					return []*Tensor{y, mean, rstd, y2, dx, dg, db}
				})
				cudaDual(t, fmt.Sprintf("RMSNorm gamma=%v %s", withG, name), tolG, []*Tensor{x, dy, g, xOff}, func(dev Device, in []*Tensor) []*Tensor {
					y, rstd := outOn(dev, s...), outOn(dev, rows)
					dev.Backend().RMSNorm(y, rstd, in[0], in[2], 1e-5)
					y2, r2 := outOn(dev, s...), outOn(dev, rows)
					dev.Backend().RMSNorm(y2, r2, in[3], in[2], 1e-5)
					dx := outOn(dev, s...)
					var dg *Tensor
					if in[2] != nil {
						dg = outOn(dev, cols)
					}
					dev.Backend().RMSNormGrad(dx, dg, in[1], in[0], rstd, in[2])
					return []*Tensor{y, rstd, y2, dx, dg}
				})
			}
			cudaDual(t, "SwiGLU "+name, tolTrans, []*Tensor{x, dy, gamma.Expand(rows, cols).Contiguous()}, func(dev Device, in []*Tensor) []*Tensor {
				y := outOn(dev, s...)
				dev.Backend().SwiGLU(y, in[0], in[2])
				dg, du := outOn(dev, s...), outOn(dev, s...)
				dev.Backend().SwiGLUGrad(dg, du, in[1], in[0], in[2])
				return []*Tensor{y, dg, du}
			})
		}
	}
	// Through the op API with a higher-rank input.
	x := ewtRand(Float32, 9, 2, 3, 5, 40)
	cudaDual(t, "norm ops rank 4", tolNormG, []*Tensor{x}, func(dev Device, in []*Tensor) []*Tensor {
		y, m, r := LayerNorm(in[0], nil, nil, 1e-5)
		z, r2 := RMSNorm(in[0].Transpose(1, 2), nil, 1e-6)
		return []*Tensor{y, m, r, z, r2, Softmax(in[0]), LogSoftmax(in[0].Permute(3, 1, 2, 0))}
	})
}

// TestCUDAAttention compares the GPU attention with the CPU's on the
// shapes of nori's feature attention (few keys: the exact float32
// short-sequence kernels, Nk <= 128 with D <= 64) and longer contexts (the
// flash kernels, bf16 tensor cores), q, k, v as views of a packed projection
// and optional per-row query scales. Tolerances, |diff| <= tol*(|want| +
// max|want|) over each output: short path 1e-5 for out and lse, 1e-4 for the
// gradients (float32 sums in another order; gradients cancel); flash path
// 2e-2 and 4e-2 (kernels/cuda states about 1e-2 of the output scale from
// the bf16 rounding of q, k, v, dout, P and dS).
func TestCUDAAttention(t *testing.T) {
	cases := []attnCase{
		{b: 1, h: 1, nq: 1, nk: 1, d: 8, scale: 0.35, std: 1},
		{b: 2, h: 3, nq: 7, nk: 7, d: 16, self: true, scale: 0.25, std: 1},
		{b: 2, h: 2, nq: 33, nk: 100, d: 32, qscale: true, scale: 0.18, std: 1},
		{b: 1, h: 4, nq: 128, nk: 128, d: 64, self: true, qscale: true, scale: 0.125, std: 1},
		{b: 1, h: 2, nq: 200, nk: 300, d: 64, scale: 0.125, std: 1.5},
		{b: 2, h: 1, nq: 129, nk: 129, d: 16, self: true, scale: 0.25, std: 1},
	}
	for ci, c := range cases {
		q, k, v, qs := attnInputs(c, Float32, uint64(ci+1))
		dout := attnRand(Float32, uint64(ci+50), 1, c.b, c.h, c.nq, c.d)
		in := []*Tensor{q, k, v, qs, dout}
		dev := testCUDA(t)
		run := func(dev Device, in []*Tensor) []*Tensor {
			out, lse := Attention(in[0], in[1], in[2], in[3], c.scale)
			dq, dk, dv, dqs := AttentionGrad(in[4], in[0], in[1], in[2], in[3], out, lse, c.scale)
			return []*Tensor{out, lse, dq, dk, dv, dqs}
		}
		want := run(CPU, in)
		gin := make([]*Tensor, len(in))
		for i, x := range in {
			gin[i] = cudaOn(x, dev)
		}
		got := run(dev, gin)
		for i := range want {
			if want[i] == nil {
				continue
			}
			w, g := want[i].Float64s(), got[i].Float64s()
			mx := maxAbsF64(w)
			if i == 2 || i == 3 {
				// dq and dk sum dS = P (dP - delta), which cancels (to 0
				// exactly with one key) while its terms are as large as
				// dv's: scale their tolerance by max |dv| too.
				mx = max(mx, maxAbsF64(want[4].Float64s()))
			}
			tol := 1e-5
			if c.nk > 128 {
				tol = 2e-2
			}
			if i >= 2 {
				tol *= 2
				if c.nk <= 128 {
					tol = 1e-4
				}
			}
			for j := range w {
				if d := math.Abs(g[j] - w[j]); !(d <= tol*(math.Abs(w[j])+mx)) {
					t.Fatalf("%v output %d element %d: %.7g, want %.7g (max|want| %.3g)", c, i, j, g[j], w[j], mx)
				}
			}
		}
	}
}

func TestCUDAIndex(t *testing.T) {
	shapes := []Shape{{7}, {5, 3}, {4, 6, 9}, {2, 3, 4, 5}}
	for si, s := range shapes {
		for axis := range s {
			for layout := 0; layout < ewtLayouts; layout++ {
				a := ewtOperand(Float32, uint64(si), s, layout, nil)
				rng := NewRNG(uint64(si*10+axis), 0)
				idx := make([]int, 2*s[axis]+1) // repeats, for IndexAdd's order
				for i := range idx {
					idx[i] = rng.Intn(s[axis])
				}
				sel := s.Clone()
				sel[axis] = len(idx)
				src := ewtOperand(Float32, uint64(si+40), sel, (layout+1)%ewtLayouts, nil)
				name := fmt.Sprintf("Index %v axis %d %s", s, axis, ewtLayoutNames[layout])
				cudaDual(t, name, tolUlp, []*Tensor{a, src}, func(dev Device, in []*Tensor) []*Tensor {
					d := outOn(dev, sel...)
					dev.Backend().IndexSelect(d, in[0], axis, idx)
					acc := in[0].Contiguous().Clone()
					dev.Backend().IndexAdd(acc, axis, idx, in[1])
					return []*Tensor{d, acc}
				})
			}
		}
	}
}

func TestCUDALossOptim(t *testing.T) {
	dev := testCUDA(t)
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {1000, 63}, {4099, 9}} {
		n, q := sz[0], sz[1]
		pred := ewtRand(Float32, 1, n, q)
		target := ewtRand(Float32, 2, n)
		// Exact ties between pred and target on some rows.
		pd := pred.F32Data()
		for i := 0; i < n; i += 5 {
			pd[i*q] = target.F32Data()[i]
		}
		taus := RandUniform(3, 0.01, 0.99, q)
		name := fmt.Sprintf("Pinball [%d,%d]", n, q)
		got := Pinball(cudaOn(pred, dev), cudaOn(target, dev), cudaOn(taus, dev)).Item()
		want := Pinball(pred, target, taus).Item()
		if d := math.Abs(got - want); d > 0x1p-23*math.Abs(want) {
			t.Fatalf("%s: %.9g, want %.9g", name, got, want)
		}
		cudaDual(t, name+" grad", tolUlp, []*Tensor{pred, target, taus}, func(dev Device, in []*Tensor) []*Tensor {
			d := outOn(dev, n, q)
			dev.Backend().PinballGrad(d, in[0], in[1], in[2], 0.7)
			return []*Tensor{d}
		})
	}
	for _, n := range []int{1, 7, 1000, 100003} {
		p, g := ewtRand(Float32, 1, n), ewtRand(Float32, 2, n)
		m := ewtRand(Float32, 3, n)
		v := Unary(OpAbs, ewtRand(Float32, 4, n), 0)
		cudaDual(t, fmt.Sprintf("AdamW/Axpby %d", n), tolOptim, []*Tensor{p, g, m, v}, func(dev Device, in []*Tensor) []*Tensor {
			p, g, m, v := in[0].Clone(), in[1], in[2].Clone(), in[3].Clone()
			for step := 1; step <= 3; step++ {
				bc1, bc2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.95, float64(step))
				AdamW(p, g, m, v, 1e-2, 0.9, 0.95, 1e-8, 0.01, bc1, bc2)
			}
			y := in[1].Clone()
			Axpby(y, in[0], 0.9, -0.3)
			return []*Tensor{p, m, v, y}
		})
	}
}
