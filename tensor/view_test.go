package tensor

import (
	"strings"
	"testing"
)

func seq(shape ...int) *Tensor {
	n := Shape(shape).Numel()
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(i + 1)
	}
	return FromSlice(d, shape...)
}

func sameStorage(a, b *Tensor) bool { return a.Storage() == b.Storage() }

func TestReshapeViewsWithoutCopy(t *testing.T) {
	x := seq(2, 3, 4)
	for _, s := range [][]int{{24}, {6, 4}, {2, 12}, {4, 6}, {2, 3, 2, 2}, {1, 24, 1}, {-1, 4}} {
		r := x.Reshape(s...)
		if !sameStorage(r, x) {
			t.Errorf("Reshape%v of a contiguous tensor copied", s)
		}
		if got, want := r.Float32s(), x.Float32s(); !equalF32(got, want) {
			t.Errorf("Reshape%v changed the element order", s)
		}
	}
	// A transposed tensor can be reshaped without a copy only where the
	// merged axes form one run.
	tr := x.Permute(1, 0, 2) // [3 2 4], axes 1 and 2 not adjacent in memory
	if v := tr.Reshape(3, 8); sameStorage(v, x) {
		t.Errorf("Reshape(3,8) of a permuted view shared storage but needs a copy")
	} else if !equalF32(v.Float32s(), tr.Contiguous().Float32s()) {
		t.Errorf("copying reshape has the wrong values")
	}
	if v := tr.Reshape(3, 2, 2, 2); !sameStorage(v, x) {
		t.Errorf("splitting the contiguous last axis of a permuted view copied")
	} else if !equalF32(v.Float32s(), tr.Contiguous().Float32s()) {
		t.Errorf("view reshape has the wrong values")
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPermuteTransposeSliceSelect(t *testing.T) {
	x := seq(2, 3, 4)
	p := x.Permute(2, 0, 1)
	if !p.Shape().Equal(Shape{4, 2, 3}) || p.IsContiguous() {
		t.Fatalf("Permute shape %v contiguous %v", p.Shape(), p.IsContiguous())
	}
	for i := 0; i < 4; i++ {
		for j := 0; j < 2; j++ {
			for k := 0; k < 3; k++ {
				if p.At(i, j, k) != x.At(j, k, i) {
					t.Fatalf("Permute element (%d,%d,%d)", i, j, k)
				}
			}
		}
	}
	tr := x.Transpose(0, -1)
	if !tr.Shape().Equal(Shape{4, 3, 2}) || tr.At(3, 2, 1) != x.At(1, 2, 3) {
		t.Fatalf("Transpose wrong")
	}
	s := x.Slice(1, 1, 3)
	if !s.Shape().Equal(Shape{2, 2, 4}) || s.At(1, 0, 2) != x.At(1, 1, 2) || !sameStorage(s, x) {
		t.Fatalf("Slice wrong")
	}
	sel := x.Select(2, 3)
	if !sel.Shape().Equal(Shape{2, 3}) || sel.At(1, 2) != x.At(1, 2, 3) {
		t.Fatalf("Select wrong")
	}
	c := s.Contiguous()
	if !c.IsContiguous() || sameStorage(c, x) || !equalF32(c.Float32s(), s.Float32s()) {
		t.Fatalf("Contiguous of a slice")
	}
}

func TestExpandSqueezeUnsqueezeFlatten(t *testing.T) {
	x := seq(3, 1)
	e := x.Expand(2, 3, 4)
	if !e.Shape().Equal(Shape{2, 3, 4}) || e.Strides()[0] != 0 || e.Strides()[2] != 0 {
		t.Fatalf("Expand shape %v strides %v", e.Shape(), e.Strides())
	}
	if e.At(1, 2, 3) != 3 || e.At(0, 1, 0) != 2 {
		t.Fatalf("Expand values")
	}
	u := x.Unsqueeze(0)
	if !u.Shape().Equal(Shape{1, 3, 1}) || u.At(0, 2, 0) != 3 {
		t.Fatalf("Unsqueeze(0) %v", u.Shape())
	}
	if u2 := x.Unsqueeze(-1); !u2.Shape().Equal(Shape{3, 1, 1}) {
		t.Fatalf("Unsqueeze(-1) %v", u2.Shape())
	}
	if sq := u.Squeeze(); !sq.Shape().Equal(Shape{3}) {
		t.Fatalf("Squeeze() %v", sq.Shape())
	}
	if sq := u.Squeeze(0); !sq.Shape().Equal(Shape{3, 1}) {
		t.Fatalf("Squeeze(0) %v", sq.Shape())
	}
	if f := seq(2, 3, 4).Flatten(2); !f.Shape().Equal(Shape{6, 4}) {
		t.Fatalf("Flatten %v", f.Shape())
	}
}

func expectPanic(t *testing.T, want []string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		msg, _ := r.(string)
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Fatalf("panic %q does not mention %q", msg, w)
			}
		}
	}()
	f()
}

func TestViewErrorsNameShapes(t *testing.T) {
	x := seq(2, 3)
	expectPanic(t, []string{"Reshape", "[4 2]", "[2 3]"}, func() { x.Reshape(4, 2) })
	expectPanic(t, []string{"Expand", "[2 3]", "[2 4]"}, func() { x.Expand(2, 4) })
	expectPanic(t, []string{"Slice", "[2 3]"}, func() { x.Slice(1, 2, 5) })
	expectPanic(t, []string{"Permute"}, func() { x.Permute(0, 0) })
	expectPanic(t, []string{"Squeeze", "[2 3]"}, func() { x.Squeeze(0) })
	expectPanic(t, []string{"FromSlice", "5 values", "[2 3]"}, func() { FromSlice(make([]float32, 5), 2, 3) })
}

func TestCopyIntoStridedView(t *testing.T) {
	dst := Zeros(3, 4)
	src := seq(4, 3).Transpose(0, 1) // [3 4], strided
	dst.Slice(1, 1, 3).CopyFrom(src.Slice(1, 0, 2))
	for i := 0; i < 3; i++ {
		for j := 0; j < 4; j++ {
			want := 0.0
			if j >= 1 && j < 3 {
				want = src.At(i, j-1)
			}
			if dst.At(i, j) != want {
				t.Fatalf("dst(%d,%d) = %v, want %v", i, j, dst.At(i, j), want)
			}
		}
	}
}
