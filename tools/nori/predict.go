package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nori-ml/nori/nori"
)

func init() {
	register("predict", "predict the target column of a CSV file from a training CSV", runPredict)
}

func runPredict(args []string) error { return predictMain(args, os.Stdout, os.Stderr) }

// predictMain is the predict subcommand with its output streams.
func predictMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	train := fs.String("train", "", "training CSV with a header row (required)")
	test := fs.String("test", "", "CSV of rows to predict, same feature columns (required); it may contain the target, then R² and RMSE go to stderr")
	target := fs.String("target", "", "name of the target column (default: the training file's last column)")
	out := fs.String("out", "", "output CSV (default: standard output); written atomically, never one of the inputs")
	quantiles := fs.String("quantiles", "", "comma-separated quantile levels in (0, 1) to add as columns q<level>, e.g. 0.1,0.5,0.9")
	checkpoint := fs.String("checkpoint", "", "model checkpoint (.safetensors) (default: the pretrained checkpoint embedded in nori)")
	point := fs.String("point", "mean", "point estimate in the prediction column: mean or median")
	seed := fs.Uint64("seed", 0, "seed of the preprocessing ensemble")
	ensemble := fs.Int("ensemble", nori.DefaultEnsemble, "number of ensemble members")
	preprocess := addPreprocessFlag(fs)
	weights := addMemberWeightsFlag(fs)
	local := addLocalContextFlags(fs)
	targetFlags := addTargetFlags(fs)
	memberPool := addMemberPoolFlag(fs)
	devf := addDeviceFlags(fs, "fp32")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nori predict -train train.csv -test test.csv [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *train == "" || *test == "" {
		return errors.New("-train and -test are required")
	}
	if *point != "mean" && *point != "median" {
		return fmt.Errorf("-point %q: want mean or median", *point)
	}
	levels, err := parseLevels(*quantiles)
	if err != nil {
		return err
	}
	if *out != "" {
		for _, in := range []string{*train, *test, *checkpoint} {
			if in != "" && samePath(*out, in) {
				return fmt.Errorf("-out %s is the input file %s; refusing to overwrite it", *out, in)
			}
		}
	}

	trainT, err := nori.ReadCSVFile(*train)
	if err != nil {
		return err
	}
	testT, err := nori.ReadCSVFile(*test)
	if err != nil {
		return err
	}
	if *target == "" {
		names := trainT.Names()
		if len(names) == 0 {
			return fmt.Errorf("%s has no columns", *train)
		}
		*target = names[len(names)-1]
	}

	dev, err := devf.open()
	if err != nil {
		return err
	}
	pre, err := preprocess()
	if err != nil {
		return err
	}
	opts := []nori.Option{nori.WithSeed(*seed), nori.WithEnsemble(*ensemble), nori.WithPreprocessing(pre), nori.WithDevice(dev)}
	opts = append(opts, local()...)
	opts = append(opts, weights()...)
	opts = append(opts, targetFlags()...)
	opts = append(opts, memberPool()...)
	if *checkpoint != "" {
		opts = append(opts, nori.WithCheckpoint(*checkpoint))
	}
	reg, err := nori.NewRegressor(opts...)
	if err != nil {
		return err
	}
	if err := reg.FitTable(trainT, *target); err != nil {
		return fmt.Errorf("%s: %w", *train, err)
	}
	sum, err := reg.SummarizeTable(testT, levels)
	if err != nil {
		return fmt.Errorf("%s: %w", *test, err)
	}
	pred := sum.Mean
	if *point == "median" {
		pred = sum.Median
	}
	if err := writePredictions(*out, stdout, pred, levels, sum.Quantiles); err != nil {
		return err
	}
	// Metrics come after the predictions so that, with predictions on the
	// terminal, the R² line is the last thing shown rather than scrolled away.
	if truth, ok := testT.Numeric(*target); ok {
		reportMetrics(stderr, truth, pred)
	} else if _, ok := testT.Kind(*target); ok {
		fmt.Fprintf(stderr, "note: %s's target column %q is not numeric; no metrics\n", *test, *target)
	}
	return nil
}

// parseLevels parses "0.1,0.5,0.9" (empty: none).
func parseLevels(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var levels []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v < 1) {
			return nil, fmt.Errorf("-quantiles: %q is not a level strictly between 0 and 1", f)
		}
		levels = append(levels, v)
	}
	return levels, nil
}

// samePath reports whether a and b name the same file (by path, or by
// identity when both exist).
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// reportMetrics prints R² and RMSE over the rows with a finite true target.
func reportMetrics(w io.Writer, truth, pred []float64) {
	var n int
	var mean float64
	for i, t := range truth {
		if !math.IsNaN(t) && !math.IsInf(t, 0) && i < len(pred) {
			n++
			mean += t
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "note: the test target column has no values; no metrics")
		return
	}
	mean /= float64(n)
	var sse, sst float64
	for i, t := range truth {
		if !math.IsNaN(t) && !math.IsInf(t, 0) && i < len(pred) {
			sse += (pred[i] - t) * (pred[i] - t)
			sst += (t - mean) * (t - mean)
		}
	}
	rmse := math.Sqrt(sse / float64(n))
	if sst == 0 {
		fmt.Fprintf(w, "RMSE %.6g over %d rows (R² undefined: the test target is constant)\n", rmse, n)
		return
	}
	fmt.Fprintf(w, "R² %.6f  RMSE %.6g  over %d rows\n", 1-sse/sst, rmse, n)
}

// writePredictions writes the prediction CSV to path (atomically: a
// temporary file in the same directory, synced, then renamed) or to stdout
// when path is empty.
func writePredictions(path string, stdout io.Writer, pred, levels []float64, q [][]float64) error {
	write := func(w io.Writer) error {
		var b strings.Builder
		b.WriteString("prediction")
		for _, l := range levels {
			b.WriteString(",q" + strconv.FormatFloat(l, 'g', -1, 64))
		}
		b.WriteByte('\n')
		for i, p := range pred {
			b.WriteString(strconv.FormatFloat(p, 'g', -1, 64))
			for _, v := range q[i] {
				b.WriteString("," + strconv.FormatFloat(v, 'g', -1, 64))
			}
			b.WriteByte('\n')
			if b.Len() > 1<<20 {
				if _, err := io.WriteString(w, b.String()); err != nil {
					return err
				}
				b.Reset()
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if path == "" {
		return write(stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o644) // CreateTemp's 0600 is for the temporary only
	if err == nil {
		err = write(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
