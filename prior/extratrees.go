package prior

import (
	"math"
	"math/bits"
)

// ExtraTrees regression (Geurts, Ernst and Wehenkel, "Extremely randomized
// trees", 2006) with bootstrap samples, used by the learnability filter. At
// every node a random subset of features is tried, each with one threshold
// drawn uniformly between the feature's minimum and maximum over the node's
// rows, and the candidate with the largest variance reduction wins. No
// sorting and no histograms are needed, so a forest on 1000 rows costs a few
// passes over the data per tree level.
//
// Missing values (NaN) take whichever side of a split lowers the squared
// error more during training (recorded per node in NaNLeft); at prediction
// time a NaN at a node that saw none in training follows the larger child.

// ForestConfig sets the shape of an ExtraTrees forest.
type ForestConfig struct {
	Trees    int // number of trees (15 in the reference)
	MaxDepth int // depth limit: a tree has at most 2^MaxDepth leaves (6)
	// FeatureFrac is the fraction of features tried at each node (at least
	// one); 1 tries every feature.
	FeatureFrac float64
	// MinSplit is the smallest number of bootstrap rows a node needs to be
	// split (at least 2).
	MinSplit int
}

// Node is one node of a Tree. A leaf has Feature < 0.
type Node struct {
	Feature int32 // split feature, -1 for a leaf
	// Left and Right index the children in Tree.Nodes; rows with
	// x[Feature] < Threshold go left.
	Left, Right int32
	// NaNLeft sends missing values left (else right).
	NaNLeft   bool
	Threshold float64
	// Value is the mean target of the bootstrap rows reaching the node, in the
	// forest's standardised target units (see Forest.YShift and YScale).
	Value float64
}

// Tree is one regression tree, root at Nodes[0].
type Tree struct{ Nodes []Node }

// Predict returns the tree's prediction (standardised units) for a row of
// features given by at(j).
func (t *Tree) Predict(at func(j int) float64) float64 {
	k := int32(0)
	for {
		nd := &t.Nodes[k]
		if nd.Feature < 0 {
			return nd.Value
		}
		v := at(int(nd.Feature))
		switch {
		case v < nd.Threshold:
			k = nd.Left
		case v >= nd.Threshold:
			k = nd.Right
		case nd.NaNLeft:
			k = nd.Left
		default:
			k = nd.Right
		}
	}
}

// Forest is a fitted ExtraTrees ensemble and the bookkeeping needed for
// out-of-bag estimates.
type Forest struct {
	Trees []Tree
	// InBag[t][i] counts how often row i was drawn into tree t's bootstrap
	// sample; rows with a zero count are out of bag for that tree.
	InBag [][]uint16
	// The trees predict (y - YShift) / YScale.
	YShift, YScale float64
}

// Predict returns the forest's mean prediction, in target units, for the
// row-major row x.
func (f *Forest) Predict(x []float64) float64 {
	at := func(j int) float64 { return x[j] }
	s := 0.0
	for i := range f.Trees {
		s += f.Trees[i].Predict(at)
	}
	return f.YShift + f.YScale*s/float64(len(f.Trees))
}

// forestData is the training set in the layout the builder wants: columns
// contiguous, target standardised.
type forestData struct {
	rows, features int
	cols           []float64 // cols[j*rows+i] = x[i][j]
	hasNaN         []bool    // hasNaN[j]: column j has a missing value
	// keys[j*rows+i] = orderKey(x[i][j]) for the columns without missing
	// values: integer comparisons compile to conditional moves where float
	// ones compile to branches, and the split loops' comparisons are coin flips.
	keys []int64
	y    []float64 // standardised target
}

// FitForest fits an ExtraTrees forest to the row-major rows x features
// matrix x and target y, drawing all randomness from r. It returns nil when y
// is constant (nothing to learn) or not finite. rows must be below 65536
// (bootstrap counts are 16-bit; the filter subsamples to 1000).
func FitForest(r Source, x []float64, rows, features int, y []float64, cfg ForestConfig) *Forest {
	if rows < 2 || features < 1 || len(x) < rows*features || len(y) < rows || rows >= 1<<16 {
		return nil
	}
	shift, scale, ok := standardise(y[:rows])
	if !ok {
		return nil
	}
	d := &forestData{rows: rows, features: features, cols: make([]float64, rows*features), keys: make([]int64, rows*features), y: make([]float64, rows), hasNaN: make([]bool, features)}
	for i := 0; i < rows; i++ {
		d.y[i] = (y[i] - shift) / scale
		row := x[i*features : (i+1)*features]
		for j, v := range row {
			d.cols[j*rows+i] = v
			d.keys[j*rows+i] = orderKey(v)
			if v != v {
				d.hasNaN[j] = true
			}
		}
	}
	f := &Forest{YShift: shift, YScale: scale, Trees: make([]Tree, cfg.Trees), InBag: make([][]uint16, cfg.Trees)}
	b := newTreeBuilder(d, cfg)
	fr := NewFastRNG(r) // the tree loops draw ~1e4 numbers: Philox would dominate
	for t := range f.Trees {
		f.InBag[t] = make([]uint16, rows)
		f.Trees[t] = b.build(fr, f.InBag[t])
	}
	return f
}

// standardise returns the mean and standard deviation of y, computed after
// scaling by max|y| so that huge values cannot overflow; ok is false when y
// is constant or not finite.
func standardise(y []float64) (shift, scale float64, ok bool) {
	m := 0.0
	for _, v := range y {
		if !(math.Abs(v) <= math.MaxFloat64) {
			return 0, 0, false
		}
		m = max(m, math.Abs(v))
	}
	if m == 0 {
		return 0, 0, false
	}
	mean := 0.0
	for _, v := range y {
		mean += v / m
	}
	mean /= float64(len(y))
	ss := 0.0
	for _, v := range y {
		d := v/m - mean
		ss += d * d
	}
	sd := math.Sqrt(ss / float64(len(y)))
	if !(sd > 1e-12) {
		return 0, 0, false
	}
	return mean * m, sd * m, true
}

// OOBR2 returns the out-of-bag R² of the forest on its training data (x, y
// as given to FitForest): each row is predicted by the mean of the trees for
// which it was out of bag, and R² = 1 - SSE/SST over the rows with at least
// one such tree (SST about their own mean). n is the number of those rows;
// R² is NaN when n < 2 or their targets are constant.
func (f *Forest) OOBR2(x []float64, rows, features int, y []float64) (r2 float64, n int) {
	sum := make([]float64, rows)
	cnt := make([]int, rows)
	for t := range f.Trees {
		in := f.InBag[t]
		tr := &f.Trees[t]
		for i := 0; i < rows; i++ {
			if in[i] != 0 {
				continue
			}
			row := x[i*features : (i+1)*features]
			sum[i] += tr.Predict(func(j int) float64 { return row[j] })
			cnt[i]++
		}
	}
	// Work in standardised units: R² is invariant to the affine map.
	mean := 0.0
	for i := 0; i < rows; i++ {
		if cnt[i] > 0 {
			mean += (y[i] - f.YShift) / f.YScale
			n++
		}
	}
	if n < 2 {
		return math.NaN(), n
	}
	mean /= float64(n)
	sse, sst := 0.0, 0.0
	for i := 0; i < rows; i++ {
		if cnt[i] == 0 {
			continue
		}
		yi := (y[i] - f.YShift) / f.YScale
		e := yi - sum[i]/float64(cnt[i])
		sse += e * e
		sst += (yi - mean) * (yi - mean)
	}
	if !(sst > 0) {
		return math.NaN(), n
	}
	return 1 - sse/sst, n
}

// treeBuilder holds the scratch buffers reused across the trees of a forest.
type treeBuilder struct {
	d     *forestData
	cfg   ForestConfig
	tries int     // features evaluated per node
	idx   []int32 // bootstrap rows, partitioned in place node by node
	ys    []float64
	vals  []float64
	kvals []int64
	perm  []int32 // feature order, partially shuffled per node
	stack []buildItem
}

type buildItem struct {
	node, lo, hi, depth int32
}

func newTreeBuilder(d *forestData, cfg ForestConfig) *treeBuilder {
	tries := int(math.Ceil(cfg.FeatureFrac * float64(d.features)))
	tries = min(max(tries, 1), d.features)
	b := &treeBuilder{d: d, cfg: cfg, tries: tries, idx: make([]int32, d.rows), ys: make([]float64, d.rows), vals: make([]float64, d.rows), kvals: make([]int64, d.rows), perm: make([]int32, d.features)}
	for j := range b.perm {
		b.perm[j] = int32(j)
	}
	return b
}

// intn returns a uniform integer in [0, n) by multiply-shift (bias below
// n/2^64; cheaper than rejection sampling).
func intn(r *FastRNG, n int) int {
	hi, _ := bits.Mul64(r.Uint64(), uint64(n))
	return int(hi)
}

// build grows one tree on a fresh bootstrap sample, recording the in-bag
// counts in inBag.
func (b *treeBuilder) build(r *FastRNG, inBag []uint16) Tree {
	n := b.d.rows
	for i := range b.idx {
		k := intn(r, n)
		b.idx[i] = int32(k)
		inBag[k]++
	}
	nodes := make([]Node, 1, 2<<min(b.cfg.MaxDepth, 10))
	b.stack = append(b.stack[:0], buildItem{0, 0, int32(n), 0})
	for len(b.stack) > 0 {
		it := b.stack[len(b.stack)-1]
		b.stack = b.stack[:len(b.stack)-1]
		nd := b.split(r, it)
		nodes[it.node] = nd.Node
		if nd.Feature < 0 {
			continue
		}
		l := int32(len(nodes))
		nodes = append(nodes, Node{}, Node{})
		nodes[it.node].Left, nodes[it.node].Right = l, l+1
		b.stack = append(b.stack,
			buildItem{l + 1, nd.mid, it.hi, it.depth + 1},
			buildItem{l, it.lo, nd.mid, it.depth + 1})
	}
	return Tree{Nodes: nodes}
}

// splitResult is a node plus where its rows were partitioned.
type splitResult struct {
	Node
	mid int32
}

// split decides the node for the bootstrap rows idx[lo:hi]: a leaf, or the
// best of the random candidate splits, in which case idx[lo:hi] is
// partitioned into left rows idx[lo:mid] and right rows idx[mid:hi].
func (b *treeBuilder) split(r *FastRNG, it buildItem) splitResult {
	d := b.d
	rows := b.idx[it.lo:it.hi]
	// Gather the node's targets once; each candidate feature is gathered into
	// vals so that the scoring pass runs over contiguous memory.
	ys, vals, kvals := b.ys[:len(rows)], b.vals[:len(rows)], b.kvals[:len(rows)]
	s, ss := 0.0, 0.0
	for k, i := range rows {
		v := d.y[i]
		ys[k] = v
		s += v
		ss += v * v
	}
	cnt := float64(len(rows))
	leaf := splitResult{Node: Node{Feature: -1, Value: s / cnt}}
	if int(it.depth) >= b.cfg.MaxDepth || len(rows) < max(b.cfg.MinSplit, 2) || ss-s*s/cnt <= 1e-12*cnt {
		return leaf
	}
	bestScore := math.Inf(-1)
	best := leaf.Node
	tried := 0
	nf := len(b.perm)
	for k := 0; k < nf && tried < b.tries; k++ {
		// Partial Fisher-Yates: perm[k] becomes a uniformly chosen unused feature.
		j := k + intn(r, nf-k)
		b.perm[k], b.perm[j] = b.perm[j], b.perm[k]
		f := b.perm[k]
		col := d.cols[int(f)*d.rows : int(f+1)*d.rows]
		var lo, hi float64
		var kcol []int64
		if d.hasNaN[f] {
			lo, hi = gatherRangeNaN(vals, col, rows)
		} else {
			kcol = d.keys[int(f)*d.rows : int(f+1)*d.rows]
			klo, khi := gatherKeyRange(kvals, kcol, rows)
			lo, hi = keyValue(klo), keyValue(khi)
		}
		if !(hi > lo) {
			continue // constant (or all missing) here: does not count as a try
		}
		tried++
		u := r.Float64()
		thr := lo*(1-u) + hi*u // no overflow even for extreme lo, hi
		if thr <= lo {
			thr = math.Nextafter(lo, hi)
		}
		thr += 0 // -0 becomes +0, matching the keys
		var sl, nl, sm, nm float64
		if kcol != nil {
			sl, nl = leftKeySums(kvals, ys, orderKey(thr))
		} else {
			for q, v := range vals {
				if v < thr {
					sl += ys[q]
					nl++
				} else if v != v {
					sm += ys[q]
					nm++
				}
			}
		}
		sr, nr := s-sl-sm, cnt-nl-nm
		// Maximising sum over children of S²/n minimises the squared error.
		scoreL, scoreR := math.Inf(-1), math.Inf(-1)
		if nl+nm > 0 && nr > 0 {
			scoreL = (sl+sm)*(sl+sm)/(nl+nm) + sr*sr/nr
		}
		if nl > 0 && nr+nm > 0 {
			scoreR = sl*sl/nl + (sr+sm)*(sr+sm)/(nr+nm)
		}
		nanLeft := scoreL > scoreR
		if nm == 0 {
			nanLeft = nl >= nr // unseen NaN at prediction follows the larger child
		}
		if sc := max(scoreL, scoreR); sc > bestScore {
			bestScore = sc
			best = Node{Feature: f, Threshold: thr, NaNLeft: nanLeft, Value: leaf.Value}
		}
	}
	if best.Feature < 0 {
		return leaf
	}
	// Partition idx[lo:hi]: rows going left first.
	mid := 0
	if f := int(best.Feature); d.hasNaN[f] {
		mid = partitionNaN(rows, d.cols[f*d.rows:(f+1)*d.rows], best.Threshold, best.NaNLeft)
	} else {
		mid = partitionKeys(rows, d.keys[f*d.rows:(f+1)*d.rows], orderKey(best.Threshold))
	}
	return splitResult{Node: best, mid: it.lo + int32(mid)}
}

// partitionKeys reorders rows so that those with col key < thr come first
// and returns how many they are.
func partitionKeys(rows []int32, col []int64, thr int64) int {
	i, j := 0, len(rows)-1
	for i <= j {
		if col[rows[i]] < thr {
			i++
		} else {
			rows[i], rows[j] = rows[j], rows[i]
			j--
		}
	}
	return i
}

// partitionNaN is partitionKeys on float values, sending NaN left when
// nanLeft is set.
func partitionNaN(rows []int32, col []float64, thr float64, nanLeft bool) int {
	i, j := 0, len(rows)-1
	for i <= j {
		if v := col[rows[i]]; v < thr || (v != v && nanLeft) {
			i++
		} else {
			rows[i], rows[j] = rows[j], rows[i]
			j--
		}
	}
	return i
}

// orderKey maps a float64 to an int64 with the same order (for non-NaN
// values; -0 and +0 share the key of +0, as they compare equal).
func orderKey(v float64) int64 {
	v += 0 // -0 -> +0
	b := int64(math.Float64bits(v))
	return b ^ int64(uint64(b>>63)>>1)
}

// keyValue inverts orderKey.
func keyValue(k int64) float64 {
	return math.Float64frombits(uint64(k ^ int64(uint64(k>>63)>>1)))
}

// gatherKeyRange copies col[rows[q]] into vals[q] and returns their minimum
// and maximum (two accumulator pairs to shorten the dependency chains).
func gatherKeyRange(vals, col []int64, rows []int32) (lo, hi int64) {
	lo0, hi0 := int64(math.MaxInt64), int64(math.MinInt64)
	lo1, hi1 := lo0, hi0
	vals = vals[:len(rows)]
	q := 0
	for ; q+2 <= len(rows); q += 2 {
		a, b := col[rows[q]], col[rows[q+1]]
		vals[q], vals[q+1] = a, b
		if a < lo0 {
			lo0 = a
		}
		if a > hi0 {
			hi0 = a
		}
		if b < lo1 {
			lo1 = b
		}
		if b > hi1 {
			hi1 = b
		}
	}
	if q < len(rows) {
		a := col[rows[q]]
		vals[q] = a
		lo0, hi0 = min(lo0, a), max(hi0, a)
	}
	return min(lo0, lo1), max(hi0, hi1)
}

// gatherRangeNaN copies col[rows[q]] into vals[q] and returns the range of
// the non-NaN values (comparisons with NaN are false).
func gatherRangeNaN(vals, col []float64, rows []int32) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for q, i := range rows {
		v := col[i]
		vals[q] = v
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// leftKeySums returns the sum of ys and the count over the entries with
// keys < thr. The comparison is a coin flip, so it must not be a branch:
// it becomes an all-ones/zero integer mask (a conditional move) that
// selects the target's bits. Four accumulators hide the latency of the
// floating-point adds.
func leftKeySums(keys []int64, ys []float64, thr int64) (sum, n float64) {
	var s0, s1, s2, s3 float64
	var c0, c1, c2, c3 uint64
	ys = ys[:len(keys)]
	q := 0
	for ; q+4 <= len(keys); q += 4 {
		var m0, m1, m2, m3 uint64
		if keys[q] < thr {
			m0 = ^uint64(0)
		}
		if keys[q+1] < thr {
			m1 = ^uint64(0)
		}
		if keys[q+2] < thr {
			m2 = ^uint64(0)
		}
		if keys[q+3] < thr {
			m3 = ^uint64(0)
		}
		s0 += math.Float64frombits(math.Float64bits(ys[q]) & m0)
		s1 += math.Float64frombits(math.Float64bits(ys[q+1]) & m1)
		s2 += math.Float64frombits(math.Float64bits(ys[q+2]) & m2)
		s3 += math.Float64frombits(math.Float64bits(ys[q+3]) & m3)
		c0 += m0 & 1
		c1 += m1 & 1
		c2 += m2 & 1
		c3 += m3 & 1
	}
	for ; q < len(keys); q++ {
		if keys[q] < thr {
			s0 += ys[q]
			c0++
		}
	}
	return (s0 + s1) + (s2 + s3), float64(c0 + c1 + c2 + c3)
}
