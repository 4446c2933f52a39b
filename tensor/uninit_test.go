package tensor

import (
	"math"
	"testing"
)

// TestUninitPoisonedInTests: in a test binary, storage handed out without
// zeroing (reused or fresh) is NaN everywhere, so an op that leaves an
// element unwritten fails its tests; with the poison off, a reused buffer
// comes back as its last owner left it and New still zeroes.
func TestUninitPoisonedInTests(t *testing.T) {
	if !testing.Testing() || !poisonUninit.Load() {
		t.Fatal("uninitialised storage is not poisoned in this test binary")
	}
	for _, dt := range []DType{Float32, Float64, BFloat16} {
		DrainPool()
		a := New(CPU, dt, 1000)
		a.Backend().Fill(a, 7)
		a.Release()
		b := empty(CPU, dt, 990)
		if dt != BFloat16 && PoolBytes() != 0 {
			t.Errorf("%v: empty did not reuse the released buffer", dt)
		}
		for i, v := range b.Float64s() {
			if !math.IsNaN(v) {
				t.Fatalf("%v: uninitialised element %d = %v, want NaN", dt, i, v)
			}
		}
	}
	emu := NewEmulatedDevice("poison")
	for i, v := range emptyLike(New(emu, Float32, 1), 33).Float64s() {
		if !math.IsNaN(v) {
			t.Fatalf("emulated device: uninitialised element %d = %v, want NaN", i, v)
		}
	}

	was := SetPoisonUninit(false)
	defer SetPoisonUninit(was)
	DrainPool()
	a := New(CPU, Float32, 1000)
	a.Backend().Fill(a, 7)
	p := &a.F32Data()[0]
	a.Release()
	b := empty(CPU, Float32, 990)
	if &b.F32Data()[0] != p {
		t.Fatal("empty did not reuse the released buffer")
	}
	if v := b.F32Data()[5]; v != 7 {
		t.Errorf("poison off: reused element = %v, want the last owner's 7 (not cleared)", v)
	}
	b.Release()
	for i, v := range New(CPU, Float32, 990).F32Data() {
		if v != 0 {
			t.Fatalf("New after an uninitialised hand-out: element %d = %v, want 0", i, v)
		}
	}
}

// TestOpsWriteEveryOutputElement runs the ops whose outputs are allocated
// uninitialised on a small input into pool buffers that held NaN, and checks
// that no NaN survives: a kernel that skips an element (for example a tail
// of a SIMD loop) shows here even where a conformance test's tolerance
// compare might not look.
func TestOpsWriteEveryOutputElement(t *testing.T) {
	rn := func(seed uint64, shape ...int) *Tensor { return RandNormal(seed, 0, 1, shape...) }
	x, y := rn(1, 3, 5, 37), rn(2, 3, 5, 37)
	w, g := rn(3, 37, 19), rn(4, 37)
	q, k, v := rn(5, 2, 2, 9, 16), rn(6, 2, 2, 11, 16), rn(7, 2, 2, 11, 16)
	out, lse := Attention(q, k, v, nil, 0.25)
	n, rs := RMSNorm(x, g, 1e-6)
	ln, mu, lrs := LayerNorm(x, g, g, 1e-5)
	dg, du := SwiGLUGrad(y, x, y)
	results := map[string]*Tensor{
		"Add":            Add(x, y),
		"Mul broadcast":  Mul(x, g),
		"Unary":          Unary(OpTanh, x, 0),
		"UnaryGrad":      UnaryGrad(OpTanh, x, Unary(OpTanh, x, 0), y, 0),
		"MatMul":         MatMul(x, w),
		"MatMulT":        MatMulT(x, x, false, true),
		"Where":          Where(Maximum(x, y), x, y),
		"MaskedFill":     MaskedFill(x, Eq(x, x), 2),
		"Concat":         Concat(1, x, y),
		"IndexSelect":    IndexSelect(x, 2, []int{3, 1, 36, 0}),
		"Softmax":        Softmax(x),
		"SoftmaxGrad":    SoftmaxGrad(Softmax(x), y, false),
		"RMSNorm":        n,
		"RMSNorm rstd":   rs,
		"LayerNorm":      ln,
		"LayerNorm mean": mu,
		"LayerNorm rstd": lrs,
		"SwiGLU":         SwiGLU(x, y),
		"SwiGLUGrad g":   dg,
		"SwiGLUGrad u":   du,
		"Attention":      out,
		"Attention lse":  lse,
		"Clone strided":  x.Permute(2, 0, 1).Clone(),
		"To float64":     x.To(CPU, Float64),
	}
	dx, _ := RMSNormGrad(y, x, rs, g)
	results["RMSNormGrad"] = dx
	ldx, _, _ := LayerNormGrad(y, x, mu, lrs, g, true)
	results["LayerNormGrad"] = ldx
	for name, o := range results {
		for i, e := range o.Float64s() {
			if math.IsNaN(e) {
				t.Errorf("%s: element %d of %v left unwritten (NaN poison)", name, i, o.Shape())
				break
			}
		}
	}
}
