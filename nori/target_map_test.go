package nori

import (
	"math"
	"slices"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// skewedTarget returns n log-normal values (a price-like target: positive,
// long right tail) scaled to the thousands.
func skewedTarget(n int, seed uint64) []float64 {
	rng := tensor.NewRNG(seed, 1)
	y := make([]float64, n)
	for i := range y {
		y[i] = 1000 * math.Exp(1.2*rng.NormFloat64())
	}
	return y
}

func sampleSkewness(x []float64) float64 {
	_, _, s := momentStats(x)
	return s
}

// TestTargetMapRoundTrip: inverse(forward(y)) = y on the training values,
// for the plain and the power map, and the power map makes a log-normal
// target nearly symmetric (its network units have mean 0, std 1).
func TestTargetMapRoundTrip(t *testing.T) {
	y := skewedTarget(500, 3)
	for _, power := range []bool{false, true} {
		m := fitTargetMap(y, power)
		if m.power != power {
			t.Fatalf("power=%v: map has power=%v", power, m.power)
		}
		u := make([]float64, len(y))
		for i, v := range y {
			u[i] = m.forward(v)
			if back := m.inverse(u[i]); math.Abs(back-v) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Fatalf("power=%v: inverse(forward(%v)) = %v", power, v, back)
			}
		}
		mean, std, skew := momentStats(u)
		if math.Abs(mean) > 1e-9 || math.Abs(std-1) > 1e-9 {
			t.Errorf("power=%v: network units have mean %v, std %v; want 0, 1", power, mean, std)
		}
		if power && math.Abs(skew) > 0.5 {
			t.Errorf("power map leaves skewness %.3f (raw %.3f); want |skew| < 0.5", skew, sampleSkewness(y))
		}
		if !power && skew < 2 {
			t.Errorf("plain map changed the shape: skewness %.3f, want the raw %.3f", skew, sampleSkewness(y))
		}
	}
}

// TestTargetMapLambda: λ follows the shape: well below 1 for a right-skewed
// target, near 1 for a normal one, above 1 for a left-skewed one.
func TestTargetMapLambda(t *testing.T) {
	right := skewedTarget(800, 5)
	left := make([]float64, len(right))
	for i, v := range right {
		left[i] = -v
	}
	rng := tensor.NewRNG(7, 1)
	normal := make([]float64, 800)
	for i := range normal {
		normal[i] = 50 + 10*rng.NormFloat64()
	}
	if l := fitTargetMap(right, true).lambda; l > 0.5 {
		t.Errorf("right-skewed target: λ = %.3f, want < 0.5", l)
	}
	if l := fitTargetMap(left, true).lambda; l < 1.5 {
		t.Errorf("left-skewed target: λ = %.3f, want > 1.5", l)
	}
	if l := fitTargetMap(normal, true).lambda; math.Abs(l-1) > 0.25 {
		t.Errorf("normal target: λ = %.3f, want within 0.25 of 1", l)
	}
}

// TestTargetMapInverseBounded: network outputs far beyond the training
// targets map back to finite values within the widened training range,
// and the inverse stays monotone.
func TestTargetMapInverseBounded(t *testing.T) {
	y := skewedTarget(300, 9)
	lo, hi := minMax(y)
	w := hi - lo
	for _, ys := range [][]float64{y, negated(y)} {
		m := fitTargetMap(ys, true)
		lo, hi := minMax(ys)
		prev := math.Inf(-1)
		for v := -1000.0; v <= 1000; v += 0.25 {
			b := m.inverse(v)
			if math.IsNaN(b) || math.IsInf(b, 0) {
				t.Fatalf("λ=%.3f: inverse(%v) = %v", m.lambda, v, b)
			}
			if b < lo-w/2-1e-6*w || b > hi+w/2+1e-6*w {
				t.Fatalf("λ=%.3f: inverse(%v) = %v outside [%v, %v]", m.lambda, v, b, lo-w/2, hi+w/2)
			}
			if b < prev {
				t.Fatalf("λ=%.3f: inverse not monotone at %v: %v after %v", m.lambda, v, b, prev)
			}
			prev = b
		}
	}
}

func negated(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = -v
	}
	return out
}

// TestTargetMapConstant: a constant target gets the plain map even when the
// power step is asked for.
func TestTargetMapConstant(t *testing.T) {
	m := fitTargetMap([]float64{4, 4, 4, 4}, true)
	if m.power {
		t.Fatal("constant target got a power map")
	}
	if got := m.inverse(m.forward(4)); got != 4 {
		t.Fatalf("round trip of the constant: %v", got)
	}
}

// marginalModel ignores the features: every query row gets the empirical
// quantiles of the context targets (the sorted targets, linearly
// interpolated), in whatever units the context gives them.
type marginalModel struct{ nq int }

func (m marginalModel) inferTable(x []float32, rows, feats int, y []float32, nctx, chunk int) ([]float32, int, error) {
	s := make([]float64, nctx)
	for i, v := range y {
		s[i] = float64(v)
	}
	slices.Sort(s)
	row := make([]float32, m.nq)
	for i, l := range quantileLevels(m.nq) {
		pos := l * float64(nctx-1)
		lo := int(pos)
		hi := min(lo+1, nctx-1)
		row[i] = float32(s[lo] + (pos-float64(lo))*(s[hi]-s[lo]))
	}
	out := make([]float32, 0, (rows-nctx)*m.nq)
	for range rows - nctx {
		out = append(out, row...)
	}
	return out, m.nq, nil
}

// TestEnsembleMapsTargetsBack: with target power on, member 1 sees the
// Yeo-Johnson-transformed target and member 0 the plain one; a model that
// returns the context's empirical quantiles must give, after each member's
// map back, the training target's own order statistics for both members
// (quantiles commute with monotone maps). This fails if a member's output
// went back through another member's map.
func TestEnsembleMapsTargetsBack(t *testing.T) {
	const n, nq = 401, 49 // level (i+1)/50 falls on order statistic 8(i+1)
	y := skewedTarget(n, 11)
	rng := tensor.NewRNG(12, 1)
	X := make([][]float64, n)
	for i := range X {
		X[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
	}
	tab, err := tableFromMatrix(X, "X")
	if err != nil {
		t.Fatal(err)
	}
	s := defaultSettings()
	s.ensemble, s.targetPower = 2, true
	e := fitEnsemble(tab, tab.Names(), y, &s)
	if e.targets[0].power || !e.targets[1].power {
		t.Fatalf("member maps: power %v, %v; want false, true", e.targets[0].power, e.targets[1].power)
	}
	if l := e.targets[1].lambda; l > 0.6 {
		t.Fatalf("λ = %.3f on a log-normal target; want well below 1", l)
	}
	block, err := e.enc.encode(SelectRows(tab, rowRange(0, 5)), "")
	if err != nil {
		t.Fatal(err)
	}
	sorted := slices.Sorted(slices.Values(y))
	for i := range 2 {
		if len(e.ctxY[i]) != n {
			t.Fatalf("member %d: context of %d rows, want all %d", i, len(e.ctxY[i]), n)
		}
		q, got, err := e.runMember(marginalModel{nq}, i, block)
		if err != nil {
			t.Fatal(err)
		}
		if got != nq {
			t.Fatalf("member %d: %d quantiles", i, got)
		}
		for r := range block.rows {
			for k := range nq {
				want := sorted[8*(k+1)]
				if v := q[r*nq+k]; math.Abs(v-want) > 1e-5*math.Abs(want) {
					t.Fatalf("member %d, row %d, quantile %d: %v, want the order statistic %v", i, r, k, v, want)
				}
			}
		}
	}
}

// TestTargetPowerOption: WithTargetPower(true) gives the odd members the
// power map; WithTargetPower(false), the default, every member the plain
// map.
func TestTargetPowerOption(t *testing.T) {
	y := skewedTarget(100, 13)
	X := make([][]float64, len(y))
	for i := range X {
		X[i] = []float64{float64(i % 7), float64(i % 5)}
	}
	tab, err := tableFromMatrix(X, "X")
	if err != nil {
		t.Fatal(err)
	}
	if defaultSettings().targetPower {
		t.Error("target power is on by default")
	}
	for _, on := range []bool{true, false} {
		s := defaultSettings()
		s.ensemble = 4
		if err := WithTargetPower(on)(&s); err != nil {
			t.Fatal(err)
		}
		e := fitEnsemble(tab, tab.Names(), y, &s)
		for i, m := range e.targets {
			if want := on && i%2 == 1; m.power != want {
				t.Errorf("WithTargetPower(%v): member %d power %v, want %v", on, i, m.power, want)
			}
		}
	}
}
