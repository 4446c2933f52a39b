package cuda

import (
	"fmt"

	"github.com/nori-ml/nori/kernels/ref"
)

// Kernel names and argument builders of the elementwise, copy and reduce
// launchers (elementwise.go, copy.go, reduce.go). They are untagged so that
// elementwise_ptx_test.go checks, without a GPU, that every kernel the
// launchers can name is in the embedded PTX with the parameters they pass.

// unaryKernels names the kernel of each ref.UnaryOp (entries
// nori_elementwise_unary_<name>[_contig] and nori_elementwise_grad_<name>[_contig]).
var unaryKernels = map[ref.UnaryOp]string{
	ref.OpNeg:       "neg",
	ref.OpExp:       "exp",
	ref.OpLog:       "log",
	ref.OpTanh:      "tanh",
	ref.OpSigmoid:   "sigmoid",
	ref.OpSiLU:      "silu",
	ref.OpReLU:      "relu",
	ref.OpGELUTanh:  "gelu_tanh",
	ref.OpGELUErf:   "gelu_erf",
	ref.OpSqrt:      "sqrt",
	ref.OpSquare:    "square",
	ref.OpAbs:       "abs",
	ref.OpScale:     "scale",
	ref.OpAddScalar: "add_scalar",
	ref.OpPowScalar: "pow_scalar",
	ref.OpClampMin:  "clamp_min",
	ref.OpClampMax:  "clamp_max",
}

// binaryKernels names the kernel of each ref.BinaryOp.
var binaryKernels = map[ref.BinaryOp]string{
	ref.OpAdd:     "add",
	ref.OpSub:     "sub",
	ref.OpMul:     "mul",
	ref.OpDiv:     "div",
	ref.OpMaximum: "maximum",
	ref.OpMinimum: "minimum",
	ref.OpEq:      "eq",
	ref.OpPow:     "pow",
}

// ewBlock is the block size of every elementwise, copy and reduce launch.
const ewBlock = 256

// Reduce ops (tensor.ReduceOp's values).
const (
	ReduceSum  = 0
	ReduceMean = 1
	ReduceMax  = 2
)

var reduceNames = [...]string{ReduceSum: "sum", ReduceMean: "mean", ReduceMax: "max"}

// copyKernel names the strided copy from src to dst (nori_copy_<src>_to_<dst>).
func copyKernel(src, dst DType) string { return fmt.Sprintf("nori_copy_%v_to_%v", src, dst) }

// contiguousLike returns the contiguous layout (offset 0) of l's shape.
func contiguousLike(l Layout) Layout {
	c := Layout{Rank: l.Rank, Shape: l.Shape}
	s := int64(1)
	for k := l.Rank - 1; k >= 0; k-- {
		c.Strides[k] = s
		s *= l.Shape[k]
	}
	return c
}
