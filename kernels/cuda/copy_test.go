//go:build cuda

package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// Tests of Fill and CopyStrided: every (src, dst) dtype pair, dense,
// permuted, strided and broadcast sources, strided destinations whose gaps
// must keep their poison; results compared bit for bit with tensor.Copy's
// conversions (through float64; bf16 from float32 with round to nearest
// even; NaN stays NaN).

// cpStore is a host storage of one dtype, as little-endian bytes.
type cpStore struct {
	dt  DType
	buf []byte
}

func cpNew(dt DType, n int) cpStore { return cpStore{dt, make([]byte, n*dt.Size())} }

func (s cpStore) get(i int64) float64 {
	switch s.dt {
	case DTF32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(s.buf[4*i:])))
	case DTF64:
		return math.Float64frombits(binary.LittleEndian.Uint64(s.buf[8*i:]))
	}
	return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(s.buf[2*i:])) << 16))
}

// set stores v as tensor's setCPU does.
func (s cpStore) set(i int64, v float64) {
	switch s.dt {
	case DTF32:
		binary.LittleEndian.PutUint32(s.buf[4*i:], math.Float32bits(float32(v)))
	case DTF64:
		binary.LittleEndian.PutUint64(s.buf[8*i:], math.Float64bits(v))
	default:
		binary.LittleEndian.PutUint16(s.buf[2*i:], bf16RNE(float32(v)))
	}
}

// bits returns element i's raw bits and whether it is a NaN.
func (s cpStore) bits(i int64) (uint64, bool) {
	v := s.get(i)
	switch s.dt {
	case DTF32:
		return uint64(binary.LittleEndian.Uint32(s.buf[4*i:])), v != v
	case DTF64:
		return binary.LittleEndian.Uint64(s.buf[8*i:]), v != v
	}
	return uint64(binary.LittleEndian.Uint16(s.buf[2*i:])), v != v
}

func (s cpStore) n() int { return len(s.buf) / s.dt.Size() }

func cpUpload(t testing.TB, r *Runtime, s cpStore) Ptr {
	t.Helper()
	p, err := r.Alloc(int64(max(len(s.buf), 8)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Upload(p, unsafe.Pointer(&s.buf[0]), int64(len(s.buf))); err != nil {
		t.Fatal(err)
	}
	return p
}

func cpDownload(t testing.TB, r *Runtime, p Ptr, s cpStore) {
	t.Helper()
	if err := r.Download(unsafe.Pointer(&s.buf[0]), p, int64(len(s.buf))); err != nil {
		t.Fatal(err)
	}
}

// cpOffsets lists the storage offsets of layout l in row-major order.
func cpOffsets(l Layout) []int64 {
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

func TestCopyStrided(t *testing.T) {
	r := testRuntime(t)
	rng := rand.New(rand.NewPCG(11, 12))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e39, -3e-39, 1.0000001, 65504.3}
	cases := []struct {
		shape, srcShape []int
		sKind, dKind    string
	}{
		{[]int{1}, []int{1}, "contig", "contig"},
		{[]int{7}, []int{7}, "contig", "contig"},
		{[]int{1000}, []int{1000}, "contig", "contig"},
		{[]int{1000}, []int{1000}, "offset", "offset"},
		{[]int{63, 5}, []int{63, 5}, "perm", "contig"},
		{[]int{3, 1, 5, 7, 2}, []int{3, 1, 5, 7, 2}, "strided", "strided"},
		{[]int{7, 63, 5}, []int{7, 1, 5}, "contig", "contig"},
		{[]int{7, 63, 5}, []int{1, 63, 1}, "perm", "strided"},
		// Permuted into strided with inner axes of 5600 elements: in the
		// host emulator's stress mode (slabs of 5000) the launcher splits it
		// slice by slice, then each slice into slabs (layout.go's slabs).
		{[]int{2, 80, 70}, []int{2, 80, 70}, "perm", "strided"},
	}
	for _, sdt := range []DType{DTF32, DTF64, DTBF16} {
		for _, ddt := range []DType{DTF32, DTF64, DTBF16} {
			for ci, c := range cases {
				// Layouts from ewMake (element units); storages of the dtypes.
				sv := ewMake(c.srcShape, c.sKind, func() float32 { return 0 })
				dv := ewMake(c.shape, c.dKind, func() float32 { return 0 })
				sl, dl := ewBroadcast(sv.l, c.shape), dv.l
				src, dst := cpNew(sdt, len(sv.data)), cpNew(ddt, len(dv.data))
				for i := 0; i < src.n(); i++ {
					v := rng.NormFloat64() * 100
					if ci > 0 && i < len(specials) {
						v = specials[i]
					}
					src.set(int64(i), v)
				}
				for i := 0; i < dst.n(); i++ {
					dst.set(int64(i), math.NaN())
				}
				want := cpNew(ddt, dst.n())
				copy(want.buf, dst.buf)
				so, do := cpOffsets(sl), cpOffsets(dl)
				for i := range so {
					want.set(do[i], src.get(so[i]))
				}
				ps, pd := cpUpload(t, r, src), cpUpload(t, r, dst)
				if err := r.CopyStrided(pd, dl, ddt, ps, sl, sdt); err != nil {
					t.Fatal(err)
				}
				cpDownload(t, r, pd, dst)
				for i := 0; i < dst.n(); i++ {
					g, gn := dst.bits(int64(i))
					w, wn := want.bits(int64(i))
					if g != w && !(gn && wn) {
						t.Fatalf("CopyStrided %v -> %v %v (%s -> %s): storage element %d = %#x, want %#x (source %v)",
							sdt, ddt, c.shape, c.sKind, c.dKind, i, g, w, fmt.Sprint(want.get(int64(i))))
					}
				}
				freeAll(t, r, ps, pd)
			}
		}
	}
}

func TestCopyFill(t *testing.T) {
	r := testRuntime(t)
	for _, n := range []int{1, 7, 1000, 100003} {
		for _, v := range []float64{-1.25, 0.1, math.Inf(1)} {
			p := poisoned(t, r, n+1)
			if err := r.Fill(p, n, v); err != nil {
				t.Fatal(err)
			}
			got := download(t, r, p, n+1)
			for i := 0; i < n; i++ {
				if math.Float32bits(got[i]) != math.Float32bits(float32(v)) {
					t.Fatalf("Fill(%d, %v): element %d = %v", n, v, i, got[i])
				}
			}
			if got[n] == got[n] {
				t.Fatalf("Fill(%d) wrote past the end", n)
			}
			freeAll(t, r, p)
		}
	}
}
