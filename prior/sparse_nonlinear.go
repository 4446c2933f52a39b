package prior

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// The "sparse_nonlinear" generator imitates wide tables where only a handful
// of columns matter: a few drivers act through nonlinear main effects and
// interactions, and the many other recorded columns (correlated with the
// drivers or not) carry no signal of their own. This tests a model's feature
// selection: 2-6 relevant features, each with a nonlinear main effect (the SCM
// edge families: saturations, thresholds, bumps, periodic terms, ...) with
// power-law weights, plus 1-3 pairwise interactions among them (products of
// edge functions, or a small tree over the pair). With fewer than 2
// features, every feature is relevant.

func init() { Register(sparseNonlinearGen{}) }

type sparseNonlinearGen struct{}

func (sparseNonlinearGen) Name() string { return "sparse_nonlinear" }

func (sparseNonlinearGen) Generate(r *tensor.RNG, rows, features int) *Table {
	f := NewFastRNG(r)
	cols, inDesc := correlatedInputs(r, f, rows, features)

	nRel := min(features, IntRange(r, 2, 6))
	rel := SampleWithoutReplacement(r, features, nRel)
	y := make([]float64, rows)
	term := make([]float64, rows)
	tmp := make([]float64, rows)
	var mains, inters []string
	alpha := Uniform(r, 0, 1.5)
	for k, j := range rel {
		e := newSCMEdge(r, cols[j])
		e.apply(cols[j], term)
		zscoreInPlace(term)
		w := randSign(r) * math.Pow(float64(k+1), -alpha)
		for i, v := range term {
			y[i] += w * v
		}
		mains = append(mains, fmt.Sprintf("x%d:%s", j, e.kind()))
	}
	nInter := 0
	if nRel >= 2 {
		nInter = IntRange(r, 1, 3)
	}
	interW := Uniform(r, 0.3, 1.2)
	for q := 0; q < nInter; q++ {
		ia := rel[r.Intn(nRel)]
		ib := ia
		for ib == ia {
			ib = rel[r.Intn(nRel)]
		}
		a, b := cols[ia], cols[ib]
		var desc string
		if Bernoulli(r, 0.7) {
			fa, fb := newSCMEdge(r, a), newSCMEdge(r, b)
			fa.apply(a, term)
			fb.apply(b, tmp)
			zscoreInPlace(term)
			zscoreInPlace(tmp)
			for i, v := range tmp {
				term[i] *= v
			}
			desc = fmt.Sprintf("x%d:%s*x%d:%s", ia, fa.kind(), ib, fb.kind())
		} else {
			growRandomTree(r, [][]float64{a, b}, IntRange(r, 2, 4), nil, term)
			desc = fmt.Sprintf("tree(x%d,x%d)", ia, ib)
		}
		zscoreInPlace(term)
		w := randSign(r) * interW
		for i, v := range term {
			y[i] += w * v
		}
		inters = append(inters, desc)
	}
	zscoreInPlace(y)

	t := NewTable(rows, features)
	fillTable(t, cols, y)
	t.Info.Generator = "sparse_nonlinear"
	t.Info.Params["relevant_features"] = rel
	t.Info.Params["main_effects"] = mains
	t.Info.Params["interactions"] = inters
	t.Info.Params["importance_decay"] = alpha
	t.Info.Params["inputs"] = inDesc
	return t
}
