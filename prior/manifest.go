package prior

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
)

// WriteCSV writes t as CSV: a header f0,...,f{F-1},target, then one line per
// row with the shortest decimal form that reads back to the same float64.
// Missing cells (NaN) are empty fields; categorical codes print as integers.
func WriteCSV(w io.Writer, t *Table) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for j := 0; j < t.Features; j++ {
		bw.WriteString("f")
		bw.WriteString(strconv.Itoa(j))
		bw.WriteByte(',')
	}
	bw.WriteString("target\n")
	buf := make([]byte, 0, 32)
	for i := 0; i < t.Rows; i++ {
		for j := 0; j < t.Features; j++ {
			if v := t.X[i*t.Features+j]; !math.IsNaN(v) {
				bw.Write(strconv.AppendFloat(buf[:0], v, 'g', -1, 64))
			}
			bw.WriteByte(',')
		}
		bw.Write(strconv.AppendFloat(buf[:0], t.Y[i], 'g', -1, 64))
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Manifest describes a directory of tables written by `nori prior`.
type Manifest struct {
	Seed   uint64             `json:"seed"`
	Count  int                `json:"count"`
	Shares map[string]float64 `json:"shares"`
	Filter ManifestFilter     `json:"filter"`
	Tables []ManifestEntry    `json:"tables"`
}

// ManifestFilter records the filter settings the tables were drawn with.
type ManifestFilter struct {
	Enabled     bool    `json:"enabled"`
	Threshold   float64 `json:"threshold"`
	MaxAttempts int     `json:"max_attempts"`
	Trees       int     `json:"trees"`
	MaxDepth    int     `json:"max_depth"`
	MaxRows     int     `json:"max_rows"`
}

// ManifestEntry describes one table file.
type ManifestEntry struct {
	File     string `json:"file"`
	Rows     int    `json:"rows"`
	Features int    `json:"features"`
	// Categorical lists the indices of the categorical features.
	Categorical   []int          `json:"categorical,omitempty"`
	Generator     string         `json:"generator"`
	Params        map[string]any `json:"params,omitempty"`
	Augmentations []string       `json:"augmentations,omitempty"`
	// FilterR2 is null when the filter did not run or R² was undefined.
	FilterR2 *float64 `json:"filter_r2"`
	Attempts int      `json:"attempts"`
	Seed     uint64   `json:"seed"`
	Index    uint64   `json:"index"`
}

// NewManifest starts a manifest for tables drawn from cfg with seed.
func NewManifest(seed uint64, cfg Config) *Manifest {
	f := cfg.Filter
	return &Manifest{
		Seed: seed, Shares: cfg.Shares, Tables: []ManifestEntry{},
		Filter: ManifestFilter{Enabled: f.Enabled, Threshold: f.Threshold, MaxAttempts: f.MaxAttempts,
			Trees: f.Forest.Trees, MaxDepth: f.Forest.MaxDepth, MaxRows: f.MaxRows},
	}
}

// Add appends the entry for table t stored in file.
func (m *Manifest) Add(file string, t *Table) {
	e := ManifestEntry{
		File: file, Rows: t.Rows, Features: t.Features,
		Generator: t.Info.Generator, Augmentations: t.Info.Augmentations,
		Attempts: t.Info.Attempts, Seed: t.Info.Seed, Index: t.Info.Index,
	}
	for j, c := range t.Categorical {
		if c {
			e.Categorical = append(e.Categorical, j)
		}
	}
	if r2 := t.Info.FilterR2; !math.IsNaN(r2) && !math.IsInf(r2, 0) {
		e.FilterR2 = &r2
	}
	if len(t.Info.Params) > 0 {
		e.Params = jsonSafe(reflect.ValueOf(t.Info.Params)).(map[string]any)
	}
	m.Tables = append(m.Tables, e)
	m.Count = len(m.Tables)
}

// WriteTo writes the manifest as indented JSON.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, err
	}
	b = append(b, '\n')
	n, err := w.Write(b)
	return int64(n), err
}

// jsonSafe returns a copy of v that encoding/json accepts: non-finite
// floats become the strings "NaN", "+Inf", "-Inf" (JSON has no such
// numbers), maps get string keys, and slices and maps are copied
// recursively. Generators may record any parameter values.
func jsonSafe(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return jsonSafe(v.Elem())
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN"
		case math.IsInf(f, 1):
			return "+Inf"
		case math.IsInf(f, -1):
			return "-Inf"
		}
		return f
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonSafe(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keyString(keys[i]) < keyString(keys[j]) })
		for _, k := range keys {
			out[keyString(k)] = jsonSafe(v.MapIndex(k))
		}
		return out
	case reflect.Struct:
		out := make(map[string]any, v.NumField())
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				out[f.Name] = jsonSafe(v.Field(i))
			}
		}
		return out
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return v.Type().String()
	}
	return v.Interface()
}

func keyString(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	b, err := json.Marshal(jsonSafe(k))
	if err != nil {
		return k.Type().String()
	}
	return string(b)
}
