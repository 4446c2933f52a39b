package nori

import (
	"bytes"
	_ "embed"
	"encoding/json" // the default checkpoint's bytes
	"fmt"
	"strconv"
	"sync"

	"github.com/nori-ml/nori/nn"
)

// defaultCheckpoint is the pretrained checkpoint built into every binary:
// the EMA inference weights written by `nori train` (see docs/model.md for
// how it was trained and how well it does). go:embed fails the build if the
// file is missing, so a binary without it cannot exist.
//
//go:embed checkpoints/default.safetensors
var defaultCheckpoint []byte

// DefaultCheckpointName is how errors and DefaultCheckpointInfo name the
// embedded checkpoint.
const DefaultCheckpointName = "embedded default checkpoint (nori/checkpoints/default.safetensors)"

// defaultModel holds the result of loading the embedded checkpoint once.
var defaultModel struct {
	once sync.Once
	m    *Model
	err  error
}

// DefaultModel returns the pretrained model embedded in the binary, the
// model NewRegressor uses when neither WithCheckpoint nor WithModel is
// given. It is decoded on the first call (about a few milliseconds) and the
// same *Model, or the same error if the embedded bytes are corrupt, is
// returned afterwards. The model is shared: use it read-only (Regressors
// only read it); for a private copy to modify, call
// LoadModelFrom(bytes.NewReader(DefaultCheckpointBytes()), ...).
func DefaultModel() (*Model, error) {
	defaultModel.once.Do(func() {
		defaultModel.m, defaultModel.err = loadDefaultModel(defaultCheckpoint)
	})
	return defaultModel.m, defaultModel.err
}

// loadDefaultModel decodes checkpoint bytes as the default model (separate
// from DefaultModel so tests can feed it corrupt bytes).
func loadDefaultModel(b []byte) (*Model, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("nori: the %s is empty", DefaultCheckpointName)
	}
	return LoadModelFrom(bytes.NewReader(b), int64(len(b)), DefaultCheckpointName)
}

// DefaultCheckpointBytes returns a copy of the embedded checkpoint's bytes
// (a .safetensors file), e.g. to write it out or load a private model.
func DefaultCheckpointBytes() []byte { return bytes.Clone(defaultCheckpoint) }

// CheckpointInfo describes a trained checkpoint from its metadata.
type CheckpointInfo struct {
	// Source names the checkpoint.
	Source string
	// Bytes is the checkpoint's size.
	Bytes int
	// Config is the model architecture.
	Config Config
	// TrainConfig is the name of the training config (configs/<name>.json),
	// "" when the checkpoint does not record one.
	TrainConfig string
	// Step is the number of training steps behind the weights and
	// TablesSeen the synthetic tables they saw; -1 when not recorded.
	Step, TablesSeen int64
	// Meta is the checkpoint's full metadata.
	Meta map[string]string
}

// DefaultCheckpointInfo returns the embedded checkpoint's description, read
// from its safetensors metadata only (no weights are decoded).
func DefaultCheckpointInfo() (CheckpointInfo, error) {
	return checkpointInfo(defaultCheckpoint, DefaultCheckpointName)
}

func checkpointInfo(b []byte, name string) (CheckpointInfo, error) {
	info := CheckpointInfo{Source: name, Bytes: len(b), Step: -1, TablesSeen: -1}
	meta, err := nn.ReadMetadataFrom(bytes.NewReader(b), int64(len(b)), name)
	if err != nil {
		return info, fmt.Errorf("nori: checkpoint info: %w", err)
	}
	info.Meta = meta
	cj, ok := meta[ConfigMetaKey]
	if !ok {
		return info, fmt.Errorf("nori: checkpoint info %s: no %q metadata: not a nori model checkpoint", name, ConfigMetaKey)
	}
	if info.Config, err = ParseConfig([]byte(cj)); err != nil {
		return info, fmt.Errorf("nori: checkpoint info %s: %w", name, err)
	}
	for key, dst := range map[string]*int64{metaStep: &info.Step, metaTablesSeen: &info.TablesSeen} {
		v, ok := meta[key]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return info, fmt.Errorf("nori: checkpoint info %s: metadata %q = %q, want a count", name, key, v)
		}
		*dst = n
	}
	if tj, ok := meta[metaTrainConfig]; ok {
		// Only the name is needed: decoding leniently keeps the info of a
		// checkpoint readable if training configs later gain fields.
		var tc struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(tj), &tc); err != nil {
			return info, fmt.Errorf("nori: checkpoint info %s: metadata %q is not JSON: %w", name, metaTrainConfig, err)
		}
		info.TrainConfig = tc.Name
	}
	return info, nil
}
