package nori

// The trainer: batches of synthetic tables from the prior, the quantile
// loss, Muon + AdamW with a warmup/constant/cosine schedule, gradient
// clipping, skipping of loss spikes, and an EMA of the weights that the
// checkpoints serve. Every step is a pure function of (config, step, state
// before the step): batch s comes from prior.BatchNeighbourhoods(seed, s, ...), the
// column permutations from Philox streams of (seed, s, table), and the
// kernels are deterministic whatever the worker count. So a run cut into
// pieces and resumed from its checkpoints (train_state.go) ends with the
// same bits as an uncut run.

import (
	"fmt"
	"math"
	"time"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/prior"
	"github.com/nori-ml/nori/tensor"
)

// Trainer trains a Model on the synthetic prior. Create it with NewTrainer
// or ResumeTrainer; advance it with Step or Run. Not safe for concurrent
// use.
type Trainer struct {
	cfg    TrainConfig
	model  *Model
	params []nn.NamedParam // the trainable parameters (frozen tables excluded)
	opt    *nn.MuonAdamW
	ema    *nn.EMA
	prior  *prior.Prior
	sched  nn.Schedule
	taus   *tensor.Tensor

	step       int     // steps done; the next step to run
	lossMA     float64 // moving average of the accepted losses
	accepted   int     // accepted (non-skipped) steps
	skipped    int     // skipped steps
	tablesSeen int64
	elapsed    time.Duration // training time of earlier pieces of the run
}

// NewTrainer starts a run: weights initialised from cfg.Seed, zeroed
// optimizer state, the EMA at the initial weights.
func NewTrainer(cfg TrainConfig) (*Trainer, error) { return NewTrainerOn(cfg, tensor.CPU) }

// NewTrainerOn is NewTrainer with the model, its gradients, the optimizer
// state and every batch on dev (a GPU, or tensor.NewEmulatedDevice in tests).
// Batches are built on the host by the prior and uploaded.
func NewTrainerOn(cfg TrainConfig, dev tensor.Device) (*Trainer, error) {
	t, err := newTrainerOn(cfg, dev)
	if err != nil {
		return nil, err
	}
	if cfg.Init != "" {
		if err := t.initWeights(cfg.Init); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// newTrainerOn builds the run at step 0 with weights from cfg.Seed (what
// ResumeTrainerOn then overwrites from the training state).
func newTrainerOn(cfg TrainConfig, dev tensor.Device) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc, err := cfg.priorConfig()
	if err != nil {
		return nil, err
	}
	p, err := prior.New(pc)
	if err != nil {
		return nil, fmt.Errorf("nori: training config prior: %w", err)
	}
	m, err := NewModel(cfg.Model, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if err := m.MoveTo(dev); err != nil {
		return nil, err
	}
	var params []nn.NamedParam
	for _, np := range nn.Params(m) {
		if np.Var.RequiresGrad() {
			// Every gradient buffer exists from the start, so a parameter a
			// batch does not reach (the missing-value vector on a batch
			// without missing cells) gets a zero gradient (momentum and
			// weight decay go on) rather than no update: otherwise whether it
			// moves would depend on whether an earlier batch of this process
			// reached it, and a resumed run would differ from an uncut one.
			v := np.Var.Value
			np.Var.Grad = tensor.New(v.Device(), v.DType(), v.Shape()...)
			params = append(params, np)
		}
	}
	muon := nn.MuonConfig{Momentum: cfg.MuonMomentum, Nesterov: true, NSSteps: cfg.MuonNSSteps, WeightDecay: cfg.WeightDecay}
	adam := nn.AdamWConfig{Beta1: cfg.AdamBeta1, Beta2: cfg.AdamBeta2, Eps: cfg.AdamEps, WeightDecay: cfg.WeightDecay}
	taus := tensor.FromFloat64s(cfg.Model.QuantileLevels(), cfg.Model.Quantiles).To(dev, tensor.Float32)
	return &Trainer{
		cfg: cfg, model: m, params: params, prior: p, sched: cfg.Schedule(), taus: taus,
		opt: nn.NewMuonAdamW(params, muon, adam, nil),
		ema: nn.NewEMA(params, cfg.EMADecay),
	}, nil
}

// Config returns the run's configuration.
func (t *Trainer) Config() TrainConfig { return t.cfg }

// Model returns the model with its raw (not averaged) weights, live: it
// changes with every step.
func (t *Trainer) Model() *Model { return t.model }

// Steps returns the number of steps done (accepted and skipped).
func (t *Trainer) Steps() int { return t.step }

// Skipped returns the number of skipped steps.
func (t *Trainer) Skipped() int { return t.skipped }

// TablesSeen returns the number of tables consumed so far (skipped steps
// included).
func (t *Trainer) TablesSeen() int64 { return t.tablesSeen }

// LossMA returns the moving average of the accepted losses (0 before the
// first).
func (t *Trainer) LossMA() float64 { return t.lossMA }

// Elapsed returns the training time of the run so far, earlier pieces of a
// resumed run included, up to the last Step.
func (t *Trainer) Elapsed() time.Duration { return t.elapsed }

// TrainBatch is one step's input, ready for the model: columns permuted per
// table, targets normalised with each table's context statistics.
type TrainBatch struct {
	Step  int
	Shape prior.Shape
	X     *tensor.Tensor // [B, N, F]
	YCtx  *tensor.Tensor // [B, nctx] normalised context targets
	YQry  *tensor.Tensor // [B, N-nctx] normalised query targets
}

// Release frees the batch's tensors.
func (b *TrainBatch) Release() {
	b.X.Release()
	b.YCtx.Release()
	b.YQry.Release()
}

// Batch builds the input of a step: BatchAt(step) tables of the curriculum
// stage's sizes from the prior, each table's columns permuted by a Philox
// stream of (seed, step, table) (the prior's generators do not order their
// columns at random: the SCM's features are nodes in DAG order, say), and
// the targets normalised with context statistics (NormalizeTargets). A pure
// function of (config, step).
func (t *Trainer) Batch(step int) (*TrainBatch, error) {
	if step < 0 {
		return nil, fmt.Errorf("nori: Trainer.Batch: negative step %d", step)
	}
	stage := t.cfg.Stage(step)
	sh := stage.Sizes().Shape(t.cfg.Seed, int64(step))
	B := t.cfg.BatchAt(step)
	pb, err := t.prior.BatchNeighbourhoods(t.cfg.Seed, int64(step), B, sh, stage.Neighbourhoods())
	if err != nil {
		return nil, err
	}
	N, F, nctx := sh.Rows, sh.Features, sh.NCtx
	x := tensor.Zeros(B, N, F)
	dst, src := x.F32Data(), pb.X.F32Data()
	for b := 0; b < B; b++ {
		perm := tensor.NewRNG(t.cfg.Seed, permStream(uint64(step), uint64(b))).Perm(F)
		for n := 0; n < N; n++ {
			row := (b*N + n) * F
			for j, s := range perm {
				dst[row+j] = src[row+s]
			}
		}
	}
	ctx, qry, _ := NormalizeTargets(pb.Y.F32Data(), B, N, nctx)
	pb.X.Release()
	pb.Y.Release()
	b := &TrainBatch{
		Step: step, Shape: sh, X: x,
		YCtx: tensor.FromSlice(ctx, B, nctx),
		YQry: tensor.FromSlice(qry, B, N-nctx),
	}
	// X and YCtx stay on the host: the model reads them there to normalise
	// them and builds its own tensors on its device. The loss needs YQry on
	// the model's device.
	if dev := t.model.Device(); dev != tensor.CPU {
		host := b.YQry
		b.YQry = host.To(dev, tensor.Float32)
		host.Release()
	}
	return b, nil
}

// permStream returns the Philox stream of a table's column permutation
// (splitmix64 of a tag, the step and the table: far from the prior's
// streams, which hash other tags).
func permStream(step, table uint64) uint64 {
	mix := func(x uint64) uint64 {
		x += 0x9E3779B97F4A7C15
		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
		x = (x ^ (x >> 27)) * 0x94D049BB133111EB
		return x ^ (x >> 31)
	}
	const tagColumnPerm = 0x636f6c7065726d // "colperm"
	return mix(mix(mix(tagColumnPerm)^step) ^ table)
}

// StepResult reports one training step.
type StepResult struct {
	Step               int
	Loss               float64 // total loss of the batch (before the update)
	Pinball, Crossing  float64
	LossMA             float64 // moving average after the step
	LR                 float64 // learning rate of the step (applied unless skipped)
	GradNorm           float64 // global gradient norm before clipping (NaN when skipped before backward)
	Skipped            bool
	SkipReason         string // "spike", "nonfinite_loss" or "nonfinite_grad"
	Rows, Features     int
	NCtx               int
	Duration           time.Duration // forward + backward + update
	BatchBuildDuration time.Duration // prior draw and preparation, when Step built the batch
}

// Skip reasons of StepResult.
const (
	SkipSpike         = "spike"
	SkipNonfiniteLoss = "nonfinite_loss"
	SkipNonfiniteGrad = "nonfinite_grad"
)

// Step runs the next step, building its batch.
func (t *Trainer) Step() (StepResult, error) {
	start := time.Now()
	b, err := t.Batch(t.step)
	if err != nil {
		return StepResult{}, err
	}
	defer b.Release()
	build := time.Since(start)
	t.elapsed += build
	r, err := t.StepOn(b)
	r.BatchBuildDuration = build
	return r, err
}

// StepOn runs the next step on b, which must be Batch(Steps()) (built ahead
// of time, say, while the previous step ran). The loss is computed; a
// non-finite loss, or one above SpikeFactor times the moving average (after
// SpikeWarmup accepted steps), skips the step without a backward pass. Else
// the gradients are computed and clipped to GradClip, and unless their norm
// is non-finite the optimizer applies the scheduled learning rate and the
// EMA folds in the new weights. A skipped step still consumes its batch.
func (t *Trainer) StepOn(b *TrainBatch) (StepResult, error) {
	if b.Step != t.step {
		return StepResult{}, fmt.Errorf("nori: Trainer.StepOn: batch of step %d, the trainer is at step %d", b.Step, t.step)
	}
	start := time.Now()
	c := t.cfg
	r := StepResult{Step: t.step, LR: t.sched(t.step), Rows: b.Shape.Rows, Features: b.Shape.Features, NCtx: b.Shape.NCtx, GradNorm: math.NaN()}
	tp := autograd.NewTape()
	pred := t.model.Forward(tp, b.X, b.YCtx, b.Shape.NCtx)
	parts := QuantileLoss(tp, pred, b.YQry, t.taus, c.CrossingWeight)
	r.Loss, r.Pinball, r.Crossing = parts.Total.Value.Item(), parts.Pinball.Value.Item(), parts.Crossing.Value.Item()
	switch {
	case math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0):
		r.SkipReason = SkipNonfiniteLoss
	case c.SpikeFactor > 0 && t.accepted >= c.SpikeWarmup && t.accepted > 0 && r.Loss > c.SpikeFactor*t.lossMA:
		r.SkipReason = SkipSpike
	}
	if r.SkipReason == "" {
		tp.Backward(parts.Total)
		if c.GradClip > 0 {
			r.GradNorm = nn.ClipGradNorm(t.params, c.GradClip)
		} else {
			r.GradNorm = nn.GradNorm(t.params)
		}
		if math.IsNaN(r.GradNorm) || math.IsInf(r.GradNorm, 0) {
			r.SkipReason = SkipNonfiniteGrad
		}
	}
	if r.SkipReason == "" {
		t.opt.Step(r.LR)
		t.ema.Decay = t.emaDecay()
		t.ema.Update()
		if t.accepted == 0 {
			t.lossMA = r.Loss
		} else {
			t.lossMA = c.SpikeDecay*t.lossMA + (1-c.SpikeDecay)*r.Loss
		}
		t.accepted++
	} else {
		r.Skipped = true
		t.skipped++
	}
	t.opt.ZeroGrad()
	tp.Release()
	t.step++
	t.tablesSeen += int64(b.X.Shape()[0])
	r.LossMA = t.lossMA
	r.Duration = time.Since(start)
	t.elapsed += r.Duration
	return r, nil
}

// emaDecay returns the EMA decay of the next update: the configured decay,
// lowered early in a run to (1+u)/(10+u) after u updates so that the
// average does not stay anchored to the random initial weights for the
// first thousands of steps of a short run.
func (t *Trainer) emaDecay() float64 {
	u := float64(t.ema.Updates())
	return min(t.cfg.EMADecay, (1+u)/(10+u))
}

// EvalLoss returns the mean total loss (pinball + crossing penalty) of the
// current raw weights over the given steps' batches (no update, no
// gradient), or of the EMA weights when ema is set. Held-out batches are
// the batches of steps a run never reaches (say, 1<<40 + k).
func (t *Trainer) EvalLoss(steps []int, ema bool) (float64, error) {
	if len(steps) == 0 {
		return 0, fmt.Errorf("nori: Trainer.EvalLoss: no batches")
	}
	if ema {
		t.ema.Swap()
		defer t.ema.Swap()
	}
	sum := 0.0
	for _, s := range steps {
		b, err := t.Batch(s)
		if err != nil {
			return 0, err
		}
		tp := autograd.NoGrad()
		pred := t.model.Forward(tp, b.X, b.YCtx, b.Shape.NCtx)
		sum += QuantileLoss(tp, pred, b.YQry, t.taus, t.cfg.CrossingWeight).Total.Value.Item()
		b.Release()
	}
	return sum / float64(len(steps)), nil
}
