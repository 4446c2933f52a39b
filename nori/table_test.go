package nori

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestReadCSVMixedTypes(t *testing.T) {
	src := "\ufeffa, b ,c,d,e\n" +
		"1,x,2.5,NA,1e3\n" +
		"2,\"y, with comma\",,NaN,-Inf\n" +
		"3.5,\"multi\nline\",7,,2\n" +
		"-4,NA,8, null ,\"5\"\n"
	tb, err := ReadCSV(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Rows() != 4 || tb.NumColumns() != 5 {
		t.Fatalf("shape %dx%d", tb.Rows(), tb.NumColumns())
	}
	if got := strings.Join(tb.Names(), "|"); got != "a|b|c|d|e" {
		t.Fatalf("names %q (BOM and spaces must be stripped)", got)
	}
	a, ok := tb.Numeric("a")
	if !ok || a[2] != 3.5 || a[3] != -4 {
		t.Fatalf("a = %v", a)
	}
	b, ok := tb.Categorical("b")
	if !ok || b[0] != "x" || b[1] != "y, with comma" || b[2] != "multi\nline" || b[3] != "" {
		t.Fatalf("b = %q", b)
	}
	c, _ := tb.Numeric("c")
	if !math.IsNaN(c[1]) || c[3] != 8 {
		t.Fatalf("c = %v", c)
	}
	d, ok := tb.Numeric("d") // all missing: numeric, all NaN
	if !ok {
		t.Fatal("an all-missing column must read as numeric")
	}
	for _, v := range d {
		if !math.IsNaN(v) {
			t.Fatalf("d = %v", d)
		}
	}
	e, _ := tb.Numeric("e")
	if e[0] != 1000 || !math.IsInf(e[1], -1) || e[3] != 5 {
		t.Fatalf("e = %v", e)
	}
	if k, _ := tb.Kind("b"); k != Categorical {
		t.Fatalf("b kind %v", k)
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := map[string]string{
		"":                  "empty CSV",
		"a,,c\n1,2,3\n":     "empty name",
		"a,b,a\n1,2,3\n":    "both named \"a\"",
		"a,b\n1,2\n3\n":     "row 2 (line 3) has 1 fields, the header has 2",
		"a,b\n1,2,3\n":      "row 1 (line 2) has 3 fields",
		"a,b\n\"1,2\n":      "reading CSV",
		"a,b\n1,\"x\"y\"\n": "reading CSV",
	}
	for src, want := range cases {
		_, err := ReadCSV(strings.NewReader(src))
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrBadData) {
			t.Errorf("ReadCSV(%q) error %v, want one containing %q", src, err, want)
		}
	}
}

func TestReadCSVHeaderOnly(t *testing.T) {
	tb, err := ReadCSV(strings.NewReader("a,b\n"))
	if err != nil || tb.Rows() != 0 || tb.NumColumns() != 2 {
		t.Fatalf("header-only: %v rows %d", err, tb.Rows())
	}
}

func TestTableBuilders(t *testing.T) {
	tb := NewTable()
	if err := tb.AddNumeric("x", []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := tb.AddCategorical("c", []string{"a", "", "b"}); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		tb.AddNumeric("x", []float64{1, 2, 3}),
		tb.AddNumeric("", []float64{1, 2, 3}),
		tb.AddNumeric("y", []float64{1, 2}),
	} {
		if err == nil || !errors.Is(err, ErrBadData) {
			t.Errorf("bad column accepted: %v", err)
		}
	}
	if _, ok := tb.Numeric("c"); ok {
		t.Error("Numeric of a categorical column")
	}
	src := []float64{5, 6}
	tb2 := NewTable()
	_ = tb2.AddNumeric("v", src)
	src[0] = 99
	if v, _ := tb2.Numeric("v"); v[0] != 5 {
		t.Error("AddNumeric did not copy")
	}
}
