package nori

import (
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/nori-ml/nori/tensor"
)

// TestSubsetMemberIsTheNarrowTable: a member fitted with a subset of the
// base columns is the member of the same index fitted on a base of those
// columns alone (same draws, same transforms, same order), but for the
// fingerprint, which still hashes the whole row.
func TestSubsetMemberIsTheNarrowTable(t *testing.T) {
	tb, _ := mixedTable(150, 2)
	enc, base := fitEncoder(tb, tb.Names())
	info := enc.info()
	cols := []int{0, 2, 3}
	if base.cols != 4 || !info.isCat[3] {
		t.Fatalf("mixedTable's base: %d columns, categorical %v; the test wants 4 with the last categorical", base.cols, info.isCat)
	}
	narrow := newMatrix(base.rows, len(cols))
	ninfo := baseInfo{}
	for k, j := range cols {
		for i := range base.rows {
			narrow.row(i)[k] = base.at(i, j)
		}
		ninfo.isCat = append(ninfo.isCat, info.isCat[j])
		ninfo.ncat = append(ninfo.ncat, info.ncat[j])
	}
	q, _ := mixedTable(30, 3)
	qb, _ := enc.encode(q, "")
	for _, fam := range []memberFamily{familyQuantile, familyAdaptive, familyPlain} {
		for _, idx := range []int{0, 3} {
			m := fitMember(idx, fam, base, info, 7, nil, cols)
			n := fitMember(idx, fam, narrow, ninfo, 7, nil, nil)
			if m.width != n.width || !slices.Equal(m.order, n.order) {
				t.Fatalf("family %d member %d: width %d order %v, the narrow table's %d %v", fam, idx, m.width, m.order, n.width, n.order)
			}
			last := m.width - 1 // the fingerprint, but for the plain family
			if fam == familyPlain {
				last = m.width
			}
			a, b := make([]float64, m.width), make([]float64, n.width)
			for i := range qb.rows {
				nrow := make([]float64, len(cols))
				for k, j := range cols {
					nrow[k] = qb.at(i, j)
				}
				for k := range a {
					a[k], b[k] = 7.5e30, -7.5e30 // poison
				}
				m.transformRow(qb.row(i), -1, a)
				n.transformRow(nrow, -1, b)
				if !sameFloats(a[:last], b[:last]) {
					t.Fatalf("family %d member %d, query row %d:\n subset %v\n narrow %v", fam, idx, i, a, b)
				}
			}
		}
	}
}

// noisyColumnsTable returns n rows of feats standard-normal features and
// y = 3 x0 - 2 x1 + 0.1 noise: every other feature is noise.
func noisyColumnsTable(n, feats int, seed uint64) ([][]float64, []float64) {
	r := tensor.NewRNG(seed, 0)
	X, y := make([][]float64, n), make([]float64, n)
	for i := range X {
		X[i] = make([]float64, feats)
		for j := range X[i] {
			X[i][j] = r.NormFloat64()
		}
		y[i] = 3*X[i][0] - 2*X[i][1] + 0.1*r.NormFloat64()
	}
	return X, y
}

// fixedKernelModel is fakeModel with a bandwidth that does not grow with
// the table's width: every column, noise included, counts fully in the
// kernel's distance.
type fixedKernelModel struct{ fakeModel }

func (f *fixedKernelModel) inferTable(x []float32, rows, feats int, y []float32, nctx, chunk int) ([]float32, int, error) {
	scale := float32(math.Sqrt(float64(feats) / 2))
	xs := make([]float32, len(x))
	for i, v := range x {
		xs[i] = v * scale // fakeModel divides squared distances by feats
	}
	return f.fakeModel.inferTable(xs, rows, feats, y, nctx, chunk)
}

// TestFeatureSubsetsKeptWhereTheyHelp: under fixedKernelModel, a kernel
// regression over every column of a member's table, noise columns blur the
// kernel, so the pool should keep the subset candidates (odd ones, without
// the columns the learned distance weights 0, never x0 or x1) and predict
// better than without them, in one context and in local contexts alike;
// with WithFeatureSubsets(false), or without a pool, no member is a subset.
func TestFeatureSubsetsKeptWhereTheyHelp(t *testing.T) {
	const feats, members, pool = 12, 2, 8
	for _, c := range []poolContext{
		{"one context", 400, WithLocalContext(0, 0)},
		{"local contexts", localWeightRows + 88, WithLocalContext(150, 40)},
	} {
		t.Run(c.name, func(t *testing.T) {
			X, y := noisyColumnsTable(c.n, feats, 1)
			Xt, yt := noisyColumnsTable(150, feats, 2)
			fit := func(opts ...Option) (float64, []*member, map[string]bool) {
				r2, r := modelScore(t, &fixedKernelModel{fakeModel{nq: 19}}, "fixed-kernel", X, y, Xt, yt,
					append([]Option{WithEnsemble(members), WithPreprocessing(PreprocessPlain), WithSeed(3), c.local,
						WithNeighbourFeature(false)}, opts...)...) // the subsets alone: the neighbour column would also narrow views
				kept, drop := r.fit.ens.members, map[string]bool(nil)
				if l := r.fit.local; l != nil {
					g, err := fitGlobal(r.qm, SelectRows(l.table, rowRange(0, l.rows)), l.features, l.target, l.fromTable, l.y[:l.rows], &l.sub)
					if err != nil {
						t.Fatal(err)
					}
					kept, drop = g.ens.members, l.sub.dropFeatures
				} else {
					tb, err := tableFromMatrix(X, "X")
					if err != nil {
						t.Fatal(err)
					}
					s := r.s
					drop = globalDrop(tb, tb.Names(), y, &s)
				}
				return r2, kept, drop
			}
			subsets := func(ms []*member) (n int) {
				for _, m := range ms {
					if m.cols != nil {
						n++
						if m.index%2 == 0 {
							t.Errorf("even candidate %d reads a subset %v", m.index, m.cols)
						}
						if !slices.Contains(m.cols, 0) || !slices.Contains(m.cols, 1) {
							t.Errorf("candidate %d reads %v, without x0 or x1", m.index, m.cols)
						}
					}
				}
				return n
			}
			with, kept, drop := fit(WithMemberPool(pool))
			t.Logf("dropped %v; kept members %d of which subsets %d; test R² %.4f", slices.Sorted(maps.Keys(drop)), len(kept), subsets(kept), with)
			if len(drop) == 0 || drop["x0"] || drop["x1"] {
				t.Fatalf("dropped features %v: want some noise columns, never x0 or x1", drop)
			}
			if subsets(kept) == 0 {
				t.Errorf("the pool kept no subset member")
			}
			without, keptOff, _ := fit(WithMemberPool(pool), WithFeatureSubsets(false))
			if n := subsets(keptOff); n != 0 {
				t.Errorf("WithFeatureSubsets(false): %d subset members", n)
			}
			_, keptNoPool, _ := fit(WithMemberPool(0))
			if n := subsets(keptNoPool); n != 0 {
				t.Errorf("no pool: %d subset members", n)
			}
			t.Logf("test R² with subsets %.4f, without %.4f", with, without)
			if !(with > without+0.02) {
				t.Errorf("test R² with subsets %.4f, without %.4f: want better", with, without)
			}
		})
	}
}
