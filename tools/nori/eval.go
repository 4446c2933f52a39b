package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nori-ml/nori/nori"
)

func init() {
	register("eval", "accuracy on a folder of CSV tables over fixed or seeded splits, against baselines", runEval)
}

func runEval(args []string) error { return evalMain(args, os.Stdout, os.Stderr) }

// evalTarget is the target column every evaluation table must end with.
const evalTarget = "target"

// evalMain is the eval subcommand with its output streams.
func evalMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "folder of CSV tables, each with a header and the target last, named \"target\" (required)")
	splitsDir := fs.String("splits", "", "folder of split files <name>.txt: one line per seed with the 0-based test-row indices (default: 5 seeded 80/20 splits)")
	checkpoint := fs.String("checkpoint", "", "model checkpoint (.safetensors) (default: the pretrained checkpoint embedded in nori)")
	baselines := fs.String("baselines", "", "CSV of baseline scores (dataset, model, mean_r2, ...) to compare with")
	out := fs.String("out", "", "results CSV: dataset, seed, n_train, n_test, r2, rmse, seconds (required; rewritten atomically after each table)")
	plotPath := fs.String("plot", "", "comparison PNG (default: the -out path with .png, when -baselines is given)")
	ensemble := fs.Int("ensemble", nori.DefaultEnsemble, "ensemble members per prediction")
	seed := fs.Uint64("seed", 0, "seed of the random splits (without -splits) and of the preprocessing ensemble")
	resume := fs.Bool("resume", false, "keep the tables that -out already holds in full (from an interrupted run of the same command) and evaluate only the others; tables of -out outside -only stay in it")
	only := fs.String("only", "", "comma-separated table names to evaluate (default: every CSV in -data)")
	preprocess := addPreprocessFlag(fs)
	weights := addMemberWeightsFlag(fs)
	local := addLocalContextFlags(fs)
	targetFlags := addTargetFlags(fs)
	memberPool := addMemberPoolFlag(fs)
	budget := fs.Int("budget", nori.DefaultBudget, "element budget of one ensemble member's context (rows x features); larger training sets are subsampled per member")
	devf := addDeviceFlags(fs, "fp32")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nori eval -data DIR -out results.csv [-splits DIR] [-checkpoint FILE] [-baselines FILE] [-ensemble N] [-resume]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case *data == "":
		return errors.New("-data is required")
	case *out == "":
		return errors.New("-out is required")
	case *ensemble < 1:
		return fmt.Errorf("-ensemble %d: want at least 1 member", *ensemble)
	case !strings.HasSuffix(*out, ".csv"):
		return fmt.Errorf("-out %s: want a .csv file", *out)
	}
	names, err := evalTables(*data, *only)
	if err != nil {
		return err
	}
	if *splitsDir != "" {
		if st, err := os.Stat(*splitsDir); err != nil || !st.IsDir() {
			return fmt.Errorf("-splits %s: not a directory", *splitsDir)
		}
		for _, n := range names { // fail before hours of work, not after
			if _, err := os.Stat(filepath.Join(*splitsDir, n+".txt")); err != nil {
				return fmt.Errorf("-splits: no split file for table %s (%s)", n, filepath.Join(*splitsDir, n+".txt"))
			}
		}
	}
	var base *nori.Baselines
	if *baselines != "" {
		if base, err = nori.ReadBaselines(*baselines); err != nil {
			return fmt.Errorf("-baselines: %w", err)
		}
	}
	// The model is loaded once, before any table, so a bad checkpoint fails
	// at once and every split shares it.
	var m *nori.Model
	if *checkpoint != "" {
		m, err = nori.LoadModel(*checkpoint)
		if err != nil {
			return fmt.Errorf("-checkpoint: %w", err)
		}
	} else if m, err = nori.DefaultModel(); err != nil {
		return err
	}
	dev, err := devf.open()
	if err != nil {
		return err
	}
	if dev != m.Device() {
		// One copy on the device for every split (a Regressor given a model
		// on another device would copy it each time).
		if m, err = m.CopyTo(dev); err != nil {
			return err
		}
	}
	pre, err := preprocess()
	if err != nil {
		return err
	}
	opts := []nori.Option{nori.WithEnsemble(*ensemble), nori.WithBudget(*budget), nori.WithPreprocessing(pre), nori.WithModel(m), nori.WithDevice(dev)}
	opts = append(opts, local()...)
	opts = append(opts, weights()...)
	opts = append(opts, targetFlags()...)
	opts = append(opts, memberPool()...)
	if dir := filepath.Dir(*out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}

	var prev []nori.EvalResult
	if *resume {
		if prev, err = readEvalCSV(*out); err != nil {
			return fmt.Errorf("-resume: %w", err)
		}
	}
	// Tables of -out outside this run's list (a -resume -only X on a file
	// of other tables) stay in it, ahead of this run's.
	var others []nori.EvalResult
	for _, r := range prev {
		if !slices.Contains(names, r.Dataset) {
			others = append(others, r)
		}
	}
	var all []nori.EvalResult
	perTable := map[string]float64{}
	for _, name := range names {
		path := filepath.Join(*data, name+".csv")
		t, err := nori.ReadCSVFile(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		cols := t.Names()
		if len(cols) < 2 || cols[len(cols)-1] != evalTarget {
			return fmt.Errorf("%s: the last column is %q; eval tables end with the target column, named %q", path, cols[len(cols)-1], evalTarget)
		}
		var splits [][]int
		if *splitsDir != "" {
			splits, err = nori.ReadSplits(filepath.Join(*splitsDir, name+".txt"), t.Rows())
		} else {
			splits, err = nori.RandomSplits(t.Rows(), 5, 0.2, *seed)
		}
		if err != nil {
			return fmt.Errorf("%s: splits: %w", name, err)
		}
		res := doneTable(prev, name, splits, t.Rows())
		kept := res != nil
		if !kept {
			res, err = nori.EvalSplits(name, t, evalTarget, splits, func(s int) (*nori.Regressor, error) {
				return nori.NewRegressor(append(opts, nori.WithSeed(*seed+uint64(s)))...)
			})
			if err != nil {
				return err
			}
		}
		all = append(all, res...)
		r2s := make([]float64, len(res))
		for i, r := range res {
			r2s[i] = r.R2
		}
		perTable[name], _ = nori.MeanMedian(r2s)
		if err := writeEvalCSV(*out, append(slices.Clone(others), all...)); err != nil {
			return fmt.Errorf("-out: %w", err)
		}
		from := ""
		if kept {
			from = " (kept from -out)"
		}
		fmt.Fprintf(stderr, "%-32s R² %.4f over %d splits%s\n", name, perTable[name], len(res), from)
	}
	printEvalTable(stdout, names, all, perTable, base)
	if base != nil {
		p := *plotPath
		if p == "" {
			p = strings.TrimSuffix(*out, ".csv") + ".png"
		}
		if err := plotEvalComparison(p, names, perTable, base); err != nil {
			return fmt.Errorf("comparison plot: %w", err)
		}
		fmt.Fprintf(stdout, "comparison plot: %s\n", p)
	}
	fmt.Fprintf(stdout, "results: %s\n", *out)
	return nil
}

// evalTables lists the tables (CSV base names) of dir, sorted, or checks
// the -only list against them.
func evalTables(dir, only string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("-data: %w", err)
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".csv"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("-data %s: no .csv files", dir)
	}
	if only == "" {
		return names, nil
	}
	var sel []string
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("-only: no table %q in %s (tables: %s)", n, dir, strings.Join(names, ", "))
		}
		sel = append(sel, n)
	}
	if len(sel) == 0 {
		return nil, errors.New("-only: empty list")
	}
	return sel, nil
}

// writeEvalCSV writes the results atomically.
func writeEvalCSV(path string, res []nori.EvalResult) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"dataset", "seed", "n_train", "n_test", "r2", "rmse", "seconds"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, r := range res {
		w.Write([]string{r.Dataset, strconv.Itoa(r.Seed), strconv.Itoa(r.NTrain), strconv.Itoa(r.NTest), g(r.R2), g(r.RMSE), g(r.Seconds)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return saveAtomic(path, b.Bytes())
}

// printEvalTable prints one row per table (mean R², its spread, mean RMSE
// and time over the splits, and each baseline's R²), then the mean and
// median R² over tables and, with baselines, nori's wins/ties/losses
// against each.
func printEvalTable(w io.Writer, names []string, all []nori.EvalResult, perTable map[string]float64, base *nori.Baselines) {
	byTable := map[string][]nori.EvalResult{}
	for _, r := range all {
		byTable[r.Dataset] = append(byTable[r.Dataset], r)
	}
	fmt.Fprintf(w, "\n%-30s %6s %7s %7s %10s %8s", "dataset", "n", "R²", "±std", "RMSE", "s/split")
	if base != nil {
		for _, m := range base.Models {
			fmt.Fprintf(w, " %7s", m)
		}
	}
	fmt.Fprintln(w)
	var means []float64
	for _, n := range names {
		rs := byTable[n]
		var r2, rmse, secs []float64
		for _, r := range rs {
			r2, rmse, secs = append(r2, r.R2), append(rmse, r.RMSE), append(secs, r.Seconds)
		}
		mr2, _ := nori.MeanMedian(r2)
		mrmse, _ := nori.MeanMedian(rmse)
		msecs, _ := nori.MeanMedian(secs)
		sd := 0.0
		for _, v := range r2 {
			sd += (v - mr2) * (v - mr2)
		}
		if len(r2) > 1 {
			sd = math.Sqrt(sd / float64(len(r2)-1))
		}
		means = append(means, mr2)
		fmt.Fprintf(w, "%-30s %6d %7.4f %7.4f %10.4g %8.2f", n, rs[0].NTrain+rs[0].NTest, mr2, sd, mrmse, msecs)
		if base != nil {
			for _, m := range base.Models {
				if v, ok := base.R2[n][m]; ok {
					fmt.Fprintf(w, " %7.4f", v)
				} else {
					fmt.Fprintf(w, " %7s", "-")
				}
			}
		}
		fmt.Fprintln(w)
	}
	mean, median := nori.MeanMedian(means)
	fmt.Fprintf(w, "\nnori over %d tables: mean R² %.4f, median R² %.4f\n", len(names), mean, median)
	if base == nil {
		return
	}
	fmt.Fprintf(w, "\nagainst the baselines (per table, mean R² over splits; a tie is |R²_nori - R²_baseline| < %g):\n", nori.TieTolerance)
	fmt.Fprintf(w, "%-10s %7s %9s %8s %8s %5s %5s %6s\n", "baseline", "tables", "baseline", "median", "nori", "wins", "ties", "losses")
	for _, c := range nori.Compare(perTable, base) {
		var bs []float64
		for _, n := range names {
			if v, ok := base.R2[n][c.Model]; ok {
				bs = append(bs, v)
			}
		}
		_, bmed := nori.MeanMedian(bs)
		fmt.Fprintf(w, "%-10s %7d %9.4f %8.4f %8.4f %5d %5d %6d\n", c.Model, c.Datasets, c.MeanBaseline, bmed, c.MeanNori, c.Wins, c.Ties, c.Losses)
	}
}
