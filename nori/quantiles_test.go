package nori

import (
	"math"
	"sort"
	"testing"
)

func TestQuantileLevelsStandard(t *testing.T) {
	tau := quantileLevels(999)
	if tau[0] != 0.001 || tau[998] != 0.999 || tau[499] != 0.5 {
		t.Fatalf("levels: first %v, middle %v, last %v", tau[0], tau[499], tau[998])
	}
}

func TestMeanOfQuantilesHand(t *testing.T) {
	// tau_0*q_0 + sum 0.5*(q_k+q_k+1)*dtau + (1-tau_K)*q_K
	// = 0.25*1 + 0.5*(1+2)*0.25 + 0.5*(2+4)*0.25 + 0.25*4 = 2.375.
	tau := []float64{0.25, 0.5, 0.75}
	if got := meanOfQuantiles(tau, []float64{1, 2, 4}); math.Abs(got-2.375) > 1e-15 {
		t.Fatalf("mean = %v, want 2.375", got)
	}
	// Uneven levels: 0.1*(-1) + 0.5*(-1+3)*0.6 + 0.3*3 = -0.1 + 0.6 + 0.9 = 1.4.
	if got := meanOfQuantiles([]float64{0.1, 0.7}, []float64{-1, 3}); math.Abs(got-1.4) > 1e-15 {
		t.Fatalf("mean = %v, want 1.4", got)
	}
	// One level: the flat function.
	if got := meanOfQuantiles([]float64{0.5}, []float64{7}); got != 7 {
		t.Fatalf("mean = %v, want 7", got)
	}
}

func TestMeanOfSymmetricQuantilesIsCentre(t *testing.T) {
	tau := quantileLevels(999)
	q := make([]float64, len(tau))
	for i, l := range tau {
		q[i] = 3 + 2*math.Sqrt2*math.Erfinv(2*l-1) // N(3, 2^2)
	}
	if got := meanOfQuantiles(tau, q); math.Abs(got-3) > 1e-9 {
		t.Fatalf("mean of symmetric quantiles = %v, want 3", got)
	}
}

func TestInterpQuantile(t *testing.T) {
	tau := []float64{0.2, 0.4, 0.8}
	q := []float64{10, 20, 60}
	cases := []struct{ level, want float64 }{
		{0.05, 10}, {0.2, 10}, {0.3, 15}, {0.4, 20}, {0.5, 30}, {0.7, 50}, {0.8, 60}, {0.95, 60},
	}
	for _, c := range cases {
		if got := interpQuantile(tau, q, c.level); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("level %v: got %v, want %v", c.level, got, c.want)
		}
	}
}

func TestCheckLevels(t *testing.T) {
	for _, bad := range [][]float64{nil, {0}, {1}, {-0.1}, {0.5, 1.5}, {math.NaN()}} {
		if checkLevels(bad) == nil {
			t.Errorf("levels %v accepted", bad)
		}
	}
	if err := checkLevels([]float64{0.9, 0.1, 0.5, 0.5}); err != nil {
		t.Errorf("valid levels rejected: %v", err)
	}
}

func TestDistributionMethods(t *testing.T) {
	tau := quantileLevels(3) // 0.25, 0.5, 0.75
	d := newDistribution(tau, []float64{1, 2, 4, -3, -3, 5})
	if d.Len() != 2 {
		t.Fatalf("Len = %d", d.Len())
	}
	mean := d.Mean()
	if math.Abs(mean[0]-2.375) > 1e-15 {
		t.Errorf("Mean[0] = %v, want 2.375", mean[0])
	}
	// Row 1: 0.25*-3 + 0.5*(-6)*0.25 + 0.5*2*0.25 + 0.25*5 = -0.75-0.75+0.25+1.25 = 0.
	if math.Abs(mean[1]) > 1e-15 {
		t.Errorf("Mean[1] = %v, want 0", mean[1])
	}
	if med := d.Median(); med[0] != 2 || med[1] != -3 {
		t.Errorf("Median = %v", med)
	}
	if mode := d.Mode(); mode[0] != 2 {
		t.Errorf("Mode = %v", mode)
	}
	q, err := d.Quantile(0.625)
	if err != nil || q[0] != 3 || q[1] != 1 {
		t.Errorf("Quantile(0.625) = %v, %v", q, err)
	}
	if _, err := d.Quantile(1); err == nil {
		t.Error("Quantile(1) accepted")
	}
	r := d.Row(1)
	r[0] = 100 // a copy
	if d.Row(1)[0] != -3 {
		t.Error("Row returned internal storage")
	}
}

func TestSortRowsMakesNonDecreasing(t *testing.T) {
	q := []float64{3, 1, 2, 0, 5, 4, 4, -1}
	sortRows(q, 4)
	for i := 0; i < len(q); i += 4 {
		if !sort.Float64sAreSorted(q[i : i+4]) {
			t.Fatalf("row %d not sorted: %v", i/4, q[i:i+4])
		}
	}
	if q[0] != 0 || q[4] != -1 {
		t.Fatalf("rows mixed: %v", q)
	}
	if finiteOrErr([]float64{1, math.NaN()}, 2) == nil || finiteOrErr([]float64{math.Inf(1)}, 1) == nil {
		t.Fatal("non-finite quantiles not reported")
	}
}
