//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tests of the attention launchers against kernels/ref in float64 (forward
// out and lse, backward dq, dk, dv and dqscale), on random inputs at awkward
// sizes, with NaN-poisoned outputs. Tolerances, relative to the largest
// reference value of each tensor (at least attnTolFloor, so that tensors that
// are exactly zero in exact arithmetic, e.g. dq with one key, compare on the
// scale of the data):
//   - flash path (bf16 inputs, fp32 accumulation): 2e-2 (the rounding of
//     q, k, v, dout, P and dS to bf16 is ~2^-9 relative each);
//   - short path (exact float32): 3e-5.
// lse compares with the same tolerances times max(1, max |lse|).
//
// The flash path is also compared with the reference on the bf16-rounded
// inputs (what its tensor cores multiply): there the remaining error is the
// bf16 rounding of P and dS, fp32 sums and ex2.approx, so lse must agree to
// attnTolLSERounded and the rest to attnTolFlashRounded. Those catch what the
// 2e-2 above lets through: one masked key counted in a 65-key row moves lse
// by ~3e-3 and out by ~1e-2 (kernels/cuda/hostcheck/attn_emu.py measures
// ~1e-7 and at most ~4e-3 for the correct kernels).

const (
	attnTolFlash        = 2e-2
	attnTolShort        = 3e-5
	attnTolFloor        = 0.1
	attnTolFlashRounded = 1e-2
	attnTolLSERounded   = 1e-4
)

// attnCase is one test shape.
type attnCase struct {
	b, h, nq, nk, d int
	packed          bool // q, k, v strided views of packed projections (padded rows)
	qscale          bool
}

func (c attnCase) String() string {
	return fmt.Sprintf("B%d_H%d_Nq%d_Nk%d_D%d_packed%v_qscale%v", c.b, c.h, c.nq, c.nk, c.d, c.packed, c.qscale)
}

// attnData is the host side of a case: q, k, v live in up to three buffers
// (one when packed and Nq == Nk: a packed QKV projection) at element offsets.
type attnData struct {
	s                   AttnShape
	bufs                [][]float32
	qb, kb, vb          int // buffer index of q, k, v
	qoff, koff, voff    int // element offsets
	qscale, dout        []float32
	scale               float64
	heads, outN, kvRows int
}

func newAttnData(seed uint64, c attnCase) *attnData {
	rng := rand.New(rand.NewPCG(seed, 77))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	hd := c.h * c.d
	a := &attnData{scale: 1 / math.Sqrt(float64(c.d)), heads: c.b * c.h}
	a.s = AttnShape{B: c.b, H: c.h, Nq: c.nq, Nk: c.nk, D: c.d}
	switch {
	case !c.packed:
		a.s = ContiguousAttnShape(c.b, c.h, c.nq, c.nk, c.d)
		a.bufs = [][]float32{rnd(c.b * hd * c.nq), rnd(c.b * hd * c.nk), rnd(c.b * hd * c.nk)}
		a.qb, a.kb, a.vb = 0, 1, 2
	case c.nq == c.nk: // [B][N][3][H][D] plus 5 pad elements per row
		rs := int64(3*hd + 5)
		a.bufs = [][]float32{rnd(c.b * c.nq * int(rs))}
		st := [3]int64{int64(c.nq) * rs, int64(c.d), rs}
		a.s.QStride, a.s.KStride, a.s.VStride = st, st, st
		a.koff, a.voff = hd, 2*hd
	default: // q [B][Nq][H][D] (+3 pad), kv [B][Nk][2][H][D] (+5 pad)
		qs, ks := int64(hd+3), int64(2*hd+5)
		a.bufs = [][]float32{rnd(c.b * c.nq * int(qs)), rnd(c.b * c.nk * int(ks))}
		a.s.QStride = [3]int64{int64(c.nq) * qs, int64(c.d), qs}
		a.s.KStride = [3]int64{int64(c.nk) * ks, int64(c.d), ks}
		a.s.VStride = a.s.KStride
		a.kb, a.vb, a.voff = 1, 1, hd
	}
	if c.qscale {
		a.qscale = make([]float32, a.heads*c.nq)
		for i := range a.qscale {
			a.qscale[i] = float32(1 + 0.5*rng.NormFloat64())
		}
	}
	a.dout = rnd(a.heads * c.nq * c.d)
	return a
}

// attnRefResult holds the float64 reference.
type attnRefResult struct {
	out, lse, dq, dk, dv, dqs []float64
}

func widen64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// reference runs ref.AttentionForward and ref.AttentionBackward per head in
// float64 on the case's inputs (transformed by round first, if non-nil).
func (a *attnData) reference(round func(float32) float32) attnRefResult {
	s := a.s
	bufs := make([][]float64, len(a.bufs))
	for i, b := range a.bufs {
		if round != nil {
			r := make([]float32, len(b))
			for j, v := range b {
				r[j] = round(v)
			}
			b = r
		}
		bufs[i] = widen64(b)
	}
	dout := a.dout
	if round != nil {
		dout = make([]float32, len(a.dout))
		for i, v := range a.dout {
			dout[i] = round(v)
		}
	}
	d64 := widen64(dout)
	var qs64 []float64
	if a.qscale != nil {
		qs64 = widen64(a.qscale)
	}
	n, d := a.heads, s.D
	res := attnRefResult{
		out: make([]float64, n*s.Nq*d), lse: make([]float64, n*s.Nq),
		dq: make([]float64, n*s.Nq*d), dk: make([]float64, n*s.Nk*d), dv: make([]float64, n*s.Nk*d),
	}
	if qs64 != nil {
		res.dqs = make([]float64, n*s.Nq)
	}
	for b := 0; b < s.B; b++ {
		for h := 0; h < s.H; h++ {
			bh := b*s.H + h
			hd := ref.AttnHead[float64]{
				Q:       bufs[a.qb][a.qoff+b*int(s.QStride[0])+h*int(s.QStride[1]):],
				K:       bufs[a.kb][a.koff+b*int(s.KStride[0])+h*int(s.KStride[1]):],
				V:       bufs[a.vb][a.voff+b*int(s.VStride[0])+h*int(s.VStride[1]):],
				QStride: int(s.QStride[2]), KStride: int(s.KStride[2]), VStride: int(s.VStride[2]),
				Nq: s.Nq, Nk: s.Nk, D: d, Scale: a.scale,
			}
			if qs64 != nil {
				hd.QScale = qs64[bh*s.Nq:][:s.Nq]
			}
			qr, kr := bh*s.Nq*d, bh*s.Nk*d
			out, lse := res.out[qr:][:s.Nq*d], res.lse[bh*s.Nq:][:s.Nq]
			ref.AttentionForward(out, lse, hd, 0, s.Nq, nil)
			var dqs []float64
			if res.dqs != nil {
				dqs = res.dqs[bh*s.Nq:][:s.Nq]
			}
			ref.AttentionBackward(res.dq[qr:][:s.Nq*d], res.dk[kr:][:s.Nk*d], res.dv[kr:][:s.Nk*d], dqs,
				d64[qr:][:s.Nq*d], out, lse, hd, nil)
		}
	}
	return res
}

// attnDevice is the device copy of a case's inputs.
type attnDevice struct {
	bufs              []Ptr
	q, k, v, qs, dout Ptr
}

func (a *attnData) upload(t testing.TB, r *Runtime) *attnDevice {
	t.Helper()
	dv := &attnDevice{}
	for _, b := range a.bufs {
		dv.bufs = append(dv.bufs, upload(t, r, b))
	}
	dv.q = dv.bufs[a.qb].Add(int64(4 * a.qoff))
	dv.k = dv.bufs[a.kb].Add(int64(4 * a.koff))
	dv.v = dv.bufs[a.vb].Add(int64(4 * a.voff))
	if a.qscale != nil {
		dv.qs = upload(t, r, a.qscale)
	}
	dv.dout = upload(t, r, a.dout)
	return dv
}

func (d *attnDevice) free(t testing.TB, r *Runtime) {
	freeAll(t, r, append(d.bufs, d.qs, d.dout)...)
}

// attnCompare fails t when got differs from want by more than tol times
// max(attnTolFloor, max |want|), or is NaN.
func attnCompare(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	attnCompareFloor(t, name, got, want, tol, attnTolFloor)
}

// attnCompareFloor is attnCompare with the scale floored at floor instead of
// attnTolFloor. dq and dk use max |dv|: they are sums over dS = P (dP - delta),
// which cancels (exactly to 0 with one key, where every row's softmax is 1),
// while the terms summed are as large as dv's (dP = dO v^T, delta = dO o^T).
func attnCompareFloor(t *testing.T, name string, got []float32, want []float64, tol, floor float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	scale := floor
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	bad := 0
	worst := 0.0
	for i, g := range got {
		e := math.Abs(float64(g) - want[i])
		if math.IsNaN(float64(g)) || e > tol*scale {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, want %g (error %.3g > %.3g)", name, i, g, want[i], e, tol*scale)
			}
			bad++
		}
		if !math.IsNaN(e) {
			worst = max(worst, e/scale)
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values out of tolerance (worst relative error %.3g)", name, bad, len(got), worst)
	}
}

// attnCompareLSE compares lse with tolerance tol times max(1, max |lse|).
func attnCompareLSE(t *testing.T, got []float32, want []float64, tol float64) {
	t.Helper()
	scale := 1.0
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	for i, g := range got {
		if e := math.Abs(float64(g) - want[i]); math.IsNaN(float64(g)) || e > tol*scale {
			t.Fatalf("lse[%d] = %g, want %g (error %.3g > %.3g)", i, g, want[i], e, tol*scale)
		}
	}
}

// attnCheck runs AttentionFwd and AttentionBwd (float32 API) on case c and
// compares everything with the float64 reference.
func attnCheck(t *testing.T, r *Runtime, c attnCase, seed uint64, tol float64) {
	a := newAttnData(seed, c)
	want := a.reference(nil)
	dev := a.upload(t, r)
	defer dev.free(t, r)
	s := a.s
	nOut, nLse, nKV := a.heads*s.Nq*s.D, a.heads*s.Nq, a.heads*s.Nk*s.D
	out, lse := poisoned(t, r, nOut), poisoned(t, r, nLse)
	dq, dk, dv := poisoned(t, r, nOut), poisoned(t, r, nKV), poisoned(t, r, nKV)
	var dqs Ptr
	if c.qscale {
		dqs = poisoned(t, r, nLse)
	}
	defer freeAll(t, r, out, lse, dq, dk, dv, dqs)

	// The flash path is also held to the reference on its bf16-rounded inputs.
	var wantR attnRefResult
	flash := !r.attnUseShort(s)
	if flash {
		wantR = a.reference(bf16Round)
	}
	if err := r.AttentionFwd(out, lse, dev.q, dev.k, dev.v, dev.qs, s, a.scale); err != nil {
		t.Fatal(err)
	}
	gotOut, gotLse := download(t, r, out, nOut), download(t, r, lse, nLse)
	attnCompare(t, "out", gotOut, want.out, tol)
	attnCompareLSE(t, gotLse, want.lse, tol)
	if flash {
		attnCompare(t, "out (vs bf16-rounded inputs)", gotOut, wantR.out, attnTolFlashRounded)
		attnCompareLSE(t, gotLse, wantR.lse, attnTolLSERounded)
	}

	if err := r.AttentionBwd(dq, dk, dv, dqs, dev.dout, dev.q, dev.k, dev.v, dev.qs, out, lse, s, a.scale); err != nil {
		t.Fatal(err)
	}
	grads := []struct {
		name      string
		p         Ptr
		n         int
		want, wr  []float64
		shouldRun bool
	}{
		{"dq", dq, nOut, want.dq, wantR.dq, true},
		{"dk", dk, nKV, want.dk, wantR.dk, true},
		{"dv", dv, nKV, want.dv, wantR.dv, true},
		{"dqscale", dqs, nLse, want.dqs, wantR.dqs, c.qscale},
	}
	for _, g := range grads {
		if !g.shouldRun {
			continue
		}
		got := download(t, r, g.p, g.n)
		floor, floorR := attnTolFloor, attnTolFloor
		if g.name == "dq" || g.name == "dk" {
			floor, floorR = max(floor, maxAbs64(want.dv)), max(floorR, maxAbs64(wantR.dv))
		}
		attnCompareFloor(t, g.name, got, g.want, tol, floor)
		if flash {
			attnCompareFloor(t, g.name+" (vs bf16-rounded inputs)", got, g.wr, attnTolFlashRounded, floorR)
		}
	}
}

// setAttnHooks sets the test hooks and returns a function restoring them.
func setAttnHooks(path, split int) func() {
	p, s := attnForcePath, attnForceSplit
	attnForcePath, attnForceSplit = path, split
	return func() { attnForcePath, attnForceSplit = p, s }
}

var attnSizes = []int{1, 7, 63, 65, 200, 1000}

// attnCases covers every (Nq, Nk) pair of attnSizes, cycling the head
// dimension, head count, batch, layout and qscale so that each appears with
// short and long key sets.
func attnCases(nks []int) []attnCase {
	ds := []int{16, 64, 80}
	var cs []attnCase
	i := 0
	for _, nq := range attnSizes {
		for _, nk := range nks {
			cs = append(cs, attnCase{b: 1 + i%2, h: 1 + i%3, nq: nq, nk: nk, d: ds[(i/2)%3],
				packed: i%2 == 0, qscale: (i/3)%2 == 0})
			i++
		}
	}
	return cs
}

// TestAttentionFlash runs the flash kernels (forced for short key sets too)
// through the float32 API.
func TestAttentionFlash(t *testing.T) {
	r := testRuntime(t)
	defer setAttnHooks(attnPathFlash, 0)()
	for i, c := range attnCases(attnSizes) {
		t.Run(c.String(), func(t *testing.T) { attnCheck(t, r, c, uint64(100+i), attnTolFlash) })
	}
}

// TestAttentionFlashSplitKV forces the split-KV forward and its combine.
func TestAttentionFlashSplitKV(t *testing.T) {
	r := testRuntime(t)
	for _, split := range []int{2, 3, 7} {
		defer setAttnHooks(attnPathFlash, split)()
		for i, c := range attnCases([]int{65, 200, 1000}) {
			if i%2 != split%2 && c.nq != 1000 {
				continue // half of the cases per split count keeps the run short
			}
			t.Run(fmt.Sprintf("split%d/%v", split, c), func(t *testing.T) { attnCheck(t, r, c, uint64(300+i), attnTolFlash) })
		}
	}
}

// TestAttentionFlashEdges checks, on both paths, the Nq = 0 backward (dk
// and dv are zero) and the backward without dqscale while qscale is given
// (dqscale 0 skips it).
func TestAttentionFlashEdges(t *testing.T) {
	r := testRuntime(t)
	for _, path := range []int{attnPathFlash, attnPathShort} {
		restore := setAttnHooks(path, 0)
		c := attnCase{b: 2, h: 2, nq: 0, nk: 70, d: 64}
		a := newAttnData(5, c)
		dev := a.upload(t, r)
		n := a.heads * c.nk * c.d
		dk, dv := poisoned(t, r, n), poisoned(t, r, n)
		if err := r.AttentionBwd(0, dk, dv, 0, 0, dev.q, dev.k, dev.v, 0, 0, 0, a.s, a.scale); err != nil {
			t.Fatal(err)
		}
		for _, p := range []Ptr{dk, dv} {
			for i, x := range download(t, r, p, n) {
				if x != 0 {
					t.Fatalf("path %d, Nq = 0: gradient[%d] = %g, want 0", path, i, x)
				}
			}
		}
		freeAll(t, r, dk, dv)
		dev.free(t, r)

		c = attnCase{b: 1, h: 2, nq: 33, nk: 90, d: 64, qscale: true}
		a = newAttnData(6, c)
		want := a.reference(nil)
		dev = a.upload(t, r)
		s := a.s
		nOut, nLse, nKV := a.heads*s.Nq*s.D, a.heads*s.Nq, a.heads*s.Nk*s.D
		out, lse := poisoned(t, r, nOut), poisoned(t, r, nLse)
		dq, dk2, dv2 := poisoned(t, r, nOut), poisoned(t, r, nKV), poisoned(t, r, nKV)
		if err := r.AttentionFwd(out, lse, dev.q, dev.k, dev.v, dev.qs, s, a.scale); err != nil {
			t.Fatal(err)
		}
		if err := r.AttentionBwd(dq, dk2, dv2, 0, dev.dout, dev.q, dev.k, dev.v, dev.qs, out, lse, s, a.scale); err != nil {
			t.Fatal(err)
		}
		tol := attnTolFlash
		if path == attnPathShort {
			tol = attnTolShort
		}
		attnCompare(t, "dq", download(t, r, dq, nOut), want.dq, tol)
		attnCompare(t, "dk", download(t, r, dk2, nKV), want.dk, tol)
		freeAll(t, r, out, lse, dq, dk2, dv2)
		dev.free(t, r)
		restore()
	}
}

// TestAttentionArgs checks the argument validation.
func TestAttentionArgs(t *testing.T) {
	r := testRuntime(t)
	p := Ptr(1 << 20) // never dereferenced: every call below must fail first
	good := ContiguousAttnShape(1, 2, 10, 10, 64)
	for name, f := range map[string]func() error{
		"D=0":          func() error { s := good; s.D = 0; return r.AttentionFwd(p, p, p, p, p, 0, s, 1) },
		"D=129":        func() error { s := good; s.D = 129; return r.AttentionFwd(p, p, p, p, p, 0, s, 1) },
		"Nk=0":         func() error { s := good; s.Nk = 0; return r.AttentionFwd(p, p, p, p, p, 0, s, 1) },
		"negative":     func() error { s := good; s.B = -1; return r.AttentionFwd(p, p, p, p, p, 0, s, 1) },
		"stride":       func() error { s := good; s.KStride[2] = -1; return r.AttentionFwd(p, p, p, p, p, 0, s, 1) },
		"scale":        func() error { return r.AttentionFwd(p, p, p, p, p, 0, good, math.NaN()) },
		"null out":     func() error { return r.AttentionFwd(0, p, p, p, p, 0, good, 1) },
		"dqscale only": func() error { return r.AttentionBwd(p, p, p, p, p, p, p, p, 0, p, p, good, 1) },
		"bf16 D":       func() error { s := good; s.D = 60; return r.AttentionFwdBF16(p, 0, p, p, p, p, 0, s, 1) },
		"bf16 stride":  func() error { s := good; s.QStride[2] = 66; return r.AttentionFwdBF16(p, 0, p, p, p, p, 0, s, 1) },
		"bf16 align":   func() error { return r.AttentionFwdBF16(p, 0, p, p+2, p, p, 0, good, 1) },
		"bf16 no out":  func() error { return r.AttentionFwdBF16(0, 0, p, p, p, p, 0, good, 1) },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// bf16 helpers for the bf16 entry points.
func bf16Round(x float32) float32 { return math.Float32frombits(uint32(bf16RNE(x)) << 16) }

func toBF16(x []float32) []uint16 {
	y := make([]uint16, len(x))
	for i, v := range x {
		y[i] = bf16RNE(v)
	}
	return y
}

func fromBF16(x []uint16) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = math.Float32frombits(uint32(v) << 16)
	}
	return y
}

// TestAttentionBF16Entries runs AttentionFwdBF16 / AttentionBwdBF16 on a
// packed bf16 QKV projection (Nq == Nk) and on separate packed q and kv
// (Nq != Nk), with gradients written into packed dQKV buffers (float32 and
// bf16), against the reference on the bf16-rounded inputs.
func TestAttentionBF16Entries(t *testing.T) {
	r := testRuntime(t)
	for i, c := range []attnCase{
		{b: 2, h: 2, nq: 300, nk: 300, d: 64, qscale: true},
		{b: 1, h: 3, nq: 65, nk: 1000, d: 80},
		{b: 3, h: 1, nq: 7, nk: 7, d: 16, qscale: true},
	} {
		for _, split := range []int{0, 3} {
			t.Run(fmt.Sprintf("%v_split%d", c, split), func(t *testing.T) {
				defer setAttnHooks(attnPathAuto, split)()
				attnCheckBF16(t, r, c, uint64(500+i))
			})
		}
	}
}

func attnCheckBF16(t *testing.T, r *Runtime, c attnCase, seed uint64) {
	hd := c.h * c.d
	a := newAttnData(seed, attnCase{b: c.b, h: c.h, nq: c.nq, nk: c.nk, d: c.d, qscale: c.qscale})
	// Re-lay the contiguous inputs as packed bf16 projections with aligned
	// rows: [B][N][3][H][D] when Nq == Nk, else q [B][Nq][H][D] and
	// kv [B][Nk][2][H][D].
	s := AttnShape{B: c.b, H: c.h, Nq: c.nq, Nk: c.nk, D: c.d}
	cq := ContiguousAttnShape(c.b, c.h, c.nq, c.nk, c.d)
	var host [][]float32
	var qb, kb, vb, qoff, koff, voff int
	if c.nq == c.nk {
		rs := int64(3 * hd)
		host = [][]float32{make([]float32, c.b*c.nq*3*hd)}
		st := [3]int64{int64(c.nq) * rs, int64(c.d), rs}
		s.QStride, s.KStride, s.VStride = st, st, st
		koff, voff = hd, 2*hd
	} else {
		host = [][]float32{make([]float32, c.b*c.nq*hd), make([]float32, c.b*c.nk*2*hd)}
		s.QStride = [3]int64{int64(c.nq * hd), int64(c.d), int64(hd)}
		s.KStride = [3]int64{int64(c.nk * 2 * hd), int64(c.d), int64(2 * hd)}
		s.VStride = s.KStride
		kb, vb, voff = 1, 1, hd
	}
	scatter := func(dst []float32, off int, st [3]int64, src []float32, cst [3]int64, n int) {
		for b := 0; b < c.b; b++ {
			for h := 0; h < c.h; h++ {
				for i := 0; i < n; i++ {
					for d := 0; d < c.d; d++ {
						dst[off+b*int(st[0])+h*int(st[1])+i*int(st[2])+d] = bf16Round(src[b*int(cst[0])+h*int(cst[1])+i*int(cst[2])+d])
					}
				}
			}
		}
	}
	scatter(host[qb], qoff, s.QStride, a.bufs[0], cq.QStride, c.nq)
	scatter(host[kb], koff, s.KStride, a.bufs[1], cq.KStride, c.nk)
	scatter(host[vb], voff, s.VStride, a.bufs[2], cq.VStride, c.nk)
	// The reference on the same (rounded) inputs, in the packed layout.
	ra := &attnData{s: s, bufs: host, qb: qb, kb: kb, vb: vb, qoff: qoff, koff: koff, voff: voff,
		qscale: a.qscale, dout: a.dout, scale: a.scale, heads: a.heads}
	want := ra.reference(bf16Round)

	var bufs []Ptr
	for _, h := range host {
		bufs = append(bufs, uploadBF16(t, r, toBF16(h)))
	}
	q := bufs[qb].Add(int64(2 * qoff))
	k := bufs[kb].Add(int64(2 * koff))
	v := bufs[vb].Add(int64(2 * voff))
	var qs Ptr
	if a.qscale != nil {
		qs = upload(t, r, a.qscale)
	}
	dout := uploadBF16(t, r, toBF16(a.dout))
	nOut, nLse := a.heads*c.nq*c.d, a.heads*c.nq
	out32, lse := poisoned(t, r, nOut), poisoned(t, r, nLse)
	out16, err := r.Alloc(int64(2 * nOut))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Memset32(out16, 0xffffffff, int64((nOut+1)/2)); err != nil {
		t.Fatal(err)
	}
	defer freeAll(t, r, append(bufs, qs, dout, out32, lse, out16)...)

	if err := r.AttentionFwdBF16(out32, out16, lse, q, k, v, qs, s, a.scale); err != nil {
		t.Fatal(err)
	}
	attnCompare(t, "out32", download(t, r, out32, nOut), want.out, attnTolFlashRounded)
	attnCompare(t, "out16", fromBF16(downloadBF16(t, r, out16, nOut)), want.out, attnTolFlashRounded)
	attnCompareLSE(t, download(t, r, lse, nLse), want.lse, attnTolLSERounded)

	for _, gradBF16 := range []bool{false, true} {
		// Gradient buffers shaped like the inputs' buffers, poisoned.
		esize := 4
		if gradBF16 {
			esize = 2
		}
		var gbufs []Ptr
		for _, h := range host {
			p, err := r.Alloc(int64(esize * len(h)))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Memset32(p, 0xffffffff, int64((esize*len(h)+3)/4)); err != nil {
				t.Fatal(err)
			}
			gbufs = append(gbufs, p)
		}
		var dqs Ptr
		if a.qscale != nil {
			dqs = poisoned(t, r, nLse)
		}
		dq := gbufs[qb].Add(int64(esize * qoff))
		dk := gbufs[kb].Add(int64(esize * koff))
		dv := gbufs[vb].Add(int64(esize * voff))
		if err := r.AttentionBwdBF16(dq, dk, dv, dqs, dout, q, k, v, qs, out16, lse, s, a.scale, gradBF16); err != nil {
			t.Fatal(err)
		}
		got := make([][]float32, len(host))
		for i, h := range host {
			if gradBF16 {
				got[i] = fromBF16(downloadBF16(t, r, gbufs[i], len(h)))
			} else {
				got[i] = download(t, r, gbufs[i], len(h))
			}
		}
		gather := func(src []float32, off int, st [3]int64, n int) []float32 {
			var y []float32
			for b := 0; b < c.b; b++ {
				for h := 0; h < c.h; h++ {
					for i := 0; i < n; i++ {
						row := off + b*int(st[0]) + h*int(st[1]) + i*int(st[2])
						y = append(y, src[row:row+c.d]...)
					}
				}
			}
			return y
		}
		tag := fmt.Sprintf(" (bf16 grads %v)", gradBF16)
		attnCompare(t, "dq"+tag, gather(got[qb], qoff, s.QStride, c.nq), want.dq, attnTolFlash)
		attnCompare(t, "dk"+tag, gather(got[kb], koff, s.KStride, c.nk), want.dk, attnTolFlash)
		attnCompare(t, "dv"+tag, gather(got[vb], voff, s.VStride, c.nk), want.dv, attnTolFlash)
		if dqs != 0 {
			attnCompare(t, "dqscale"+tag, download(t, r, dqs, nLse), want.dqs, attnTolFlash)
		}
		freeAll(t, r, append(gbufs, dqs)...)
	}
}

// attnFlops is the FlashAttention convention: 4 N_q N_k D per head forward,
// 2.5 times that backward.
func attnFlops(s AttnShape) (fwd, bwd float64) {
	f := 4 * float64(s.B*s.H) * float64(s.Nq) * float64(s.Nk) * float64(s.D)
	return f, 2.5 * f
}

// BenchmarkAttentionFlash times the bf16 flash forward and backward on a
// packed bf16 QKV projection, head dim 64, 2 heads, N context rows, batch
// 16384/N (FlashAttention-2's benchmark convention: 16k tokens), and reports
// TFLOP/s; bench/reference/attention_torch.py measures PyTorch's
// scaled_dot_product_attention (flash backend) at the same shapes on the same
// GPU for the comparison.
func BenchmarkAttentionFlash(b *testing.B) {
	r := testRuntime(b)
	for _, n := range []int{512, 2048, 8192, 32768} {
		b.Run(fmt.Sprintf("N%d", n), func(b *testing.B) {
			const h, d = 2, 64
			bs := max(1, 16384/n)
			rs := int64(3 * h * d)
			st := [3]int64{int64(n) * rs, d, rs}
			s := AttnShape{B: bs, H: h, Nq: n, Nk: n, D: d, QStride: st, KStride: st, VStride: st}
			qkv := uploadBF16(b, r, toBF16(randn(1, bs*n*3*h*d)))
			dout := uploadBF16(b, r, toBF16(randn(2, bs*h*n*d)))
			dqkv, err := r.Alloc(int64(2 * bs * n * 3 * h * d))
			if err != nil {
				b.Fatal(err)
			}
			out16, err := r.Alloc(int64(2 * bs * h * n * d))
			if err != nil {
				b.Fatal(err)
			}
			lse := poisoned(b, r, bs*h*n)
			defer freeAll(b, r, qkv, dout, dqkv, out16, lse)
			q, k, v := qkv, qkv.Add(2*h*d), qkv.Add(4*h*d)
			dq, dk, dv := dqkv, dqkv.Add(2*h*d), dqkv.Add(4*h*d)
			scale := 1 / math.Sqrt(d)
			fwd := func() error { return r.AttentionFwdBF16(0, out16, lse, q, k, v, 0, s, scale) }
			bwd := func() error {
				return r.AttentionBwdBF16(dq, dk, dv, 0, dout, q, k, v, 0, out16, lse, s, scale, true)
			}
			if err := fwd(); err != nil { // warm up (module load, allocator)
				b.Fatal(err)
			}
			if err := bwd(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			msF, err := r.Time(func() error {
				for i := 0; i < b.N; i++ {
					if err := fwd(); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			msFB, err := r.Time(func() error {
				for i := 0; i < b.N; i++ {
					if err := fwd(); err != nil {
						return err
					}
					if err := bwd(); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			ff, fb := attnFlops(s)
			b.ReportMetric(ff*float64(b.N)/(msF*1e-3)/1e12, "fwd_TFLOP/s")
			b.ReportMetric((ff+fb)*float64(b.N)/(msFB*1e-3)/1e12, "TFLOP/s")
		})
	}
}

// maxAbs64 is max |x|, 0 for an empty slice.
func maxAbs64(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}
