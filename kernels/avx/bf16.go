package avx

import (
	"fmt"
	"math"
	"sync"

	"github.com/nori-ml/nori/kernels/par"
)

// bf16 GEMM for inference: C = A·B with B (weights, K×N) stored as bf16
// and packed once (PackBF16), A (activations, M×K, float32) rounded to
// bf16 as it is packed, and float32 accumulation.
//
// Kernels: with AVX512_BF16 (HasBF16), a 12×32 register tile of VDPBF16PS
// (each instruction adds, per float32 lane, the products of a pair of bf16
// from A and from B: odd k first, then even k, each product exact in
// float32); otherwise the same tile on FMAs over the bf16 values widened to
// float32 (12×32 on AVX-512, 4×16 on AVX2, pure Go on Generic), adding the
// odd k of each pair before the even k like VDPBF16PS. On the project's
// Zen 4, VDPBF16PS rounds each of its two additions, so both paths give the
// same bits (TestGemmBF16 requires it), except that VDPBF16PS flushes
// subnormal inputs and results to zero; the Go tile adds through float64
// and may differ in the last bit by double rounding.
//
// Error against the float32 product. Rounding a float32 to bf16 (8
// significant bits, round to nearest even) changes it by at most 2^-8
// relative, so each product of rounded inputs is within (2^-7 + 2^-16)
// relative of a_ik*b_kj; the float32 sum of K such products adds at most
// K*2^-24 relative to the sum of their magnitudes. Hence, per element,
//
//	|C_ij - (A·B)_ij| <= (2^-7 + 2^-16 + 1.01*K*2^-24) * sum_k |a_ik| |b_kj|
//
// and against the exact product of the rounded inputs Ã, B̃ the error is
// at most 1.01*K*2^-24 * sum_k |ã_ik| |b̃_kj| (TestGemmBF16 checks both). On
// random data the first error is typically ~2^-9 * sqrt(K) * rms(a)*rms(b).
//
// Blocking: B is packed into panels of 32 columns, each holding all of K as
// pairs of consecutive k (one uint32 per column and pair, low half the even
// k, as VDPBF16PS reads them; K and N are padded with zeros). GemmBF16
// splits M into blocks of bf16MC rows over the worker pool (each C element
// is computed by one task in a fixed order: deterministic for any worker
// count), packs the block's rows of A per depth slice of bf16KC pairs, and
// runs the register tile over every panel.

// PackedBF16 is a K×N matrix in bf16, packed for GemmBF16.
type PackedBF16 struct {
	K, N int
	kp   int      // pairs of k: ceil(K/2)
	data []uint32 // panels of bf16NR columns: [panel][kp][bf16NR]
}

const (
	bf16NR = 32  // panel width (two 16-lane vectors)
	bf16KC = 128 // depth slice, in pairs of k (A and B slices fit L2 / L1)
	bf16MC = 96  // row block, a multiple of every level's tile height
)

// BF16FromFloat32 rounds x to bf16 bits, to nearest even (NaN stays NaN).
func BF16FromFloat32(x float32) uint16 {
	u := math.Float32bits(x)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40 // quiet NaN
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// BF16ToFloat32 widens bf16 bits to float32 (exact).
func BF16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// PackBF16 rounds the K×N row-major float32 matrix b (row stride ldb) to
// bf16 and packs it for GemmBF16.
func PackBF16(k, n int, b []float32, ldb int) (*PackedBF16, error) {
	if err := bf16CheckMatrix("B", k, n, len(b), ldb); err != nil {
		return nil, err
	}
	return bf16Pack(k, n, func(r, c int) uint16 { return BF16FromFloat32(b[r*ldb+c]) }), nil
}

// PackBF16Bits packs a K×N row-major matrix already in bf16 bits (row
// stride ldb), such as bf16 weights loaded from a checkpoint.
func PackBF16Bits(k, n int, b []uint16, ldb int) (*PackedBF16, error) {
	if err := bf16CheckMatrix("B", k, n, len(b), ldb); err != nil {
		return nil, err
	}
	return bf16Pack(k, n, func(r, c int) uint16 { return b[r*ldb+c] }), nil
}

func bf16CheckMatrix(name string, rows, cols, length, ld int) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("avx: bf16 GEMM: %s is %dx%d", name, rows, cols)
	}
	if rows > 0 && cols > 0 && (ld < cols || length < (rows-1)*ld+cols) {
		return fmt.Errorf("avx: bf16 GEMM: %s %dx%d with stride %d needs %d elements, have %d", name, rows, cols, ld, (rows-1)*ld+cols, length)
	}
	return nil
}

func bf16Pack(k, n int, at func(r, c int) uint16) *PackedBF16 {
	kp := (k + 1) / 2
	panels := (n + bf16NR - 1) / bf16NR
	p := &PackedBF16{K: k, N: n, kp: kp, data: make([]uint32, panels*kp*bf16NR)}
	for pn := 0; pn < panels; pn++ {
		for q := 0; q < kp; q++ {
			row := p.data[(pn*kp+q)*bf16NR:][:bf16NR]
			for j := range row {
				c := pn*bf16NR + j
				if c >= n {
					break
				}
				var lo, hi uint16
				lo = at(2*q, c)
				if 2*q+1 < k {
					hi = at(2*q+1, c)
				}
				row[j] = uint32(lo) | uint32(hi)<<16
			}
		}
	}
	return p
}

// bf16Level is the kernel set GemmBF16 uses at one level.
type bf16Level struct {
	mr  int  // tile rows
	dot bool // A packed as bf16 pairs for VDPBF16PS (else float32 pairs)
	// tile computes the mr×32 tile C[0:mr, 0:32] (row stride ldc) from kp
	// pairs; add adds the result to C instead of storing it.
	tile func(kp int, a []uint32, af []float32, b []uint32, c []float32, ldc int, add bool)
}

// bf16Disable makes GemmBF16 ignore AVX512_BF16 (tests of the FMA path).
var bf16Disable bool

func bf16LevelNow() *bf16Level {
	switch {
	case Current() == AVX512 && HasBF16() && !bf16Disable:
		return &bf16Dot512
	case Current() == AVX512:
		return &bf16Fma512
	case Current() == AVX2:
		return &bf16Fma256
	}
	return &bf16Generic
}

var bf16Generic = bf16Level{mr: 4, tile: bf16TileGo}

// bf16TileGo is the portable tile: mr = 4 rows, 32 columns, A as float32
// pairs ([kp][4][2]: even k, odd k); for each pair the odd product is added
// before the even one, as VDPBF16PS does.
func bf16TileGo(kp int, _ []uint32, af []float32, b []uint32, c []float32, ldc int, add bool) {
	var acc [4][bf16NR]float32
	for q := 0; q < kp; q++ {
		brow := b[q*bf16NR : q*bf16NR+bf16NR]
		ar := af[q*8 : q*8+8]
		for i := 0; i < 4; i++ {
			ae, ao := float64(ar[2*i]), float64(ar[2*i+1])
			for j, w := range brow {
				be, bo := float64(math.Float32frombits(w<<16)), float64(math.Float32frombits(w&0xffff0000))
				s := float32(float64(acc[i][j]) + ao*bo)
				acc[i][j] = float32(float64(s) + ae*be)
			}
		}
	}
	for i := 0; i < 4; i++ {
		row := c[i*ldc : i*ldc+bf16NR]
		for j := range row {
			if add {
				row[j] += acc[i][j]
			} else {
				row[j] = acc[i][j]
			}
		}
	}
}

var bf16Bufs = sync.Pool{New: func() any { return new(bf16Buf) }}

type bf16Buf struct {
	a  []uint32
	af []float32
	c  []float32
}

// GemmBF16 computes C = A·B for the M×K row-major float32 matrix a (row
// stride lda, rounded to bf16 on the fly) and the packed K×N matrix b,
// overwriting the M×N row-major c (row stride ldc). See the comment at the
// top of bf16.go for the kernels, the error bound and determinism.
func GemmBF16(m int, a []float32, lda int, b *PackedBF16, c []float32, ldc int) error {
	k, n := b.K, b.N
	if err := bf16CheckMatrix("A", m, k, len(a), lda); err != nil {
		return err
	}
	if err := bf16CheckMatrix("C", m, n, len(c), ldc); err != nil {
		return err
	}
	if m == 0 || n == 0 {
		return nil
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return nil
	}
	lv := bf16LevelNow()
	blocks := (m + bf16MC - 1) / bf16MC
	par.Parallel(blocks, 1, func(b0, b1 int) {
		buf := bf16Bufs.Get().(*bf16Buf)
		defer bf16Bufs.Put(buf)
		for blk := b0; blk < b1; blk++ {
			i0 := blk * bf16MC
			bf16Block(lv, buf, min(bf16MC, m-i0), a[i0*lda:], lda, b, c[i0*ldc:], ldc)
		}
	})
	return nil
}

// bf16Block computes rows [0, mb) of C (a and c start at the block's first
// row) over every depth slice and panel.
func bf16Block(lv *bf16Level, buf *bf16Buf, mb int, a []float32, lda int, b *PackedBF16, c []float32, ldc int) {
	mr := lv.mr
	tiles := (mb + mr - 1) / mr
	if len(buf.c) < mr*bf16NR {
		buf.c = make([]float32, mr*bf16NR)
	}
	panels := (b.N + bf16NR - 1) / bf16NR
	for q0 := 0; q0 < b.kp; q0 += bf16KC {
		kc := min(bf16KC, b.kp-q0)
		bf16PackA(lv, buf, tiles, mb, a, lda, b.K, q0, kc)
		for pn := 0; pn < panels; pn++ {
			bp := b.data[(pn*b.kp+q0)*bf16NR:]
			j0 := pn * bf16NR
			nc := min(bf16NR, b.N-j0)
			for t := 0; t < tiles; t++ {
				i0 := t * mr
				rows := min(mr, mb-i0)
				var at []uint32
				var af []float32
				if lv.dot {
					at = buf.a[t*kc*mr:]
				} else {
					af = buf.af[t*kc*mr*2:]
				}
				if rows == mr && nc == bf16NR {
					lv.tile(kc, at, af, bp, c[i0*ldc+j0:], ldc, q0 > 0)
					continue
				}
				// Edge tile: through the scratch tile.
				tc := buf.c[:mr*bf16NR]
				lv.tile(kc, at, af, bp, tc, bf16NR, false)
				for i := 0; i < rows; i++ {
					dst := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+nc]
					src := tc[i*bf16NR : i*bf16NR+nc]
					if q0 > 0 {
						for j := range dst {
							dst[j] += src[j]
						}
					} else {
						copy(dst, src)
					}
				}
			}
		}
	}
}

// bf16PackA packs rows [0, mb) of a, depth pairs [q0, q0+kc), into tiles of
// mr rows: [tile][pair][row] as bf16 pairs (dot levels) or as float32
// (even, odd) pairs of the rounded values. Rows past mb and k past K are 0.
func bf16PackA(lv *bf16Level, buf *bf16Buf, tiles, mb int, a []float32, lda, k, q0, kc int) {
	mr := lv.mr
	size := tiles * kc * mr
	if lv.dot && len(buf.a) < size {
		buf.a = make([]uint32, size)
	}
	if !lv.dot && len(buf.af) < 2*size {
		buf.af = make([]float32, 2*size)
	}
	for t := 0; t < tiles; t++ {
		for i := 0; i < mr; i++ {
			r := t*mr + i
			var row []float32
			if r < mb {
				row = a[r*lda : r*lda+k]
			}
			for q := 0; q < kc; q++ {
				kk := 2 * (q0 + q)
				var lo, hi uint16
				if row != nil {
					lo = BF16FromFloat32(row[kk])
					if kk+1 < k {
						hi = BF16FromFloat32(row[kk+1])
					}
				}
				idx := (t*kc+q)*mr + i
				if lv.dot {
					buf.a[idx] = uint32(lo) | uint32(hi)<<16
				} else {
					buf.af[2*idx], buf.af[2*idx+1] = BF16ToFloat32(lo), BF16ToFloat32(hi)
				}
			}
		}
	}
}
