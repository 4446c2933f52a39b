package tensor

import "fmt"

// EmulatedKind is the kind of an emulated device (NewEmulatedDevice).
const EmulatedKind DeviceKind = 100

// NewEmulatedDevice returns a device whose memory is host memory and whose
// kernels are the CPU's, but which is a different device from CPU: tensors on
// it cannot be mixed with CPU tensors in an op (that panics, as with a GPU),
// Float32s/Item/To go through Download/Upload, and F32Data refuses them.
//
// It exists to test, on machines without a GPU, that code which is given a
// device keeps every tensor on it (the model, inference and the trainer with
// -device): a run on an emulated device must give the same bits as a run on
// the CPU, and any tensor left behind on the CPU makes it panic.
func NewEmulatedDevice(name string) Device { return &emuDevice{name: name} }

type emuDevice struct{ name string }

// emuStorage wraps CPU storage so that tensors on the emulated device report
// it as their device.
type emuStorage struct {
	dev   *emuDevice
	inner Storage
}

func (s *emuStorage) Device() Device { return s.dev }
func (s *emuStorage) DType() DType   { return s.inner.DType() }
func (s *emuStorage) Len() int       { return s.inner.Len() }

func (d *emuDevice) Kind() DeviceKind { return EmulatedKind }
func (d *emuDevice) String() string   { return "emulated:" + d.name }
func (d *emuDevice) Backend() Backend { return emuBackend{d} }

func (d *emuDevice) Alloc(dt DType, n int) Storage {
	return &emuStorage{dev: d, inner: CPU.Alloc(dt, n)}
}

func (d *emuDevice) Free(st Storage) {
	if s, ok := st.(*emuStorage); ok && s.dev == d {
		CPU.Free(s.inner)
	}
}

func (d *emuDevice) Upload(st Storage, off int, data any) { CPU.Upload(d.inner(st), off, data) }

func (d *emuDevice) Download(st Storage, off, n int) any { return CPU.Download(d.inner(st), off, n) }

func (d *emuDevice) inner(st Storage) Storage {
	s, ok := st.(*emuStorage)
	if !ok || s.dev != d {
		panic(fmt.Sprintf("tensor: storage of %v handed to %v", st.Device(), d))
	}
	return s.inner
}

// emuBackend runs every kernel on the CPU backend over views of the inner
// storage, after checking that each tensor is on this device.
type emuBackend struct{ d *emuDevice }

// h returns the CPU view of an emulated tensor (nil stays nil).
func (b emuBackend) h(t *Tensor) *Tensor {
	if t == nil {
		return nil
	}
	return &Tensor{shape: t.shape, strides: t.strides, offset: t.offset, st: b.d.inner(t.st)}
}

var cpuB = cpuBackend{}

func (b emuBackend) Fill(dst *Tensor, v float64) { cpuB.Fill(b.h(dst), v) }
func (b emuBackend) Copy(dst, src *Tensor)       { cpuB.Copy(b.h(dst), b.h(src)) }
func (b emuBackend) RandUniform(dst *Tensor, seed, stream uint64, lo, hi float64) {
	cpuB.RandUniform(b.h(dst), seed, stream, lo, hi)
}
func (b emuBackend) RandNormal(dst *Tensor, seed, stream uint64, mean, std float64) {
	cpuB.RandNormal(b.h(dst), seed, stream, mean, std)
}
func (b emuBackend) Binary(op BinaryOp, dst, x, y *Tensor) { cpuB.Binary(op, b.h(dst), b.h(x), b.h(y)) }
func (b emuBackend) Unary(op UnaryOp, dst, x *Tensor, p float64) {
	cpuB.Unary(op, b.h(dst), b.h(x), p)
}
func (b emuBackend) UnaryGrad(op UnaryOp, dx, x, y, dy *Tensor, p float64) {
	cpuB.UnaryGrad(op, b.h(dx), b.h(x), b.h(y), b.h(dy), p)
}
func (b emuBackend) Where(dst, cond, x, y *Tensor) { cpuB.Where(b.h(dst), b.h(cond), b.h(x), b.h(y)) }
func (b emuBackend) Reduce(op ReduceOp, dst, a *Tensor, axes []bool) {
	cpuB.Reduce(op, b.h(dst), b.h(a), axes)
}
func (b emuBackend) SumSquares(a *Tensor) float64 { return cpuB.SumSquares(b.h(a)) }
func (b emuBackend) MatMul(dst, x, y *Tensor, transA, transB bool, alpha, beta float64) {
	cpuB.MatMul(b.h(dst), b.h(x), b.h(y), transA, transB, alpha, beta)
}
func (b emuBackend) Softmax(dst, x *Tensor, log bool) { cpuB.Softmax(b.h(dst), b.h(x), log) }
func (b emuBackend) SoftmaxGrad(dx, y, dy *Tensor, log bool) {
	cpuB.SoftmaxGrad(b.h(dx), b.h(y), b.h(dy), log)
}
func (b emuBackend) LayerNorm(dst, mean, rstd, x, gamma, beta *Tensor, eps float64) {
	cpuB.LayerNorm(b.h(dst), b.h(mean), b.h(rstd), b.h(x), b.h(gamma), b.h(beta), eps)
}
func (b emuBackend) LayerNormGrad(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor) {
	cpuB.LayerNormGrad(b.h(dx), b.h(dgamma), b.h(dbeta), b.h(dy), b.h(x), b.h(mean), b.h(rstd), b.h(gamma))
}
func (b emuBackend) RMSNorm(dst, rstd, x, gamma *Tensor, eps float64) {
	cpuB.RMSNorm(b.h(dst), b.h(rstd), b.h(x), b.h(gamma), eps)
}
func (b emuBackend) RMSNormGrad(dx, dgamma, dy, x, rstd, gamma *Tensor) {
	cpuB.RMSNormGrad(b.h(dx), b.h(dgamma), b.h(dy), b.h(x), b.h(rstd), b.h(gamma))
}
func (b emuBackend) SwiGLU(dst, gate, up *Tensor) { cpuB.SwiGLU(b.h(dst), b.h(gate), b.h(up)) }
func (b emuBackend) SwiGLUGrad(dgate, dup, dy, gate, up *Tensor) {
	cpuB.SwiGLUGrad(b.h(dgate), b.h(dup), b.h(dy), b.h(gate), b.h(up))
}
func (b emuBackend) Attention(out, lse, q, k, v, qscale *Tensor, scale float64) {
	cpuB.Attention(b.h(out), b.h(lse), b.h(q), b.h(k), b.h(v), b.h(qscale), scale)
}
func (b emuBackend) AttentionGrad(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse *Tensor, scale float64) {
	cpuB.AttentionGrad(b.h(dq), b.h(dk), b.h(dv), b.h(dqscale), b.h(dout), b.h(q), b.h(k), b.h(v), b.h(qscale), b.h(out), b.h(lse), scale)
}
func (b emuBackend) IndexSelect(dst, a *Tensor, axis int, idx []int) {
	cpuB.IndexSelect(b.h(dst), b.h(a), axis, idx)
}
func (b emuBackend) IndexAdd(dst *Tensor, axis int, idx []int, src *Tensor) {
	cpuB.IndexAdd(b.h(dst), axis, idx, b.h(src))
}
func (b emuBackend) Pinball(pred, target, taus *Tensor) float64 {
	return cpuB.Pinball(b.h(pred), b.h(target), b.h(taus))
}
func (b emuBackend) PinballGrad(dpred, pred, target, taus *Tensor, g float64) {
	cpuB.PinballGrad(b.h(dpred), b.h(pred), b.h(target), b.h(taus), g)
}
func (b emuBackend) Axpby(y, x *Tensor, a, c float64) { cpuB.Axpby(b.h(y), b.h(x), a, c) }
func (b emuBackend) AdamW(param, grad, m, v *Tensor, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	cpuB.AdamW(b.h(param), b.h(grad), b.h(m), b.h(v), lr, beta1, beta2, eps, wd, bc1, bc2)
}
