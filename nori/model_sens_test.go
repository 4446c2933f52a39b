package nori

import (
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// TestModelUsesContext guards the invariance tests against a model that
// ignores its input: changing one context target, one context feature or
// one query feature must change the query outputs.
func TestModelUsesContext(t *testing.T) {
	m := tinyModel(t, 4)
	perturb(m, 2, 0.1)
	const B, N, F, nctx = 1, 40, 5, 30
	x, y := randomTable(3, B, N, F, nctx)
	base := infer(t, m, x, y, nctx, 0)
	yv := y.Float32s()
	yv[7] += 1
	if d, _ := maxDiff(base, infer(t, m, x, tensor.FromSlice(yv, B, nctx), nctx, 0)); d == 0 {
		t.Error("changing a context target left the outputs unchanged")
	} else {
		t.Logf("context target +1: max |diff| %.3g", d)
	}
	xv := x.Float32s()
	xv[5*F+3] += 1
	if d, _ := maxDiff(base, infer(t, m, tensor.FromSlice(xv, B, N, F), y, nctx, 0)); d == 0 {
		t.Error("changing a context feature left the outputs unchanged")
	} else {
		t.Logf("context feature +1: max |diff| %.3g", d)
	}
	xv = x.Float32s()
	xv[(nctx+2)*F+3] += 1
	got := infer(t, m, tensor.FromSlice(xv, B, N, F), y, nctx, 0)
	Q := m.Config().Quantiles
	for q := 0; q < N-nctx; q++ {
		d, _ := maxDiff(base[q*Q:(q+1)*Q], got[q*Q:(q+1)*Q])
		if (q == 2) != (d != 0) {
			t.Errorf("query %d changed by %g after editing query 2", q, d)
		}
	}
}
