package prior

import (
	"math"

	"github.com/nori-ml/nori/tensor"
)

// The "tree_ensemble" generator imitates data whose target is driven by
// thresholds and regimes rather than smooth trends: eligibility rules,
// pricing tiers, risk scores built from cut-offs (the kind of table where
// gradient-boosted trees shine). The target is a sum of 5-50 random
// regression trees of depth 2-6 whose axis-aligned splits sit at random quantiles
// of the data reaching each node, over correlated inputs with varied marginals;
// each tree uses a random subset of the features, and some features are used
// by no tree at all.

func init() { Register(treeEnsembleGen{}) }

type treeEnsembleGen struct{}

func (treeEnsembleGen) Name() string { return "tree_ensemble" }

func (treeEnsembleGen) Generate(r *tensor.RNG, rows, features int) *Table {
	f := NewFastRNG(r)
	cols, inDesc := correlatedInputs(r, f, rows, features)

	nTrees := IntRange(r, 5, 50)
	depthLo := IntRange(r, 2, 6)
	depthHi := IntRange(r, depthLo, 6)
	// Relevant features with power-law importances: a few dominate.
	nRel := max(1, int(math.Ceil(float64(features)*Uniform(r, 0.3, 1))))
	rel := SampleWithoutReplacement(r, features, nRel)
	imp := make([]float64, features)
	for k, j := range rel {
		imp[j] = math.Pow(float64(k+1), -Uniform(r, 0, 1.5))
	}
	// Leaf values shrink with the number of trees so the sum keeps a similar
	// spread; later trees optionally shrink further (boosting-like decay).
	decay := Uniform(r, 0.9, 1)
	y := make([]float64, rows)
	tmp := make([]float64, rows)
	scale := 1 / math.Sqrt(float64(nTrees))
	for k := 0; k < nTrees; k++ {
		growRandomTree(r, cols, IntRange(r, depthLo, depthHi), imp, tmp)
		for i, v := range tmp {
			y[i] += scale * v
		}
		scale *= decay
	}
	zscoreInPlace(y)

	t := NewTable(rows, features)
	fillTable(t, cols, y)
	t.Info.Generator = "tree_ensemble"
	t.Info.Params["trees"] = nTrees
	t.Info.Params["depth_range"] = []int{depthLo, depthHi}
	t.Info.Params["relevant_features"] = nRel
	t.Info.Params["decay"] = decay
	t.Info.Params["inputs"] = inDesc
	return t
}

// randomTree is a regression tree with random structure: node k splits on
// feat[k] at thr[k] (rows with x <= thr go to child left[k], the others to
// left[k]+1) or, when feat[k] < 0, is a leaf with value val[k]. Children are
// allocated in pairs so the descent needs no branch on the comparison.
type randomTree struct {
	feat     []int32
	thr, val []float64
	left     []int32
}

// growRandomTree grows a random tree of depth at most maxDepth over the
// columns cols. Each split picks a feature (with probability proportional to
// featWeights, uniform when nil) and a threshold at a random quantile of the
// rows reaching the node: the median of the feature's values in three random
// rows of the node, so the quantile follows Beta(2, 2) (central splits are
// common, extreme ones rare) and no split is wasted on empty space. Nodes
// below depth 2 stop early with probability 0.25, giving unbalanced trees;
// leaf values are standard normal. When out is non-nil it receives the
// tree's prediction for every row of cols (the rows are partitioned anyway,
// so this is free compared with a separate eval).
func growRandomTree(r Source, cols [][]float64, maxDepth int, featWeights []float64, out []float64) *randomTree {
	n := len(cols[0])
	t := &randomTree{}
	idx := make([]int32, 2*n)
	tmp := idx[n:]
	idx = idx[:n]
	for i := range idx {
		idx[i] = int32(i)
	}
	type item struct {
		node       int32
		start, end int
		depth      int
	}
	newNodes := func(count int) int32 {
		first := int32(len(t.feat))
		for c := 0; c < count; c++ {
			t.feat = append(t.feat, -1)
			t.thr = append(t.thr, 0)
			t.val = append(t.val, 0)
			t.left = append(t.left, -1)
		}
		return first
	}
	stack := []item{{node: newNodes(1), start: 0, end: n}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		m := it.end - it.start
		stop := it.depth >= maxDepth || m < 2 || (it.depth >= 2 && Bernoulli(r, 0.25))
		if !stop {
			var j int
			if featWeights == nil {
				j = r.Intn(len(cols))
			} else {
				j = Categorical(r, featWeights)
			}
			col := cols[j]
			rows := idx[it.start:it.end]
			a, b, c := col[rows[r.Intn(m)]], col[rows[r.Intn(m)]], col[rows[r.Intn(m)]]
			thr := max(min(a, b), min(max(a, b), c))
			// Branch-free stable partition through tmp: rows <= thr fill
			// tmp from the front, the others from the back (reversed).
			lo, hi := 0, m-1
			for _, i := range rows {
				le := 0
				if col[i] <= thr {
					le = 1
				}
				tmp[lo] = i
				tmp[hi] = i
				lo += le
				hi -= 1 - le
			}
			if lo > 0 && lo < m {
				copy(rows[:lo], tmp[:lo])
				for q := lo; q < m; q++ {
					rows[q] = tmp[m-1-(q-lo)]
				}
				t.feat[it.node] = int32(j)
				t.thr[it.node] = thr
				l := newNodes(2)
				t.left[it.node] = l
				stack = append(stack,
					item{node: l + 1, start: it.start + lo, end: it.end, depth: it.depth + 1},
					item{node: l, start: it.start, end: it.start + lo, depth: it.depth + 1})
				continue
			}
			// Every row went one way (ties at the threshold): make a leaf.
		}
		v := r.NormFloat64()
		t.val[it.node] = v
		if out != nil {
			for _, i := range idx[it.start:it.end] {
				out[i] = v
			}
		}
	}
	return t
}

// eval writes the tree's prediction for every row of cols into out.
func (t *randomTree) eval(cols [][]float64, out []float64) {
	for i := range out {
		k := int32(0)
		for t.feat[k] >= 0 {
			gt := int32(0)
			if cols[t.feat[k]][i] > t.thr[k] {
				gt = 1
			}
			k = t.left[k] + gt
		}
		out[i] = t.val[k]
	}
}

// leaves returns the number of leaves.
func (t *randomTree) leaves() int {
	c := 0
	for _, f := range t.feat {
		if f < 0 {
			c++
		}
	}
	return c
}

// depth returns the depth of the deepest leaf (0 for a single leaf).
func (t *randomTree) depth() int {
	var walk func(k int32) int
	walk = func(k int32) int {
		if t.feat[k] < 0 {
			return 0
		}
		return 1 + max(walk(t.left[k]), walk(t.left[k]+1))
	}
	return walk(0)
}
