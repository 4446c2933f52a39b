package tensor

import "fmt"

func checkInPlace(op string, y, x *Tensor) {
	checkCompute(op, y, x)
	checkSameShape(op, y, x)
	if !y.IsContiguous() || !x.IsContiguous() {
		panic(fmt.Sprintf("tensor.%s: operands must be contiguous (shapes %v, %v)", op, y.shape, x.shape))
	}
}

// Axpby computes y = a*y + b*x in place (gradient accumulation, momentum,
// EMA). y and x must be contiguous with the same shape.
func Axpby(y, x *Tensor, a, b float64) {
	checkInPlace("Axpby", y, x)
	y.Backend().Axpby(y, x, a, b)
}

// AdamW applies one AdamW step in place (see OptimBackend.AdamW).
func AdamW(param, grad, m, v *Tensor, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	checkInPlace("AdamW", param, grad)
	checkInPlace("AdamW", param, m)
	checkInPlace("AdamW", param, v)
	param.Backend().AdamW(param, grad, m, v, lr, beta1, beta2, eps, wd, bc1, bc2)
}
