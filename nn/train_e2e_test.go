package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// End-to-end training: a small MLP learns a smooth nonlinear regression with
// AdamW and with Muon (+AdamW for vectors and the output head), and training
// is bit-reproducible across runs and worker counts.

// e2eMLP is 8 -> 64 -> 64 -> 1:
// h1 = silu(in(x)), h2 = silu(mid(rmsnorm(h1))), y = out(rmsnorm(h2)).
type e2eMLP struct {
	In, Mid, Out *Linear
	Norm1, Norm2 *RMSNorm
}

func newE2EMLP(seed uint64, width int) *e2eMLP {
	b := NewBuilder(seed)
	return &e2eMLP{
		In:    NewLinear(b, 8, width, true),
		Norm1: NewRMSNorm(b, width, true, 1e-5),
		Mid:   NewLinear(b, width, width, true),
		Norm2: NewRMSNorm(b, width, true, 1e-5),
		Out:   NewLinear(b, width, 1, true),
	}
}

func (m *e2eMLP) VisitParams(prefix string, fn func(string, *autograd.Var)) {
	m.In.VisitParams(Join(prefix, "in"), fn)
	m.Norm1.VisitParams(Join(prefix, "norm1"), fn)
	m.Mid.VisitParams(Join(prefix, "mid"), fn)
	m.Norm2.VisitParams(Join(prefix, "norm2"), fn)
	m.Out.VisitParams(Join(prefix, "out"), fn)
}

// Forward maps x [N, 8] to predictions [N, 1].
func (m *e2eMLP) Forward(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	h := tp.SiLU(m.In.Forward(tp, x))
	h = tp.SiLU(m.Mid.Forward(tp, m.Norm1.Forward(tp, h)))
	return m.Out.Forward(tp, m.Norm2.Forward(tp, h))
}

// e2eTarget is the smooth function to learn.
func e2eTarget(x []float64) float64 {
	return math.Sin(2*x[0]) + 0.5*x[1]*x[2] + 0.3*math.Cos(3*x[3]) + 0.2*x[4]*x[4] -
		0.4*math.Tanh(x[5]+x[6]) + 0.1*x[7]
}

// e2eData returns n rows x [n, 8] ~ N(0, 1) and y [n, 1] = target + N(0,
// noise^2), seeded.
func e2eData(seed uint64, n int, noise float64) (x, y *tensor.Tensor) {
	x = tensor.RandNormal(seed, 0, 1, n, 8)
	eps := tensor.RandNormal(seed+1, 0, noise, n).Float64s()
	xs := x.Float64s()
	ys := make([]float32, n)
	for i := range ys {
		ys[i] = float32(e2eTarget(xs[i*8:(i+1)*8]) + eps[i])
	}
	return x, tensor.FromSlice(ys, n, 1)
}

// mseLoss returns mean((pred - y)^2).
func mseLoss(tp *autograd.Tape, pred, y *autograd.Var) *autograd.Var {
	return tp.Mean(tp.Square(tp.Sub(pred, y)), false)
}

// variance returns the population variance of t's elements.
func variance(t *tensor.Tensor) float64 {
	_, s := moments(t.Float64s())
	return s * s
}

// e2eRun describes one training run.
type e2eRun struct {
	optimizer string // "adamw" or "muon"
	steps     int
	workers   int
}

// e2eResult is what a run leaves behind.
type e2eResult struct {
	model              *e2eMLP
	trainMSE, testMSE  float64
	emaTestMSE         float64
	firstLoss, maxNorm float64
}

const (
	e2eTrainRows = 1024
	e2eTestRows  = 512
	e2eNoise     = 0.05
)

func (r e2eRun) newOptimizer(params []NamedParam) (Optimizer, Schedule) {
	total := r.steps
	switch r.optimizer {
	case "adamw":
		return NewAdamW(params, AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.01}),
			WarmupConstantCosine(1e-2, 1e-4, total/20, total/2, total)
	case "muon":
		// Muon for the two hidden weights; vectors and the [1, 64] output
		// head on AdamW, as the reference keeps heads off Muon.
		return NewMuonAdamW(params, DefaultMuon(), AdamWConfig{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.01},
				func(name string) bool { return strings.HasPrefix(name, "out.") }),
			WarmupConstantCosine(1e-2, 1e-4, total/20, total/2, total)
	}
	panic("unknown optimizer " + r.optimizer)
}

// train runs a full-batch training loop: forward, MSE, backward, clip to
// norm 1, optimizer step with the schedule, EMA update, tape release.
func (r e2eRun) train() e2eResult {
	if r.workers > 0 {
		old := tensor.SetWorkers(r.workers)
		defer tensor.SetWorkers(old)
	}
	xtr, ytr := e2eData(1, e2eTrainRows, e2eNoise)
	xte, yte := e2eData(2, e2eTestRows, e2eNoise)
	m := newE2EMLP(42, 64)
	params := Params(m)
	opt, sched := r.newOptimizer(params)
	ema := NewEMA(params, 0.95)
	res := e2eResult{model: m}
	tp := autograd.NewTape()
	for step := 0; step < r.steps; step++ {
		loss := mseLoss(tp, m.Forward(tp, autograd.Const(xtr)), autograd.Const(ytr))
		if step == 0 {
			res.firstLoss = loss.Value.Item()
		}
		tp.Backward(loss)
		res.maxNorm = math.Max(res.maxNorm, ClipGradNorm(params, 1))
		opt.Step(sched(opt.Steps()))
		opt.ZeroGrad()
		ema.Update()
		tp.Release()
	}
	eval := func(x, y *tensor.Tensor) float64 {
		ng := autograd.NoGrad()
		return mseLoss(ng, m.Forward(ng, autograd.Const(x)), autograd.Const(y)).Value.Item()
	}
	res.trainMSE, res.testMSE = eval(xtr, ytr), eval(xte, yte)
	ema.Swap()
	res.emaTestMSE = eval(xte, yte)
	ema.Swap()
	return res
}

func TestTrainMLPConverges(t *testing.T) {
	_, ytr := e2eData(1, e2eTrainRows, e2eNoise)
	_, yte := e2eData(2, e2eTestRows, e2eNoise)
	varTrain, varTest := variance(ytr), variance(yte)
	t.Logf("var(y): train %.4f, test %.4f; noise variance %.4f", varTrain, varTest, e2eNoise*e2eNoise)
	for _, opt := range []string{"adamw", "muon"} {
		res := e2eRun{optimizer: opt, steps: 300}.train()
		t.Logf("%s: first loss %.4f, final train MSE %.5f, test MSE %.4f, EMA test MSE %.4f, max grad norm %.3f",
			opt, res.firstLoss, res.trainMSE, res.testMSE, res.emaTestMSE, res.maxNorm)
		// Thresholds: the training MSE must fall below 2% of var(y) (it
		// starts above var(y)), and the held-out MSE, which also measures
		// how well 1024 rows pin down an 8-D function, below 15% of its
		// variance; the EMA weights likewise.
		if res.trainMSE > 0.02*varTrain {
			t.Errorf("%s: train MSE %.5f above 0.02*var(y) = %.5f", opt, res.trainMSE, 0.02*varTrain)
		}
		if res.testMSE > 0.15*varTest || res.emaTestMSE > 0.15*varTest {
			t.Errorf("%s: test MSE %.4f (EMA %.4f) above 0.15*var(y) = %.4f", opt, res.testMSE, res.emaTestMSE, 0.15*varTest)
		}
	}
}

// TestTrainMLPDeterministic trains twice with 2 workers and once with 1 and
// requires bit-identical weights (and optimizer state) each time.
func TestTrainMLPDeterministic(t *testing.T) {
	for _, opt := range []string{"adamw", "muon"} {
		a := e2eRun{optimizer: opt, steps: 40, workers: 2}.train()
		b := e2eRun{optimizer: opt, steps: 40, workers: 2}.train()
		c := e2eRun{optimizer: opt, steps: 40, workers: 1}.train()
		pa, pb, pc := Params(a.model), Params(b.model), Params(c.model)
		for i := range pa {
			assertBits(t, opt+" rerun "+pa[i].Name, pa[i].Var.Value, pb[i].Var.Value)
			assertBits(t, opt+" 1 vs 2 workers "+pa[i].Name, pa[i].Var.Value, pc[i].Var.Value)
		}
		if a.testMSE != b.testMSE || a.testMSE != c.testMSE {
			t.Fatalf("%s: test MSE %v, %v, %v", opt, a.testMSE, b.testMSE, c.testMSE)
		}
		// The runs must have trained (not a trivially equal untouched model).
		if !(a.trainMSE < 0.5*a.firstLoss) {
			t.Fatalf("%s: 40 steps took the loss from %v only to %v", opt, a.firstLoss, a.trainMSE)
		}
	}
}
