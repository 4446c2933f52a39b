package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/nori-ml/nori/nori"
	"github.com/nori-ml/nori/tensor"
)

// deviceFlags are the -device and -precision flags shared by predict, eval
// and train.
type deviceFlags struct {
	device    *string
	precision *string
}

func addDeviceFlags(fs *flag.FlagSet, defaultPrecision string) deviceFlags {
	return deviceFlags{
		device: fs.String("device", "cpu", "where the model runs: cpu, cuda or cuda:N (GPU N; needs a binary built with -tags cuda)"),
		precision: fs.String("precision", defaultPrecision,
			"GPU matrix-product arithmetic: fp32, tf32 or bf16 (tensor cores, float32 accumulation; weights stay float32)"),
	}
}

// open returns the device the flags name, with the precision set on a GPU.
func (f deviceFlags) open() (tensor.Device, error) {
	spec := strings.TrimSpace(*f.device)
	var prec tensor.MatMulPrecision
	switch *f.precision {
	case "fp32":
		prec = tensor.PrecisionFP32
	case "tf32":
		prec = tensor.PrecisionTF32
	case "bf16":
		prec = tensor.PrecisionBF16
	default:
		return nil, fmt.Errorf("-precision %q: want fp32, tf32 or bf16", *f.precision)
	}
	switch {
	case spec == "cpu":
		return tensor.CPU, nil
	case spec == "cuda" || strings.HasPrefix(spec, "cuda:"):
		ordinal := 0
		if s, ok := strings.CutPrefix(spec, "cuda:"); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("-device %q: want cuda:N with N a GPU number >= 0", spec)
			}
			ordinal = n
		}
		dev, err := tensor.NewCUDA(ordinal)
		if err != nil {
			return nil, fmt.Errorf("-device %s: %w", spec, err)
		}
		if g, ok := dev.(tensor.GPUDevice); ok {
			g.SetMatMulPrecision(prec)
		}
		return dev, nil
	}
	return nil, fmt.Errorf("-device %q: want cpu, cuda or cuda:N", spec)
}

// addPreprocessFlag adds -preprocess (the members' preprocessing) and returns
// its parser.
func addPreprocessFlag(fs *flag.FlagSet) func() (nori.Preprocessing, error) {
	name := fs.String("preprocess", "ensemble", "members' preprocessing: ensemble (the reference's transforms and added features) or plain (the encoded columns alone)")
	return func() (nori.Preprocessing, error) { return nori.ParsePreprocessing(*name) }
}

// addMemberWeightsFlag adds -member-weights (nori.WithMemberWeights) and
// returns the options it sets: none for auto (nori's default).
func addMemberWeightsFlag(fs *flag.FlagSet) func() []nori.Option {
	v := &memberWeightsFlag{mode: "auto"}
	fs.Var(v, "member-weights", "weight the ensemble members by their error on held-out folds of the training rows: auto (within the local contexts of tables over 512 training rows, one set of weights scored on 4 probe contexts and shared by every group), true (every context its own), or false (the equal average, a faster fit)")
	return func() []nori.Option {
		if v.mode == "auto" {
			return nil
		}
		return []nori.Option{nori.WithMemberWeights(v.mode == "true")}
	}
}

// memberWeightsFlag is -member-weights: a boolean flag (-member-weights
// alone means true) that also takes auto.
type memberWeightsFlag struct{ mode string }

func (f *memberWeightsFlag) String() string {
	if f == nil || f.mode == "" {
		return "auto"
	}
	return f.mode
}

func (f *memberWeightsFlag) Set(s string) error {
	if s == "auto" {
		f.mode = s
		return nil
	}
	on, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want auto, true or false")
	}
	f.mode = strconv.FormatBool(on)
	return nil
}

func (f *memberWeightsFlag) IsBoolFlag() bool { return true }

// addLocalContextFlags adds -local-context and -local-group
// (nori.WithLocalContext), -local-metric (nori.WithLocalMetric) and
// -local-size-choice (nori.WithLocalSizeChoice) and returns the options
// they set.
func addLocalContextFlags(fs *flag.FlagSet) func() []nori.Option {
	rows := fs.Int("local-context", nori.DefaultLocalContextRows, "with more training rows than this, predict each group of query rows from this many training rows nearest to it (0: one context of all the training rows)")
	group := fs.Int("local-group", nori.DefaultLocalGroupRows, "query rows per group sharing one local context, about (fewer: closer neighbourhoods, slower)")
	metric := fs.Bool("local-metric", true, "pick a local context's rows by a distance that weights each feature by how much it helps a nearest-neighbour prediction of the target (false: every feature the same)")
	size := fs.Bool("local-size-choice", false, "choose the local contexts' size per table among half, once and twice -local-context by predicting 100 held-out training rows (a noisy judge: off by default)")
	neighbour := fs.Bool("neighbour-feature", true, "with local contexts, give every row one more column, the mean target of its nearest training rows in the learned distance (a training row's own target left out), read by half the candidate members (false: no such column)")
	return func() []nori.Option {
		return []nori.Option{nori.WithLocalContext(*rows, *group), nori.WithLocalMetric(*metric), nori.WithLocalSizeChoice(*size), nori.WithNeighbourFeature(*neighbour)}
	}
}

// addTargetFlags adds -target-power (nori.WithTargetPower) and
// -target-ordered-codes (nori.WithTargetOrderedCodes) and returns the
// options they set.
func addTargetFlags(fs *flag.FlagSet) func() []nori.Option {
	on := fs.Bool("target-power", false, "let every odd ensemble member predict the Yeo-Johnson transform of the target and map its quantiles back (for skewed targets; default: every member predicts the target as it is)")
	codes := fs.Bool("target-ordered-codes", true, "let every ensemble member after the first number each categorical column's categories in the order of their mean training target (false: a random order per member, as the reference does)")
	return func() []nori.Option {
		return []nori.Option{nori.WithTargetPower(*on), nori.WithTargetOrderedCodes(*codes)}
	}
}

// addMemberPoolFlag adds -member-pool (nori.WithMemberPool) and
// -feature-subsets (nori.WithFeatureSubsets) and returns the options they
// set.
func addMemberPoolFlag(fs *flag.FlagSet) func() []nori.Option {
	n := fs.Int("member-pool", nori.DefaultMemberPool, "build this many candidate ensemble members, score them as the member weighting does and keep the -ensemble best (0, or at most -ensemble: no pool, a faster fit); fit time grows with it, prediction time does not")
	subsets := fs.Bool("feature-subsets", true, "let every odd candidate of the member pool leave out the features that a nearest-neighbour prediction of the target weights 0 (false: every candidate sees every feature)")
	return func() []nori.Option { return []nori.Option{nori.WithMemberPool(*n), nori.WithFeatureSubsets(*subsets)} }
}
