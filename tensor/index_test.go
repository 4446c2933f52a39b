package tensor

import (
	"fmt"
	"testing"
)

// Tests of IndexSelect and IndexAdd (cpu_index.go) and of Concat and Split
// end to end. Gathers and concatenations move values, and the scatter adds in
// j order in the dtype, so everything is compared bit for bit with loops
// written here (the IndexAdd reference rounds to the dtype after every
// addition, as the kernel does).

// idtIndices returns n indices in [0, size) with repeats.
func idtIndices(seed uint64, n, size int) []int {
	r := NewRNG(seed, 0)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = r.Intn(size)
	}
	return idx
}

// idtFlat returns the row-major position of idx in shape.
func idtFlat(shape Shape, idx []int) int {
	f := 0
	for k, d := range shape {
		f = f*d + idx[k]
	}
	return f
}

type idtCase struct {
	s    Shape
	axis int
	n    int // number of indices
}

var idtCases = []idtCase{
	{Shape{1}, 0, 3},
	{Shape{1000}, 0, 7},
	{Shape{7, 63}, 0, 63},
	{Shape{7, 63}, 1, 7},
	{Shape{7, 63}, 1, 0},
	{Shape{3, 1, 5}, 1, 4},
	{Shape{2, 3, 4, 5}, 0, 5},
	{Shape{2, 3, 4, 5}, 1, 1},
	{Shape{2, 3, 4, 5}, 2, 9},
	{Shape{2, 3, 4, 5}, 3, 6},
}

// TestIndexSelect gathers from every layout into poisoned outputs.
func TestIndexSelect(t *testing.T) {
	for _, dt := range ewtDTypes {
		for ci, c := range idtCases {
			for layout := 0; layout < ewtLayouts; layout++ {
				name := fmt.Sprintf("%v IndexSelect %v(%s) axis %d n %d", dt, c.s, ewtLayoutNames[layout], c.axis, c.n)
				a := ewtOperand(dt, uint64(80+ci), c.s, layout, nil)
				idx := idtIndices(uint64(ci), c.n, c.s[c.axis])
				out := c.s.Clone()
				out[c.axis] = c.n
				av := ewtValues(a)
				want := make([]float64, out.Numel())
				src := make([]int, len(c.s))
				ewtForEach(out, func(i int, o []int) {
					copy(src, o)
					src[c.axis] = idx[o[c.axis]]
					want[i] = av[idtFlat(c.s, src)]
				})
				dst := ewtPoison(dt, out...)
				CPU.Backend().IndexSelect(dst, a, c.axis, idx)
				ewtExact(t, name, dt, ewtValues(dst), want)
				got := IndexSelect(a, c.axis-len(c.s), idx) // negative axis
				if !got.Shape().Equal(out) {
					t.Fatalf("%s: wrapper shape %v, want %v", name, got.Shape(), out)
				}
				ewtExact(t, name+" (wrapper)", dt, ewtValues(got), want)
			}
		}
	}
}

// idtAddRef scatters src into a copy of dst0 in j order, rounding to dt
// after every addition.
func idtAddRef(dt DType, dst0 []float64, ds Shape, axis int, idx []int, src []float64, ss Shape) []float64 {
	want := append([]float64(nil), dst0...)
	tgt := make([]int, len(ds))
	// Row-major order over src visits the contributions to any one dst
	// element in increasing j.
	ewtForEach(ss, func(i int, o []int) {
		copy(tgt, o)
		tgt[axis] = idx[o[axis]]
		f := idtFlat(ds, tgt)
		want[f] = ewtRound(dt, want[f]+src[i])
	})
	return want
}

// TestIndexAdd scatters strided sources with repeated indices into
// contiguous destinations.
func TestIndexAdd(t *testing.T) {
	for _, dt := range ewtDTypes {
		for ci, c := range idtCases {
			for layout := 0; layout < ewtLayouts; layout++ {
				name := fmt.Sprintf("%v IndexAdd %v axis %d n %d src %s", dt, c.s, c.axis, c.n, ewtLayoutNames[layout])
				dst := ewtRand(dt, uint64(90+ci), c.s...)
				ss := c.s.Clone()
				ss[c.axis] = c.n
				src := ewtOperand(dt, uint64(95+ci), ss, layout, nil)
				idx := idtIndices(uint64(ci), c.n, c.s[c.axis])
				want := idtAddRef(dt, ewtValues(dst), c.s, c.axis, idx, ewtValues(src), ss)
				IndexAdd(dst, c.axis, idx, src)
				ewtExact(t, name, dt, ewtValues(dst), want)
			}
		}
	}
}

// TestIndexWorkersBitIdentical runs large gathers and scatters (many
// repeated indices; outer extent 1, where IndexAdd splits the columns, and
// larger) with 1 and 2 workers, and checks the scatters against the
// reference.
func TestIndexWorkersBitIdentical(t *testing.T) {
	type scatter struct {
		dst   Shape
		axis  int
		src   *Tensor
		idx   []int
		label string
	}
	for _, dt := range ewtDTypes {
		table := ewtOperand(dt, 1, Shape{500, 256}, ewtPermuted, nil)
		tok := idtIndices(2, 4000, 500)
		x := ewtOperand(dt, 4, Shape{64, 50, 33}, ewtSliced, nil)
		sel := idtIndices(5, 300, 50)
		scatters := []scatter{
			{Shape{500, 256}, 0, ewtOperand(dt, 3, Shape{4000, 256}, ewtContig, nil), tok, "columns, unit inner"},
			{Shape{500, 256}, 0, ewtOperand(dt, 6, Shape{1000, 256}, ewtStride2, nil), tok[:1000], "columns, strided inner"},
			{Shape{64, 50, 33}, 1, ewtOperand(dt, 7, Shape{64, 300, 33}, ewtPermuted, nil), sel, "outer"},
		}
		run := func() []*Tensor {
			out := []*Tensor{IndexSelect(table, 0, tok), IndexSelect(x, 1, sel)}
			for i, c := range scatters {
				d := ewtRand(dt, uint64(10+i), c.dst...)
				IndexAdd(d, c.axis, c.idx, c.src)
				out = append(out, d)
			}
			return out
		}
		ewtSameBits(t, fmt.Sprint(dt, " index"), run)
		got := run()
		for i, c := range scatters {
			d0 := ewtValues(ewtRand(dt, uint64(10+i), c.dst...))
			want := idtAddRef(dt, d0, c.dst, c.axis, c.idx, ewtValues(c.src), c.src.Shape())
			ewtExact(t, fmt.Sprint(dt, " large IndexAdd, ", c.label), dt, ewtValues(got[2+i]), want)
		}
	}
}

// TestConcatSplit joins strided pieces (one of them empty) along each axis,
// checks the values, and splits the result back into views.
func TestConcatSplit(t *testing.T) {
	for _, dt := range ewtDTypes {
		for axis := 0; axis < 3; axis++ {
			sizes := []int{2, 0, 5, 1}
			var parts []*Tensor
			var vals [][]float64
			var shapes []Shape
			for i, n := range sizes {
				s := Shape{3, 4, 6}
				s[axis] = n
				p := ewtOperand(dt, uint64(110+i), s, i%ewtLayouts, nil)
				parts, vals, shapes = append(parts, p), append(vals, ewtValues(p)), append(shapes, s)
			}
			out := Shape{3, 4, 6}
			out[axis] = 8
			want := make([]float64, out.Numel())
			ewtForEach(out, func(i int, o []int) {
				k, pos := 0, o[axis]
				for pos >= sizes[k] {
					pos -= sizes[k]
					k++
				}
				src := append([]int(nil), o...)
				src[axis] = pos
				want[i] = vals[k][idtFlat(shapes[k], src)]
			})
			name := fmt.Sprintf("%v Concat axis %d", dt, axis)
			got := Concat(axis-3, parts...)
			if !got.Shape().Equal(out) {
				t.Fatalf("%s: shape %v, want %v", name, got.Shape(), out)
			}
			ewtExact(t, name, dt, ewtValues(got), want)
			back := Split(got, axis, sizes...)
			for k, b := range back {
				if !b.Shape().Equal(shapes[k]) {
					t.Fatalf("%s: Split piece %d shape %v, want %v", name, k, b.Shape(), shapes[k])
				}
				if b.Storage() != got.Storage() {
					t.Fatalf("%s: Split piece %d is not a view", name, k)
				}
				ewtExact(t, fmt.Sprintf("%s Split piece %d", name, k), dt, ewtValues(b), vals[k])
			}
		}
	}
}

// TestIndexShapePanics checks the wrappers' messages.
func TestIndexShapePanics(t *testing.T) {
	a := Zeros(3, 4)
	expectPanic(t, []string{"Concat", "[3 5]", "[3 4]"}, func() { Concat(0, a, Zeros(3, 5)) })
	expectPanic(t, []string{"Concat", "[4]", "[3 4]"}, func() { Concat(1, a, Zeros(4)) })
	expectPanic(t, []string{"Split", "[1 2 1]", "[3 4]"}, func() { Split(a, 0, 1, 2, 1) })
	expectPanic(t, []string{"Split", "[1 1]", "[3 4]"}, func() { Split(a, 0, 1, 1) })
	expectPanic(t, []string{"IndexSelect", "index 4", "[0,4)"}, func() { IndexSelect(a, 1, []int{0, 4}) })
	expectPanic(t, []string{"IndexAdd", "src", "[3 5]", "[3 2]"}, func() { IndexAdd(a, 1, []int{0, 1}, Zeros(3, 5)) })
	expectPanic(t, []string{"IndexAdd", "index -1"}, func() { IndexAdd(a, 0, []int{-1}, Zeros(1, 4)) })
	expectPanic(t, []string{"IndexAdd", "contiguous", "[4 3]"}, func() { IndexAdd(a.Transpose(0, 1), 0, []int{0}, Zeros(1, 3)) })
}
