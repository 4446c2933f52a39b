package nori

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/kernels/par"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// trainTestConfig is a tiny run: the Tiny model on small tables without the
// learnability filter, so that a step takes milliseconds.
func trainTestConfig() TrainConfig {
	c := DefaultTrainConfig(Tiny())
	c.Name = "test"
	c.Seed = 3
	c.BatchSize = 4
	c.TotalSteps = 200
	c.LR = 1e-2
	c.WarmupSteps = 10
	c.CheckpointEvery = 5
	c.LogEvery = 2
	c.Prior.Filter = false
	c.Curriculum = []CurriculumStage{
		{Until: 50, MinRows: 24, MaxRows: 40, RowBuckets: 2, MinFeatures: 2, MaxFeatures: 5, FeatureBuckets: 2, MinContextFrac: 0.5, MaxContextFrac: 0.8},
		{BatchSize: 3, MinRows: 32, MaxRows: 48, RowBuckets: 2, MinFeatures: 3, MaxFeatures: 6, FeatureBuckets: 2, MinContextFrac: 0.5, MaxContextFrac: 0.8,
			NeighbourhoodFrac: 0.5, NeighbourhoodPool: 3},
	}
	return c
}

func newTestTrainer(t *testing.T, c TrainConfig) *Trainer {
	t.Helper()
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// stepUntil runs tr's steps until it has done n.
func stepUntil(t *testing.T, tr *Trainer, n int) {
	t.Helper()
	for tr.Steps() < n {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
}

// heldOut are batch indices no training run of these tests reaches.
var heldOut = []int{1 << 30, 1<<30 + 1, 1<<30 + 2, 1<<30 + 3, 1<<30 + 4, 1<<30 + 5}

// TestTrainLowersLoss trains the tiny config for 120 steps and checks the
// loss on six fixed held-out batches: it must fall by at least 25% (raw and
// EMA weights). At initialisation the head predicts near-constant quantiles
// around 0; a model that learned the marginal of the normalised target
// alone already gets well below that, so the threshold is modest but
// cannot be met without learning.
func TestTrainLowersLoss(t *testing.T) {
	tr := newTestTrainer(t, trainTestConfig())
	before, err := tr.EvalLoss(heldOut, false)
	if err != nil {
		t.Fatal(err)
	}
	const steps = 120
	stepUntil(t, tr, steps)
	after, err := tr.EvalLoss(heldOut, false)
	if err != nil {
		t.Fatal(err)
	}
	afterEMA, err := tr.EvalLoss(heldOut, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out loss: before %.4f, after %d steps %.4f (EMA %.4f), skipped %d", before, steps, after, afterEMA, tr.Skipped())
	if !(after < 0.75*before) || !(afterEMA < 0.75*before) {
		t.Fatalf("held-out loss %.4f -> %.4f (EMA %.4f): want a drop of at least 25%%", before, after, afterEMA)
	}
}

// weightsOf copies every parameter's bits, plus the EMA and optimizer
// buffers.
func stateBits(tr *Trainer) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range nn.Params(tr.model) {
		out["param."+p.Name] = append([]float32(nil), p.Var.Value.Contiguous().F32Data()...)
	}
	for _, s := range append(tr.opt.State().Tensors, tr.ema.Shadow()...) {
		out[s.Name] = append([]float32(nil), s.Value.Contiguous().F32Data()...)
	}
	return out
}

func assertSameBits(t *testing.T, what string, a, b map[string][]float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d tensors", what, len(a), len(b))
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || len(x) != len(y) {
			t.Fatalf("%s: tensor %s missing or resized", what, k)
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				t.Fatalf("%s: %s[%d] = %v vs %v", what, k, i, x[i], y[i])
			}
		}
	}
}

// TestTrainResumeEqualsUncut runs 20 steps in one go and as 10 steps, a
// checkpoint, a fresh trainer resumed from it (another process, as far as
// the trainer can tell) and 10 more: weights, optimizer state, EMA,
// counters and the inference checkpoint must be identical bit for bit. The
// uncut run uses one worker and the pieces two, so this also checks that
// training does not depend on the worker count. The schedule is in its
// warmup and the curriculum changes stage at step 10 (set below), so a
// wrong step or stream position would show.
func TestTrainResumeEqualsUncut(t *testing.T) {
	c := trainTestConfig()
	c.Curriculum[0].Until = 10
	c.CheckpointEvery = 7
	c.WarmupSteps = 15
	dirA, dirB := t.TempDir(), t.TempDir()

	prev := par.SetWorkers(1)
	a := newTestTrainer(t, c)
	if err := a.Run(context.Background(), RunOptions{Dir: dirA, Until: 20}); err != nil {
		t.Fatal(err)
	}
	par.SetWorkers(2)
	defer par.SetWorkers(prev)
	b := newTestTrainer(t, c)
	if err := b.Run(context.Background(), RunOptions{Dir: dirB, Until: 10}); err != nil {
		t.Fatal(err)
	}
	b = nil
	r, err := ResumeTrainer(dirB)
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps() != 10 {
		t.Fatalf("resumed at step %d, want 10", r.Steps())
	}
	if err := r.Run(context.Background(), RunOptions{Dir: dirB, Until: 20, NoPrefetch: true}); err != nil {
		t.Fatal(err)
	}
	assertSameBits(t, "resumed vs uncut", stateBits(a), stateBits(r))
	if a.TablesSeen() != 10*4+10*3 {
		t.Fatalf("%d tables seen, want 70 (10 steps of 4, 10 of 3)", a.TablesSeen())
	}
	if a.LossMA() != r.LossMA() || a.Skipped() != r.Skipped() || a.TablesSeen() != r.TablesSeen() {
		t.Fatalf("counters differ: loss MA %v/%v, skipped %d/%d, tables %d/%d", a.LossMA(), r.LossMA(), a.Skipped(), r.Skipped(), a.TablesSeen(), r.TablesSeen())
	}
	ma, err := LoadModel(filepath.Join(dirA, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	mb, err := LoadModel(filepath.Join(dirB, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	bitsOf := func(m *Model) map[string][]float32 {
		out := map[string][]float32{}
		for _, p := range nn.Params(m) {
			out[p.Name] = p.Var.Value.Contiguous().F32Data()
		}
		return out
	}
	assertSameBits(t, "inference checkpoints", bitsOf(ma), bitsOf(mb))
	// The inference checkpoint holds the EMA weights, not the raw ones.
	raw := bitsOf(a.model)
	ema := map[string][]float32{}
	for _, s := range a.ema.Shadow() {
		ema[strings.TrimPrefix(s.Name, "ema.")] = s.Value.F32Data()
	}
	for name, w := range bitsOf(ma) {
		want, ok := ema[name]
		if !ok {
			want = raw[name] // frozen tables
		}
		if !reflect.DeepEqual(w, want) {
			t.Fatalf("model.safetensors %s is not the EMA weight", name)
		}
	}
	meta, err := nn.ReadMetadata(filepath.Join(dirB, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if meta["step"] != "20" || meta[ConfigMetaKey] == "" || !strings.Contains(meta["train_config"], `"name": "test"`) {
		t.Fatalf("model metadata %v", meta)
	}
	// The logs of both runs list the same steps with the same losses.
	la, err := ReadTrainLog(filepath.Join(dirA, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := ReadTrainLog(filepath.Join(dirB, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(la) != 10 || len(la) != len(lb) {
		t.Fatalf("log lines: uncut %d, resumed %d, want 10", len(la), len(lb))
	}
	for i := range la {
		if la[i].Step != lb[i].Step || la[i].Loss != lb[i].Loss || la[i].LR != lb[i].LR {
			t.Fatalf("log line %d: %+v vs %+v", i, la[i], lb[i])
		}
	}
}

// TestTrainResumeDropsLogTail: a run that logged past its last checkpoint
// and was killed resumes from the checkpoint; the log lines of the lost
// steps are dropped so the log reads as one run.
func TestTrainResumeDropsLogTail(t *testing.T) {
	c := trainTestConfig()
	c.CheckpointEvery = 4
	c.LogEvery = 1
	dir := t.TempDir()
	tr := newTestTrainer(t, c)
	if err := tr.Run(context.Background(), RunOptions{Dir: dir, Until: 4}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LogFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":4,"loss":1}` + "\n" + `{"step":5,"loss":1}` + "\n" + `{"step":6,"lo`)
	f.Close()
	r, err := ResumeTrainer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background(), RunOptions{Dir: dir, Until: 6}); err != nil {
		t.Fatal(err)
	}
	log, err := ReadTrainLog(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range log {
		if e.Step != i {
			t.Fatalf("log line %d is step %d: %+v", i, e.Step, log)
		}
	}
	if len(log) != 6 {
		t.Fatalf("%d log lines, want 6", len(log))
	}
}

// TestTrainCancelCheckpoints: cancelling a run writes a checkpoint at the
// step reached.
func TestTrainCancelCheckpoints(t *testing.T) {
	c := trainTestConfig()
	c.CheckpointEvery = 1000
	dir := t.TempDir()
	tr := newTestTrainer(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	err := tr.Run(ctx, RunOptions{Dir: dir, Until: 100, OnStep: func(r StepResult) {
		if r.Step == 2 {
			cancel()
		}
	}})
	if err != context.Canceled {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	r, err := ResumeTrainer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps() != 3 {
		t.Fatalf("checkpoint at step %d, want 3", r.Steps())
	}
}

// TestQuantileLossMatchesDirect compares QuantileLoss with a direct float64
// computation of the pinball loss and the crossing penalty on random,
// partly crossing quantiles.
func TestQuantileLossMatchesDirect(t *testing.T) {
	const B, nq, Q, w = 3, 7, 9, 0.05
	rng := tensor.NewRNG(11, 0)
	pred := make([]float32, B*nq*Q)
	for i := range pred {
		pred[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, B*nq)
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	taus := make([]float64, Q)
	for i := range taus {
		taus[i] = float64(i+1) / float64(Q+1)
	}
	wantPin, wantCross := 0.0, 0.0
	for r := 0; r < B*nq; r++ {
		for i := 0; i < Q; i++ {
			u := float64(y[r]) - float64(pred[r*Q+i])
			wantPin += math.Max(taus[i]*u, (taus[i]-1)*u)
			if i+1 < Q {
				d := math.Max(float64(pred[r*Q+i])-float64(pred[r*Q+i+1]), 0)
				wantCross += d * d
			}
		}
	}
	wantPin /= B * nq * Q
	wantCross /= B * nq * (Q - 1)
	tp := autograd.NoGrad()
	lp := QuantileLoss(tp, autograd.Const(tensor.FromSlice(pred, B, nq, Q)), tensor.FromSlice(y, B, nq),
		tensor.FromFloat64s(taus, Q).To(tensor.CPU, tensor.Float32), w)
	got := []float64{lp.Pinball.Value.Item(), lp.Crossing.Value.Item(), lp.Total.Value.Item()}
	want := []float64{wantPin, wantCross, wantPin + w*wantCross}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("loss term %d = %.8g, direct %.8g", i, got[i], want[i])
		}
	}
	if wantCross == 0 {
		t.Fatal("test data has no crossing; the penalty was not exercised")
	}
}

// TestQuantileLossGradCheck checks the gradient of the whole loss (pinball
// and crossing penalty, weight 0.7 so the penalty matters) in float64
// against finite differences, away from the kinks.
func TestQuantileLossGradCheck(t *testing.T) {
	const B, nq, Q = 2, 3, 6
	rng := tensor.NewRNG(5, 0)
	p := make([]float64, B*nq*Q)
	for i := range p {
		p[i] = rng.NormFloat64()
	}
	y := make([]float64, B*nq)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	// Keep every difference away from 0 (the kinks of relu and pinball).
	for r := 0; r < B*nq; r++ {
		for i := 0; i < Q; i++ {
			if math.Abs(p[r*Q+i]-y[r]) < 0.05 {
				p[r*Q+i] += 0.1
			}
		}
		for i := 0; i+1 < Q; i++ {
			if math.Abs(p[r*Q+i]-p[r*Q+i+1]) < 0.05 {
				p[r*Q+i+1] -= 0.1
			}
		}
	}
	taus := make([]float64, Q)
	for i := range taus {
		taus[i] = float64(i+1) / float64(Q+1)
	}
	pred := tensor.FromFloat64s(p, B, nq, Q)
	target := tensor.FromFloat64s(y, B, nq)
	tt := tensor.FromFloat64s(taus, Q)
	for _, tc := range []struct {
		name string
		f    autograd.GradFunc
	}{
		{"total", func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return QuantileLoss(tp, in[0], target, tt, 0.7).Total
		}},
		// The crossing penalty alone: its gradient is +-2*relu(d)/count on
		// the two sides of each crossing pair.
		{"crossing", func(tp *autograd.Tape, in []*autograd.Var) *autograd.Var {
			return QuantileLoss(tp, in[0], target, tt, 1).Crossing
		}},
	} {
		rep, err := autograd.CheckGrad(tc.f, []*tensor.Tensor{pred}, autograd.GradCheckOptions{})
		if err != nil {
			t.Fatalf("%s: %v (%v)", tc.name, err, rep)
		}
		t.Logf("%s: %v", tc.name, rep)
	}
}

// TestNormalizeTargets checks the context statistics and the constant-target
// rule.
func TestNormalizeTargets(t *testing.T) {
	y := []float32{1, 2, 3, 10, 5, 5, 5, 7}
	ctx, q, st := NormalizeTargets(y, 2, 4, 3)
	mean, std := 2.0, math.Sqrt(2.0/3)
	want := []float64{(1 - mean) / std, 0, (3 - mean) / std}
	for i, w := range want {
		if math.Abs(float64(ctx[i])-w) > 1e-6 {
			t.Fatalf("ctx[%d] = %v, want %v", i, ctx[i], w)
		}
	}
	if math.Abs(float64(q[0])-(10-mean)/std) > 1e-5 {
		t.Fatalf("query = %v", q[0])
	}
	if st[1].Std != 1 || st[1].Mean != 5 || ctx[3] != 0 || q[1] != 2 {
		t.Fatalf("constant context: stats %+v, ctx %v, query %v", st[1], ctx[3:], q[1])
	}
}

// TestTrainSkipsSpikes: after a normal warm-in, a batch whose targets are
// blown up (loss far above 10x the average) is skipped: no weight, EMA or
// optimizer change, the moving average kept, the skip counted and logged.
func TestTrainSkipsSpikes(t *testing.T) {
	c := trainTestConfig()
	c.SpikeWarmup = 3
	tr := newTestTrainer(t, c)
	for i := 0; i < 5; i++ {
		if r, err := tr.Step(); err != nil || r.Skipped {
			t.Fatalf("step %d: %+v, %v", i, r, err)
		}
	}
	b, err := tr.Batch(tr.Steps())
	if err != nil {
		t.Fatal(err)
	}
	q := b.YQry.F32Data()
	for i := range q {
		q[i] = q[i]*1000 + 1e4
	}
	before, ma := stateBits(tr), tr.LossMA()
	r, err := tr.StepOn(b)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Skipped || r.SkipReason != SkipSpike || r.Loss < 10*ma {
		t.Fatalf("blown-up batch: %+v (moving average %v)", r, ma)
	}
	assertSameBits(t, "after a skipped step", before, stateBits(tr))
	if tr.LossMA() != ma || tr.Skipped() != 1 || tr.Steps() != 6 || tr.opt.Steps() != 5 {
		t.Fatalf("after skip: MA %v (was %v), skipped %d, steps %d, optimizer steps %d", tr.LossMA(), ma, tr.Skipped(), tr.Steps(), tr.opt.Steps())
	}
	// The next ordinary batch is accepted again.
	if r, err := tr.Step(); err != nil || r.Skipped {
		t.Fatalf("step after the spike: %+v, %v", r, err)
	}
	// Non-finite losses are skipped even during the warm-in.
	tr2 := newTestTrainer(t, c)
	b2, _ := tr2.Batch(0)
	b2.YQry.F32Data()[0] = float32(math.Inf(1))
	if r, _ := tr2.StepOn(b2); !r.Skipped || r.SkipReason != SkipNonfiniteLoss {
		t.Fatalf("infinite target: %+v", r)
	}
	// A skip gets its own log line.
	dir := t.TempDir()
	l, err := openTrainLog(dir, 0, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.add(StepResult{Step: 0, Loss: 1, GradNorm: 1}, tr)
	l.add(StepResult{Step: 1, Loss: 99, Skipped: true, SkipReason: SkipSpike, GradNorm: math.NaN()}, tr)
	l.close()
	log, err := ReadTrainLog(filepath.Join(dir, LogFile))
	if err != nil || len(log) != 1 || log[0].Skipped != 1 || log[0].SkipReason != SkipSpike || !math.IsNaN(log[0].GradNorm) {
		t.Fatalf("skip log: %+v, %v", log, err)
	}
}

// TestTrainBatchPermutesColumns: the batch is the prior's batch with each
// table's columns permuted (different permutations across tables, the
// targets untouched apart from normalisation), and a pure function of the
// step.
func TestTrainBatchPermutesColumns(t *testing.T) {
	c := trainTestConfig()
	c.Curriculum = c.Curriculum[1:]
	c.Curriculum[0].MinFeatures, c.Curriculum[0].MaxFeatures = 6, 6
	tr := newTestTrainer(t, c)
	b, err := tr.Batch(7)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := tr.Batch(7)
	bits := func(tb *TrainBatch) map[string][]float32 {
		return map[string][]float32{"x": tb.X.F32Data(), "yctx": tb.YCtx.F32Data(), "yq": tb.YQry.F32Data()}
	}
	assertSameBits(t, "Batch(7) twice", bits(b), bits(b2))
	sh := b.Shape
	nb := c.BatchAt(7)
	if nb != 3 || b.X.Shape()[0] != 3 {
		t.Fatalf("stage batch size: BatchAt %d, batch of %d tables; want 3", nb, b.X.Shape()[0])
	}
	pb, err := tr.prior.BatchNeighbourhoods(c.Seed, 7, nb, sh, c.Curriculum[0].Neighbourhoods())
	if err != nil {
		t.Fatal(err)
	}
	N, F := sh.Rows, sh.Features
	moved := 0
	perms := map[string]bool{}
	for tb := 0; tb < nb; tb++ {
		// Find each output column among the source columns.
		key := ""
		for j := 0; j < F; j++ {
			found := -1
			for s := 0; s < F && found < 0; s++ {
				same := true
				for n := 0; n < N && same; n++ {
					a, bb := b.X.F32Data()[(tb*N+n)*F+j], pb.X.F32Data()[(tb*N+n)*F+s]
					same = a == bb || (a != a && bb != bb)
				}
				if same {
					found = s
				}
			}
			if found < 0 {
				t.Fatalf("table %d column %d is not a column of the prior's table", tb, j)
			}
			if found != j {
				moved++
			}
			key += string(rune('a' + found))
		}
		perms[key] = true
	}
	if moved == 0 || len(perms) < 2 {
		t.Fatalf("columns not permuted per table: %v", perms)
	}
}

// TestTrainConfigErrors: bad configs name the field.
func TestTrainConfigErrors(t *testing.T) {
	good := trainTestConfig()
	if _, err := ParseTrainConfig(good.JSON()); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	back, _ := ParseTrainConfig(good.JSON())
	if !reflect.DeepEqual(back, good) {
		t.Fatalf("round trip changed the config:\n%+v\n%+v", back, good)
	}
	cases := map[string]func(c *TrainConfig){
		"batch_size":   func(c *TrainConfig) { c.BatchSize = 0 },
		"lr":           func(c *TrainConfig) { c.LR = math.NaN() },
		"min_lr":       func(c *TrainConfig) { c.MinLR = 1 },
		"warmup_steps": func(c *TrainConfig) { c.WarmupSteps = 1000 },
		"ema_decay":    func(c *TrainConfig) { c.EMADecay = 1 },
		"spike_factor": func(c *TrainConfig) { c.SpikeFactor = 0.5 },
		"curriculum":   func(c *TrainConfig) { c.Curriculum = nil },
		"stage 1":      func(c *TrainConfig) { c.Curriculum[1].MinRows = 1 },
		"rows range":   func(c *TrainConfig) { c.Curriculum[0].MaxRows = 3 },
		"neighbourhood fraction": func(c *TrainConfig) {
			c.Curriculum[0].NeighbourhoodFrac, c.Curriculum[0].NeighbourhoodPool = 2, 4
		},
		"neighbourhood pool": func(c *TrainConfig) { c.Curriculum[0].NeighbourhoodFrac = 0.5 },
		"heads":              func(c *TrainConfig) { c.Model.Heads = 5 },
		"not registered":     func(c *TrainConfig) { c.Prior.Shares = map[string]float64{"nope": 1} },
	}
	for want, mod := range cases {
		c := trainTestConfig()
		c.Curriculum = append([]CurriculumStage(nil), c.Curriculum...)
		mod(&c)
		err := c.Validate()
		if err == nil {
			_, err = NewTrainer(c)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v", want, err)
		}
	}
	for _, bad := range []string{`{"model": {}}`, `{"batch_sise": 3}`, `{} {}`, `[`} {
		if _, err := ParseTrainConfig([]byte(bad)); err == nil {
			t.Errorf("ParseTrainConfig(%s) accepted", bad)
		}
	}
	if _, err := ResumeTrainer(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no training state") {
		t.Errorf("resume from an empty dir: %v", err)
	}
}

// fakeGPU is a GPUDevice whose counters the test sets; only the counters and
// memory statistics are used (the embedded nil Device is never called).
type fakeGPU struct {
	tensor.GPUDevice
	c    tensor.DeviceCounters
	peak int64
}

func (f *fakeGPU) Counters() tensor.DeviceCounters { return f.c }
func (f *fakeGPU) MemStats() tensor.DeviceMemStats { return tensor.DeviceMemStats{PeakInUse: f.peak} }

// TestTrainLogDeviceCounters: on a GPU each window's line carries the
// device's work per step (counter deltas over the window's steps); on the
// CPU and on skip lines there is none.
func TestTrainLogDeviceCounters(t *testing.T) {
	tr := newTestTrainer(t, trainTestConfig())
	dir := t.TempDir()
	l, err := openTrainLog(dir, 0, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.watch(tensor.CPU)
	if l.gpu != nil {
		t.Fatal("the CPU is watched as a GPU")
	}
	g := &fakeGPU{c: tensor.DeviceCounters{Launches: 1000, Uploads: 10, Collections: 3}}
	l.watch(g)
	g.c = tensor.DeviceCounters{Launches: 1600, Uploads: 16, Downloads: 4, Collections: 4, CollectTime: 30 * time.Millisecond}
	g.peak = 3 << 29
	l.add(StepResult{Step: 0, Loss: 1, GradNorm: 1}, tr)
	l.add(StepResult{Step: 1, Loss: 1, GradNorm: 1}, tr)
	l.add(StepResult{Step: 2, Loss: 9, Skipped: true, SkipReason: SkipSpike, GradNorm: 1}, tr)
	l.close()
	log, err := ReadTrainLog(filepath.Join(dir, LogFile))
	if err != nil || len(log) != 2 {
		t.Fatalf("log %+v, %v", log, err)
	}
	want := &DeviceWindow{Launches: 300, Uploads: 3, Downloads: 2, Collections: 0.5, CollectMs: 15, PeakGiB: 1.5}
	if got := log[0].Device; got == nil || *got != *want {
		t.Fatalf("window device %+v, want %+v", got, want)
	}
	if log[1].Device != nil {
		t.Fatalf("skip line has device counters %+v", log[1].Device)
	}
}
