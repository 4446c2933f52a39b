package nori

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Config sizes the model and switches each of its mechanisms on or off. The
// zero value is not usable: start from Nori6M or Tiny and change fields.
// Configs travel inside checkpoints as JSON (the "nori_config" metadata key),
// so a field's JSON name is part of the checkpoint format.
type Config struct {
	// Layers is the number of transformer layers (row attention -> MLP ->
	// feature attention each).
	Layers int `json:"layers"`
	// Embed is the token width E.
	Embed int `json:"embed"`
	// Heads is the number of attention heads (Embed must be a multiple).
	Heads int `json:"heads"`
	// MLPHidden is the SwiGLU hidden width (nori-6m: int(2*384/3) = 256).
	MLPHidden int `json:"mlp_hidden"`
	// HeadHidden is the width of the quantile head's hidden layer (384).
	HeadHidden int `json:"head_hidden"`
	// Quantiles is the number of predicted quantiles, at levels
	// tau_i = (i+1)/(Quantiles+1).
	Quantiles int `json:"quantiles"`
	// GroupSize is the number of features fused into one feature token
	// (nori-6m: 2, "feature pairs"); 1 gives one token per feature (the
	// fusion MLP then maps one embedding instead of a concatenated pair).
	GroupSize int `json:"group_size"`
	// RBFCenters is the number of radial basis functions on the mantissa,
	// centred evenly on [0, 10]; RBFSigma is their width.
	RBFCenters int     `json:"rbf_centers"`
	RBFSigma   float64 `json:"rbf_sigma"`
	// FiLMTokenDim is the width of each frozen random embedding (sign,
	// exponent sign, exponent digit; 3*FiLMTokenDim inputs to the FiLM MLP)
	// and FiLMHidden the FiLM MLP's hidden width.
	FiLMTokenDim int `json:"film_token_dim"`
	FiLMHidden   int `json:"film_hidden"`
	// QASSHidden is the hidden width of QASSMax's base and gate MLPs.
	QASSHidden int `json:"qass_hidden"`
	// ResidualScale multiplies every sublayer's output before the residual
	// add; 0 means Layers^-0.5 (0.25 for 16 layers).
	ResidualScale float64 `json:"residual_scale"`

	// NormalizeX z-scores each column with context statistics (clipped to
	// +-100) before encoding.
	NormalizeX bool `json:"normalize_x"`
	// GroupScale multiplies each feature group by sqrt(GroupSize/k), k the
	// group's non-constant features (at least 1).
	GroupScale bool `json:"group_scale"`
	// FiLM modulates the RBF features with gamma/beta computed from the
	// sign, exponent sign and exponent digit (off: plain RBF features).
	FiLM bool `json:"film"`
	// MissingEmbedding encodes NaN inputs with one learned vector (off: a
	// NaN is encoded as its column's context mean, like an infinity).
	MissingEmbedding bool `json:"missing_embedding"`
	// YAware adds a context row's target embedding to its feature tokens.
	YAware bool `json:"y_aware"`
	// ColumnYAware gates that addition per feature token (needs YAware).
	ColumnYAware bool `json:"column_y_aware"`
	// QASSMax rescales row-attention queries by the query-aware scalable
	// softmax factor.
	QASSMax bool `json:"qassmax"`
	// SeparateQueryAttention gives the query rows' row attention (module B)
	// its own weights; off, query rows use the context module's weights.
	SeparateQueryAttention bool `json:"separate_query_attention"`
}

// Nori6M is the configuration of the published nori-6m model: 16 layers,
// E=128, 2 heads, SwiGLU hidden 256, head hidden 384, 999 quantiles, feature
// pairs, 64 RBF centres (sigma 0.5), FiLM from 3x16 frozen embeddings through
// a 64-wide MLP, QASSMax (hidden 64), y-aware feature tokens with column
// gating, separate query attention, residual scale 0.25.
func Nori6M() Config {
	return Config{
		Layers: 16, Embed: 128, Heads: 2, MLPHidden: 256, HeadHidden: 384, Quantiles: 999,
		GroupSize: 2, RBFCenters: 64, RBFSigma: 0.5, FiLMTokenDim: 16, FiLMHidden: 64, QASSHidden: 64,
		NormalizeX: true, GroupScale: true, FiLM: true, MissingEmbedding: true,
		YAware: true, ColumnYAware: true, QASSMax: true, SeparateQueryAttention: true,
	}
}

// Tiny is a small configuration with every mechanism on, for tests: 2 layers,
// E=32, 2 heads, 99 quantiles.
func Tiny() Config {
	return Config{
		Layers: 2, Embed: 32, Heads: 2, MLPHidden: 64, HeadHidden: 48, Quantiles: 99,
		GroupSize: 2, RBFCenters: 16, RBFSigma: 0.5, FiLMTokenDim: 4, FiLMHidden: 16, QASSHidden: 16,
		NormalizeX: true, GroupScale: true, FiLM: true, MissingEmbedding: true,
		YAware: true, ColumnYAware: true, QASSMax: true, SeparateQueryAttention: true,
	}
}

// maxConfigDim bounds every size so that a corrupt config cannot ask for an
// absurd allocation.
const maxConfigDim = 1 << 16

// Validate reports the first problem with the config, or nil.
func (c Config) Validate() error {
	sizes := []struct {
		name string
		v    int
	}{
		{"layers", c.Layers}, {"embed", c.Embed}, {"heads", c.Heads}, {"mlp_hidden", c.MLPHidden},
		{"head_hidden", c.HeadHidden}, {"quantiles", c.Quantiles}, {"group_size", c.GroupSize},
	}
	for _, s := range sizes {
		if s.v < 1 || s.v > maxConfigDim {
			return fmt.Errorf("nori: config %s = %d, want 1..%d", s.name, s.v, maxConfigDim)
		}
	}
	if c.Embed%c.Heads != 0 {
		return fmt.Errorf("nori: config embed %d is not a multiple of heads %d", c.Embed, c.Heads)
	}
	if c.RBFCenters < 2 || c.RBFCenters > maxConfigDim {
		return fmt.Errorf("nori: config rbf_centers = %d, want 2..%d", c.RBFCenters, maxConfigDim)
	}
	if !(c.RBFSigma > 0) || math.IsInf(c.RBFSigma, 0) {
		return fmt.Errorf("nori: config rbf_sigma = %g, want a positive finite width", c.RBFSigma)
	}
	if c.FiLM && (c.FiLMTokenDim < 1 || c.FiLMTokenDim > maxConfigDim || c.FiLMHidden < 1 || c.FiLMHidden > maxConfigDim) {
		return fmt.Errorf("nori: config film_token_dim = %d, film_hidden = %d: both must be 1..%d with film on", c.FiLMTokenDim, c.FiLMHidden, maxConfigDim)
	}
	if c.QASSMax && (c.QASSHidden < 1 || c.QASSHidden > maxConfigDim) {
		return fmt.Errorf("nori: config qass_hidden = %d, want 1..%d with qassmax on", c.QASSHidden, maxConfigDim)
	}
	if c.ResidualScale < 0 || math.IsNaN(c.ResidualScale) || math.IsInf(c.ResidualScale, 0) {
		return fmt.Errorf("nori: config residual_scale = %g, want >= 0 (0: layers^-0.5)", c.ResidualScale)
	}
	if c.ColumnYAware && !c.YAware {
		return errors.New("nori: config column_y_aware needs y_aware")
	}
	return nil
}

// residualScale returns the factor of every sublayer's residual branch.
func (c Config) residualScale() float64 {
	if c.ResidualScale > 0 {
		return c.ResidualScale
	}
	return 1 / math.Sqrt(float64(c.Layers))
}

// QuantileLevels returns the Quantiles levels tau_i = (i+1)/(Quantiles+1)
// the head predicts (0.001 ... 0.999 for nori-6m).
func (c Config) QuantileLevels() []float64 {
	t := make([]float64, c.Quantiles)
	for i := range t {
		t[i] = float64(i+1) / float64(c.Quantiles+1)
	}
	return t
}

// ParseConfig decodes a config from JSON, rejecting unknown fields (a
// checkpoint from a newer model family) and invalid values.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("nori: parsing model config: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("nori: parsing model config: trailing data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
