package ref_test

import (
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Kernel-level contracts of the normalisation kernels: row ranges and the
// float64 accumulators of the parameter gradients, which are added to (so a
// caller can chunk rows) in row order. Values are tested against float64
// Jacobians in tensor/norm_test.go.

func TestNormRefRowsAndAccumulators(t *testing.T) {
	const rows, n, eps = 11, 33, 1e-5
	x := mnlConv[float64](mnlVals(3, rows*n))
	dy := mnlConv[float64](mnlVals(4, rows*n))
	gamma, beta := mnlConv[float64](mnlVals(5, n)), mnlConv[float64](mnlVals(6, n))

	out, mean, rstd := make([]float64, rows*n), make([]float64, rows), make([]float64, rows)
	mnlSplitRows(t, "LayerNorm", rows, func() [][]float64 { return [][]float64{out, mean, rstd} }, func(lo, hi int) {
		ref.LayerNorm(out, mean, rstd, x, gamma, beta, n, lo, hi, eps)
	})
	dx := make([]float64, rows*n)
	mnlSplitRows(t, "LayerNormGrad", rows, func() [][]float64 { return [][]float64{dx} }, func(lo, hi int) {
		ref.LayerNormGrad(dx, nil, nil, dy, x, mean, rstd, gamma, n, lo, hi)
	})
	// Accumulators: start from 1, add rows in two calls; must equal 1 plus
	// the column sums of dy*xhat and dy taken in row order.
	dg, db := make([]float64, n), make([]float64, n)
	for j := range dg {
		dg[j], db[j] = 1, 1
	}
	ref.LayerNormGrad(dx, dg, db, dy, x, mean, rstd, gamma, n, 0, 4)
	ref.LayerNormGrad(dx, dg, db, dy, x, mean, rstd, gamma, n, 4, rows)
	for j := 0; j < n; j++ {
		wg, wb := 1.0, 1.0
		for r := 0; r < rows; r++ {
			wg += dy[r*n+j] * ((x[r*n+j] - mean[r]) * rstd[r])
			wb += dy[r*n+j]
		}
		if dg[j] != wg || db[j] != wb {
			t.Fatalf("LayerNormGrad column %d: dgamma %v dbeta %v, want %v %v", j, dg[j], db[j], wg, wb)
		}
	}

	rs := make([]float64, rows)
	mnlSplitRows(t, "RMSNorm", rows, func() [][]float64 { return [][]float64{out, rs} }, func(lo, hi int) {
		ref.RMSNorm(out, rs, x, nil, n, lo, hi, eps)
	})
	dg = make([]float64, n)
	ref.RMSNormGrad(dx, dg, dy, x, rs, nil, n, 0, 5)
	ref.RMSNormGrad(dx, dg, dy, x, rs, nil, n, 5, rows)
	for j := 0; j < n; j++ {
		w := 0.0
		for r := 0; r < rows; r++ {
			w += dy[r*n+j] * (x[r*n+j] * rs[r])
		}
		if dg[j] != w {
			t.Fatalf("RMSNormGrad column %d: dgamma %v, want %v", j, dg[j], w)
		}
	}
}
