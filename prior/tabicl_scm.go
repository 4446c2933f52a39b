package prior

import (
	"math"

	"github.com/nori-ml/nori/tensor"
)

// The "tabicl_scm" generator is the MLP-based structural causal model of the
// TabPFN/TabICL priors: a random network whose units are the causal
// variables. A layer of cause variables (normal, uniform or a mix, per
// table) feeds 2-5 hidden layers, each layer = activation(W * previous +
// noise) with one random activation per layer, sparse random weights
// (10-60% of the connections dropped) and Gaussian noise per unit; features
// and target are read from random units across the layers (the target from
// the second half of the layers, so it has causes upstream).
//
// It differs from "scm" in its mechanisms and geometry: every unit is a
// dense linear mix of the whole previous layer followed by one shared
// nonlinearity (no zoo of per-edge functions, no aggregations, no root laws
// beyond the cause layer), and the graph is layered and wide rather than
// built from small blocks with 1-3 parents. Values are not standardised
// between layers (weights are scaled by 1/sqrt(fan-in) instead); the columns
// read out are robustly standardised and clipped like SCM nodes.

func init() { Register(tabiclSCMGen{}) }

type tabiclSCMGen struct{}

func (tabiclSCMGen) Name() string { return "tabicl_scm" }

// tabiclActivations are TabICL's per-layer activations.
var tabiclActivations = []string{"tanh", "relu", "leaky_relu", "sigmoid", "sin", "softplus", "elu", "abs", "square"}

func (tabiclSCMGen) Generate(r *tensor.RNG, rows, features int) *Table {
	f := NewFastRNG(r)
	nLayers := IntRange(r, 2, 5)
	// Hidden units must hold features+1 read-outs; wider layers add hidden
	// confounders.
	width := max(IntRange(r, 4, 16), (features+1+nLayers-1)/nLayers+IntRange(r, 0, 3))
	nCause := IntRange(r, 2, max(2, min(width, 12)))
	causeKind := Choice(r, []string{"normal", "uniform", "mixed"})
	dropP := Uniform(r, 0.1, 0.6)
	wScale := Uniform(r, 0.8, 2)
	noiseSD := LogUniform(r, 0.01, 0.3)

	// Cause layer.
	prev := make([][]float64, nCause)
	for k := range prev {
		c := make([]float64, rows)
		kind := causeKind
		if kind == "mixed" {
			kind = Choice(r, []string{"normal", "uniform"})
		}
		if kind == "normal" {
			f.FillNormal(c, 0, LogUniform(r, 0.5, 2))
		} else {
			h := LogUniform(r, 0.5, 2)
			f.FillUniform(c, -h, h)
		}
		prev[k] = c
	}

	layers := make([][][]float64, nLayers)
	acts := make([]string, nLayers)
	for l := range layers {
		acts[l] = Choice(r, tabiclActivations)
		cur := make([][]float64, width)
		sd := wScale / math.Sqrt(float64(len(prev))*(1-dropP))
		for u := range cur {
			c := make([]float64, rows)
			f.FillNormal(c, 0, noiseSD)
			kept := 0
			for k, p := range prev {
				if Bernoulli(f, dropP) && !(kept == 0 && k == len(prev)-1) {
					continue // a dropped connection; every unit keeps at least one
				}
				kept++
				w := Normal(f, 0, sd)
				for i, v := range p {
					c[i] += w * v
				}
			}
			applyActivation(acts[l], c)
			// Guard the next layer against a run of "square" layers.
			clipInPlace(c, 1e6)
			cur[u] = c
		}
		layers[l] = cur
		prev = cur
	}

	// Target from the second half of the layers, features from anywhere else.
	firstTargetLayer := nLayers / 2
	tl := IntRange(r, firstTargetLayer, nLayers-1)
	tu := r.Intn(width)
	var pool [][]float64
	for l := range layers {
		for u := range layers[l] {
			if l == tl && u == tu {
				continue
			}
			pool = append(pool, layers[l][u])
		}
	}
	pick := SampleWithoutReplacement(r, len(pool), features)
	scratch := make([]float64, 2*rows)
	cols := make([][]float64, features)
	for j, p := range pick {
		cols[j] = pool[p]
		robustStandardizeClip(cols[j], scratch)
	}
	y := layers[tl][tu]
	robustStandardizeClip(y, scratch)

	t := NewTable(rows, features)
	fillTable(t, cols, y)
	t.Info.Generator = "tabicl_scm"
	t.Info.Params["layers"] = nLayers
	t.Info.Params["width"] = width
	t.Info.Params["causes"] = nCause
	t.Info.Params["cause_kind"] = causeKind
	t.Info.Params["activations"] = acts
	t.Info.Params["drop_p"] = dropP
	t.Info.Params["weight_scale"] = wScale
	t.Info.Params["noise_sd"] = noiseSD
	t.Info.Params["target_layer"] = tl
	return t
}
