//go:build cuda

package cuda

import (
	"fmt"
	"testing"
)

// TestAttentionShort runs the short-sequence kernels (exact float32) through
// the float32 API on every query count of attnSizes against key sets of 1 to
// 128 keys; shapes whose backward does not fit the short kernels' shared
// memory (Nk = 128 with D = 80) take the flash path and its tolerance.
func TestAttentionShort(t *testing.T) {
	r := testRuntime(t)
	defer setAttnHooks(attnPathShort, 0)()
	for i, c := range attnCases([]int{1, 7, 63, 65, 100, 128}) {
		tol := attnTolShort
		if !r.attnUseShort(AttnShape{B: c.b, H: c.h, Nq: c.nq, Nk: c.nk, D: c.d}) {
			tol = attnTolFlash
		}
		t.Run(c.String(), func(t *testing.T) { attnCheck(t, r, c, uint64(700+i), tol) })
	}
}

// TestAttentionShortManySequences is the feature-attention shape: thousands
// of short sequences of a packed QKV projection, several per CTA.
func TestAttentionShortManySequences(t *testing.T) {
	r := testRuntime(t)
	for i, c := range []attnCase{
		{b: 3000, h: 4, nq: 20, nk: 20, d: 16, packed: true, qscale: true},
		{b: 700, h: 2, nq: 3, nk: 3, d: 32, packed: true},
		{b: 150, h: 3, nq: 101, nk: 101, d: 64, packed: true, qscale: true},
	} {
		t.Run(c.String(), func(t *testing.T) { attnCheck(t, r, c, uint64(900+i), attnTolShort) })
	}
}

// BenchmarkAttentionShort times the short kernels' forward and forward +
// backward on feature-attention shapes (a packed float32 QKV projection of
// `rows` sequences of F tokens, 4 heads) and reports GB/s of the tensors
// they must move and the ratio to r.CopyDtoD's GB/s in the same run.
func BenchmarkAttentionShort(b *testing.B) {
	r := testRuntime(b)
	for _, c := range []struct{ rows, f, d int }{{4096, 32, 16}, {2048, 100, 32}} {
		b.Run(fmt.Sprintf("rows%d_F%d_D%d", c.rows, c.f, c.d), func(b *testing.B) {
			const h = 4
			hd := h * c.d
			rs := int64(3 * hd)
			st := [3]int64{int64(c.f) * rs, int64(c.d), rs}
			s := AttnShape{B: c.rows, H: h, Nq: c.f, Nk: c.f, D: c.d, QStride: st, KStride: st, VStride: st}
			n := c.rows * c.f * hd // elements of one of q, k, v
			qkv := upload(b, r, randn(1, 3*n))
			dout := upload(b, r, randn(2, n))
			out, lse := poisoned(b, r, n), poisoned(b, r, c.rows*h*c.f)
			dq, dk, dv := poisoned(b, r, n), poisoned(b, r, n), poisoned(b, r, n)
			defer freeAll(b, r, qkv, dout, out, lse, dq, dk, dv)
			q, k, v := qkv, qkv.Add(int64(4*hd)), qkv.Add(int64(8*hd))
			fwd := func() error { return r.AttentionFwd(out, lse, q, k, v, 0, s, 0.25) }
			bwd := func() error { return r.AttentionBwd(dq, dk, dv, 0, dout, q, k, v, 0, out, lse, s, 0.25) }
			if err := fwd(); err != nil {
				b.Fatal(err)
			}
			if err := bwd(); err != nil {
				b.Fatal(err)
			}
			copyBytes := int64(4 * 3 * n)
			tmp, err := r.Alloc(copyBytes)
			if err != nil {
				b.Fatal(err)
			}
			defer freeAll(b, r, tmp)
			b.ResetTimer()
			loop := func(f ...func() error) float64 {
				ms, err := r.Time(func() error {
					for i := 0; i < b.N; i++ {
						for _, g := range f {
							if err := g(); err != nil {
								return err
							}
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				return ms
			}
			msF := loop(fwd)
			msFB := loop(fwd, bwd)
			msC := loop(func() error { return r.CopyDtoD(tmp, qkv, copyBytes) })
			// Tensors moved: forward reads q, k, v and writes out; backward
			// reads q, k, v, dout, out and writes dq, dk, dv (lse ignored).
			gbs := func(tensors int, ms float64) float64 {
				return float64(tensors) * 4 * float64(n) * float64(b.N) / (ms * 1e-3) / 1e9
			}
			copyGBs := 2 * float64(copyBytes) * float64(b.N) / (msC * 1e-3) / 1e9
			b.ReportMetric(gbs(4, msF), "fwd_GB/s")
			b.ReportMetric(gbs(12, msFB), "GB/s")
			b.ReportMetric(gbs(12, msFB)/copyGBs, "x_copy")
		})
	}
}
