//go:build cuda

package cuda

import (
	"fmt"
	"math"
)

// Copy launchers (src/copy.cu) and Fill. Measured speed: not yet run on a GPU.

// Fill sets n contiguous float32 at dst to float32(v). It is a
// cuMemsetD32Async of v's bits: a DMA-engine fill at copy speed, also
// recordable in a CUDA graph.
func (r *Runtime) Fill(dst Ptr, n int, v float64) error {
	if n < 0 {
		return fmt.Errorf("cuda: Fill of %d elements", n)
	}
	return r.Memset32(dst, math.Float32bits(float32(v)), int64(n))
}

// CopyStrided copies src (layout sl, dtype srcDT) into dst (layout dl,
// dtype dstDT) element by element: same shape, any strides (src may
// broadcast with stride 0; dst must not overlap itself), converting as
// tensor.Copy does (through float64; to bfloat16 via float32 with round to
// nearest even). Dense same-dtype copies are a device-to-device memcpy.
func (r *Runtime) CopyStrided(dst Ptr, dl Layout, dstDT DType, src Ptr, sl Layout, srcDT DType) error {
	if dstDT.Size() == 0 || srcDT.Size() == 0 {
		return fmt.Errorf("cuda: CopyStrided from %v to %v: unknown dtype", srcDT, dstDT)
	}
	if err := dl.check("CopyStrided dst", true); err != nil {
		return err
	}
	if err := sl.check("CopyStrided src", false); err != nil {
		return err
	}
	if err := sameShape([]string{"dst", "src"}, []Layout{dl, sl}); err != nil {
		return err
	}
	n := dl.Numel()
	if n == 0 {
		return nil
	}
	f := coalesce([]Layout{dl, sl})
	if dstDT == srcDT && f.contiguous(0) && f.contiguous(1) {
		size := int64(dstDT.Size())
		return r.CopyDtoD(f.offsetPtr(0, dst, dstDT.Size()), f.offsetPtr(1, src, srcDT.Size()), n*size)
	}
	kernel := copyKernel(srcDT, dstDT)
	return f.slabs(func(p flatLayout) error {
		args := p.args(make([]any, 0, 28))
		args = p.operandArgs(args, 0, dst, dstDT.Size())
		args = p.operandArgs(args, 1, src, srcDT.Size())
		return r.Launch("copy", kernel, r.elementwiseGrid(int(p.numel()), ewBlock), D1(ewBlock), 0, args...)
	})
}
