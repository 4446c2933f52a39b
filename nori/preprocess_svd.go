package nori

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// truncSVD projects standardised rows onto the top k right singular vectors
// of the standardised training matrix (a truncated SVD / PCA without
// whitening). Missing values are imputed with the training mean (0 after
// standardising) before projecting.
//
// It is fitted through the eigen-decomposition of the smaller Gram matrix,
// Z^T Z (F x F) when rows >= F, else Z Z^T (n x n) with v = Z^T u / sigma,
// so the cost is O(n F min(n, F)) rather than a full SVD. Each component's
// sign is fixed (largest-magnitude entry positive) so fits are reproducible.
type truncSVD struct {
	mean, std []float64   // per input column; std 1 where the column is constant
	comps     [][]float64 // k components of length F
}

// svdMaxFeatures is the feature count above which the whole encoded table is
// reduced to this many SVD components before the ensemble members see it.
const svdMaxFeatures = 256

// fitTruncSVD fits k components on the rows x f matrix x (NaN = missing).
func fitTruncSVD(x *matrix, k int) *truncSVD {
	n, f := x.rows, x.cols
	s := &truncSVD{mean: make([]float64, f), std: make([]float64, f)}
	col := make([]float64, 0, n)
	for j := range f {
		col = col[:0]
		for i := range n {
			if v := x.at(i, j); !math.IsNaN(v) {
				col = append(col, v)
			}
		}
		m, sd, _ := momentStats(col)
		if !(sd > 1e-12) || math.IsInf(sd, 0) {
			sd = 1
		}
		s.mean[j], s.std[j] = m, sd
	}
	// Rows in a canonical order (lexicographic by bits), so that the Gram
	// sums, hence the components, do not depend on the order of the rows.
	z := mat.NewDense(n, f, nil)
	for k, i := range canonicalRowOrder(x) {
		s.standardise(x.row(i), z.RawRowView(k))
	}
	k = min(k, n, f)
	var eig mat.EigenSym
	small := min(n, f)
	g := mat.NewSymDense(small, nil)
	if n >= f {
		g.SymOuterK(1, z.T())
	} else {
		g.SymOuterK(1, z)
	}
	if !eig.Factorize(g, true) {
		// Not expected for a symmetric matrix; fall back to the leading
		// coordinate axes rather than failing the prediction.
		for c := range k {
			v := make([]float64, f)
			v[c] = 1
			s.comps = append(s.comps, v)
		}
		return s
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	for c := range k {
		idx := small - 1 - c
		v := make([]float64, f)
		if n >= f {
			for j := range f {
				v[j] = vecs.At(j, idx)
			}
		} else if sigma := math.Sqrt(max(vals[idx], 0)); sigma > 1e-12*math.Sqrt(max(vals[small-1], 0)) && sigma > 0 {
			for i := range n {
				u := vecs.At(i, idx) / sigma
				row := z.RawRowView(i)
				for j := range f {
					v[j] += u * row[j]
				}
			}
		}
		fixSign(v)
		s.comps = append(s.comps, v)
	}
	return s
}

// standardise writes (x - mean)/std with missing values as 0.
func (s *truncSVD) standardise(x, out []float64) {
	for j, v := range x {
		if math.IsNaN(v) {
			out[j] = 0
		} else {
			out[j] = (v - s.mean[j]) / s.std[j]
		}
	}
}

// transform writes the k component scores of one row into out.
func (s *truncSVD) transform(x, out []float64) {
	z := make([]float64, len(x))
	s.standardise(x, z)
	for c, v := range s.comps {
		var d float64
		for j, w := range v {
			d += w * z[j]
		}
		out[c] = d
	}
}

// inverse maps component scores back to a row in the input units (the
// rank-k reconstruction); used to test the fit.
func (s *truncSVD) inverse(scores, out []float64) {
	for j := range out {
		var d float64
		for c, v := range s.comps {
			d += scores[c] * v[j]
		}
		out[j] = d*s.std[j] + s.mean[j]
	}
}

// canonicalRowOrder returns the row indices of x sorted lexicographically by
// the rows' value bits (NaN included), ties by index.
func canonicalRowOrder(x *matrix) []int {
	idx := make([]int, x.rows)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ra, rb := x.row(idx[a]), x.row(idx[b])
		for j := range ra {
			ba, bb := math.Float64bits(ra[j]), math.Float64bits(rb[j])
			if ba != bb {
				return ba < bb
			}
		}
		return false
	})
	return idx
}

// fixSign makes the largest-magnitude entry of v positive.
func fixSign(v []float64) {
	best := 0
	for j := range v {
		if math.Abs(v[j]) > math.Abs(v[best]) {
			best = j
		}
	}
	if v[best] < 0 {
		for j := range v {
			v[j] = -v[j]
		}
	}
}
