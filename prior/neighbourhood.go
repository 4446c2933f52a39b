package prior

import (
	"fmt"
	"math"
	"slices"
)

// NeighbourhoodConfig draws some of a batch's tables as neighbourhoods: the
// prior generates a table Pool times larger and keeps the rows nearest to
// one of its rows. This is the table nori's local contexts show the network
// at inference (a large table's query rows predicted from the 256 training
// rows nearest to them, nori/local_context.go): features concentrated near
// a point and wide in the features the distance ignored, a target whose
// local signal is weaker than the whole table's. Without such tables in
// training the network meets them only at inference.
type NeighbourhoodConfig struct {
	// Frac is the share of tables drawn as neighbourhoods, in [0, 1] (0:
	// none, the plain prior).
	Frac float64
	// Pool is how many times the batch's rows the generated table has (at
	// least 2 when Frac > 0), within the prior's cell limit.
	Pool int
}

// Validate reports a config that cannot draw tables.
func (c NeighbourhoodConfig) Validate() error {
	switch {
	case !(c.Frac >= 0 && c.Frac <= 1):
		return fmt.Errorf("prior: neighbourhood fraction %g, want in [0, 1]", c.Frac)
	case c.Frac > 0 && c.Pool < 2:
		return fmt.Errorf("prior: neighbourhood pool %d, want >= 2 (times the table's rows) when the fraction is positive", c.Pool)
	case c.Pool < 0:
		return fmt.Errorf("prior: neighbourhood pool %d, want >= 0", c.Pool)
	}
	return nil
}

// Neighbourhood returns the keep rows of t nearest to a centre row drawn from
// r, in an order drawn from r (so that the context/query split of the rows
// is random and the queries lie among the context, as at inference).
//
// Algorithm: each feature becomes its rank coordinate (mid-ranks of ties,
// scaled to [0, 1]; a missing cell at 0.5), the rank space of nori's local
// contexts. Each feature counts with weight 1 or 0 (probability 1/2 each,
// at least one 1), standing in for the learned distance that ignores the
// features the target does not need. The keep rows of least squared
// distance to the centre (ties by row index) are kept and shuffled. The
// result shares t's categorical marks; its Info records the draw.
func Neighbourhood(t *Table, keep int, r Source) *Table {
	n, f := t.Rows, t.Features
	keep = min(keep, n)
	centre := r.Intn(n)
	use := make([]bool, f)
	some := false
	for j := range use {
		use[j] = r.Float64() < 0.5
		some = some || use[j]
	}
	if !some {
		use[r.Intn(f)] = true
	}
	dist := make([]float64, n)
	coord := make([]float64, n)
	order := make([]int, n)
	for j := 0; j < f; j++ {
		if !use[j] {
			continue
		}
		rankColumn(t, j, coord, order)
		c := coord[centre]
		for i := range dist {
			d := coord[i] - c
			dist[i] += d * d
		}
	}
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if dist[a] != dist[b] {
			if dist[a] < dist[b] {
				return -1
			}
			return 1
		}
		return a - b
	})
	rows := order[:keep]
	for i := keep - 1; i > 0; i-- {
		k := r.Intn(i + 1)
		rows[i], rows[k] = rows[k], rows[i]
	}
	out := NewTable(keep, f)
	copy(out.Categorical, t.Categorical)
	for i, src := range rows {
		copy(out.X[i*f:(i+1)*f], t.X[src*f:(src+1)*f])
		out.Y[i] = t.Y[src]
	}
	out.Info = t.Info
	out.Info.Augmentations = append(slices.Clone(t.Info.Augmentations), fmt.Sprintf("neighbourhood(%d of %d rows)", keep, n))
	return out
}

// rankColumn writes feature j's rank coordinates into coord: mid-ranks of
// the present values scaled to [0, 1] (a lone present value: 0.5), missing
// cells 0.5. order is scratch of t.Rows entries.
func rankColumn(t *Table, j int, coord []float64, order []int) {
	f := t.Features
	order = order[:0]
	for i := 0; i < t.Rows; i++ {
		if v := t.X[i*f+j]; math.IsNaN(v) {
			coord[i] = 0.5
		} else {
			order = append(order, i)
		}
	}
	m := len(order)
	slices.SortFunc(order, func(a, b int) int {
		va, vb := t.X[a*f+j], t.X[b*f+j]
		switch {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return a - b
	})
	for lo := 0; lo < m; {
		hi := lo + 1
		for hi < m && t.X[order[hi]*f+j] == t.X[order[lo]*f+j] {
			hi++
		}
		rank := 0.5
		if m > 1 {
			rank = (float64(lo+hi-1) / 2) / float64(m-1)
		}
		for k := lo; k < hi; k++ {
			coord[order[k]] = rank
		}
		lo = hi
	}
}
