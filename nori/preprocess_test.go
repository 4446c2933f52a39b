package nori

import (
	"math"
	"reflect"
	"sort"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

func normals(seed uint64, n int) []float64 {
	r := tensor.NewRNG(seed, 0)
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

func TestQuantileTransformMonotoneAndUniformOnTrain(t *testing.T) {
	train := normals(1, 1000)
	for i := range train {
		train[i] = math.Exp(train[i]) // skewed: the transform must not care
	}
	qt := fitQuantile(train, nQuantiles(len(train)), false)
	if len(qt.quantiles) != 200 {
		t.Fatalf("n_quantiles = %d, want 1000/5 = 200", len(qt.quantiles))
	}
	// Uniform on the training values: the empirical CDF of the outputs is
	// within a small Kolmogorov-Smirnov distance of U[0,1].
	out := make([]float64, len(train))
	for i, v := range train {
		out[i] = qt.apply(v)
	}
	sort.Float64s(out)
	ks := 0.0
	for i, u := range out {
		ks = max(ks, math.Abs(u-float64(i)/float64(len(out))), math.Abs(u-float64(i+1)/float64(len(out))))
	}
	if ks > 0.01 {
		t.Fatalf("KS distance to uniform %v > 0.01", ks)
	}
	// Monotone (non-decreasing) on a fine grid well beyond the training range,
	// 0 below it and 1 above.
	prev := -1.0
	for x := -1.0; x < 60; x += 0.01 {
		u := qt.apply(x)
		if u < prev || u < 0 || u > 1 {
			t.Fatalf("u(%v) = %v after %v", x, u, prev)
		}
		prev = u
	}
	if qt.apply(-5) != 0 || qt.apply(1e9) != 1 || !math.IsNaN(qt.apply(math.NaN())) {
		t.Fatal("out-of-range or missing values mishandled")
	}
	// The normal output is the standard normal quantile of the uniform one.
	qn := fitQuantile(train, nQuantiles(len(train)), true)
	x := train[17]
	if got, want := qn.apply(x), math.Sqrt2*math.Erfinv(2*qt.apply(x)-1); math.Abs(got-want) > 1e-12 {
		t.Fatalf("normal output %v, want %v", got, want)
	}
	if v := qn.apply(1e9); math.IsInf(v, 0) || v < 5 {
		t.Fatalf("normal output at the top clipped to %v", v)
	}
}

func TestQuantileTransformTies(t *testing.T) {
	// Half zeros: the tied percentiles map to the middle of their levels, not
	// to one end.
	vals := make([]float64, 100)
	for i := 50; i < 100; i++ {
		vals[i] = float64(i)
	}
	qt := fitQuantile(vals, 11, false)
	if u := qt.apply(0); math.Abs(u-0.25) > 0.06 {
		t.Fatalf("u(0) = %v, want about 0.25", u)
	}
	// Exact: sorted distinct values with n_quantiles = n give rank/(n-1).
	q := fitQuantile([]float64{4, 1, 3, 2, 5}, 5, false)
	for i, x := range []float64{1, 2, 3, 4, 5, 2.5} {
		want := []float64{0, 0.25, 0.5, 0.75, 1, 0.375}[i]
		if got := q.apply(x); math.Abs(got-want) > 1e-15 {
			t.Errorf("u(%v) = %v, want %v", x, got, want)
		}
	}
}

func TestPowerTransformsInvertible(t *testing.T) {
	for _, l := range []float64{-2, -0.5, 0, 0.3, 1, 2, 2.7} {
		for _, x := range []float64{-7.5, -1, -0.2, 0, 0.1, 1, 3, 40} {
			y := yeoJohnson(x, l)
			if back := yeoJohnsonInverse(y, l); math.Abs(back-x) > 1e-9*max(1, math.Abs(x)) {
				t.Errorf("Yeo-Johnson lambda %v: x %v -> %v -> %v", l, x, y, back)
			}
			if x > 0 {
				y := boxCox(x, l)
				if back := boxCoxInverse(y, l); math.Abs(back-x) > 1e-9*max(1, x) {
					t.Errorf("Box-Cox lambda %v: x %v -> %v -> %v", l, x, y, back)
				}
			}
		}
	}
	// Known values: lambda 1 is the identity for Yeo-Johnson (x >= 0) and
	// x - 1 for Box-Cox; lambda 0 is log1p / log.
	if yeoJohnson(2.5, 1) != 2.5 || boxCox(2.5, 1) != 1.5 || yeoJohnson(2, 0) != math.Log1p(2) || boxCox(2, 0) != math.Log(2) {
		t.Error("power transforms disagree with their definitions")
	}
}

func TestAdaptiveTransformChoice(t *testing.T) {
	n := 1500
	z := normals(3, n)
	col := func(f func(float64, int) float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = f(z[i], i)
		}
		return v
	}
	cases := []struct {
		name string
		vals []float64
		want []adaptiveKind
	}{
		{"few unique", col(func(x float64, i int) float64 { return float64(i % 7) }), []adaptiveKind{adaptIdentity}},
		{"very skewed non-negative", col(func(x float64, _ int) float64 { return math.Exp(2.5 * x) }), []adaptiveKind{adaptLog1p}},
		{"skewed positive", col(func(x float64, _ int) float64 { return math.Exp(0.7*x) + 0.5 }), []adaptiveKind{adaptBoxCox}},
		{"skewed with negatives", col(func(x float64, _ int) float64 { return math.Exp(0.7*x) - 1.2 }), []adaptiveKind{adaptYeoJohnson}},
		{"left skewed", col(func(x float64, _ int) float64 { return -math.Exp(0.8 * x) }), []adaptiveKind{adaptExp, adaptYeoJohnson}},
		{"symmetric", z, []adaptiveKind{adaptQuantileNormal}},
	}
	for _, c := range cases {
		tr := fitAdaptive(c.vals)
		if !contains(c.want, tr.kind) {
			t.Errorf("%s: chose %v, want one of %v", c.name, tr.kind, c.want)
			continue
		}
		_, _, before := momentStats(c.vals)
		after := transformedSkew(tr, c.vals)
		if tr.kind != adaptIdentity && math.Abs(after) > math.Abs(before)+1e-9 && math.Abs(after) > 0.5 {
			t.Errorf("%s (%v): skewness %v -> %v", c.name, tr.kind, before, after)
		}
		// Monotone non-decreasing on the training values' range.
		s := sortedCopy(c.vals)
		prev := math.Inf(-1)
		for _, v := range s {
			y := tr.apply(v)
			if math.IsNaN(y) || y < prev-1e-12 {
				t.Fatalf("%s (%v): not monotone at %v: %v after %v", c.name, tr.kind, v, y, prev)
			}
			prev = y
		}
		if !math.IsNaN(tr.apply(math.NaN())) {
			t.Errorf("%s: missing value not kept missing", c.name)
		}
		// Query values outside the training range stay finite.
		for _, v := range []float64{-1e6, -1, 0, 1e6} {
			if y := tr.apply(v); math.IsNaN(y) || math.IsInf(y, 0) {
				t.Errorf("%s (%v): apply(%v) = %v", c.name, tr.kind, v, y)
			}
		}
	}
}

// sameBits32 compares float32 slices bit for bit (NaN equals NaN).
func sameBits32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestTruncSVDReconstructsLowRank(t *testing.T) {
	for _, shape := range [][2]int{{60, 9}, {7, 12}} { // rows >= features and rows < features
		n, f := shape[0], shape[1]
		a, b := normals(5, n*3), normals(6, 3*f)
		x := newMatrix(n, f)
		for i := range n {
			for j := range f {
				var s float64
				for k := range 3 {
					s += a[i*3+k] * b[k*f+j]
				}
				x.data[i*f+j] = s + float64(j) // rank 3 after centring
			}
		}
		s := fitTruncSVD(x, 3)
		scores := make([]float64, 3)
		back := make([]float64, f)
		for i := range n {
			s.transform(x.row(i), scores)
			s.inverse(scores, back)
			for j := range f {
				if math.Abs(back[j]-x.at(i, j)) > 1e-8*(1+math.Abs(x.at(i, j))) {
					t.Fatalf("%dx%d: row %d col %d: %v reconstructed as %v", n, f, i, j, x.at(i, j), back[j])
				}
			}
		}
		// Components are orthonormal.
		for p := range 3 {
			for q := range 3 {
				var d float64
				for j := range f {
					d += s.comps[p][j] * s.comps[q][j]
				}
				want := 0.0
				if p == q {
					want = 1
				}
				if math.Abs(d-want) > 1e-9 {
					t.Fatalf("%dx%d: <v%d, v%d> = %v", n, f, p, q, d)
				}
			}
		}
	}
}

func TestDecodePairCoversAllPairs(t *testing.T) {
	for _, m := range []int{2, 3, 7} {
		seen := map[[2]int]bool{}
		for k := range m * (m - 1) / 2 {
			a, b := decodePair(k, m)
			if a < 0 || a >= b || b >= m || seen[[2]int{a, b}] {
				t.Fatalf("m=%d: pair %d -> (%d, %d)", m, k, a, b)
			}
			seen[[2]int{a, b}] = true
		}
	}
}

func TestFingerprints(t *testing.T) {
	base := newMatrix(4, 2)
	copy(base.data, []float64{1, 2, 3, math.NaN(), 1, 2, 5, 6})
	fp := fingerprintTrain(base, 9)
	if fp[0] == fp[2] {
		t.Fatal("duplicate training rows share a fingerprint")
	}
	if got := fingerprint([]float64{1, 2}, 9, 0); got != fp[0] {
		t.Fatalf("a query row equal to training row 0 gets %v, want %v", got, fp[0])
	}
	if fingerprint([]float64{3, math.NaN()}, 9, 0) != fp[1] {
		t.Fatal("NaN rows hash inconsistently")
	}
	if fingerprint([]float64{1, 2}, 10, 0) == fp[0] {
		t.Fatal("the salt does not change the fingerprint")
	}
	for _, v := range fp {
		if v < 0 || v >= 1 {
			t.Fatalf("fingerprint %v outside [0, 1)", v)
		}
	}
}

// mixedTable is a training table with numeric, categorical, low-cardinality,
// constant and all-missing columns.
func mixedTable(n int, seed uint64) (*Table, []float64) {
	r := tensor.NewRNG(seed, 0)
	x1, x2, lowc, constant, empty, y := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	cat := make([]string, n)
	for i := range n {
		x1[i] = r.NormFloat64()
		x2[i] = math.Exp(r.NormFloat64())
		lowc[i] = float64(r.Intn(3))
		constant[i] = 4
		empty[i] = math.NaN()
		cat[i] = []string{"red", "green", "blue", ""}[r.Intn(4)]
		y[i] = 2*x1[i] + math.Log(x2[i]) + lowc[i] + 0.1*r.NormFloat64()
		if cat[i] == "red" {
			y[i] += 3
		}
		if i%11 == 0 {
			x1[i] = math.NaN()
		}
	}
	t := NewTable()
	_ = t.AddNumeric("x1", x1)
	_ = t.AddNumeric("x2", x2)
	_ = t.AddNumeric("low", lowc)
	_ = t.AddNumeric("const", constant)
	_ = t.AddNumeric("empty", empty)
	_ = t.AddCategorical("color", cat)
	return t, y
}

func TestEncoderColumnsAndCategories(t *testing.T) {
	tb, _ := mixedTable(120, 1)
	features := tb.Names()
	enc, base := fitEncoder(tb, features)
	if !reflect.DeepEqual(enc.dropped, []string{"const", "empty"}) {
		t.Fatalf("dropped %v, want const and empty", enc.dropped)
	}
	info := enc.info()
	if !reflect.DeepEqual(info.isCat, []bool{false, false, true, true}) || info.ncat[2] != 3 || info.ncat[3] != 3 {
		t.Fatalf("categorical flags %v counts %v", info.isCat, info.ncat)
	}
	if base.cols != 4 || base.rows != 120 {
		t.Fatalf("base %dx%d", base.rows, base.cols)
	}
	// Natural codes: blue < green < red; unknown -1; missing NaN. Numeric
	// text in a query's categorical column is parsed; 2 is code 2 of "low".
	q := NewTable()
	_ = q.AddNumeric("x1", []float64{0, 0, 0})
	_ = q.AddNumeric("x2", []float64{1, math.Inf(1), 1})
	_ = q.AddCategorical("low", []string{"2", "7", ""})
	_ = q.AddNumeric("const", []float64{0, 0, 0})
	_ = q.AddNumeric("empty", []float64{0, 0, 0})
	_ = q.AddCategorical("color", []string{"red", "purple", ""})
	qb, err := enc.encode(q, "")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{0, 1, 2, 2}, {0, math.NaN(), -1, -1}, {0, 1, math.NaN(), math.NaN()}}
	for i, w := range want {
		for j, v := range w {
			g := qb.at(i, j)
			if g != v && !(math.IsNaN(g) && math.IsNaN(v)) {
				t.Fatalf("query row %d col %d = %v, want %v", i, j, g, v)
			}
		}
	}
	// A small table keeps a 3-valued numeric column numeric.
	small, _ := mixedTable(50, 1)
	enc2, _ := fitEncoder(small, small.Names())
	if enc2.info().isCat[2] {
		t.Fatal("3-valued column with 50 rows treated as categorical")
	}
	// A query with a non-numeric value in a numeric column is an error.
	bad := NewTable()
	_ = bad.AddCategorical("x1", []string{"abc"})
	for _, n := range []string{"x2", "low", "const", "empty", "color"} {
		_ = bad.AddNumeric(n, []float64{1})
	}
	if _, err := enc.encode(bad, ""); err == nil {
		t.Fatal("text in a numeric column accepted")
	}
}

func TestMemberTransformsFitOnTrainOnly(t *testing.T) {
	tb, _ := mixedTable(150, 2)
	enc, base := fitEncoder(tb, tb.Names())
	info := enc.info()
	for _, fam := range []memberFamily{familyQuantile, familyAdaptive} {
		m := fitMember(3, fam, base, info, 7, nil, nil)
		again := fitMember(3, fam, base, info, 7, nil, nil)
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("family %d: fitting twice differs", fam)
		}
		// Transforming query rows leaves the fitted member unchanged, and a
		// query row's features do not depend on the other query rows.
		q1, _ := mixedTable(20, 3)
		q2, _ := mixedTable(20, 4)
		b1, _ := enc.encode(q1, "")
		b2, _ := enc.encode(q2, "")
		copy(b2.row(5), b1.row(5))
		out1, out2 := m.transform(b1, nil), m.transform(b2, nil)
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("family %d: transforming queries changed the fitted member", fam)
		}
		w := m.width
		if !sameBits32(out1[5*w:6*w], out2[5*w:6*w]) {
			t.Fatalf("family %d: a query row's features depend on the other query rows:\n%v\n%v\n%v\n%v", fam, out1[5*w:6*w], out2[5*w:6*w], b1.row(5), b2.row(5))
		}
		// Row 5 of out1 differs from row 4 (the transform is not constant).
		if sameBits32(out1[4*w:5*w], out1[5*w:6*w]) {
			t.Fatalf("family %d: two different rows transform alike", fam)
		}
	}
}

func TestMemberLayoutAndCodes(t *testing.T) {
	tb, _ := mixedTable(150, 2)
	enc, base := fitEncoder(tb, tb.Names())
	info := enc.info()
	// Quantile family: 4 base + 2 quantile + SVD min(2/2, 16)=1 + 1 pair + fingerprint.
	mq := fitMember(1, familyQuantile, base, info, 7, nil, nil)
	if mq.width != 4+2+1+1+1 {
		t.Fatalf("quantile member width %d, want 9", mq.width)
	}
	// Adaptive family: 4 base + 1 pair + fingerprint.
	ma := fitMember(5, familyAdaptive, base, info, 7, nil, nil)
	if ma.width != 4+1+1 {
		t.Fatalf("adaptive member width %d, want 6", ma.width)
	}
	// Member 0 keeps natural codes; the permutation of others is a bijection.
	m0 := fitMember(0, familyQuantile, base, info, 7, nil, nil)
	if !reflect.DeepEqual(m0.catPerm[3], []int{0, 1, 2}) {
		t.Fatalf("member 0 codes %v", m0.catPerm[3])
	}
	p := append([]int(nil), mq.catPerm[3]...)
	sort.Ints(p)
	if !reflect.DeepEqual(p, []int{0, 1, 2}) {
		t.Fatalf("member codes %v are not a permutation", mq.catPerm[3])
	}
	// Column order is a permutation and differs between members.
	if reflect.DeepEqual(mq.order, fitMember(2, familyQuantile, base, info, 7, nil, nil).order) &&
		reflect.DeepEqual(mq.order, fitMember(3, familyQuantile, base, info, 7, nil, nil).order) {
		t.Fatal("members share one column order")
	}
	// Family memberships: first ceil(n/2) members are quantile-family.
	fams := []memberFamily{}
	for i := range 8 {
		fams = append(fams, memberFamilyOf(i, 8))
	}
	if !reflect.DeepEqual(fams, []memberFamily{0, 0, 0, 0, 1, 1, 1, 1}) || memberFamilyOf(0, 1) != familyQuantile {
		t.Fatalf("families %v", fams)
	}
}

// TestPlainMember: the plain family passes the encoded base columns alone,
// permuted by the member's column order, categorical codes through the
// member's permutation, missing cells as NaN, with no added columns.
func TestPlainMember(t *testing.T) {
	tb, _ := mixedTable(150, 2)
	enc, base := fitEncoder(tb, tb.Names())
	info := enc.info()
	for _, idx := range []int{0, 3} {
		m := fitMember(idx, familyPlain, base, info, 7, nil, nil)
		if m.width != base.cols {
			t.Fatalf("plain member %d width %d, want the base's %d", idx, m.width, base.cols)
		}
		rows := []int{0, 5, 149}
		out := m.transform(base, rows)
		for r, i := range rows {
			for k, src := range m.order {
				want := base.at(i, src)
				if p, ok := m.catPerm[src]; ok && want >= 0 {
					want = float64(p[int(want)])
				}
				got := float64(out[r*m.width+k])
				if !(got == float64(float32(want)) || math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("member %d row %d column %d (base column %d): %v, want %v", idx, i, k, src, got, want)
				}
			}
		}
	}
}

func TestWideTableReducedBySVD(t *testing.T) {
	n, f := 40, 300
	tb := NewTable()
	z := normals(11, n*f)
	for j := range f {
		col := make([]float64, n)
		for i := range col {
			col[i] = z[i*f+j]
		}
		_ = tb.AddNumeric("c"+string(rune('a'+j%26))+string(rune('a'+j/26)), col)
	}
	enc, base := fitEncoder(tb, tb.Names())
	if enc.svd == nil || base.cols != n || len(enc.info().isCat) != n {
		t.Fatalf("wide table: svd %v, base width %d (want %d: rank-limited)", enc.svd != nil, base.cols, n)
	}
	qb, err := enc.encode(tb, "")
	if err != nil || !reflect.DeepEqual(qb.data, base.data) {
		t.Fatalf("re-encoding the training table differs: %v", err)
	}
}

func TestBudgetSubsampling(t *testing.T) {
	if got := contextRows(1000, 10, 5000); got != 500 {
		t.Fatalf("contextRows = %d, want 500", got)
	}
	if got := contextRows(1000, 10, 20); got != minContextRows {
		t.Fatalf("contextRows at a tiny budget = %d, want %d", got, minContextRows)
	}
	if got := contextRows(100, 10, 1e6); got != 100 {
		t.Fatalf("contextRows under budget = %d", got)
	}
	a := subsampleContext(1000, 300, memberRNG(5, 2, streamContext))
	b := subsampleContext(1000, 300, memberRNG(5, 2, streamContext))
	c := subsampleContext(1000, 300, memberRNG(6, 2, streamContext))
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Fatal("subsample not a function of the seed")
	}
	if len(a) != 300 || !sort.IntsAreSorted(a) {
		t.Fatalf("subsample of %d rows, sorted %v", len(a), sort.IntsAreSorted(a))
	}
	for i := 1; i < len(a); i++ {
		if a[i] == a[i-1] {
			t.Fatal("subsample repeats a row")
		}
	}
	if subsampleContext(10, 10, memberRNG(5, 2, streamContext)) != nil {
		t.Fatal("full context subsampled")
	}
	if queryChunkRows(0, 10, 5000) != 500 || queryChunkRows(0, 1, 1e9) != maxQueryChunk || queryChunkRows(7, 10, 5000) != 7 {
		t.Fatal("query chunk rule")
	}
}
