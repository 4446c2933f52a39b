package nori

import (
	"math"
	"reflect"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// catBase is a one-column base of natural codes (NaN missing, -1 unknown).
func catBase(codes []float64) *matrix {
	m := newMatrix(len(codes), 1)
	for i, c := range codes {
		m.row(i)[0] = c
	}
	return m
}

// TestTargetOrderPerm: codes follow the shrunk mean target; ties keep the
// natural order; missing and unknown cells count only in the overall mean.
func TestTargetOrderPerm(t *testing.T) {
	// Category 0 mean 5, 1 mean -1, 2 mean 2, 3 (no rows) the overall mean.
	codes := []float64{0, 0, 1, 1, 2, 2, math.NaN(), -1}
	y := []float64{4, 6, -2, 0, 1, 3, 100, -100}
	// Overall mean 12/8 = 1.5; shrunk: 0 -> 11.5/3, 1 -> -0.5/3, 2 -> 5.5/3, 3 -> 1.5.
	// Ascending: 1 (-0.17), 3 (1.5), 2 (1.83), 0 (3.83).
	got := targetOrderPerm(catBase(codes), 0, 4, y)
	if want := []int{3, 0, 2, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("perm %v, want %v", got, want)
	}
	// Shrinkage: one row at 9 does not outrank ten rows at 8.5 (overall
	// mean 94/13 = 7.23: (9 + 7.23)/2 = 8.12 against (85 + 7.23)/11 = 8.38).
	codes = []float64{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2}
	y = []float64{9, 8.5, 8.5, 8.5, 8.5, 8.5, 8.5, 8.5, 8.5, 8.5, 8.5, 0, 0}
	if got := targetOrderPerm(catBase(codes), 0, 3, y); !reflect.DeepEqual(got, []int{1, 2, 0}) {
		t.Fatalf("singleton category: perm %v, want [1 2 0]", got)
	}
	// Equal means keep the natural order.
	if got := targetOrderPerm(catBase([]float64{0, 1, 2}), 0, 3, []float64{1, 1, 1}); !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Fatalf("ties: perm %v, want identity", got)
	}
}

// TestTargetOrderPermRowOrder: the codes do not depend on the order of the
// training rows, even where means differ in the last bits.
func TestTargetOrderPermRowOrder(t *testing.T) {
	r := tensor.NewRNG(3, 0)
	const n, ncat = 400, 9
	codes, y := make([]float64, n), make([]float64, n)
	for i := range n {
		codes[i] = float64(r.Intn(ncat))
		y[i] = r.NormFloat64() * 1e3
	}
	want := targetOrderPerm(catBase(codes), 0, ncat, y)
	for trial := range 5 {
		p := r.Perm(n)
		c2, y2 := make([]float64, n), make([]float64, n)
		for i, k := range p {
			c2[i], y2[i] = codes[k], y[k]
		}
		if got := targetOrderPerm(catBase(c2), 0, ncat, y2); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: perm %v, want %v", trial, got, want)
		}
	}
}

// TestMemberTargetCodes: with the targets, member 0 keeps the natural codes
// and every other member, of every family, numbers the categories by their
// mean target; without, they are random permutations.
func TestMemberTargetCodes(t *testing.T) {
	tb, y := mixedTable(300, 4)
	enc, base := fitEncoder(tb, tb.Names())
	info := enc.info()
	// color (base column 3): natural blue, green, red; red adds 3 to y.
	want := targetOrderPerm(base, 3, info.ncat[3], y)
	if want[2] != 2 {
		t.Fatalf("red's code %d, want the highest (perm %v)", want[2], want)
	}
	if m := fitMember(0, familyQuantile, base, info, 7, targetOrderCodes(base, info, y), nil); !reflect.DeepEqual(m.catPerm[3], []int{0, 1, 2}) {
		t.Fatalf("member 0 codes %v, want natural", m.catPerm[3])
	}
	random := 0
	for i, fam := range []memberFamily{familyQuantile, familyAdaptive, familyPlain, familyQuantile, familyAdaptive} {
		m := fitMember(i+1, fam, base, info, 7, targetOrderCodes(base, info, y), nil)
		if !reflect.DeepEqual(m.catPerm[3], want) {
			t.Fatalf("member %d (family %d) codes %v, want %v", i+1, fam, m.catPerm[3], want)
		}
		if !reflect.DeepEqual(fitMember(i+1, fam, base, info, 7, nil, nil).catPerm[3], want) {
			random++
		}
	}
	if random == 0 {
		t.Fatal("without targets every member still has the target order")
	}
}

// TestWithTargetOrderedCodes: the option reaches the fitted members, and a
// table without categorical columns fits the same members either way.
func TestWithTargetOrderedCodes(t *testing.T) {
	tb, y := mixedTable(200, 5)
	for _, on := range []bool{true, false} {
		s := defaultSettings()
		s.ensemble, s.pool = 4, 0
		if err := WithTargetOrderedCodes(on)(&s); err != nil {
			t.Fatal(err)
		}
		e := fitEnsemble(tb, tb.Names(), y, &s)
		enc, base := fitEncoder(tb, tb.Names())
		want := targetOrderPerm(base, 3, enc.info().ncat[3], y)
		ordered := 0
		for _, m := range e.members[1:] {
			if reflect.DeepEqual(m.catPerm[3], want) {
				ordered++
			}
		}
		if on && ordered != len(e.members)-1 || !on && ordered == len(e.members)-1 {
			t.Fatalf("on=%v: %d of members 1-%d have the target order", on, ordered, len(e.members)-1)
		}
	}
	num := NewTable()
	x := make([]float64, 100)
	yy := make([]float64, 100)
	for i := range x {
		x[i] = float64(i)
		yy[i] = math.Sin(float64(i))
	}
	_ = num.AddNumeric("x", x)
	var ctx [2][][]float32
	for k, on := range []bool{true, false} {
		s := defaultSettings()
		s.ensemble, s.pool, s.targetCodes = 4, 0, on
		ctx[k] = fitEnsemble(num, num.Names(), yy, &s).ctxX
	}
	if !reflect.DeepEqual(ctx[0], ctx[1]) {
		t.Fatal("a table without categorical columns fits different members")
	}
}
