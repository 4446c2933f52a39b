package autograd

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// smallGraph is one training-like step: y = sum(tanh(x@w + b) * c) with w
// used twice (also in a regulariser).
func smallGraph(tp *Tape, x, w, b, c *Var) *Var {
	h := tp.Tanh(tp.Add(tp.MatMul(x, w), b))
	loss := tp.Sum(tp.Mul(h, c), false)
	return tp.Add(loss, tp.Scale(tp.Sum(tp.Square(w), false), 0.1))
}

func TestBackwardAccumulates(t *testing.T) {
	x, c := Const(randn(1, 5, 3)), Const(randn(2, 5, 4))
	w, b := Param(randn(3, 3, 4)), Param(randn(4, 4))

	tp := NewTape()
	loss := smallGraph(tp, x, w, b, c)
	tp.Backward(loss)
	gw, gb := w.Grad.Float64s(), b.Grad.Float64s()

	// A second Backward on the same tape adds the same gradient again.
	tp.Backward(loss)
	approxEqual(t, "w.Grad after two Backward", w.Grad.Float64s(), scaled(gw, 2), 1e-14)
	approxEqual(t, "b.Grad after two Backward", b.Grad.Float64s(), scaled(gb, 2), 1e-14)
	tp.Release()

	// So does a second step on a fresh tape, into the same buffer.
	buf := w.Grad
	tp2 := NewTape()
	tp2.Backward(smallGraph(tp2, x, w, b, c))
	tp2.Release()
	if w.Grad != buf {
		t.Fatal("the leaf gradient buffer was replaced instead of accumulated into")
	}
	approxEqual(t, "w.Grad after three steps", w.Grad.Float64s(), scaled(gw, 3), 1e-14)

	// ZeroGrad resets, keeping the buffer; the next step starts from zero.
	w.ZeroGrad()
	b.ZeroGrad()
	approxEqual(t, "w.Grad after ZeroGrad", w.Grad.Float64s(), make([]float64, 12), 0)
	tp3 := NewTape()
	tp3.Backward(smallGraph(tp3, x, w, b, c))
	tp3.Release()
	approxEqual(t, "w.Grad after ZeroGrad and a step", w.Grad.Float64s(), gw, 1e-14)
	approxEqual(t, "b.Grad after ZeroGrad and a step", b.Grad.Float64s(), gb, 1e-14)
}

func scaled(v []float64, s float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = s * v[i]
	}
	return out
}

// A Var used several times gets the sum of the contributions.
func TestVarUsedTwice(t *testing.T) {
	xs := []float64{0.5, -1.5, 2, 3}
	x := Param(tensor.FromFloat64s(xs, 2, 2))
	ones := tensor.FromFloat64s([]float64{1, 1, 1, 1}, 2, 2)

	tp := NewTape()
	tp.BackwardWith(tp.Add(x, x), ones)
	approxEqual(t, "d(x+x)/dx", x.Grad.Float64s(), []float64{2, 2, 2, 2}, 0)
	tp.Release()

	x.ZeroGrad()
	tp = NewTape()
	tp.BackwardWith(tp.Mul(x, x), ones)
	approxEqual(t, "d(x*x)/dx", x.Grad.Float64s(), scaled(xs, 2), 0)
	tp.Release()

	// Through different paths: y = x*x + x^T + 3x.
	x.ZeroGrad()
	tp = NewTape()
	y := tp.Add(tp.Add(tp.Mul(x, x), tp.Transpose(x, 0, 1)), tp.Scale(x, 3))
	tp.BackwardWith(y, ones)
	approxEqual(t, "d(x*x + x^T + 3x)/dx", x.Grad.Float64s(), []float64{2*0.5 + 4, 2*-1.5 + 4, 2*2 + 4, 2*3 + 4}, 1e-15)
	tp.Release()
}

func TestNoGrad(t *testing.T) {
	x, w, b, c := Param(randn(1, 5, 3)), Param(randn(2, 3, 4)), Param(randn(3, 4)), Param(randn(4, 5, 4))
	ng := NoGrad()
	if ng.Recording() {
		t.Fatal("NoGrad tape says it records")
	}
	loss := smallGraph(ng, x, w, b, c)
	ln := ng.LayerNorm(x, nil, Param(randn(5, 3)), 1e-5)
	att := ng.Attention(ng.Unsqueeze(ng.Unsqueeze(x, 0), 0), ng.Unsqueeze(ng.Unsqueeze(x, 0), 0), ng.Unsqueeze(ng.Unsqueeze(x, 0), 0), nil, 1)
	parts := ng.Split(x, 1, 1, 2)
	for _, v := range append([]*Var{loss, ln, att}, parts...) {
		if v.RequiresGrad() {
			t.Fatal("an output of a NoGrad tape requires a gradient")
		}
	}
	if ng.Len() != 0 || len(ng.temps) != 0 {
		t.Fatalf("NoGrad tape recorded %d ops and holds %d tensors", ng.Len(), len(ng.temps))
	}
	// The values equal those of a recording tape.
	tp := NewTape()
	want := smallGraph(tp, x, w, b, c).Value.Float64s()
	approxEqual(t, "NoGrad loss", loss.Value.Float64s(), want, 0)
	tp.Release()

	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), "NoGrad") {
				t.Fatalf("Backward on a NoGrad tape: recovered %v, want a panic naming NoGrad", r)
			}
		}()
		ng.Backward(loss)
	}()
}

// A Scratch tape computes what NoGrad does, records nothing, and hands what
// its ops allocated back to the buffer pool on Release.
func TestScratch(t *testing.T) {
	x, w, b, c := Param(randn(1, 5, 3)), Param(randn(2, 3, 4)), Param(randn(3, 4)), Param(randn(4, 5, 4))
	ng := NoGrad()
	want := smallGraph(ng, x, w, b, c).Value.Float64s()
	tensor.DrainPool()
	st := Scratch()
	loss := smallGraph(st, x, w, b, c)
	if st.Recording() || st.Len() != 0 || loss.RequiresGrad() {
		t.Fatalf("Scratch tape: recording %v, %d ops, output requires grad %v", st.Recording(), st.Len(), loss.RequiresGrad())
	}
	approxEqual(t, "Scratch loss", loss.Value.Float64s(), want, 0)
	if len(st.temps) == 0 {
		t.Fatal("Scratch tape owns no tensor")
	}
	st.Release()
	if tensor.PoolBytes() == 0 {
		t.Fatal("Scratch tape's Release returned nothing to the buffer pool")
	}
	if len(st.temps) != 0 {
		t.Fatalf("Scratch tape holds %d tensors after Release", len(st.temps))
	}
}

// ReleaseExcept frees what a Scratch tape owns except the storage of the
// values it is given (views included), which keep their contents and stay
// owned until Release; on a recording tape it panics.
func TestScratchReleaseExcept(t *testing.T) {
	x, w := Param(randn(1, 6, 4)), Param(randn(2, 4, 5))
	st := Scratch()
	h := st.MatMul(x, w)                       // owned: released
	y := st.Reshape(st.Tanh(st.Mul(h, h)), 30) // a view of an owned tensor: kept
	want := y.Value.Float64s()
	owned := len(st.temps)
	tensor.DrainPool()
	st.ReleaseExcept(y, nil)
	if tensor.PoolBytes() == 0 || len(st.temps) != 1 || owned < 3 {
		t.Fatalf("ReleaseExcept: %d of %d owned tensors kept, %d bytes pooled; want 1 kept, the rest pooled", len(st.temps), owned, tensor.PoolBytes())
	}
	approxEqual(t, "kept value", y.Value.Float64s(), want, 0)
	if h.Value.Storage() != nil {
		t.Fatal("an intermediate not in keep still has its storage")
	}
	pooled := tensor.PoolBytes()
	st.Release()
	if tensor.PoolBytes() <= pooled {
		t.Fatal("Release did not free the kept tensor")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "recording") {
			t.Fatalf("ReleaseExcept on a recording tape: recovered %v, want a panic", r)
		}
	}()
	NewTape().ReleaseExcept()
}

// Ops on constants only are not recorded, even on a recording tape.
func TestConstNotRecorded(t *testing.T) {
	tp := NewTape()
	a, b := Const(randn(1, 3, 4)), Const(randn(2, 4))
	y := tp.LayerNorm(tp.Mul(a, b), nil, nil, 1e-5)
	if y.RequiresGrad() || tp.Len() != 0 {
		t.Fatalf("ops on constants: requires grad %v, %d ops recorded", y.RequiresGrad(), tp.Len())
	}
	tp.Release()
}

// trainStep runs forward, backward and release of a graph with enough tensor
// memory (about 1.3 MB of float32 values per step) that buffers dominate
// anything else a step allocates.
func trainStep(x, w1, w2, g, c *Var) {
	tp := NewTape()
	h := tp.SwiGLU(tp.MatMul(tp.RMSNorm(x, g, 1e-5), w1), tp.MatMul(x, w1))
	y := tp.Add(tp.MatMul(h, w2), x)
	tp.Backward(tp.Mean(tp.Mul(tp.Softmax(y), c), false))
	tp.Release()
}

func TestReleaseReusesMemory(t *testing.T) {
	const n, d, hd = 128, 64, 96
	to := func(t *tensor.Tensor) *tensor.Tensor { return t.To(tensor.CPU, tensor.Float32) }
	x, c := Const(to(randn(1, 2, n, d))), Const(to(randn(2, 2, n, d)))
	w1, w2, g := Param(to(randn(3, d, hd))), Param(to(randn(4, hd, d))), Param(to(randn(5, d)))

	// Release hands the step's temporaries to the pool.
	tp := NewTape()
	loss := tp.Mean(tp.MatMul(x, w1), false)
	tp.Backward(loss)
	before := tensor.PoolBytes()
	tp.Release()
	if grown := tensor.PoolBytes() - before; grown < 2*n*hd*4 {
		t.Fatalf("Release returned %d bytes to the pool, want at least the %d of the matmul output", grown, 2*n*hd*4)
	}

	// Identical steps reuse the pool: flat pool size, few fresh bytes.
	trainStep(x, w1, w2, g, c) // warm the pool and the leaf gradients
	trainStep(x, w1, w2, g, c)
	pool := tensor.PoolBytes()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const steps = 5
	for range steps {
		trainStep(x, w1, w2, g, c)
	}
	runtime.ReadMemStats(&m1)
	if p := tensor.PoolBytes(); p != pool {
		t.Errorf("pool holds %d bytes after %d more steps, %d before: steps do not reuse the same buffers", p, steps, pool)
	}
	perStep := (m1.TotalAlloc - m0.TotalAlloc) / steps
	const stepTensorBytes = 4 * (2*n*d*8 + 2*n*hd*8) // rough size of one step's values and gradients
	t.Logf("fresh heap bytes per step: %d (tensor memory per step about %d, pool %d)", perStep, stepTensorBytes, pool)
	// The tape's own Go objects (nodes, closures, shapes: ~525 allocations,
	// ~130 KB a step) are already about a tenth of the tensor bytes, and vary
	// with the runtime's background work; a step whose buffers were not
	// reused would allocate all ~1.3 MB afresh. A quarter separates the two.
	if perStep > stepTensorBytes/4 {
		t.Errorf("a step allocates %d fresh bytes, more than a quarter of its ~%d tensor bytes: buffers are not reused", perStep, stepTensorBytes)
	}
	allocs := testing.AllocsPerRun(3, func() { trainStep(x, w1, w2, g, c) })
	t.Logf("heap allocations per step: %.0f", allocs)
}

// A float32 smoke check of a few ops with the looser float32 tolerances.
func TestGradFloat32(t *testing.T) {
	runGradCases(t, []gradCase{
		{name: "Add/broadcast", f: func(tp *Tape, in []*Var) *Var { return tp.Add(in[0], in[1]) },
			inputs: to32(randn(1, 3, 4), randn(2, 4))},
		{name: "Tanh", f: func(tp *Tape, in []*Var) *Var { return tp.Tanh(in[0]) },
			inputs: to32(randn(3, 3, 5))},
		{name: "MatMul/batched", f: func(tp *Tape, in []*Var) *Var { return tp.MatMul(in[0], in[1]) },
			inputs: to32(randn(4, 2, 3, 4), randn(5, 4, 5))},
		{name: "Softmax", f: func(tp *Tape, in []*Var) *Var { return tp.Softmax(in[0]) },
			inputs: to32(randn(6, 3, 6))},
		{name: "LayerNorm", f: func(tp *Tape, in []*Var) *Var { return tp.LayerNorm(in[0], in[1], in[2], 1e-5) },
			inputs: to32(randn(7, 4, 6), randn(8, 6), randn(9, 6))},
		{name: "Attention", f: func(tp *Tape, in []*Var) *Var { return tp.Attention(in[0], in[1], in[2], nil, 0.5) },
			inputs: to32(randn(10, 1, 2, 3, 4), randn(11, 1, 2, 5, 4), randn(12, 1, 2, 5, 4))},
		{name: "Sum/Max", f: func(tp *Tape, in []*Var) *Var { return tp.Add(tp.Sum(in[0], false, 0), tp.Max(in[0], false, 0)) },
			inputs: to32(randn(13, 4, 3))},
	})
}

// A backward pass gives bit-identical gradients whatever the number of
// workers (the kernels' determinism carries through the tape).
func TestBackwardDeterministicWorkers(t *testing.T) {
	const b, n, h, d = 2, 256, 2, 16
	to := func(t *tensor.Tensor) *tensor.Tensor { return t.To(tensor.CPU, tensor.Float32) }
	x, c := Const(to(randn(1, b, n, h*d))), Const(to(randn(2, b, n, h*d)))
	wqkv, wo, gamma := Param(to(randn(3, h*d, 3*h*d))), Param(to(randn(4, h*d, h*d))), Param(to(randn(5, h*d)))
	params := []*Var{wqkv, wo, gamma}
	step := func() [][]float32 {
		for _, p := range params {
			p.Grad = nil
		}
		tp := NewTape()
		qkv := tp.Reshape(tp.MatMul(tp.LayerNorm(x, gamma, nil, 1e-5), wqkv), b, n, 3, h, d)
		head := func(i int) *Var { return tp.Permute(tp.Squeeze(tp.Slice(qkv, 2, i, i+1), 2), 0, 2, 1, 3) }
		att := tp.Attention(head(0), head(1), head(2), nil, 0.25)
		y := tp.MatMul(tp.Reshape(tp.Permute(att, 0, 2, 1, 3), b, n, h*d), wo)
		tp.Backward(tp.Sum(tp.Mul(tp.GELUTanh(y), c), false))
		tp.Release()
		out := make([][]float32, len(params))
		for i, p := range params {
			out[i] = p.Grad.Float32s()
		}
		return out
	}
	old := tensor.SetWorkers(1)
	defer tensor.SetWorkers(old)
	one := step()
	tensor.SetWorkers(2)
	two := step()
	for i := range one {
		for j := range one[i] {
			if math.Float32bits(one[i][j]) != math.Float32bits(two[i][j]) {
				t.Fatalf("param %d element %d: %v with 1 worker, %v with 2", i, j, one[i][j], two[i][j])
			}
		}
	}
}
