//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tolerances of the SwiGLU tests (float32 with accurate expf against
// float64): out and dup within 1e-5 relative; dgate within 1e-5 of the
// magnitude of its terms, |dy*up*s|*(1 + |gate|*(1-s)), because 1 + gate*(1-s)
// cancels near gate = -1.28.
const (
	swTol      = 1e-5
	swSeedBase = 9500
)

// swigluSizes: awkward lengths, n % 4 = 1, 2, 3 tails, fewer than 4 elements
// (no float4 step), and the model's shapes.
var swigluSizes = []int{1, 2, 3, 7, 63, 129, 1000, 3 * 4097, 4096 * 128, 100003}

func TestSwiGLU(t *testing.T) {
	r := testRuntime(t)
	for si, n := range swigluSizes {
		for _, offset := range []int{0, 1} { // offset 1: pointers 4 bytes past 16-byte alignment
			name := fmt.Sprintf("SwiGLU n=%d offset=%d", n, offset)
			gate := randn(uint64(swSeedBase+si), n+offset)
			up := randn(uint64(swSeedBase+100+si), n+offset)
			dy := randn(uint64(swSeedBase+200+si), n+offset)
			for i := range gate {
				gate[i] *= 3 // reach the saturated ends of the sigmoid too
			}
			g64, u64, d64 := normF64(gate[offset:]), normF64(up[offset:]), normF64(dy[offset:])
			want := make([]float64, n)
			ref.SwiGLU(want, g64, u64, 0, n)
			wantDg, wantDu := make([]float64, n), make([]float64, n)
			ref.SwiGLUGrad(wantDg, wantDu, d64, g64, u64, 0, n)
			magDg := make([]float64, n)
			for i := range magDg {
				s := 1 / (1 + math.Exp(-g64[i]))
				magDg[i] = math.Abs(d64[i]*u64[i]*s) * (1 + math.Abs(g64[i])*(1-s))
			}

			off := int64(4 * offset)
			dG, dU, dDy := upload(t, r, gate), upload(t, r, up), upload(t, r, dy)
			dOut, dDg, dDu := poisoned(t, r, n+offset), poisoned(t, r, n+offset), poisoned(t, r, n+offset)
			if err := r.SwiGLUFwd(dOut.Add(off), dG.Add(off), dU.Add(off), n); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := r.SwiGLUBwd(dDg.Add(off), dDu.Add(off), dDy.Add(off), dG.Add(off), dU.Add(off), n); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out := download(t, r, dOut, n+offset)
			dg := download(t, r, dDg, n+offset)
			du := download(t, r, dDu, n+offset)
			if offset == 1 && !(math.IsNaN(float64(out[0])) && math.IsNaN(float64(dg[0])) && math.IsNaN(float64(du[0]))) {
				t.Fatalf("%s: wrote before the start of its outputs", name)
			}
			normCompareElems(t, name+" out", out[offset:], want, swTol, 0)
			normCompareElems(t, name+" dup", du[offset:], wantDu, swTol, 0)
			normCompareSums(t, name+" dgate", dg[offset:], wantDg, magDg, swTol)

			// In place: out over gate, then dgate over dy and dup over up.
			if err := r.SwiGLUFwd(dG.Add(off), dG.Add(off), dU.Add(off), n); err != nil {
				t.Fatalf("%s in place: %v", name, err)
			}
			if !normBits(download(t, r, dG, n+offset)[offset:], out[offset:]) {
				t.Fatalf("%s: forward in place differs", name)
			}
			dG2 := upload(t, r, gate)
			if err := r.SwiGLUBwd(dDy.Add(off), dU.Add(off), dDy.Add(off), dG2.Add(off), dU.Add(off), n); err != nil {
				t.Fatalf("%s in place: %v", name, err)
			}
			if !normBits(download(t, r, dDy, n+offset)[offset:], dg[offset:]) ||
				!normBits(download(t, r, dU, n+offset)[offset:], du[offset:]) {
				t.Fatalf("%s: backward in place differs", name)
			}
			freeAll(t, r, dG, dU, dDy, dOut, dDg, dDu, dG2)
		}
	}
}

func TestSwiGLUErrors(t *testing.T) {
	r := testRuntime(t)
	p := poisoned(t, r, 4)
	if err := r.SwiGLUFwd(p, 0, p, 4); err == nil {
		t.Fatal("SwiGLUFwd with a null gate: no error")
	}
	if err := r.SwiGLUBwd(p, p, p, p, p, -1); err == nil {
		t.Fatal("SwiGLUBwd with a negative length: no error")
	}
	if err := r.SwiGLUFwd(p, p, p, 0); err != nil {
		t.Fatalf("SwiGLUFwd of nothing: %v", err)
	}
	freeAll(t, r, p)
}

func BenchmarkSwiGLU(b *testing.B) {
	r := testRuntime(b)
	for _, sh := range normBenchShapes {
		n := sh.rows * sh.cols
		b.Run(fmt.Sprintf("fwd/%dx%d", sh.rows, sh.cols), func(b *testing.B) {
			p := normBenchBuffers(b, r, n, 3)
			benchVsCopy(b, r, int64(4*3*n), func() error { // gate, up read; out written
				return r.SwiGLUFwd(p[2], p[0], p[1], n)
			})
		})
		b.Run(fmt.Sprintf("bwd/%dx%d", sh.rows, sh.cols), func(b *testing.B) {
			p := normBenchBuffers(b, r, n, 5)
			benchVsCopy(b, r, int64(4*5*n), func() error { // dy, gate, up read; dgate, dup written
				return r.SwiGLUBwd(p[3], p[4], p[0], p[1], p[2], n)
			})
		})
	}
}
