package cuda

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// CPU tests of the host side of the strided kernels (untagged: they run
// everywhere): coalescing, slabs, the reduce plan and the magic divisors,
// checked through a Go transcription of the kernels' index split
// (NoriIndex.offsets in src/elementwise_layout.cuh) against direct strided
// indexing.

// layoutEmuOffsets is NoriIndex::offsets for one operand: packed dims
// (size | magic<<32), innermost first, 32-bit index arithmetic.
func layoutEmuOffsets(idx uint32, rank int, dims [MaxRank]int64, st [MaxRank]int64) int64 {
	off := int64(0)
	for k := 0; k < 8; k++ {
		if k < rank {
			d := uint32(dims[k])
			m := uint32(uint64(dims[k]) >> 32)
			s := uint(32 - bits.LeadingZeros32(d-1))
			var q uint32
			if k+1 < rank {
				q = (uint32((uint64(idx)*uint64(m))>>32) + idx) >> s
			}
			r := idx - q*d
			off += int64(r) * st[k]
			idx = q
		}
	}
	return off
}

func layoutOffsets(l Layout) []int64 {
	n := l.Numel()
	out := make([]int64, n)
	var idx [MaxRank]int64
	for i := int64(0); i < n; i++ {
		off := l.Offset
		for k := 0; k < l.Rank; k++ {
			off += idx[k] * l.Strides[k]
		}
		out[i] = off
		for k := l.Rank - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < l.Shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

func layoutRandom(rng *rand.Rand, shape []int, bcast bool) Layout {
	l := Contiguous(shape...)
	perm := rng.Perm(len(shape))
	s := int64(1 + rng.IntN(2))
	for _, k := range perm {
		l.Strides[k] = s
		s *= int64(shape[k])
		if bcast && rng.IntN(4) == 0 {
			l.Strides[k] = 0
		}
	}
	l.Offset = int64(rng.IntN(5))
	return l
}

func TestLayoutCoalesce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for it := 0; it < 3000; it++ {
		rank := rng.IntN(6)
		shape := make([]int, rank)
		for k := range shape {
			shape[k] = []int{1, 2, 3, 5, 7, 1, 4}[rng.IntN(7)]
		}
		dl := Contiguous(shape...)
		if rng.IntN(2) == 0 {
			dl = layoutRandom(rng, shape, false)
		}
		ls := []Layout{dl, layoutRandom(rng, shape, true), layoutRandom(rng, shape, true)}
		if rng.IntN(3) == 0 {
			ls[1] = dl
			ls[1].Offset = 2
		}
		f := coalesce(ls)
		n := f.numel()
		if n != dl.Numel() {
			t.Fatalf("numel %d vs %d", n, dl.Numel())
		}
		dims := f.packDims()
		for j, l := range ls {
			want := layoutOffsets(l)
			for i := int64(0); i < n; i++ {
				got := f.offsets[j] + layoutEmuOffsets(uint32(i), f.rank, dims, f.strides[j])
				if got != want[i] {
					t.Fatalf("it %d shape %v op %d: idx %d off %d want %d (f=%+v)", it, shape, j, i, got, want[i], f)
				}
			}
			if f.contiguous(j) {
				for i := range want {
					if want[i] != l.Offset+int64(i) {
						t.Fatalf("contiguous claimed wrongly")
					}
				}
			}
		}
	}
}

func TestLayoutSlabs(t *testing.T) {
	// Layouts of more than 2^31 elements (never allocated: only the
	// planning runs) split into slabs that cover them exactly.
	ls := []Layout{Contiguous(5, 3, 1<<30), Contiguous(5, 3, 1<<30)}
	ls[1].Strides[0], ls[1].Strides[1] = 0, 1<<30
	f := coalesce(ls)
	total := int64(0)
	cnt := 0
	err := f.slabs(func(p flatLayout) error {
		n := p.numel()
		if n > maxKernelElems {
			t.Fatalf("slab of %d", n)
		}
		total += n
		cnt++
		return nil
	})
	if err != nil || total != 15<<30 {
		t.Fatalf("total %d want %d (%d slabs)", total, int64(15<<30), cnt)
	}
	if cnt != 10 { // 5 slices of 3*2^30, each in 2 slabs
		t.Fatalf("%d slabs, want 10", cnt)
	}
	ls = []Layout{Contiguous(3, 1<<32), Contiguous(3, 1<<32)}
	ls[1].Strides[1] = 2
	ls[1].Strides[0] = 2 << 32
	f = coalesce(ls)
	total, cnt = 0, 0
	var offs []int64
	_ = f.slabs(func(p flatLayout) error {
		if p.numel() > maxKernelElems {
			t.Fatalf("slab of %d", p.numel())
		}
		total += p.numel()
		cnt++
		offs = append(offs, p.offsets[1])
		return nil
	})
	if total != 3<<32 || cnt != 7 || offs[1] != 2*maxKernelElems {
		t.Fatalf("%d elements in %d slabs (offsets %v), want %d in 7", total, cnt, offs, int64(3<<32))
	}
}

func TestLayoutReducePlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for it := 0; it < 3000; it++ {
		rank := 1 + rng.IntN(5)
		shape := make([]int, rank)
		var axes [MaxRank]bool
		for k := range shape {
			shape[k] = []int{1, 2, 3, 5, 7, 4}[rng.IntN(6)]
			axes[k] = rng.IntN(2) == 0
		}
		l := layoutRandom(rng, shape, false)
		p := planReduce(l, axes)
		// reference: for each kept tuple (row-major), the list of offsets in reduced order
		var kAx, rAx []int
		for k := 0; k < rank; k++ {
			if axes[k] {
				rAx = append(rAx, k)
			} else {
				kAx = append(kAx, k)
			}
		}
		K, R := int64(1), int64(1)
		for _, k := range kAx {
			K *= int64(shape[k])
		}
		for _, k := range rAx {
			R *= int64(shape[k])
		}
		if K != p.K || R != p.R {
			t.Fatalf("K,R %d %d vs %d %d", p.K, p.R, K, R)
		}
		kd, rd := p.kept.packDims(), p.red.packDims()
		var idx [MaxRank]int64
		next := func(ax []int) {
			for i := len(ax) - 1; i >= 0; i-- {
				if idx[ax[i]]++; idx[ax[i]] < int64(shape[ax[i]]) {
					return
				}
				idx[ax[i]] = 0
			}
		}
		for k := int64(0); k < K; k++ {
			for r := int64(0); r < R; r++ {
				off := int64(0)
				for a := 0; a < rank; a++ {
					off += idx[a] * l.Strides[a]
				}
				got := layoutEmuOffsets(uint32(k), p.kept.rank, kd, p.kept.strides[0]) + layoutEmuOffsets(uint32(r), p.red.rank, rd, p.red.strides[0])
				if got != off {
					t.Fatalf("it %d shape %v axes %v: k %d r %d off %d want %d", it, shape, axes[:rank], k, r, got, off)
				}
				next(rAx)
			}
			next(kAx)
		}
	}
}

// TestLayoutMagicDiv checks the magic multipliers with the kernels' formula
// at the edges of the numerator range (below 2^31).
func TestLayoutMagicDiv(t *testing.T) {
	for _, d := range []int64{1, 2, 3, 5, 7, 63, 64, 1000, 100003, 1<<16 + 1, 1<<30 - 1, 1 << 30, 1<<31 - 1} {
		m := uint64(magicDiv(d))
		s := uint(bits.Len64(uint64(d - 1)))
		for _, n := range []uint64{0, 1, uint64(d) - 1, uint64(d), uint64(d) + 1, 1<<31 - 2, 1<<31 - 1, 123456789} {
			if n >= 1<<31 {
				continue
			}
			if q := ((n*m)>>32 + n) >> s; q != n/uint64(d) {
				t.Fatalf("magic division %d / %d = %d, want %d", n, d, q, n/uint64(d))
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 100000; i++ {
		d := 1 + rng.Int64N(1<<31-1)
		n := rng.Uint64N(1 << 31)
		m, s := uint64(magicDiv(d)), uint(bits.Len64(uint64(d-1)))
		if q := ((n*m)>>32 + n) >> s; q != n/uint64(d) {
			t.Fatalf("magic division %d / %d = %d, want %d", n, d, q, n/uint64(d))
		}
	}
}
