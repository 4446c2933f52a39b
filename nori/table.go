package nori

import (
	"fmt"
	"math"
)

// ColumnKind says how a Table column's cells are stored.
type ColumnKind uint8

const (
	// Numeric columns hold float64 values; NaN marks a missing cell.
	Numeric ColumnKind = iota
	// Categorical columns hold strings; the empty string marks a missing
	// cell. The Regressor ordinal-codes them (see FitTable).
	Categorical
)

func (k ColumnKind) String() string {
	if k == Categorical {
		return "categorical"
	}
	return "numeric"
}

// Table is a data set with named columns of mixed kinds and missing cells,
// the input of FitTable and PredictTable. Build one with NewTable and the
// Add methods, or read one with ReadCSV. Columns are kept in insertion order.
type Table struct {
	names []string
	cols  []tableColumn
	index map[string]int
	rows  int
}

type tableColumn struct {
	kind ColumnKind
	num  []float64 // Numeric
	str  []string  // Categorical; "" is missing
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{index: map[string]int{}} }

// Rows returns the number of rows (0 for a table without columns).
func (t *Table) Rows() int { return t.rows }

// NumColumns returns the number of columns.
func (t *Table) NumColumns() int { return len(t.cols) }

// Names returns a copy of the column names in order.
func (t *Table) Names() []string { return append([]string(nil), t.names...) }

// Kind returns the kind of the named column and whether it exists.
func (t *Table) Kind(name string) (ColumnKind, bool) {
	j, ok := t.index[name]
	if !ok {
		return 0, false
	}
	return t.cols[j].kind, true
}

// Numeric returns a copy of the named numeric column (NaN = missing) and
// whether such a column exists.
func (t *Table) Numeric(name string) ([]float64, bool) {
	j, ok := t.index[name]
	if !ok || t.cols[j].kind != Numeric {
		return nil, false
	}
	return append([]float64(nil), t.cols[j].num...), true
}

// Categorical returns a copy of the named categorical column ("" = missing)
// and whether such a column exists.
func (t *Table) Categorical(name string) ([]string, bool) {
	j, ok := t.index[name]
	if !ok || t.cols[j].kind != Categorical {
		return nil, false
	}
	return append([]string(nil), t.cols[j].str...), true
}

// AddNumeric appends a numeric column (copied; NaN marks missing cells).
// Its length must match the columns already present and its name must be
// new and non-empty.
func (t *Table) AddNumeric(name string, values []float64) error {
	if err := t.checkNew(name, len(values)); err != nil {
		return err
	}
	t.add(name, tableColumn{kind: Numeric, num: append([]float64(nil), values...)})
	return nil
}

// AddCategorical appends a categorical column (copied; "" marks missing
// cells), with the same rules as AddNumeric.
func (t *Table) AddCategorical(name string, values []string) error {
	if err := t.checkNew(name, len(values)); err != nil {
		return err
	}
	t.add(name, tableColumn{kind: Categorical, str: append([]string(nil), values...)})
	return nil
}

func (t *Table) checkNew(name string, n int) error {
	if t.index == nil {
		t.index = map[string]int{}
	}
	if name == "" {
		return fmt.Errorf("%w: empty column name", ErrBadData)
	}
	if _, dup := t.index[name]; dup {
		return fmt.Errorf("%w: duplicate column name %q", ErrBadData, name)
	}
	if len(t.cols) > 0 && n != t.rows {
		return fmt.Errorf("%w: column %q has %d rows, the table has %d", ErrBadData, name, n, t.rows)
	}
	return nil
}

func (t *Table) add(name string, c tableColumn) {
	if len(t.cols) == 0 {
		t.rows = max(len(c.num), len(c.str))
	}
	t.index[name] = len(t.cols)
	t.names = append(t.names, name)
	t.cols = append(t.cols, c)
}

// tableFromMatrix turns a dense matrix (rows of equal length, NaN = missing)
// into a table of numeric columns named x0, x1, ...
func tableFromMatrix(X [][]float64, what string) (*Table, error) {
	if len(X) == 0 {
		return nil, fmt.Errorf("%w: %s has no rows", ErrBadData, what)
	}
	f := len(X[0])
	if f == 0 {
		return nil, fmt.Errorf("%w: %s rows have no feature values", ErrBadData, what)
	}
	cols := make([][]float64, f)
	for j := range cols {
		cols[j] = make([]float64, len(X))
	}
	for i, r := range X {
		if len(r) != f {
			return nil, fmt.Errorf("%w: %s is ragged: row %d has %d values, row 0 has %d", ErrBadData, what, i, len(r), f)
		}
		for j, v := range r {
			cols[j][i] = v
		}
	}
	t := NewTable()
	for j, c := range cols {
		t.add(fmt.Sprintf("x%d", j), tableColumn{kind: Numeric, num: c})
	}
	return t, nil
}

// checkTarget checks a target vector: finite, with the expected length.
func checkTarget(y []float64, rows int) error {
	if len(y) != rows {
		return fmt.Errorf("%w: %d target values for %d rows", ErrBadData, len(y), rows)
	}
	for i, v := range y {
		if math.IsNaN(v) {
			return fmt.Errorf("%w: target value %d is NaN (missing targets are not allowed)", ErrBadData, i)
		}
		if math.IsInf(v, 0) {
			return fmt.Errorf("%w: target value %d is %v", ErrBadData, i, v)
		}
	}
	return nil
}
