package tensor

import "fmt"

// Argument checks shared by the ops. Programming errors inside the engine
// panic with the op's name and the offending shapes, as gonum's mat does.

// checkCompute panics unless every non-nil tensor is on one device with one
// compute dtype (Float32 or Float64).
func checkCompute(op string, ts ...*Tensor) {
	var first *Tensor
	for _, t := range ts {
		if t == nil {
			continue
		}
		if first == nil {
			first = t
			if dt := t.DType(); dt != Float32 && dt != Float64 {
				panic(fmt.Sprintf("tensor.%s: dtype %v is storage only; convert to float32 first", op, dt))
			}
			continue
		}
		if t.Device() != first.Device() {
			panic(fmt.Sprintf("tensor.%s: tensors on %v and %v", op, first.Device(), t.Device()))
		}
		if t.DType() != first.DType() {
			panic(fmt.Sprintf("tensor.%s: dtypes %v and %v differ", op, first.DType(), t.DType()))
		}
	}
}

// checkShape panics unless t has shape want.
func checkShape(op, what string, t *Tensor, want Shape) {
	if !t.shape.Equal(want) {
		panic(fmt.Sprintf("tensor.%s: %s has shape %v, want %v", op, what, t.shape, want))
	}
}

// checkSameShape panics unless a and b have the same shape.
func checkSameShape(op string, a, b *Tensor) {
	if !a.shape.Equal(b.shape) {
		panic(fmt.Sprintf("tensor.%s: shapes %v and %v differ", op, a.shape, b.shape))
	}
}

// checkRank panics unless t has at least rank min.
func checkMinRank(op string, t *Tensor, min int) {
	if len(t.shape) < min {
		panic(fmt.Sprintf("tensor.%s: shape %v has rank %d, need at least %d", op, t.shape, len(t.shape), min))
	}
}

// like returns a new zero tensor with t's device, dtype and the given shape.
func like(t *Tensor, shape ...int) *Tensor { return New(t.Device(), t.DType(), shape...) }
