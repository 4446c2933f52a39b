package nori

import (
	"hash/fnv"
	"math"

	"github.com/nori-ml/nori/tensor"
)

// Extra columns every ensemble member appends: products of random pairs of
// numeric columns and a row fingerprint.

// maxPairs is the number of pairwise product features per member.
const maxPairs = 10

// pairFeatures holds the pairs of numeric base columns whose products are
// appended, with the training mean and std used to standardise each factor
// first (so a product is a correlation-like interaction, not dominated by
// the columns' units).
type pairFeatures struct {
	pairs     [][2]int
	mean, std map[int]float64
}

// fitPairs draws min(maxPairs, m(m-1)/2) distinct pairs of the numeric
// columns numIdx (all of them when there are that few), in a seeded order.
func fitPairs(base *matrix, numIdx []int, rng *tensor.RNG) *pairFeatures {
	p := &pairFeatures{mean: map[int]float64{}, std: map[int]float64{}}
	m := len(numIdx)
	total := m * (m - 1) / 2
	if total == 0 {
		return p
	}
	// Enumerate pair indices lazily: pick distinct integers in [0, total)
	// and decode them, so a wide table does not build a huge list.
	want := min(maxPairs, total)
	chosen := map[int]bool{}
	var picks []int
	if total <= maxPairs {
		for t := range total {
			picks = append(picks, t)
		}
	} else {
		for len(picks) < want {
			t := rng.Intn(total)
			if !chosen[t] {
				chosen[t] = true
				picks = append(picks, t)
			}
		}
	}
	for _, t := range picks {
		a, b := decodePair(t, m)
		ca, cb := numIdx[a], numIdx[b]
		p.pairs = append(p.pairs, [2]int{ca, cb})
		for _, c := range []int{ca, cb} {
			if _, ok := p.mean[c]; !ok {
				mu, sd, _ := momentStats(base.nonMissingCol(c))
				if !(sd > 1e-12) || math.IsInf(sd, 0) {
					sd = 1
				}
				p.mean[c], p.std[c] = mu, sd
			}
		}
	}
	return p
}

// decodePair maps t in [0, m(m-1)/2) to the pair (a, b), a < b, in
// lexicographic order.
func decodePair(t, m int) (int, int) {
	a := 0
	for t >= m-1-a {
		t -= m - 1 - a
		a++
	}
	return a, a + 1 + t
}

// apply writes the products for one base row into out.
func (p *pairFeatures) apply(row, out []float64) {
	for k, pr := range p.pairs {
		a, b := pr[0], pr[1]
		out[k] = (row[a] - p.mean[a]) / p.std[a] * (row[b] - p.mean[b]) / p.std[b]
	}
}

// fingerprint hashes a base row (its values' bits, NaN canonicalised) with
// the member's salt to a value in [0, 1). Identical rows share a
// fingerprint, which lets the model match a query row to an identical
// context row; training duplicates are told apart by hashing again with an
// occurrence counter (see fingerprintTrain), as in TabPFN's fingerprint
// feature.
func fingerprint(row []float64, salt uint64, occurrence int) float64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(u uint64) {
		for i := range b {
			b[i] = byte(u >> (8 * i))
		}
		h.Write(b[:])
	}
	put(salt)
	put(uint64(occurrence))
	for _, v := range row {
		if math.IsNaN(v) {
			put(0x7ff8000000000001)
		} else {
			put(math.Float64bits(v + 0)) // +0 folds -0 into 0
		}
	}
	return float64(h.Sum64()>>11) / (1 << 53)
}

// fingerprintTrain returns the fingerprints of all training rows, unique per
// row: the k-th repeat of a row is hashed with occurrence k. Repeats are
// counted in row order, so only the assignment among identical rows depends
// on that order.
func fingerprintTrain(base *matrix, salt uint64) []float64 {
	out := make([]float64, base.rows)
	seen := map[float64]bool{}
	for i := range base.rows {
		for occ := 0; ; occ++ {
			fp := fingerprint(base.row(i), salt, occ)
			if !seen[fp] {
				seen[fp] = true
				out[i] = fp
				break
			}
		}
	}
	return out
}
