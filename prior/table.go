package prior

// Table is one synthetic regression dataset, row-major, in float64. Missing
// cells are NaN (only ever placed deliberately by the missingness
// augmentations); the target is never missing.
type Table struct {
	Rows, Features int
	// X holds Rows*Features values, row-major: X[i*Features+j] is feature j of row i.
	X []float64
	// Y holds the Rows target values.
	Y []float64
	// Categorical marks features that hold integer category codes.
	Categorical []bool
	// Info records how the table was made, for the manifest and for tests.
	Info Info
}

// Info describes the generation of a table.
type Info struct {
	Generator string         `json:"generator"`
	Params    map[string]any `json:"params,omitempty"`
	// Augmentations lists the realism augmentations applied, in order.
	Augmentations []string `json:"augmentations,omitempty"`
	// FilterR2 is the out-of-bag R² of the learnability filter (NaN when the
	// filter did not run); Attempts counts the draws until acceptance.
	FilterR2 float64 `json:"filter_r2"`
	Attempts int     `json:"attempts"`
	Seed     uint64  `json:"seed"`
	Index    uint64  `json:"index"`
}

// NewTable returns a zero table of the given shape.
func NewTable(rows, features int) *Table {
	return &Table{
		Rows: rows, Features: features,
		X:           make([]float64, rows*features),
		Y:           make([]float64, rows),
		Categorical: make([]bool, features),
		Info:        Info{Params: map[string]any{}},
	}
}

// At returns feature j of row i.
func (t *Table) At(i, j int) float64 { return t.X[i*t.Features+j] }

// Set sets feature j of row i.
func (t *Table) Set(i, j int, v float64) { t.X[i*t.Features+j] = v }

// Column returns a copy of feature j.
func (t *Table) Column(j int) []float64 {
	c := make([]float64, t.Rows)
	for i := range c {
		c[i] = t.X[i*t.Features+j]
	}
	return c
}
