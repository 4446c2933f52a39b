//go:build cuda

package cuda

import "fmt"

// LayerNormFwd normalises each row of x [rows, cols] (float32, contiguous):
// out = (x-mean)*rstd*gamma + beta with the row's mean and
// rstd = 1/sqrt(var+eps) (biased variance, two-pass), saving mean and rstd
// [rows] for the backward pass. gamma and beta [cols] may each be 0 (no
// scale, no shift). See src/layernorm.cu for the kernels and their accuracy.
func (r *Runtime) LayerNormFwd(out, mean, rstd, x, gamma, beta Ptr, rows, cols int, eps float64) error {
	if err := normCheck("LayerNormFwd", rows, cols, "out mean rstd x", out, mean, rstd, x); err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	if cols == 0 {
		return fmt.Errorf("cuda: LayerNormFwd: rows of length 0 have no mean")
	}
	v := pickNorm(cols, normAligned16(out, x, gamma, beta))
	return r.Launch("layernorm", v.entry("layernorm", "fwd"), v.fwdGrid(rows), D1(v.threads), 0,
		out, mean, rstd, x, gamma, beta, rows, cols, eps)
}

// LayerNormBwd computes dx [rows, cols] from dy, x and the mean and rstd
// saved by LayerNormFwd: with xhat = (x-mean)*rstd and g = dy*gamma,
// dx = rstd*(g - mean(g) - xhat*mean(g*xhat)). gamma may be 0 (no scale).
// dgamma and dbeta [cols], when non-zero, are overwritten with the sums over
// rows of dy*xhat and dy, reduced deterministically (per-block partials, then
// a fixed-order sum; no atomics).
func (r *Runtime) LayerNormBwd(dx, dgamma, dbeta, dy, x, mean, rstd, gamma Ptr, rows, cols int) error {
	if err := normCheck("LayerNormBwd", rows, cols, "dx dy x mean rstd", dx, dy, x, mean, rstd); err != nil {
		return err
	}
	if cols == 0 {
		return nil
	}
	if rows == 0 { // sums over no rows
		for _, p := range []Ptr{dgamma, dbeta} {
			if p != 0 {
				if err := r.Memset32(p, 0, int64(cols)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	v := pickNorm(cols, normAligned16(dx, dy, x, gamma))
	rpb, nb := v.bwdSplit(rows)
	launch := func(pg, pb Ptr) error {
		return r.Launch("layernorm", v.entry("layernorm", "bwd"), D1(nb), D1(v.threads), 0,
			dx, pg, pb, dy, x, mean, rstd, gamma, rows, cols, rpb)
	}
	parts := 0
	for _, p := range []Ptr{dgamma, dbeta} {
		if p != 0 {
			parts++
		}
	}
	if parts == 0 {
		return launch(0, 0)
	}
	return r.normScratch(parts*nb*cols, func(scratch Ptr) error {
		var pg, pb Ptr
		next := scratch
		if dgamma != 0 {
			pg, next = next, next.Add(int64(4*nb*cols))
		}
		if dbeta != 0 {
			pb = next
		}
		if err := launch(pg, pb); err != nil {
			return err
		}
		if dgamma != 0 {
			if err := r.normReducePartials("layernorm", dgamma, pg, nb, cols); err != nil {
				return err
			}
		}
		if dbeta != 0 {
			return r.normReducePartials("layernorm", dbeta, pb, nb, cols)
		}
		return nil
	})
}
