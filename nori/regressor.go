package nori

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/nori-ml/nori/tensor"
)

// standardQuantiles is the number of quantiles of the standard head, used
// where no model output fixes the levels (a constant target, zero rows).
const standardQuantiles = 999

// parseNumber parses a number as ReadCSV does (an overflow reads as ±Inf).
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, err
	}
	return v, nil
}

// Regressor predicts a numeric target from a table of features by in-context
// learning: Fit stores the training rows (the context), fits the
// preprocessing and weights the ensemble members by their error on held-out
// folds of those rows (forward passes only: no weights of the network
// change); the Predict methods run the pretrained network on the context
// plus the query rows, once per ensemble member, and reduce the weighted
// average of the predicted quantiles to what was asked for. With more than
// 256 training rows (WithLocalContext), Fit keeps the rows and Predict groups
// the query rows by nearness (in a distance whose feature weights Fit
// learns) and predicts each group from the training rows nearest to it,
// fitting the preprocessing and weights on those rows. Half the ensemble's
// candidate members also read the neighbour feature, the mean target of a
// row's nearest training rows (WithNeighbourFeature).
//
// A Regressor is not safe for concurrent use while Fit runs; once fitted, its
// Predict methods may be called from several goroutines when the underlying
// model's inference is (see Model).
type Regressor struct {
	s   settings
	qm  quantileModel
	fit *fitState
}

// fitState is what Fit stores.
type fitState struct {
	features  []string // feature column names, training order
	target    string   // the table's target column ("" for Fit)
	fromTable bool
	constant  bool    // every training target equal:
	value     float64 // ... predictions are exactly this value
	// ens holds the encoder (always) and, without local contexts, the
	// fitted members and their context.
	ens *ensemble
	// local is set when each query group gets its own context of nearby
	// training rows (local_context.go); ens then holds only the encoder.
	local *localFit
}

// NewRegressor returns a Regressor configured by options. The model comes
// from WithCheckpoint or WithModel; without either it is the pretrained
// checkpoint embedded in the binary (DefaultModel, loaded once and shared).
func NewRegressor(options ...Option) (*Regressor, error) {
	s := defaultSettings()
	for _, o := range options {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrBadOption)
		}
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	if s.load == nil {
		s.source = DefaultCheckpointName
		s.load = func(dev tensor.Device) (quantileModel, error) {
			m, err := DefaultModel()
			if err != nil {
				return nil, err
			}
			return runnerFor(m, dev)
		}
	}
	qm, err := s.load(s.device)
	if err != nil {
		return nil, err
	}
	return &Regressor{s: s, qm: qm}, nil
}

// Fit stores the training rows X (each row one sample, NaN for a missing
// feature value) and their targets y, fits the preprocessing and (see
// WithMemberWeights) weights the ensemble members by their error on
// held-out folds of these rows (which runs the model). It needs
// at least two rows, rows of one length with at least one value, and finite
// targets. Columns entirely missing or constant are dropped. When every
// target is equal, predictions are that value exactly (the network is not
// run: there is nothing to learn and normalising by a zero spread would be
// meaningless).
func (r *Regressor) Fit(X [][]float64, y []float64) error {
	if len(X) == 0 {
		return fmt.Errorf("%w: Fit: no training rows", ErrBadData)
	}
	t, err := tableFromMatrix(X, "Fit: X")
	if err != nil {
		return err
	}
	if err := checkTarget(y, len(X)); err != nil {
		return fmt.Errorf("Fit: %w", err)
	}
	return r.fitTable(t, t.Names(), "", false, y)
}

// FitTable fits on a table: target names the numeric column to predict,
// every other column is a feature. Categorical columns are ordinal-coded
// (categories never seen in training become -1 at prediction, missing cells
// NaN); numeric columns with fewer than 4 distinct values are treated as
// categorical when there are at least 100 rows. The rules of Fit apply.
func (r *Regressor) FitTable(t *Table, target string) error {
	if t == nil {
		return fmt.Errorf("%w: FitTable: nil table", ErrBadData)
	}
	y, err := targetColumn(t, target)
	if err != nil {
		return err
	}
	var features []string
	for _, n := range t.names {
		if n != target {
			features = append(features, n)
		}
	}
	if len(features) == 0 {
		return fmt.Errorf("%w: FitTable: the table has no feature columns besides the target %q", ErrBadData, target)
	}
	return r.fitTable(t, features, target, true, y)
}

// targetColumn extracts and checks the training target.
func targetColumn(t *Table, target string) ([]float64, error) {
	j, ok := t.index[target]
	if !ok {
		return nil, fmt.Errorf("%w: unknown target column %q (columns: %q)", ErrBadData, target, t.names)
	}
	if t.rows == 0 {
		return nil, fmt.Errorf("%w: no training rows", ErrBadData)
	}
	c := &t.cols[j]
	if c.kind == Categorical {
		for i, s := range c.str {
			if s == "" {
				return nil, fmt.Errorf("%w: target column %q is missing in row %d", ErrBadData, target, i+1)
			}
			if _, err := parseNumber(s); err != nil {
				return nil, fmt.Errorf("%w: target column %q is not numeric: row %d holds %q", ErrBadData, target, i+1, s)
			}
		}
	}
	y := make([]float64, t.rows)
	for i := range y {
		if c.kind == Categorical {
			y[i], _ = parseNumber(c.str[i])
		} else {
			y[i] = c.num[i]
		}
		if math.IsNaN(y[i]) {
			return nil, fmt.Errorf("%w: target column %q is missing in row %d", ErrBadData, target, i+1)
		}
		if math.IsInf(y[i], 0) {
			return nil, fmt.Errorf("%w: target column %q is %v in row %d", ErrBadData, target, y[i], i+1)
		}
	}
	return y, nil
}

func (r *Regressor) fitTable(t *Table, features []string, target string, fromTable bool, y []float64) error {
	r.fit = nil
	if t.rows < 2 {
		if t.rows == 0 {
			return fmt.Errorf("%w: no training rows", ErrBadData)
		}
		return fmt.Errorf("%w: only one training row; need at least 2", ErrBadData)
	}
	s := r.s
	if s.weights == weightsOff {
		s.pool = 0 // nothing to choose the members by
	}
	if lo, hi := slices.Min(y), slices.Max(y); lo != hi && s.localRows > 0 && (t.rows > s.localRows || s.neighbour) {
		if st := fitLocal(t, features, target, fromTable, y, &s); st != nil {
			if err := r.fitLocalState(st, t.rows, &s); err != nil {
				return err
			}
			if r.fit != nil {
				return nil
			}
		}
	}
	s.dropFeatures = globalDrop(t, features, y, &s)
	st, err := fitGlobal(r.qm, t, features, target, fromTable, y, &s)
	if err != nil {
		return err
	}
	r.fit = st
	return nil
}

// fitLocalState finishes a local fit of a table of n rows and sets r.fit,
// or leaves r.fit nil when a table no larger than a context got no
// neighbour feature (it then needs no local state: one global context).
func (r *Regressor) fitLocalState(st *fitState, n int, s *settings) error {
	l := st.local
	if n <= s.localRows {
		// No larger than a context: one context of every row, as without
		// local contexts, but with the neighbour feature.
		if l.neighbour == nil {
			return nil
		}
		whole, err := fitGlobal(r.qm, l.table, l.features, l.target, l.fromTable, l.y, &l.sub)
		if err != nil {
			return err
		}
		l.whole = whole
		r.fit = st
		return nil
	}
	if err := l.chooseRows(r.qm); err != nil {
		return err
	}
	if s.weights == weightsAuto && n > localWeightRows {
		if err := l.fitSharedWeights(r.qm); err != nil {
			return err
		}
	}
	r.fit = st
	return nil
}

// fitGlobal fits one context for every query row: all of t's rows
// (subsampled per member to the budget).
func fitGlobal(qm quantileModel, t *Table, features []string, target string, fromTable bool, y []float64, s *settings) (*fitState, error) {
	st := &fitState{features: features, target: target, fromTable: fromTable}
	lo, hi := slices.Min(y), slices.Max(y)
	if lo == hi {
		st.constant, st.value = true, lo
		// The encoder still checks query columns against the training ones.
		st.ens = &ensemble{enc: &encoder{features: features, kinds: kindsOf(t, features), empty: true}}
		return st, nil
	}
	st.ens = fitEnsemble(t, features, y, s)
	if s.weights != weightsOff {
		if err := st.ens.fitWeights(qm, s.seed, s.ensemble); err != nil {
			return nil, err // "nori: scoring ensemble member i: ..."
		}
	}
	return st, nil
}

func kindsOf(t *Table, features []string) map[string]ColumnKind {
	k := make(map[string]ColumnKind, len(features))
	for _, f := range features {
		k[f] = t.cols[t.index[f]].kind
	}
	return k
}

// Summary holds per-row point estimates and requested quantiles, computed
// from one pass of the model.
type Summary struct {
	Mean   []float64 // integral of the quantile function (the default point estimate)
	Median []float64 // quantile 0.5 (also the mode estimate)
	Levels []float64 // the requested levels
	// Quantiles[i][k] is row i's quantile at Levels[k].
	Quantiles [][]float64
}

// Predict returns the predicted mean for each row of X (rows as in Fit, of
// the same width). Zero rows give an empty result.
func (r *Regressor) Predict(X [][]float64) ([]float64, error) {
	s, err := r.Summarize(X, nil)
	if err != nil {
		return nil, err
	}
	return s.Mean, nil
}

// PredictQuantiles returns, for each row of X, the predicted quantiles at
// levels (each strictly between 0 and 1), interpolated linearly between the
// model's quantile levels.
func (r *Regressor) PredictQuantiles(X [][]float64, levels []float64) ([][]float64, error) {
	if err := checkLevels(levels); err != nil {
		return nil, err
	}
	s, err := r.Summarize(X, levels)
	if err != nil {
		return nil, err
	}
	return s.Quantiles, nil
}

// PredictDistribution returns the full predicted distribution of each row
// of X (the model's quantiles averaged over the ensemble). It holds every
// row's quantiles (999 float64 values, 8 KB per row with the standard head);
// for large query sets that need only point estimates and a few levels,
// Summarize streams instead.
func (r *Regressor) PredictDistribution(X [][]float64) (*Distribution, error) {
	q, err := r.queryMatrix(X)
	if err != nil {
		return nil, err
	}
	return r.distribution(q)
}

// Summarize returns the mean, the median and the quantiles at levels (may
// be empty) for each row of X.
func (r *Regressor) Summarize(X [][]float64, levels []float64) (*Summary, error) {
	q, err := r.queryMatrix(X)
	if err != nil {
		return nil, err
	}
	return r.summarize(q, levels)
}

// PredictTable returns the predicted mean for each row of t, which must have
// the training table's feature columns (in any order; the target column may
// be present and is ignored).
func (r *Regressor) PredictTable(t *Table) ([]float64, error) {
	s, err := r.SummarizeTable(t, nil)
	if err != nil {
		return nil, err
	}
	return s.Mean, nil
}

// PredictTableQuantiles is PredictQuantiles for a table.
func (r *Regressor) PredictTableQuantiles(t *Table, levels []float64) ([][]float64, error) {
	if err := checkLevels(levels); err != nil {
		return nil, err
	}
	s, err := r.SummarizeTable(t, levels)
	if err != nil {
		return nil, err
	}
	return s.Quantiles, nil
}

// PredictTableDistribution is PredictDistribution for a table.
func (r *Regressor) PredictTableDistribution(t *Table) (*Distribution, error) {
	q, err := r.queryTable(t)
	if err != nil {
		return nil, err
	}
	return r.distribution(q)
}

// SummarizeTable is Summarize for a table.
func (r *Regressor) SummarizeTable(t *Table, levels []float64) (*Summary, error) {
	q, err := r.queryTable(t)
	if err != nil {
		return nil, err
	}
	return r.summarize(q, levels)
}

// query is a validated, encoded query: the rows in the global encoding and
// the table they came from (a local context encodes them anew).
type query struct {
	m *matrix
	t *Table
}

// queryMatrix validates X and encodes it.
func (r *Regressor) queryMatrix(X [][]float64) (*query, error) {
	if r.fit == nil {
		return nil, ErrNotFitted
	}
	if r.fit.fromTable {
		return nil, fmt.Errorf("%w: the regressor was fitted with FitTable; predict with the Table methods", ErrBadData)
	}
	if len(X) == 0 {
		return &query{m: newMatrix(0, 1)}, nil
	}
	if w, want := len(X[0]), len(r.fit.features); w != want {
		return nil, fmt.Errorf("%w: X has %d columns, the training data had %d", ErrBadData, w, want)
	}
	t, err := tableFromMatrix(X, "X")
	if err != nil {
		return nil, err
	}
	m, err := r.fit.ens.enc.encode(t, "")
	if err != nil {
		return nil, err
	}
	return &query{m: m, t: t}, nil
}

// queryTable validates t's columns against the training table and encodes it.
func (r *Regressor) queryTable(t *Table) (*query, error) {
	if r.fit == nil {
		return nil, ErrNotFitted
	}
	if t == nil {
		return nil, fmt.Errorf("%w: nil table", ErrBadData)
	}
	m, err := r.fit.ens.enc.encode(t, r.fit.target)
	if err != nil {
		return nil, err
	}
	return &query{m: m, t: t}, nil
}

// emitFunc receives the quantiles of query rows rows (len(rows) x nq,
// row-major, sorted per row). Blocks arrive in no particular row order
// (with local contexts, group by group) and cover every row once.
type emitFunc func(rows []int, quant []float64, nq int) error

// run feeds the encoded query rows through the fitted state block by block.
func (r *Regressor) run(q *query, emit emitFunc) error {
	return r.fit.run(r.qm, q, emit)
}

func (st *fitState) run(qm quantileModel, q *query, emit emitFunc) error {
	switch {
	case st.local != nil:
		return st.local.predict(qm, q, emit)
	case st.constant:
		const nq = standardQuantiles
		for lo := 0; lo < q.m.rows; lo += predictBlockRows {
			n := min(predictBlockRows, q.m.rows-lo)
			block := make([]float64, n*nq)
			for i := range block {
				block[i] = st.value
			}
			if err := emit(rowRange(lo, lo+n), block, nq); err != nil {
				return err
			}
		}
		return nil
	}
	return st.ens.predict(qm, q.m, emit)
}

// rowRange returns lo, lo+1, ..., hi-1.
func rowRange(lo, hi int) []int {
	idx := make([]int, hi-lo)
	for k := range idx {
		idx[k] = lo + k
	}
	return idx
}

func (r *Regressor) summarize(q *query, levels []float64) (*Summary, error) {
	if len(levels) > 0 {
		if err := checkLevels(levels); err != nil {
			return nil, err
		}
	}
	n := q.m.rows
	s := &Summary{
		Mean: make([]float64, n), Median: make([]float64, n),
		Levels: append([]float64(nil), levels...), Quantiles: make([][]float64, n),
	}
	err := r.run(q, func(rows []int, quant []float64, nq int) error {
		tau := quantileLevels(nq)
		for k, i := range rows {
			row := quant[k*nq : (k+1)*nq]
			s.Mean[i] = meanOfQuantiles(tau, row)
			s.Median[i] = interpQuantile(tau, row, 0.5)
			qs := make([]float64, len(levels))
			for j, l := range levels {
				qs[j] = interpQuantile(tau, row, l)
			}
			s.Quantiles[i] = qs
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (r *Regressor) distribution(q *query) (*Distribution, error) {
	var all []float64
	nq := standardQuantiles
	err := r.run(q, func(rows []int, quant []float64, n int) error {
		if all == nil {
			nq = n
			all = make([]float64, q.m.rows*nq)
		} else if n != nq {
			return fmt.Errorf("nori: the model returned %d and %d quantiles for different query rows", nq, n)
		}
		for k, i := range rows {
			copy(all[i*nq:(i+1)*nq], quant[k*nq:(k+1)*nq])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newDistribution(quantileLevels(nq), all), nil
}
