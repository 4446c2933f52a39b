package avx

import "unsafe"

// Packing copies a block of op(A) or op(B) into the layout the micro-kernels
// read: consecutive micro-panels, each holding for every k step the mr (or
// nr) values of its rows (columns) side by side. Rows or columns past the
// matrix edge are zero, so partial tiles run the same kernel. Transposes and
// leading dimensions are absorbed here.
//
// The transposing copies (row-major A into mr-wide steps, transposed B into
// nr-wide steps) gather one float from each of mr (nr) rows per step; done
// one float at a time they cost about a sixth of a one-thread 1024³ Sgemm,
// and every worker of the column split pays for all of A. At the AVX-512
// level whole micro-panels go through in-register 16x16 transposes
// (pack_avx512_amd64.s) instead, 16 k steps at a time; the remaining steps
// and partial panels use packStrided. Both write the same values.

// packT14 and packT16x32 are the assembly transposing copies (see
// pack_amd64.go), nil where the build or CPU has none.
var packT14, packT16x32 func(dst *float32, src *float32, srcStride int, blocks int)

// packA packs rows [i0, i0+mb) and inner indices [p0, p0+kb) of op(A) (A is
// row-major with leading dimension lda, op(A) = A or Aᵀ) into dst as
// ceil(mb/mr) panels of kb*mr floats.
func packA(dst []float32, a []float32, lda int, trans bool, i0, mb, p0, kb, mr int) {
	for ip := 0; ip < mb; ip += mr {
		rows := min(mr, mb-ip)
		d := dst[ip*kb : ip*kb+kb*mr]
		if trans {
			// Row i of op(A) is column i of A: the mr values of one k step
			// are contiguous in A.
			for l := 0; l < kb; l++ {
				src := a[(p0+l)*lda+i0+ip:]
				dl := d[l*mr : l*mr+mr]
				copy(dl, src[:rows])
				clear(dl[rows:])
			}
			continue
		}
		if rows == mr && mr == mrAVX512 && packT14 != nil && kb >= 16 {
			src := a[(i0+ip)*lda+p0:]
			packRowsT(d, src, lda, mr, kb, func(dst, src *float32, blocks int) {
				packT14(dst, src, 4*lda, blocks)
			})
			continue
		}
		for r := 0; r < rows; r++ {
			src := a[(i0+ip+r)*lda+p0 : (i0+ip+r)*lda+p0+kb]
			packStrided(d[r:], src, mr)
		}
		for r := rows; r < mr; r++ {
			for l := 0; l < kb; l++ {
				d[l*mr+r] = 0
			}
		}
	}
}

// packB packs inner indices [p0, p0+kb) and columns [j0, j0+nb) of op(B) (B
// row-major with leading dimension ldb, op(B) = B or Bᵀ) into dst as
// ceil(nb/nr) panels of kb*nr floats; only panels [q0, q1) are written.
func packB(dst []float32, b []float32, ldb int, trans bool, j0, nb, p0, kb, nr, q0, q1 int) {
	for q := q0; q < q1; q++ {
		jp := q * nr
		cols := min(nr, nb-jp)
		d := dst[jp*kb : jp*kb+kb*nr]
		if !trans {
			for l := 0; l < kb; l++ {
				src := b[(p0+l)*ldb+j0+jp:]
				dl := d[l*nr : l*nr+nr]
				copy(dl, src[:cols])
				clear(dl[cols:])
			}
			continue
		}
		// Column j of op(B) is row j of B: gather it across the k steps.
		if cols == nr && nr == 2*16 && packT16x32 != nil && kb >= 16 {
			src := b[(j0+jp)*ldb+p0:]
			packRowsT(d, src, ldb, nr, kb, func(dst, src *float32, blocks int) {
				// Rows 0-15, then rows 16-31 (16 floats further in dst).
				packT16x32(dst, src, 4*ldb, blocks)
				packT16x32((*float32)(unsafe.Add(unsafe.Pointer(dst), 64)), (*float32)(unsafe.Add(unsafe.Pointer(src), 16*4*ldb)), 4*ldb, blocks)
			})
			continue
		}
		for c := 0; c < cols; c++ {
			src := b[(j0+jp+c)*ldb+p0 : (j0+jp+c)*ldb+p0+kb]
			packStrided(d[c:], src, nr)
		}
		for c := cols; c < nr; c++ {
			for l := 0; l < kb; l++ {
				d[l*nr+c] = 0
			}
		}
	}
}

// packRowsT writes src[r*ld+l] to d[l*w+r] for r < w and l < kb: whole
// blocks of 16 steps through asm (which must write exactly those), the
// remaining steps through packStrided. It checks the bounds the assembly
// relies on.
func packRowsT(d, src []float32, ld, w, kb int, asm func(dst, src *float32, blocks int)) {
	blocks := kb / 16
	_ = d[w*16*blocks-1]
	_ = src[(w-1)*ld+16*blocks-1]
	asm(&d[0], &src[0], blocks)
	if tail := 16 * blocks; tail < kb {
		for r := 0; r < w; r++ {
			packStrided(d[tail*w+r:], src[r*ld+tail:r*ld+kb], w)
		}
	}
}

// packStrided writes src[l] to dst[l*stride] (the transposing copy).
func packStrided(dst, src []float32, stride int) {
	if len(src) == 0 {
		return
	}
	_ = dst[(len(src)-1)*stride]
	l := 0
	for ; l+4 <= len(src); l += 4 {
		s := src[l : l+4 : l+4]
		dst[l*stride] = s[0]
		dst[(l+1)*stride] = s[1]
		dst[(l+2)*stride] = s[2]
		dst[(l+3)*stride] = s[3]
	}
	for ; l < len(src); l++ {
		dst[l*stride] = src[l]
	}
}
