package tensor

import (
	"math"

	"github.com/nori-ml/nori/kernels/ref"
)

// Reduce (CPU). Accumulation order, part of the numeric contract: every
// output element of Sum and Mean is one float64 accumulator to which the
// reduced elements are added in increasing (row-major) index order over the
// reduced axes, starting from 0; Mean then divides by their count and rounds
// to the dtype once. Max keeps the running maximum in the dtype and
// propagates NaN. Each output element is computed by exactly one task, so
// the bits never depend on the worker count.
//
// Parallelism is over output elements. When the output is tiny (a full sum),
// there is nothing to split without changing the order of one accumulator,
// so the work stays on one core: determinism and the simple order are worth
// more than the factor of Workers() on a reduction that is rarely hot.
//
// Two walks give the same order:
//   - inner: when a's innermost (non-size-1) axis is reduced, each output
//     element sums its own elements, the last axis in the inner loop (four
//     outputs interleaved when each has one reduced row, to hide the latency
//     of the additions);
//   - columns: when the innermost axis is kept (e.g. summing a bias gradient
//     over the batch), a strip of up to reduceStrip adjacent output elements
//     is accumulated together, one reduced index tuple at a time, so memory
//     is read along rows while each output still adds in index order.

// reduceStrip bounds the output strip of the column walk (its float64
// accumulators stay in L1).
const reduceStrip = 1024

// reduceGroups splits a's axes (size-1 axes dropped) into kept and reduced
// groups, merging neighbours of the same kind whose strides nest, and reports
// whether the innermost group is reduced. Groups keep a's axis order, so the
// row-major order over the kept groups is dst's order and over the reduced
// groups is increasing index order.
func reduceGroups(a *Tensor, axes []bool) (kShape, kStride, rShape, rStride []int, innerReduced bool) {
	type group struct{ size, stride int }
	var gs []group
	var red []bool
	for i, d := range a.shape {
		if d == 1 {
			continue
		}
		if n := len(gs) - 1; n >= 0 && red[n] == axes[i] && gs[n].stride == a.strides[i]*d {
			gs[n] = group{gs[n].size * d, a.strides[i]}
			continue
		}
		gs = append(gs, group{d, a.strides[i]})
		red = append(red, axes[i])
	}
	for i, g := range gs {
		if red[i] {
			rShape, rStride = append(rShape, g.size), append(rStride, g.stride)
		} else {
			kShape, kStride = append(kShape, g.size), append(kStride, g.stride)
		}
	}
	innerReduced = len(red) > 0 && red[len(red)-1]
	return
}

// tupleWalker yields the storage offsets of every index tuple of (shape,
// strides) in row-major order; reset restarts it without allocating.
type tupleWalker struct {
	shape, strides, idx []int
	off                 int
}

func newTupleWalker(shape, strides []int) *tupleWalker {
	return &tupleWalker{shape: shape, strides: strides, idx: make([]int, len(shape))}
}

func (w *tupleWalker) reset() { clear(w.idx); w.off = 0 }

func (w *tupleWalker) next() int {
	off := w.off
	for i := len(w.idx) - 1; i >= 0; i-- {
		w.idx[i]++
		w.off += w.strides[i]
		if w.idx[i] < w.shape[i] {
			break
		}
		w.off -= w.idx[i] * w.strides[i]
		w.idx[i] = 0
	}
	return off
}

func (cpuBackend) Reduce(op ReduceOp, dst, a *Tensor, axes []bool) {
	if dst.DType() == Float64 {
		reduceCPU[float64](op, dst, a, axes)
	} else {
		reduceCPU[float32](op, dst, a, axes)
	}
}

func reduceCPU[T Float](op ReduceOp, dst, a *Tensor, axes []bool) {
	nOut := dst.Numel()
	if nOut == 0 {
		return
	}
	dd := cpuData[T](dst)[:nOut]
	nRed := a.Numel() / nOut
	if a.Numel() == 0 { // an empty reduced axis: the sum of nothing
		v := T(0)
		if op != OpSum {
			v = T(math.NaN())
		}
		for i := range dd {
			dd[i] = v
		}
		return
	}
	kShape, kStride, rShape, rStride, innerReduced := reduceGroups(a, axes)
	if innerReduced || len(kShape) == 0 {
		reduceInner(op, dd, cpuData[T](a), kShape, kStride, rShape, rStride, nRed)
	} else {
		reduceColumns(op, dd, cpuData[T](a), kShape, kStride, rShape, rStride, nRed)
	}
}

// reduceInner computes each output element on its own: the reduced groups
// but the last are walked as tuples, the last group is the inner loop.
func reduceInner[T Float](op ReduceOp, dd, ad []T, kShape, kStride, rShape, rStride []int, nRed int) {
	n, inc := 1, 1
	if k := len(rShape); k > 0 {
		n, inc = rShape[k-1], rStride[k-1]
		rShape, rStride = rShape[:k-1], rStride[:k-1]
	}
	rows := Shape(rShape).Numel()
	Parallel(len(dd), max(1, elemGrain/nRed), func(lo, hi int) {
		kw := newTupleWalker(kShape, kStride)
		skipTuples(kw, lo)
		rw := newTupleWalker(rShape, rStride)
		o := lo
		if op != OpMax && rows == 1 {
			// One reduced row per output: four outputs at a time, each
			// still its own sequential accumulator.
			var acc [4]float64
			var off [4]int
			for ; o+4 <= hi; o += 4 {
				for r := range off {
					off[r] = kw.next()
				}
				acc = [4]float64{}
				ref.AccumRow4(&acc, ad, &off, n, inc)
				for r, v := range acc {
					if op == OpMean {
						v /= float64(nRed)
					}
					dd[o+r] = T(v)
				}
			}
		}
		for ; o < hi; o++ {
			base := kw.next()
			rw.reset()
			if op == OpMax {
				m := ad[base] // the element at reduced index 0
				for r := 0; r < rows; r++ {
					m = ref.MaxRow(m, ad[base+rw.next():], n, inc)
				}
				dd[o] = m
				continue
			}
			acc := 0.0
			for r := 0; r < rows; r++ {
				acc = ref.AccumRow(acc, ad[base+rw.next():], n, inc)
			}
			if op == OpMean {
				acc /= float64(nRed)
			}
			dd[o] = T(acc)
		}
	})
}

// skipTuples advances w to tuple number i (row-major) in O(rank).
func skipTuples(w *tupleWalker, i int) {
	w.reset()
	for k := len(w.shape) - 1; k >= 0; k-- {
		d := w.shape[k]
		w.idx[k] = i % d
		w.off += w.idx[k] * w.strides[k]
		i /= d
	}
}

// reduceColumns accumulates strips of adjacent output elements along the
// innermost kept group (size L, stride sL), one reduced tuple at a time.
func reduceColumns[T Float](op ReduceOp, dd, ad []T, kShape, kStride, rShape, rStride []int, nRed int) {
	k := len(kShape) - 1
	L, sL := kShape[k], kStride[k]
	oShape, oStride := kShape[:k], kStride[:k]
	grain := max(elemGrain/nRed, min(L, 64))
	Parallel(len(dd), grain, func(lo, hi int) {
		ow := newTupleWalker(oShape, oStride)
		rw := newTupleWalker(rShape, rStride)
		acc := make([]float64, reduceStrip)
		var m []T
		if op == OpMax {
			m = make([]T, reduceStrip)
		}
		for o := lo; o < hi; {
			l0 := o % L
			cnt := min(L-l0, hi-o, reduceStrip)
			skipTuples(ow, o/L)
			base := ow.next() + l0*sL
			rw.reset()
			out := dd[o : o+cnt]
			if op == OpMax {
				s := m[:cnt]
				ref.GatherStrided(s, ad[base:], cnt, sL) // reduced index 0
				for r := 0; r < nRed; r++ {
					ref.MaxCols(s, ad[base+rw.next():], sL)
				}
				copy(out, s)
			} else {
				s := acc[:cnt]
				clear(s)
				for r := 0; r < nRed; r++ {
					ref.AccumCols(s, ad[base+rw.next():], sL)
				}
				for i, v := range s {
					if op == OpMean {
						v /= float64(nRed)
					}
					out[i] = T(v)
				}
			}
			o += cnt
		}
	})
}

// SumSquares sums in the order of ReduceFloat64: fixed chunks of consecutive
// elements (row-major over a's shape, whatever its strides), each summed
// left to right in float64, the chunk sums added in order.
func (cpuBackend) SumSquares(a *Tensor) float64 {
	if a.DType() == Float64 {
		return sumSquaresCPU[float64](a)
	}
	return sumSquaresCPU[float32](a)
}

func sumSquaresCPU[T Float](a *Tensor) float64 {
	if a.Numel() == 0 {
		return 0
	}
	v := coalesce(a)[0]
	n, inc := lastDim(v.shape), v.lastStride()
	ad := cpuData[T](a)
	return ReduceFloat64(a.Numel(), func(lo, hi int) float64 {
		it := newRowIter(v, lo/n)
		j, acc := lo%n, 0.0
		for pos := lo; pos < hi; {
			cnt := min(n-j, hi-pos)
			acc = ref.AccumSquares(acc, ad[it.Next()+j*inc:], cnt, inc)
			pos += cnt
			j = 0
		}
		return acc
	})
}
