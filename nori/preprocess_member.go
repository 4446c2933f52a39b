package nori

import "github.com/nori-ml/nori/tensor"

// An ensemble member is one preprocessing of the base matrix (stage 2, after
// the encoder of preprocess.go), fitted on the training rows only. Members
// differ by family and by their random draws; with n members the first
// ceil(n/2) are of the quantile family and the rest of the adaptive family
// (the reference's 0-3 and 4-7 for n = 8; one member is quantile-family).
//
// Columns of a member's table, before its random column order is applied:
//
//	quantile family: the base columns (numeric values as they are,
//	  categorical codes), then the uniform quantile transform of each numeric
//	  column (n_train/5 percentiles, at most 256), then a truncated SVD of
//	  those quantile features (k = min(numeric/2, n_train/10+1) components,
//	  when k >= 1 and there are >= 2 numeric columns), then the pair products
//	  and the fingerprint;
//	adaptive family: each numeric column through its adaptive transform
//	  (preprocess_adaptive.go), categorical codes, pair products, fingerprint.
//
// Categorical codes: member 0 keeps the natural codes (so one member always
// sees the order of ordinal categories such as a 3-valued numeric column);
// every other member numbers the categories by their mean training target
// (preprocess_target_codes.go), or, with WithTargetOrderedCodes(false) as in
// the reference, maps them through its own random permutation. Unknown
// categories stay -1 and missing ones NaN. The fingerprint column is left
// out when the table has no informative column.
//
// A feature-subset candidate (ensemble_subset.go) is fitted with cols, the
// base columns it reads: everything above is then drawn over those columns
// alone, exactly as for a base of those columns (the fingerprint still
// hashes the whole row).
type memberFamily uint8

const (
	familyQuantile memberFamily = iota
	familyAdaptive
	// familyPlain (WithPreprocessing(PreprocessPlain)): the base columns
	// alone, in the member's random order, categorical codes permuted as
	// above; no added features and no fingerprint.
	familyPlain
)

// RNG streams of a member's draws: stream = memberStreamBase*(index+1) + purpose.
const memberStreamBase = 1 << 8

const (
	streamCodes = iota + 1
	streamPairs
	streamAdaptSample
	streamOrder
	streamSalt
	streamContext
	streamValid
)

func memberRNG(seed uint64, index, purpose int) *tensor.RNG {
	return tensor.NewRNG(seed, uint64(memberStreamBase*(index+1)+purpose))
}

// memberFamilyOf returns member i's family in an ensemble of n.
func memberFamilyOf(i, n int) memberFamily {
	if i < (n+1)/2 {
		return familyQuantile
	}
	return familyAdaptive
}

type member struct {
	index   int
	family  memberFamily
	info    baseInfo
	catPerm map[int][]int // base column -> natural code -> member code
	numIdx  []int         // numeric base columns
	quant   []*quantileTransform
	svd     *truncSVD
	adapt   []*adaptiveTransform
	pairs   *pairFeatures
	salt    uint64
	trainFP []float64
	width   int
	order   []int // output column k is pre-permutation column order[k]
	// cols are the base columns the member reads, ascending (nil: all);
	// numPos[q] is numIdx[q]'s position among them.
	cols   []int
	numPos []int
}

// fitMember fits member index (of family fam) on the training base's
// columns cols (nil: all). With targetCodes (targetOrderCodes: base column -> member code per natural
// code, shared read-only) every member but the first codes its categorical
// columns by their mean target; with nil by a random permutation.
func fitMember(index int, fam memberFamily, base *matrix, info baseInfo, seed uint64, targetCodes map[int][]int, cols []int) *member {
	m := &member{index: index, family: fam, info: info, catPerm: map[int][]int{}, cols: cols}
	if info.empty {
		m.width, m.order = 1, []int{0}
		return m
	}
	if cols == nil {
		cols = rowRange(0, base.cols)
	}
	codes := memberRNG(seed, index, streamCodes)
	for p, j := range cols {
		if !info.isCat[j] {
			m.numIdx = append(m.numIdx, j)
			m.numPos = append(m.numPos, p)
			continue
		}
		if index == 0 {
			p := make([]int, info.ncat[j])
			for c := range p {
				p[c] = c
			}
			m.catPerm[j] = p
		} else if p, ok := targetCodes[j]; ok {
			m.catPerm[j] = p
		} else {
			m.catPerm[j] = codes.Perm(info.ncat[j])
		}
	}
	n := base.rows
	switch fam {
	case familyQuantile:
		nq := nQuantiles(n)
		for _, j := range m.numIdx {
			vals := base.nonMissingCol(j)
			m.quant = append(m.quant, fitQuantile(vals, min(nq, max(len(vals), 2)), false))
		}
		if k := min(len(m.numIdx)/2, n/10+1); k >= 1 && len(m.numIdx) >= 2 {
			q := newMatrix(n, len(m.numIdx))
			for i := range n {
				row, out := base.row(i), q.row(i)
				for k, j := range m.numIdx {
					out[k] = m.quant[k].apply(row[j])
				}
			}
			m.svd = fitTruncSVD(q, k)
		}
	case familyAdaptive:
		rng := memberRNG(seed, index, streamAdaptSample)
		for _, j := range m.numIdx {
			vals := base.nonMissingCol(j)
			if len(vals) > adaptiveFitRows {
				perm := rng.Perm(len(vals))[:adaptiveFitRows]
				sub := make([]float64, len(perm))
				for k, p := range perm {
					sub[k] = vals[p]
				}
				vals = sub
			}
			m.adapt = append(m.adapt, fitAdaptive(vals))
		}
	}
	if fam == familyPlain {
		m.width = len(cols)
		m.order = memberRNG(seed, index, streamOrder).Perm(m.width)
		return m
	}
	m.pairs = fitPairs(base, m.numIdx, memberRNG(seed, index, streamPairs))
	m.salt = memberRNG(seed, index, streamSalt).Uint64()
	m.trainFP = fingerprintTrain(base, m.salt)
	m.width = len(cols) + len(m.pairs.pairs) + 1
	if fam == familyQuantile {
		m.width += len(m.quant)
		if m.svd != nil {
			m.width += len(m.svd.comps)
		}
	}
	m.order = memberRNG(seed, index, streamOrder).Perm(m.width)
	return m
}

// transform returns the member's features for rows of base as float32,
// rows x width row-major. trainRows selects training rows (base is then the
// training base and their deduplicated training fingerprints are used);
// nil means every row of base is a query row.
func (m *member) transform(base *matrix, trainRows []int) []float32 {
	rows := base.rows
	if trainRows != nil {
		rows = len(trainRows)
	}
	out := make([]float32, rows*m.width)
	pre := make([]float64, m.width)
	for r := range rows {
		i := r
		if trainRows != nil {
			i = trainRows[r]
		}
		fp := -1.0
		if trainRows != nil && m.trainFP != nil {
			fp = m.trainFP[i]
		}
		m.transformRow(base.row(i), fp, pre)
		dst := out[r*m.width : (r+1)*m.width]
		for k, src := range m.order {
			dst[k] = float32(pre[src])
		}
	}
	return out
}

// transformRow fills pre (width values, natural column order) for one base
// row; fp < 0 means a query row whose fingerprint is computed here.
func (m *member) transformRow(row []float64, fp float64, pre []float64) {
	if m.info.empty {
		pre[0] = 0
		return
	}
	k := 0
	for j, v := range row {
		if m.cols != nil {
			if k == len(m.cols) {
				break
			}
			if j != m.cols[k] {
				continue
			}
		}
		if p, ok := m.catPerm[j]; ok && v >= 0 { // NaN and -1 pass unchanged
			v = float64(p[int(v)])
		}
		pre[k] = v
		k++
	}
	switch m.family {
	case familyPlain:
		return
	case familyQuantile:
		for q, j := range m.numIdx {
			pre[k] = m.quant[q].apply(row[j])
			k++
		}
		if m.svd != nil {
			qv := make([]float64, len(m.numIdx))
			for q, j := range m.numIdx {
				qv[q] = m.quant[q].apply(row[j])
			}
			m.svd.transform(qv, pre[k:k+len(m.svd.comps)])
			k += len(m.svd.comps)
		}
	case familyAdaptive:
		for q, j := range m.numIdx {
			pre[m.numPos[q]] = m.adapt[q].apply(row[j])
		}
	}
	m.pairs.apply(row, pre[k:k+len(m.pairs.pairs)])
	k += len(m.pairs.pairs)
	if fp < 0 {
		fp = fingerprint(row, m.salt, 0)
	}
	pre[k] = fp
}
