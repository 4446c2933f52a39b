package main

import (
	"flag"
	"io"
	"testing"

	"github.com/nori-ml/nori/nori"
)

// TestMemberWeightsFlag: -member-weights is auto (no option) unless given;
// alone it means true; it takes auto, true and false and nothing else.
func TestMemberWeightsFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		opts int // options it sets: 0 for auto
		err  bool
	}{
		{nil, 0, false},
		{[]string{"-member-weights"}, 1, false},
		{[]string{"-member-weights=false"}, 1, false},
		{[]string{"-member-weights=true"}, 1, false},
		{[]string{"-member-weights=auto"}, 0, false},
		{[]string{"-member-weights=0"}, 1, false},
		{[]string{"-member-weights=maybe"}, 0, true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		weights := addMemberWeightsFlag(fs)
		err := fs.Parse(c.args)
		if (err != nil) != c.err {
			t.Errorf("%v: error %v, want error %v", c.args, err, c.err)
			continue
		}
		if got := len(weights()); err == nil && got != c.opts {
			t.Errorf("%v: %d options, want %d", c.args, got, c.opts)
		}
	}
}

func TestLocalContextFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  bool
	}{
		{nil, false},
		{[]string{"-local-metric=false"}, false},
		{[]string{"-local-context", "0", "-local-metric"}, false},
		{[]string{"-local-metric=sometimes"}, true},
		{[]string{"-local-size-choice"}, false},
		{[]string{"-local-size-choice=maybe"}, true},
		{[]string{"-neighbour-feature=false"}, false},
		{[]string{"-neighbour-feature=perhaps"}, true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		local := addLocalContextFlags(fs)
		err := fs.Parse(c.args)
		if (err != nil) != c.err {
			t.Errorf("%v: error %v, want error %v", c.args, err, c.err)
			continue
		}
		if got := len(local()); err == nil && got != 4 {
			t.Errorf("%v: %d options, want 4", c.args, got)
		}
	}
}

// TestTargetFlags: -target-power and -target-ordered-codes parse as
// booleans and give one option each.
func TestTargetFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  bool
	}{
		{nil, false},
		{[]string{"-target-power=false"}, false},
		{[]string{"-target-power"}, false},
		{[]string{"-target-power=sometimes"}, true},
		{[]string{"-target-ordered-codes=false"}, false},
		{[]string{"-target-ordered-codes=often"}, true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		opts := addTargetFlags(fs)
		err := fs.Parse(c.args)
		if (err != nil) != c.err {
			t.Errorf("%v: error %v, want error %v", c.args, err, c.err)
			continue
		}
		if got := len(opts()); err == nil && got != 2 {
			t.Errorf("%v: %d options, want 2", c.args, got)
		}
	}
}

// TestMemberPoolFlag: -member-pool reaches nori.WithMemberPool, which
// rejects a negative pool; -feature-subsets takes a boolean.
func TestMemberPoolFlag(t *testing.T) {
	for _, c := range []struct {
		args     []string
		parseErr bool
		optErr   bool
	}{
		{nil, false, false},
		{[]string{"-member-pool", "16"}, false, false},
		{[]string{"-member-pool", "-1"}, false, true},
		{[]string{"-member-pool", "many"}, true, false},
		{[]string{"-feature-subsets=false"}, false, false},
		{[]string{"-member-pool", "8", "-feature-subsets"}, false, false},
		{[]string{"-feature-subsets=often"}, true, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		opts := addMemberPoolFlag(fs)
		err := fs.Parse(c.args)
		if (err != nil) != c.parseErr {
			t.Errorf("%v: parse error %v, want error %v", c.args, err, c.parseErr)
			continue
		}
		if err != nil {
			continue
		}
		_, err = nori.NewRegressor(opts()...)
		if (err != nil) != c.optErr {
			t.Errorf("%v: NewRegressor error %v, want error %v", c.args, err, c.optErr)
		}
	}
}
