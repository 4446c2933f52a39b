//go:build cuda

package cuda

import "fmt"

// RMSNormFwd normalises each row of x [rows, cols] (float32, contiguous) by
// its root mean square: out = x*rstd*gamma with rstd = 1/sqrt(mean(x^2)+eps),
// saving rstd [rows] for the backward pass. gamma [cols] may be 0 (no scale).
// See src/rmsnorm.cu for the kernels and their accuracy.
func (r *Runtime) RMSNormFwd(out, rstd, x, gamma Ptr, rows, cols int, eps float64) error {
	if err := normCheck("RMSNormFwd", rows, cols, "out rstd x", out, rstd, x); err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	if cols == 0 {
		return fmt.Errorf("cuda: RMSNormFwd: rows of length 0 have no mean square")
	}
	v := pickNorm(cols, normAligned16(out, x, gamma))
	return r.Launch("rmsnorm", v.entry("rmsnorm", "fwd"), v.fwdGrid(rows), D1(v.threads), 0,
		out, rstd, x, gamma, rows, cols, eps)
}

// RMSNormBwd computes dx [rows, cols] from dy, x and the rstd saved by
// RMSNormFwd: with xhat = x*rstd and g = dy*gamma,
// dx = rstd*(g - xhat*mean(g*xhat)). gamma may be 0 (no scale). When dgamma
// [cols] is non-zero it is overwritten with sum over rows of dy*xhat, reduced
// deterministically (per-block partials, then a fixed-order sum; no atomics).
func (r *Runtime) RMSNormBwd(dx, dgamma, dy, x, rstd, gamma Ptr, rows, cols int) error {
	if err := normCheck("RMSNormBwd", rows, cols, "dx dy x rstd", dx, dy, x, rstd); err != nil {
		return err
	}
	if cols == 0 {
		return nil
	}
	if rows == 0 {
		if dgamma != 0 {
			return r.Memset32(dgamma, 0, int64(cols)) // a sum over no rows
		}
		return nil
	}
	v := pickNorm(cols, normAligned16(dx, dy, x, gamma))
	rpb, nb := v.bwdSplit(rows)
	launch := func(part Ptr) error {
		return r.Launch("rmsnorm", v.entry("rmsnorm", "bwd"), D1(nb), D1(v.threads), 0,
			dx, part, dy, x, rstd, gamma, rows, cols, rpb)
	}
	if dgamma == 0 {
		return launch(0)
	}
	return r.normScratch(nb*cols, func(part Ptr) error {
		if err := launch(part); err != nil {
			return err
		}
		return r.normReducePartials("rmsnorm", dgamma, part, nb, cols)
	})
}
