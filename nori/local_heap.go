package nori

// keepBest adds index i to h, a heap of at most m indices holding the best
// seen so far under better (a strict total order: better(a, b) when a
// ranks ahead of b), with the worst at h[0]. Once h is full, i replaces
// the worst when it is better, else h is unchanged. Callers on a hot path
// test len(h) < m || better(i, h[0]) first. O(log m).
func keepBest(h []int, i, m int, better func(a, b int) bool) []int {
	if len(h) < m {
		h = append(h, i)
		for c := len(h) - 1; c > 0; {
			p := (c - 1) / 2
			if !better(h[p], h[c]) {
				break
			}
			h[p], h[c] = h[c], h[p]
			c = p
		}
		return h
	}
	if !better(i, h[0]) {
		return h
	}
	h[0] = i
	for k := 0; ; {
		c := 2*k + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && better(h[c], h[c+1]) {
			c++
		}
		if !better(h[k], h[c]) {
			break
		}
		h[k], h[c] = h[c], h[k]
		k = c
	}
	return h
}
