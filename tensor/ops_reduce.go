package tensor

import "fmt"

func reduce(op ReduceOp, name string, a *Tensor, keepDims bool, axes []int) *Tensor {
	checkCompute(name, a)
	mark := make([]bool, len(a.shape))
	if len(axes) == 0 {
		for i := range mark {
			mark[i] = true
		}
	}
	for _, ax := range axes {
		i := normAxis(name, ax, len(a.shape))
		if mark[i] {
			panic(fmt.Sprintf("tensor.%s: axis %d repeated in %v", name, ax, axes))
		}
		mark[i] = true
	}
	kept := a.shape.Clone()
	var squeezed Shape
	for i, m := range mark {
		if m {
			if op == OpMax && a.shape[i] == 0 {
				panic(fmt.Sprintf("tensor.%s: max over empty axis %d of shape %v", name, i, a.shape))
			}
			kept[i] = 1
		} else {
			squeezed = append(squeezed, a.shape[i])
		}
	}
	out := like(a, kept...)
	a.Backend().Reduce(op, out, a, mark)
	if keepDims {
		return out
	}
	return out.Reshape(squeezed...)
}

// Sum sums a over the given axes (all axes when none are given). With
// keepDims the reduced axes stay as size 1.
func Sum(a *Tensor, keepDims bool, axes ...int) *Tensor {
	return reduce(OpSum, "Sum", a, keepDims, axes)
}

// Mean averages a over the given axes (all when none are given).
func Mean(a *Tensor, keepDims bool, axes ...int) *Tensor {
	return reduce(OpMean, "Mean", a, keepDims, axes)
}

// Max takes the maximum of a over the given axes (all when none are given).
func Max(a *Tensor, keepDims bool, axes ...int) *Tensor {
	return reduce(OpMax, "Max", a, keepDims, axes)
}

// SumTo sums a down to shape, the inverse of broadcasting shape to a's shape
// (used for the gradients of broadcast operands).
func SumTo(a *Tensor, shape Shape) *Tensor {
	if a.shape.Equal(shape) {
		return a
	}
	if b, err := BroadcastShapes(shape, a.shape); err != nil || !b.Equal(a.shape) {
		panic(fmt.Sprintf("tensor.SumTo: %v does not broadcast to %v", shape, a.shape))
	}
	lead := len(a.shape) - len(shape)
	var axes []int
	for i := range a.shape {
		if i < lead || (shape[i-lead] == 1 && a.shape[i] != 1) {
			axes = append(axes, i)
		}
	}
	return Sum(a, true, axes...).Reshape(shape...)
}

// SumSquares returns the sum of the squares of all elements, accumulated in
// float64 in a fixed order.
func SumSquares(a *Tensor) float64 {
	checkCompute("SumSquares", a)
	return a.Backend().SumSquares(a)
}
