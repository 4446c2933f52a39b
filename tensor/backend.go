package tensor

import "github.com/nori-ml/nori/kernels/ref"

// Backend is the kernel interface a device implements. The op functions of this
// package validate their arguments, allocate outputs and normalise layouts
// before calling a Backend method, so implementations may assume:
//   - all tensors are on the backend's device and share one dtype (Float32 or
//     Float64; BFloat16 only in Copy);
//   - outputs (the first arguments, named dst, out, dx, ...) are contiguous,
//     freshly allocated or explicitly given, and never alias an input unless
//     the method says so;
//   - inputs may be strided views (broadcast dimensions have stride 0) except
//     where a method says "contiguous".
//
// Results must be deterministic: the same inputs give the same bits whatever
// the number of workers.
type Backend interface {
	MemoryBackend
	ElementwiseBackend
	ReduceBackend
	MatMulBackend
	NormBackend
	AttentionBackend
	IndexBackend
	LossBackend
	OptimBackend
}

// BinaryOp is an elementwise operation of two operands. The op enums are
// those of kernels/ref (one list for every backend); formulas there.
type BinaryOp = ref.BinaryOp

// The binary ops.
const (
	OpAdd     = ref.OpAdd
	OpSub     = ref.OpSub
	OpMul     = ref.OpMul
	OpDiv     = ref.OpDiv
	OpMaximum = ref.OpMaximum // elementwise max
	OpMinimum = ref.OpMinimum // elementwise min
	OpEq      = ref.OpEq      // 1 where a == b, else 0
	OpPow     = ref.OpPow     // a^b
)

// UnaryOp is an elementwise operation of one operand with an optional scalar
// parameter p.
type UnaryOp = ref.UnaryOp

// The unary ops.
const (
	OpNeg       = ref.OpNeg
	OpExp       = ref.OpExp
	OpLog       = ref.OpLog
	OpTanh      = ref.OpTanh
	OpSigmoid   = ref.OpSigmoid
	OpSiLU      = ref.OpSiLU
	OpReLU      = ref.OpReLU
	OpGELUTanh  = ref.OpGELUTanh
	OpGELUErf   = ref.OpGELUErf
	OpSqrt      = ref.OpSqrt
	OpSquare    = ref.OpSquare
	OpAbs       = ref.OpAbs
	OpScale     = ref.OpScale     // p*x
	OpAddScalar = ref.OpAddScalar // x+p
	OpPowScalar = ref.OpPowScalar // x^p
	OpClampMin  = ref.OpClampMin  // max(x, p)
	OpClampMax  = ref.OpClampMax  // min(x, p)
)

// ReduceOp is a reduction over axes.
type ReduceOp uint8

const (
	OpSum ReduceOp = iota
	OpMean
	OpMax
)

// MemoryBackend fills, copies and converts.
type MemoryBackend interface {
	// Fill sets every element of dst (contiguous) to v.
	Fill(dst *Tensor, v float64)
	// Copy copies src into dst (same shape; src any strides; dst may be a
	// strided view, e.g. a slice of a concat output). Converts dtypes, BFloat16
	// with round-to-nearest-even.
	Copy(dst, src *Tensor)
	// RandUniform fills dst (contiguous) with U[lo, hi): element i is a pure
	// function of (seed, stream, i). RandNormal likewise with N(mean, std^2).
	RandUniform(dst *Tensor, seed, stream uint64, lo, hi float64)
	RandNormal(dst *Tensor, seed, stream uint64, mean, std float64)
}

// ElementwiseBackend holds the elementwise kernels.
type ElementwiseBackend interface {
	// Binary computes dst = a op b; a and b have dst's shape (broadcast by
	// stride 0).
	Binary(op BinaryOp, dst, a, b *Tensor)
	// Unary computes dst = op(a, p).
	Unary(op UnaryOp, dst, a *Tensor, p float64)
	// UnaryGrad computes dx = dy * op'(x) for the ops with a derivative; y is
	// op(x) (kernels may use whichever is cheaper). All the same shape.
	UnaryGrad(op UnaryOp, dx, x, y, dy *Tensor, p float64)
	// Where computes dst = cond != 0 ? a : b; cond, a and b have dst's shape.
	Where(dst, cond, a, b *Tensor)
}

// ReduceBackend holds reductions.
type ReduceBackend interface {
	// Reduce reduces a over the axes marked in axes (len = rank of a) into
	// dst, which has a's shape with those axes set to 1.
	Reduce(op ReduceOp, dst, a *Tensor, axes []bool)
	// SumSquares returns the sum of squares of every element of a, summed in
	// float64 in a fixed order.
	SumSquares(a *Tensor) float64
}

// MatMulBackend holds matrix products.
type MatMulBackend interface {
	// MatMul computes dst = alpha * op(a) @ op(b) + beta * dst for every batch
	// index, where op transposes the last two axes when the flag is set.
	// dst is contiguous [batch..., M, N]; a and b have the same batch shape as
	// dst (stride 0 where broadcast) and, in their last two axes, unit stride
	// in the last axis.
	MatMul(dst, a, b *Tensor, transA, transB bool, alpha, beta float64)
}

// NormBackend holds row normalisations over the last axis (all contiguous).
type NormBackend interface {
	// Softmax computes dst = softmax(x) (or log-softmax) over the last axis.
	Softmax(dst, x *Tensor, log bool)
	// SoftmaxGrad computes dx from the forward output y and dy.
	SoftmaxGrad(dx, y, dy *Tensor, log bool)
	// LayerNorm writes dst = (x-mean)*rstd*gamma + beta and saves mean and rstd
	// ([rows]); gamma and beta ([cols]) may be nil.
	LayerNorm(dst, mean, rstd, x, gamma, beta *Tensor, eps float64)
	// LayerNormGrad computes dx and, when non-nil, dgamma and dbeta
	// (overwritten, not accumulated).
	LayerNormGrad(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor)
	// RMSNorm writes dst = x*rstd*gamma with rstd = 1/sqrt(mean(x^2)+eps)
	// saved per row; gamma may be nil (no scale).
	RMSNorm(dst, rstd, x, gamma *Tensor, eps float64)
	// RMSNormGrad computes dx and, when non-nil, dgamma (overwritten).
	RMSNormGrad(dx, dgamma, dy, x, rstd, gamma *Tensor)
	// SwiGLU computes dst = silu(gate) * up.
	SwiGLU(dst, gate, up *Tensor)
	// SwiGLUGrad computes dgate and dup from dy.
	SwiGLUGrad(dgate, dup, dy, gate, up *Tensor)
}

// AttentionBackend holds scaled dot-product attention.
//
// q is [B, H, Nq, D], k and v are [B, H, Nk, D] (last axis unit stride, other
// axes any stride, so heads can be views of a packed QKV projection); out is
// contiguous [B, H, Nq, D] and lse contiguous [B, H, Nq] (log-sum-exp of the
// scaled scores per query row, kept for the backward pass). Each query row i
// computes softmax(s_i * q_i . K^T) V with s_i = scale * qscale[b,h,i], where
// qscale ([B, H, Nq], contiguous) may be nil.
type AttentionBackend interface {
	Attention(out, lse, q, k, v, qscale *Tensor, scale float64)
	// AttentionGrad computes dq, dk, dv (contiguous, overwritten) and, when
	// qscale is non-nil, dqscale.
	AttentionGrad(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse *Tensor, scale float64)
}

// IndexBackend holds gathers and scatters along one axis.
type IndexBackend interface {
	// IndexSelect sets dst[..., j, ...] = a[..., idx[j], ...] along axis.
	IndexSelect(dst, a *Tensor, axis int, idx []int)
	// IndexAdd adds src[..., j, ...] into dst[..., idx[j], ...] along axis
	// (dst contiguous, accumulated in j order so repeated indices are
	// deterministic).
	IndexAdd(dst *Tensor, axis int, idx []int, src *Tensor)
}

// LossBackend holds losses.
type LossBackend interface {
	// Pinball returns the mean over rows and quantiles of the pinball loss
	// rho_tau(y - q) = max(tau*(y-q), (tau-1)*(y-q)) for pred [N, Q] (contiguous),
	// target [N] and taus [Q], summed in float64 in a fixed order.
	Pinball(pred, target, taus *Tensor) float64
	// PinballGrad writes dpred = g * d(mean loss)/d pred.
	PinballGrad(dpred, pred, target, taus *Tensor, g float64)
}

// OptimBackend holds in-place optimizer updates on contiguous tensors.
type OptimBackend interface {
	// Axpby computes y = a*y + b*x in place.
	Axpby(y, x *Tensor, a, b float64)
	// AdamW applies one AdamW step to param given grad and the moment buffers
	// m and v (updated in place). bc1 and bc2 are the bias corrections
	// 1-beta1^t and 1-beta2^t; decoupled weight decay: p -= lr*wd*p.
	AdamW(param, grad, m, v *Tensor, lr, beta1, beta2, eps, wd, bc1, bc2 float64)
}
