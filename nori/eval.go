package nori

// The accuracy harness: fit on the training rows of a table, score the test
// rows, over the splits of an evaluation protocol, and compare with baseline
// scores. Used by `nori eval`.

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nori-ml/nori/tensor"
)

// R2Score returns the coefficient of determination 1 - SS_res/SS_tot of
// predictions pred for targets y, SS_tot taken around the mean of y (as
// scikit-learn's r2_score). When y is constant it returns 1 for exact
// predictions and 0 otherwise (scikit-learn's force_finite). Sums run in
// float64 in index order.
func R2Score(y, pred []float64) float64 {
	if len(y) != len(pred) || len(y) == 0 {
		panic(fmt.Sprintf("nori.R2Score: %d targets, %d predictions", len(y), len(pred)))
	}
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	res, tot := 0.0, 0.0
	for i, v := range y {
		d := v - pred[i]
		res += d * d
		e := v - mean
		tot += e * e
	}
	if tot == 0 {
		if res == 0 {
			return 1
		}
		return 0
	}
	return 1 - res/tot
}

// RMSE returns the root mean squared error of pred against y.
func RMSE(y, pred []float64) float64 {
	if len(y) != len(pred) || len(y) == 0 {
		panic(fmt.Sprintf("nori.RMSE: %d targets, %d predictions", len(y), len(pred)))
	}
	s := 0.0
	for i, v := range y {
		d := v - pred[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(y)))
}

// ParseSplits reads an evaluation protocol for a table of nrows rows: one
// line per split (seed = line number from 0), each the 0-based indices of
// the test rows separated by spaces or commas; the other rows are the
// training rows. Errors name the line and the problem: a token that is not
// an index, an index out of range or repeated, an empty test set, fewer than
// two training rows, no split at all. name labels the errors.
func ParseSplits(r io.Reader, nrows int, name string) ([][]int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	var out [][]int
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
		seen := make(map[int]bool, len(fields))
		idx := make([]int, 0, len(fields))
		for _, f := range fields {
			v, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %q is not a row index", name, line, f)
			}
			if v < 0 || v >= nrows {
				return nil, fmt.Errorf("%s line %d: row index %d out of range (the table has %d rows, indices 0..%d)", name, line, v, nrows, nrows-1)
			}
			if seen[v] {
				return nil, fmt.Errorf("%s line %d: row index %d listed twice", name, line, v)
			}
			seen[v] = true
			idx = append(idx, v)
		}
		if nrows-len(idx) < 2 {
			return nil, fmt.Errorf("%s line %d: %d of %d rows are test rows, leaving fewer than 2 training rows", name, line, len(idx), nrows)
		}
		out = append(out, idx)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no splits (want one line of test-row indices per seed)", name)
	}
	return out, nil
}

// ReadSplits reads a split file (see ParseSplits).
func ReadSplits(path string, nrows int) ([][]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseSplits(f, nrows, path)
}

// RandomSplits returns k seeded random splits of nrows rows with a test
// fraction testFrac (at least one test row and two training rows): split s
// holds the sorted test indices of a Philox permutation of stream s.
func RandomSplits(nrows, k int, testFrac float64, seed uint64) ([][]int, error) {
	if nrows < 3 || k < 1 || !(testFrac > 0 && testFrac < 1) {
		return nil, fmt.Errorf("nori: RandomSplits: %d rows, %d splits, test fraction %v: need >= 3 rows, >= 1 split, a fraction in (0, 1)", nrows, k, testFrac)
	}
	nt := int(math.Round(testFrac * float64(nrows)))
	nt = min(max(nt, 1), nrows-2)
	out := make([][]int, k)
	for s := range out {
		p := tensor.NewRNG(seed, uint64(s)).Perm(nrows)[:nt]
		sort.Ints(p)
		out[s] = p
	}
	return out, nil
}

// SplitTable returns the training rows (those not in test, in order) and
// the test rows (in the order given) of t, as new tables with t's columns.
func SplitTable(t *Table, test []int) (train, testT *Table, err error) {
	in := make([]bool, t.Rows())
	for _, i := range test {
		if i < 0 || i >= t.Rows() {
			return nil, nil, fmt.Errorf("%w: test row %d out of range (%d rows)", ErrBadData, i, t.Rows())
		}
		in[i] = true
	}
	var trainIdx []int
	for i, isTest := range in {
		if !isTest {
			trainIdx = append(trainIdx, i)
		}
	}
	return SelectRows(t, trainIdx), SelectRows(t, test), nil
}

// SelectRows returns a new table holding rows idx of t (valid indices), in
// that order, with t's columns and kinds.
func SelectRows(t *Table, idx []int) *Table {
	out := NewTable()
	for _, name := range t.Names() {
		kind, _ := t.Kind(name)
		if kind == Categorical {
			col, _ := t.Categorical(name)
			sel := make([]string, len(idx))
			for k, i := range idx {
				sel[k] = col[i]
			}
			out.AddCategorical(name, sel)
		} else {
			col, _ := t.Numeric(name)
			sel := make([]float64, len(idx))
			for k, i := range idx {
				sel[k] = col[i]
			}
			out.AddNumeric(name, sel)
		}
	}
	return out
}

// EvalResult is the score of one split of one table.
type EvalResult struct {
	Dataset       string
	Seed          int
	NTrain, NTest int
	R2, RMSE      float64
	// Seconds is the wall-clock time of fit + predict.
	Seconds float64
}

// EvalSplits fits a fresh regressor (from newReg) on the training rows of
// each split of t and scores its mean predictions on the test rows. target
// must be a numeric column (or a categorical one whose cells all parse as
// numbers) without missing cells.
func EvalSplits(dataset string, t *Table, target string, splits [][]int, newReg func(seed int) (*Regressor, error)) ([]EvalResult, error) {
	if _, ok := t.Kind(target); !ok {
		return nil, fmt.Errorf("%s: no target column %q (columns: %q)", dataset, target, t.Names())
	}
	y, err := targetColumn(t, target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dataset, err)
	}
	out := make([]EvalResult, 0, len(splits))
	for s, test := range splits {
		train, testT, err := SplitTable(t, test)
		if err != nil {
			return nil, fmt.Errorf("%s split %d: %w", dataset, s, err)
		}
		reg, err := newReg(s)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if err := reg.FitTable(train, target); err != nil {
			return nil, fmt.Errorf("%s split %d: fit: %w", dataset, s, err)
		}
		pred, err := reg.PredictTable(testT)
		if err != nil {
			return nil, fmt.Errorf("%s split %d: predict: %w", dataset, s, err)
		}
		secs := time.Since(start).Seconds()
		yt := make([]float64, len(test))
		for k, i := range test {
			yt[k] = y[i]
		}
		out = append(out, EvalResult{
			Dataset: dataset, Seed: s, NTrain: train.Rows(), NTest: len(test),
			R2: R2Score(yt, pred), RMSE: RMSE(yt, pred), Seconds: secs,
		})
	}
	return out, nil
}

// Baselines holds other models' mean test R² per dataset, read from a CSV
// with the columns dataset, model, mean_r2 (others ignored), as
// ../shared/datasets/baselines_regression.csv.
type Baselines struct {
	// Models in order of first appearance.
	Models []string
	// R2[dataset][model] is the model's mean R² on the dataset.
	R2 map[string]map[string]float64
}

// ReadBaselines reads a baselines CSV.
func ReadBaselines(path string) (*Baselines, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file (want a header with dataset, model, mean_r2)", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"dataset", "model", "mean_r2"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: no %q column in the header %q", path, need, header)
		}
	}
	b := &Baselines{R2: map[string]map[string]float64{}}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		ds, model := rec[col["dataset"]], rec[col["model"]]
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[col["mean_r2"]]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s line %d: mean_r2 %q is not a finite number", path, line, rec[col["mean_r2"]])
		}
		if ds == "" || model == "" {
			return nil, fmt.Errorf("%s line %d: empty dataset or model name", path, line)
		}
		if b.R2[ds] == nil {
			b.R2[ds] = map[string]float64{}
		}
		if _, dup := b.R2[ds][model]; dup {
			return nil, fmt.Errorf("%s line %d: %s/%s listed twice", path, line, ds, model)
		}
		if !slices.Contains(b.Models, model) {
			b.Models = append(b.Models, model)
		}
		b.R2[ds][model] = v
	}
	if len(b.Models) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return b, nil
}

// TieTolerance is the R² difference under which nori and a baseline tie on
// a dataset: |R²_nori - R²_baseline| < 0.005 (mean R² over the splits).
const TieTolerance = 0.005

// Comparison is nori against one baseline over the datasets both have.
type Comparison struct {
	Model                  string
	Datasets               int
	Wins, Ties, Losses     int     // of nori, per dataset (TieTolerance)
	MeanBaseline, MeanNori float64 // mean R² over those datasets
}

// Compare scores nori's mean R² per dataset against each baseline model.
func Compare(noriR2 map[string]float64, b *Baselines) []Comparison {
	names := make([]string, 0, len(noriR2))
	for ds := range noriR2 {
		names = append(names, ds)
	}
	sort.Strings(names)
	out := make([]Comparison, 0, len(b.Models))
	for _, m := range b.Models {
		c := Comparison{Model: m}
		for _, ds := range names {
			br, ok := b.R2[ds][m]
			if !ok {
				continue
			}
			nr := noriR2[ds]
			c.Datasets++
			c.MeanBaseline += br
			c.MeanNori += nr
			switch d := nr - br; {
			case math.Abs(d) < TieTolerance:
				c.Ties++
			case d > 0:
				c.Wins++
			default:
				c.Losses++
			}
		}
		if c.Datasets > 0 {
			c.MeanBaseline /= float64(c.Datasets)
			c.MeanNori /= float64(c.Datasets)
		}
		out = append(out, c)
	}
	return out
}

// MeanMedian returns the mean and median of xs (NaN for none).
func MeanMedian(xs []float64) (mean, median float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	for _, v := range s {
		mean += v
	}
	mean /= float64(len(s))
	if n := len(s); n%2 == 1 {
		median = s[n/2]
	} else {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return mean, median
}
