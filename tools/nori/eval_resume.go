package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"

	"github.com/nori-ml/nori/nori"
)

// readEvalCSV reads a results file written by writeEvalCSV. A missing file
// is no results, not an error (a -resume before any table finished).
func readEvalCSV(path string) ([]nori.EvalResult, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	want := []string{"dataset", "seed", "n_train", "n_test", "r2", "rmse", "seconds"}
	if len(rows) == 0 || !slices.Equal(rows[0], want) {
		return nil, fmt.Errorf("%s: not a results file of nori eval (want the header %v)", path, want)
	}
	var res []nori.EvalResult
	for i, r := range rows[1:] {
		var e nori.EvalResult
		var errs [6]error
		e.Dataset = r[0]
		e.Seed, errs[0] = strconv.Atoi(r[1])
		e.NTrain, errs[1] = strconv.Atoi(r[2])
		e.NTest, errs[2] = strconv.Atoi(r[3])
		e.R2, errs[3] = strconv.ParseFloat(r[4], 64)
		e.RMSE, errs[4] = strconv.ParseFloat(r[5], 64)
		e.Seconds, errs[5] = strconv.ParseFloat(r[6], 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, i+2, err)
		}
		res = append(res, e)
	}
	return res, nil
}

// doneTable returns the results of table name in prev when they cover
// exactly the given splits (seeds 0..len-1, each split's row counts), else
// nil: a table cut off mid-way is evaluated again.
func doneTable(prev []nori.EvalResult, name string, splits [][]int, rows int) []nori.EvalResult {
	var got []nori.EvalResult
	for _, r := range prev {
		if r.Dataset == name {
			got = append(got, r)
		}
	}
	if len(got) != len(splits) {
		return nil
	}
	for i, r := range got {
		if r.Seed != i || r.NTest != len(splits[i]) || r.NTrain != rows-len(splits[i]) {
			return nil
		}
	}
	return got
}
