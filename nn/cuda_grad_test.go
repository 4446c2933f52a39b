//go:build cuda

package nn

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// Whole-model agreement of the CUDA device with the CPU (tag cuda, run on the
// GPU machine): a small pre-norm transformer (embedding, two blocks of
// RMSNorm + multi-head attention + SwiGLU MLP with residuals, the second
// attending to a subset of the rows with per-row query scales, a final
// LayerNorm and a linear quantile head) is built on both devices with the
// same weights, one forward and backward pass of a pinball loss runs on
// each, and every parameter gradient is compared. Plus the allocator under
// a thousand training steps of mixed sizes.
//
// Tolerance of the gradients: |gpu - cpu| <= 2e-3*(|cpu| + max|cpu|) per
// parameter tensor. The GPU runs the matrix products in float32 FMA
// (PrecisionFP32) and the short-key attention in exact float32, so the
// differences are float32 summation orders through two blocks (observed on
// the CPU side between SIMD and generic kernels: ~1e-5); the margin covers
// the pinball loss's kinks, where a prediction within rounding of its
// target may take the other side (one element's gradient changes by
// 1/(N*Q), which the max-relative bound absorbs).
//
// Measured: not yet run on a GPU (no GPU was lent to the session that wrote
// these tests).

var nnCUDA struct {
	once sync.Once
	dev  tensor.Device
	err  error
}

func testCUDADevice(t testing.TB) tensor.Device {
	t.Helper()
	nnCUDA.once.Do(func() { nnCUDA.dev, nnCUDA.err = tensor.NewCUDA(0) })
	if nnCUDA.err != nil {
		t.Fatalf("opening CUDA device 0: %v", nnCUDA.err)
	}
	return nnCUDA.dev
}

// cudaModel is the model of this file's tests.
type cudaModel struct {
	Embed  *Embedding
	Blocks []*block
	Final  *LayerNorm
	Head   *Linear
}

const (
	cmVocab, cmDim, cmHeads, cmHidden, cmQuantiles = 11, 32, 4, 48, 5
)

func newCUDAModel(b *Builder) *cudaModel {
	m := &cudaModel{Embed: NewEmbedding(b, cmVocab, cmDim)}
	for i := 0; i < 2; i++ {
		m.Blocks = append(m.Blocks, &block{
			Norm: NewRMSNorm(b, cmDim, true, 1e-5),
			Attn: NewMultiHeadAttention(b, cmDim, cmHeads),
			MLP:  NewSwiGLUMLP(b, cmDim, cmHidden),
		})
	}
	m.Final = NewLayerNorm(b, cmDim, true, 1e-5)
	m.Head = NewLinear(b, cmDim, cmQuantiles, true)
	return m
}

func (m *cudaModel) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	m.Embed.VisitParams(Join(prefix, "embed"), fn)
	for i, bl := range m.Blocks {
		bl.VisitParams(Join(Join(prefix, "blocks"), fmt.Sprint(i)), fn)
	}
	m.Final.VisitParams(Join(prefix, "final"), fn)
	m.Head.VisitParams(Join(prefix, "head"), fn)
}

// cudaBatch is one training batch on one device: token ids [X*N], targets
// [X*N], quantile levels [Q] and the query scales [X, H, N] of block 1.
type cudaBatch struct {
	x, n   int
	ids    []int
	target *autograd.Var
	taus   *autograd.Var
	qscale *autograd.Var
}

func newCUDABatch(dev tensor.Device, seed uint64, x, n int) cudaBatch {
	rng := tensor.NewRNG(seed, 0)
	ids := make([]int, x*n)
	for i := range ids {
		ids[i] = rng.Intn(cmVocab)
	}
	on := func(t *tensor.Tensor) *autograd.Var { return autograd.Const(t.To(dev, tensor.Float32)) }
	return cudaBatch{x: x, n: n, ids: ids,
		target: on(tensor.RandNormal(seed+1, 0, 1, x*n)),
		taus:   on(tensor.RandUniform(seed+2, 0.05, 0.95, cmQuantiles)),
		qscale: on(tensor.RandUniform(seed+3, 0.5, 1.5, x, cmHeads, n)),
	}
}

// loss runs the forward pass: x = embed(ids); per block x += attn(norm(x))
// (block 1: every row attends to the first half of the rows, with query
// scales), x += mlp(norm(x)); pinball of head(final(x)) against the target.
func (m *cudaModel) loss(tp *autograd.Tape, bt cudaBatch) *autograd.Var {
	e, err := m.Embed.Forward(tp, bt.ids)
	if err != nil {
		panic(err)
	}
	x := tp.Reshape(e, bt.x, bt.n, cmDim)
	for i, bl := range m.Blocks {
		h := bl.Norm.Forward(tp, x)
		if i == 0 {
			x = tp.Add(x, bl.Attn.Forward(tp, h, h, nil))
		} else {
			ctx := tp.Slice(h, 1, 0, max(1, bt.n/2))
			x = tp.Add(x, bl.Attn.Forward(tp, h, ctx, bt.qscale))
		}
		x = tp.Add(x, bl.MLP.Forward(tp, bl.Norm.Forward(tp, x)))
	}
	pred := m.Head.Forward(tp, m.Final.Forward(tp, x))
	return tp.Pinball(tp.Reshape(pred, bt.x*bt.n, cmQuantiles), bt.target, bt.taus)
}

// cudaModels returns the model on the CPU and a copy on dev with the same
// weights (bit for bit: copied, not re-drawn).
func cudaModels(dev tensor.Device, seed uint64) (cpu, gpu *cudaModel) {
	cpu = newCUDAModel(NewBuilder(seed))
	b := NewBuilder(seed)
	b.Device = dev
	gpu = newCUDAModel(b)
	cp, gp := Params(cpu), Params(gpu)
	for i := range cp {
		gp[i].Var.Value.CopyFrom(cp[i].Var.Value.To(dev, tensor.Float32))
	}
	return cpu, gpu
}

func TestCUDAModelGradients(t *testing.T) {
	dev := testCUDADevice(t)
	dev.(tensor.GPUDevice).SetMatMulPrecision(tensor.PrecisionFP32)
	cpu, gpu := cudaModels(dev, 17)
	for _, shape := range [][2]int{{2, 40}, {3, 7}} {
		var losses [2]float64
		var grads [2][]NamedParam
		for k, m := range []*cudaModel{cpu, gpu} {
			d := tensor.CPU
			if k == 1 {
				d = dev
			}
			ZeroGrad(Params(m))
			tp := autograd.NewTape()
			l := m.loss(tp, newCUDABatch(d, 5, shape[0], shape[1]))
			tp.Backward(l)
			losses[k] = l.Value.Item()
			grads[k] = Params(m)
			tp.Release()
		}
		if d := math.Abs(losses[1] - losses[0]); d > 1e-5*math.Abs(losses[0]) {
			t.Fatalf("batch %v: loss %.9g on the GPU, %.9g on the CPU", shape, losses[1], losses[0])
		}
		for i, p := range grads[0] {
			g := grads[1][i]
			if p.Name != g.Name {
				t.Fatalf("parameter %d: %s vs %s", i, p.Name, g.Name)
			}
			if p.Var.Grad == nil || g.Var.Grad == nil {
				t.Fatalf("%s: no gradient (cpu %v, gpu %v)", p.Name, p.Var.Grad != nil, g.Var.Grad != nil)
			}
			if g.Var.Grad.Device() != dev {
				t.Fatalf("%s: GPU gradient on %v", p.Name, g.Var.Grad.Device())
			}
			w, got := p.Var.Grad.Float64s(), g.Var.Grad.Float64s()
			mx := 0.0
			for _, v := range w {
				mx = max(mx, math.Abs(v))
			}
			if mx == 0 {
				t.Fatalf("%s: zero gradient on the CPU (the test would be vacuous)", p.Name)
			}
			worst := 0.0
			for j := range w {
				d := math.Abs(got[j] - w[j])
				if !(d <= 2e-3*(math.Abs(w[j])+mx)) {
					t.Fatalf("batch %v %s element %d: %.7g on the GPU, %.7g on the CPU (max|grad| %.3g)", shape, p.Name, j, got[j], w[j], mx)
				}
				worst = max(worst, d/mx)
			}
			t.Logf("batch %v %-24s max|grad| %.3g, worst |diff|/max %.2g", shape, p.Name, mx, worst)
		}
	}
}

// TestCUDATrainingMemoryStable runs a thousand AdamW training steps of
// mixed batch shapes on the GPU, releasing the tape each step as the trainer
// does, and checks that the allocator's reserve stops growing once every
// shape has been seen: freed and dropped blocks must be reused, not leaked.
// Slack: 5% of the reserve (at least 1 MiB), for a block taken while the
// cleanups of a collection are still running; a steady leak of a few
// kilobytes per step would exceed it over 900 steps.
func TestCUDATrainingMemoryStable(t *testing.T) {
	dev := testCUDADevice(t)
	gpuDev := dev.(tensor.GPUDevice)
	b := NewBuilder(3)
	b.Device = dev
	m := newCUDAModel(b)
	params := Params(m)
	opt := NewAdamW(params, DefaultAdamW())
	shapes := [][2]int{{2, 40}, {4, 17}, {1, 64}, {3, 33}, {2, 9}}
	batches := make([]cudaBatch, len(shapes))
	for i, s := range shapes {
		batches[i] = newCUDABatch(dev, uint64(10+i), s[0], s[1])
	}
	tp := autograd.NewTape()
	const steps, warm = 1000, 100
	var atWarm tensor.DeviceMemStats
	first, last := 0.0, 0.0
	for step := 0; step < steps; step++ {
		l := m.loss(tp, batches[step%len(batches)])
		tp.Backward(l)
		ClipGradNorm(params, 1)
		opt.Step(1e-3)
		opt.ZeroGrad()
		if step < len(batches) {
			first += l.Value.Item()
		}
		if step >= steps-len(batches) {
			last += l.Value.Item()
		}
		tp.Release()
		if step == warm-1 {
			atWarm = gpuDev.MemStats()
		}
	}
	end := gpuDev.MemStats()
	t.Logf("after %d steps: reserved %.2f MB (%.2f MB at step %d), peak in use %.2f MB, driver allocations %d (%d at step %d), cache hits %d",
		steps, float64(end.Reserved)/1e6, float64(atWarm.Reserved)/1e6, warm, float64(end.PeakInUse)/1e6, end.RawAllocs, atWarm.RawAllocs, warm, end.CacheHits)
	if end.Reserved > atWarm.Reserved+max(atWarm.Reserved/20, 1<<20) {
		t.Errorf("reserved memory grew from %d B at step %d to %d B at step %d", atWarm.Reserved, warm, end.Reserved, steps)
	}
	if !(last < first) {
		t.Errorf("training did not lower the loss: %.4g over the first %d steps, %.4g over the last", first, len(batches), last)
	}
}
