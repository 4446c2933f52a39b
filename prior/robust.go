package prior

import "math"

// Robust scaling shared by the causal generators. Every SCM node and every
// generated column goes through robustStandardizeClip so that heavy-tailed or
// exploding mechanisms (polynomials, signed exponentials, products) cannot
// push a later node to Inf: the median and MAD ignore the outliers, and the
// clip bounds what they would feed forward.

// madToSigma turns a median absolute deviation into a standard deviation for
// Gaussian data.
const madToSigma = 1.4826

// nodeClip bounds every standardised node value.
const nodeClip = 100

// selectKth partially sorts a so that a[k] is the k-th smallest value, every
// element before it is <= a[k] and every element after it is >= a[k]
// (iterative quickselect, median-of-three pivot, Hoare partition: ties split
// evenly, so columns with few distinct values stay O(n)). a must hold no NaN.
func selectKth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		// Order a[lo], a[mid], a[hi] and use the middle one as the pivot.
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// Now a[lo..j] <= p <= a[i..hi] and a[j+1..i-1] == p.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// medianInPlace returns the median of a (the mean of the two middle values for
// even lengths), reordering a.
func medianInPlace(a []float64) float64 {
	n := len(a)
	if n == 0 {
		return 0
	}
	k := n / 2
	m := selectKth(a, k)
	if n%2 == 1 {
		return m
	}
	// After selection a[:k] holds the k smallest values; the largest of them
	// is the other middle value.
	lower := a[0]
	for _, v := range a[1:k] {
		if v > lower {
			lower = v
		}
	}
	return 0.5 * (lower + m)
}

// medianOf returns the median of x without modifying it, using buf (len >=
// len(x)) as working space. For long inputs it brackets the median between
// two order statistics of a fixed-stride sample of 31 values, gathers the
// values inside the bracket with a branch-free pass and selects among those
// only (the idea of Floyd and Rivest's SELECT): on fresh data a quickselect
// over all values costs a mispredicted branch per comparison, which made the
// median the largest cost of an SCM node. If the bracket misses (rare, e.g.
// heavy ties at its ends, which the inclusive bounds mostly absorb) it falls
// back to a full quickselect. The result is exact either way.
func medianOf(x, buf []float64) float64 {
	n := len(x)
	if n < 256 {
		b := buf[:n]
		copy(b, x)
		return medianInPlace(b)
	}
	var smp [31]float64
	step := n / len(smp)
	for i := range smp {
		smp[i] = x[i*step+step/2]
	}
	sortFloats(smp[:])
	// The median's rank within the sample is about 15 +- 2.8; +-6 covers it
	// with probability > 0.97.
	lo, hi := smp[9], smp[21]
	below, m := 0, 0
	for _, v := range x {
		// Single comparisons compile to SETcc; a && would branch.
		ge, le := 0, 0
		if v >= lo {
			ge = 1
		}
		if v <= hi {
			le = 1
		}
		buf[m] = v
		m += ge & le
		below += 1 - ge
	}
	k := n / 2
	if k-1 < below || k >= below+m {
		b := buf[:n]
		copy(b, x)
		return medianInPlace(b)
	}
	b := buf[:m]
	v := selectKth(b, k-below)
	if n%2 == 1 {
		return v
	}
	// The lower middle value is the largest bracketed value left of v.
	lower := math.Inf(-1)
	for _, u := range b[:k-below] {
		lower = math.Max(lower, u)
	}
	return 0.5 * (lower + v)
}

// robustCenterScale returns the median of x and 1.4826*MAD, using scratch
// (grown when shorter than 2*len(x)) as working space. When the MAD is zero
// (over half the values equal the median, e.g. a tree node with a dominant
// leaf) the scale falls back to 1.2533 times the mean absolute deviation (the
// Gaussian standard deviation again), and to 1 for a constant column.
func robustCenterScale(x, scratch []float64) (center, scale float64) {
	n := len(x)
	if n == 0 {
		return 0, 1
	}
	if len(scratch) < 2*n {
		scratch = make([]float64, 2*n)
	}
	dev, buf := scratch[:n], scratch[n:2*n]
	center = medianOf(x, buf)
	sumAbs := 0.0
	for i, v := range x {
		d := math.Abs(v - center)
		dev[i] = d
		sumAbs += d
	}
	scale = madToSigma * medianOf(dev, buf)
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1.2533 * sumAbs / float64(n)
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1
	}
	return center, scale
}

// robustStandardizeClip maps x to (x - median) / (1.4826*MAD) in place and
// clips to +-nodeClip. Non-finite inputs (which the generators avoid, but a
// guard costs nothing here) are replaced by the clip bound of their sign, 0
// for NaN, before the statistics are taken.
func robustStandardizeClip(x, scratch []float64) {
	for i, v := range x {
		if math.IsNaN(v) {
			x[i] = 0
		} else if math.IsInf(v, 0) {
			x[i] = math.Copysign(math.MaxFloat64/4, v)
		}
	}
	c, s := robustCenterScale(x, scratch)
	inv := 1 / s
	for i, v := range x {
		z := (v - c) * inv
		if z > nodeClip {
			z = nodeClip
		} else if z < -nodeClip {
			z = -nodeClip
		} else if z != z {
			z = 0
		}
		x[i] = z
	}
}

// clipInPlace clamps every value of x to [-c, c].
func clipInPlace(x []float64, c float64) {
	for i, v := range x {
		x[i] = math.Max(-c, math.Min(c, v))
	}
}

// zscoreInPlace maps x to zero mean and unit standard deviation (left
// centred only when x is constant). Used on generator targets, whose scale
// carries no information.
func zscoreInPlace(x []float64) {
	n := float64(len(x))
	if n == 0 {
		return
	}
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= n
	ss := 0.0
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	sd := math.Sqrt(ss / n)
	inv := 1.0
	if sd > 0 && !math.IsInf(sd, 0) {
		inv = 1 / sd
	}
	for i, v := range x {
		x[i] = (v - m) * inv
	}
}
