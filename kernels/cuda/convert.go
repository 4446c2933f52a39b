//go:build cuda

package cuda

// elementwiseGrid sizes a grid-stride launch: enough blocks to fill the GPU
// (32 per SM) but no more than the data needs.
func (r *Runtime) elementwiseGrid(n, block int) Dim3 {
	return D1(max(1, min(CeilDiv(n, block), 32*max(r.sms, 1))))
}

// ConvertF32ToBF16 rounds n float32 at src to bf16 at dst (nearest even).
func (r *Runtime) ConvertF32ToBF16(dst, src Ptr, n int) error {
	if n == 0 {
		return nil
	}
	return r.Launch("convert", "nori_convert_f32_to_bf16", r.elementwiseGrid(n, 256), D1(256), 0, dst, src, n)
}

// ConvertBF16ToF32 widens n bf16 at src to float32 at dst (exact).
func (r *Runtime) ConvertBF16ToF32(dst, src Ptr, n int) error {
	if n == 0 {
		return nil
	}
	return r.Launch("convert", "nori_convert_bf16_to_f32", r.elementwiseGrid(n, 256), D1(256), 0, dst, src, n)
}
