//go:build cuda

package cuda

// SoftmaxFwd writes out = softmax(x) over each row of x [rows, cols]
// (float32, contiguous), or log-softmax when log is set. out may alias x.
// See src/softmax.cu for the kernels and their accuracy.
func (r *Runtime) SoftmaxFwd(out, x Ptr, rows, cols int, log bool) error {
	if err := normCheck("SoftmaxFwd", rows, cols, "out x", out, x); err != nil {
		return err
	}
	if rows == 0 || cols == 0 {
		return nil
	}
	v := pickNorm(cols, normAligned16(out, x))
	return r.Launch("softmax", v.entry("softmax", "fwd"), v.fwdGrid(rows), D1(v.threads), 0,
		out, x, rows, cols, softmaxFlag(log))
}

// SoftmaxBwd computes dx [rows, cols] from the forward output y and dy:
// softmax dx = y*(dy - sum(dy*y)), log-softmax dx = dy - exp(y)*sum(dy), sums
// over each row. dx may alias y or dy.
func (r *Runtime) SoftmaxBwd(dx, y, dy Ptr, rows, cols int, log bool) error {
	if err := normCheck("SoftmaxBwd", rows, cols, "dx y dy", dx, y, dy); err != nil {
		return err
	}
	if rows == 0 || cols == 0 {
		return nil
	}
	v := pickNorm(cols, normAligned16(dx, y, dy))
	return r.Launch("softmax", v.entry("softmax", "bwd"), v.fwdGrid(rows), D1(v.threads), 0,
		dx, y, dy, rows, cols, softmaxFlag(log))
}

func softmaxFlag(log bool) int {
	if log {
		return 1
	}
	return 0
}
