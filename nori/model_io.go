package nori

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nori-ml/nori/autograd"
	"github.com/nori-ml/nori/nn"
	"github.com/nori-ml/nori/tensor"
)

// ConfigMetaKey is the checkpoint metadata key holding the model config as
// JSON.
const ConfigMetaKey = "nori_config"

// Save writes the model's parameters (frozen tables included, float32) and
// its config to path (a .safetensors file) atomically, with meta as extra
// metadata (it may not use the key ConfigMetaKey).
func (m *Model) Save(path string, meta map[string]string) error {
	cj, err := json.Marshal(m.cfg)
	if err != nil {
		return fmt.Errorf("nori: Save %s: encoding config: %w", path, err)
	}
	full := map[string]string{ConfigMetaKey: string(cj)}
	for k, v := range meta {
		if k == ConfigMetaKey {
			return fmt.Errorf("nori: Save %s: metadata key %q is reserved for the model config", path, k)
		}
		full[k] = v
	}
	var names []string
	var ts []*tensor.Tensor
	m.VisitParams("", func(name string, p *autograd.Var) {
		names = append(names, name)
		ts = append(ts, p.Value)
	})
	return nn.SaveTensors(path, names, ts, full, nn.SaveOptions{})
}

// LoadModel reads a checkpoint written by Save: the config from its
// metadata, then every parameter. A file without a config, with an invalid
// or unknown config, or whose tensors do not match that config (missing,
// unexpected or differently shaped) is an error naming the problem.
func LoadModel(path string) (*Model, error) {
	ck, err := nn.LoadTensors(path)
	if err != nil {
		return nil, fmt.Errorf("nori: LoadModel: %w", err)
	}
	return modelFromCheckpoint(ck, "LoadModel", path)
}

// modelFromCheckpoint builds the model a loaded checkpoint describes: the
// config from its metadata, then every parameter. op and src name the
// caller and the checkpoint's source in errors.
func modelFromCheckpoint(ck *nn.Checkpoint, op, src string) (*Model, error) {
	cj, ok := ck.Meta[ConfigMetaKey]
	if !ok {
		return nil, fmt.Errorf("nori: %s %s: no %q metadata: not a nori model checkpoint", op, src, ConfigMetaKey)
	}
	cfg, err := ParseConfig([]byte(cj))
	if err != nil {
		return nil, fmt.Errorf("nori: %s %s: %w", op, src, err)
	}
	m, err := NewModel(cfg, 0)
	if err != nil {
		return nil, fmt.Errorf("nori: %s %s: %w", op, src, err)
	}
	if err := m.loadFrom(ck); err != nil {
		return nil, fmt.Errorf("nori: %s %s: checkpoint does not match its config: %w", op, src, err)
	}
	return m, nil
}

// LoadWeights replaces the parameters of m with those of the checkpoint at
// path, whose config must equal m's.
func (m *Model) LoadWeights(path string) error {
	ck, err := nn.LoadTensors(path)
	if err != nil {
		return fmt.Errorf("nori: LoadWeights: %w", err)
	}
	if cj, ok := ck.Meta[ConfigMetaKey]; ok {
		cfg, err := ParseConfig([]byte(cj))
		if err != nil {
			return fmt.Errorf("nori: LoadWeights %s: %w", path, err)
		}
		if cfg != m.cfg {
			a, _ := json.Marshal(cfg)
			b, _ := json.Marshal(m.cfg)
			return fmt.Errorf("nori: LoadWeights %s: checkpoint config %s differs from the model's %s", path, a, b)
		}
	}
	if err := m.loadFrom(ck); err != nil {
		return fmt.Errorf("nori: LoadWeights %s: %w", path, err)
	}
	return nil
}

func (m *Model) loadFrom(ck *nn.Checkpoint) error {
	var names []string
	var dst []*tensor.Tensor
	m.VisitParams("", func(name string, p *autograd.Var) {
		names = append(names, name)
		dst = append(dst, p.Value)
	})
	if len(names) == 0 {
		return errors.New("model has no parameters")
	}
	return ck.Into(names, dst)
}
