package nn

import (
	"runtime"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// Memory behaviour of training and inference: a training step must not
// allocate more as training goes on (the tape's Release hands buffers back to
// the pool and the next step reuses them), and a no-grad forward pass must
// hold far less memory than a recording one.

// stepper runs full-batch training steps of the e2e MLP.
type stepper struct {
	m      *e2eMLP
	params []NamedParam
	opt    Optimizer
	tp     *autograd.Tape
	x, y   *autograd.Var
}

func newStepper(optimizer string) *stepper {
	x, y := e2eData(1, 256, e2eNoise)
	m := newE2EMLP(7, 64)
	params := Params(m)
	opt, _ := e2eRun{optimizer: optimizer, steps: 100}.newOptimizer(params)
	return &stepper{m: m, params: params, opt: opt, tp: autograd.NewTape(), x: autograd.Const(x), y: autograd.Const(y)}
}

func (s *stepper) step() {
	loss := mseLoss(s.tp, s.m.Forward(s.tp, s.x), s.y)
	s.tp.Backward(loss)
	ClipGradNorm(s.params, 1)
	s.opt.Step(1e-3)
	s.opt.ZeroGrad()
	s.tp.Release()
}

// allocsOver returns the heap allocations (count and bytes) per step over n
// steps.
func (s *stepper) allocsOver(n int) (allocs, bytes float64) {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	for i := 0; i < n; i++ {
		s.step()
	}
	runtime.ReadMemStats(&b)
	return float64(b.Mallocs-a.Mallocs) / float64(n), float64(b.TotalAlloc-a.TotalAlloc) / float64(n)
}

func TestTrainStepAllocationsDoNotGrow(t *testing.T) {
	for _, opt := range []string{"adamw", "muon"} {
		s := newStepper(opt)
		for i := 0; i < 10; i++ { // steps 0..9: the pool fills up
			s.step()
		}
		a1, b1 := s.allocsOver(10) // steps 10..19
		for i := 20; i < 40; i++ {
			s.step()
		}
		a2, b2 := s.allocsOver(10) // steps 40..49
		t.Logf("%s: steps 10-19: %.0f allocs, %.0f B per step; steps 40-49: %.0f allocs, %.0f B per step", opt, a1, b1, a2, b2)
		// Same work every step: the counts may differ by a few allocations
		// (runtime bookkeeping), never grow with the step number.
		if a2 > a1*1.02+8 || b2 > b1*1.05+4096 {
			t.Errorf("%s: allocations grew from %.0f allocs / %.0f B to %.0f allocs / %.0f B per step", opt, a1, b1, a2, b2)
		}
		// Tensor buffers come from the pool after warm-up: the bytes per
		// step are headers and closures, far below one step's activations
		// (256 rows x 64 x ~10 tensors x 4 B = 640 KiB).
		if b2 > 256*1024 {
			t.Errorf("%s: %.0f B allocated per step: tensor buffers are not being reused", opt, b2)
		}
	}
}

func BenchmarkTrainStepMLP(b *testing.B) {
	for _, opt := range []string{"adamw", "muon"} {
		b.Run(opt, func(b *testing.B) {
			s := newStepper(opt)
			for i := 0; i < 5; i++ {
				s.step()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.step()
			}
		})
	}
}

// stack is a pre-norm transformer stack of self-attention and SwiGLU blocks
// with residuals, for the memory comparison.
type stack struct {
	blocks []*block
}

func newStack(seed uint64, layers, dim, heads, hidden int) *stack {
	b := NewBuilder(seed)
	s := &stack{}
	for i := 0; i < layers; i++ {
		s.blocks = append(s.blocks, &block{
			Norm: NewRMSNorm(b, dim, false, 1e-5),
			Attn: NewMultiHeadAttention(b, dim, heads),
			MLP:  NewSwiGLUMLP(b, dim, hidden),
		})
	}
	return s
}

func (s *stack) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	for i, bl := range s.blocks {
		bl.VisitParams(Join(Join(prefix, "blocks"), string(rune('0'+i))), fn)
	}
}

// Forward maps x [X, N, E] to [X, N, E]:
// x += attn(norm(x)); x += mlp(norm(x)) per block.
func (s *stack) Forward(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	for _, bl := range s.blocks {
		h := bl.Norm.Forward(tp, x)
		x = tp.Add(x, bl.Attn.Forward(tp, h, h, nil))
		x = tp.Add(x, bl.MLP.Forward(tp, bl.Norm.Forward(tp, x)))
	}
	return x
}

// forwardMemory runs one forward pass of the stack and returns the heap
// bytes still live at its end with the output held (measured after a full
// GC: for a recording tape this is everything the backward pass needs, i.e.
// the forward's peak; without gradients only the output and the weights
// remain) and the bytes allocated during it (the pool is drained first so
// that every buffer counts).
func forwardMemory(s *stack, x *tensor.Tensor, grad bool) (live, alloc uint64) {
	tensor.DrainPool()
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	tp := autograd.NoGrad()
	if grad {
		tp = autograd.NewTape()
	}
	y := s.Forward(tp, autograd.Const(x))
	runtime.GC()
	runtime.ReadMemStats(&b)
	// The model and input must stay reachable until b is read, or the GC
	// frees them during the measurement and the difference goes negative.
	runtime.KeepAlive(y)
	runtime.KeepAlive(s)
	runtime.KeepAlive(x)
	tp.Release()
	return b.HeapAlloc - min(b.HeapAlloc, a.HeapAlloc), b.TotalAlloc - a.TotalAlloc
}

const (
	memSets, memRows, memDim, memHeads, memHidden, memLayers = 4, 128, 64, 4, 171, 4
)

func TestNoGradForwardHoldsLessMemory(t *testing.T) {
	s := newStack(3, memLayers, memDim, memHeads, memHidden)
	x := tensor.RandNormal(4, 0, 1, memSets, memRows, memDim)
	liveG, allocG := forwardMemory(s, x, true)
	liveN, allocN := forwardMemory(s, x, false)
	out := uint64(x.Numel() * 4)
	t.Logf("stack %dx[%d,%d,%d]: live after forward: grad %.2f MB, no-grad %.2f MB (output %.2f MB); allocated: grad %.2f MB, no-grad %.2f MB",
		memLayers, memSets, memRows, memDim, float64(liveG)/1e6, float64(liveN)/1e6, float64(out)/1e6, float64(allocG)/1e6, float64(allocN)/1e6)
	// The recording tape keeps every activation of 4 blocks (dozens of
	// [4,128,64]-sized tensors); without it only the output survives.
	if liveN*4 > liveG {
		t.Errorf("no-grad forward keeps %d B live, grad %d B: want no-grad < 1/4 of grad", liveN, liveG)
	}
	if liveG < 20*out {
		t.Errorf("recording forward keeps only %d B (output %d B): activations are not being held?", liveG, out)
	}
}

func BenchmarkForwardMemory(b *testing.B) {
	s := newStack(3, memLayers, memDim, memHeads, memHidden)
	x := tensor.RandNormal(4, 0, 1, memSets, memRows, memDim)
	for _, mode := range []string{"nograd", "grad"} {
		b.Run(mode, func(b *testing.B) {
			var live, alloc uint64
			for i := 0; i < b.N; i++ {
				l, a := forwardMemory(s, x, mode == "grad")
				live, alloc = max(live, l), max(alloc, a)
			}
			b.ReportMetric(float64(live)/1e6, "live-MB")
			b.ReportMetric(float64(alloc)/1e6, "alloc-MB")
		})
	}
}
