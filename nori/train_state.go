package nori

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// Files of a training directory.
const (
	// ModelFile is the inference checkpoint: the EMA weights, loadable with
	// LoadModel / WithCheckpoint.
	ModelFile = "model.safetensors"
	// TrainStateFile holds everything a resumed run needs: raw weights,
	// optimizer state, EMA, counters and the config.
	TrainStateFile = "train_state.safetensors"
)

// Metadata keys of the trainer's checkpoints.
const (
	metaTrainState  = "nori_train_state" // version of the training-state layout
	metaTrainConfig = "train_config"
	metaStep        = "step"
	metaTablesSeen  = "tables_seen"
	metaOptSteps    = "optimizer_steps"
	metaEMAUpdates  = "ema_updates"
	metaLossMA      = "loss_ma"
	metaAccepted    = "accepted_steps"
	metaSkipped     = "skipped_steps"
	metaElapsedNS   = "elapsed_ns"
	trainStateVer   = "1"
	paramPrefix     = "param."
)

// SaveCheckpoint writes the run's state into dir: ModelFile (the EMA
// weights with the model config, the training config and the step in the
// metadata) and TrainStateFile. Each file is written atomically (temporary
// file, fsync, rename), the training state last: a crash leaves the
// previous complete state, and the model file is never older than it.
func (t *Trainer) SaveCheckpoint(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("nori: checkpoint: %w", err)
	}
	common := map[string]string{
		metaTrainConfig: string(t.cfg.JSON()),
		metaStep:        strconv.Itoa(t.step),
		metaTablesSeen:  strconv.FormatInt(t.tablesSeen, 10),
	}
	t.ema.Swap()
	err := t.model.Save(filepath.Join(dir, ModelFile), common)
	t.ema.Swap()
	if err != nil {
		return fmt.Errorf("nori: checkpoint: %w", err)
	}

	var names []string
	var ts []*tensor.Tensor
	for _, p := range nn.Params(t.model) {
		names, ts = append(names, paramPrefix+p.Name), append(ts, p.Var.Value)
	}
	st := t.opt.State()
	for _, s := range append(st.Tensors, t.ema.Shadow()...) {
		names, ts = append(names, s.Name), append(ts, s.Value)
	}
	meta := map[string]string{
		metaTrainState: trainStateVer,
		metaOptSteps:   strconv.Itoa(st.Step),
		metaEMAUpdates: strconv.Itoa(t.ema.Updates()),
		metaLossMA:     strconv.FormatFloat(t.lossMA, 'g', -1, 64),
		metaAccepted:   strconv.Itoa(t.accepted),
		metaSkipped:    strconv.Itoa(t.skipped),
		metaElapsedNS:  strconv.FormatInt(int64(t.elapsed), 10),
	}
	for k, v := range common {
		meta[k] = v
	}
	if err := nn.SaveTensors(filepath.Join(dir, TrainStateFile), names, ts, meta, nn.SaveOptions{}); err != nil {
		return fmt.Errorf("nori: checkpoint: %w", err)
	}
	return nil
}

// ReadTrainConfig returns the training config stored in a training
// directory's state file.
func ReadTrainConfig(dir string) (TrainConfig, error) {
	path, err := trainStatePath(dir)
	if err != nil {
		return TrainConfig{}, err
	}
	meta, err := nn.ReadMetadata(path)
	if err != nil {
		return TrainConfig{}, fmt.Errorf("nori: resume: %w", err)
	}
	return trainConfigFrom(path, meta)
}

// trainStatePath returns the state file of dir, or an error saying there
// is none.
func trainStatePath(dir string) (string, error) {
	path := filepath.Join(dir, TrainStateFile)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("nori: resume: no training state %s (was the run started with this output directory?)", path)
		}
		return "", fmt.Errorf("nori: resume: %w", err)
	}
	return path, nil
}

func trainConfigFrom(path string, meta map[string]string) (TrainConfig, error) {
	if v, ok := meta[metaTrainState]; !ok {
		return TrainConfig{}, fmt.Errorf("nori: resume: %s is not a nori training state (no %q metadata)", path, metaTrainState)
	} else if v != trainStateVer {
		return TrainConfig{}, fmt.Errorf("nori: resume: %s has training-state version %q, this build reads %q", path, v, trainStateVer)
	}
	cj, ok := meta[metaTrainConfig]
	if !ok {
		return TrainConfig{}, fmt.Errorf("nori: resume: %s has no %q metadata", path, metaTrainConfig)
	}
	cfg, err := ParseTrainConfig([]byte(cj))
	if err != nil {
		return TrainConfig{}, fmt.Errorf("nori: resume: %s: %w", path, err)
	}
	return cfg, nil
}

// ResumeTrainer restores the run saved in dir by SaveCheckpoint: its config,
// raw weights, optimizer state, EMA, step (the data stream's position: batch
// s is a pure function of the config and s) and counters. Continuing it
// gives the same bits as a run that was never interrupted.
func ResumeTrainer(dir string) (*Trainer, error) { return ResumeTrainerOn(dir, tensor.CPU) }

// ResumeTrainerOn is ResumeTrainer with the run continued on dev. The stored
// state does not depend on the device it was written from.
func ResumeTrainerOn(dir string, dev tensor.Device) (*Trainer, error) {
	path, err := trainStatePath(dir)
	if err != nil {
		return nil, err
	}
	ck, err := nn.LoadTensors(path)
	if err != nil {
		return nil, fmt.Errorf("nori: resume: %w", err)
	}
	cfg, err := trainConfigFrom(path, ck.Meta)
	if err != nil {
		return nil, err
	}
	t, err := newTrainerOn(cfg, dev)
	if err != nil {
		return nil, fmt.Errorf("nori: resume: %s: %w", path, err)
	}
	ints := map[string]*int{metaStep: &t.step, metaAccepted: &t.accepted, metaSkipped: &t.skipped}
	var optSteps, emaUpdates int
	ints[metaOptSteps], ints[metaEMAUpdates] = &optSteps, &emaUpdates
	for k, dst := range ints {
		v, err := strconv.Atoi(ck.Meta[k])
		if err != nil || v < 0 {
			return nil, fmt.Errorf("nori: resume: %s: metadata %q = %q, want a count", path, k, ck.Meta[k])
		}
		*dst = v
	}
	if t.tablesSeen, err = strconv.ParseInt(ck.Meta[metaTablesSeen], 10, 64); err != nil || t.tablesSeen < 0 {
		return nil, fmt.Errorf("nori: resume: %s: metadata %q = %q, want a count", path, metaTablesSeen, ck.Meta[metaTablesSeen])
	}
	ns, err := strconv.ParseInt(ck.Meta[metaElapsedNS], 10, 64)
	if err != nil || ns < 0 {
		return nil, fmt.Errorf("nori: resume: %s: metadata %q = %q, want nanoseconds", path, metaElapsedNS, ck.Meta[metaElapsedNS])
	}
	t.elapsed = time.Duration(ns)
	if t.lossMA, err = strconv.ParseFloat(ck.Meta[metaLossMA], 64); err != nil {
		return nil, fmt.Errorf("nori: resume: %s: metadata %q = %q, want a number", path, metaLossMA, ck.Meta[metaLossMA])
	}
	if t.accepted+t.skipped != t.step || optSteps != t.accepted {
		return nil, fmt.Errorf("nori: resume: %s: inconsistent counters (step %d, accepted %d, skipped %d, optimizer steps %d)", path, t.step, t.accepted, t.skipped, optSteps)
	}

	pick := func(like []nn.StateTensor) ([]nn.StateTensor, error) {
		out := make([]nn.StateTensor, len(like))
		for i, s := range like {
			v, ok := ck.Tensor(s.Name)
			if !ok {
				return nil, fmt.Errorf("no tensor %q", s.Name)
			}
			out[i] = nn.StateTensor{Name: s.Name, Value: v}
		}
		return out, nil
	}
	var weights []nn.StateTensor
	for _, p := range nn.Params(t.model) {
		weights = append(weights, nn.StateTensor{Name: paramPrefix + p.Name, Value: p.Var.Value})
	}
	ws, err := pick(weights)
	if err != nil {
		return nil, fmt.Errorf("nori: resume: %s: weights: %w", path, err)
	}
	for i, w := range ws {
		if !w.Value.Shape().Equal(weights[i].Value.Shape()) {
			return nil, fmt.Errorf("nori: resume: %s: weight %q has shape %v, the config's model has %v", path, w.Name, w.Value.Shape(), weights[i].Value.Shape())
		}
	}
	if n, want := len(ck.Names()), len(weights)+len(t.opt.State().Tensors)+len(t.ema.Shadow()); n != want {
		return nil, fmt.Errorf("nori: resume: %s holds %d tensors, the config's run has %d", path, n, want)
	}
	for i, w := range ws {
		src := w.Value
		if dst := weights[i].Value; src.Device() != dst.Device() {
			src = src.To(dst.Device(), dst.DType())
		}
		weights[i].Value.CopyFrom(src)
	}
	ost, err := pick(t.opt.State().Tensors)
	if err == nil {
		err = t.opt.LoadState(nn.OptimizerState{Step: optSteps, Tensors: ost})
	}
	if err != nil {
		return nil, fmt.Errorf("nori: resume: %s: optimizer state: %w", path, err)
	}
	es, err := pick(t.ema.Shadow())
	if err == nil {
		err = t.ema.LoadShadow(es, emaUpdates)
	}
	if err != nil {
		return nil, fmt.Errorf("nori: resume: %s: EMA: %w", path, err)
	}
	return t, nil
}
