package prior

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// The "scm" generator is the hierarchical structural causal model, the bulk
// of the prior. It imitates tables whose columns are measurements of one
// causal system: a few exogenous quantities (roots with realistic marginals)
// drive intermediate variables through nonlinear mechanisms, and the table
// records some of them, the target among them. Features can be causes of the
// target, effects of it, or siblings sharing a cause, as in real data.
//
// The DAG is built from blocks of 3-8 nodes. The first block holds roots;
// each later node is a root with a small per-table probability, otherwise it
// takes 1-3 parents among earlier nodes, mostly from the previous block and
// the earlier nodes of its own block (a hierarchy of stages), sometimes from
// anywhere before it (long-range links). Node values are computed node by
// node over all rows at once, robustly standardised (median, 1.4826*MAD),
// perturbed by Gaussian noise of 0.01-0.15 standard deviations and clipped
// to +-100, so no mechanism can overflow the ones after it.

func init() { Register(scmGen{}) }

type scmGen struct{}

func (scmGen) Name() string { return "scm" }

// scmNode is one node of the causal graph.
type scmNode struct {
	block   int
	parents []int
	root    *scmRoot     // set for roots
	mech    scmMechanism // set for non-roots
	noise   float64      // noise standard deviation in standardised units
}

// scmGraph is a drawn SCM with the node values it produced.
type scmGraph struct {
	nodes  []scmNode
	blocks [][]int
	values [][]float64 // values[k] holds node k's standardised column
	target int
	feats  []int // the nodes read as features, in column order
	// Table-level draws, recorded in Info.Params.
	pRoot, pLocal, pJoint float64
}

// buildSCM draws the graph, computes every node over rows rows and picks the
// target and features nodes.
func buildSCM(r *tensor.RNG, rows, features int) *scmGraph {
	f := NewFastRNG(r)
	g := &scmGraph{
		pRoot:  Uniform(r, 0, 0.2),
		pLocal: Uniform(r, 0.5, 0.95),
		pJoint: Uniform(r, 0.05, 0.3),
	}
	// At least features+1 nodes, plus up to half as many hidden ones, in at
	// least two blocks (the first holds only roots); the blocks are filled
	// completely so every block has 3-8 nodes.
	want := features + 1 + IntRange(r, 0, max(2, features/2))
	total := 0
	for total < want || len(g.blocks) < 2 {
		size := IntRange(r, 3, 8)
		blk := make([]int, size)
		for i := range blk {
			blk[i] = total + i
		}
		g.blocks = append(g.blocks, blk)
		total += size
	}
	g.nodes = make([]scmNode, total)
	g.values = make([][]float64, total)
	slab := make([]float64, total*rows)
	scratch := make([]float64, 2*rows)
	noise := make([]float64, rows)
	var parentCols [][]float64
	for b, blk := range g.blocks {
		for _, k := range blk {
			nd := &g.nodes[k]
			nd.block = b
			col := slab[k*rows : (k+1)*rows]
			g.values[k] = col
			if b == 0 || (k != total-1 && Bernoulli(r, g.pRoot)) {
				rt := newSCMRoot(r)
				nd.root = &rt
				rt.sample(f, col)
				robustStandardizeClip(col, scratch)
				continue
			}
			nd.parents = g.drawParents(r, b, k)
			parentCols = parentCols[:0]
			for _, p := range nd.parents {
				parentCols = append(parentCols, g.values[p])
			}
			nd.mech = newSCMMechanism(r, parentCols, g.pJoint)
			nd.mech.compute(parentCols, col)
			robustStandardizeClip(col, scratch)
			nd.noise = LogUniform(r, 0.01, 0.15)
			f.FillNormal(noise, 0, nd.noise)
			for i, e := range noise {
				col[i] = math.Max(-nodeClip, math.Min(nodeClip, col[i]+e))
			}
		}
	}
	g.pickTargetAndFeatures(r, features)
	return g
}

// drawParents picks 1-3 distinct parents for node k of block b: each from
// the local set (previous block and the earlier nodes of block b) with
// probability pLocal, otherwise from all earlier nodes.
func (g *scmGraph) drawParents(r Source, b, k int) []int {
	lo := g.blocks[b-1][0] // first node of the previous block
	n := IntRange(r, 1, min(3, k))
	ps := make([]int, 0, n)
	for len(ps) < n {
		var p int
		if Bernoulli(r, g.pLocal) {
			p = lo + r.Intn(k-lo)
		} else {
			p = r.Intn(k)
		}
		dup := false
		for _, q := range ps {
			dup = dup || q == p
		}
		if !dup {
			ps = append(ps, p)
		}
	}
	return ps
}

// ancestorCounts returns the number of ancestors of every node (bitsets over
// the nodes, in topological order).
func (g *scmGraph) ancestorCounts() []int {
	n := len(g.nodes)
	words := (n + 63) / 64
	anc := make([]uint64, n*words)
	counts := make([]int, n)
	for k, nd := range g.nodes {
		a := anc[k*words : (k+1)*words]
		for _, p := range nd.parents {
			a[p/64] |= 1 << (p % 64)
			pa := anc[p*words : (p+1)*words]
			for w := range a {
				a[w] |= pa[w]
			}
		}
		for _, w := range a {
			for ; w != 0; w &= w - 1 {
				counts[k]++
			}
		}
	}
	return counts
}

// pickTargetAndFeatures chooses the target among non-root nodes with
// probability growing with the number of ancestors (a target deep in the
// graph depends on more of the system), then the features uniformly among
// the remaining nodes. The last node is never a root, so a candidate always
// exists; should every candidate lack ancestors (impossible, a non-root has
// parents) the target is the last node.
func (g *scmGraph) pickTargetAndFeatures(r Source, features int) {
	counts := g.ancestorCounts()
	w := make([]float64, len(g.nodes))
	found := false
	for k, c := range counts {
		if g.nodes[k].root == nil {
			w[k] = math.Sqrt(float64(c))
			found = found || w[k] > 0
		}
	}
	if found {
		g.target = Categorical(r, w)
	} else {
		g.target = len(g.nodes) - 1
	}
	others := make([]int, 0, len(g.nodes)-1)
	for k := range g.nodes {
		if k != g.target {
			others = append(others, k)
		}
	}
	pick := SampleWithoutReplacement(r, len(others), features)
	g.feats = make([]int, features)
	for j, p := range pick {
		g.feats[j] = others[p]
	}
}

func (scmGen) Generate(r *tensor.RNG, rows, features int) *Table {
	g := buildSCM(r, rows, features)
	t := NewTable(rows, features)
	cols := make([][]float64, features)
	for j, k := range g.feats {
		cols[j] = g.values[k]
	}
	fillTable(t, cols, g.values[g.target])
	t.Info.Generator = "scm"
	g.recordParams(t.Info.Params)
	return t
}

// recordParams summarises the graph for the manifest: sizes, the target's
// place, and how often each root law, mechanism, aggregation and edge family
// occurs.
func (g *scmGraph) recordParams(p map[string]any) {
	sizes := make([]int, len(g.blocks))
	for b, blk := range g.blocks {
		sizes[b] = len(blk)
	}
	roots, mechs, aggs, edges := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, nd := range g.nodes {
		if nd.root != nil {
			roots[nd.root.kind]++
			continue
		}
		m, a, es := nd.mech.describe()
		mechs[m]++
		if a != "" {
			aggs[a]++
		}
		for _, e := range es {
			edges[e]++
		}
	}
	counts := g.ancestorCounts()
	p["nodes"] = len(g.nodes)
	p["block_sizes"] = sizes
	p["target_node"] = g.target
	p["target_block"] = g.nodes[g.target].block
	p["target_ancestors"] = counts[g.target]
	p["feature_nodes"] = g.feats
	p["roots"] = roots
	p["mechanisms"] = mechs
	p["aggregations"] = aggs
	p["edges"] = edges
	p["p_root"] = g.pRoot
	p["p_local"] = g.pLocal
	p["p_joint"] = g.pJoint
	p["target_noise"] = g.nodes[g.target].noise
}

// String summarises the graph for debugging.
func (g *scmGraph) String() string {
	return fmt.Sprintf("scm(%d nodes, %d blocks, target %d)", len(g.nodes), len(g.blocks), g.target)
}
