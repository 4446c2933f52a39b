package tensor

import (
	"fmt"
	"math"
	"testing"
)

// Tests of Reduce and SumSquares (cpu_reduce.go). The reference walks the
// input in row-major order and adds each element into its output slot in
// float64, which adds every output's elements in increasing index order,
// exactly the documented order of the kernel; Sum, Mean and Max must
// therefore match it bit for bit (after rounding to the dtype). SumSquares
// sums in ReduceFloat64's chunked order and is compared with a sequential
// float64 sum to a relative 1e-12.

var rdtNames = [...]string{"Sum", "Mean", "Max"}

// rdtRef reduces the logical values of a (shape s) over the marked axes.
func rdtRef(op ReduceOp, vals []float64, s Shape, axes []bool) []float64 {
	out := s.Clone()
	for i, m := range axes {
		if m {
			out[i] = 1
		}
	}
	res := make([]float64, out.Numel())
	count := make([]int, len(res))
	ewtForEach(s, func(i int, idx []int) {
		o := 0
		for k, d := range out {
			if d != 1 {
				o = o*d + idx[k]
			}
		}
		v := vals[i]
		switch {
		case op != OpMax:
			res[o] += v
		case count[o] == 0 || math.IsNaN(v):
			res[o] = v
		case v > res[o]: // false while res[o] is NaN, which therefore sticks
			res[o] = v
		}
		count[o]++
	})
	if op == OpMean {
		for o := range res {
			res[o] /= float64(count[o])
		}
	}
	return res
}

// rdtMarks returns the axis marks of subset bits.
func rdtMarks(rank, bits int) (marks []bool, axes []int) {
	marks = make([]bool, rank)
	for i := range marks {
		if bits&(1<<i) != 0 {
			marks[i] = true
			axes = append(axes, i)
		}
	}
	return
}

// rdtKept is s with the marked axes set to 1.
func rdtKept(s Shape, marks []bool) Shape {
	k := s.Clone()
	for i, m := range marks {
		if m {
			k[i] = 1
		}
	}
	return k
}

// rdtBroadcast returns a [3, 4, 5] operand that is a stride-0 expansion of
// a [4, 5] (permuted) tensor, so reductions over the broadcast axis are
// covered.
func rdtBroadcast(dt DType, seed uint64) *Tensor {
	return ewtOperand(dt, seed, Shape{4, 5}, ewtPermuted, nil).Unsqueeze(0).Expand(3, 4, 5)
}

// TestReduceAxisSubsets checks Sum, Mean and Max over every subset of axes of
// tensors of rank 0 to 4 in every layout (and a broadcast view), into
// poisoned outputs, bit for bit against the ordered float64 reference.
func TestReduceAxisSubsets(t *testing.T) {
	shapes := []Shape{{}, {1}, {7}, {1000}, {7, 63}, {3, 1, 5}, {2, 3, 4, 5}, {1, 63, 1, 7}}
	for _, dt := range ewtDTypes {
		type operand struct {
			name string
			a    *Tensor
		}
		ops := []operand{{"[3 4 5] broadcast from [4 5]", rdtBroadcast(dt, 7)}}
		for si, s := range shapes {
			for layout := 0; layout < ewtLayouts; layout++ {
				ops = append(ops, operand{fmt.Sprintf("%v(%s)", s, ewtLayoutNames[layout]), ewtOperand(dt, uint64(20+si), s, layout, nil)})
			}
		}
		for _, x := range ops {
			s, vals := x.a.Shape(), ewtValues(x.a)
			for bits := 0; bits < 1<<len(s); bits++ {
				marks, axes := rdtMarks(len(s), bits)
				for op := OpSum; op <= OpMax; op++ {
					name := fmt.Sprintf("%v %s %s axes %v", dt, rdtNames[op], x.name, axes)
					dst := ewtPoison(dt, rdtKept(s, marks)...)
					CPU.Backend().Reduce(op, dst, x.a, marks)
					ewtExact(t, name, dt, ewtValues(dst), rdtRef(op, vals, s, marks))
				}
			}
		}
	}
}

// TestReduceWrappers checks the op wrappers: keepDims, negative axes, the
// all-axes default and the squeezed result shapes.
func TestReduceWrappers(t *testing.T) {
	a := ewtOperand(Float64, 30, Shape{2, 3, 4, 5}, ewtSliced, nil)
	vals := ewtValues(a)
	marks := []bool{false, true, false, true}
	for op, f := range []func(*Tensor, bool, ...int) *Tensor{Sum, Mean, Max} {
		want := rdtRef(ReduceOp(op), vals, a.Shape(), marks)
		k := f(a, true, -1, 1)
		if !k.Shape().Equal(Shape{2, 1, 4, 1}) {
			t.Fatalf("%s keepDims shape %v", rdtNames[op], k.Shape())
		}
		ewtExact(t, rdtNames[op], Float64, k.Float64s(), want)
		s := f(a, false, 1, 3)
		if !s.Shape().Equal(Shape{2, 4}) {
			t.Fatalf("%s shape %v", rdtNames[op], s.Shape())
		}
		ewtExact(t, rdtNames[op], Float64, s.Float64s(), want)
		all := f(a, false)
		if all.Rank() != 0 {
			t.Fatalf("%s over all axes has shape %v", rdtNames[op], all.Shape())
		}
		ewtExact(t, rdtNames[op]+" all", Float64, all.Float64s(), rdtRef(ReduceOp(op), vals, a.Shape(), []bool{true, true, true, true}))
	}
}

// TestReduceLargeAndWorkers covers both walks (innermost axis reduced or
// kept, strips longer than one block) at sizes where the work is split, bit
// for bit against the reference and between 1 and 2 workers.
func TestReduceLargeAndWorkers(t *testing.T) {
	type tc struct {
		s      Shape
		layout int
		bits   int
	}
	cases := []tc{
		{Shape{300, 1100}, ewtContig, 1},     // columns, strips of 1024 + rest
		{Shape{300, 1100}, ewtStride2, 2},    // inner, strided last axis
		{Shape{300, 1100}, ewtPermuted, 1},   // columns of stride 300, strips of 1024 + rest
		{Shape{700, 3, 100}, ewtStride2, 2},  // columns of stride 2, tasks start mid-row
		{Shape{300, 1100}, ewtPermuted, 3},   // full reduction of a transposed view
		{Shape{40, 33, 60}, ewtPermuted, 5},  // axes 0 and 2, innermost reduced
		{Shape{40, 33, 60}, ewtSliced, 2},    // middle axis, innermost kept
		{Shape{5000, 3}, ewtContig, 1},       // columns of width 3
		{Shape{3, 40000}, ewtContig, 2},      // few long rows
		{Shape{100003}, ewtContig, 1},        // one output, long sum
		{Shape{64, 2, 1000}, ewtStride2, 6},  // two trailing axes
		{Shape{1000, 2, 64}, ewtPermuted, 1}, // outer axis of a permuted view
	}
	for _, dt := range ewtDTypes {
		for ci, c := range cases {
			a := ewtOperand(dt, uint64(40+ci), c.s, c.layout, nil)
			marks, axes := rdtMarks(len(c.s), c.bits)
			vals := ewtValues(a)
			for op := OpSum; op <= OpMax; op++ {
				name := fmt.Sprintf("%v %s %v(%s) axes %v", dt, rdtNames[op], c.s, ewtLayoutNames[c.layout], axes)
				run := func() []*Tensor {
					dst := ewtPoison(dt, rdtKept(c.s, marks)...)
					CPU.Backend().Reduce(op, dst, a, marks)
					return []*Tensor{dst}
				}
				ewtExact(t, name, dt, ewtValues(run()[0]), rdtRef(op, vals, c.s, marks))
				ewtSameBits(t, name, run)
			}
		}
	}
}

// TestReduceSpecialValues covers NaN propagation in Max and empty axes.
func TestReduceSpecialValues(t *testing.T) {
	nan := math.NaN()
	a := FromFloat64s([]float64{1, nan, 3, 4, 5, 6}, 2, 3)
	ewtExact(t, "Max rows", Float64, Max(a, false, 1).Float64s(), []float64{nan, 6})
	ewtExact(t, "Max cols", Float64, Max(a, false, 0).Float64s(), []float64{4, nan, 6})
	e := New(CPU, Float32, 3, 0)
	ewtExact(t, "Sum empty", Float32, Sum(e, false, 1).Float64s(), []float64{0, 0, 0})
	ewtExact(t, "Mean empty", Float32, Mean(e, false, 1).Float64s(), []float64{nan, nan, nan})
	if got := Sum(e, false, 0); !got.Shape().Equal(Shape{0}) {
		t.Fatalf("Sum over a non-empty axis of an empty tensor: shape %v", got.Shape())
	}
}

// TestSumSquares checks SumSquares on strided inputs against a sequential
// float64 sum and between 1 and 2 workers.
func TestSumSquares(t *testing.T) {
	for _, dt := range ewtDTypes {
		for i, s := range []Shape{{}, {7}, {1000}, {7, 63}, {2, 3, 4, 5}, {300, 1100}} {
			for layout := 0; layout < ewtLayouts; layout++ {
				a := ewtOperand(dt, uint64(60+i), s, layout, nil)
				want := 0.0
				for _, v := range ewtValues(a) {
					want += v * v
				}
				got := SumSquares(a)
				if math.Abs(got-want) > 1e-12*want {
					t.Fatalf("%v SumSquares %v(%s) = %v, want %v", dt, s, ewtLayoutNames[layout], got, want)
				}
				old := SetWorkers(1)
				one := SumSquares(a)
				SetWorkers(2)
				two := SumSquares(a)
				SetWorkers(old)
				if math.Float64bits(one) != math.Float64bits(two) {
					t.Fatalf("%v SumSquares %v(%s): %v with 1 worker, %v with 2", dt, s, ewtLayoutNames[layout], one, two)
				}
			}
		}
	}
}

// TestSumTo checks SumTo end to end: the inverse of broadcasting.
func TestSumTo(t *testing.T) {
	for _, dt := range ewtDTypes {
		a := ewtOperand(dt, 70, Shape{3, 4, 5}, ewtPermuted, nil)
		vals := ewtValues(a)
		for _, c := range []struct {
			to    Shape
			marks []bool
		}{
			{Shape{3, 4, 5}, []bool{false, false, false}},
			{Shape{4, 5}, []bool{true, false, false}},
			{Shape{5}, []bool{true, true, false}},
			{Shape{4, 1}, []bool{true, false, true}},
			{Shape{3, 1, 5}, []bool{false, true, false}},
			{Shape{1, 1, 1}, []bool{true, true, true}},
			{Shape{}, []bool{true, true, true}},
		} {
			got := SumTo(a, c.to)
			if !got.Shape().Equal(c.to) {
				t.Fatalf("SumTo %v: shape %v", c.to, got.Shape())
			}
			ewtExact(t, fmt.Sprint(dt, " SumTo ", c.to), dt, ewtValues(got), rdtRef(OpSum, vals, a.Shape(), c.marks))
		}
	}
}

// TestReduceShapePanics checks the wrappers' messages.
func TestReduceShapePanics(t *testing.T) {
	a := Zeros(3, 4)
	expectPanic(t, []string{"Sum", "repeated"}, func() { Sum(a, false, 1, -1) })
	expectPanic(t, []string{"Mean", "axis 2"}, func() { Mean(a, false, 2) })
	expectPanic(t, []string{"Max", "empty", "[3 0]"}, func() { Max(Zeros(3, 0), false, 1) })
	expectPanic(t, []string{"SumTo", "[5]", "[3 4]"}, func() { SumTo(a, Shape{5}) })
	expectPanic(t, []string{"SumTo", "[2 3 4]", "[3 4]"}, func() { SumTo(a, Shape{2, 3, 4}) })
}
