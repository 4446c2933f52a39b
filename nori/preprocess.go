package nori

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Preprocessing, in two stages, everything fitted on the training rows only
// and then applied row by row (so a query row's features never depend on the
// other query rows):
//
//  1. The encoder (this file) turns a Table into a dense "base" matrix:
//     numeric columns as float64 (±Inf read as missing), categorical columns
//     as natural ordinal codes (categories sorted: numbers by value, then
//     strings; unknown query categories -1, missing NaN). Numeric columns
//     with fewer than 4 distinct training values are categorical when there
//     are at least 100 training rows. Columns entirely missing in the
//     training rows, and constant columns without missing cells, carry no
//     information and are dropped (a table left with none gets one zero
//     column, so the model predicts from the target distribution alone).
//     When more than 256 columns remain, the base is replaced by its top 256
//     SVD components (preprocess_svd.go), shared by all members.
//  2. Each ensemble member (preprocess_member.go) applies its own transforms to the base.

// matrix is a dense row-major float64 matrix; NaN marks missing.
type matrix struct {
	rows, cols int
	data       []float64
}

func newMatrix(rows, cols int) *matrix {
	return &matrix{rows: rows, cols: cols, data: make([]float64, rows*cols)}
}

func (m *matrix) at(i, j int) float64 { return m.data[i*m.cols+j] }
func (m *matrix) row(i int) []float64 { return m.data[i*m.cols : (i+1)*m.cols] }

// nonMissingCol returns the non-missing values of column j.
func (m *matrix) nonMissingCol(j int) []float64 {
	out := make([]float64, 0, m.rows)
	for i := range m.rows {
		if v := m.at(i, j); !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// selectRows returns the rows idx of m.
func (m *matrix) selectRows(idx []int) *matrix {
	out := newMatrix(len(idx), m.cols)
	for k, i := range idx {
		copy(out.row(k), m.row(i))
	}
	return out
}

// Categorical detection for numeric columns (reference rule).
const (
	catMaxUnique = 4   // fewer distinct values than this ...
	catMinRows   = 100 // ... with at least this many training rows
)

// colEncoder encodes one kept feature column.
type colEncoder struct {
	name        string
	trainKind   ColumnKind
	categorical bool
	strCodes    map[string]int  // categories of a Categorical column, by canonical key
	numCodes    map[float64]int // categories of a numeric column treated as categorical
	ncat        int
}

// encoder is the fitted stage 1.
type encoder struct {
	features []string // every training feature column, in training order
	kinds    map[string]ColumnKind
	cols     []colEncoder // the kept ones
	dropped  []string
	svd      *truncSVD // non-nil when the base is reduced to svdMaxFeatures components
	empty    bool      // no informative column: the base is one zero column
}

// baseInfo describes the base matrix's columns to the members.
type baseInfo struct {
	isCat []bool
	ncat  []int
	empty bool
}

func (e *encoder) info() baseInfo {
	if e.svd != nil || e.empty {
		n := 1
		if e.svd != nil {
			n = len(e.svd.comps)
		}
		return baseInfo{isCat: make([]bool, n), ncat: make([]int, n), empty: e.empty}
	}
	b := baseInfo{isCat: make([]bool, len(e.cols)), ncat: make([]int, len(e.cols))}
	for j, c := range e.cols {
		b.isCat[j], b.ncat[j] = c.categorical, c.ncat
	}
	return b
}

// fitEncoder fits stage 1 on the training table's feature columns and
// returns it with the encoded training base.
func fitEncoder(t *Table, features []string) (*encoder, *matrix) {
	e := &encoder{features: features, kinds: map[string]ColumnKind{}}
	n := t.Rows()
	for _, name := range features {
		c := &t.cols[t.index[name]]
		e.kinds[name] = c.kind
		ce, keep := fitColumn(name, c, n)
		if !keep {
			e.dropped = append(e.dropped, name)
			continue
		}
		e.cols = append(e.cols, ce)
	}
	if len(e.cols) == 0 {
		e.empty = true
		return e, newMatrix(n, 1)
	}
	base, _ := e.encodeKept(t) // the training table encodes without error
	if len(e.cols) > svdMaxFeatures {
		e.svd = fitTruncSVD(base, svdMaxFeatures)
		base = e.reduce(base)
	}
	return e, base
}

// fitColumn builds one column's encoder, or reports that it is dropped.
func fitColumn(name string, c *tableColumn, n int) (colEncoder, bool) {
	ce := colEncoder{name: name, trainKind: c.kind}
	if c.kind == Categorical {
		keys := map[string]bool{}
		missing := false
		for _, s := range c.str {
			if s == "" {
				missing = true
			} else {
				keys[categoryKey(s)] = true
			}
		}
		if len(keys) == 0 || (len(keys) == 1 && !missing) {
			return ce, false
		}
		ce.categorical = true
		ce.strCodes = naturalStringCodes(keys)
		ce.ncat = len(keys)
		return ce, true
	}
	distinct := map[float64]bool{}
	missing := false
	for _, v := range c.num {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			missing = true
		} else {
			distinct[v+0] = true
		}
	}
	if len(distinct) == 0 || (len(distinct) == 1 && !missing) {
		return ce, false
	}
	if len(distinct) < catMaxUnique && n >= catMinRows {
		vals := make([]float64, 0, len(distinct))
		for v := range distinct {
			vals = append(vals, v)
		}
		sort.Float64s(vals)
		ce.categorical = true
		ce.numCodes = map[float64]int{}
		for i, v := range vals {
			ce.numCodes[v] = i
		}
		ce.ncat = len(vals)
	}
	return ce, true
}

// categoryKey canonicalises a category label: labels that read as numbers
// compare by value ("1", "1.0" and "01" are one category, and match a
// numeric query column), others by their text.
func categoryKey(s string) string {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return numberKey(v)
	}
	return "s:" + s
}

func numberKey(v float64) string { return "n:" + strconv.FormatFloat(v+0, 'g', -1, 64) }

// naturalStringCodes numbers the keys: numbers by value first, then strings.
func naturalStringCodes(keys map[string]bool) map[string]int {
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	num := func(k string) (float64, bool) {
		if k[0] != 'n' {
			return 0, false
		}
		v, _ := strconv.ParseFloat(k[2:], 64)
		return v, true
	}
	sort.Slice(list, func(a, b int) bool {
		va, na := num(list[a])
		vb, nb := num(list[b])
		switch {
		case na && nb:
			return va < vb
		case na != nb:
			return na
		}
		return list[a] < list[b]
	})
	codes := make(map[string]int, len(list))
	for i, k := range list {
		codes[k] = i
	}
	return codes
}

// encode turns a table with the training feature columns (in any order;
// extra columns are an error, except ignore, the target's name, which is
// skipped) into the base matrix.
func (e *encoder) encode(t *Table, ignore string) (*matrix, error) {
	if err := e.checkColumns(t, ignore); err != nil {
		return nil, err
	}
	if e.empty {
		return newMatrix(t.Rows(), 1), nil
	}
	base, err := e.encodeKept(t)
	if err != nil {
		return nil, err
	}
	if e.svd != nil {
		base = e.reduce(base)
	}
	return base, nil
}

// checkColumns reports missing and unexpected columns by name.
func (e *encoder) checkColumns(t *Table, ignore string) error {
	var missing, extra []string
	for _, name := range e.features {
		if _, ok := t.index[name]; !ok {
			missing = append(missing, name)
		}
	}
	for _, name := range t.names {
		if _, ok := e.kinds[name]; !ok && name != ignore {
			extra = append(extra, name)
		}
	}
	switch {
	case len(missing) > 0 && len(extra) > 0:
		return fmt.Errorf("%w: column mismatch with the training data: missing %q, unexpected %q", ErrBadData, missing, extra)
	case len(missing) > 0:
		return fmt.Errorf("%w: columns of the training data missing: %q", ErrBadData, missing)
	case len(extra) > 0:
		return fmt.Errorf("%w: columns not in the training data: %q", ErrBadData, extra)
	}
	return nil
}

// encodeKept encodes the kept columns (before any SVD reduction).
func (e *encoder) encodeKept(t *Table) (*matrix, error) {
	n := t.Rows()
	m := newMatrix(n, len(e.cols))
	for j, ce := range e.cols {
		c := &t.cols[t.index[ce.name]]
		for i := range n {
			v, err := ce.encodeCell(c, i)
			if err != nil {
				return nil, err
			}
			m.data[i*m.cols+j] = v
		}
	}
	return m, nil
}

// encodeCell encodes cell i of column c (the query table's column of the
// same name, possibly read with another kind than in training).
func (ce *colEncoder) encodeCell(c *tableColumn, i int) (float64, error) {
	var v float64
	if c.kind == Categorical {
		s := c.str[i]
		if s == "" {
			return math.NaN(), nil
		}
		if ce.strCodes != nil {
			if code, ok := ce.strCodes[categoryKey(s)]; ok {
				return float64(code), nil
			}
			return -1, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !isRangeErr(err) {
			return 0, fmt.Errorf("%w: column %q is numeric in the training data but row %d holds %q", ErrBadData, ce.name, i, s)
		}
		v = f
	} else {
		v = c.num[i]
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return math.NaN(), nil
	}
	switch {
	case ce.strCodes != nil:
		if code, ok := ce.strCodes[numberKey(v)]; ok {
			return float64(code), nil
		}
		return -1, nil
	case ce.numCodes != nil:
		if code, ok := ce.numCodes[v+0]; ok {
			return float64(code), nil
		}
		return -1, nil
	}
	return v, nil
}

// reduce projects a kept-column base onto the SVD components.
func (e *encoder) reduce(base *matrix) *matrix {
	out := newMatrix(base.rows, len(e.svd.comps))
	for i := range base.rows {
		e.svd.transform(base.row(i), out.row(i))
	}
	return out
}
