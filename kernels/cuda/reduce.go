//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"unsafe"
)

// Reduction launchers (src/reduce.cu). Sum and Mean accumulate in float64
// (Mean divides the float64 sum by the reduced count, then rounds once);
// Max compares in float32 with NaN propagation (kernels/ref.MaxRow). The
// summation order is fixed by the shapes alone (chunks of the reduced range,
// a fixed tree in each, partials added in chunk order), so results are
// deterministic; it differs from the CPU's left-to-right float64 sum, so the
// float32 results agree with the CPU's to rounding (in practice to the last
// bit except near ties). Measured speed: not yet run on a GPU.

// Reduce reduces a (layout al, float32) over the axes marked in axes
// (indices < al.Rank) into dst, contiguous with a's shape with those axes
// set to 1. op is ReduceSum, ReduceMean or ReduceMax. A reduction over an
// empty axis gives 0 for Sum and NaN for Mean and Max (as the CPU).
func (r *Runtime) Reduce(op int, dst Ptr, a Ptr, al Layout, axes [MaxRank]bool) error {
	if op < 0 || op >= len(reduceNames) {
		return fmt.Errorf("cuda: Reduce: unknown op %d", op)
	}
	if err := al.check("Reduce input", false); err != nil {
		return err
	}
	for k := al.Rank; k < MaxRank; k++ {
		if axes[k] {
			return fmt.Errorf("cuda: Reduce: axis %d marked for a rank-%d input", k, al.Rank)
		}
	}
	nOut := int64(1)
	for k := 0; k < al.Rank; k++ {
		if !axes[k] {
			nOut *= al.Shape[k]
		}
	}
	if nOut == 0 {
		return nil
	}
	if al.Numel() == 0 {
		v := 0.0
		if op != ReduceSum {
			v = math.NaN()
		}
		return r.Fill(dst, int(nOut), v)
	}
	p := planReduce(al, axes)
	if p.K > maxKernelElems || p.R > maxKernelElems {
		return fmt.Errorf("cuda: Reduce: %d outputs of %d elements each (each at most 2^31-1)", p.K, p.R)
	}
	name := reduceNames[op]
	a = a.Add(al.Offset * 4)
	rows := p.innerReduced || p.K == 1
	// Chunks: enough parallel work to fill an H100 (8192 warps for rows,
	// 256K threads for cols), chunks of at least 512 (rows) or 32 (cols)
	// elements. Shapes alone decide, so the bits never depend on the GPU.
	var C int64
	if rows {
		C = min(ceilDiv64(p.R, 512), max(1, ceilDiv64(8192, p.K)))
	} else {
		C = min(ceilDiv64(p.R, 32), max(1, ceilDiv64(262144, p.K)))
	}
	chunk := ceilDiv64(p.R, C)
	C = ceilDiv64(p.R, chunk) // no empty chunk
	var partial Ptr
	if C > 1 {
		var err error
		if partial, err = r.Alloc(p.K * C * 8); err != nil {
			return err
		}
		defer r.Free(partial)
	}
	args := []any{a, dst, partial, p.K, p.R, C, chunk}
	args = p.kept.indexArgs(args)
	args = p.red.indexArgs(args)
	var err error
	if rows {
		err = r.Launch("reduce", "nori_reduce_rows_"+name, r.elementwiseGrid(int(p.K*C*32), 256), D1(256), 0, args...)
	} else {
		err = r.Launch("reduce", "nori_reduce_cols_"+name, r.elementwiseGrid(int(p.K*C), 256), D1(256), 0, args...)
	}
	if err != nil || C == 1 {
		return err
	}
	pk, pc := C, int64(1) // rows: partial[k*C + c]
	if !rows {
		pk, pc = 1, p.K // cols: partial[c*K + k]
	}
	return r.Launch("reduce", "nori_reduce_finish_"+name, r.elementwiseGrid(int(p.K*32), 256), D1(256), 0,
		dst, partial, p.K, C, pk, pc, p.R)
}

// sumSquaresChunk is SUMSQ_CHUNK of reduce.cu.
const sumSquaresChunk = 65536

// SumSquares returns the sum of the squares of n contiguous float32 at a,
// each square formed and added in float64, in a fixed two-stage order:
// chunks of 65536 elements summed by one block each (fixed tree), then the
// chunk sums by one block. It waits for the result (a device-to-host copy).
func (r *Runtime) SumSquares(a Ptr, n int) (float64, error) {
	if n < 0 {
		return 0, fmt.Errorf("cuda: SumSquares of %d elements", n)
	}
	if n == 0 {
		return 0, nil
	}
	nb := CeilDiv(n, sumSquaresChunk)
	buf, err := r.Alloc(int64(8 * (nb + 1)))
	if err != nil {
		return 0, err
	}
	defer r.Free(buf)
	out := buf.Add(int64(8 * nb))
	if err := r.Launch("reduce", "nori_reduce_sumsq_partial", D1(nb), D1(256), 0, a, n, buf); err != nil {
		return 0, err
	}
	if err := r.Launch("reduce", "nori_reduce_sumsq_finish", D1(1), D1(256), 0, buf, nb, out); err != nil {
		return 0, err
	}
	var s float64
	if err := r.Download(unsafe.Pointer(&s), out, 8); err != nil {
		return 0, err
	}
	return s, nil
}

func ceilDiv64(a, b int64) int64 { return (a + b - 1) / b }
