package nn

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/tensor"
)

// TestTrainResumeFromCheckpoint interrupts a Muon+AdamW training run with an
// EMA after 30 steps, writes parameters, optimizer state and EMA to a
// safetensors checkpoint, and resumes in a fresh process-like setup (a model
// built from a different seed, new optimizer and EMA) from that file. The
// next 20 steps must reproduce the uninterrupted run bit for bit.
func TestTrainResumeFromCheckpoint(t *testing.T) {
	x, y := e2eData(1, 256, e2eNoise)
	xv, yv := autograd.Const(x), autograd.Const(y)
	type run struct {
		m      *e2eMLP
		params []NamedParam
		opt    Optimizer
		sched  Schedule
		ema    *EMA
	}
	newRun := func(seed uint64) *run {
		m := newE2EMLP(seed, 64)
		ps := Params(m)
		opt, sched := e2eRun{optimizer: "muon", steps: 50}.newOptimizer(ps)
		return &run{m, ps, opt, sched, NewEMA(ps, 0.9)}
	}
	steps := func(r *run, n int) {
		tp := autograd.NewTape()
		for i := 0; i < n; i++ {
			tp.Backward(mseLoss(tp, r.m.Forward(tp, xv), yv))
			ClipGradNorm(r.params, 1)
			r.opt.Step(r.sched(r.opt.Steps()))
			r.opt.ZeroGrad()
			r.ema.Update()
			tp.Release()
		}
	}

	a := newRun(42)
	steps(a, 30)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	var names []string
	var ts []*tensor.Tensor
	for _, p := range a.params {
		names, ts = append(names, "model."+p.Name), append(ts, p.Var.Value)
	}
	st := a.opt.State()
	for _, s := range append(st.Tensors, a.ema.Shadow()...) {
		names, ts = append(names, s.Name), append(ts, s.Value)
	}
	meta := map[string]string{"step": strconv.Itoa(st.Step), "ema_updates": strconv.Itoa(a.ema.Updates())}
	if err := SaveTensors(path, names, ts, meta, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	steps(a, 20)

	b := newRun(7) // different initial weights: everything must come from the file
	ck, err := LoadTensors(path)
	if err != nil {
		t.Fatal(err)
	}
	step, err1 := strconv.Atoi(ck.Meta["step"])
	emaUpdates, err2 := strconv.Atoi(ck.Meta["ema_updates"])
	if err1 != nil || err2 != nil || step != 30 || emaUpdates != 30 {
		t.Fatalf("metadata %v", ck.Meta)
	}
	fromFile := func(names []StateTensor) []StateTensor {
		out := make([]StateTensor, len(names))
		for i, s := range names {
			v, ok := ck.Tensor(s.Name)
			if !ok {
				t.Fatalf("checkpoint lacks %q", s.Name)
			}
			out[i] = StateTensor{s.Name, v}
		}
		return out
	}
	for _, p := range b.params {
		v, ok := ck.Tensor("model." + p.Name)
		if !ok {
			t.Fatalf("checkpoint lacks model.%s", p.Name)
		}
		p.Var.Value.CopyFrom(v)
	}
	if err := b.opt.LoadState(OptimizerState{Step: step, Tensors: fromFile(b.opt.State().Tensors)}); err != nil {
		t.Fatal(err)
	}
	if err := b.ema.LoadShadow(fromFile(b.ema.Shadow()), emaUpdates); err != nil {
		t.Fatal(err)
	}
	steps(b, 20)
	for i := range a.params {
		assertBits(t, "resumed "+a.params[i].Name, b.params[i].Var.Value, a.params[i].Var.Value)
	}
	for i, s := range a.ema.Shadow() {
		assertBits(t, "resumed "+s.Name, b.ema.Shadow()[i].Value, s.Value)
	}
	if b.opt.Steps() != 50 {
		t.Fatalf("resumed optimizer at step %d", b.opt.Steps())
	}
}
