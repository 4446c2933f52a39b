package nn

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// Initializer fills a freshly allocated contiguous tensor with its initial
// values. Random initialisers draw element i from the counter-based generator
// at (seed, stream, i), so the values depend on nothing else: not on the
// worker count, the device, or what was initialised before.
type Initializer func(t *tensor.Tensor, seed, stream uint64)

// Builder creates the parameters of a model: every parameter gets the
// builder's seed and the next stream number, so two models built by the same
// sequence of constructor calls from builders with the same seed are
// bit-identical, and parameters within one model are independent.
type Builder struct {
	// Seed is the seed of every parameter drawn from this builder.
	Seed uint64
	// DType and Device of the parameters (float32 on the CPU by default;
	// float64 for gradient checks).
	DType  tensor.DType
	Device tensor.Device

	next uint64
}

// builderStream0 is the first stream a Builder hands out; it keeps parameter
// streams apart from stream 0, which tensor.RandNormal/RandUniform use for
// data, so a test that draws its data and its model from one seed does not
// get correlated numbers.
const builderStream0 = 1 << 32

// NewBuilder returns a builder of float32 CPU parameters.
func NewBuilder(seed uint64) *Builder {
	return &Builder{Seed: seed, DType: tensor.Float32, Device: tensor.CPU}
}

// NewBuilder64 returns a builder of float64 CPU parameters (gradient checks
// and reference computations).
func NewBuilder64(seed uint64) *Builder {
	return &Builder{Seed: seed, DType: tensor.Float64, Device: tensor.CPU}
}

// Tensor returns a new tensor of the given shape filled by init with the
// next stream (for frozen tables and buffers that are not trained).
func (b *Builder) Tensor(init Initializer, shape ...int) *tensor.Tensor {
	dev := b.Device
	if dev == nil {
		dev = tensor.CPU
	}
	t := tensor.New(dev, b.DType, shape...)
	init(t, b.Seed, builderStream0+b.next)
	b.next++
	return t
}

// Param returns a trainable parameter of the given shape filled by init.
func (b *Builder) Param(init Initializer, shape ...int) *autograd.Var {
	return autograd.Param(b.Tensor(init, shape...))
}

// Fans returns the fan-in and fan-out of a weight of the given shape, laid out
// [out, in, receptive...] as in PyTorch: fanIn = in*receptive, fanOut =
// out*receptive; a 1-D shape [n] has both equal to n.
func Fans(shape tensor.Shape) (fanIn, fanOut int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return shape[0], shape[0]
	}
	rec := tensor.Shape(shape[2:]).Numel()
	return shape[1] * rec, shape[0] * rec
}

// Normal draws from N(mean, std^2).
func Normal(mean, std float64) Initializer {
	return func(t *tensor.Tensor, seed, stream uint64) {
		t.Backend().RandNormal(t, seed, stream, mean, std)
	}
}

// Uniform draws from U[lo, hi).
func Uniform(lo, hi float64) Initializer {
	return func(t *tensor.Tensor, seed, stream uint64) {
		t.Backend().RandUniform(t, seed, stream, lo, hi)
	}
}

// Constant sets every element to v.
func Constant(v float64) Initializer {
	return func(t *tensor.Tensor, _, _ uint64) {
		if v != 0 { // tensors arrive zero-filled
			t.Backend().Fill(t, v)
		}
	}
}

// Zeros sets every element to 0.
func Zeros() Initializer { return Constant(0) }

// Ones sets every element to 1.
func Ones() Initializer { return Constant(1) }

// XavierUniform is Glorot & Bengio's initialiser: U(-a, a) with
// a = gain*sqrt(6/(fanIn+fanOut)), keeping activation and gradient variances
// roughly constant through linear layers.
func XavierUniform(gain float64) Initializer {
	return func(t *tensor.Tensor, seed, stream uint64) {
		in, out := Fans(t.Shape())
		a := gain * math.Sqrt(6/float64(in+out))
		t.Backend().RandUniform(t, seed, stream, -a, a)
	}
}

// XavierNormal draws from N(0, std^2) with std = gain*sqrt(2/(fanIn+fanOut)).
func XavierNormal(gain float64) Initializer {
	return func(t *tensor.Tensor, seed, stream uint64) {
		in, out := Fans(t.Shape())
		t.Backend().RandNormal(t, seed, stream, 0, gain*math.Sqrt(2/float64(in+out)))
	}
}

// KaimingNormal is He et al.'s initialiser in fan-in mode: N(0, (gain^2)/fanIn).
// Use gain sqrt(2) before a ReLU, 1 for a linear layer.
func KaimingNormal(gain float64) Initializer {
	return func(t *tensor.Tensor, seed, stream uint64) {
		in, _ := Fans(t.Shape())
		t.Backend().RandNormal(t, seed, stream, 0, gain/math.Sqrt(float64(in)))
	}
}

// KaimingUniform draws from U(-b, b) with b = gain*sqrt(3/fanIn), the uniform
// distribution with KaimingNormal's variance.
func KaimingUniform(gain float64) Initializer {
	return func(t *tensor.Tensor, seed, stream uint64) {
		in, _ := Fans(t.Shape())
		b := gain * math.Sqrt(3/float64(in))
		t.Backend().RandUniform(t, seed, stream, -b, b)
	}
}

// LinearDefault is PyTorch's default for nn.Linear weights and biases,
// U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn taken from the weight shape
// [out, in]; for a bias pass the layer's input size to LinearBias instead.
func LinearDefault() Initializer { return KaimingUniform(1 / math.Sqrt(3)) }

// LinearBias is PyTorch's default for a bias of a layer with in inputs:
// U(-1/sqrt(in), 1/sqrt(in)).
func LinearBias(in int) Initializer {
	b := 1 / math.Sqrt(float64(max(in, 1)))
	return Uniform(-b, b)
}

// TruncatedNormal draws from N(mean, std^2) restricted to [lo, hi] by inverse
// transform sampling: u ~ U[0,1) is mapped to
// Phi^-1(Phi(a) + u*(Phi(b)-Phi(a))) with a, b the standardised bounds, so
// each element costs one uniform draw and no rejection loop (which would make
// element i depend on how many draws earlier elements rejected).
func TruncatedNormal(mean, std, lo, hi float64) Initializer {
	if !(lo < hi) || std <= 0 {
		panic(fmt.Sprintf("nn.TruncatedNormal: need lo < hi and std > 0, have [%g, %g], std %g", lo, hi, std))
	}
	return func(t *tensor.Tensor, seed, stream uint64) {
		t.Backend().RandUniform(t, seed, stream, 0, 1)
		cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
		pa, pb := cdf((lo-mean)/std), cdf((hi-mean)/std)
		u := t.Float64s()
		for i, v := range u {
			p := pa + v*(pb-pa)
			x := mean + std*math.Sqrt2*math.Erfinv(2*p-1)
			u[i] = min(max(x, lo), hi) // rounding at the ends of the CDF
		}
		initUpload(t, u)
	}
}

// initUpload writes host values (row-major) into the contiguous tensor t,
// converting to its dtype.
func initUpload(t *tensor.Tensor, vals []float64) {
	if t.DType() == tensor.Float64 {
		t.Device().Upload(t.Storage(), t.Offset(), vals)
		return
	}
	f := make([]float32, len(vals))
	for i, v := range vals {
		f[i] = float32(v)
	}
	if t.DType() == tensor.Float32 {
		t.Device().Upload(t.Storage(), t.Offset(), f)
		return
	}
	t.CopyFrom(tensor.FromSlice(f, t.Shape()...).To(t.Device(), tensor.Float32))
}
