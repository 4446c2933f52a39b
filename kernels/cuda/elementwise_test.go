//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tests of the elementwise family against kernels/ref on random inputs
// (never zeros; positive where the op needs it), with the operands laid out
// densely, at a misaligned offset, permuted, strided and broadcast, and the
// outputs poisoned with NaN first. Tolerances: bit-exact for ops built from
// IEEE operations (the kernels evaluate the reference's double formula in
// the same order, without FMA contraction); at most 1 float32 ulp where a
// CUDA libm function (exp, log, tanh, erf, pow) enters, since it may differ
// from Go's in the last bit of the double.

// ewView is a float32 test operand: host storage and the layout of the
// logical tensor in it.
type ewView struct {
	data []float32
	l    Layout
}

// ewMake lays out a tensor of shape as kind, filling the storage with gen:
//
//	contig  dense row-major at offset 0 (16-byte aligned: the float4 path)
//	offset  dense row-major at offset 1 (misaligned: the scalar path)
//	perm    dense in reversed axis order (a transposed view)
//	strided every other element of the last axis, at offset 3
func ewMake(shape []int, kind string, gen func() float32) ewView {
	var v ewView
	v.l.Rank = len(shape)
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	switch kind {
	case "contig", "offset":
		c := Contiguous(shape...)
		v.l.Strides = c.Strides
		if kind == "offset" {
			v.l.Offset = 1
		}
	case "perm":
		s := int64(1)
		for k := 0; k < len(shape); k++ {
			v.l.Strides[k] = s
			s *= int64(shape[k])
		}
	case "strided":
		s := int64(2)
		for k := len(shape) - 1; k >= 0; k-- {
			v.l.Strides[k] = s
			s *= int64(shape[k])
		}
		v.l.Offset = 3
		n *= 2
	default:
		panic("ewMake: unknown kind " + kind)
	}
	for k, d := range shape {
		v.l.Shape[k] = int64(d)
	}
	v.data = make([]float32, v.l.Offset+n+1)
	for i := range v.data {
		v.data[i] = gen()
	}
	return v
}

// ewBroadcast returns v's layout broadcast to shape (stride 0 where v has
// size 1 and shape does not).
func ewBroadcast(l Layout, shape []int) Layout {
	for k, d := range shape {
		if l.Shape[k] == 1 && d != 1 {
			l.Shape[k], l.Strides[k] = int64(d), 0
		}
	}
	return l
}

// ewGather returns the elements of layout l over data in row-major order.
func ewGather(data []float32, l Layout) []float32 {
	n := l.Numel()
	out := make([]float32, n)
	var idx [MaxRank]int64
	for i := int64(0); i < n; i++ {
		off := l.Offset
		for k := 0; k < l.Rank; k++ {
			off += idx[k] * l.Strides[k]
		}
		out[i] = data[off]
		for k := l.Rank - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < l.Shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// ewULP is the distance in float32 ulps (0 when both are NaN; huge when
// one is).
func ewULP(a, b float32) int64 {
	an, bn := a != a, b != b
	if an || bn {
		if an && bn {
			return 0
		}
		return math.MaxInt64
	}
	ord := func(f float32) int64 {
		i := int64(int32(math.Float32bits(f)))
		if i < 0 {
			i = math.MinInt32 - i
		}
		return i
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

// ewCheck fails when some element differs from want by more than tol ulps
// (tol 0: the same bits, or both NaN).
func ewCheck(t testing.TB, what string, got, want []float32, tol int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		d := ewULP(got[i], want[i])
		if tol == 0 && d == 0 && got[i] == got[i] && math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			d = 1 // exact means the bits: -0 is not +0
		}
		if d > tol {
			if bad < 5 {
				t.Errorf("%s: element %d = %v (%#08x), want %v (%#08x), %d ulp (tolerance %d)", what, i, got[i],
					math.Float32bits(got[i]), want[i], math.Float32bits(want[i]), d, tol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements outside the tolerance", what, bad, len(want))
	}
}

func ewNumel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Generators: normal values, positive values in [0.05, 4), and a small set
// with ties for Eq.
func ewNormal(rng *rand.Rand) func() float32 {
	return func() float32 { return float32(2 * rng.NormFloat64()) }
}
func ewPositive(rng *rand.Rand) func() float32 {
	return func() float32 { return float32(0.05 + 3.95*rng.Float64()) }
}
func ewSmallSet(rng *rand.Rand, special bool) func() float32 {
	vals := []float32{-1, 0.5, 2, 3.25}
	if special { // Go's max/min: NaN wins, +0 > -0
		vals = append(vals, float32(math.NaN()), 0, float32(math.Copysign(0, -1)))
	}
	return func() float32 { return vals[rng.IntN(len(vals))] }
}

// ewUnaryOps returns the unary ops in increasing order.
func ewUnaryOps() []ref.UnaryOp {
	var ops []ref.UnaryOp
	for op := range unaryKernels {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i] < ops[j] })
	return ops
}

// ewUnaryParam is the p each test uses, whether the op needs positive
// inputs, and the tolerance of the forward and gradient results.
func ewUnaryParam(op ref.UnaryOp) (p float64, positive bool, tolF, tolG int64) {
	switch op {
	case ref.OpExp, ref.OpTanh, ref.OpSigmoid:
		return 0, false, 1, 0 // the gradients read y: IEEE operations only
	case ref.OpSiLU, ref.OpGELUTanh, ref.OpGELUErf:
		return 0, false, 1, 1
	case ref.OpLog:
		return 0, true, 1, 0
	case ref.OpSqrt:
		return 0, true, 0, 0
	case ref.OpScale:
		return -0.7, false, 0, 0
	case ref.OpAddScalar:
		return 0.3, false, 0, 0
	case ref.OpPowScalar:
		return 1.7, true, 1, 1
	case ref.OpClampMin:
		return 0.1, false, 0, 0
	case ref.OpClampMax:
		return -0.2, false, 0, 0
	}
	return 0, false, 0, 0
}

var ewShapes = [][]int{{1}, {7}, {63}, {1000}, {100003}, {3, 1, 5, 7, 2}, {4, 63, 5}}
var ewKinds = []string{"contig", "offset", "perm", "strided"}

func TestElementwiseUnary(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, op := range ewUnaryOps() {
		p, positive, tol, _ := ewUnaryParam(op)
		gen := ewNormal(rng)
		if positive {
			gen = ewPositive(rng)
		}
		for _, shape := range ewShapes {
			for _, kind := range ewKinds {
				a := ewMake(shape, kind, gen)
				n := ewNumel(shape)
				want := ewGather(a.data, a.l)
				ref.Unary(op, want, want, p)
				da := upload(t, r, a.data)
				dst := poisoned(t, r, n)
				if err := r.Unary(int(op), dst, da, a.l, n, p); err != nil {
					t.Fatal(err)
				}
				ewCheck(t, fmt.Sprintf("Unary %s %v %s", unaryKernels[op], shape, kind), download(t, r, dst, n), want, tol)
				freeAll(t, r, da, dst)
			}
		}
	}
}

func TestElementwiseUnaryGrad(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, op := range ewUnaryOps() {
		p, positive, _, tol := ewUnaryParam(op)
		gen := ewNormal(rng)
		if positive {
			gen = ewPositive(rng)
		}
		usesX, usesY := ref.UnaryGradInputs(op)
		for _, shape := range ewShapes {
			for ki, kind := range ewKinds {
				n := ewNumel(shape)
				x := ewMake(shape, kind, gen)
				xs := ewGather(x.data, x.l)
				ys := make([]float32, n)
				ref.Unary(op, ys, xs, p)
				// y dense; dy in the next layout kind, so the operands differ.
				y := ewView{data: ys, l: Contiguous(shape...)}
				dy := ewMake(shape, ewKinds[(ki+2)%len(ewKinds)], ewNormal(rng))
				want := make([]float32, n)
				ref.UnaryGrad(op, want, xs, ys, ewGather(dy.data, dy.l), p)
				dx, dy0 := upload(t, r, x.data), upload(t, r, y.data)
				ddy := upload(t, r, dy.data)
				out := poisoned(t, r, n)
				// The unused inputs go as nil pointers with zero layouts.
				px, pxl, py, pyl := dx, x.l, dy0, y.l
				if !usesX {
					px, pxl = 0, Layout{}
				}
				if !usesY {
					py, pyl = 0, Layout{}
				}
				if err := r.UnaryGrad(int(op), out, px, pxl, py, pyl, ddy, dy.l, n, p); err != nil {
					t.Fatal(err)
				}
				ewCheck(t, fmt.Sprintf("UnaryGrad %s %v x %s", unaryKernels[op], shape, kind), download(t, r, out, n), want, tol)
				freeAll(t, r, dx, dy0, ddy, out)
			}
		}
	}
}

// ewBinaryCase is a broadcast pattern: dst shape, the operands' own shapes
// and layout kinds, and dst's kind ("contig" or "strided").
type ewBinaryCase struct {
	dst, a, b           []int
	aKind, bKind, dKind string
}

var ewBinaryCases = []ewBinaryCase{
	{[]int{1}, []int{1}, []int{1}, "contig", "contig", "contig"},
	{[]int{7}, []int{7}, []int{7}, "contig", "contig", "contig"},
	{[]int{1000}, []int{1000}, []int{1000}, "contig", "contig", "contig"},
	{[]int{100003}, []int{100003}, []int{100003}, "contig", "contig", "contig"},
	{[]int{1000}, []int{1000}, []int{1000}, "offset", "contig", "contig"},
	{[]int{63}, []int{63}, []int{1}, "contig", "contig", "contig"},
	{[]int{63}, []int{1}, []int{63}, "contig", "strided", "contig"},
	{[]int{7, 63, 5}, []int{7, 1, 5}, []int{1, 63, 5}, "contig", "contig", "contig"},
	{[]int{7, 63, 5}, []int{7, 63, 5}, []int{7, 63, 5}, "perm", "strided", "contig"},
	{[]int{7, 63, 5}, []int{7, 1, 5}, []int{1, 63, 1}, "perm", "strided", "strided"},
	{[]int{2, 3, 4, 5, 6}, []int{2, 1, 4, 1, 6}, []int{1, 3, 4, 5, 1}, "perm", "strided", "contig"},
}

func TestElementwiseBinary(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for op := ref.OpAdd; op <= ref.OpPow; op++ {
		name, ok := binaryKernels[op]
		if !ok {
			t.Fatalf("no kernel for binary op %d", op)
		}
		genA, genB, tol := ewNormal(rng), ewNormal(rng), int64(0)
		switch op {
		case ref.OpPow:
			genA, tol = ewPositive(rng), 1
		case ref.OpEq:
			genA, genB = ewSmallSet(rng, false), ewSmallSet(rng, false) // ties
		case ref.OpMaximum, ref.OpMinimum:
			genA, genB = ewSmallSet(rng, true), ewSmallSet(rng, true)
		}
		for _, c := range ewBinaryCases {
			a, b := ewMake(c.a, c.aKind, genA), ewMake(c.b, c.bKind, genB)
			al, bl := ewBroadcast(a.l, c.dst), ewBroadcast(b.l, c.dst)
			n := ewNumel(c.dst)
			want := make([]float32, n)
			ref.Binary(op, want, ewGather(a.data, al), 1, ewGather(b.data, bl), 1)
			d := ewMake(c.dst, c.dKind, func() float32 { return float32(math.NaN()) })
			da, db := upload(t, r, a.data), upload(t, r, b.data)
			dd := poisoned(t, r, len(d.data))
			if err := r.Binary(int(op), dd, da, al, db, bl, d.l); err != nil {
				t.Fatal(err)
			}
			got := download(t, r, dd, len(d.data))
			what := fmt.Sprintf("Binary %s %v = %v(%s) op %v(%s), dst %s", name, c.dst, c.a, c.aKind, c.b, c.bKind, c.dKind)
			ewCheck(t, what, ewGather(got, d.l), want, tol)
			ewCheckUntouched(t, what, got, d.l)
			freeAll(t, r, da, db, dd)
		}
	}
}

// ewCheckUntouched fails when an element of storage outside layout l lost
// its NaN poison (a kernel wrote out of place).
func ewCheckUntouched(t testing.TB, what string, storage []float32, l Layout) {
	t.Helper()
	in := make([]bool, len(storage))
	var idx [MaxRank]int64
	for i := int64(0); i < l.Numel(); i++ {
		off := l.Offset
		for k := 0; k < l.Rank; k++ {
			off += idx[k] * l.Strides[k]
		}
		in[off] = true
		for k := l.Rank - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < l.Shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	for i, v := range storage {
		if !in[i] && v == v {
			t.Fatalf("%s: storage element %d outside the output was written (%v)", what, i, v)
		}
	}
}

func TestElementwiseWhere(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(7, 8))
	condVals := []float32{0, 1, -2, float32(math.NaN()), 0, 0.5}
	genCond := func() float32 { return condVals[rng.IntN(len(condVals))] }
	for _, c := range ewBinaryCases {
		cond := ewMake(c.b, c.bKind, genCond)
		a, b := ewMake(c.a, c.aKind, ewNormal(rng)), ewMake(c.dst, "perm", ewNormal(rng))
		cl, al, bl := ewBroadcast(cond.l, c.dst), ewBroadcast(a.l, c.dst), b.l
		n := ewNumel(c.dst)
		want := make([]float32, n)
		ref.Where(want, ewGather(cond.data, cl), 1, ewGather(a.data, al), 1, ewGather(b.data, bl), 1)
		d := ewMake(c.dst, c.dKind, func() float32 { return float32(math.NaN()) })
		dc, da, db := upload(t, r, cond.data), upload(t, r, a.data), upload(t, r, b.data)
		dd := poisoned(t, r, len(d.data))
		if err := r.Where(dd, d.l, dc, cl, da, al, db, bl); err != nil {
			t.Fatal(err)
		}
		got := download(t, r, dd, len(d.data))
		what := fmt.Sprintf("Where %v cond %v(%s) a %v(%s)", c.dst, c.b, c.bKind, c.a, c.aKind)
		ewCheck(t, what, ewGather(got, d.l), want, 0)
		ewCheckUntouched(t, what, got, d.l)
		freeAll(t, r, dc, da, db, dd)
	}
	// Same-shape dense operands take the float4 path.
	n := 100003
	cond, a, b := ewMake([]int{n}, "contig", genCond), ewMake([]int{n}, "contig", ewNormal(rng)), ewMake([]int{n}, "contig", ewNormal(rng))
	want := make([]float32, n)
	ref.Where(want, cond.data, 1, a.data, 1, b.data, 1)
	dc, da, db := upload(t, r, cond.data), upload(t, r, a.data), upload(t, r, b.data)
	dd := poisoned(t, r, n)
	l := Contiguous(n)
	if err := r.Where(dd, l, dc, l, da, l, db, l); err != nil {
		t.Fatal(err)
	}
	ewCheck(t, "Where dense", download(t, r, dd, n), want[:n], 0)
	freeAll(t, r, dc, da, db, dd)
}

// TestElementwiseErrors checks that bad arguments are errors, not launches.
func TestElementwiseErrors(t *testing.T) {
	r := testRuntime(t)
	l := Contiguous(7)
	if err := r.Unary(999, 0, 0, l, 7, 0); err == nil {
		t.Error("Unary accepted an unknown op")
	}
	if err := r.Unary(int(ref.OpExp), 0, 0, l, 8, 0); err == nil {
		t.Error("Unary accepted n different from the layout's size")
	}
	if err := r.Binary(int(ref.OpAdd), 0, 0, l, 0, Contiguous(8), l); err == nil {
		t.Error("Binary accepted operands of different shapes")
	}
	bad := l
	bad.Strides[0] = 0
	if err := r.Binary(int(ref.OpAdd), 0, 0, l, 0, l, bad); err == nil {
		t.Error("Binary accepted an output with stride 0")
	}
}

// ewBench times run b.N times on the GPU and a device-to-device copy moving
// the same number of bytes (bytes/2 read and bytes/2 written) in the same
// run, and reports GB/s for both and their ratio (x_copy).
func ewBench(b *testing.B, r *Runtime, bytes int64, run func() error) {
	b.Helper()
	half := bytes / 2
	cs, err := r.Alloc(half)
	if err != nil {
		b.Fatal(err)
	}
	cd, err := r.Alloc(half)
	if err != nil {
		b.Fatal(err)
	}
	defer freeAll(b, r, cs, cd)
	if err := run(); err != nil { // warm up (module JIT, allocator)
		b.Fatal(err)
	}
	if err := r.CopyDtoD(cd, cs, half); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	ms, err := r.Time(func() error {
		for i := 0; i < b.N; i++ {
			if err := run(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cms, err := r.Time(func() error {
		for i := 0; i < b.N; i++ {
			if err := r.CopyDtoD(cd, cs, half); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	gbs := float64(bytes) * float64(b.N) / (ms * 1e-3) / 1e9
	cgbs := float64(bytes) * float64(b.N) / (cms * 1e-3) / 1e9
	b.ReportMetric(gbs, "GB/s")
	b.ReportMetric(cgbs, "copy_GB/s")
	b.ReportMetric(gbs/cgbs, "x_copy")
}

// ewRandBuf allocates n float32 filled with U[-1, 1) on the device.
func ewRandBuf(b *testing.B, r *Runtime, n int, seed uint64) Ptr {
	p, err := r.Alloc(int64(4 * n))
	if err != nil {
		b.Fatal(err)
	}
	if err := r.RandUniform(p, n, seed, 0, -1, 1); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkElementwiseAddContig: 16M-element dense Add (float4 path).
func BenchmarkElementwiseAddContig(b *testing.B) {
	r := testRuntime(b)
	n := 1 << 24
	a, c, d := ewRandBuf(b, r, n, 1), ewRandBuf(b, r, n, 2), ewRandBuf(b, r, n, 3)
	defer freeAll(b, r, a, c, d)
	l := Contiguous(n)
	ewBench(b, r, int64(12*n), func() error { return r.Binary(int(ref.OpAdd), d, a, l, c, l, l) })
}

// BenchmarkElementwiseAddBroadcast: [4096, 4096] + [1, 4096] (a bias add,
// the strided kernel with one index split per element).
func BenchmarkElementwiseAddBroadcast(b *testing.B) {
	r := testRuntime(b)
	m, k := 4096, 4096
	a, c, d := ewRandBuf(b, r, m*k, 1), ewRandBuf(b, r, k, 2), ewRandBuf(b, r, m*k, 3)
	defer freeAll(b, r, a, c, d)
	l := Contiguous(m, k)
	bl := ewBroadcast(Contiguous(1, k), []int{m, k})
	ewBench(b, r, int64(8*m*k+4*k), func() error { return r.Binary(int(ref.OpAdd), d, a, l, c, bl, l) })
}
