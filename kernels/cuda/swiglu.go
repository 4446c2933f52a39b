//go:build cuda

package cuda

import "fmt"

// SwiGLUFwd writes out[i] = silu(gate[i])*up[i] = gate*sigmoid(gate)*up for
// n float32. out may alias gate or up. See src/swiglu.cu.
func (r *Runtime) SwiGLUFwd(out, gate, up Ptr, n int) error {
	if err := swigluCheck("SwiGLUFwd", n, "out gate up", out, gate, up); err != nil || n == 0 {
		return err
	}
	vec := swigluVec(out, gate, up)
	return r.Launch("swiglu", "nori_swiglu_fwd", r.swigluGrid(n, vec), D1(256), 0, out, gate, up, n, vec)
}

// SwiGLUBwd computes, for n float32, dgate = dy*up*s*(1 + gate*(1-s)) and
// dup = dy*gate*s with s = sigmoid(gate) recomputed. The outputs may alias
// the inputs.
func (r *Runtime) SwiGLUBwd(dgate, dup, dy, gate, up Ptr, n int) error {
	if err := swigluCheck("SwiGLUBwd", n, "dgate dup dy gate up", dgate, dup, dy, gate, up); err != nil || n == 0 {
		return err
	}
	vec := swigluVec(dgate, dup, dy, gate, up)
	return r.Launch("swiglu", "nori_swiglu_bwd", r.swigluGrid(n, vec), D1(256), 0, dgate, dup, dy, gate, up, n, vec)
}

func swigluCheck(op string, n int, names string, ptrs ...Ptr) error {
	if n < 0 {
		return fmt.Errorf("cuda: %s: negative length %d", op, n)
	}
	return normCheck(op, 0, 0, names, ptrs...)
}

// swigluVec is the kernels' vec flag: 1 when every pointer is 16-byte aligned
// (float4 loads and stores), else 0.
func swigluVec(ps ...Ptr) int {
	if normAligned16(ps...) {
		return 1
	}
	return 0
}

// swigluGrid sizes the grid-stride launch: a thread per float4 (vec) or per
// float.
func (r *Runtime) swigluGrid(n, vec int) Dim3 {
	if vec == 1 {
		n = CeilDiv(n, 4)
	}
	return r.elementwiseGrid(n, 256)
}
