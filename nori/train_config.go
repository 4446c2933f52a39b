package nori

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/prior"
)

// TrainConfig is everything that decides a training run: the model, the
// synthetic data (prior mixture, filter, curriculum of table sizes), the
// optimizer and its schedule, and the checkpoint/log cadence. It travels as
// JSON (configs/*.json, and inside every checkpoint the trainer writes), so
// field JSON names are part of the checkpoint format. Start from
// DefaultTrainConfig and change fields.
type TrainConfig struct {
	// Name labels the config in logs and checkpoints.
	Name string `json:"name"`
	// Model is the architecture trained.
	Model Config `json:"model"`
	// Seed seeds the initial weights and the data stream: batch s is a pure
	// function of (config, Seed, s).
	Seed uint64 `json:"seed"`
	// Init, when set, names the model checkpoint whose weights start the run
	// instead of random ones (continued pretraining): a .safetensors file
	// written by the trainer or SaveModel, or "default" for the checkpoint
	// embedded in nori. Its model config must equal Model. The optimizer
	// starts fresh, the EMA restarts at those weights, and the schedule,
	// data stream and counters are this run's own (use another Seed than
	// the first run's, or the batches repeat). A resumed run does not read
	// it again: its weights are in its training state.
	Init string `json:"init,omitempty"`
	// BatchSize is the number of tables per step.
	BatchSize int `json:"batch_size"`
	// TotalSteps is the length of the schedule (the cosine reaches MinLR
	// there). A run may stop earlier or later; the learning rate of a step
	// depends on the step and this config only, never on where a run stops.
	TotalSteps int `json:"total_steps"`

	// LR is the peak learning rate (Muon and AdamW share it), MinLR the end
	// of the cosine. WarmupSteps ramp linearly to LR; DecayStart is the step
	// where the cosine begins (0: at TotalSteps*DecayStartFrac).
	LR          float64 `json:"lr"`
	MinLR       float64 `json:"min_lr"`
	WarmupSteps int     `json:"warmup_steps"`
	DecayStart  int     `json:"decay_start"`

	// AdamBeta1, AdamBeta2, AdamEps set AdamW (1-D parameters); MuonMomentum
	// and MuonNSSteps set Muon (every parameter of rank >= 2, Nesterov);
	// WeightDecay is decoupled and shared.
	AdamBeta1    float64 `json:"adam_beta1"`
	AdamBeta2    float64 `json:"adam_beta2"`
	AdamEps      float64 `json:"adam_eps"`
	MuonMomentum float64 `json:"muon_momentum"`
	MuonNSSteps  int     `json:"muon_ns_steps"`
	WeightDecay  float64 `json:"weight_decay"`

	// EMADecay is the decay of the weight average the checkpoints serve.
	EMADecay float64 `json:"ema_decay"`
	// GradClip bounds the global gradient norm (0: no clipping).
	GradClip float64 `json:"grad_clip"`
	// CrossingWeight multiplies the quantile-crossing penalty
	// mean(relu(q_i - q_{i+1})^2).
	CrossingWeight float64 `json:"crossing_weight"`
	// A step whose loss exceeds SpikeFactor times the moving average of the
	// accepted losses (decay SpikeDecay) is skipped: no update, no EMA
	// update, the average unchanged. The first SpikeWarmup accepted steps are
	// never skipped (the average is not yet meaningful). SpikeFactor 0
	// disables skipping (non-finite losses are skipped regardless).
	SpikeFactor float64 `json:"spike_factor"`
	SpikeDecay  float64 `json:"spike_decay"`
	SpikeWarmup int     `json:"spike_warmup"`

	// CheckpointEvery writes model.safetensors and the training state every
	// that many steps (and at the end of a run). LogEvery writes one JSONL
	// line every that many steps.
	CheckpointEvery int `json:"checkpoint_every"`
	LogEvery        int `json:"log_every"`

	// Prior sets the synthetic data besides the table sizes.
	Prior TrainPrior `json:"prior"`
	// Curriculum lists the table sizes by step range; stage k covers the
	// steps [Curriculum[k-1].Until, Curriculum[k].Until). The last stage
	// also covers every later step.
	Curriculum []CurriculumStage `json:"curriculum"`
}

// TrainPrior selects the prior mixture and filter. The augmentations are
// the prior's defaults (prior.DefaultAugmentConfig).
type TrainPrior struct {
	// Shares overrides the generator mixture (nil: prior.DefaultShares).
	Shares map[string]float64 `json:"shares,omitempty"`
	// Filter turns the learnability filter on (the reference's ExtraTrees
	// filter, prior.DefaultFilterConfig).
	Filter bool `json:"filter"`
	// NoAugment turns the realism augmentations off.
	NoAugment bool `json:"no_augment,omitempty"`
}

// CurriculumStage sets the table sizes of a range of steps: rows and
// features drawn log-uniformly on bucket grids (see prior.SizeConfig), the
// context a fraction U(MinContextFrac, MaxContextFrac) of the rows.
type CurriculumStage struct {
	Until int `json:"until"`
	// BatchSize, when positive, replaces the config's batch size in this
	// stage (fewer tables per step when the tables are larger keeps the
	// time of a step roughly constant).
	BatchSize      int     `json:"batch_size,omitempty"`
	MinRows        int     `json:"min_rows"`
	MaxRows        int     `json:"max_rows"`
	RowBuckets     int     `json:"row_buckets"`
	MinFeatures    int     `json:"min_features"`
	MaxFeatures    int     `json:"max_features"`
	FeatureBuckets int     `json:"feature_buckets"`
	MinContextFrac float64 `json:"min_context_frac"`
	MaxContextFrac float64 `json:"max_context_frac"`
	// NeighbourhoodFrac is the share of the stage's tables drawn as
	// neighbourhoods: the rows nearest to one row of a prior table
	// NeighbourhoodPool times larger (prior.Neighbourhood), the kind of table
	// local contexts give the network at inference. 0: none.
	NeighbourhoodFrac float64 `json:"neighbourhood_frac,omitempty"`
	NeighbourhoodPool int     `json:"neighbourhood_pool,omitempty"`
}

// Neighbourhoods returns the stage's neighbourhood draws as a prior config.
func (s CurriculumStage) Neighbourhoods() prior.NeighbourhoodConfig {
	return prior.NeighbourhoodConfig{Frac: s.NeighbourhoodFrac, Pool: s.NeighbourhoodPool}
}

// Sizes returns the stage as a prior size config.
func (s CurriculumStage) Sizes() prior.SizeConfig {
	return prior.SizeConfig{
		MinRows: s.MinRows, MaxRows: s.MaxRows, RowBuckets: s.RowBuckets,
		MinFeatures: s.MinFeatures, MaxFeatures: s.MaxFeatures, FeatureBuckets: s.FeatureBuckets,
		MinContextFrac: s.MinContextFrac, MaxContextFrac: s.MaxContextFrac,
	}
}

// DefaultTrainConfig returns the reference's training settings around the
// given model: Muon + AdamW (0.9, 0.95), weight decay 0.01, EMA 0.999, grad
// clip 1.0, crossing weight 0.05, spike skipping at 10x the moving average,
// peak LR 2e-4 with warmup and a cosine to 1e-5 over the last fifth, and
// one curriculum stage of the prior's default sizes. Batch size, steps and
// warmup suit a CPU run, not the reference's 4 GPUs.
func DefaultTrainConfig(model Config) TrainConfig {
	s := prior.DefaultSizeConfig()
	return TrainConfig{
		Name: "custom", Model: model, BatchSize: 8, TotalSteps: 10000,
		LR: 2e-4, MinLR: 1e-5, WarmupSteps: 500,
		AdamBeta1: 0.9, AdamBeta2: 0.95, AdamEps: 1e-8, MuonMomentum: 0.95, MuonNSSteps: 5, WeightDecay: 0.01,
		EMADecay: 0.999, GradClip: 1, CrossingWeight: 0.05,
		SpikeFactor: 10, SpikeDecay: 0.99, SpikeWarmup: 20,
		CheckpointEvery: 500, LogEvery: 1,
		Prior: TrainPrior{Filter: true},
		Curriculum: []CurriculumStage{{
			MinRows: s.MinRows, MaxRows: s.MaxRows, RowBuckets: s.RowBuckets,
			MinFeatures: s.MinFeatures, MaxFeatures: s.MaxFeatures, FeatureBuckets: s.FeatureBuckets,
			MinContextFrac: s.MinContextFrac, MaxContextFrac: s.MaxContextFrac,
		}},
	}
}

// ParseTrainConfig decodes a training config from JSON, rejecting unknown
// fields and invalid values. Omitted fields keep DefaultTrainConfig's
// values, except the model, which must be given in full.
func ParseTrainConfig(data []byte) (TrainConfig, error) {
	c := DefaultTrainConfig(Config{})
	c.Curriculum = nil
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return TrainConfig{}, fmt.Errorf("nori: parsing training config: %w", err)
	}
	if dec.More() {
		return TrainConfig{}, errors.New("nori: parsing training config: trailing data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return TrainConfig{}, err
	}
	return c, nil
}

// JSON returns the config as indented JSON.
func (c TrainConfig) JSON() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil { // only plain fields: cannot fail
		panic(err)
	}
	return b
}

// Validate reports the first problem with the config, naming the field.
func (c TrainConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return fmt.Errorf("nori: training config model: %w", err)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.BatchSize < 1 || c.BatchSize > prior.MaxBatch:
		return fmt.Errorf("nori: training config batch_size = %d, want 1..%d", c.BatchSize, prior.MaxBatch)
	case c.TotalSteps < 1:
		return fmt.Errorf("nori: training config total_steps = %d, want >= 1", c.TotalSteps)
	case !(c.LR > 0) || !finite(c.LR):
		return fmt.Errorf("nori: training config lr = %g, want > 0", c.LR)
	case !(c.MinLR >= 0) || c.MinLR > c.LR:
		return fmt.Errorf("nori: training config min_lr = %g, want 0 <= min_lr <= lr (%g)", c.MinLR, c.LR)
	case c.WarmupSteps < 0 || c.WarmupSteps > c.TotalSteps:
		return fmt.Errorf("nori: training config warmup_steps = %d, want 0..total_steps (%d)", c.WarmupSteps, c.TotalSteps)
	case c.DecayStart != 0 && (c.DecayStart < c.WarmupSteps || c.DecayStart > c.TotalSteps):
		return fmt.Errorf("nori: training config decay_start = %d, want warmup_steps (%d) .. total_steps (%d), or 0 for 80%% of total_steps", c.DecayStart, c.WarmupSteps, c.TotalSteps)
	case !(c.AdamBeta1 >= 0 && c.AdamBeta1 < 1) || !(c.AdamBeta2 >= 0 && c.AdamBeta2 < 1):
		return fmt.Errorf("nori: training config adam betas (%g, %g), want each in [0, 1)", c.AdamBeta1, c.AdamBeta2)
	case !(c.AdamEps > 0) || !finite(c.AdamEps):
		return fmt.Errorf("nori: training config adam_eps = %g, want > 0", c.AdamEps)
	case !(c.MuonMomentum >= 0 && c.MuonMomentum < 1):
		return fmt.Errorf("nori: training config muon_momentum = %g, want in [0, 1)", c.MuonMomentum)
	case c.MuonNSSteps < 1 || c.MuonNSSteps > 100:
		return fmt.Errorf("nori: training config muon_ns_steps = %d, want 1..100", c.MuonNSSteps)
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return fmt.Errorf("nori: training config weight_decay = %g, want >= 0", c.WeightDecay)
	case !(c.EMADecay >= 0 && c.EMADecay < 1):
		return fmt.Errorf("nori: training config ema_decay = %g, want in [0, 1)", c.EMADecay)
	case !(c.GradClip >= 0) || !finite(c.GradClip):
		return fmt.Errorf("nori: training config grad_clip = %g, want >= 0 (0: off)", c.GradClip)
	case !(c.CrossingWeight >= 0) || !finite(c.CrossingWeight):
		return fmt.Errorf("nori: training config crossing_weight = %g, want >= 0", c.CrossingWeight)
	case !(c.SpikeFactor == 0 || c.SpikeFactor > 1) || !finite(c.SpikeFactor):
		return fmt.Errorf("nori: training config spike_factor = %g, want > 1 (0: off)", c.SpikeFactor)
	case !(c.SpikeDecay >= 0 && c.SpikeDecay < 1):
		return fmt.Errorf("nori: training config spike_decay = %g, want in [0, 1)", c.SpikeDecay)
	case c.SpikeWarmup < 0:
		return fmt.Errorf("nori: training config spike_warmup = %d, want >= 0", c.SpikeWarmup)
	case c.CheckpointEvery < 1:
		return fmt.Errorf("nori: training config checkpoint_every = %d, want >= 1", c.CheckpointEvery)
	case c.LogEvery < 1:
		return fmt.Errorf("nori: training config log_every = %d, want >= 1", c.LogEvery)
	case len(c.Curriculum) == 0:
		return errors.New("nori: training config curriculum is empty: give at least one stage of table sizes")
	}
	for k, s := range c.Curriculum {
		if k > 0 && s.Until <= c.Curriculum[k-1].Until && k < len(c.Curriculum)-1 {
			return fmt.Errorf("nori: training config curriculum stage %d ends at step %d, not after stage %d (%d)", k, s.Until, k-1, c.Curriculum[k-1].Until)
		}
		if k < len(c.Curriculum)-1 && s.Until < 1 {
			return fmt.Errorf("nori: training config curriculum stage %d: until = %d, want >= 1 (only the last stage may omit it)", k, s.Until)
		}
		if err := s.Sizes().Validate(); err != nil {
			return fmt.Errorf("nori: training config curriculum stage %d: %w", k, err)
		}
		if err := s.Neighbourhoods().Validate(); err != nil {
			return fmt.Errorf("nori: training config curriculum stage %d: %w", k, err)
		}
		if s.BatchSize < 0 || s.BatchSize > prior.MaxBatch {
			return fmt.Errorf("nori: training config curriculum stage %d: batch_size = %d, want 1..%d (0: the config's)", k, s.BatchSize, prior.MaxBatch)
		}
		if s.MinRows < 2 {
			return fmt.Errorf("nori: training config curriculum stage %d: min_rows = %d, want >= 2 (a context and a query row)", k, s.MinRows)
		}
	}
	if _, err := c.priorConfig(); err != nil {
		return err
	}
	return nil
}

// decayStart returns the step where the cosine starts.
func (c TrainConfig) decayStart() int {
	if c.DecayStart > 0 {
		return c.DecayStart
	}
	return max(c.WarmupSteps, c.TotalSteps*4/5)
}

// Schedule returns the learning rate of each step: linear warmup, constant,
// cosine to MinLR at TotalSteps (nn.WarmupConstantCosine).
func (c TrainConfig) Schedule() nn.Schedule {
	return nn.WarmupConstantCosine(c.LR, c.MinLR, c.WarmupSteps, c.decayStart(), c.TotalSteps)
}

// Stage returns the curriculum stage of a step.
func (c TrainConfig) Stage(step int) CurriculumStage {
	for _, s := range c.Curriculum {
		if step < s.Until {
			return s
		}
	}
	return c.Curriculum[len(c.Curriculum)-1]
}

// BatchAt returns the number of tables of a step's batch.
func (c TrainConfig) BatchAt(step int) int { return c.stageBatch(c.Stage(step)) }

// stageBatch returns the number of tables per step in stage s: its own
// batch size, else the config's.
func (c TrainConfig) stageBatch(s CurriculumStage) int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return c.BatchSize
}

// priorConfig returns the prior configuration (its sizes are replaced per
// step by the curriculum).
func (c TrainConfig) priorConfig() (prior.Config, error) {
	pc := prior.DefaultConfig()
	if c.Prior.Shares != nil {
		pc.Shares = c.Prior.Shares
	}
	pc.Filter.Enabled = c.Prior.Filter
	if c.Prior.NoAugment {
		pc.Augment = prior.AugmentConfig{}
	}
	pc.Sizes = c.Curriculum[0].Sizes()
	if err := pc.Validate(); err != nil {
		return prior.Config{}, fmt.Errorf("nori: training config prior: %w", err)
	}
	return pc, nil
}
