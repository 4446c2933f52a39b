package nori

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// missingTokens are the cell texts read as missing values (after trimming
// spaces): the empty cell and the spellings pandas reads as NA by default.
var missingTokens = map[string]bool{
	"": true, "NA": true, "N/A": true, "n/a": true, "NaN": true, "nan": true, "-NaN": true, "-nan": true,
	"NULL": true, "null": true, "None": true, "<NA>": true, "#N/A": true, "#NA": true,
}

// ReadCSV reads a table from comma-separated text with a header row.
//
// Every column is typed on its own: numeric when each non-missing cell parses
// as a number (strconv.ParseFloat, so "1e3", "-2.5", "Inf" are numbers),
// categorical otherwise. Missing cells are the empty cell and the tokens NA,
// N/A, n/a, NaN, nan, -NaN, -nan, NULL, null, None, <NA>, #N/A, #NA (spaces
// around cells are ignored); they become NaN in numeric columns and "" in
// categorical ones. Quoted fields follow RFC 4180 (embedded commas, quotes
// and newlines). A UTF-8 byte-order mark before the header is skipped.
//
// Errors name the problem: no header, an empty or duplicate column name, a
// row with a different number of fields than the header (with its line),
// malformed quoting.
func ReadCSV(r io.Reader) (*Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, to say which row and how many
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty CSV (a header row is required)", ErrBadData)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading CSV header: %v", ErrBadData, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	seen := map[string]int{}
	for j, h := range header {
		h = strings.TrimSpace(h)
		header[j] = h
		if h == "" {
			return nil, fmt.Errorf("%w: CSV header: column %d has an empty name", ErrBadData, j+1)
		}
		if k, dup := seen[h]; dup {
			return nil, fmt.Errorf("%w: CSV header: columns %d and %d are both named %q", ErrBadData, k+1, j+1, h)
		}
		seen[h] = j
	}
	cells := make([][]string, len(header)) // column-major
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading CSV: %v", ErrBadData, err)
		}
		if len(rec) != len(header) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("%w: CSV row %d (line %d) has %d fields, the header has %d", ErrBadData, row, line, len(rec), len(header))
		}
		for j, c := range rec {
			cells[j] = append(cells[j], strings.TrimSpace(c))
		}
	}
	t := NewTable()
	for j, name := range header {
		t.add(name, parseColumn(cells[j]))
	}
	if len(header) > 0 {
		t.rows = len(cells[0])
	}
	return t, nil
}

// ReadCSVFile reads a table from a CSV file (see ReadCSV); errors name the
// file.
func ReadCSVFile(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// parseColumn types one column: numeric if every non-missing cell parses.
func parseColumn(cells []string) tableColumn {
	num := make([]float64, len(cells))
	for i, c := range cells {
		if missingTokens[c] {
			num[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(c, 64)
		if err != nil && !isRangeErr(err) {
			str := make([]string, len(cells))
			for k, c := range cells {
				if !missingTokens[c] {
					str[k] = c
				}
			}
			return tableColumn{kind: Categorical, str: str}
		}
		num[i] = v
	}
	return tableColumn{kind: Numeric, num: num}
}

// isRangeErr reports a ParseFloat overflow (the value is ±Inf, still a number).
func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange)
}
